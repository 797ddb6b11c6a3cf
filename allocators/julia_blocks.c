/* julia-blocks: Julia's legacy code memory manager (src/cgmemmgr.cpp,
 * RTDyldMemoryManagerJL, as ported to JITLink by Julia PR 60105;
 * /work/shared/reference/allocators.md section 4a).
 *
 * Blocks {ptr, total, avail}, bump-allocated upward: an allocation of size
 * s at alignment a takes aligned_avail = avail & -a and sits at
 * ptr + total - aligned_avail. Block size max(256 pages, pageAlign(size))
 * = 1 MiB. Three allocators with 8 block slots each:
 *   RW  (writable segments): anonymous mmap(RW) blocks, never protected.
 *   RO  (read-only) and RX (code): blocks written RW by the first graphs
 *       that use them; at finalize every newly used block is mprotected
 *       once, whole (R-- or R-X). Graphs that land in an already protected
 *       block write elsewhere:
 *         writer=dual:    blocks are carved from one memfd grown by
 *                         ftruncate in 128 MiB steps; the runtime view is
 *                         mmap(MAP_SHARED); a block's write alias is a
 *                         second MAP_SHARED RW view, mprotected RW while
 *                         graphs are in flight and PROT_NONE after each
 *                         finalize, munmapped when the block is evicted.
 *         writer=selfmem: blocks are anonymous; writes go to temporary
 *                         buffers (1 MiB blocks) and are copied with
 *                         pwrite into /proc/self/mem at finalize; the
 *                         first temp buffer is kept, the others unmapped.
 * Replacement: when no slot fits, a new block is mapped first, then the
 * victim slot (least avail) is evicted and its free tail (the page-aligned
 * part past its used prefix) unmapped -- right away for RW blocks and for
 * RO/RX blocks with nothing pending, at the next finalize otherwise.
 * Never frees: deallocate is a no-op; destroy unmaps everything.
 *
 * Choices (documented in docs/backends/julia-blocks.md):
 *  - slot_scan=upstream (default) is the literal upstream loop
 *    `for (i = 0; i < nblocks && blocks[i].ptr; i++)`: the scan stops at
 *    the first empty slot, so the least-available block *among the filled
 *    slots* is replaced and slots 1..7 are never filled: in practice one
 *    block per allocator. slot_scan=full is the documented intent
 *    ("keep up to 8 blocks"): empty slots are filled first, then the
 *    least-available of the 8 is replaced.
 *  - JITLink port (PR 60105 text not available): each segment of a graph
 *    goes to the allocator of its class (rx -> RX, ro -> RO, rw -> RW) at
 *    its own alignment and unrounded size; finalize-lifetime segments are
 *    treated as standard ones (never freed).
 *  - finalize is global, as upstream's finalizeMemory: it protects every
 *    block used since the last finalize (the harness finalizes each graph
 *    right after writing it, as Julia's JIT does under its lock).
 *  - not JM_CAP_THREAD_SAFE, like the original: RTDyldMemoryManagerJL has
 *    no lock of its own; Julia links one object at a time under its JIT
 *    lock, held from allocation through finalizeMemory. With concurrent
 *    graphs, one thread's finalize protects (R-- / R-X) a fresh block that
 *    another thread is still writing in place (SIGSEGV), and closes the
 *    write alias (PROT_NONE) under it. A mutex around each call cannot fix
 *    that; only one held from allocate to finalize can, which would
 *    deadlock a stream with two graphs in flight. So `run --threads N`
 *    refuses this backend. (Julia's thread-safe successor, PR 60915's
 *    JLJITLinkMemoryManager with per-block in-flight counts, is codemodel.)
 * The mutex below only keeps the bookkeeping consistent for callers that
 * serialize whole graphs, as Julia does.
 *  - the alias is set PROT_NONE after finalize (upstream @00253e2; an older
 *    revision used PROT_READ).
 *  - after finalize a segment's write address is its execution address:
 *    temp buffers and aliases are reused or unmapped, as upstream.
 *  - writer=auto (default) chooses as RTDyldMemoryManagerJL's
 *    constructor does on Linux: the self-mem probe first (kernel >= 4.10,
 *    a test R-X page written through /proc/self/mem); only if it fails
 *    the memfd (memfd_create, a test R-X shared mapping, ftruncate to
 *    128 MiB). The choice is the stat writer_selfmem (1: /proc/self/mem).
 *    writer=dual / writer=selfmem force one (dual is what upstream uses
 *    where /proc/self/mem cannot write read-only pages: kernels < 4.10,
 *    proc_mem.force_override=never, non-Linux). */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "backend.h"
