/* single-pool: LLVM MapperJITLinkMemoryManager over InProcessMemoryMapper
 * (llvm/lib/ExecutionEngine/Orc/MapperJITLinkMemoryManager.cpp,
 *  Orc/MemoryMapper.cpp), the manager Julia and llvm-jitlink use.
 *
 * allocate:   T = sum of page-aligned segments. First fit, in address
 *             order, over the free ranges (coalescing, also across
 *             reservations that happen to touch). If none fits, reserve
 *             alignTo(T, granularity) with one mmap(RW) and use it. The
 *             allocation takes the low T bytes; the rest goes back to the
 *             free set. Segments are laid out contiguously from the low end
 *             in AllocGroup order; writes go straight to target memory.
 * finalize:   (Mapper::initialize) per segment: memset the zero-fill tail,
 *             mprotect to the segment's protection.
 * deallocate: (Mapper::deinitialize) one mprotect(RW) over the allocation's
 *             [min, max) span; the span goes back to the free set. No
 *             madvise, no munmap: RSS is retained.
 * destroy:    munmap of every reservation.
 * The result: about one VMA per segment of every live allocation. */
#include <errno.h>
#include <stdlib.h>

#include "backend.h"
#include "mapper_pool.h"

struct single_pool {
	struct jm_mapper m;
	uint64_t granularity;
	struct jm_mapper_pool pool;
};

enum { P_START, P_SIZE };

static int sp_create(struct jm_backend *b)
{
	uint64_t granularity;
	if (jm_mapper_unit(b, "granularity", &granularity) < 0)
		return -1;
	struct single_pool *sp = calloc(1, sizeof(*sp));
	if (!sp)
		return jm_backend_error(b, NULL, ENOMEM, "calloc");
	jm_mapper_init(&sp->m);
	sp->granularity = granularity;
	jm_mapper_pool_init(&sp->pool);
	b->priv = sp;
	return 0;
}

static int sp_allocate(struct jm_backend *b, const struct jm_graph_req *req,
		       struct jm_alloc *out)
{
	struct single_pool *sp = b->priv;
	uint64_t total, start;
	if (jm_mapper_graph_size(b, req, &total) < 0)
		return -1;
	pthread_mutex_lock(&sp->m.lock);
	int rc = jm_mapper_take(b, &sp->m, &sp->pool, total, sp->granularity,
				" bytes", &start);
	pthread_mutex_unlock(&sp->m.lock);
	if (rc < 0)
		return -1;
	jm_alloc_init(out, req);
	jm_mapper_layout(out, start);
	out->priv_u[P_START] = start;
	out->priv_u[P_SIZE] = total;
	return 0;
}

static int sp_deallocate(struct jm_backend *b, struct jm_alloc *a)
{
	struct single_pool *sp = b->priv;
	uint64_t start = a->priv_u[P_START], size = a->priv_u[P_SIZE];
	if (jm_mapper_reset(b, start, size) < 0)
		return -1;
	pthread_mutex_lock(&sp->m.lock);
	int rc = jm_mapper_give_back(&sp->m, &sp->pool, start, size);
	pthread_mutex_unlock(&sp->m.lock);
	if (rc < 0)
		return jm_backend_error(b, NULL, EINVAL, "double free");
	return 0;
}

static void sp_stats(struct jm_backend *b, struct jm_backend_stats *out)
{
	struct single_pool *sp = b->priv;
	pthread_mutex_lock(&sp->m.lock);
	jm_mapper_stats(&sp->m, out);
	out->nextra = 1;
	out->extra[0].name = "free_ranges";
	out->extra[0].value = sp->pool.free.n;
	pthread_mutex_unlock(&sp->m.lock);
}

static void sp_destroy(struct jm_backend *b)
{
	struct single_pool *sp = b->priv;
	if (!sp)
		return;
	(void)jm_mapper_release(b, &sp->m); /* recorded on b */
	jm_mapper_pool_release(&sp->pool);
	free(sp);
}

const struct jm_backend_ops jm_backend_single_pool = {
	.name = "single-pool",
	.description = "LLVM MapperJITLinkMemoryManager + InProcessMemoryMapper: "
		       "first-fit over RW reservations, mprotect per segment",
	.models = "llvm/lib/ExecutionEngine/Orc/MapperJITLinkMemoryManager.cpp, "
		  "Orc/MemoryMapper.cpp (InProcessMemoryMapper)",
	.caps = JM_CAP_FREES | JM_CAP_THREAD_SAFE,
	.options = (const struct jm_option_def[]){
		{"granularity", JM_OPT_SIZE, "16M", NULL,
		 "reservation unit (Julia 16M; llvm-jitlink 1G; clang-repl 256M)",
		 4096, 1ull << 40},
		{0},
	},
	.create = sp_create,
	.allocate = sp_allocate,
	.finalize = jm_mapper_finalize,
	.deallocate = sp_deallocate,
	.trim = jm_backend_trim_none, /* reservations live until release */
	.stats = sp_stats,
	.destroy = sp_destroy,
};
