/* per-prot: MapperJITLinkMemoryManager with one pool per MemProt, the
 * patch of llvm#63236 as carried by Julia PR 61418
 * (/work/shared/reference/allocators.md section 3).
 *
 * Three pools (R--, RW-, R-X), each an address-ordered first-fit,
 * coalescing free set (freeset.h, LLVM's IntervalMap) that grows by
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
 *    they touch (IntervalMap behaviour), never across pools. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "backend.h"
#include "freeset.h"
#include "os.h"

struct pool {
	struct jm_freeset free;
	uint64_t reservations;
	uint64_t reserved;
};

struct per_prot {
	pthread_mutex_t lock;
	uint64_t granularity;
	struct pool pool[JM_NCLASS];
	struct jm_range *res; /* every reservation, for destroy */
	size_t nres, capres;
	uint64_t reserved, reserved_peak, live;
};

static int pp_create(struct jm_backend *b)
{
	struct per_prot *pp = calloc(1, sizeof(*pp));
	if (!pp)
		return jm_backend_error(b, NULL, ENOMEM, "calloc");
	pthread_mutex_init(&pp->lock, NULL);
	pp->granularity = jm_opt_u64(&b->opts, "granularity");
	if (pp->granularity % jm_page_size()) {
		pthread_mutex_destroy(&pp->lock);
		free(pp);
		return jm_backend_error(b, NULL, EINVAL,
			"granularity must be a multiple of the page size");
	}
	for (int c = 0; c < JM_NCLASS; c++)
		jm_freeset_init(&pp->pool[c].free);
	b->priv = pp;
	return 0;
}

/* One RW reservation of len bytes for class cls's pool. */
static int reserve(struct jm_backend *b, struct per_prot *pp,
		   enum jm_prot_class cls, uint64_t len)
{
	if (pp->nres == pp->capres) {
		size_t cap = pp->capres ? pp->capres * 2 : 8;
		struct jm_range *r = realloc(pp->res, cap * sizeof(*r));
		if (!r)
			return jm_backend_error(b, NULL, ENOMEM, "realloc");
		pp->res = r;
		pp->capres = cap;
	}
	void *p = jm_os_mmap(NULL, len, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return jm_backend_error(b, "mmap", errno,
			"reserving %lu bytes for the %s pool",
			(unsigned long)len, jm_class_name(cls));
	uint64_t a = (uint64_t)(uintptr_t)p;
	pp->res[pp->nres++] = (struct jm_range){a, a + len};
	pp->reserved += len;
	if (pp->reserved > pp->reserved_peak)
		pp->reserved_peak = pp->reserved;
	pp->pool[cls].reservations++;
	pp->pool[cls].reserved += len;
	jm_freeset_insert(&pp->pool[cls].free, a, a + len);
	return 0;
}

static uint64_t seg_span(const struct jm_segment_alloc *s)
{
	return jm_align_up(s->size, jm_page_size());
}

/* Give back the first n segments of a (allocation failed half-way). */
static void give_back(struct per_prot *pp, struct jm_alloc *a, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		uint64_t s = (uint64_t)(uintptr_t)a->seg[i].exec;
		jm_freeset_insert(&pp->pool[a->seg[i].cls].free, s,
				  s + seg_span(&a->seg[i]));
		pp->live -= seg_span(&a->seg[i]);
	}
}

static int pp_allocate(struct jm_backend *b, const struct jm_graph_req *req,
		       struct jm_alloc *out)
{
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
	pthread_mutex_lock(&pp->lock);
	for (uint32_t i = 0; i < out->nseg; i++) {
		struct jm_segment_alloc *s = &out->seg[i];
		struct pool *pl = &pp->pool[s->cls];
		uint64_t len = seg_span(s), start;
		if (jm_freeset_first_fit(&pl->free, len, &start) < 0) {
			if (reserve(b, pp, s->cls,
				    jm_align_up(len, pp->granularity)) < 0 ||
			    jm_freeset_first_fit(&pl->free, len, &start) < 0) {
				give_back(pp, out, i);
				pthread_mutex_unlock(&pp->lock);
				return -1;
			}
		}
		s->write = s->exec = (void *)(uintptr_t)start;
		pp->live += len;
	}
	pthread_mutex_unlock(&pp->lock);
	return 0;
}

static int pp_finalize(struct jm_backend *b, struct jm_alloc *a)
{
	for (uint32_t i = 0; i < a->nseg; i++) {
		struct jm_segment_alloc *s = &a->seg[i];
		memset((char *)s->write + s->content, 0, s->size - s->content);
		if (jm_os_mprotect(s->exec, seg_span(s), jm_class_prot(s->cls)) < 0)
			return jm_backend_error(b, "mprotect", errno,
						"protecting segment %u", i);
	}
	return 0;
}

static int pp_deallocate(struct jm_backend *b, struct jm_alloc *a)
{
	struct per_prot *pp = b->priv;
	/* reset each own segment: the pages between them are other graphs' */
	for (uint32_t i = 0; i < a->nseg; i++)
		if (jm_os_mprotect(a->seg[i].exec, seg_span(&a->seg[i]),
				   PROT_READ | PROT_WRITE) < 0)
			return jm_backend_error(b, "mprotect", errno,
				"resetting segment %u", i);
	pthread_mutex_lock(&pp->lock);
	int rc = 0;
	for (uint32_t i = 0; i < a->nseg; i++) {
		uint64_t s = (uint64_t)(uintptr_t)a->seg[i].exec;
		if (jm_freeset_insert(&pp->pool[a->seg[i].cls].free, s,
				      s + seg_span(&a->seg[i])) < 0)
			rc = -1;
		pp->live -= seg_span(&a->seg[i]);
	}
	pthread_mutex_unlock(&pp->lock);
	if (rc < 0)
		return jm_backend_error(b, NULL, EINVAL, "double free");
	return 0;
}

static int pp_trim(struct jm_backend *b, struct jm_trim_result *out)
{
	(void)b;
	memset(out, 0, sizeof(*out)); /* reservations live until release */
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
	pthread_mutex_lock(&pp->lock);
	out->va_reserved = out->bytes_mapped = pp->reserved;
	out->va_reserved_peak = out->bytes_mapped_peak = pp->reserved_peak;
	out->bytes_live = pp->live;
	out->reservations = pp->nres;
	out->nextra = 0;
	for (int c = 0; c < JM_NCLASS; c++) {
		out->extra[out->nextra].name = res_names[c];
		out->extra[out->nextra++].value = pp->pool[c].reservations;
		out->extra[out->nextra].name = free_names[c];
		out->extra[out->nextra++].value = pp->pool[c].free.n;
	}
	pthread_mutex_unlock(&pp->lock);
}

static void pp_destroy(struct jm_backend *b)
{
	struct per_prot *pp = b->priv;
	if (!pp)
		return;
	for (size_t i = 0; i < pp->nres; i++)
		jm_os_munmap((void *)(uintptr_t)pp->res[i].start,
			     pp->res[i].end - pp->res[i].start);
	for (int c = 0; c < JM_NCLASS; c++)
		jm_freeset_release(&pp->pool[c].free);
	free(pp->res);
	pthread_mutex_destroy(&pp->lock);
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
	.finalize = pp_finalize,
	.deallocate = pp_deallocate,
	.trim = pp_trim,
	.stats = pp_stats,
	.destroy = pp_destroy,
};