#include "julia_cgmem.h"
#include "os.h"

#define NSLOTS 8
#define BLOCK_PAGES 256
enum { SCAN_UPSTREAM, SCAN_FULL };
enum { A_RW, A_RO, A_RX, NALLOC };

/* SplitPtrBlock states (upstream names) */
enum {
	INIT_ALLOC = 1 << 0, /* no protection set yet: written in place */
	ALLOC = 1 << 1,      /* used since the last finalize */
	WR_INIT = 1 << 2,    /* the write alias exists */
	WR_READY = 1 << 3,   /* the write alias is RW */
};

struct block {
	uint64_t ptr, total, avail;
	uint64_t off;   /* dual: offset of the block in the memfd */
	uint64_t wr;    /* dual: write alias address (WR_INIT) */
	unsigned state;
};

struct vec_block {
	struct block *v;
	size_t n, cap;
};

struct pending { /* selfmem: a write to copy at finalize */
	uint64_t wr, rt, sz;
};

struct allocator {
	struct block slot[NSLOTS];
	struct vec_block completed; /* evicted, finalize still owed */
	struct vec_block temp;      /* selfmem temp buffers */
	struct pending *pend;
	size_t npend, cappend;
	int prot; /* at finalize: PROT_READ or PROT_READ|PROT_EXEC */
};

struct julia_blocks {
	pthread_mutex_t lock;
	enum jm_julia_writer writer;
	int scan;
	struct allocator al[NALLOC];
	int memfd, selfmem_fd;
	uint64_t map_size, map_offset;
	struct jm_julia_owned owned; /* every byte mapped by this backend */
	uint64_t live;
	uint64_t blocks, evictions, tails_unmapped, aliases, temp_buffers;
};

static uint64_t block_size(uint64_t size)
{
	uint64_t ps = jm_page_size();
	return size > ps * BLOCK_PAGES ? jm_align_up(size, ps) : ps * BLOCK_PAGES;
}

static int vec_push(struct vec_block *v, const struct block *b)
{
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 8;
		struct block *n = realloc(v->v, cap * sizeof(*n));
		if (!n)
			return -1;
		v->v = n;
		v->cap = cap;
	}
	v->v[v->n++] = *b;
	return 0;
}

static void *map_anon(struct julia_blocks *jb, uint64_t len)
{
	void *p = jm_os_mmap(NULL, len, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p != MAP_FAILED)
		jm_julia_own(&jb->owned, (uint64_t)(uintptr_t)p, len);
	return p;
}

/* Block::alloc: 0 if it does not fit. */
static uint64_t blk_alloc(struct block *k, uint64_t size, uint64_t align)
{
	uint64_t aligned_avail = k->avail & ~(align - 1);
	if (aligned_avail < size)
		return 0;
	uint64_t p = k->ptr + k->total - aligned_avail;
	k->avail = aligned_avail - size;
	return p;
}

/* Block::reset(nullptr, 0): unmap the free tail of a retired block. */
static int blk_retire(struct julia_blocks *jb, struct block *k)
{
	const uint64_t ps = jm_page_size();
	int rc = 0;
	if (k->ptr && k->avail >= ps) {
		uint64_t end = k->ptr + k->total;
		uint64_t first_free = jm_align_up(end - k->avail, ps);
		rc = jm_julia_unmap(&jb->owned, first_free, end - first_free);
		jb->tails_unmapped++;
	}
	memset(k, 0, sizeof(*k));
	return rc;
}

/* The slot scan. Returns the slot that served the request (>= 0, *p set)
 * or -(victim + 1). */
static int scan(struct julia_blocks *jb, struct block *slot, uint64_t size,
		uint64_t align, uint64_t *p)
{
	uint64_t min_size = UINT64_MAX;
	int min_id = 0, empty = -1;
	for (int i = 0; i < NSLOTS; i++) {
		if (!slot[i].ptr) {
			if (jb->scan == SCAN_UPSTREAM)
				break;
			if (empty < 0)
				empty = i;
			continue;
		}
		if ((*p = blk_alloc(&slot[i], size, align)))
			return i;
		if (slot[i].avail < min_size) {
			min_size = slot[i].avail;
			min_id = i;
		}
	}
	*p = 0;
	return -((empty >= 0 ? empty : min_id) + 1);
}

