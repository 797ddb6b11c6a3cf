/* COMDAT and weak dedup across a link's objects (elf_dedup.h). */
#include "elf_dedup.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* names of groups and definitions seen, in one set ("g:" / "s:" prefix) */
#define MAX_NAMES (16u << 20)

struct jm_elf_dedup {
	char **slot;
	size_t cap, n;
};

static uint64_t hash(const char *s)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

struct jm_elf_dedup *jm_elf_dedup_new(void)
{
	return calloc(1, sizeof(struct jm_elf_dedup));
}

void jm_elf_dedup_free(struct jm_elf_dedup *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->cap; i++)
		free(d->slot[i]);
	free(d->slot);
	free(d);
}

static size_t find(const struct jm_elf_dedup *d, const char *key)
{
	size_t i = hash(key) & (d->cap - 1);
	while (d->slot[i] && strcmp(d->slot[i], key))
		i = (i + 1) & (d->cap - 1);
	return i;
}

static int seen(const struct jm_elf_dedup *d, char kind, const char *name)
{
	if (!d->cap)
		return 0;
	char key[512];
	if (snprintf(key, sizeof(key), "%c:%s", kind, name) >= (int)sizeof(key))
		return 0; /* names this long are never deduplicated */
	return d->slot[find(d, key)] != NULL;
}

static int add(struct jm_elf_dedup *d, char kind, const char *name)
{
	char key[512];
	if (snprintf(key, sizeof(key), "%c:%s", kind, name) >= (int)sizeof(key))
		return 0;
	if ((d->n + 1) * 2 > d->cap) {
		if (d->n >= MAX_NAMES)
			return -1;
		size_t cap = d->cap ? d->cap * 2 : 4096;
		char **s = calloc(cap, sizeof(*s));
		if (!s)
			return -1;
		struct jm_elf_dedup old = *d;
		d->slot = s;
		d->cap = cap;
		for (size_t i = 0; i < old.cap; i++)
			if (old.slot[i])
				d->slot[find(d, old.slot[i])] = old.slot[i];
		free(old.slot);
	}
	size_t i = find(d, key);
	if (d->slot[i])
		return 0;
	if (!(d->slot[i] = strdup(key)))
		return -1;
	d->n++;
	return 0;
}

static int fail(char *err, size_t errlen, const char *what)
{
	snprintf(err, errlen, "%s", what);
	return -1;
}

int jm_elf_dedup_mark(struct jm_elf_dedup *d, Elf *e, size_t nsec, uint8_t *drop, char *err,
		      size_t errlen)
{
	Elf_Data *syms = NULL;
	size_t symsec = 0, strsec = 0, nsyms = 0;
	for (Elf_Scn *scn = NULL; (scn = elf_nextscn(e, scn));) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh))
			return fail(err, errlen, elf_errmsg(-1));
		if (sh.sh_type == SHT_SYMTAB) {
			if (!sh.sh_entsize || !(syms = elf_getdata(scn, NULL)))
				return fail(err, errlen, "unreadable symbol table");
			symsec = elf_ndxscn(scn);
			strsec = sh.sh_link;
			nsyms = syms->d_size / sizeof(Elf64_Sym);
		}
	}
	if (!syms)
		return 0; /* nothing named: nothing to dedup */
	/* groups: a signature seen before drops every member section */
	char **groups = NULL;
	size_t ngroups = 0;
	int rc = 0;
	for (Elf_Scn *scn = NULL; !rc && (scn = elf_nextscn(e, scn));) {
		GElf_Shdr sh;
		GElf_Sym sym;
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_GROUP)
			continue;
		Elf_Data *g = elf_getdata(scn, NULL);
		const char *sig;
		if (!g || g->d_size < 4 || sh.sh_link != symsec || sh.sh_info >= nsyms ||
		    !gelf_getsym(syms, (int)sh.sh_info, &sym) ||
		    !(sig = elf_strptr(e, strsec, sym.st_name))) {
			rc = fail(err, errlen, "malformed section group");
			break;
		}
		const uint32_t *w = g->d_buf;
		if (!(w[0] & GRP_COMDAT))
			continue;
		if (seen(d, 'g', sig)) {
			for (size_t k = 1; k < g->d_size / 4; k++)
				if (w[k] < nsec)
					drop[w[k]] = 1;
		} else {
			char **ng = realloc(groups, (ngroups + 1) * sizeof(*ng));
			if (!ng) {
				rc = fail(err, errlen, "out of memory");
				break;
			}
			groups = ng;
			groups[ngroups++] = (char *)sig;
		}
	}
	/* sections defining only weak symbols defined before */
	uint32_t *globals = rc ? NULL : calloc(nsec, sizeof(*globals));
	uint32_t *weak_seen = globals ? calloc(nsec, sizeof(*weak_seen)) : NULL;
	if (!rc && !weak_seen)
		rc = fail(err, errlen, "out of memory");
	for (size_t i = 1; !rc && i < nsyms; i++) {
		GElf_Sym sym;
		const char *name;
		if (!gelf_getsym(syms, (int)i, &sym) ||
		    !(name = elf_strptr(e, strsec, sym.st_name))) {
			rc = fail(err, errlen, "unreadable symbol");
			break;
		}
		int bind = GELF_ST_BIND(sym.st_info);
		if ((bind != STB_GLOBAL && bind != STB_WEAK) || sym.st_shndx == SHN_UNDEF ||
		    sym.st_shndx >= nsec || !*name)
			continue;
		globals[sym.st_shndx]++;
		if (bind == STB_WEAK && seen(d, 's', name))
			weak_seen[sym.st_shndx]++;
	}
	for (size_t s = 1; !rc && s < nsec; s++)
		if (globals[s] && weak_seen[s] == globals[s])
			drop[s] = 1;
	/* then remember this object's groups and definitions */
	for (size_t k = 0; !rc && k < ngroups; k++)
		if (add(d, 'g', groups[k]) < 0)
			rc = fail(err, errlen, "too many names to deduplicate");
	for (size_t i = 1; !rc && i < nsyms; i++) {
		GElf_Sym sym;
		const char *name;
		if (!gelf_getsym(syms, (int)i, &sym) || !(name = elf_strptr(e, strsec, sym.st_name)))
			break;
		int bind = GELF_ST_BIND(sym.st_info);
		if ((bind == STB_GLOBAL || bind == STB_WEAK) && sym.st_shndx != SHN_UNDEF && *name &&
		    add(d, 's', name) < 0)
			rc = fail(err, errlen, "too many names to deduplicate");
	}
	free(groups);
	free(globals);
	free(weak_seen);
	return rc;
}
