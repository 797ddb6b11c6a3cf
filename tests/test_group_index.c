/* The group index of results.json (reports/results.c): runs grouped by
 * (backend, options, workload) through a hash table, groups in the order
 * of their first run, each group's runs in array order; and the
 * aggregates jm_results_aggregate builds from it. */
#include "testutil.h"

#include <json-c/json.h>

#include "../reports/results.h"

/* a run of backend "b<g % 97>" with options {"k": g / 97} on workload
 * "w<g>": groups differ in every part of the key */
static json_object *run_of(size_t g, double wall)
{
	char name[32];
	json_object *r = json_object_new_object();
	snprintf(name, sizeof(name), "b%zu", g % 97);
	json_object_object_add(r, "backend", json_object_new_string(name));
	json_object *o = json_object_new_object();
	json_object_object_add(o, "k", json_object_new_int64((int64_t)(g / 97)));
	json_object_object_add(r, "backend_options", o);
	snprintf(name, sizeof(name), "w%zu", g);
	json_object_object_add(r, "workload", json_object_new_string(name));
	json_object_object_add(r, "workload_spec", json_object_new_string(name));
	json_object_object_add(r, "status", json_object_new_string("ok"));
	json_object *m = json_object_new_object();
	json_object_object_add(m, "wall_ns", json_object_new_double(wall));
	json_object_object_add(r, "metrics", m);
	return r;
}

/* 5,000 groups of 4 runs, interleaved: run i is group perm(i % 5000) */
#define GROUPS 5000u
#define PER 4u
static size_t group_at(size_t i)
{
	return (i % GROUPS) * 7919u % GROUPS; /* 7919 is prime: a permutation */
}

static void test_groups_in_first_run_order(void **state)
{
	(void)state;
	json_object *runs = json_object_new_array();
	for (size_t i = 0; i < GROUPS * PER; i++)
		json_object_array_add(runs, run_of(group_at(i), (double)i));
	struct jm_group_index ix;
	jm_group_index_build(runs, &ix);
	assert_int_equal(ix.n, GROUPS * PER);
	assert_int_equal(ix.ngroups, GROUPS);
	assert_int_equal(ix.start[GROUPS], GROUPS * PER);
	for (size_t g = 0; g < GROUPS; g++) {
		/* group g's first run is run g; its runs g, g + 5000, ... */
		assert_int_equal(ix.start[g + 1] - ix.start[g], PER);
		for (size_t k = 0; k < PER; k++)
			assert_int_equal(ix.order[ix.start[g] + k], g + k * GROUPS);
		const char *key = ix.key[g];
		size_t pos = jm_group_index_lower(&ix, key);
		assert_int_equal(pos, ix.start[g]);
		size_t n = 0;
		while (jm_group_index_match(&ix, pos + n, key))
			n++;
		assert_int_equal(n, PER);
	}
	/* a key no run has: lower is the end, nothing matches */
	size_t pos = jm_group_index_lower(&ix, "nobody|{}|none");
	assert_int_equal(pos, ix.n);
	assert_false(jm_group_index_match(&ix, pos, "nobody|{}|none"));
	jm_group_index_free(&ix);
	json_object_put(runs);
}

static void test_empty_and_missing_runs(void **state)
{
	(void)state;
	struct jm_group_index ix;
	jm_group_index_build(NULL, &ix);
	assert_int_equal(ix.n, 0);
	assert_int_equal(ix.ngroups, 0);
	assert_int_equal(jm_group_index_lower(&ix, "a|{}|b"), 0);
	assert_false(jm_group_index_match(&ix, 0, "a|{}|b"));
	jm_group_index_free(&ix);
	json_object *runs = json_object_new_array();
	jm_group_index_build(runs, &ix);
	assert_int_equal(ix.ngroups, 0);
	jm_group_index_free(&ix);
	json_object_put(runs);
}

static void test_aggregates_follow_the_groups(void **state)
{
	(void)state;
	json_object *root = json_object_new_object();
	json_object *runs = json_object_new_array();
	json_object_object_add(root, "runs", runs);
	for (size_t i = 0; i < GROUPS * PER; i++)
		json_object_array_add(runs, run_of(group_at(i), (double)i));
	jm_results_aggregate(root);
	json_object *aggs = json_object_object_get(root, "aggregates");
	assert_non_null(aggs);
	assert_int_equal(json_object_array_length(aggs), GROUPS);
	for (size_t g = 0; g < GROUPS; g++) {
		json_object *a = json_object_array_get_idx(aggs, g);
		char want[32];
		snprintf(want, sizeof(want), "w%zu", group_at(g));
		assert_string_equal(jm_json_str(a, "workload_spec", ""), want);
		assert_int_equal(json_object_get_int64(json_object_object_get(a, "runs")), PER);
		/* wall_ns of runs g, g + 5000, g + 10000, g + 15000 */
		double med, lo, hi;
		assert_int_equal(jm_agg_metric(a, "wall_ns", &med, &lo, &hi), 0);
		assert_true(lo == (double)g);
		assert_true(hi == (double)(g + 3 * GROUPS));
		assert_true(med == (double)g + 1.5 * GROUPS);
	}
	json_object_put(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_groups_in_first_run_order),
		cmocka_unit_test(test_empty_and_missing_runs),
		cmocka_unit_test(test_aggregates_follow_the_groups),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
