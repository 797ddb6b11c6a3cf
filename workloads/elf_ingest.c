/* ELF ingestion with libelf. Layout rule (as JITLink's BasicLayout, and as
 * shared/data/elf-segment-sizes.csv was measured): the SHF_ALLOC sections
 * of one protection group are laid out in section-header order, each at
 * its sh_addralign; the GOT entries and stubs a JIT linker synthesizes are
 * counted from the relocations. Every libelf call is checked: a malformed
 * object is an error message, never a crash. */
#include "elf_ingest.h"
#include "elf_dedup.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_SECTIONS 1000000u
#define MAX_SYMBOLS 10000000u

static int is_got_reloc(unsigned type)
{
	switch (type) {
	case R_X86_64_GOT32:
	case R_X86_64_GOTPCREL:
	case R_X86_64_GOT64:
	case R_X86_64_GOTPCREL64:
	case R_X86_64_GOTPLT64:
	case R_X86_64_GOTPCRELX:
	case R_X86_64_REX_GOTPCRELX:
		return 1;
	}
	return 0;
}

static int is_plt_reloc(unsigned type)
{
	return type == R_X86_64_PLT32 || type == R_X86_64_PLTOFF64;
}

static int oerr(char *err, size_t errlen, const char *where, const char *what)
{
	snprintf(err, errlen, "%s: %s", where, what);
	return -1;
}

static void place(uint64_t *off, uint32_t *maxa, uint64_t size, uint64_t align)
{
	if (align < 1)
		align = 1;
	*off = jm_align_up(*off, align) + size;
	if (align > *maxa)
		*maxa = (uint32_t)align;
}

/* Measure one ELF object (e) named where; 0 or -1 with err. With d, the
 * sections an earlier object of the link already provides are left out
 * (elf_dedup.h); drop: one byte per section, for them. */
