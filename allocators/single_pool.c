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
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "backend.h"
#include "freeset.h"
#include "os.h"

struct single_pool {
	pthread_mutex_t lock;
	uint64_t granularity;
	struct jm_freeset free;
	struct jm_range *res; /* reservations */
	size_t nres, capres;
	uint64_t reserved, reserved_peak, live;
};

enum { P_START, P_SIZE };

static int sp_create(struct jm_backend *b)
{
	struct single_pool *sp = calloc(1, sizeof(*sp));
	if (!sp)
		return jm_backend_error(b, NULL, ENOMEM, "calloc");
	pthread_mutex_init(&sp->lock, NULL);
	sp->granularity = jm_opt_u64(&b->opts, "granularity");
	if (sp->granularity % jm_page_size()) {
		free(sp);
		return jm_backend_error(b, NULL, EINVAL,
			"granularity must be a multiple of the page size");
	}
	jm_freeset_init(&sp->free);
	b->priv = sp;
	return 0;
}

static int reserve(struct jm_backend *b, struct single_pool *sp, uint64_t len)
{
	void *p = jm_os_mmap(NULL, len, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return jm_backend_error(b, "mmap", errno,
			"reserving %lu bytes", (unsigned long)len);
	if (sp->nres == sp->capres) {
		size_t cap = sp->capres ? sp->capres * 2 : 8;
		struct jm_range *r = realloc(sp->res, cap * sizeof(*r));
		if (!r) {
			jm_os_munmap(p, len);
			return jm_backend_error(b, NULL, ENOMEM, "realloc");
		}
		sp->res = r;
		sp->capres = cap;
	}
	uint64_t a = (uint64_t)(uintptr_t)p;
	sp->res[sp->nres++] = (struct jm_range){a, a + len};
	sp->reserved += len;
	if (sp->reserved > sp->reserved_peak)
		sp->reserved_peak = sp->reserved;
	jm_freeset_insert(&sp->free, a, a + len);
	return 0;
}

static int sp_allocate(struct jm_backend *b, const struct jm_graph_req *req,
		       struct jm_alloc *out)
{
	struct single_pool *sp = b->priv;
	const uint64_t ps = jm_page_size();
	uint64_t total = 0;
	for (uint32_t i = 0; i < req->nseg; i++) {
		if (req->seg[i].align > ps)
			return jm_backend_error(b, NULL, EINVAL,
				"segment alignment %u exceeds page size",
				req->seg[i].align);
		total += jm_align_up(req->seg[i].content + req->seg[i].zero_fill, ps);
	}
	if (!total)
		return jm_backend_error(b, NULL, EINVAL, "empty graph");
	uint64_t start;
	pthread_mutex_lock(&sp->lock);
	if (jm_freeset_first_fit(&sp->free, total, &start) < 0) {
		if (reserve(b, sp, jm_align_up(total, sp->granularity)) < 0 ||
		    jm_freeset_first_fit(&sp->free, total, &start) < 0) {
			pthread_mutex_unlock(&sp->lock);
			return -1;
		}
	}
	sp->live += total;
	pthread_mutex_unlock(&sp->lock);

	jm_alloc_init(out, req);
	uint64_t next = start;
	for (uint32_t i = 0; i < out->nseg; i++) {
		out->seg[i].write = out->seg[i].exec = (void *)(uintptr_t)next;
		next += jm_align_up(out->seg[i].size, ps);
	}
	out->priv_u[P_START] = start;
	out->priv_u[P_SIZE] = total;
	return 0;
}

static int sp_finalize(struct jm_backend *b, struct jm_alloc *a)
{
	for (uint32_t i = 0; i < a->nseg; i++) {
		struct jm_segment_alloc *s = &a->seg[i];
		memset((char *)s->write + s->content, 0, s->size - s->content);
		if (jm_os_mprotect(s->exec, jm_align_up(s->size, jm_page_size()),
				   jm_class_prot(s->cls)) < 0)
			return jm_backend_error(b, "mprotect", errno,
						"protecting segment %u", i);
	}
	return 0;
}

static int sp_deallocate(struct jm_backend *b, struct jm_alloc *a)
{
	struct single_pool *sp = b->priv;
	uint64_t start = a->priv_u[P_START], size = a->priv_u[P_SIZE];
	if (jm_os_mprotect((void *)(uintptr_t)start, size,
			   PROT_READ | PROT_WRITE) < 0)
		return jm_backend_error(b, "mprotect", errno,
					"resetting protections");
	pthread_mutex_lock(&sp->lock);
	int rc = jm_freeset_insert(&sp->free, start, start + size);
	sp->live -= size;
	pthread_mutex_unlock(&sp->lock);
	if (rc < 0)
		return jm_backend_error(b, NULL, EINVAL, "double free");
	return 0;
}

static int sp_trim(struct jm_backend *b, struct jm_trim_result *out)
{
	(void)b;
	memset(out, 0, sizeof(*out)); /* reservations live until release */
	return 0;
}

static void sp_stats(struct jm_backend *b, struct jm_backend_stats *out)
{
	struct single_pool *sp = b->priv;
	pthread_mutex_lock(&sp->lock);
	out->va_reserved = out->bytes_mapped = sp->reserved;
	out->va_reserved_peak = out->bytes_mapped_peak = sp->reserved_peak;
	out->bytes_live = sp->live;
	out->reservations = sp->nres;
	out->nextra = 1;
	out->extra[0].name = "free_ranges";
	out->extra[0].value = sp->free.n;
	pthread_mutex_unlock(&sp->lock);
}

static void sp_destroy(struct jm_backend *b)
{
	struct single_pool *sp = b->priv;
	if (!sp)
		return;
	for (size_t i = 0; i < sp->nres; i++)
		jm_os_munmap((void *)(uintptr_t)sp->res[i].start,
			     sp->res[i].end - sp->res[i].start);
	jm_freeset_release(&sp->free);
	free(sp->res);
	pthread_mutex_destroy(&sp->lock);
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
	.finalize = sp_finalize,
	.deallocate = sp_deallocate,
	.trim = sp_trim,
	.stats = sp_stats,
	.destroy = sp_destroy,
};
