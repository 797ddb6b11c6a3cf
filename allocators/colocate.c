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
 * destroy:    munmap of every reservation.
 * Reach failures are counted with allocators/reach.h. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "backend.h"
#include "freeset.h"
#include "os.h"
#include "reach.h"

struct pool { /* one JITDylib's */
	struct jm_freeset free;
	uint32_t nres;
};

struct colocate {
	pthread_mutex_t lock;
	uint64_t slab;
	int single;
	struct pool *pools;
	uint32_t npools;
	struct jm_range *res; /* every reservation, for destroy */
	size_t nres, capres;
	uint64_t reserved, reserved_peak, live, growth_failures;
	struct jm_reach reach;
};

enum { P_START, P_SIZE, P_DYLIB };

static int co_create(struct jm_backend *b)
{
	struct colocate *co = calloc(1, sizeof(*co));
	if (!co)
		return jm_backend_error(b, NULL, ENOMEM, "calloc");
	pthread_mutex_init(&co->lock, NULL);
	co->slab = jm_opt_u64(&b->opts, "slab_size");
	co->single = !strcmp(jm_opt_str(&b->opts, "growth"), "single");
	if (co->slab % jm_page_size()) {
		free(co);
		return jm_backend_error(b, NULL, EINVAL,
			"slab_size must be a multiple of the page size");
	}
	jm_reach_init(&co->reach);
	b->priv = co;
	return 0;
}

static struct pool *pool_of(struct colocate *co, uint32_t dylib)
{
	if (dylib >= co->npools) {
		uint32_t n = co->npools ? co->npools : 8;
		while (n <= dylib)
			n *= 2;
		struct pool *p = realloc(co->pools, (size_t)n * sizeof(*p));
		if (!p)
			return NULL;
		for (uint32_t i = co->npools; i < n; i++) {
			jm_freeset_init(&p[i].free);
			p[i].nres = 0;
		}
		co->pools = p;
		co->npools = n;
	}
	return &co->pools[dylib];
}

