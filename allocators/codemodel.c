/* codemodel: Julia's CodeModel-aware JLJITLinkMemoryManager (Julia PR
 * 60915, src/cgmemmgr.cpp: CodeAllocator, DualBlockMapper, SelfMemMapper;
 * /work/shared/reference/allocators.md section 4b).
 *
 * A graph becomes two allocations: RX (exec and read-only sections) and RW
 * (writable sections), each packed at its sections' own alignments with
 * no per-segment page rounding. They come from the current block, a
 * 2^block_bits reservation split [RX | RW] by text_data_ratio (7: RX gets
 * 7/8 of the pages, RW 1/8), bump-allocated upward.
 *   block:      mmap(hint, 2^bits, PROT_NONE, PRIVATE|ANON|NORESERVE).
 *               The first anywhere; later ones by map_reserve_around:
 *               every byte within 2^(call_range_bits-1) of all code so far
 *               [code_lo, code_hi): hint code_hi, then up to 10 random
 *               hints in the window (each miss munmapped), then anywhere
 *               (counted in stats.reach_failures when out of reach).
 *   RX side:    writer=dual: the memfd (grown by max(size, 128 MiB)) is
 *               mapped MAP_SHARED|MAP_FIXED PROT_NONE over the block, then
 *               mprotect(R-X); a second MAP_SHARED RW view is the write
 *               alias. writer=selfmem: anonymous MAP_FIXED R-X; each graph
 *               is written into a malloc buffer copied with pwrite into
 *               /proc/self/mem at finalize.
 *   RW side:    anonymous MAP_FIXED RW.
 * allocate:   oversize (RX or RW side larger than its half of a block):
 *             a dedicated reservation sized to the graph (no reach hint).
 *             Else if either side cannot fit: a new block; the old one's
 *             unused tails (past the page-aligned used prefix) are
 *             unmapped, its alias too once nothing is in flight in it.
 *             Zero-fill bytes are memset through the write address.
 * finalize:   icache flush only: NO mprotect. In flight counts drop; an
 *             old block's alias is unmapped when its count reaches zero.
 * deallocate: no-op (never frees). destroy: unmaps everything.
 * Read-only data lives in R-X memory (effective_prot).
 *
 * Choices (documented in docs/backends/codemodel.md):
 *  - a graph's ro and rx segments (both lifetimes) are packed into the RX
 *    allocation in AllocGroup order (R before X, standard before
 *    finalize); upstream orders by section ordinal, which the model lacks;
 *  - an allocation's alignment is the largest of its segments';
 *  - the random hints use Julia's cong() (LCG 69069*x + 362437, masked
 *    rejection) seeded with target ^ 0xdeadbeefdeadbeef, as upstream;
 *  - a zero-size RX side still counts as in flight and is never finalized
 *    (upstream's finalize returns early for sz == 0), so such a block's
 *    alias stays until destroy -- reproduced;
 *  - selfmem buffers come from posix_memalign at the RX side's alignment
 *    (upstream: malloc) so write addresses are aligned like run-time ones;
 *  - after finalize a segment's write address is its execution address
 *    (the buffer is freed, the alias may be unmapped).
 *  - thread-safe as JLJITLinkMemoryManager: one mutex around allocate's
 *    bookkeeping and finalize's (upstream's Mutex); writes and zero-fill
 *    need none, since finalize protects nothing and an alias is unmapped
 *    only when its block has nothing in flight. finalize finds its block by
 *    the block's used prefix, not upstream's whole [ptr, ptr + total)
 *    (see in_block).
 *  - create runs the constructor's mapper sequence (open_writer): with
 *    writer=auto the memfd probe (memfd_create, ftruncate to a page, map
 *    a page PROT_NONE shared, mprotect R-X, unmap) twice and the self-mem
 *    probe (a test R-X page written through /proc/self/mem) between them:
 *    2 memfd_create, 2 ftruncate, 3 mmap, 2 mprotect, 3 munmap and one
 *    pwrite in every run's counts. The stat writer_selfmem says which
 *    writer was chosen. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "backend.h"
#include "julia_cgmem.h"
#include "os.h"

struct block {
	uint64_t ptr, total, avail;
	uint64_t wr;    /* dual: write alias of the RX side */
	int in_flight;  /* RX allocations not finalized yet */
};

