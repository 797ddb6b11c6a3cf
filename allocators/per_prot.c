/* per-prot: MapperJITLinkMemoryManager with one pool per MemProt, the
 * patch of llvm#63236 as carried by Julia PR 61418
 * (/work/shared/reference/allocators.md section 3).
 *
 * Three pools (R--, RW-, R-X), each an address-ordered first-fit,
 * coalescing free set (mapper_pool.h, LLVM's IntervalMap) that grows by
 * reservations of `granularity` bytes (default 16 MiB, Julia's), each one
 * mmap(RW, PRIVATE|ANON) exactly as single-pool's. Same-protection
 * segments of different graphs are neighbours, so finalized memory of one
 * class merges into one VMA per reservation: VMAs grow with reservations x
 * classes, not with graphs.
 *
 * allocate:   per segment (AllocGroup order) first fit of its page-aligned
 *             size in its class's pool; if none fits, reserve
 *             alignTo(size, granularity) for that class and take from it.
 * finalize:   per segment: memset the zero-fill tail, one mprotect to the
 *             segment's protection (S mprotects, as single-pool).
 * deallocate: per segment one mprotect(RW) over that segment only (the
 *             patch tracks per-segment ranges so deinitialize resets only
 *             the allocation's own segments, never the gaps between them,
 *             which now belong to other graphs), then the segment goes back
 *             to its pool. No madvise, no munmap: RSS retained.
 * destroy:    munmap of every reservation.
 *
 * Choices where the patch text is not available (spec: "patch text not in
 * the index"), documented in docs/backends/per-prot.md:
 *  - pools are keyed by MemProt only: the finalize-lifetime segment of a
 *    class shares the class's pool (lifetime does not change protection);
 *  - a reservation is sized for the one segment that needed it,
 *    alignTo(page-aligned segment size, granularity), like single-pool's
 *    alignTo(T, granularity) for the whole graph;
 *  - free ranges of one pool coalesce across that pool's reservations when
 *    they touch (IntervalMap behaviour), never across pools;
 *  - abandon (free before finalize) is MapperJITLinkMemoryManager's of
 *    LLVM 22 (jm_mapper_abandon): no syscall, and the segments never
 *    return to their pools (stat abandoned_bytes). */
#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "backend.h"
#include "mapper_pool.h"
#include "os.h"

struct per_prot {
	struct jm_mapper m;
	uint64_t granularity;
	struct jm_mapper_pool pool[JM_NCLASS];
};

static int pp_create(struct jm_backend *b)
{
	uint64_t granularity;
	if (jm_mapper_unit(b, "granularity", &granularity) < 0)
		return -1;
	struct per_prot *pp = calloc(1, sizeof(*pp));
	if (!pp)
		return jm_backend_error(b, NULL, ENOMEM, "calloc");
	jm_mapper_init(&pp->m);
	pp->granularity = granularity;
	for (int c = 0; c < JM_NCLASS; c++)
		jm_mapper_pool_init(&pp->pool[c]);
	b->priv = pp;
	return 0;
}

static uint64_t seg_span(const struct jm_segment_alloc *s)
{
	return jm_align_up(s->size, jm_page_size());
}

/* Give back the first n segments of a (allocation failed half-way). */
static void give_back(struct per_prot *pp, struct jm_alloc *a, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		jm_mapper_give_back(&pp->m, &pp->pool[a->seg[i].cls],
				    (uint64_t)(uintptr_t)a->seg[i].exec,
				    seg_span(&a->seg[i]));
}

static int pp_allocate(struct jm_backend *b, const struct jm_graph_req *req,
		       struct jm_alloc *out)
{
	/* completes "reserving <n>" when a class's reservation fails */
	static const char *const what[JM_NCLASS] = {
		[JM_RO] = " bytes for the ro pool", [JM_RW] = " bytes for the rw pool",
		[JM_RX] = " bytes for the rx pool",
	};
	struct per_prot *pp = b->priv;
	const uint64_t ps = jm_page_size();
	for (uint32_t i = 0; i < req->nseg; i++)
		if (req->seg[i].align > ps)
			return jm_backend_error(b, NULL, EINVAL,
				"segment alignment %u exceeds page size",
				req->seg[i].align);
	if (!req->nseg)
		return jm_backend_error(b, NULL, EINVAL, "empty graph");
	jm_alloc_init(out, req);
	pthread_mutex_lock(&pp->m.lock);
	for (uint32_t i = 0; i < out->nseg; i++) {
		struct jm_segment_alloc *s = &out->seg[i];
		uint64_t start;
		if (jm_mapper_take(b, &pp->m, &pp->pool[s->cls], seg_span(s),
				   pp->granularity, what[s->cls], &start) < 0) {
			give_back(pp, out, i);
			pthread_mutex_unlock(&pp->m.lock);
			return -1;
		}
		s->write = s->exec = (void *)(uintptr_t)start;
	}
	pthread_mutex_unlock(&pp->m.lock);
	return 0;
}

