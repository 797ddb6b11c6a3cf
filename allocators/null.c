/* null: no memory syscalls at all. Segments come from malloc and keep
 * whatever protection the heap has. It measures the harness's own cost
 * per event, and its test options misbehave on purpose so that the tests
 * can check the harness survives: crash_after (SIGSEGV), hang_after (never
 * returns), leak (one page mapped at create and never unmapped). */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "backend.h"
#include "os.h"

struct null_backend {
	uint64_t crash_after, hang_after, allocations, live, live_peak;
};

static int null_create(struct jm_backend *b)
{
	struct null_backend *n = calloc(1, sizeof(*n));
	if (!n)
		return jm_backend_error(b, NULL, ENOMEM, "calloc");
	n->crash_after = jm_opt_u64(&b->opts, "crash_after");
	n->hang_after = jm_opt_u64(&b->opts, "hang_after");
	b->priv = n;
	if (jm_opt_u64(&b->opts, "leak")) {
		/* a mapping nobody will unmap: the leak check must see it */
		void *p = jm_os_mmap(NULL, 4096, PROT_READ,
				     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			return jm_backend_error(b, "mmap", errno, "leak page");
	}
	return 0;
}

static int null_allocate(struct jm_backend *b, const struct jm_graph_req *req,
			 struct jm_alloc *out)
{
	struct null_backend *n = b->priv;
	n->allocations++;
	if (n->crash_after && n->allocations > n->crash_after)
		raise(SIGSEGV); /* a backend bug, on purpose */
	if (n->hang_after && n->allocations > n->hang_after)
		for (;;)
			pause(); /* a deadlocked backend, on purpose */
	jm_alloc_init(out, req);
	uint64_t total = 0, maxalign = 16;
	for (uint32_t i = 0; i < req->nseg; i++) {
		total = jm_align_up(total, req->seg[i].align) + out->seg[i].size;
		if (req->seg[i].align > maxalign)
			maxalign = req->seg[i].align;
	}
	char *p = aligned_alloc(maxalign, jm_align_up(total ? total : 1, maxalign));
	if (!p)
		return jm_backend_error(b, NULL, ENOMEM, "aligned_alloc");
	uint64_t off = 0;
	for (uint32_t i = 0; i < req->nseg; i++) {
		off = jm_align_up(off, req->seg[i].align);
		out->seg[i].write = out->seg[i].exec = p + off;
		off += out->seg[i].size;
	}
	out->priv = p;
	out->priv_u[0] = total;
	n->live += total;
	if (n->live > n->live_peak)
		n->live_peak = n->live;
	return 0;
}

static int null_finalize(struct jm_backend *b, struct jm_alloc *a)
{
	(void)b;
	for (uint32_t i = 0; i < a->nseg; i++)
		memset((char *)a->seg[i].write + a->seg[i].content, 0,
		       a->seg[i].size - a->seg[i].content);
	return 0;
}

static int null_deallocate(struct jm_backend *b, struct jm_alloc *a)
{
	struct null_backend *n = b->priv;
	n->live -= a->priv_u[0];
	free(a->priv);
	a->priv = NULL;
	return 0;
}

static void null_stats(struct jm_backend *b, struct jm_backend_stats *out)
{
	struct null_backend *n = b->priv;
	out->bytes_live = n->live;
	out->bytes_mapped = n->live;
	out->bytes_mapped_peak = n->live_peak;
}

static void null_destroy(struct jm_backend *b)
{
	free(b->priv);
}

const struct jm_backend_ops jm_backend_null = {
	.name = "null",
	.description = "no syscalls (malloc'd memory, no protections): the "
		       "harness's own overhead",
	.models = "nothing: a control",
	.caps = JM_CAP_FREES | JM_CAP_NO_PROTECT,
	.options = (const struct jm_option_def[]){
		{"crash_after", JM_OPT_UINT, "0", NULL,
		 "raise SIGSEGV on allocation N+1 (0 = never); for testing "
		 "crash isolation", 0, 0},
		{"hang_after", JM_OPT_UINT, "0", NULL,
		 "never return from allocation N+1 (0 = never); for testing "
		 "--timeout", 0, 0},
		{"leak", JM_OPT_BOOL, "off", NULL,
		 "map one page at create and never unmap it; for testing the "
		 "leak check", 0, 0},
		{0},
	},
	.create = null_create,
	.allocate = null_allocate,
	.finalize = null_finalize,
	.deallocate = null_deallocate,
	.trim = jm_backend_trim_none,
	.stats = null_stats,
	.destroy = null_destroy,
};
