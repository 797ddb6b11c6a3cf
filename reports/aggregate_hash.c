/* Grouping by key: see aggregate_hash.h. Open addressing over a power-of-
 * two table at most half full, FNV-1a hashes, the first key of each group
 * kept to compare against. */
#include "aggregate_hash.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static uint64_t fnv1a(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ull;
	}
	return h;
}

long jm_group_by_key(const char *const *keys, size_t n, size_t *group)
{
	size_t cap = 16;
	while (cap < 2 * n)
		cap *= 2;
	/* slot: 1 + index of the group's first key; 0 = empty */
	size_t *slot = calloc(cap, sizeof(*slot));
	if (!slot)
		return -1;
	long ngroups = 0;
	for (size_t i = 0; i < n; i++) {
		size_t j = (size_t)fnv1a(keys[i]) & (cap - 1);
		while (slot[j] && strcmp(keys[slot[j] - 1], keys[i]))
			j = (j + 1) & (cap - 1);
		if (!slot[j]) {
			slot[j] = i + 1;
			group[i] = (size_t)ngroups++;
		} else {
			group[i] = group[slot[j] - 1];
		}
	}
	free(slot);
	return ngroups;
}