static int measure_object(Elf *e, size_t fsize, const char *where, struct jm_elf_dedup *dd,
			  uint8_t **drop_out, struct jm_elf_object *o, char *err, size_t errlen)
{
	GElf_Ehdr eh;
	if (elf_kind(e) != ELF_K_ELF)
		return oerr(err, errlen, where, "not an ELF object or archive");
	if (!gelf_getehdr(e, &eh))
		return oerr(err, errlen, where, elf_errmsg(-1));
	if (eh.e_type != ET_REL)
		return oerr(err, errlen, where, "not a relocatable object (ET_REL)");
	if (eh.e_machine != EM_X86_64)
		return oerr(err, errlen, where,
			    "unsupported machine (only x86-64 relocations are known)");
	size_t nsec;
	if (elf_getshdrnum(e, &nsec) < 0)
		return oerr(err, errlen, where, elf_errmsg(-1));
	if (nsec > MAX_SECTIONS)
		return oerr(err, errlen, where, "more than 10^6 sections");

	/* everything libelf will read must lie inside the object's bytes
	 * (libelf itself stops quietly at a truncated header table). fsize
	 * comes from the archive header or fstat: elf_rawfile on a member
	 * makes libelf read it into memory it never frees. */
	if (nsec && (eh.e_shoff > fsize || eh.e_shentsize != sizeof(Elf64_Shdr) ||
		     (fsize - eh.e_shoff) / sizeof(Elf64_Shdr) < nsec))
		return oerr(err, errlen, where, "truncated: section headers past the end");
	if (nsec == 0)
		return oerr(err, errlen, where, eh.e_shoff ? "truncated: section headers past the end"
							  : "no section headers");

	o->size = fsize;
	size_t shstrndx = 0;
	if (elf_getshdrstrndx(e, &shstrndx) < 0)
		return oerr(err, errlen, where, elf_errmsg(-1));
	for (Elf_Scn *scn = NULL; (scn = elf_nextscn(e, scn));) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh))
			return oerr(err, errlen, where, elf_errmsg(-1));
		if (sh.sh_type != SHT_NOBITS && sh.sh_type != SHT_NULL &&
		    (sh.sh_offset > fsize || sh.sh_size > fsize - sh.sh_offset))
			return oerr(err, errlen, where, "truncated: a section lies past the end");
		const char *name = elf_strptr(e, shstrndx, sh.sh_name);
		if (name && !strncmp(name, ".debug_", 7))
			o->has_dwarf = 1;
	}
	uint8_t *drop = dd ? *drop_out = calloc(nsec, 1) : NULL;
	if (dd && (!drop || jm_elf_dedup_mark(dd, e, nsec, drop, err, errlen) < 0)) {
		char why[200];
		snprintf(why, sizeof(why), "%s", drop ? err : "out of memory");
		return oerr(err, errlen, where, why);
	}

	/* pass 1: the allocatable sections */
	uint32_t maxa = 1; /* empty allocatable sections count here too */
	for (Elf_Scn *scn = NULL; (scn = elf_nextscn(e, scn));) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh))
			return oerr(err, errlen, where, elf_errmsg(-1));
		if (!(sh.sh_flags & SHF_ALLOC))
			continue;
		if (drop && drop[elf_ndxscn(scn)]) {
			o->dropped += sh.sh_size;
			continue;
		}
		if (sh.sh_addralign > (1ull << 30) ||
		    (sh.sh_addralign && !jm_is_pow2(sh.sh_addralign)))
			return oerr(err, errlen, where, "section alignment is not a power of two <= 2^30");
		if (sh.sh_size > (1ull << 40))
			return oerr(err, errlen, where, "section larger than 2^40 bytes");
		if (sh.sh_addralign > maxa)
			maxa = (uint32_t)sh.sh_addralign;
		if (sh.sh_size == 0)
			continue;
		o->nsec++;
		if (sh.sh_flags & SHF_TLS)
			o->tls += sh.sh_size; /* thread-local: not in the graph's segments */
		else if (sh.sh_flags & SHF_EXECINSTR)
			place(&o->rx, &o->align_rx, sh.sh_size, sh.sh_addralign);
		else if (!(sh.sh_flags & SHF_WRITE))
			place(&o->ro, &o->align_ro, sh.sh_size, sh.sh_addralign);
		else if (sh.sh_type == SHT_NOBITS)
			place(&o->zf, &o->align_rw, sh.sh_size, sh.sh_addralign);
		else
			place(&o->rw, &o->align_rw, sh.sh_size, sh.sh_addralign);
	}
	o->maxalign = maxa;

	/* pass 2: the symbol table and relocations */
	Elf_Data *symdata = NULL;
	size_t symsec = 0, nsyms = 0;
	for (Elf_Scn *scn = NULL; (scn = elf_nextscn(e, scn));) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh))
			return oerr(err, errlen, where, elf_errmsg(-1));
		if (sh.sh_type != SHT_SYMTAB)
			continue;
		if (symdata)
			return oerr(err, errlen, where, "more than one symbol table");
		if (!sh.sh_entsize || !(symdata = elf_getdata(scn, NULL)))
			return oerr(err, errlen, where, "unreadable symbol table");
		symsec = elf_ndxscn(scn);
		nsyms = symdata->d_size / sizeof(Elf64_Sym);
		if (nsyms > MAX_SYMBOLS)
			return oerr(err, errlen, where, "more than 10^7 symbols");
	}
	uint8_t *mark = nsyms ? calloc(nsyms, 1) : NULL; /* bit0 got, bit1 stub */
	if (nsyms && !mark)
		return oerr(err, errlen, where, "out of memory");
	for (size_t i = 1; i < nsyms; i++) {
		GElf_Sym sym;
		if (!gelf_getsym(symdata, (int)i, &sym)) {
			free(mark);
			return oerr(err, errlen, where, "unreadable symbol");
		}
		if (sym.st_shndx == SHN_UNDEF)
			o->nundef++;
	}
	int rc = 0;
	for (Elf_Scn *scn = NULL; (scn = elf_nextscn(e, scn)) && !rc;) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh)) {
			rc = oerr(err, errlen, where, elf_errmsg(-1));
			break;
		}
		if (sh.sh_type != SHT_RELA && sh.sh_type != SHT_REL)
			continue;
		/* a dropped section's relocations need no GOT entry or stub */
		if (drop && sh.sh_info < nsec && drop[sh.sh_info])
			continue;
		if (sh.sh_link != symsec || !symdata) {
			rc = oerr(err, errlen, where, "relocations without the symbol table");
			break;
		}
		Elf_Data *d = elf_getdata(scn, NULL);
		if (!d || !sh.sh_entsize) {
			rc = oerr(err, errlen, where, "unreadable relocation section");
			break;
		}
		size_t n = sh.sh_size / sh.sh_entsize;
		for (size_t i = 0; i < n; i++) {
			uint64_t info;
			if (sh.sh_type == SHT_RELA) {
				GElf_Rela ra;
				if (!gelf_getrela(d, (int)i, &ra)) {
					rc = oerr(err, errlen, where, "truncated relocation section");
					break;
				}
				info = ra.r_info;
			} else {
				GElf_Rel rl;
				if (!gelf_getrel(d, (int)i, &rl)) {
					rc = oerr(err, errlen, where, "truncated relocation section");
					break;
				}
				info = rl.r_info;
			}
			o->nrel++;
			size_t si = GELF_R_SYM(info);
			unsigned type = (unsigned)GELF_R_TYPE(info);
			if (si >= nsyms) {
				rc = oerr(err, errlen, where, "relocation symbol index out of range");
				break;
			}
			if (is_got_reloc(type))
				mark[si] |= 1;
			if (is_plt_reloc(type) && si) {
				GElf_Sym sym;
				if (!gelf_getsym(symdata, (int)si, &sym)) {
					rc = oerr(err, errlen, where, "unreadable symbol");
					break;
				}
				/* calls to symbols defined here are direct: no stub */
				if (sym.st_shndx == SHN_UNDEF)
					mark[si] |= 2;
			}
		}
	}
	/* a stub jumps through a GOT entry, so stub targets need one too */
	for (size_t i = 0; i < nsyms; i++) {
		if (mark[i])
			o->got++;
		if (mark[i] & 2)
			o->stubs++;
	}
	free(mark);
	return rc;
}

