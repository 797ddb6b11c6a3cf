/* Live allocations keyed by graph id: open addressing, sized before the
 * measurement window so that lookups and inserts allocate nothing in it
 * (it grows only if a workload exceeds its stated bound). */
#ifndef JITMM_LIVE_TABLE_H
#define JITMM_LIVE_TABLE_H

#include <stddef.h>
#include <stdint.h>

#include "../allocators/graph.h"

struct jm_live_slot {
	uint64_t key; /* id + 1; 0 = empty, UINT64_MAX = deleted */
	struct jm_alloc alloc;
};

struct jm_live_table {
	struct jm_live_slot *slot;
	size_t cap, n, used; /* used counts deleted slots too */
};

int jm_live_init(struct jm_live_table *t, size_t max_live);
/* The bytes jm_live_init takes for max_live graphs (UINT64_MAX: too many). */
uint64_t jm_live_table_bytes(size_t max_live);
void jm_live_release(struct jm_live_table *t);
/* Returns the slot's allocation for a new id, NULL if present or ENOMEM. */
struct jm_alloc *jm_live_insert(struct jm_live_table *t, uint64_t id);
struct jm_alloc *jm_live_find(struct jm_live_table *t, uint64_t id);
void jm_live_remove(struct jm_live_table *t, uint64_t id);
/* Iterate: returns the next live allocation after *pos (start with 0). */
struct jm_alloc *jm_live_next(struct jm_live_table *t, size_t *pos);

#endif
