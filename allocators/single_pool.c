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
 * abandon:    (free before finalize) see below, by LLVM release.
 * destroy:    munmap of every reservation.
 * The result: about one VMA per segment of every live allocation.
 *
 * llvm=N selects the behaviour of LLVM release N (measured with the real
 * classes of LLVM 15, 16, 19 and 22; docs/backends/single-pool.md):
 *   15     no pool: MapperJITLinkMemoryManager(Mapper) reserves each graph
 *          exactly (mmap of T, granularity unused); deallocate and abandon
 *          munmap it (Mapper::release), with no mprotect.
 *   16-19  the pool above (the IntervalMap version arrived in 16);
 *          abandon = Mapper->release({AllocAddr}): InProcessMemoryMapper::
 *          release treats the address as a reservation base. At a base it
 *          deinitializes the reservation's live finalized allocations (one
 *          mprotect(RW) each, newest first) and munmaps the whole
 *          reservation, though its free ranges stay in the pool and other
 *          live graphs may sit in it: an allocation later placed there
 *          fails here (upstream writes into unmapped memory), and freeing
 *          a graph that was in it makes no syscall. Elsewhere it releases
 *          nothing. Either way the abandoned range never returns.
 *   20-21  refused: abandon changed between 19 (release, measured) and 22
 *          (deinitialize, measured) and the release is not known.
 *   22     (default) abandon = Mapper->deinitialize({AllocAddr}): no
 *          syscall, the range never returns (jm_mapper_abandon). */
#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "backend.h"
#include "mapper_pool.h"
#include "os.h"

struct single_pool {
	struct jm_mapper m;
	uint64_t granularity;
	unsigned llvm;
	struct jm_mapper_pool pool;
	/* llvm 16-19: InProcessMemoryMapper's initialized allocations (live
	 * ones), oldest first, and the reservations release unmapped */
	struct jm_range *inits, *dead;
	size_t ninits, capinits, ndead, capdead;
};

enum { P_START, P_SIZE };

static int release_era(const struct single_pool *sp)
{
	return sp->llvm >= 16 && sp->llvm <= 19;
}

static int sp_create(struct jm_backend *b)
{
	uint64_t granularity;
	if (jm_mapper_unit(b, "granularity", &granularity) < 0)
		return -1;
	unsigned llvm = (unsigned)jm_opt_u64(&b->opts, "llvm");
	if (llvm == 20 || llvm == 21)
		return jm_backend_error(b, NULL, EINVAL,
			"llvm=%u is not modelled: abandon changed from Mapper->release "
			"(LLVM 19) to Mapper->deinitialize (LLVM 22) in a release not "
			"pinned down; use 19 or 22", llvm);
	struct single_pool *sp = calloc(1, sizeof(*sp));
	if (!sp)
		return jm_backend_error(b, NULL, ENOMEM, "calloc");
	jm_mapper_init(&sp->m);
	sp->granularity = granularity;
	sp->llvm = llvm;
	jm_mapper_pool_init(&sp->pool);
	b->priv = sp;
	return 0;
}

static int range_push(struct jm_range **v, size_t *n, size_t *cap,
		      uint64_t start, uint64_t end)
{
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 16;
		struct jm_range *r = realloc(*v, c * sizeof(*r));
		if (!r)
			return -1;
		*v = r;
		*cap = c;
	}
	(*v)[(*n)++] = (struct jm_range){start, end};
	return 0;
}

static int in_dead(const struct single_pool *sp, uint64_t a)
{
	for (size_t i = 0; i < sp->ndead; i++)
		if (a >= sp->dead[i].start && a < sp->dead[i].end)
			return 1;
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
	int rc;
	if (sp->llvm == 15) {
		/* Mapper->reserve(TotalSize): one reservation per graph */
		rc = jm_mapper_grow(b, &sp->m, &sp->pool, total, jm_page_size(),
				    " bytes", &start);
	} else {
		rc = jm_mapper_take(b, &sp->m, &sp->pool, total, sp->granularity,
				    " bytes", &start);
		if (rc == 0 && in_dead(sp, start)) {
			jm_mapper_give_back(&sp->m, &sp->pool, start, total);
			rc = jm_backend_error(b, NULL, EFAULT,
				"the free range at 0x%llx was unmapped by an earlier "
				"abandon (LLVM %u's InProcessMemoryMapper::release "
				"munmaps a whole reservation; the real manager writes "
				"into unmapped memory here)",
				(unsigned long long)start, sp->llvm);
		}
	}
	pthread_mutex_unlock(&sp->m.lock);
	if (rc < 0)
		return -1;
	jm_alloc_init(out, req);
	jm_mapper_layout(out, start);
	out->priv_u[P_START] = start;
	out->priv_u[P_SIZE] = total;
	return 0;
}