static int pp_deallocate(struct jm_backend *b, struct jm_alloc *a)
{
	struct per_prot *pp = b->priv;
	if (!a->priv_u[JM_MAPPER_P_STATE]) { /* abandoned before finalize */
		pthread_mutex_lock(&pp->m.lock);
		for (uint32_t i = 0; i < a->nseg; i++)
			jm_mapper_abandon(&pp->m, seg_span(&a->seg[i]));
		pthread_mutex_unlock(&pp->m.lock);
		return 0;
	}
	/* reset each own segment: the pages between them are other graphs' */
	for (uint32_t i = 0; i < a->nseg; i++)
		if (jm_os_llvm_protect(a->seg[i].exec, seg_span(&a->seg[i]),
				       PROT_READ | PROT_WRITE, a->seg[i].cls == JM_RX) < 0)
			return jm_backend_error(b, "mprotect", errno,
				"resetting segment %u", i);
	pthread_mutex_lock(&pp->m.lock);
	int rc = 0;
	for (uint32_t i = 0; i < a->nseg; i++)
		if (jm_mapper_give_back(&pp->m, &pp->pool[a->seg[i].cls],
					(uint64_t)(uintptr_t)a->seg[i].exec,
					seg_span(&a->seg[i])) < 0)
			rc = -1;
	pthread_mutex_unlock(&pp->m.lock);
	if (rc < 0)
		return jm_backend_error(b, NULL, EINVAL, "double free");
	return 0;
}

static void pp_stats(struct jm_backend *b, struct jm_backend_stats *out)
{
	struct per_prot *pp = b->priv;
	static const char *const res_names[JM_NCLASS] = {
		[JM_RO] = "reservations_ro", [JM_RW] = "reservations_rw",
		[JM_RX] = "reservations_rx",
	};
	static const char *const free_names[JM_NCLASS] = {
		[JM_RO] = "free_ranges_ro", [JM_RW] = "free_ranges_rw",
		[JM_RX] = "free_ranges_rx",
	};
	pthread_mutex_lock(&pp->m.lock);
	jm_mapper_stats(&pp->m, out);
	out->nextra = 0;
	out->extra[out->nextra].name = "abandoned_bytes";
	out->extra[out->nextra++].value = pp->m.abandoned;
	for (int c = 0; c < JM_NCLASS; c++) {
		out->extra[out->nextra].name = res_names[c];
		out->extra[out->nextra++].value = pp->pool[c].reservations;
		out->extra[out->nextra].name = free_names[c];
		out->extra[out->nextra++].value = pp->pool[c].free.n;
	}
	pthread_mutex_unlock(&pp->m.lock);
}

static void pp_destroy(struct jm_backend *b)
{
	struct per_prot *pp = b->priv;
	if (!pp)
		return;
	(void)jm_mapper_release(b, &pp->m); /* recorded on b */
	for (int c = 0; c < JM_NCLASS; c++)
		jm_mapper_pool_release(&pp->pool[c]);
	free(pp);
}

const struct jm_backend_ops jm_backend_per_prot = {
	.name = "per-prot",
	.description = "MapperJITLinkMemoryManager with one first-fit pool per "
		       "protection (Julia PR 61418): same-permission segments "
		       "adjacent, mprotect per segment",
	.models = "julia#61418 / llvm#63236 per-MemProt pools over "
		  "Orc/MapperJITLinkMemoryManager.cpp + InProcessMemoryMapper",
	.caps = JM_CAP_FREES | JM_CAP_THREAD_SAFE,
	.options = (const struct jm_option_def[]){
		{"granularity", JM_OPT_SIZE, "16M", NULL,
		 "reservation unit of each protection pool (Julia 16M)",
		 4096, 1ull << 40},
		{0},
	},
	.create = pp_create,
	.allocate = pp_allocate,
	.finalize = jm_mapper_finalize,
	.deallocate = pp_deallocate,
	.trim = jm_backend_trim_none, /* reservations live until release */
	.stats = pp_stats,
	.destroy = pp_destroy,
};