static int measure(Elf *e, size_t fsize, const char *where, struct jm_elf_dedup *d,
		   struct jm_elf_object *o, char *err, size_t errlen)
{
	uint8_t *drop = NULL;
	int rc = measure_object(e, fsize, where, d, &drop, o, err, errlen);
	free(drop);
	return rc;
}

/* NULL if name can name a member in messages and traces */
static const char *member_name_problem(const char *name)
{
	if (!name[0])
		return "has no name";
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return "has a control character in its name";
	return NULL;
}

/* The size an archive member's header states (ar_size, decimal, bytes 48
 * to 57 of the 60-byte header at aroff), read from the file itself: libelf
 * clamps a size past the end of the archive to what is there, so a member
 * claiming 10 GB in a 1.6 KB file looked fine (issue 11). fd >= 0: read
 * with pread; else from image. -1 if the header is not there or not one. */
static int raw_member_size(int fd, const unsigned char *image, uint64_t fsize,
			   uint64_t aroff, uint64_t *size)
{
	unsigned char h[60];
	if (aroff > fsize || fsize - aroff < sizeof(h))
		return -1;
	if (fd >= 0) {
		if (pread(fd, h, sizeof(h), (off_t)aroff) != (ssize_t)sizeof(h))
			return -1;
	} else {
		memcpy(h, image + aroff, sizeof(h));
	}
	if (h[58] != '`' || h[59] != '\n')
		return -1;
	uint64_t v = 0;
	int digits = 0;
	for (int i = 48; i < 58 && h[i] != ' '; i++, digits++) {
		if (h[i] < '0' || h[i] > '9')
			return -1;
		v = v * 10 + (uint64_t)(h[i] - '0'); /* 10 digits: no overflow */
	}
	if (!digits)
		return -1;
	*size = v;
	return 0;
}

/* Walk top (an object or an archive of fsize bytes) named path; cmd is the
 * one top was opened with (libelf opens members only with the same); fd or
 * image: the raw bytes, for the member headers; d: the link's dedup (or
 * NULL). */
