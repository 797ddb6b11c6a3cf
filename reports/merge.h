/* Sharded runs: `--shard I/N` runs every N-th cell of the run matrix
 * starting at I-1; `jitmm merge` joins the shard files back into one
 * results model, refusing pieces that do not belong together. */
#ifndef JITMM_MERGE_H
#define JITMM_MERGE_H

#include <json-c/json.h>
#include <stddef.h>

/* "I/N" with 1 <= I <= N <= 100000; -1 if malformed. */
int jm_shard_parse(const char *text, unsigned *i, unsigned *n);
/* Whether matrix cell k (0-based, in run order) belongs to shard i of n. */
static inline int jm_shard_has(unsigned long k, unsigned i, unsigned n)
{
	return n == 0 || k % n == i - 1;
}
/* How many of cells 0 .. cells-1 belong to shard i of n. */
static inline unsigned jm_shard_count(unsigned long cells, unsigned i, unsigned n)
{
	unsigned c = 0;
	for (unsigned long k = 0; k < cells; k++)
		c += (unsigned)jm_shard_has(k, i, n);
	return c;
}

/* Merge n loaded results files (names for messages). Returns a new root
 * with runs in matrix order and aggregates recomputed, or NULL with a
 * one-line message naming the conflict. note (may be "") says what is
 * worth knowing but is not an error, e.g. a missing shard. */
json_object *jm_merge(json_object *const *in, const char *const *names, int n,
		      char *err, size_t errlen, char *note, size_t notelen);

#endif
