/* null: no memory syscalls at all. Segments come from the heap and keep
 * whatever protection the heap has. It measures the harness's own cost
 * per event, and its test options misbehave on purpose so that the tests
 * can check the harness survives: crash_after (SIGSEGV), hang_after (never
 * returns), leak (one page mapped at create and never unmapped).
 *
 * Its memory is a size-class allocator of its own, so that the harness's
 * cost is not malloc's: one class per quarter of a power of two (64-byte
 * steps up to 1 KiB); blocks are cut from 4 MiB heap chunks by a bump
 * pointer (from 1 MiB up, a block is a chunk of its own), and a freed block
 * goes on its class's stack of free blocks, the first reused (still in
 * cache; the stack is beside the blocks, so freeing touches none). Nothing
 * goes back to malloc before destroy: a big block freed between two chunks
 * would leave a hole that later, bigger ones do not fit, and the heap would
 * grow with the number of big graphs. Memory follows the peak of the live
 * bytes of each class. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "backend.h"
#include "os.h"

#define CHUNK_BYTES (4u << 20)
#define OWN_CHUNK (1u << 20) /* blocks from this size up: a chunk each */
#define BLOCK_ALIGN 64u
#define NCLASSES 192 /* class_of(2^48) < NCLASSES */

struct null_backend {
	uint64_t crash_after, hang_after, allocations, live, live_peak;
	struct {
		void **v;
		size_t n, made, cap; /* free, made (<= cap) */
	} bin[NCLASSES];       /* free blocks of each class */
	char *bump, *bump_end; /* the rest of the newest chunk */
	void **chunks;
	size_t nchunks, chunks_cap;
};

enum { P_TOTAL, P_CLASS }; /* priv_u: bytes laid out, the block's class */

/* The class of a block of at least n bytes, and the class's block size. */
static unsigned class_of(uint64_t n, uint64_t *size)
{
	if (n <= 1024) {
		unsigned c = (unsigned)((n + 63) / 64);
		*size = (uint64_t)(c ? c : 1) * 64;
		return c ? c : 1;
	}
	unsigned e = 63u - (unsigned)__builtin_clzll(n - 1); /* 2^e <= n-1 */
	unsigned sub = (unsigned)((n - 1) >> (e - 2)) & 3;
	*size = (1ull << e) + (uint64_t)(sub + 1) * (1ull << (e - 2));
	return 17 + (e - 10) * 4 + sub;
}

/* room for one more chunk pointer (kept for destroy) */
static int chunk_slot(struct null_backend *n)
{
	if (n->nchunks < n->chunks_cap)
		return 0;
	size_t cap = n->chunks_cap ? n->chunks_cap * 2 : 16;
	void **cs = realloc(n->chunks, cap * sizeof(*cs));
	if (!cs)
		return -1;
	n->chunks = cs;
	n->chunks_cap = cap;
	return 0;
}

/* A block of class c (size bytes): the class's last freed, else cut from
 * the newest chunk (a new one if it is used up), else a chunk of its own. */
static void *block_get(struct null_backend *n, unsigned c, uint64_t size)
{
	if (n->bin[c].n)
		return n->bin[c].v[--n->bin[c].n];
	/* room for every block of the class: freeing cannot fail */
	if (n->bin[c].cap == n->bin[c].made) {
		size_t cap = n->bin[c].cap ? n->bin[c].cap * 2 : 64;
		void **v = realloc(n->bin[c].v, cap * sizeof(*v));
		if (!v)
			return NULL;
		n->bin[c].v = v;
		n->bin[c].cap = cap;
	}
	void *p;
	if (chunk_slot(n) < 0)
		return NULL;
	if (size >= OWN_CHUNK) {
		p = aligned_alloc(BLOCK_ALIGN, size);
		if (!p)
			return NULL;
		n->chunks[n->nchunks++] = p;
	} else {
		if ((uint64_t)(n->bump_end - n->bump) < size) {
			char *chunk = aligned_alloc(BLOCK_ALIGN, CHUNK_BYTES);
			if (!chunk)
				return NULL;
			n->chunks[n->nchunks++] = chunk;
			n->bump = chunk;
			n->bump_end = chunk + CHUNK_BYTES;
		}
		p = n->bump;
		n->bump += size; /* sizes are multiples of 64: the next stays aligned */
	}
	n->bin[c].made++;
	return p;
}

static void block_put(struct null_backend *n, unsigned c, void *p)
{
	n->bin[c].v[n->bin[c].n++] = p;
}