static int reserve(struct jm_backend *b, struct colocate *co, struct pool *pl,
		   uint64_t len)
{
	if (co->nres == co->capres) {
		size_t cap = co->capres ? co->capres * 2 : 8;
		struct jm_range *r = realloc(co->res, cap * sizeof(*r));
		if (!r)
			return jm_backend_error(b, NULL, ENOMEM, "realloc");
		co->res = r;
		co->capres = cap;
	}
	void *p = jm_os_mmap(NULL, len, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return jm_backend_error(b, "mmap", errno,
			"reserving %lu-byte slab", (unsigned long)len);
	uint64_t a = (uint64_t)(uintptr_t)p;
	if (jm_freeset_insert(&pl->free, a, a + len) < 0) {
		jm_os_munmap(p, len);
		return jm_backend_error(b, NULL, ENOMEM, "free ranges");
	}
	co->res[co->nres++] = (struct jm_range){a, a + len};
	pl->nres++;
	co->reserved += len;
	if (co->reserved > co->reserved_peak)
		co->reserved_peak = co->reserved;
	return 0;
}

static int co_allocate(struct jm_backend *b, const struct jm_graph_req *req,
		       struct jm_alloc *out)
{
	struct colocate *co = b->priv;
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
	pthread_mutex_lock(&co->lock);
	struct pool *pl = pool_of(co, req->dylib);
	if (!pl) {
		pthread_mutex_unlock(&co->lock);
		return jm_backend_error(b, NULL, ENOMEM, "pool table");
	}
	if (jm_freeset_first_fit(&pl->free, total, &start) < 0) {
		if (co->single && pl->nres) {
			char sz[32];
			jm_format_size(co->slab, sz, sizeof(sz));
			co->growth_failures++;
			pthread_mutex_unlock(&co->lock);
			return jm_backend_error(b, NULL, ENOMEM,
				"JITDylib %u: its %s slab is full (graph %llu needs "
				"%llu bytes; growth=single allows one slab per JITDylib)",
				req->dylib, sz, (unsigned long long)req->id,
				(unsigned long long)total);
		}
		if (reserve(b, co, pl, jm_align_up(total, co->slab)) < 0 ||
		    jm_freeset_first_fit(&pl->free, total, &start) < 0) {
			pthread_mutex_unlock(&co->lock);
			return -1;
		}
	}
	co->live += total;
	jm_alloc_init(out, req);
	uint64_t next = start;
	for (uint32_t i = 0; i < out->nseg; i++) {
		out->seg[i].write = out->seg[i].exec = (void *)(uintptr_t)next;
		next += jm_align_up(out->seg[i].size, ps);
	}
	int rf = jm_reach_note(&co->reach, req->dylib, out);
	pthread_mutex_unlock(&co->lock);
	out->priv_u[P_START] = start;
	out->priv_u[P_SIZE] = total;
	out->priv_u[P_DYLIB] = req->dylib;
	if (rf < 0) {
		pthread_mutex_lock(&co->lock);
		jm_freeset_insert(&pl->free, start, start + total);
		co->live -= total;
		pthread_mutex_unlock(&co->lock);
		return jm_backend_error(b, NULL, ENOMEM, "reach table");
	}
	return 0;
}

static int co_finalize(struct jm_backend *b, struct jm_alloc *a)
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

static int co_deallocate(struct jm_backend *b, struct jm_alloc *a)
{
	struct colocate *co = b->priv;
	uint64_t start = a->priv_u[P_START], size = a->priv_u[P_SIZE];
	if (jm_os_mprotect((void *)(uintptr_t)start, size,
			   PROT_READ | PROT_WRITE) < 0)
		return jm_backend_error(b, "mprotect", errno,
					"resetting protections");
	pthread_mutex_lock(&co->lock);
	int rc = jm_freeset_insert(&co->pools[a->priv_u[P_DYLIB]].free,
				   start, start + size);
	co->live -= size;
	pthread_mutex_unlock(&co->lock);
	if (rc < 0)
		return jm_backend_error(b, NULL, EINVAL, "double free");
	return 0;
}

static int co_trim(struct jm_backend *b, struct jm_trim_result *out)
{
	(void)b;
	memset(out, 0, sizeof(*out)); /* reservations live until release */
	return 0;
}

static void co_stats(struct jm_backend *b, struct jm_backend_stats *out)
{
	struct colocate *co = b->priv;
	pthread_mutex_lock(&co->lock);
	out->va_reserved = out->bytes_mapped = co->reserved;
	out->va_reserved_peak = out->bytes_mapped_peak = co->reserved_peak;
	out->bytes_live = co->live;
	out->reservations = co->nres;
	out->reach_failures = co->reach.failures;
	out->nextra = 3;
	out->extra[0].name = "dylibs";
	out->extra[0].value = co->reach.dylibs_seen;
	out->extra[1].name = "growth_failures";
	out->extra[1].value = co->growth_failures;
	out->extra[2].name = "reach_tracked";
	out->extra[2].value = 1;
	pthread_mutex_unlock(&co->lock);
}

static void co_destroy(struct jm_backend *b)
{
	struct colocate *co = b->priv;
	if (!co)
		return;
	for (size_t i = 0; i < co->nres; i++)
		jm_os_munmap((void *)(uintptr_t)co->res[i].start,
			     co->res[i].end - co->res[i].start);
	for (uint32_t i = 0; i < co->npools; i++)
		jm_freeset_release(&co->pools[i].free);
	free(co->pools);
	free(co->res);
	jm_reach_release(&co->reach);
	pthread_mutex_destroy(&co->lock);
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
	.finalize = co_finalize,
	.deallocate = co_deallocate,
	.trim = co_trim,
	.stats = co_stats,
	.destroy = co_destroy,
};
