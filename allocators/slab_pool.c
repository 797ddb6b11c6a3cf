/* slab-pool: tvm-ffi's SlabPoolMemoryManager (apache/tvm-ffi PR 574,
 * addons/tvm_ffi_orcjit/src/ffi/orcjit_slab.{h,cc} and
 * orcjit_memory_manager.{h,cc}).
 *
 * Slab:       one mmap(cap, PROT_NONE, PRIVATE|ANON|NORESERVE), then
 *             madvise(MADV_HUGEPAGE) over all of it (result ignored, as
 *             upstream). exec_limit = min(cap, reach) with
 *             reach = 2^31 - commit_granularity; midpoint =
 *             floor_gran(exec_limit * 2/3) (0 -> gran, >= exec_limit ->
 *             exec_limit - gran). Non-exec pool [0, midpoint), exec pool
 *             [midpoint, exec_limit); both bump upward.
 * allocate:   per pool (non-exec first, then exec) one region holding the
 *             standard segments then the finalize-lifetime segments, each
 *             page-aligned in AllocGroup order. A region comes from the
 *             pool's free list by best fit (smallest waste, lowest offset
 *             among equals, an exact fit stops the scan; taken from the
 *             block's low end: the block upstream's scan of its
 *             offset-sorted list picks, looked up here in freeset.c's
 *             index by (length, offset) in O(log n)), else from the bump
 *             cursor, else the slab is exhausted (retriable: the pool
 *             tries the next slab). Then:
 *             mprotect(chunk, RW) once for every commit chunk the region
 *             touches that was never committed, ALWAYS mprotect(region, RW)
 *             (resets a recycled region's old protections), memset(region,
 *             0). If the exec region fails, the non-exec one goes back to
 *             the free list (its syscalls stay done).
 * finalize:   mprotect per segment (page-rounded size) to its protection;
 *             finalize-lifetime parts of both regions go back to the free
 *             list (no syscall); live++, ever_used = 1.
 * deallocate: standard parts back to the free list (sorted insert,
 *             coalescing with both neighbours); live--. NO syscall: no
 *             mprotect, no madvise (upstream: the ORC runtime may still run
 *             freed code during teardown). Protections are reset lazily by
 *             the next allocate of the region.
 * pool:       slabs in creation order; first slab whose pools fit (a
 *             snapshot taken under the pool lock, which is dropped before
 *             allocating inside a slab); none -> a new slab of
 *             capacityForFootprint: double from slab_size until both pool
 *             budgets fit, stopping at reach. The first slab (at create) is
 *             retried at half the size on mmap failure down to
 *             min(slab_size, 8 MiB), and the size that worked becomes
 *             slab_size.
 * trim:       clear_free_slabs: munmap every slab that was used (ever
 *             finalized an allocation) and has no live allocation; a fresh
 *             slab is kept. The slab list is partitioned with the same
 *             algorithm as libstdc++'s std::partition (not stable), so the
 *             order of the kept slabs matches upstream.
 * destroy:    munmap of every slab.
 *
 * Inferred or adapted (also in docs/backends/slab-pool.md):
 * - commit_granularity is an option (upstream: the constant
 *   kCommitGranularity = 2 MiB); it also sets reach and midpoint alignment,
 *   as the constant does upstream.
 * - thp=off leaves out the madvise (upstream always calls it).
 * - .nv_fatbin overflow sections: a graph whose request carries a section
 *   hint named .nv_fatbin* (jm_section_hint; trace section=NAME:CLASS=SIZE)
 *   has those bytes taken out of its segment and placed by
 *   fatbin_allocate below. Upstream also keeps a candidate in the slab
 *   when a PC-relative edge targets it (classifyOverflowSections); the
 *   model has no edges, so a hinted section always overflows.
 * - Finalize-lifetime segments are returned to the free list at finalize,
 *   so the harness sees their addresses as released (write/exec = NULL).
 * - Counters (live, ever_used, commit flags) are atomics as upstream; the
 *   free lists and bump cursors are under a per-slab mutex, the slab list
 *   under the pool mutex. Upstream's lock-free chunk commit is kept as is,
 *   including its race (JM_CAP_EXEC_RACE): a thread that saw a chunk
 *   uncommitted may mprotect(RW) the whole chunk after another thread
 *   finalized a segment in it.
 * - clear_free_slabs is safe while other threads allocate, finalize and
 *   free (upstream leaves that to the caller: "only safe when the session
 *   is quiescent"; jitmm run --threads replays a trim in one stream while
 *   the others work). Two additions make it so: a slab also counts the
 *   allocations handed out and not yet finalized or abandoned (pending),
 *   which keep it like live ones; and allocate walks its snapshot of the
 *   slab list under a shared lock that clear_free_slabs takes exclusively
 *   to pick and unlink the slabs it munmaps, so no allocate holds a
 *   pointer to a slab being released. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "backend.h"
#include "freeset.h"
#include "os.h"

#define MIN_SLAB_SIZE (8ull << 20) /* kMinSlabSize */