static int null_create(struct jm_backend *b)
{
	struct null_backend *n = calloc(1, sizeof(*n));
	if (!n)
		return jm_backend_error(b, NULL, ENOMEM, "calloc");
	n->crash_after = jm_opt_u64(&b->opts, "crash_after");
	n->hang_after = jm_opt_u64(&b->opts, "hang_after");
	b->priv = n;
	if (jm_opt_u64(&b->opts, "leak")) {
		/* a mapping nobody will unmap: the leak check must see it */
		void *p = jm_os_mmap(NULL, 4096, PROT_READ,
				     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			return jm_backend_error(b, "mmap", errno, "leak page");
	}
	return 0;
}

static int null_allocate(struct jm_backend *b, const struct jm_graph_req *req,
			 struct jm_alloc *out)
{
	struct null_backend *n = b->priv;
	n->allocations++;
	if (n->crash_after && n->allocations > n->crash_after)
		raise(SIGSEGV); /* a backend bug, on purpose */
	if (n->hang_after && n->allocations > n->hang_after)
		for (;;)
			pause(); /* a deadlocked backend, on purpose */
	jm_alloc_init(out, req);
	uint64_t total = 0, maxalign = 16;
	for (uint32_t i = 0; i < req->nseg; i++) {
		total = jm_align_up(total, req->seg[i].align) + out->seg[i].size;
		if (req->seg[i].align > maxalign)
			maxalign = req->seg[i].align;
	}
	/* blocks are 64-byte aligned: room to align further inside */
	uint64_t need = (total ? total : 1) + (maxalign > BLOCK_ALIGN ? maxalign - BLOCK_ALIGN : 0);
	uint64_t size;
	unsigned c = class_of(need, &size);
	char *block = c < NCLASSES ? block_get(n, c, size) : NULL;
	if (!block)
		return jm_backend_error(b, NULL, ENOMEM, "no memory for %llu bytes",
					(unsigned long long)total);
	char *p = (char *)(uintptr_t)jm_align_up((uint64_t)(uintptr_t)block, maxalign);
	uint64_t off = 0;
	for (uint32_t i = 0; i < req->nseg; i++) {
		off = jm_align_up(off, req->seg[i].align);
		out->seg[i].write = out->seg[i].exec = p + off;
		off += out->seg[i].size;
	}
	out->priv = block;
	out->priv_u[P_TOTAL] = total;
	out->priv_u[P_CLASS] = c;
	n->live += total;
	if (n->live > n->live_peak)
		n->live_peak = n->live;
	return 0;
}

static int null_finalize(struct jm_backend *b, struct jm_alloc *a)
{
	(void)b;
	for (uint32_t i = 0; i < a->nseg; i++)
		if (a->seg[i].size > a->seg[i].content) /* most have no zero fill */
			memset((char *)a->seg[i].write + a->seg[i].content, 0,
			       a->seg[i].size - a->seg[i].content);
	return 0;
}

static int null_deallocate(struct jm_backend *b, struct jm_alloc *a)
{
	struct null_backend *n = b->priv;
	n->live -= a->priv_u[P_TOTAL];
	block_put(n, (unsigned)a->priv_u[P_CLASS], a->priv);
	a->priv = NULL;
	return 0;
}

static void null_stats(struct jm_backend *b, struct jm_backend_stats *out)
{
	struct null_backend *n = b->priv;
	out->bytes_live = n->live;
	out->bytes_mapped = n->live;
	out->bytes_mapped_peak = n->live_peak;
}

static void null_destroy(struct jm_backend *b)
{
	struct null_backend *n = b->priv;
	if (!n)
		return;
	for (size_t i = 0; i < n->nchunks; i++)
		free(n->chunks[i]);
	for (unsigned c = 0; c < NCLASSES; c++)
		free(n->bin[c].v);
	free(n->chunks);
	free(n);
}

const struct jm_backend_ops jm_backend_null = {
	.name = "null",
	.description = "no syscalls (heap memory, no protections): the "
		       "harness's own overhead",
	.models = "nothing: a control",
	.caps = JM_CAP_FREES | JM_CAP_NO_PROTECT,
	.options = (const struct jm_option_def[]){
		{"crash_after", JM_OPT_UINT, "0", NULL,
		 "raise SIGSEGV on allocation N+1 (0 = never); for testing "
		 "crash isolation", 0, 0, 1},
		{"hang_after", JM_OPT_UINT, "0", NULL,
		 "never return from allocation N+1 (0 = never); for testing "
		 "--timeout", 0, 0, 1},
		{"leak", JM_OPT_BOOL, "off", NULL,
		 "map one page at create and never unmap it; for testing the "
		 "leak check", 0, 0, 1},
		{0},
	},
	.create = null_create,
	.allocate = null_allocate,
	.finalize = null_finalize,
	.deallocate = null_deallocate,
	.trim = jm_backend_trim_none,
	.stats = null_stats,
	.destroy = null_destroy,
};