static int rw_alloc(struct jm_backend *b, struct julia_blocks *jb,
		    uint64_t size, uint64_t align, uint64_t *out)
{
	struct allocator *al = &jb->al[A_RW];
	int r = scan(jb, al->slot, size, align, out);
	if (r >= 0)
		return 0;
	struct block *victim = &al->slot[-r - 1];
	uint64_t bs = block_size(size);
	void *p = map_anon(jb, bs); /* the new block is mapped first */
	if (p == MAP_FAILED)
		return jm_backend_error(b, "mmap", errno, "mapping a %lu-byte RW block",
					(unsigned long)bs);
	jb->blocks++;
	if (victim->ptr)
		jb->evictions++;
	if (blk_retire(jb, victim) < 0)
		return jm_backend_error(b, "munmap", errno, "unmapping a block tail");
	*victim = (struct block){(uint64_t)(uintptr_t)p, bs, bs, 0, 0, 0};
	*out = blk_alloc(victim, size, align);
	return 0;
}

/* alloc_shared_page: carve size bytes from the memfd, growing it by
 * 128 MiB steps, and map the runtime view. */
static int alloc_shared(struct jm_backend *b, struct julia_blocks *jb,
			uint64_t size, struct block *nb)
{
	uint64_t off = jb->map_offset;
	jb->map_offset += size;
	if (off + size > jb->map_size) {
		uint64_t old = jb->map_size;
		while (off + size > jb->map_size)
			jb->map_size += JM_JULIA_MAP_SIZE_INC;
		if (old != jb->map_size &&
		    jm_os_ftruncate(jb->memfd, (off_t)jb->map_size) < 0)
			return jm_backend_error(b, "ftruncate", errno,
						"growing the code file");
	}
	void *p = jm_os_mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED,
			     jb->memfd, (off_t)off);
	if (p == MAP_FAILED)
		return jm_backend_error(b, "mmap", errno, "mapping a code block");
	jm_julia_own(&jb->owned, (uint64_t)(uintptr_t)p, size);
	*nb = (struct block){(uint64_t)(uintptr_t)p, size, size, off, 0, 0};
	return 0;
}

/* get_wr_ptr for a block whose protection is already set. */
static int wr_ptr(struct jm_backend *b, struct julia_blocks *jb,
		  struct allocator *al, struct block *k, uint64_t rt,
		  uint64_t size, uint64_t align, uint64_t *out)
{
	if (jb->writer == JM_JULIA_DUAL) {
		if (!(k->state & WR_INIT)) {
			void *p = jm_os_mmap(NULL, k->total, PROT_READ | PROT_WRITE,
					     MAP_SHARED, jb->memfd, (off_t)k->off);
			if (p == MAP_FAILED)
				return jm_backend_error(b, "mmap", errno,
							"mapping a write alias");
			jm_julia_own(&jb->owned, (uint64_t)(uintptr_t)p, k->total);
			k->wr = (uint64_t)(uintptr_t)p;
			k->state |= WR_INIT;
			jb->aliases++;
		}
		if (!(k->state & WR_READY)) {
			if (jm_os_mprotect((void *)(uintptr_t)k->wr, k->total,
					   PROT_READ | PROT_WRITE) < 0)
				return jm_backend_error(b, "mprotect", errno,
							"opening a write alias");
			k->state |= WR_READY;
		}
		*out = rt - k->ptr + k->wr;
		return 0;
	}
	/* selfmem: a temporary buffer, copied in at finalize */
	for (size_t i = 0; i < al->temp.n; i++)
		if ((*out = blk_alloc(&al->temp.v[i], size, align)))
			goto pend;
	uint64_t bs = block_size(size);
	void *p = map_anon(jb, bs);
	if (p == MAP_FAILED)
		return jm_backend_error(b, "mmap", errno, "mapping a temp buffer");
	struct block t = {(uint64_t)(uintptr_t)p, bs, bs, 0, 0, 0};
	*out = blk_alloc(&t, size, align);
	if (vec_push(&al->temp, &t) < 0)
		return jm_backend_error(b, NULL, ENOMEM, "realloc");
	jb->temp_buffers++;
pend:
	if (al->npend == al->cappend) {
		size_t cap = al->cappend ? al->cappend * 2 : 16;
		struct pending *n = realloc(al->pend, cap * sizeof(*n));
		if (!n)
			return jm_backend_error(b, NULL, ENOMEM, "realloc");
		al->pend = n;
		al->cappend = cap;
	}
	al->pend[al->npend++] = (struct pending){*out, rt, size};
	return 0;
}