static long walk(Elf *top, Elf_Cmd cmd, uint64_t fsize, int fd, const unsigned char *image,
		 const char *path, struct jm_elf_dedup *d, jm_elf_visit visit, void *ctx,
		 char *err, size_t errlen)
{
	long count = 0;
	int rc = 0;
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	if (elf_kind(top) == ELF_K_AR) {
		Elf *e;
		uint64_t end = 8; /* "!<arch>\n", then 60-byte headers + data */
		/* -1: the member reads through its parent (top's fd, or the
		 * image of elf_memory) */
		while (!rc && (e = elf_begin(-1, cmd, top))) {
			Elf_Arhdr *ah = elf_getarhdr(e);
			char where[400];
			if (!ah) {
				snprintf(err, errlen, "%s: bad archive member header", path);
				elf_end(e);
				rc = -1;
				break;
			}
			off_t aroff = elf_getaroff(e);
			uint64_t claimed;
			if (aroff < 0 || raw_member_size(fd, image, fsize, (uint64_t)aroff,
							 &claimed) < 0) {
				snprintf(err, errlen, "%s: bad archive member header at byte %lld",
					 path, (long long)aroff);
				elf_end(e);
				rc = -1;
				break;
			}
			/* bounded by the file before anything is read or measured */
			if (claimed > fsize - (uint64_t)aroff - 60) {
				snprintf(err, errlen, "%s: archive member at byte %lld claims %llu "
					 "bytes; only %llu follow its header", path, (long long)aroff,
					 (unsigned long long)claimed,
					 (unsigned long long)(fsize - (uint64_t)aroff - 60));
				elf_end(e);
				rc = -1;
				break;
			}
			end = (uint64_t)aroff + 60 + claimed;
			/* damaged headers (found by fuzzing): libelf hands out empty
			 * names and names with newlines, which would break the
			 * one-line errors and the trace's name= field */
			const char *bad = member_name_problem(ah->ar_name);
			if (bad) {
				snprintf(err, errlen, "%s: archive member at byte %lld %s",
					 path, (long long)aroff, bad);
				elf_end(e);
				rc = -1;
				break;
			}
			if (ah->ar_name[0] != '/') { /* not the symbol/name tables */
				struct jm_elf_object o = {0};
				snprintf(where, sizeof(where), "%s(%s)", path, ah->ar_name);
				snprintf(o.name, sizeof(o.name), "%s", ah->ar_name);
				if ((uint64_t)ah->ar_size > JM_ELF_MAX_OBJECT) {
					snprintf(err, errlen, "%s: larger than %llu MiB", where,
						 JM_ELF_MAX_OBJECT >> 20);
					rc = -1;
				} else if (++count > JM_ELF_MAX_MEMBERS) {
					snprintf(err, errlen, "%s: more than %u archive members",
						 path, JM_ELF_MAX_MEMBERS);
					rc = -1;
				} else if (measure(e, ah->ar_size, where, d, &o, err, errlen) < 0 ||
					   visit(ctx, &o) < 0) {
					rc = -1;
				}
			}
			cmd = elf_next(e);
			elf_end(e);
		}
		/* libelf ends the member walk quietly on a damaged header:
		 * the members must reach the end of the file (+1 pad byte) */
		if (!rc && end != fsize && end + 1 != fsize) {
			snprintf(err, errlen, "%s: truncated or corrupt archive (members end "
				 "at byte %llu of %llu)", path, (unsigned long long)end,
				 (unsigned long long)fsize);
			rc = -1;
		}
		if (!rc && count == 0) {
			snprintf(err, errlen, "%s: archive has no members", path);
			rc = -1;
		}
	} else if (elf_kind(top) == ELF_K_ELF) {
		struct jm_elf_object o = {0};
		snprintf(o.name, sizeof(o.name), "%s", base);
		if (fsize > JM_ELF_MAX_OBJECT) {
			snprintf(err, errlen, "%s: larger than %llu MiB", path,
				 JM_ELF_MAX_OBJECT >> 20);
			rc = -1;
		} else if (measure(top, (size_t)fsize, path, d, &o, err, errlen) < 0 ||
			   visit(ctx, &o) < 0) {
			rc = -1;
		}
		count = 1;
	} else {
		snprintf(err, errlen, "%s: not an ELF object or ar archive", path);
		rc = -1;
	}
	return rc ? -1 : count;
}

long jm_elf_ingest(const char *path, jm_elf_visit visit, void *ctx, char *err,
		   size_t errlen)
{
	return jm_elf_ingest_dedup(path, NULL, visit, ctx, err, errlen);
}

