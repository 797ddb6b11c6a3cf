/* An address-ordered set of free half-open ranges [start, end) that
 * coalesces adjacent ranges on insert, as LLVM's IntervalMap with
 * coalescing does for MapperJITLinkMemoryManager's AvailableMemory.
 * Ranges from different reservations merge when they touch, exactly as in
 * LLVM.
 *
 * A treap keyed by start address, each node holding the longest range of
 * its subtree: first fit (the lowest-address range of at least a size)
 * descends along that maximum, so insert, remove and first fit are
 * O(log n) expected, where a sorted array with a first-fit scan was O(n)
 * (LLVM's IntervalMap is a B+tree: its operations are O(log n) too). Best
 * fit (tvm-ffi's Slab::bumpAllocate) uses a second treap over the same
 * nodes keyed by (length, start), built on its first call and kept from
 * then on; a set only ever asked for first fit does not pay for it. The
 * results are those of the scans: same range, same address. */
#ifndef JITMM_FREESET_H
#define JITMM_FREESET_H

#include <stddef.h>
#include <stdint.h>

struct jm_range {
	uint64_t start, end;
};

/* A range and its links; index 0 is the empty tree (freeset.c; here so
 * that tests/test_freeset.c can check the trees' invariants). */
struct jm_freeset_node {
	uint64_t start, end;
	uint64_t max;          /* the longest range in its address subtree */
	uint32_t l, r, pri;    /* children by address; the treap priority */
	uint32_t len_l, len_r; /* children by (length, start), once by_len */
};

struct jm_freeset {
	struct jm_freeset_node *node; /* node[0] is the empty tree */
	uint32_t root, free_list, used, cap;
	uint32_t len_root; /* the tree by (length, start), once by_len */
	int by_len;
	size_t n;       /* ranges */
	uint64_t bytes; /* free bytes over all ranges */
	uint32_t seed;  /* treap priorities */
};

void jm_freeset_init(struct jm_freeset *fs);
void jm_freeset_release(struct jm_freeset *fs);
/* Insert [start, end); must not overlap a free range. -1 on overlap/ENOMEM. */
int jm_freeset_insert(struct jm_freeset *fs, uint64_t start, uint64_t end);
/* First range (lowest address) of at least size bytes; take size bytes from
 * its low end. Returns 0 and sets *start, or -1 if none fits. */
int jm_freeset_first_fit(struct jm_freeset *fs, uint64_t size,
			 uint64_t *start);
/* Smallest range of at least size bytes, the lowest address among equals
 * (what a scan in address order that keeps a strictly shorter fit and
 * stops at an exact one returns); take size bytes from its low end.
 * O(log n) expected; the first call indexes the set by length, O(n log n)
 * once. Returns 0 and sets *start, or -1 if none fits. */
int jm_freeset_best_fit(struct jm_freeset *fs, uint64_t size, uint64_t *start);
/* The lowest-address range that starts at or after from and is at least
 * size bytes long: 0 and *out, or -1 if there is none. */
int jm_freeset_fit_from(const struct jm_freeset *fs, uint64_t from, uint64_t size,
			struct jm_range *out);
/* Remove [start, end) entirely contained in one free range. */
int jm_freeset_remove(struct jm_freeset *fs, uint64_t start, uint64_t end);
/* Remove every free byte in [start, end) (ranges may be partly inside). */
void jm_freeset_remove_all_in(struct jm_freeset *fs, uint64_t start,
			      uint64_t end);
uint64_t jm_freeset_bytes(const struct jm_freeset *fs);
/* 1 if [start, end) is entirely free. */
int jm_freeset_contains(const struct jm_freeset *fs, uint64_t start,
			uint64_t end);

#endif
