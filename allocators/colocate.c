/* colocate: llvm#207970 "[ORC] Add opt-in per-JITDylib colocating slab
 * allocator" (open). Design and reach definition: docs/backends/colocate.md.
 *
 * MapperJITLinkMemoryManager over InProcessMemoryMapper (as single-pool),
 * but each JITDylib draws from its own reservation pool, so a JITDylib's
 * objects stay within direct-relocation reach (REL32: +-2 GiB) of each
 * other instead of going through GOT/stub indirection.
 *
 * allocate:   T = sum of page-aligned segments. First fit over the free
 *             ranges of the graph's JITDylib only (ranges of different
 *             dylibs never coalesce, even when their reservations touch).
 *             If none fits: growth=multiple reserves another
 *             alignTo(T, slab_size) with one mmap(RW) (allowMultipleSlabs,
 *             the PR's default); growth=single fails the allocation with a
 *             clear error once the dylib has its slab (allowSingleSlab).
 * finalize:   per segment: memset the zero-fill tail, mprotect.
 * deallocate: one mprotect(RW) over the allocation's span; back to the
 *             dylib's free ranges. No munmap: RSS is retained.
 * abandon:    (free before finalize) no syscall; the range never returns
 *             to the pool (jm_mapper_abandon, as the PR's abandon).
 * destroy:    munmap of every reservation.
 * Reach failures are counted with allocators/reach.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "mapper_pool.h"
#include "reach.h"

struct colocate {
	struct jm_mapper m;
	uint64_t slab;
	int single;
	struct jm_mapper_pool *pools; /* one per JITDylib */
	uint32_t npools;
	uint64_t growth_failures;
	struct jm_reach reach;
};

enum { P_START, P_SIZE, P_DYLIB };

static int co_create(struct jm_backend *b)
{
	uint64_t slab;
	if (jm_mapper_unit(b, "slab_size", &slab) < 0)
		return -1;
	struct colocate *co = calloc(1, sizeof(*co));
	if (!co)
		return jm_backend_error(b, NULL, ENOMEM, "calloc");
	jm_mapper_init(&co->m);
	co->slab = slab;
	co->single = !strcmp(jm_opt_str(&b->opts, "growth"), "single");
	jm_reach_init(&co->reach);
	b->priv = co;
	return 0;
}

static struct jm_mapper_pool *pool_of(struct colocate *co, uint32_t dylib)
{
	if (dylib >= co->npools) {
		uint32_t n = co->npools ? co->npools : 8;
		while (n <= dylib)
			n *= 2;
		struct jm_mapper_pool *p = realloc(co->pools, (size_t)n * sizeof(*p));
		if (!p)
			return NULL;
		for (uint32_t i = co->npools; i < n; i++)
			jm_mapper_pool_init(&p[i]);
		co->pools = p;
		co->npools = n;
	}
	return &co->pools[dylib];
}

static int co_allocate(struct jm_backend *b, const struct jm_graph_req *req,
		       struct jm_alloc *out)
{
	struct colocate *co = b->priv;
	uint64_t total, start;
	if (jm_mapper_graph_size(b, req, &total) < 0)
		return -1;
	pthread_mutex_lock(&co->m.lock);
	struct jm_mapper_pool *pl = pool_of(co, req->dylib);
	if (!pl) {
		pthread_mutex_unlock(&co->m.lock);
		return jm_backend_error(b, NULL, ENOMEM, "pool table");
	}
	if (jm_mapper_fit(&co->m, pl, total, &start) < 0) {
		if (co->single && pl->reservations) {
			char sz[32];
			jm_format_size(co->slab, sz, sizeof(sz));
			co->growth_failures++;
			pthread_mutex_unlock(&co->m.lock);
			return jm_backend_error(b, NULL, ENOMEM,
				"JITDylib %u: its %s slab is full (graph %llu needs "
				"%llu bytes; growth=single allows one slab per JITDylib)",
				req->dylib, sz, (unsigned long long)req->id,
				(unsigned long long)total);
		}
		if (jm_mapper_grow(b, &co->m, pl, total, co->slab, "-byte slab",
				   &start) < 0) {
			pthread_mutex_unlock(&co->m.lock);
			return -1;
		}
	}
	jm_alloc_init(out, req);
	jm_mapper_layout(out, start);
	int rf = jm_reach_note(&co->reach, req->dylib, out);
	pthread_mutex_unlock(&co->m.lock);
	out->priv_u[P_START] = start;
	out->priv_u[P_SIZE] = total;
	out->priv_u[P_DYLIB] = req->dylib;
	if (rf < 0) {
		pthread_mutex_lock(&co->m.lock); /* pools may have moved */
		jm_mapper_give_back(&co->m, &co->pools[req->dylib], start, total);
		pthread_mutex_unlock(&co->m.lock);
		return jm_backend_error(b, NULL, ENOMEM, "reach table");
	}
	return 0;
}

