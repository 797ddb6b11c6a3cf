/* Binding LLVM's memory syscalls to the os layer: see llvm_imports.h. */
#include "llvm_imports.h"

#include <elf.h>
#include <errno.h>
#include <limits.h>
#include <link.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "os.h"

#if defined(__x86_64__)
#define R_JUMP_SLOT R_X86_64_JUMP_SLOT
#define R_GLOB_DAT R_X86_64_GLOB_DAT
#elif defined(__aarch64__)
#define R_JUMP_SLOT R_AARCH64_JUMP_SLOT
#define R_GLOB_DAT R_AARCH64_GLOB_DAT
#else
#error "jm_llvm_bind_imports: no relocation types for this architecture"
#endif

enum { I_MMAP, I_MPROTECT, I_OTHER };

static const struct {
	const char *name;
	int kind;
} imports[] = {
	{"mmap", I_MMAP}, {"mmap64", I_MMAP}, {"munmap", I_OTHER},
	{"mprotect", I_MPROTECT}, {"madvise", I_OTHER}, {"memfd_create", I_OTHER},
	{"ftruncate", I_OTHER}, {"ftruncate64", I_OTHER},
};

static uintptr_t target(const char *name)
{
	/* same signatures as libc's: the slot's callers need no change */
	if (!strcmp(name, "mmap") || !strcmp(name, "mmap64"))
		return (uintptr_t)jm_os_mmap;
	if (!strcmp(name, "munmap"))
		return (uintptr_t)jm_os_munmap;
	if (!strcmp(name, "mprotect"))
		return (uintptr_t)jm_os_mprotect;
	if (!strcmp(name, "madvise"))
		return (uintptr_t)jm_os_madvise;
	if (!strcmp(name, "memfd_create"))
		return (uintptr_t)jm_os_memfd_create;
	return (uintptr_t)jm_os_ftruncate;
}

struct bind {
	char plugin[PATH_MAX];
	int slots, found[I_OTHER];
	int failed;
	char err[256];
};

/* A dynamic-section pointer: glibc relocates most of them in place, a
 * file's value is below the load base. */
static uintptr_t dyn_ptr(const ElfW(Dyn) *d, uintptr_t base)
{
	return d->d_un.d_ptr < base ? base + d->d_un.d_ptr : d->d_un.d_ptr;
}

static int is_llvm(const char *name, const char *plugin)
{
	const char *slash = strrchr(name, '/');
	if (!strncmp(slash ? slash + 1 : name, "libLLVM", 7))
		return 1;
	char real[PATH_MAX];
	return realpath(name, real) && !strcmp(real, plugin);
}

static void write_slot(struct bind *b, uintptr_t slot, uintptr_t value,
		       uintptr_t relro_lo, uintptr_t relro_hi)
{
	if (slot < relro_lo || slot >= relro_hi) {
		*(uintptr_t *)slot = value; /* .got.plt of a lazily bound object */
		return;
	}
	/* RELRO (BIND_NOW): writable just for the write */
	void *page = (void *)(slot & ~(uintptr_t)(jm_page_size() - 1));
	if (jm_os_mprotect(page, jm_page_size(), PROT_READ | PROT_WRITE) < 0) {
		snprintf(b->err, sizeof(b->err), "making a GOT page writable: %s",
			 strerror(errno));
		b->failed = 1;
		return;
	}
	*(uintptr_t *)slot = value;
	jm_os_mprotect(page, jm_page_size(), PROT_READ);
}

static void bind_relocs(struct bind *b, uintptr_t base, const ElfW(Rela) *r, size_t bytes,
			const ElfW(Sym) *symtab, const char *strtab,
			uintptr_t relro_lo, uintptr_t relro_hi)
{
	for (size_t i = 0; r && i < bytes / sizeof(*r) && !b->failed; i++) {
		unsigned type = (unsigned)ELF64_R_TYPE(r[i].r_info);
		if (type != R_JUMP_SLOT && type != R_GLOB_DAT)
			continue;
		const ElfW(Sym) *s = &symtab[ELF64_R_SYM(r[i].r_info)];
		if (s->st_shndx != SHN_UNDEF)
			continue;
		const char *name = strtab + s->st_name;
		for (size_t k = 0; k < sizeof(imports) / sizeof(imports[0]); k++)
			if (!strcmp(name, imports[k].name)) {
				write_slot(b, base + r[i].r_offset, target(name), relro_lo,
					   relro_hi);
				b->slots++;
				if (imports[k].kind != I_OTHER)
					b->found[imports[k].kind] = 1;
			}
	}
}

static int bind_object(struct dl_phdr_info *info, size_t size, void *data)
{
	(void)size;
	struct bind *b = data;
	if (!info->dlpi_name || !*info->dlpi_name || !is_llvm(info->dlpi_name, b->plugin))
		return 0;
	uintptr_t base = info->dlpi_addr, relro_lo = 0, relro_hi = 0;
	const ElfW(Dyn) *dyn = NULL;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type == PT_DYNAMIC)
			dyn = (const ElfW(Dyn) *)(base + ph->p_vaddr);
		else if (ph->p_type == PT_GNU_RELRO) {
			relro_lo = base + ph->p_vaddr;
			relro_hi = relro_lo + ph->p_memsz;
		}
	}
	if (!dyn)
		return 0;
	const ElfW(Sym) *symtab = NULL;
	const char *strtab = NULL;
	const ElfW(Rela) *jmprel = NULL, *rela = NULL;
	size_t jmprel_bytes = 0, rela_bytes = 0;
	for (const ElfW(Dyn) *d = dyn; d->d_tag != DT_NULL; d++)
		switch (d->d_tag) {
		case DT_SYMTAB: symtab = (const ElfW(Sym) *)dyn_ptr(d, base); break;
		case DT_STRTAB: strtab = (const char *)dyn_ptr(d, base); break;
		case DT_JMPREL: jmprel = (const ElfW(Rela) *)dyn_ptr(d, base); break;
		case DT_PLTRELSZ: jmprel_bytes = d->d_un.d_val; break;
		case DT_RELA: rela = (const ElfW(Rela) *)dyn_ptr(d, base); break;
		case DT_RELASZ: rela_bytes = d->d_un.d_val; break;
		default: break;
		}
	if (!symtab || !strtab)
		return 0;
	bind_relocs(b, base, jmprel, jmprel_bytes, symtab, strtab, relro_lo, relro_hi);
	bind_relocs(b, base, rela, rela_bytes, symtab, strtab, relro_lo, relro_hi);
	return b->failed;
}

int jm_llvm_bind_imports(const char *plugin_path, char *err, size_t errlen)
{
	struct bind b = {0};
	if (!realpath(plugin_path, b.plugin)) {
		snprintf(err, errlen, "%s: %s", plugin_path, strerror(errno));
		return -1;
	}
	dl_iterate_phdr(bind_object, &b);
	if (b.failed) {
		snprintf(err, errlen, "binding LLVM's memory syscalls: %s", b.err);
		return -1;
	}
	if (!b.found[I_MMAP] || !b.found[I_MPROTECT]) {
		snprintf(err, errlen, "no import of mmap or mprotect in %s or a libLLVM "
			 "it loaded: LLVM's memory syscalls could not be counted",
			 plugin_path);
		return -1;
	}
	return b.slots;
}