enum { POOL_NONEXEC = 0, POOL_EXEC = 1 };

struct slab {
	char *base;
	uint64_t cap, midpoint, exec_limit;
	pthread_mutex_t mu; /* bump cursors and free lists */
	uint64_t bump[2];
	struct jm_freeset free_blocks[2]; /* per pool: offsets in the slab */
	uint8_t *committed; /* per commit chunk, atomic */
	size_t nchunks;
	uint64_t live;    /* atomic: finalized allocations not yet freed */
	uint64_t pending; /* atomic: allocated, not yet finalized or abandoned */
	int ever_used;    /* atomic */
};

struct slab_pool {
	pthread_mutex_t pool_mu; /* the slab list only */
	/* shared: an allocate between its snapshot of the slab list and its
	 * last use of a slab; exclusive: trim choosing and unlinking slabs */
	pthread_rwlock_t walk_lock;
	struct slab **slabs;
	size_t nslabs, capslabs;
	uint64_t slab_size, gran, reach, page;
	int thp;
	/* statistics (atomics) */
	uint64_t va, va_peak, committed_bytes, committed_peak, live_bytes;
	uint64_t slabs_created, slabs_reclaimed, exhausted_retries;
};

/* jm_alloc.priv = the owning slab; priv_u: */
enum { P_NE_OFF, P_E_OFF, P_STATE };
enum { ST_ALLOCATED, ST_FINALIZED };

