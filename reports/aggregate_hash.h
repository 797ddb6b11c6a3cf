/* Grouping by key in linear time, for results aggregation: which runs are
 * repetitions of the same (backend, options, workload) cell, and which
 * flattened metric of one run is which of another's.
 *
 * jm_results_aggregate (reports/results.c) compared every run's group key
 * with every other's (and built the key, a JSON serialisation, for each
 * comparison), then matched metrics by a linear search per metric: time
 * quadratic in the number of groups (1000 / 2000 / 4000 groups: 1.03 /
 * 3.09 / 11.6 s) and in the metrics per run. Wiring it in: build each run's
 * key once, jm_group_by_key over them, then aggregate group by group in
 * first-seen order (the order of aggregates[] stays what it was); match
 * metrics with jm_group_by_key over the keys of the runs of a group too. */
#ifndef JITMM_AGGREGATE_HASH_H
#define JITMM_AGGREGATE_HASH_H

#include <stddef.h>

/* group[i] = the group of keys[i]: equal strings share a group, groups
 * are numbered 0, 1, ... in the order of their first key. Returns the
 * number of groups, or -1 (out of memory). Expected O(total key length). */
long jm_group_by_key(const char *const *keys, size_t n, size_t *group);

#endif