/* ROAllocator::alloc: *rt is the runtime address, *wr the write address. */
static int ro_alloc(struct jm_backend *b, struct julia_blocks *jb,
		    struct allocator *al, uint64_t size, uint64_t align,
		    uint64_t *rt, uint64_t *wr)
{
	int r = scan(jb, al->slot, size, align, rt);
	if (r >= 0) {
		struct block *k = &al->slot[r];
		if (k->state & INIT_ALLOC)
			*wr = *rt;
		else if (wr_ptr(b, jb, al, k, *rt, size, align, wr) < 0)
			return -1;
		k->state |= ALLOC;
		return 0;
	}
	struct block *victim = &al->slot[-r - 1], nb;
	uint64_t bs = block_size(size);
	if (jb->writer == JM_JULIA_DUAL) {
		if (alloc_shared(b, jb, bs, &nb) < 0)
			return -1;
	} else {
		void *p = map_anon(jb, bs);
		if (p == MAP_FAILED)
			return jm_backend_error(b, "mmap", errno,
						"mapping a code block");
		nb = (struct block){(uint64_t)(uintptr_t)p, bs, bs, 0, 0, 0};
	}
	jb->blocks++;
	if (victim->ptr)
		jb->evictions++;
	if (victim->state) {
		/* finalize still owes it a protection or an alias unmap */
		if (vec_push(&al->completed, victim) < 0)
			return jm_backend_error(b, NULL, ENOMEM, "realloc");
	} else if (blk_retire(jb, victim) < 0) {
		return jm_backend_error(b, "munmap", errno, "unmapping a block tail");
	}
	*victim = nb;
	*rt = *wr = blk_alloc(victim, size, align);
	victim->state = ALLOC | INIT_ALLOC;
	return 0;
}

/* finalize_block of DualMapAllocator / SelfMemAllocator */
static int finalize_block(struct jm_backend *b, struct julia_blocks *jb,
			  struct allocator *al, struct block *k, int reset)
{
	if (!(k->state & ALLOC)) {
		if (jb->writer == JM_JULIA_DUAL && (k->state & WR_INIT) && reset &&
		    jm_julia_unmap(&jb->owned, k->wr, k->total) < 0)
			return jm_backend_error(b, "munmap", errno,
						"unmapping a write alias");
		return 0;
	}
	if (k->state & INIT_ALLOC) {
		if (jm_os_mprotect((void *)(uintptr_t)k->ptr, k->total, al->prot) < 0)
			return jm_backend_error(b, "mprotect", errno,
						"protecting a block");
		k->state = 0;
		return 0;
	}
	if (jb->writer != JM_JULIA_DUAL)
		return 0;
	if (reset) {
		if (jm_julia_unmap(&jb->owned, k->wr, k->total) < 0)
			return jm_backend_error(b, "munmap", errno,
						"unmapping a write alias");
	} else {
		if (jm_os_mprotect((void *)(uintptr_t)k->wr, k->total, PROT_NONE) < 0)
			return jm_backend_error(b, "mprotect", errno,
						"closing a write alias");
		k->state = WR_INIT;
	}
	return 0;
}

static int ro_finalize(struct jm_backend *b, struct julia_blocks *jb,
		       struct allocator *al)
{
	for (int i = 0; i < NSLOTS; i++)
		if (finalize_block(b, jb, al, &al->slot[i], 0) < 0)
			return -1;
	for (size_t i = 0; i < al->completed.n; i++) {
		if (finalize_block(b, jb, al, &al->completed.v[i], 1) < 0)
			return -1;
		if (blk_retire(jb, &al->completed.v[i]) < 0)
			return jm_backend_error(b, "munmap", errno,
						"unmapping a block tail");
	}
	al->completed.n = 0;
	if (jb->writer == JM_JULIA_SELFMEM) {
		for (size_t i = 0; i < al->npend; i++) {
			struct pending *pd = &al->pend[i];
			if (jm_julia_selfmem_write(b, jb->selfmem_fd, pd->wr,
						   pd->rt, pd->sz) < 0)
				return -1;
		}
		/* keep the first temp buffer, unmap the others */
		for (size_t i = 1; i < al->temp.n; i++)
			if (jm_julia_unmap(&jb->owned, al->temp.v[i].ptr, al->temp.v[i].total) < 0)
				return jm_backend_error(b, "munmap", errno,
							"unmapping a temp buffer");
		if (al->temp.n) {
			al->temp.n = 1;
			al->temp.v[0].avail = al->temp.v[0].total;
		}
	}
	al->npend = 0;
	return 0;
}