struct codemodel {
	pthread_mutex_t lock;
	enum jm_julia_writer writer;
	unsigned block_bits, ratio, range_bits;
	uint64_t rx_block_size, rw_block_size;
	struct block rx, rw;        /* the current block's two sides */
	struct block *completed;    /* RX sides with allocations in flight */
	size_t ncompleted, capcompleted;
	uint64_t code_lo, code_hi;
	int memfd, selfmem_fd;
	uint64_t map_size, map_offset;
	struct jm_julia_owned owned; /* every byte mapped by this backend */
	uint64_t live;
	uint64_t blocks, oversize, reach_failures, hint_misses, aliases;
};

/* per-allocation state in jm_alloc.priv_u */
enum { P_RX_RT, P_RX_WR, P_RX_SZ, P_FLAGS };
#define F_MALLOCED 1u

/* map_reserve(hint, size): 0 on failure */
static uint64_t map_reserve(struct codemodel *cm, uint64_t hint, uint64_t size)
{
	void *p = jm_os_mmap((void *)(uintptr_t)hint, size, PROT_NONE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return 0;
	jm_julia_own(&cm->owned, (uint64_t)(uintptr_t)p, size);
	return (uint64_t)(uintptr_t)p;
}

/* Julia's cong(): uniform in [0, max) by masked rejection. */
static uint64_t cong(uint64_t max, uint64_t *seed)
{
	if (max == 0)
		return 0;
	uint64_t mask = ~(uint64_t)0;
	--max;
	mask >>= __builtin_clzll(max | 1);
	uint64_t x;
	do {
		*seed = 69069 * (*seed) + 362437;
		x = *seed & mask;
	} while (x > max);
	return x;
}

/* map_reserve_around: a reservation every byte of which is within
 * 2^(range_bits-1) of every byte of [target, target + target_size). */
static uint64_t map_reserve_around(struct codemodel *cm, uint64_t size,
				   uint64_t target, uint64_t target_size)
{
	const uint64_t ps = jm_page_size();
	uint64_t half_range = 1ull << (cm->range_bits - 1);
	uint64_t lo = target + target_size - half_range;
	uint64_t hi = target + half_range - size;
	if (lo >= target || hi < target + target_size) {
		/* the code so far is already too big for the window */
		cm->reach_failures++;
		return map_reserve(cm, 0, size);
	}
	uint64_t seed = target ^ 0xdeadbeefdeadbeefull;
	uint64_t hint = target + target_size;
	for (int i = 0; i < 10; ++i) {
		uint64_t addr = map_reserve(cm, hint, size);
		if (addr) {
			if (addr >= lo && addr < hi)
				return addr;
			cm->hint_misses++;
			jm_julia_unmap(&cm->owned, addr, size);
		}
		do {
			int64_t r = (int64_t)cong(1ull << cm->range_bits, &seed) -
				    (int64_t)half_range;
			hint = jm_align_up(target + target_size + (uint64_t)r, ps);
		} while (!(hint >= lo && hint < hi));
	}
	/* no desirable address: anything */
	uint64_t addr = map_reserve(cm, 0, size);
	if (addr && !(addr >= lo && addr < hi))
		cm->reach_failures++;
	return addr;
}

static int grow_map(struct jm_backend *b, struct codemodel *cm, uint64_t size)
{
	size = jm_align_up(size, jm_page_size());
	if (size < JM_JULIA_MAP_SIZE_INC)
		size = JM_JULIA_MAP_SIZE_INC;
	cm->map_size += size;
	if (jm_os_ftruncate(cm->memfd, (off_t)cm->map_size) != 0)
		return jm_backend_error(b, "ftruncate", errno, "growing the code file");
	return 0;
}

/* rx_mapper->map(addr, size) */
static int map_rx(struct jm_backend *b, struct codemodel *cm, uint64_t addr,
		  uint64_t size, struct block *out)
{
	memset(out, 0, sizeof(*out));
	if (cm->writer == JM_JULIA_SELFMEM) {
		if (jm_os_mmap((void *)(uintptr_t)addr, size, PROT_READ | PROT_EXEC,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED)
			return jm_backend_error(b, "mmap", errno, "mapping an RX side");
	} else {
		if (cm->map_offset + size > cm->map_size && grow_map(b, cm, size) < 0)
			return -1;
		if (jm_os_mmap((void *)(uintptr_t)addr, size, PROT_NONE,
			       MAP_SHARED | MAP_FIXED, cm->memfd,
			       (off_t)cm->map_offset) == MAP_FAILED)
			return jm_backend_error(b, "mmap", errno, "mapping an RX side");
		if (jm_os_mprotect((void *)(uintptr_t)addr, size,
				   PROT_READ | PROT_EXEC) < 0)
			return jm_backend_error(b, "mprotect", errno,
						"making an RX side executable");
		void *w = jm_os_mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED,
				     cm->memfd, (off_t)cm->map_offset);
		if (w == MAP_FAILED)
			return jm_backend_error(b, "mmap", errno, "mapping a write alias");
		jm_julia_own(&cm->owned, (uint64_t)(uintptr_t)w, size);
		out->wr = (uint64_t)(uintptr_t)w;
		cm->map_offset += size;
		cm->aliases++;
	}
	out->ptr = addr;
	out->total = out->avail = size;
	return 0;
}

/* Block::map(addr, size): the RW side */
static int map_rw(struct jm_backend *b, uint64_t addr, uint64_t size,
		  struct block *out)
{
	memset(out, 0, sizeof(*out));
	if (!size)
		return 0;
	if (jm_os_mmap((void *)(uintptr_t)addr, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED)
		return jm_backend_error(b, "mmap", errno, "mapping an RW side");
	out->ptr = addr;
	out->total = out->avail = size;
	return 0;
}

static int can_alloc(const struct block *k, uint64_t size, uint64_t align)
{
	return (k->avail & ~(align - 1)) >= size;
}

static uint64_t blk_alloc(struct block *k, uint64_t size, uint64_t align)
{
	if (!size)
		return 0;
	uint64_t aligned_avail = k->avail & ~(align - 1);
	uint64_t p = k->ptr + k->total - aligned_avail;
	k->avail = aligned_avail - size;
	return p;
}

static int unmap_extra(struct codemodel *cm, struct block *k)
{
	uint64_t used = jm_align_up(k->total - k->avail, jm_page_size());
	if (k->total > used)
		return jm_julia_unmap(&cm->owned, k->ptr + used, k->total - used);
	return 0;
}

/* rx_mapper->cleanup: the alias goes once nothing is in flight */
static int cleanup(struct codemodel *cm, struct block *k)
{
	if (cm->writer == JM_JULIA_DUAL && k->total > 0)
		return jm_julia_unmap(&cm->owned, k->wr, k->total);
	return 0;
}

static int push_completed(struct codemodel *cm, const struct block *k)
{
	if (cm->ncompleted == cm->capcompleted) {
		size_t cap = cm->capcompleted ? cm->capcompleted * 2 : 8;
		struct block *n = realloc(cm->completed, cap * sizeof(*n));
		if (!n)
			return -1;
		cm->completed = n;
		cm->capcompleted = cap;
	}
	cm->completed[cm->ncompleted++] = *k;
	return 0;
}

static int alloc_blocks(struct jm_backend *b, struct codemodel *cm)
{
	uint64_t size = 1ull << cm->block_bits, base;
	if (cm->code_lo == 0 && cm->code_hi == 0) {
		base = map_reserve(cm, 0, size);
		if (!base)
			return jm_backend_error(b, "mmap", errno, "reserving a block");
		cm->code_lo = base;
		cm->code_hi = base + size;
	} else {
		base = map_reserve_around(cm, size, cm->code_lo,
					  cm->code_hi - cm->code_lo);
		if (!base)
			return jm_backend_error(b, "mmap", errno, "reserving a block");
		if (base < cm->code_lo)
			cm->code_lo = base;
		if (base + size > cm->code_hi)
			cm->code_hi = base + size;
	}
	cm->blocks++;
	struct block rx, rw;
	if (map_rx(b, cm, base, cm->rx_block_size, &rx) < 0 ||
	    map_rw(b, base + rx.total, cm->rw_block_size, &rw) < 0)
		return -1;
	struct block old_rx = cm->rx, old_rw = cm->rw;
	cm->rx = rx;
	cm->rw = rw;
	if (unmap_extra(cm, &old_rx) < 0)
		return jm_backend_error(b, "munmap", errno, "unmapping a block tail");
	if (old_rx.in_flight == 0) {
		if (cleanup(cm, &old_rx) < 0)
			return jm_backend_error(b, "munmap", errno,
						"unmapping a write alias");
	} else if (push_completed(cm, &old_rx) < 0) {
		return jm_backend_error(b, NULL, ENOMEM, "realloc");
	}
	if (unmap_extra(cm, &old_rw) < 0)
		return jm_backend_error(b, "munmap", errno, "unmapping a block tail");
	return 0;
}

static void cm_destroy(struct jm_backend *b);

/* DualBlockMapper::Create: init_anon_hdl's check_fd_or_close (the file
 * must map PROT_NONE and mprotect R-X). A mapper made before is destroyed
 * (its fd closed), as the unique_ptr assignment upstream does. */
static int open_memfd(struct jm_backend *b, struct codemodel *cm)
{
	const uint64_t ps = jm_page_size();
	if (cm->memfd >= 0) {
		close(cm->memfd);
		cm->memfd = -1;
	}
	if (jm_julia_memfd_open(b, &cm->memfd) < 0)
		return -1;
	void *t = jm_os_mmap(NULL, ps, PROT_NONE, MAP_SHARED, cm->memfd, 0);
	if (t == MAP_FAILED)
		return jm_backend_error(b, "mmap", errno, "code file probe");
	/* upstream leaves the probe page mapped when the mprotect fails */
	if (jm_os_mprotect(t, ps, PROT_READ | PROT_EXEC) < 0)
		return jm_backend_error(b, "mprotect", errno,
			"the code file cannot be mapped executable");
	if (jm_os_munmap(t, ps) < 0)
		return jm_backend_error(b, "munmap", errno, "code file probe");
	/* map_size starts at 0: the first block grows the file */
	return 0;
}

/* CodeAllocator's constructor (PR 60915). With no JULIA_CGMEMMGR_MAP_TYPE
 * (writer=auto) every mapper of the table is created in turn -- dual, then
 * selfmem -- and then DualBlockMapper::Create() runs once more
 * unconditionally; the self-mem mapper is used only if that fails too.
 * JULIA_CGMEMMGR_MAP_TYPE=dual (writer=dual) creates the dual mapper twice.
 * writer=selfmem is a what-if: upstream cannot reach it while memfd works
 * (the unconditional DualBlockMapper::Create() replaces it); the model
 * makes the self-mem probe alone. */
static int open_writer(struct jm_backend *b, struct codemodel *cm)
{
	int forced = jm_julia_writer_opt(b);
	if (forced == JM_JULIA_SELFMEM) {
		cm->writer = JM_JULIA_SELFMEM;
		return jm_julia_selfmem_open(b, &cm->selfmem_fd);
	}
	if (open_memfd(b, cm) < 0 && forced == JM_JULIA_DUAL)
		return -1; /* "Unsupported JULIA_CGMEMMGR_MAP_TYPE" */
	int selfmem = forced < 0 && jm_julia_selfmem_open(b, &cm->selfmem_fd) == 0;
	if (open_memfd(b, cm) == 0) {
		cm->writer = JM_JULIA_DUAL;
		b->err[0] = 0;
		return 0;
	}
	if (!selfmem)
		return -1; /* upstream aborts */
	cm->writer = JM_JULIA_SELFMEM;
	b->err[0] = 0;
	return 0;
}

static int cm_create(struct jm_backend *b)
{
	const uint64_t ps = jm_page_size();
	struct codemodel *cm = calloc(1, sizeof(*cm));
	if (!cm)
		return jm_backend_error(b, NULL, ENOMEM, "calloc");
	pthread_mutex_init(&cm->lock, NULL);
	cm->memfd = cm->selfmem_fd = -1;
	jm_julia_owned_init(&cm->owned);
	b->priv = cm;
	cm->block_bits = (unsigned)jm_opt_u64(&b->opts, "block_bits");
	cm->ratio = (unsigned)jm_opt_u64(&b->opts, "text_data_ratio");
	cm->range_bits = (unsigned)jm_opt_u64(&b->opts, "call_range_bits");
	int rc = 0;
	if (cm->block_bits > cm->range_bits - 1)
		rc = jm_backend_error(b, NULL, EINVAL,
			"block_bits %u is too big for call_range_bits %u",
			cm->block_bits, cm->range_bits);
	else if ((1ull << cm->block_bits) <= ps)
		rc = jm_backend_error(b, NULL, EINVAL,
			"block_bits %u is smaller than the page size", cm->block_bits);
	if (!rc) {
		uint64_t pages = (1ull << cm->block_bits) / ps;
		uint64_t rx_pages = pages * cm->ratio / (1 + cm->ratio);
		uint64_t rw_pages = pages - rx_pages;
		if (!rx_pages || !rw_pages)
			rc = jm_backend_error(b, NULL, EINVAL,
				"block_bits %u with text_data_ratio %u leaves a side empty",
				cm->block_bits, cm->ratio);
		cm->rx_block_size = rx_pages * ps;
		cm->rw_block_size = rw_pages * ps;
	}
	if (!rc)
		rc = open_writer(b, cm);
	if (rc < 0)
		cm_destroy(b);
	return rc;
}

static int is_rx_side(enum jm_prot_class cls)
{
	return cls != JM_RW; /* exec -> RX; writable -> RW; read-only -> RX */
}

static int cm_allocate(struct jm_backend *b, const struct jm_graph_req *req,
		       struct jm_alloc *out)
{
	struct codemodel *cm = b->priv;
	const uint64_t ps = jm_page_size();
	if (!req->nseg)
		return jm_backend_error(b, NULL, EINVAL, "empty graph");
	jm_alloc_init(out, req);
	/* lay each side out: offsets at the segments' own alignments */
	uint64_t off[JM_MAX_SEGS], size[2] = {0, 0}, align[2] = {1, 1};
	for (uint32_t i = 0; i < out->nseg; i++) {
		int side = !is_rx_side(out->seg[i].cls);
		uint64_t al = req->seg[i].align ? req->seg[i].align : 1;
		off[i] = jm_align_up(size[side], al);
		size[side] = off[i] + out->seg[i].size;
		if (al > align[side])
			align[side] = al;
	}
	pthread_mutex_lock(&cm->lock);
	struct block *rx = &cm->rx, *rw = &cm->rw, big_rx, big_rw;
	int big = 0, rc = 0;
	if (size[0] > cm->rx_block_size || size[1] > cm->rw_block_size) {
		/* unusually large: a dedicated reservation, not near other code */
		size[0] = jm_align_up(jm_align_up(size[0], align[0]), ps);
		size[1] = jm_align_up(jm_align_up(size[1], align[1]), ps);
		uint64_t base = map_reserve(cm, 0, size[0] + size[1]);
		if (!base) {
			rc = jm_backend_error(b, "mmap", errno,
				"reserving %lu bytes for an oversize graph",
				(unsigned long)(size[0] + size[1]));
			goto out;
		}
		cm->oversize++;
		memset(&big_rx, 0, sizeof(big_rx));
		if ((size[0] && map_rx(b, cm, base, size[0], &big_rx) < 0) ||
		    map_rw(b, base + size[0], size[1], &big_rw) < 0) {
			rc = -1;
			goto out;
		}
		rx = &big_rx;
		rw = &big_rw;
		big = 1;
	} else if (!can_alloc(&cm->rx, size[0], align[0]) ||
		   !can_alloc(&cm->rw, size[1], align[1])) {
		if (alloc_blocks(b, cm) < 0) {
			rc = -1;
			goto out;
		}
		if (!can_alloc(&cm->rx, size[0], align[0]) ||
		    !can_alloc(&cm->rw, size[1], align[1])) {
			rc = jm_backend_error(b, NULL, EINVAL,
				"graph does not fit a fresh block (alignment %lu/%lu)",
				(unsigned long)align[0], (unsigned long)align[1]);
			goto out;
		}
	}
	uint64_t rx_rt = blk_alloc(rx, size[0], align[0]);
	uint64_t rw_rt = blk_alloc(rw, size[1], align[1]);
	uint64_t rx_wr = 0;
	rx->in_flight++;
	if (size[0]) {
		if (cm->writer == JM_JULIA_DUAL) {
			rx_wr = rx_rt - rx->ptr + rx->wr;
		} else {
			/* upstream malloc()s; aligned here so that write
			 * addresses honour the segments' alignment too */
			void *buf = NULL;
			if (posix_memalign(&buf, align[0] < sizeof(void *) ?
					   sizeof(void *) : align[0], size[0]) != 0) {
				rc = jm_backend_error(b, NULL, ENOMEM, "malloc");
				goto out;
			}
			rx_wr = (uint64_t)(uintptr_t)buf;
			out->priv_u[P_FLAGS] |= F_MALLOCED;
		}
	}
	if (big && push_completed(cm, &big_rx) < 0) {
		rc = jm_backend_error(b, NULL, ENOMEM, "realloc");
		goto out;
	}
	out->priv_u[P_RX_RT] = rx_rt;
	out->priv_u[P_RX_WR] = rx_wr;
	out->priv_u[P_RX_SZ] = size[0];
	for (uint32_t i = 0; i < out->nseg; i++) {
		struct jm_segment_alloc *s = &out->seg[i];
		if (is_rx_side(s->cls)) {
			s->exec = (void *)(uintptr_t)(rx_rt + off[i]);
			s->write = (void *)(uintptr_t)(rx_wr + off[i]);
		} else {
			s->exec = s->write = (void *)(uintptr_t)(rw_rt + off[i]);
		}
		/* zero-fill blocks are memset through the write address */
		memset((char *)s->write + s->content, 0, s->size - s->content);
		cm->live += s->size;
	}
out:
	pthread_mutex_unlock(&cm->lock);
	return rc;
}

/* Upstream matches [ptr, ptr + total). The unused tail of a replaced block
 * is unmapped, and a later reservation may land in that hole, so with
 * several graphs in flight (threads) an allocation could be charged to an
 * older block still on the completed list, whose count would then reach
 * zero early and whose alias would be unmapped under its writers. Every
 * allocation lies in its block's used prefix, which stays mapped. */
static int in_block(const struct block *k, uint64_t a)
{
	return a >= k->ptr && a < k->ptr + (k->total - k->avail);
}

static int cm_finalize(struct jm_backend *b, struct jm_alloc *a)
{
	struct codemodel *cm = b->priv;
	uint64_t rt = a->priv_u[P_RX_RT], wr = a->priv_u[P_RX_WR];
	uint64_t sz = a->priv_u[P_RX_SZ];
	int rc = 0;
	if (sz == 0)
		goto done;
	/* icache flush (a no-op on x86-64); no mprotect */
	__builtin___clear_cache((char *)(uintptr_t)rt, (char *)(uintptr_t)(rt + sz));
	pthread_mutex_lock(&cm->lock);
	struct block *k = NULL;
	size_t idx = 0;
	if (in_block(&cm->rx, rt)) {
		k = &cm->rx;
	} else {
		for (idx = 0; idx < cm->ncompleted; idx++)
			if (in_block(&cm->completed[idx], rt)) {
				k = &cm->completed[idx];
				break;
			}
	}
	if (!k) {
		pthread_mutex_unlock(&cm->lock);
		rc = jm_backend_error(b, NULL, EINVAL,
				      "finalize of an allocation in no block");
		goto done;
	}
	k->in_flight--;
	if (cm->writer == JM_JULIA_SELFMEM)
		rc = jm_julia_selfmem_write(b, cm->selfmem_fd, wr, rt, sz);
	if (k != &cm->rx && k->in_flight == 0) {
		if (cleanup(cm, k) < 0 && !rc)
			rc = jm_backend_error(b, "munmap", errno,
					      "unmapping a write alias");
		cm->completed[idx] = cm->completed[--cm->ncompleted];
	}
	pthread_mutex_unlock(&cm->lock);
done:
	if (a->priv_u[P_FLAGS] & F_MALLOCED) {
		free((void *)(uintptr_t)wr);
		a->priv_u[P_FLAGS] &= ~(uint64_t)F_MALLOCED;
	}
	for (uint32_t i = 0; i < a->nseg; i++)
		a->seg[i].write = a->seg[i].exec;
	return rc;
}

static int cm_deallocate(struct jm_backend *b, struct jm_alloc *a)
{
	(void)b; /* never frees: "This shouldn't be reachable" upstream */
	(void)a;
	return 0;
}

static void cm_stats(struct jm_backend *b, struct jm_backend_stats *out)
{
	struct codemodel *cm = b->priv;
	pthread_mutex_lock(&cm->lock);
	out->va_reserved = out->bytes_mapped = jm_freeset_bytes(&cm->owned.set);
	out->va_reserved_peak = out->bytes_mapped_peak = cm->owned.peak;
	out->bytes_live = cm->live;
	out->reservations = cm->blocks + cm->oversize;
	out->reach_failures = cm->reach_failures;
	int n = 0;
	out->extra[n].name = "blocks";
	out->extra[n++].value = cm->blocks;
	out->extra[n].name = "oversize_reservations";
	out->extra[n++].value = cm->oversize;
	out->extra[n].name = "hint_misses";
	out->extra[n++].value = cm->hint_misses;
	out->extra[n].name = "write_aliases";
	out->extra[n++].value = cm->aliases;
	out->extra[n].name = "code_span";
	out->extra[n++].value = cm->code_hi - cm->code_lo;
	out->extra[n].name = "memfd_bytes";
	out->extra[n++].value = cm->map_size;
	out->extra[n].name = "writer_selfmem"; /* the writer create chose */
	out->extra[n++].value = cm->writer == JM_JULIA_SELFMEM;
	out->nextra = n;
	pthread_mutex_unlock(&cm->lock);
}

static void cm_destroy(struct jm_backend *b)
{
	struct codemodel *cm = b->priv;
	if (!cm)
		return;
	(void)jm_julia_owned_release(b, &cm->owned); /* recorded on b */
	free(cm->completed);
	if (cm->memfd >= 0)
		close(cm->memfd);
	if (cm->selfmem_fd >= 0)
		close(cm->selfmem_fd);
	pthread_mutex_destroy(&cm->lock);
	free(cm);
	b->priv = NULL;
}

static int cm_effective_prot(const struct jm_backend *b, enum jm_prot_class cls)
{
	(void)b;
	/* read-only sections are routed to the RX side */
	return cls == JM_RW ? PROT_READ | PROT_WRITE : PROT_READ | PROT_EXEC;
}

const struct jm_backend_ops jm_backend_codemodel = {
	.name = "codemodel",
	.description = "Julia's CodeModel-aware blocks (PR 60915): [RX|RW] "
		       "1 MiB blocks within call range of all code, packed "
		       "sections, no mprotect at finalize, never frees",
	.models = "JuliaLang/julia PR 60915 src/cgmemmgr.cpp (CodeAllocator, "
		  "DualBlockMapper, SelfMemMapper, JLJITLinkMemoryManager)",
	.caps = JM_CAP_DUAL_MAPPED | JM_CAP_CODE_MODEL | JM_CAP_THREAD_SAFE,
	.options = (const struct jm_option_def[]){
		{"block_bits", JM_OPT_UINT, "20", NULL,
		 "log2 of the block size (JULIA_CGMEMMGR_BLOCK_SIZE)", 13, 40},
		{"text_data_ratio", JM_OPT_UINT, "7", NULL,
		 "RX pages : RW pages of a block (7: RX gets 7/8)", 1, 1024},
		{"call_range_bits", JM_OPT_UINT, "32", NULL,
		 "signed reach of calls (x86-64 32, AArch64 28, ARM/PPC 26)",
		 14, 48},
		{"writer", JM_OPT_ENUM, "auto", "auto|dual|selfmem",
		 "auto: the constructor without JULIA_CGMEMMGR_MAP_TYPE (probes "
		 "dual, selfmem, dual; memfd alias unless memfd fails); dual: "
		 "JULIA_CGMEMMGR_MAP_TYPE=dual; selfmem: a what-if (pwrite to "
		 "/proc/self/mem), not reachable upstream while memfd works", 0, 0},
		{0},
	},
	.create = cm_create,
	.allocate = cm_allocate,
	.finalize = cm_finalize,
	.deallocate = cm_deallocate,
	.trim = jm_backend_trim_none, /* never frees */
	.stats = cm_stats,
	.destroy = cm_destroy,
	.effective_prot = cm_effective_prot,
};
