/* The ELF ingester (workloads/elf_ingest.c) on arbitrary bytes through
 * libelf's elf_memory: whatever the bytes are (an object, an ar archive
 * of objects, neither) the ingester returns a count of measured objects
 * or one clean error line naming the input, never a crash. The seeds are
 * real objects from Debian's libz.a and a small archive of them; the
 * fuzzer also sees every input wrapped as the single member of an ar
 * archive, so object mutations reach the archive path too. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../workloads/elf_ingest.h"
#include "fuzz.h"

#define NAME "fuzz.o"
#define ARNAME "fuzz.a"

struct seen {
	long n;
	struct jm_elf_object first;
};

static int visit(void *ctx, const struct jm_elf_object *o)
{
	struct seen *s = ctx;
	if (s->n++ == 0)
		s->first = *o;
	/* what the ingester promises about a measured object */
	if (!o->name[0] || memchr(o->name, 0, sizeof(o->name)) == NULL)
		abort();
	if (o->maxalign == 0 || (o->maxalign & (o->maxalign - 1)) || o->maxalign > (1u << 30))
		abort();
	if (o->stubs > o->got)
		abort();
	struct jm_graph_req req;
	jm_elf_graph(o, (uint64_t)s->n, &req);
	if (req.nseg > JM_MAX_SEGS)
		abort();
	return 0;
}

static void check(long n, const struct seen *s, const char *err, const char *name)
{
	if (n >= 0) {
		if (n != s->n)
			abort();
		return;
	}
	/* "NAME: ..." or "NAME(member): ..." on one line */
	size_t k = strlen(name);
	if (!err[0] || strchr(err, '\n') || strncmp(err, name, k) ||
	    (err[k] != ':' && err[k] != '('))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[600] = "";
	struct seen s = {0};
	long n = jm_elf_ingest_mem(data, size, NAME, visit, &s, err, sizeof(err));
	check(n, &s, err, NAME);
	struct jm_elf_object alone = s.first;
	long n_alone = n;

	/* the same bytes as the one member of an archive (+ pad byte) */
	size_t alen = 8 + 60 + size + (size & 1);
	char *a = malloc(alen);
	if (!a)
		return 0;
	memcpy(a, "!<arch>\n", 8);
	char hdr[61];
	snprintf(hdr, sizeof(hdr), "%-16s%-12s%-6s%-6s%-8s%-10zu`\n", "m.o/", "0", "0", "0",
		 "644", size);
	memcpy(a + 8, hdr, 60);
	memcpy(a + 68, data, size);
	if (size & 1)
		a[alen - 1] = '\n';
	memset(&s, 0, sizeof(s));
	err[0] = 0;
	n = jm_elf_ingest_mem(a, alen, ARNAME, visit, &s, err, sizeof(err));
	check(n, &s, err, ARNAME);
	/* an object (not an archive) measures the same on its own and as an
	 * archive member */
	if (n_alone == 1 && size >= 4 && !memcmp(data, "\177ELF", 4)) {
		if (n != 1)
			abort();
		const struct jm_elf_object *x = &alone, *y = &s.first;
		if (x->rx != y->rx || x->ro != y->ro || x->rw != y->rw || x->zf != y->zf ||
		    x->tls != y->tls || x->align_rx != y->align_rx ||
		    x->align_ro != y->align_ro || x->align_rw != y->align_rw ||
		    x->nsec != y->nsec || x->maxalign != y->maxalign || x->got != y->got ||
		    x->stubs != y->stubs || x->nrel != y->nrel || x->nundef != y->nundef)
			abort();
	}
	free(a);
	return 0;
}