static int open_memfd(struct jm_backend *b, struct julia_blocks *jb)
{
	const uint64_t ps = jm_page_size();
	if (jm_julia_memfd_open(b, &jb->memfd) < 0)
		return -1;
	/* check_fd_or_close: the file must be mappable executable */
	void *t = jm_os_mmap(NULL, ps, PROT_READ | PROT_EXEC, MAP_SHARED,
			     jb->memfd, 0);
	if (t == MAP_FAILED)
		return jm_backend_error(b, "mmap", errno,
			"the code file cannot be mapped executable");
	if (jm_os_munmap(t, ps) < 0)
		return jm_backend_error(b, "munmap", errno, "code file probe");
	/* init_shared_map */
	jb->map_size = JM_JULIA_MAP_SIZE_INC;
	if (jm_os_ftruncate(jb->memfd, (off_t)jb->map_size) != 0)
		return jm_backend_error(b, "ftruncate", errno, "code file");
	return 0;
}

static void jb_destroy(struct jm_backend *b);

/* RTDyldMemoryManagerJL's constructor on Linux: the /proc/self/mem
 * writer (SelfMemAllocator) when get_self_mem_fd() works, otherwise the
 * dual-mapped memfd writer (init_shared_map, DualMapAllocator). */
static int open_writer(struct jm_backend *b, struct julia_blocks *jb)
{
	int forced = jm_julia_writer_opt(b);
	if (forced != JM_JULIA_DUAL) {
		if (jm_julia_selfmem_open(b, &jb->selfmem_fd) == 0) {
			jb->writer = JM_JULIA_SELFMEM;
			return 0;
		}
		if (forced == JM_JULIA_SELFMEM)
			return -1;
		b->err[0] = 0; /* the probe's failure is upstream's fallback */
	}
	jb->writer = JM_JULIA_DUAL;
	return open_memfd(b, jb);
}

static int jb_create(struct jm_backend *b)
{
	struct julia_blocks *jb = calloc(1, sizeof(*jb));
	if (!jb)
		return jm_backend_error(b, NULL, ENOMEM, "calloc");
	pthread_mutex_init(&jb->lock, NULL);
	jb->memfd = jb->selfmem_fd = -1;
	jb->scan = !strcmp(jm_opt_str(&b->opts, "slot_scan"), "full") ?
		SCAN_FULL : SCAN_UPSTREAM;
	jb->al[A_RO].prot = PROT_READ;
	jb->al[A_RX].prot = PROT_READ | PROT_EXEC;
	jm_julia_owned_init(&jb->owned);
	b->priv = jb;
	int rc = open_writer(b, jb);
	if (rc < 0) {
		jb_destroy(b);
		b->priv = NULL;
	}
	return rc;
}

static int which(enum jm_prot_class cls)
{
	return cls == JM_RX ? A_RX : cls == JM_RO ? A_RO : A_RW;
}

static int jb_allocate(struct jm_backend *b, const struct jm_graph_req *req,
		       struct jm_alloc *out)
{
	struct julia_blocks *jb = b->priv;
	if (!req->nseg)
		return jm_backend_error(b, NULL, EINVAL, "empty graph");
	jm_alloc_init(out, req);
	pthread_mutex_lock(&jb->lock);
	int rc = 0;
	for (uint32_t i = 0; i < out->nseg && !rc; i++) {
		struct jm_segment_alloc *s = &out->seg[i];
		uint64_t align = req->seg[i].align, rt = 0, wr = 0;
		int w = which(s->cls);
		if (w == A_RW) {
			rc = rw_alloc(b, jb, s->size, align, &rt);
			wr = rt;
		} else {
			rc = ro_alloc(b, jb, &jb->al[w], s->size, align, &rt, &wr);
		}
		if (!rc) {
			s->exec = (void *)(uintptr_t)rt;
			s->write = (void *)(uintptr_t)wr;
			jb->live += s->size;
		}
	}
	pthread_mutex_unlock(&jb->lock);
	return rc;
}