static int co_deallocate(struct jm_backend *b, struct jm_alloc *a)
{
	struct colocate *co = b->priv;
	uint64_t start = a->priv_u[P_START], size = a->priv_u[P_SIZE];
	if (!a->priv_u[JM_MAPPER_P_STATE]) {
		/* abandoned before finalize: the PR's InFlightAlloc::abandon is
		 * Mapper->deinitialize({AllocAddr}): no syscall, the range
		 * never returns to the dylib's pool */
		pthread_mutex_lock(&co->m.lock);
		jm_mapper_abandon(&co->m, size);
		pthread_mutex_unlock(&co->m.lock);
		return 0;
	}
	if (jm_mapper_reset(b, start, size, jm_mapper_has_exec(a)) < 0)
		return -1;
	pthread_mutex_lock(&co->m.lock);
	int rc = jm_mapper_give_back(&co->m, &co->pools[a->priv_u[P_DYLIB]],
				     start, size);
	pthread_mutex_unlock(&co->m.lock);
	if (rc < 0)
		return jm_backend_error(b, NULL, EINVAL, "double free");
	return 0;
}

static void co_stats(struct jm_backend *b, struct jm_backend_stats *out)
{
	struct colocate *co = b->priv;
	pthread_mutex_lock(&co->m.lock);
	jm_mapper_stats(&co->m, out);
	out->reach_failures = co->reach.failures;
	out->nextra = 4;
	out->extra[3].name = "abandoned_bytes";
	out->extra[3].value = co->m.abandoned;
	out->extra[0].name = "dylibs";
	out->extra[0].value = co->reach.dylibs_seen;
	out->extra[1].name = "growth_failures";
	out->extra[1].value = co->growth_failures;
	out->extra[2].name = "reach_tracked";
	out->extra[2].value = 1;
	pthread_mutex_unlock(&co->m.lock);
}

static void co_destroy(struct jm_backend *b)
{
	struct colocate *co = b->priv;
	if (!co)
		return;
	(void)jm_mapper_release(b, &co->m); /* recorded on b */
	for (uint32_t i = 0; i < co->npools; i++)
		jm_mapper_pool_release(&co->pools[i]);
	free(co->pools);
	jm_reach_release(&co->reach);
	free(co);
}

const struct jm_backend_ops jm_backend_colocate = {
	.name = "colocate",
	.description = "llvm#207970 (open): MapperJITLinkMemoryManager with one "
		       "reservation pool per JITDylib (direct-relocation reach)",
	.models = "llvm#207970 \"[ORC] Add opt-in per-JITDylib colocating slab "
		  "allocator\" (MapperJITLinkMemoryManager.cpp)",
	.caps = JM_CAP_FREES | JM_CAP_CODE_MODEL | JM_CAP_THREAD_SAFE,
	.options = (const struct jm_option_def[]){
		{"slab_size", JM_OPT_SIZE, "1G", NULL,
		 "per-JITDylib reservation (the PR's defaultSlabSize() on 64-bit)",
		 4096, 1ull << 40},
		{"growth", JM_OPT_ENUM, "multiple", "single|multiple",
		 "full slab: multiple reserves another (allowMultipleSlabs), "
		 "single fails the allocation (allowSingleSlab)", 0, 0},
		{0},
	},
	.create = co_create,
	.allocate = co_allocate,
	.finalize = jm_mapper_finalize,
	.deallocate = co_deallocate,
	.trim = jm_backend_trim_none, /* reservations live until release */
	.stats = co_stats,
	.destroy = co_destroy,
};
