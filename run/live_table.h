/* Live allocations keyed by graph id, in memory that follows the live set.
 *
 * The allocations (struct jm_alloc, ~340 bytes) live in chunks that never
 * move (a backend or the linker may hold a pointer to one) and are reused
 * through a free list; a compact index of 16-byte entries (id, slot) maps
 * an id to its slot by open addressing with linear probing, deleting by
 * backward shift (no tombstones to pile up under churn). Both grow with
 * the number of graphs live at once, never with a declared maximum: the
 * hint given to jm_live_init only sizes (and pre-faults) the first part,
 * up to JM_LIVE_PRESIZE_MAX graphs, so that a run's own first touches are
 * not counted as the backend's page faults. */
#ifndef JITMM_LIVE_TABLE_H
#define JITMM_LIVE_TABLE_H

#include <stddef.h>
#include <stdint.h>

#include "../allocators/graph.h"

/* at most this many graphs' worth is allocated before the first insert */
#define JM_LIVE_PRESIZE_MAX 65536u
/* allocations per chunk */
#define JM_LIVE_CHUNK 256u

struct jm_live_index {
	uint64_t key; /* id + 1; 0 = empty */
	uint32_t slot;
};

struct jm_live_chunk {
	uint64_t key[JM_LIVE_CHUNK]; /* the slot's key; 0 = free */
	struct jm_alloc alloc[JM_LIVE_CHUNK];
};

struct jm_live_table {
	struct jm_live_index *index;
	size_t cap;                  /* index entries, a power of two */
	size_t n;                    /* live graphs */
	struct jm_live_chunk **chunk;
	size_t nchunks, chunks_cap;
	uint32_t *free_slot;         /* a stack of free slots */
	size_t nfree;
};

/* expected: the graphs expected live at once (a hint; 0 = unknown). */
int jm_live_init(struct jm_live_table *t, size_t expected);
void jm_live_release(struct jm_live_table *t);
/* Returns the zeroed allocation for a new id, NULL if present or ENOMEM. */
struct jm_alloc *jm_live_insert(struct jm_live_table *t, uint64_t id);
struct jm_alloc *jm_live_find(const struct jm_live_table *t, uint64_t id);
void jm_live_remove(struct jm_live_table *t, uint64_t id);
/* Find and remove in one lookup: find (NULL if absent) and where it is in
 * *at, which jm_live_remove_at takes while the table is not changed in
 * between. */
struct jm_alloc *jm_live_find_at(const struct jm_live_table *t, uint64_t id, size_t *at);
void jm_live_remove_at(struct jm_live_table *t, size_t at);
/* Iterate: returns the next live allocation after *pos (start with 0). */
struct jm_alloc *jm_live_next(const struct jm_live_table *t, size_t *pos);
/* The most the table takes while max_live graphs are live at once (whole
 * chunks, an index at most 4 entries a graph: it doubles at half full, a
 * free-list entry each), for estimating a run's memory before it starts;
 * UINT64_MAX when that does not fit in 64 bits. */
uint64_t jm_live_table_bytes(uint64_t max_live);
/* Bytes the table holds now (index, chunks, free list). */
size_t jm_live_bytes(const struct jm_live_table *t);

#endif