static void stat_add(uint64_t *v, uint64_t *peak, int64_t d)
{
	uint64_t now = __atomic_add_fetch(v, (uint64_t)d, __ATOMIC_RELAXED);
	if (!peak)
		return;
	uint64_t p = __atomic_load_n(peak, __ATOMIC_RELAXED);
	while (now > p && !__atomic_compare_exchange_n(peak, &p, now, 1,
			__ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
}

static void free_region(struct slab *s, uint64_t off, uint64_t size)
{
	if (!size)
		return;
	pthread_mutex_lock(&s->mu);
	/* the pool is found from the offset, as upstream; sorted insert,
	 * coalescing with both neighbours */
	struct jm_freeset *fs = &s->free_blocks[off >= s->midpoint ? POOL_EXEC : POOL_NONEXEC];
	if (jm_freeset_insert(fs, off, off + size) < 0)
		fprintf(stderr, "slab-pool: out of memory growing a free list (or a "
				"double free); %llu bytes at offset %#llx leaked\n",
			(unsigned long long)size, (unsigned long long)off);
	pthread_mutex_unlock(&s->mu);
}

/* Slab::bumpAllocate: best fit over the free list, else bump. Returns 0
 * and *off, or 1 when the pool is exhausted. */
static int bump_allocate(struct slab *s, uint64_t size, int pool, uint64_t *off,
			 uint64_t *used, uint64_t *limit)
{
	pthread_mutex_lock(&s->mu);
	if (jm_freeset_best_fit(&s->free_blocks[pool], size, off) == 0) {
		pthread_mutex_unlock(&s->mu);
		return 0;
	}
	uint64_t lim = pool == POOL_EXEC ? s->exec_limit : s->midpoint;
	if (s->bump[pool] + size > lim) {
		*used = s->bump[pool];
		*limit = lim;
		pthread_mutex_unlock(&s->mu);
		return 1;
	}
	*off = s->bump[pool];
	s->bump[pool] += size;
	pthread_mutex_unlock(&s->mu);
	return 0;
}

/* ---- slabs ---- */

static void split(const struct slab_pool *p, uint64_t cap, uint64_t *exec_limit,
		  uint64_t *midpoint)
{
	uint64_t el = cap < p->reach ? cap : p->reach;
	uint64_t raw = (uint64_t)((double)el * (2.0 / 3.0)); /* kDefaultNonExecFraction */
	uint64_t mid = raw / p->gran * p->gran;
	if (mid == 0)
		mid = p->gran;
	if (mid >= el)
		mid = el - p->gran;
	*exec_limit = el;
	*midpoint = mid;
}

/* Slab::capacityForFootprint */
static uint64_t capacity_for(const struct slab_pool *p, uint64_t ne, uint64_t e)
{
	uint64_t cap = p->slab_size;
	for (;;) {
		uint64_t el, mid;
		split(p, cap, &el, &mid);
		if (ne <= mid && e <= el - mid)
			return cap;
		if (cap >= p->reach) /* budgets plateau once exec_limit saturates */
			return cap;
		cap *= 2;
	}
}

/* The Slab constructor. NULL with errno set if the reservation fails. */
static struct slab *slab_create(struct slab_pool *p, uint64_t cap)
{
	void *base = jm_os_mmap(NULL, cap, PROT_NONE,
				MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (base == MAP_FAILED)
		return NULL;
	struct slab *s = calloc(1, sizeof(*s));
	size_t nchunks = (cap + p->gran - 1) / p->gran;
	uint8_t *committed = calloc(nchunks, 1);
	if (!s || !committed) {
		free(s);
		free(committed);
		jm_os_munmap(base, cap);
		errno = ENOMEM;
		return NULL;
	}
	s->base = base;
	s->cap = cap;
	split(p, cap, &s->exec_limit, &s->midpoint);
	s->bump[POOL_NONEXEC] = 0;
	s->bump[POOL_EXEC] = s->midpoint;
	s->committed = committed;
	s->nchunks = nchunks;
	for (int k = 0; k < 2; k++)
		jm_freeset_init(&s->free_blocks[k]);
	pthread_mutex_init(&s->mu, NULL);
	if (p->thp) /* advisory; upstream ignores the result */
		(void)jm_os_madvise(base, cap, MADV_HUGEPAGE);
	stat_add(&p->va, &p->va_peak, (int64_t)cap);
	stat_add(&p->slabs_created, NULL, 1);
	return s;
}

/* ~Slab: munmap, then the bookkeeping. The slab is gone either way; a
 * failed munmap (its mapping stays, leaked) returns -1 with errno. */
static int slab_release(struct slab_pool *p, struct slab *s)
{
	uint64_t committed = 0;
	for (size_t i = 0; i < s->nchunks; i++)
		if (s->committed[i]) {
			uint64_t off = i * p->gran;
			committed += s->cap - off < p->gran ? s->cap - off : p->gran;
		}
	int rc = jm_os_munmap(s->base, s->cap);
	int e = errno;
	stat_add(&p->va, NULL, -(int64_t)s->cap);
	stat_add(&p->committed_bytes, NULL, -(int64_t)committed);
	for (int k = 0; k < 2; k++)
		jm_freeset_release(&s->free_blocks[k]);
	free(s->committed);
	pthread_mutex_destroy(&s->mu);
	free(s);
	errno = e;
	return rc;
}

/* Slab::commitPages: one mprotect(RW) per never-committed chunk. */
static int commit_pages(struct jm_backend *b, struct slab_pool *p, struct slab *s,
			uint64_t off, uint64_t size)
{
	if (!size)
		return 0;
	size_t first = off / p->gran, last = (off + size - 1) / p->gran;
	for (size_t i = first; i <= last; i++) {
		if (__atomic_load_n(&s->committed[i], __ATOMIC_ACQUIRE))
			continue;
		uint64_t coff = i * p->gran;
		uint64_t clen = s->cap - coff < p->gran ? s->cap - coff : p->gran;
		if (jm_os_mprotect(s->base + coff, clen, PROT_READ | PROT_WRITE) < 0)
			return jm_backend_error(b, "mprotect", errno,
				"Slab: mprotect(RW) failed for chunk at offset %#llx",
				(unsigned long long)coff);
		/* a racer may have committed it too: count the bytes once */
		uint8_t zero = 0;
		if (__atomic_compare_exchange_n(&s->committed[i], &zero, 1, 0,
						__ATOMIC_RELEASE, __ATOMIC_RELAXED))
			stat_add(&p->committed_bytes, &p->committed_peak, (int64_t)clen);
	}
	return 0;
}

struct footprint {
	uint64_t std[2], fin[2]; /* per pool */
};

static int is_exec(enum jm_prot_class c) { return c == JM_RX; }

static void footprint_of(const struct jm_alloc *a, uint64_t ps, struct footprint *f)
{
	memset(f, 0, sizeof(*f));
	for (uint32_t i = 0; i < a->nseg; i++) {
		uint64_t sz = jm_align_up(a->seg[i].size, ps);
		int pool = is_exec(a->seg[i].cls) ? POOL_EXEC : POOL_NONEXEC;
		if (a->seg[i].life == JM_FINALIZE)
			f->fin[pool] += sz;
		else
			f->std[pool] += sz;
	}
}

/* SlabPoolExhaustedError's contents. Made into a message only when it
 * ends the allocation: a retried exhaustion is no error, and the backend's
 * one message buffer is shared by every thread. */
struct exhausted {
	int pool;
	uint64_t used, size, limit;
};

/* allocPool: region from one pool, committed, reset to RW, zeroed.
 * 0 ok, 1 exhausted (retriable, *ex says why), -1 error. */
static int alloc_pool(struct jm_backend *b, struct slab_pool *p, struct slab *s,
		      uint64_t size, int pool, uint64_t *off, struct exhausted *ex)
{
	if (bump_allocate(s, size, pool, off, &ex->used, &ex->limit)) {
		ex->pool = pool;
		ex->size = size;
		return 1;
	}
	if (commit_pages(b, p, s, *off, size) < 0) {
		free_region(s, *off, size);
		return -1;
	}
	if (jm_os_mprotect(s->base + *off, size, PROT_READ | PROT_WRITE) < 0) {
		jm_backend_error(b, "mprotect", errno, "Slab: mprotect failed at %p size %#llx",
				 (void *)(s->base + *off), (unsigned long long)size);
		free_region(s, *off, size);
		return -1;
	}
	memset(s->base + *off, 0, size);
	return 0;
}

/* Slab::allocate of out (jm_alloc_init'ed; its regions' sizes f): 0 ok,
 * 1 exhausted (out as it was: the next slab tries it), -1 error. */
static int slab_allocate(struct jm_backend *b, struct slab_pool *p, struct slab *s,
			 const struct footprint *f, struct jm_alloc *out,
			 struct exhausted *ex)
{
	uint64_t tot[2] = {f->std[0] + f->fin[0], f->std[1] + f->fin[1]};
	uint64_t off[2] = {0, s->midpoint}; /* upstream's "unused" offsets */
	for (int pool = POOL_NONEXEC; pool <= POOL_EXEC; pool++) {
		if (!tot[pool])
			continue;
		int r = alloc_pool(b, p, s, tot[pool], pool, &off[pool], ex);
		if (r) {
			if (pool == POOL_EXEC && tot[POOL_NONEXEC])
				free_region(s, off[POOL_NONEXEC], tot[POOL_NONEXEC]);
			return r;
		}
	}
	/* four cursors: standard first in each pool, then finalize */
	uint64_t cur[2][2] = {{off[0], off[0] + f->std[0]}, {off[1], off[1] + f->std[1]}};
	for (uint32_t i = 0; i < out->nseg; i++) {
		int pool = is_exec(out->seg[i].cls) ? POOL_EXEC : POOL_NONEXEC;
		uint64_t *c = &cur[pool][out->seg[i].life == JM_FINALIZE];
		out->seg[i].write = out->seg[i].exec = s->base + *c;
		*c += jm_align_up(out->seg[i].size, p->page);
	}
	out->priv = s;
	out->priv_u[P_NE_OFF] = off[POOL_NONEXEC];
	out->priv_u[P_E_OFF] = off[POOL_EXEC];
	out->priv_u[P_STATE] = ST_ALLOCATED;
	stat_add(&p->live_bytes, NULL, (int64_t)(tot[0] + tot[1]));
	/* keeps the slab from clear_free_slabs until finalize or abandon */
	__atomic_add_fetch(&s->pending, 1, __ATOMIC_ACQ_REL);
	return 0;
}

/* ---- the pool (SlabPoolMemoryManager) ---- */

static int push_slab(struct slab_pool *p, struct slab *s)
{
	pthread_mutex_lock(&p->pool_mu);
	if (p->nslabs == p->capslabs) {
		size_t cap = p->capslabs ? p->capslabs * 2 : 8;
		struct slab **ns = realloc(p->slabs, cap * sizeof(*ns));
		if (!ns) {
			pthread_mutex_unlock(&p->pool_mu);
			return -1;
		}
		p->slabs = ns;
		p->capslabs = cap;
	}
	p->slabs[p->nslabs++] = s;
	pthread_mutex_unlock(&p->pool_mu);
	return 0;
}

static int spool_create(struct jm_backend *b)
{
	struct slab_pool *p = calloc(1, sizeof(*p));
	if (!p)
		return jm_backend_error(b, NULL, ENOMEM, "calloc");
	p->page = jm_page_size();
	p->slab_size = jm_opt_u64(&b->opts, "slab_size");
	p->gran = jm_opt_u64(&b->opts, "commit_granularity");
	p->thp = !strcmp(jm_opt_str(&b->opts, "thp"), "on");
	p->reach = (1ull << 31) - p->gran; /* kPCRelReach */
	if (!jm_is_pow2(p->gran) || p->gran % p->page || p->slab_size % p->page ||
	    p->slab_size < 2 * p->gran) {
		free(p);
		return jm_backend_error(b, NULL, EINVAL,
			"commit_granularity must be a power of two and a multiple of "
			"the page size, slab_size a multiple of the page size and at "
			"least two commit chunks");
	}
	pthread_mutex_init(&p->pool_mu, NULL);
	pthread_rwlockattr_t ra;
	pthread_rwlockattr_init(&ra);
	/* a steady stream of allocates must not starve a trim */
	pthread_rwlockattr_setkind_np(&ra, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&p->walk_lock, &ra);
	pthread_rwlockattr_destroy(&ra);
	b->priv = p;
	/* the initial slab: halve on mmap failure down to the floor */
	uint64_t floor = p->slab_size < MIN_SLAB_SIZE ? p->slab_size : MIN_SLAB_SIZE;
	int err = 0;
	for (uint64_t cap = p->slab_size; cap >= floor; cap /= 2) {
		if (cap < 2 * p->gran)
			break;
		struct slab *s = slab_create(p, cap);
		if (s) {
			p->slab_size = cap; /* pin the size that worked */
			if (push_slab(p, s) < 0) {
				(void)slab_release(p, s);
				pthread_rwlock_destroy(&p->walk_lock);
				pthread_mutex_destroy(&p->pool_mu);
				free(p);
				b->priv = NULL;
				return jm_backend_error(b, NULL, ENOMEM, "realloc");
			}
			return 0;
		}
		err = errno;
	}
	/* jm_backend_open does not destroy after a failed create */
	pthread_rwlock_destroy(&p->walk_lock);
	pthread_mutex_destroy(&p->pool_mu);
	free(p);
	b->priv = NULL;
	return jm_backend_error(b, "mmap", err,
		"SlabPoolMemoryManager: failed to reserve at least %llu MB of "
		"virtual address space", (unsigned long long)(floor >> 20));
}

/* SlabPoolMemoryManager::allocate after the footprint (walk_lock held
 * shared): 0, or -1 with the error. */
static int grow_or_fit(struct jm_backend *b, struct slab_pool *p,
		       const struct jm_graph_req *req, uint64_t ne, uint64_t e,
		       struct jm_alloc *out)
{
	/* the graph's segments and regions, the same in every slab tried */
	jm_alloc_init(out, req);
	struct footprint f;
	footprint_of(out, p->page, &f);
	/* step 1: snapshot the slab list, then try each slab unlocked */
	struct slab *small[32], **snap = small;
	pthread_mutex_lock(&p->pool_mu);
	size_t n = p->nslabs;
	if (n > 32 && !(snap = malloc(n * sizeof(*snap)))) {
		pthread_mutex_unlock(&p->pool_mu);
		return jm_backend_error(b, NULL, ENOMEM, "malloc");
	}
	memcpy(snap, p->slabs, n * sizeof(*snap));
	pthread_mutex_unlock(&p->pool_mu);
	int r = 1;
	struct exhausted ex;
	for (size_t i = 0; i < n && r == 1; i++) {
		r = slab_allocate(b, p, snap[i], &f, out, &ex);
		if (r == 1)
			stat_add(&p->exhausted_retries, NULL, 1);
	}
	if (snap != small)
		free(snap);
	if (r <= 0)
		return r;
	/* step 2: grow by a slab sized to fit */
	uint64_t cap = capacity_for(p, ne, e);
	struct slab *s = slab_create(p, cap);
	if (!s)
		return jm_backend_error(b, "mmap", errno,
			"SlabPoolMemoryManager: mmap failed for new slab of %#llx bytes",
			(unsigned long long)cap);
	if (push_slab(p, s) < 0) {
		(void)slab_release(p, s); /* a failed munmap shows in the os counters */
		return jm_backend_error(b, NULL, ENOMEM, "realloc");
	}
	r = slab_allocate(b, p, s, &f, out, &ex);
	if (r == 1) /* exhausted even when fresh: not retried */
		return jm_backend_error(b, NULL, 0,
			"Slab: %s pool exhausted (used %#llx + requested %#llx > limit %#llx)",
			ex.pool == POOL_EXEC ? "exec" : "non-exec", (unsigned long long)ex.used,
			(unsigned long long)ex.size, (unsigned long long)ex.limit);
	return r;
}

static int spool_allocate(struct jm_backend *b, const struct jm_graph_req *req,
			  struct jm_alloc *out)
{
	struct slab_pool *p = b->priv;
	uint64_t ne = 0, e = 0;
	for (uint32_t i = 0; i < req->nseg; i++) {
		if (req->seg[i].align > p->page) /* BasicLayout rejects it */
			return jm_backend_error(b, NULL, EINVAL,
				"segment alignment %u exceeds page size", req->seg[i].align);
		uint64_t sz = jm_align_up(req->seg[i].content + req->seg[i].zero_fill, p->page);
		if (is_exec(req->seg[i].cls))
			e += sz;
		else
			ne += sz;
	}
	pthread_rwlock_rdlock(&p->walk_lock);
	int r = grow_or_fit(b, p, req, ne, e, out);
	pthread_rwlock_unlock(&p->walk_lock);
	return r;
}

static int spool_finalize(struct jm_backend *b, struct jm_alloc *a)
{
	struct slab_pool *p = b->priv;
	struct slab *s = a->priv;
	for (uint32_t i = 0; i < a->nseg; i++) {
		struct jm_segment_alloc *sg = &a->seg[i];
		if (jm_os_mprotect(sg->exec, jm_align_up(sg->size, p->page),
				   jm_class_prot(sg->cls)) < 0)
			return jm_backend_error(b, "mprotect", errno,
				"Slab: mprotect failed at %p size %#llx", sg->exec,
				(unsigned long long)jm_align_up(sg->size, p->page));
		/* icache invalidation: nothing to do on x86-64 */
	}
	struct footprint f;
	footprint_of(a, p->page, &f);
	uint64_t off[2] = {a->priv_u[P_NE_OFF], a->priv_u[P_E_OFF]};
	for (int pool = 0; pool < 2; pool++)
		free_region(s, off[pool] + f.std[pool], f.fin[pool]);
	stat_add(&p->live_bytes, NULL, -(int64_t)(f.fin[0] + f.fin[1]));
	for (uint32_t i = 0; i < a->nseg; i++)
		if (a->seg[i].life == JM_FINALIZE)
			a->seg[i].write = a->seg[i].exec = NULL;
	/* noteAllocated, before the allocation stops being pending: trim
	 * reads pending first, so it never sees both at 0 */
	__atomic_add_fetch(&s->live, 1, __ATOMIC_ACQ_REL);
	__atomic_store_n(&s->ever_used, 1, __ATOMIC_RELEASE);
	__atomic_sub_fetch(&s->pending, 1, __ATOMIC_ACQ_REL);
	a->priv_u[P_STATE] = ST_FINALIZED;
	return 0;
}

static int spool_deallocate(struct jm_backend *b, struct jm_alloc *a)
{
	struct slab_pool *p = b->priv;
	struct slab *s = a->priv;
	struct footprint f;
	footprint_of(a, p->page, &f);
	uint64_t off[2] = {a->priv_u[P_NE_OFF], a->priv_u[P_E_OFF]};
	int finalized = a->priv_u[P_STATE] == ST_FINALIZED;
	uint64_t freed = 0;
	for (int pool = 0; pool < 2; pool++) {
		/* abandon (never finalized) frees the whole region */
		uint64_t len = f.std[pool] + (finalized ? 0 : f.fin[pool]);
		free_region(s, off[pool], len);
		freed += len;
	}
	stat_add(&p->live_bytes, NULL, -(int64_t)freed);
	/* the last touch of s: a trim may release it from here on */
	if (finalized) /* noteDeallocated */
		__atomic_sub_fetch(&s->live, 1, __ATOMIC_ACQ_REL);
	else
		__atomic_sub_fetch(&s->pending, 1, __ATOMIC_ACQ_REL);
	return 0;
}

/* isReclaimable, plus: no allocation of it in flight. Called with
 * walk_lock held exclusively, so pending cannot rise meanwhile. */
static int reclaimable(struct slab *s)
{
	return __atomic_load_n(&s->pending, __ATOMIC_ACQUIRE) == 0 &&
	       __atomic_load_n(&s->ever_used, __ATOMIC_ACQUIRE) &&
	       __atomic_load_n(&s->live, __ATOMIC_ACQUIRE) == 0;
}

/* clearFreeSlabs: libstdc++'s std::partition (bidirectional version) with
 * pred = !reclaimable, then munmap the tail outside the locks. A failed
 * munmap fails the trim (upstream's ~Slab ignores it: the slab's address
 * space would stay mapped and unaccounted). */
static int spool_trim(struct jm_backend *b, struct jm_trim_result *out)
{
	struct slab_pool *p = b->priv;
	memset(out, 0, sizeof(*out));
	pthread_rwlock_wrlock(&p->walk_lock);
	pthread_mutex_lock(&p->pool_mu);
	size_t first = 0, last = p->nslabs;
	for (;;) {
		while (first != last && !reclaimable(p->slabs[first]))
			first++;
		if (first == last)
			break;
		last--;
		while (first != last && reclaimable(p->slabs[last]))
			last--;
		if (first == last)
			break;
		struct slab *t = p->slabs[first];
		p->slabs[first] = p->slabs[last];
		p->slabs[last] = t;
		first++;
	}
	size_t keep = first, ndiscard = p->nslabs - keep;
	struct slab **discard = NULL;
	if (ndiscard) {
		discard = malloc(ndiscard * sizeof(*discard));
		if (!discard) {
			pthread_mutex_unlock(&p->pool_mu);
			pthread_rwlock_unlock(&p->walk_lock);
			return jm_backend_error(b, NULL, ENOMEM, "malloc");
		}
		memcpy(discard, &p->slabs[keep], ndiscard * sizeof(*discard));
		p->nslabs = keep;
	}
	pthread_mutex_unlock(&p->pool_mu);
	pthread_rwlock_unlock(&p->walk_lock);
	int rc = 0;
	for (size_t i = 0; i < ndiscard; i++) {
		void *base = discard[i]->base;
		uint64_t cap = discard[i]->cap;
		if (slab_release(p, discard[i]) < 0) {
			if (!rc) /* the first failure is the one reported */
				rc = jm_backend_error(b, "munmap", errno,
					"clear_free_slabs: munmap of the slab at %p (%#llx bytes) "
					"failed; its mapping is leaked", base, (unsigned long long)cap);
			continue;
		}
		out->units_released++;
		out->bytes_released += cap;
	}
	stat_add(&p->slabs_reclaimed, NULL, (int64_t)ndiscard);
	free(discard);
	return rc;
}

static void spool_stats(struct jm_backend *b, struct jm_backend_stats *out)
{
	struct slab_pool *p = b->priv;
	out->va_reserved = __atomic_load_n(&p->va, __ATOMIC_RELAXED);
	out->va_reserved_peak = __atomic_load_n(&p->va_peak, __ATOMIC_RELAXED);
	out->bytes_mapped = __atomic_load_n(&p->committed_bytes, __ATOMIC_RELAXED);
	out->bytes_mapped_peak = __atomic_load_n(&p->committed_peak, __ATOMIC_RELAXED);
	out->bytes_live = __atomic_load_n(&p->live_bytes, __ATOMIC_RELAXED);
	out->reservations = __atomic_load_n(&p->slabs_created, __ATOMIC_RELAXED);
	pthread_mutex_lock(&p->pool_mu);
	uint64_t nslabs = p->nslabs, ranges = 0, live = 0;
	for (size_t i = 0; i < p->nslabs; i++) {
		struct slab *s = p->slabs[i];
		pthread_mutex_lock(&s->mu);
		ranges += s->free_blocks[0].n + s->free_blocks[1].n;
		pthread_mutex_unlock(&s->mu);
		live += __atomic_load_n(&s->live, __ATOMIC_RELAXED);
	}
	pthread_mutex_unlock(&p->pool_mu);
	int n = 0;
#define EXTRA(k, v) do { out->extra[n].name = k; out->extra[n].value = (v); n++; } while (0)
	EXTRA("slabs", nslabs);
	EXTRA("slabs_reclaimed", __atomic_load_n(&p->slabs_reclaimed, __ATOMIC_RELAXED));
	EXTRA("slab_size", p->slab_size);
	EXTRA("free_ranges", ranges);
	EXTRA("live_allocations", live);
	EXTRA("exhausted_retries", __atomic_load_n(&p->exhausted_retries, __ATOMIC_RELAXED));
#undef EXTRA
	out->nextra = n;
}

static void spool_destroy(struct jm_backend *b)
{
	struct slab_pool *p = b->priv;
	if (!p)
		return;
	int failed = 0;
	for (size_t i = 0; i < p->nslabs; i++) {
		void *base = p->slabs[i]->base;
		if (slab_release(p, p->slabs[i]) < 0 && !failed++)
			jm_backend_error(b, "munmap", errno, "destroy: munmap of the slab at %p "
					 "failed; its mapping is leaked", base);
	}
	free(p->slabs);
	pthread_rwlock_destroy(&p->walk_lock);
	pthread_mutex_destroy(&p->pool_mu);
	free(p);
}

/* The overflow path of orcjit_slab.cc (classifyOverflowSections, then
 * Slab::allocate's "allocate overflow sections via mmap() outside the
 * slab"): a .nv_fatbin section gets its own mmap(RW, PRIVATE|ANON) of its
 * page-aligned size at allocate, an mprotect to its protection at finalize
 * after the slab segments (InFlightAlloc::finalize), and a munmap at free
 * (deallocateOne) or abandon, after the slab regions are freed. It is
 * appended to the allocation as one more segment; jm_alloc.priv_u
 * [P_OVERFLOW] is its index + 1 (0: none). */
enum { P_OVERFLOW = P_STATE + 1 };

static int fatbin_hint(const struct jm_graph_req *req)
{
	return req->section.size && !strncmp(req->section.name, ".nv_fatbin", 10);
}

static int fatbin_allocate(struct jm_backend *b, const struct jm_graph_req *req,
			   struct jm_alloc *out)
{
	struct slab_pool *p = b->priv;
	if (!fatbin_hint(req))
		return spool_allocate(b, req, out);
	/* the slab part: the hinted segment less the section's bytes */
	const struct jm_section_hint *h = &req->section;
	struct jm_graph_req slab_req = *req;
	slab_req.nseg = 0;
	for (uint32_t i = 0; i < req->nseg; i++) {
		struct jm_segment_req sg = req->seg[i];
		if (sg.cls == h->cls && sg.life == h->life)
			sg.content -= h->size;
		if (sg.content + sg.zero_fill)
			slab_req.seg[slab_req.nseg++] = sg;
	}
	uint64_t len = jm_align_up(h->size, p->page);
	if (slab_req.nseg) {
		if (spool_allocate(b, &slab_req, out) < 0)
			return -1;
	} else {
		jm_alloc_init(out, &slab_req);
	}
	void *m = jm_os_mmap(NULL, len, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED) {
		int e = errno;
		if (slab_req.nseg)
			spool_deallocate(b, out);
		return jm_backend_error(b, "mmap", e,
			"Slab: overflow mmap failed for section %s", h->name);
	}
	out->seg[out->nseg] = (struct jm_segment_alloc){
		.write = m, .exec = m, .size = h->size, .content = h->size,
		.cls = h->cls, .life = h->life};
	out->priv_u[P_OVERFLOW] = ++out->nseg;
	return 0;
}

/* The allocation's overflow segment, hidden from the slab ops. */
static struct jm_segment_alloc *overflow_of(struct jm_alloc *a)
{
	return a->priv_u[P_OVERFLOW] ? &a->seg[a->priv_u[P_OVERFLOW] - 1] : NULL;
}

static int fatbin_finalize(struct jm_backend *b, struct jm_alloc *a)
{
	struct slab_pool *p = b->priv;
	struct jm_segment_alloc *ov = overflow_of(a);
	if (!ov)
		return spool_finalize(b, a);
	a->nseg--;
	int rc = a->priv ? spool_finalize(b, a) : 0;
	a->nseg++;
	if (rc < 0)
		return -1;
	if (jm_os_mprotect(ov->exec, jm_align_up(ov->size, p->page),
			   jm_class_prot(ov->cls)) < 0)
		return jm_backend_error(b, "mprotect", errno,
			"Slab: mprotect failed at %p size %#llx", ov->exec,
			(unsigned long long)jm_align_up(ov->size, p->page));
	return 0;
}

static int fatbin_deallocate(struct jm_backend *b, struct jm_alloc *a)
{
	struct slab_pool *p = b->priv;
	struct jm_segment_alloc *ov = overflow_of(a);
	if (!ov)
		return spool_deallocate(b, a);
	a->nseg--;
	int rc = a->priv ? spool_deallocate(b, a) : 0;
	a->nseg++;
	if (jm_os_munmap(ov->exec, jm_align_up(ov->size, p->page)) < 0)
		return jm_backend_error(b, "munmap", errno, "releasing an overflow block");
	return rc;
}

const struct jm_backend_ops jm_backend_slab_pool = {
	.name = "slab-pool",
	.description = "tvm-ffi SlabPoolMemoryManager: PROT_NONE slabs split into "
		       "non-exec/exec pools, best-fit free lists, 2 MiB commit chunks, "
		       "no syscall on free, clear_free_slabs trim",
	.models = "apache/tvm-ffi addons/tvm_ffi_orcjit/src/ffi/orcjit_slab.cc, "
		  "orcjit_memory_manager.cc (PR 574)",
	.caps = JM_CAP_FREES | JM_CAP_TRIM | JM_CAP_THREAD_SAFE | JM_CAP_EXEC_RACE,
	.options = (const struct jm_option_def[]){
		{"slab_size", JM_OPT_SIZE, "64M", NULL,
		 "slab capacity; the first slab halves on mmap failure down to 8M",
		 1ull << 16, 1ull << 40},
		{"commit_granularity", JM_OPT_SIZE, "2M", NULL,
		 "commit chunk (mprotect RW once per chunk); also aligns the midpoint",
		 4096, 1ull << 30},
		{"thp", JM_OPT_ENUM, "on", "on|off",
		 "madvise(MADV_HUGEPAGE) over each new slab", 0, 0},
		{0},
	},
	.create = spool_create,
	.allocate = fatbin_allocate,
	.finalize = fatbin_finalize,
	.deallocate = fatbin_deallocate,
	.trim = spool_trim,
	.stats = spool_stats,
	.destroy = spool_destroy,
};
