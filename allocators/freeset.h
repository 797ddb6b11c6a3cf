/* An address-ordered set of free half-open ranges [start, end) that
 * coalesces adjacent ranges on insert, as LLVM's IntervalMap with
 * coalescing does for MapperJITLinkMemoryManager's AvailableMemory.
 * Ranges from different reservations merge when they touch, exactly as in
 * LLVM. A sorted array: lookups are binary searches, first-fit is a scan. */
#ifndef JITMM_FREESET_H
#define JITMM_FREESET_H

#include <stddef.h>
#include <stdint.h>

struct jm_range {
	uint64_t start, end;
};

struct jm_freeset {
	struct jm_range *r;
	size_t n, cap;
};

void jm_freeset_init(struct jm_freeset *fs);
void jm_freeset_release(struct jm_freeset *fs);
/* Insert [start, end); must not overlap a free range. -1 on overlap/ENOMEM. */
int jm_freeset_insert(struct jm_freeset *fs, uint64_t start, uint64_t end);
/* First range (lowest address) of at least size bytes; take size bytes from
 * its low end. Returns 0 and sets *start, or -1 if none fits. */
int jm_freeset_first_fit(struct jm_freeset *fs, uint64_t size,
			 uint64_t *start);
/* Smallest range of at least size bytes (lowest address among equals; an
 * exact fit stops the search); take from its low end. */
int jm_freeset_best_fit(struct jm_freeset *fs, uint64_t size, uint64_t *start);
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