static int sp_finalize(struct jm_backend *b, struct jm_alloc *a)
{
	struct single_pool *sp = b->priv;
	if (jm_mapper_finalize(b, a) < 0)
		return -1;
	if (!release_era(sp))
		return 0;
	pthread_mutex_lock(&sp->m.lock);
	int rc = range_push(&sp->inits, &sp->ninits, &sp->capinits,
			    a->priv_u[P_START], a->priv_u[P_START] + a->priv_u[P_SIZE]);
	pthread_mutex_unlock(&sp->m.lock);
	return rc < 0 ? jm_backend_error(b, NULL, ENOMEM, "realloc") : 0;
}

/* Forget an initialized allocation; 0 if release already deinitialized
 * it (InProcessMemoryMapper erased its entry). */
static int forget_init(struct single_pool *sp, uint64_t start)
{
	for (size_t i = sp->ninits; i-- > 0;)
		if (sp->inits[i].start == start) {
			for (size_t j = i + 1; j < sp->ninits; j++)
				sp->inits[j - 1] = sp->inits[j];
			sp->ninits--;
			return 1;
		}
	return 0;
}

/* LLVM 16-19 abandon: InProcessMemoryMapper::release({AllocAddr}). */
static int release_at(struct jm_backend *b, struct single_pool *sp,
		      uint64_t start, uint64_t size)
{
	pthread_mutex_lock(&sp->m.lock);
	jm_mapper_abandon(&sp->m, size);
	if (!jm_mapper_is_base(&sp->m, start)) {
		pthread_mutex_unlock(&sp->m.lock);
		return 0; /* Reservations[AllocAddr] is empty: nothing */
	}
	uint64_t end = start;
	for (size_t i = 0; i < sp->m.nres; i++)
		if (sp->m.res[i].start == start)
			end = sp->m.res[i].end;
	/* deinitialize(Reservation.Allocations): newest first */
	int rc = 0;
	for (size_t i = sp->ninits; i-- > 0 && rc == 0;) {
		struct jm_range r = sp->inits[i];
		if (r.start < start || r.start >= end)
			continue;
		rc = jm_mapper_reset(b, r.start, r.end - r.start, 1);
		forget_init(sp, r.start);
	}
	if (rc == 0)
		rc = jm_mapper_unreserve(b, &sp->m, start);
	if (rc == 0 && range_push(&sp->dead, &sp->ndead, &sp->capdead, start, end) < 0)
		rc = jm_backend_error(b, NULL, ENOMEM, "realloc");
	pthread_mutex_unlock(&sp->m.lock);
	return rc;
}

static int sp_deallocate(struct jm_backend *b, struct jm_alloc *a)
{
	struct single_pool *sp = b->priv;
	uint64_t start = a->priv_u[P_START], size = a->priv_u[P_SIZE];
	int finalized = a->priv_u[JM_MAPPER_P_STATE] != 0;
	if (sp->llvm == 15) {
		/* deallocate and abandon alike: Mapper::release, a munmap */
		pthread_mutex_lock(&sp->m.lock);
		int rc = jm_mapper_unreserve(b, &sp->m, start);
		if (rc == 0)
			sp->m.live -= size;
		pthread_mutex_unlock(&sp->m.lock);
		return rc;
	}
	if (!finalized) {
		if (release_era(sp))
			return release_at(b, sp, start, size);
		pthread_mutex_lock(&sp->m.lock);
		jm_mapper_abandon(&sp->m, size);
		pthread_mutex_unlock(&sp->m.lock);
		return 0;
	}
	int reset = 1;
	if (release_era(sp)) {
		pthread_mutex_lock(&sp->m.lock);
		reset = forget_init(sp, start);
		pthread_mutex_unlock(&sp->m.lock);
	}
	if (reset && jm_mapper_reset(b, start, size, jm_mapper_has_exec(a)) < 0)
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
	out->nextra = 2;
	out->extra[0].name = "free_ranges";
	out->extra[0].value = sp->pool.free.n;
	out->extra[1].name = "abandoned_bytes";
	out->extra[1].value = sp->m.abandoned;
	pthread_mutex_unlock(&sp->m.lock);
}

static void sp_destroy(struct jm_backend *b)
{
	struct single_pool *sp = b->priv;
	if (!sp)
		return;
	(void)jm_mapper_release(b, &sp->m); /* recorded on b */
	jm_mapper_pool_release(&sp->pool);
	free(sp->inits);
	free(sp->dead);
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
		{"llvm", JM_OPT_UINT, "22", NULL,
		 "LLVM release whose behaviour to model: 15 (a reservation per "
		 "graph), 16-19 (abandon = Mapper::release), 22 (abandon = "
		 "Mapper::deinitialize)", 15, 22},
		{0},
	},
	.create = sp_create,
	.allocate = sp_allocate,
	.finalize = sp_finalize,
	.deallocate = sp_deallocate,
	.trim = jm_backend_trim_none, /* reservations live until release */
	.stats = sp_stats,
	.destroy = sp_destroy,
};
