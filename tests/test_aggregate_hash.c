/* Grouping by key (reports/aggregate_hash.c): the groups and their order
 * are those of comparing every key with every earlier one, the way
 * jm_results_aggregate grouped runs; and 200,000 keys in 20,000 groups go
 * through (in linear time: the quadratic way would compare 10^9 pairs). */
#include "testutil.h"

#include "../reports/aggregate_hash.h"

/* the reference: the first earlier key equal to this one */
static void quadratic(const char *const *keys, size_t n, size_t *group, long *ngroups)
{
	*ngroups = 0;
	for (size_t i = 0; i < n; i++) {
		size_t j = 0;
		while (j < i && strcmp(keys[j], keys[i]))
			j++;
		group[i] = j < i ? group[j] : (size_t)(*ngroups)++;
	}
}

static void test_same_groups_in_first_seen_order(void **state)
{
	(void)state;
	enum { N = 3000 };
	static char buf[N][64];
	static const char *keys[N];
	static size_t got[N], want[N];
	uint64_t x = 12345;
	for (size_t i = 0; i < N; i++) {
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		/* 400 distinct keys, some differing only at the end */
		snprintf(buf[i], sizeof(buf[i]), "single-pool|{\"granularity\":\"16M\"}|seed=%llu",
			 (unsigned long long)((x >> 33) % 400));
		keys[i] = buf[i];
	}
	keys[7] = ""; /* an empty key is a key like any other */
	keys[9] = "";
	long ng;
	quadratic(keys, N, want, &ng);
	assert_int_equal(jm_group_by_key(keys, N, got), ng);
	for (size_t i = 0; i < N; i++)
		assert_int_equal(got[i], want[i]);
	assert_int_equal(got[7], got[9]);
	assert_int_equal(jm_group_by_key(keys, 0, got), 0);
}

static void test_many_groups(void **state)
{
	(void)state;
	enum { N = 200000 };
	char (*buf)[32] = malloc(N * sizeof(*buf));
	const char **keys = malloc(N * sizeof(*keys));
	size_t *group = malloc(N * sizeof(*group));
	assert_non_null(buf);
	assert_non_null(keys);
	assert_non_null(group);
	for (size_t i = 0; i < N; i++) {
		snprintf(buf[i], sizeof(buf[i]), "w%zu", i % 20000);
		keys[i] = buf[i];
	}
	assert_int_equal(jm_group_by_key(keys, N, group), 20000);
	for (size_t i = 0; i < N; i++)
		assert_int_equal(group[i], i % 20000);
	free(buf);
	free(keys);
	free(group);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_groups_in_first_seen_order),
		cmocka_unit_test(test_many_groups),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
