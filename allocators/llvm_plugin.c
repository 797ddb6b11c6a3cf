#include "llvm_plugin.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "llvm_imports.h"

#ifndef JITMM_LIBDIR
#define JITMM_LIBDIR "/usr/local/lib/jitmm"
#endif

static int is_file(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

const char *jm_llvm_plugin_default_path(char *buf, size_t len)
{
	const char *env = getenv("JITMM_LLVM_PLUGIN");
	if (env && *env) {
		snprintf(buf, len, "%s", env);
		return buf;
	}
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = 0;
		char *slash = strrchr(exe, '/');
		if (slash) {
			*slash = 0;
			snprintf(buf, len, "%s/build/llvm/jitmm-llvm.so", exe);
			if (is_file(buf))
				return buf;
		}
	}
	snprintf(buf, len, "%s/jitmm-llvm.so", JITMM_LIBDIR);
	return buf;
}

static int stat_plugin(const char *path, char *err, size_t errlen)
{
	struct stat st;
	if (stat(path, &st) < 0) {
		snprintf(err, errlen, "LLVM plugin %s: %s (build it with `make` on a "
			 "machine with llvm-22-dev, or `make llvm-plugin LLVM_CONFIG=...`)",
			 path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "LLVM plugin %s: not a regular file", path);
		return -1;
	}
	return 0;
}

const struct jm_llvm_plugin *jm_llvm_plugin_load(const char *path, char *err,
						 size_t errlen)
{
	static char loaded_path[PATH_MAX];
	static const struct jm_llvm_plugin *loaded;
	char def[PATH_MAX];
	if (!path || !*path)
		path = jm_llvm_plugin_default_path(def, sizeof(def));
	if (loaded) {
		if (!strcmp(path, loaded_path))
			return loaded;
		snprintf(err, errlen, "plugin %s: this process already loaded %s "
			 "(one plugin per run)", path, loaded_path);
		return NULL;
	}
	char version[64]; /* the file first: no code of a non-plugin runs */
	if (jm_llvm_plugin_check(path, version, sizeof(version), err, errlen) < 0)
		return NULL;
	void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		const char *e = dlerror();
		snprintf(err, errlen, "LLVM plugin %s: not loadable: %s", path,
			 e ? e : "?");
		return NULL;
	}
	jm_llvm_entry_fn entry = (jm_llvm_entry_fn)(uintptr_t)dlsym(h, JM_LLVM_ENTRY);
	if (!entry) {
		snprintf(err, errlen, "LLVM plugin %s: not a jitmm plugin (no %s)",
			 path, JM_LLVM_ENTRY);
		dlclose(h);
		return NULL;
	}
	const struct jm_llvm_plugin *p = entry(JM_LLVM_ABI_VERSION);
	if (!p || p->abi_version != JM_LLVM_ABI_VERSION ||
	    p->size < sizeof(struct jm_llvm_plugin)) {
		snprintf(err, errlen, "LLVM plugin %s: built for another jitmm "
			 "(plugin ABI %u, this jitmm %u): rebuild it",
			 path, p ? p->abi_version : 0u, JM_LLVM_ABI_VERSION);
		dlclose(h);
		return NULL;
	}
	char berr[300];
	if (jm_llvm_bind_imports(path, berr, sizeof(berr)) < 0) {
		snprintf(err, errlen, "LLVM plugin %s: %s", path, berr);
		dlclose(h);
		return NULL;
	}
	snprintf(loaded_path, sizeof(loaded_path), "%s", path);
	loaded = p; /* kept loaded for the life of the run */
	return p;
}

/* The defined dynamic symbol name of e, or -1. */
static int find_dynsym(Elf *e, const char *name, GElf_Sym *out)
{
	Elf_Scn *scn = NULL;
	while ((scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_DYNSYM || !sh.sh_entsize)
			continue;
		Elf_Data *d = elf_getdata(scn, NULL);
		size_t n = d ? d->d_size / sh.sh_entsize : 0;
		for (size_t i = 0; i < n; i++) {
			GElf_Sym sym;
			const char *sn;
			if (gelf_getsym(d, (int)i, &sym) && sym.st_shndx != SHN_UNDEF &&
			    (sn = elf_strptr(e, sh.sh_link, sym.st_name)) && !strcmp(sn, name)) {
				*out = sym;
				return 0;
			}
		}
	}
	return -1;
}

/* The NUL-terminated string at symbol sym, printable characters only. */
static void read_string(Elf *e, const GElf_Sym *sym, char *buf, size_t len)
{
	snprintf(buf, len, "?");
	Elf_Scn *scn = elf_getscn(e, sym->st_shndx);
	GElf_Shdr sh;
	Elf_Data *d;
	if (!scn || !gelf_getshdr(scn, &sh) || sh.sh_type != SHT_PROGBITS ||
	    sym->st_value < sh.sh_addr || !(d = elf_getdata(scn, NULL)) || !d->d_buf)
		return;
	uint64_t off = sym->st_value - sh.sh_addr;
	if (off >= d->d_size)
		return;
	const char *s = (const char *)d->d_buf + off;
	size_t i = 0, max = d->d_size - off;
	for (; i < max && i + 1 < len && s[i]; i++)
		if (s[i] < 0x20 || s[i] > 0x7e)
			return;
	if (i < max && !s[i]) {
		memcpy(buf, s, i);
		buf[i] = 0;
	}
}

#if defined(__x86_64__)
#define HOST_MACHINE EM_X86_64
#elif defined(__aarch64__)
#define HOST_MACHINE EM_AARCH64
#endif

int jm_llvm_plugin_check(const char *path, char *version, size_t vlen, char *err,
			 size_t errlen)
{
	if (stat_plugin(path, err, errlen) < 0)
		return -1;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "LLVM plugin %s: %s", path, strerror(errno));
		return -1;
	}
	elf_version(EV_CURRENT);
	Elf *e = elf_begin(fd, ELF_C_READ, NULL);
	GElf_Ehdr eh;
	GElf_Sym sym;
	int rc = -1;
	if (!e || elf_kind(e) != ELF_K_ELF || !gelf_getehdr(e, &eh))
		snprintf(err, errlen, "LLVM plugin %s: not a jitmm plugin (not an ELF file)",
			 path);
	else if (eh.e_type != ET_DYN)
		snprintf(err, errlen, "LLVM plugin %s: not a jitmm plugin (not a shared "
			 "object)", path);
	else if (eh.e_machine != HOST_MACHINE)
		snprintf(err, errlen, "LLVM plugin %s: built for another machine (ELF "
			 "machine %u)", path, (unsigned)eh.e_machine);
	else if (find_dynsym(e, JM_LLVM_ENTRY, &sym) < 0 ||
		 GELF_ST_TYPE(sym.st_info) != STT_FUNC)
		snprintf(err, errlen, "LLVM plugin %s: not a jitmm plugin (no %s)", path,
			 JM_LLVM_ENTRY);
	else {
		snprintf(version, vlen, "?");
		if (find_dynsym(e, JM_LLVM_VERSION_SYMBOL, &sym) == 0)
			read_string(e, &sym, version, vlen);
		rc = 0;
	}
	if (e)
		elf_end(e);
	close(fd);
	return rc;
}