static int jb_finalize(struct jm_backend *b, struct jm_alloc *a)
{
	struct julia_blocks *jb = b->priv;
	/* the zero-fill tails, while every write address is still writable */
	for (uint32_t i = 0; i < a->nseg; i++) {
		struct jm_segment_alloc *s = &a->seg[i];
		memset((char *)s->write + s->content, 0, s->size - s->content);
	}
	pthread_mutex_lock(&jb->lock);
	/* finalizeMemory: ro_alloc->finalize(), then exe_alloc->finalize() */
	int rc = ro_finalize(b, jb, &jb->al[A_RO]);
	if (!rc)
		rc = ro_finalize(b, jb, &jb->al[A_RX]);
	pthread_mutex_unlock(&jb->lock);
	for (uint32_t i = 0; i < a->nseg; i++)
		a->seg[i].write = a->seg[i].exec;
	return rc;
}

static int jb_deallocate(struct jm_backend *b, struct jm_alloc *a)
{
	(void)b; /* never frees, as the original */
	(void)a;
	return 0;
}

static void jb_stats(struct jm_backend *b, struct jm_backend_stats *out)
{
	struct julia_blocks *jb = b->priv;
	pthread_mutex_lock(&jb->lock);
	out->va_reserved = out->bytes_mapped = jm_freeset_bytes(&jb->owned.set);
	out->va_reserved_peak = out->bytes_mapped_peak = jb->owned.peak;
	out->bytes_live = jb->live;
	out->reservations = jb->blocks;
	int n = 0;
	out->extra[n].name = "evictions";
	out->extra[n++].value = jb->evictions;
	out->extra[n].name = "tails_unmapped";
	out->extra[n++].value = jb->tails_unmapped;
	out->extra[n].name = "write_aliases";
	out->extra[n++].value = jb->aliases;
	out->extra[n].name = "temp_buffers";
	out->extra[n++].value = jb->temp_buffers;
	out->extra[n].name = "memfd_bytes";
	out->extra[n++].value = jb->map_size;
	out->extra[n].name = "writer_selfmem"; /* the writer create chose */
	out->extra[n++].value = jb->writer == JM_JULIA_SELFMEM;
	out->nextra = n;
	pthread_mutex_unlock(&jb->lock);
}

static void jb_destroy(struct jm_backend *b)
{
	struct julia_blocks *jb = b->priv;
	if (!jb)
		return;
	(void)jm_julia_owned_release(b, &jb->owned); /* recorded on b */
	for (int i = 0; i < NALLOC; i++) {
		free(jb->al[i].completed.v);
		free(jb->al[i].temp.v);
		free(jb->al[i].pend);
	}
	if (jb->memfd >= 0)
		close(jb->memfd);
	if (jb->selfmem_fd >= 0)
		close(jb->selfmem_fd);
	pthread_mutex_destroy(&jb->lock);
	free(jb);
	b->priv = NULL;
}

const struct jm_backend_ops jm_backend_julia_blocks = {
	.name = "julia-blocks",
	.description = "Julia's legacy block allocator (cgmemmgr, JITLink port): "
		       "1 MiB blocks, 8 slots per RW/RO/RX allocator, whole block "
		       "protected once, never frees",
	.models = "JuliaLang/julia src/cgmemmgr.cpp (RTDyldMemoryManagerJL, "
		  "RWAllocator, DualMapAllocator, SelfMemAllocator), PR 60105",
	.caps = JM_CAP_DUAL_MAPPED, /* not thread-safe: see the header */
	.options = (const struct jm_option_def[]){
		{"writer", JM_OPT_ENUM, "auto", "auto|dual|selfmem",
		 "how protected blocks are written: auto = as upstream on Linux "
		 "(/proc/self/mem if its probe works, else the memfd alias); "
		 "dual or selfmem force one", 0, 0},
		{"slot_scan", JM_OPT_ENUM, "upstream", "upstream|full",
		 "upstream: the literal loop (stops at the first empty slot, so "
		 "one block per allocator); full: fill all 8 slots", 0, 0},
		{0},
	},
	.create = jb_create,
	.allocate = jb_allocate,
	.finalize = jb_finalize,
	.deallocate = jb_deallocate,
	.trim = jm_backend_trim_none, /* never frees */
	.stats = jb_stats,
	.destroy = jb_destroy,
};