long jm_elf_ingest_dedup(const char *path, struct jm_elf_dedup *d, jm_elf_visit visit,
			 void *ctx, char *err, size_t errlen)
{
	if (elf_version(EV_CURRENT) == EV_NONE)
		return oerr(err, errlen, path, "libelf is too old");
	/* O_NONBLOCK: opening a FIFO must not wait for a writer (it blocked
	 * forever: issue 11); anything but a regular file is refused below */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	struct stat st;
	if (fstat(fd, &st) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return oerr(err, errlen, path, S_ISFIFO(st.st_mode) ? "not a regular file (a FIFO)" :
			    S_ISDIR(st.st_mode) ? "not a regular file (a directory)" :
			    "not a regular file");
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	if ((uint64_t)st.st_size > JM_ELF_MAX_FILE) {
		close(fd);
		snprintf(err, errlen, "%s: larger than %llu MiB", path, JM_ELF_MAX_FILE >> 20);
		return -1;
	}
	Elf *top = elf_begin(fd, ELF_C_READ, NULL);
	if (!top) {
		snprintf(err, errlen, "%s: %s", path, elf_errmsg(-1));
		close(fd);
		return -1;
	}
	long n = walk(top, ELF_C_READ, (uint64_t)st.st_size, fd, NULL, path, d, visit, ctx, err,
		      errlen);
	elf_end(top);
	close(fd);
	return n;
}

long jm_elf_ingest_mem(const void *buf, size_t len, const char *name, jm_elf_visit visit,
		       void *ctx, char *err, size_t errlen)
{
	if (elf_version(EV_CURRENT) == EV_NONE)
		return oerr(err, errlen, name, "libelf is too old");
	if (len > JM_ELF_MAX_FILE) {
		snprintf(err, errlen, "%s: larger than %llu MiB", name, JM_ELF_MAX_FILE >> 20);
		return -1;
	}
	Elf *top = elf_memory((char *)buf, len);
	if (!top) {
		snprintf(err, errlen, "%s: %s", name, elf_errmsg(-1));
		return -1;
	}
	/* elf_memory opens as ELF_C_READ_MMAP: the image is only read */
	long n = walk(top, ELF_C_READ_MMAP, len, -1, buf, name, NULL, visit, ctx, err, errlen);
	elf_end(top);
	return n;
}

void jm_elf_graph(const struct jm_elf_object *o, uint64_t id,
		  struct jm_graph_req *req)
{
	memset(req, 0, sizeof(*req));
	req->id = id;
	uint64_t ro = o->ro + (uint64_t)o->got * 8, rx = o->rx + (uint64_t)o->stubs * 6;
	uint32_t n = 0;
	uint32_t aro = o->align_ro, arx = o->align_rx, arw = o->align_rw;
	if (o->got && aro < 8)
		aro = 8;
	if (ro)
		req->seg[n++] = (struct jm_segment_req){JM_RO, JM_STANDARD, ro, 0, aro ? aro : 1};
	if (o->rw || o->zf)
		req->seg[n++] = (struct jm_segment_req){JM_RW, JM_STANDARD, o->rw, o->zf,
							arw ? arw : 1};
	if (rx)
		req->seg[n++] = (struct jm_segment_req){JM_RX, JM_STANDARD, rx, 0, arx ? arx : 1};
	req->nseg = n;
	jm_graph_normalize(req);
}

void jm_elf_graph_llvm14(const struct jm_elf_object *o, uint64_t id,
			 struct jm_graph_req *req)
{
	memset(req, 0, sizeof(*req));
	req->id = id;
	uint64_t ro = (uint64_t)o->got * 8, rx = o->rx + (uint64_t)o->stubs * 6;
	uint32_t arw = o->align_rw > o->align_ro ? o->align_rw : o->align_ro;
	if (!arw)
		arw = 1;
	/* the read-only sections first, then the writable ones, each group
	 * at its own alignment (the rw group's alignment pads between) */
	uint64_t rw = o->ro;
	if (o->rw && o->align_rw > 1)
		rw = (rw + o->align_rw - 1) / o->align_rw * o->align_rw;
	rw += o->rw;
	uint32_t n = 0;
	if (ro)
		req->seg[n++] = (struct jm_segment_req){JM_RO, JM_STANDARD, ro, 0, 8};
	if (rw || o->zf)
		req->seg[n++] = (struct jm_segment_req){JM_RW, JM_STANDARD, rw, o->zf, arw};
	if (rx)
		req->seg[n++] = (struct jm_segment_req){JM_RX, JM_STANDARD, rx, 0,
							o->align_rx ? o->align_rx : 1};
	req->nseg = n;
	jm_graph_normalize(req);
}
