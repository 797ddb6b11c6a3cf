/* Design tests for colocate (llvm#207970): per-JITDylib reservation pools.
 * - no reach failures within a dylib while it fits one slab;
 * - graphs of different dylibs never share a reservation (memory freed by
 *   one dylib is never handed to another);
 * - a dylib that outgrows 2 GiB of slabs under growth=multiple is counted
 *   as a reach failure (the counter is live, not a constant 0);
 * - growth=single fails cleanly when a dylib overflows its slab: the run's
 *   status is failed with a clear error, other dylibs and other backends'
 *   runs complete. */
#include "testutil.h"

#include <json-c/json.h>
#include <sys/mman.h>

#include "../allocators/backend.h"
#include "../linker/contents.h"
#include "../reports/results.h"

#define NG 240

static struct jm_alloc allocs[NG];

static void open_colocate(const char *opts, struct jm_backend *b)
{
	char err[300];
	if (jm_backend_open(jm_backend_find("colocate"), opts, b, err, sizeof(err)) < 0)
		fail_msg("%s", err);
}

static void req_of(uint64_t id, uint32_t dylib, uint64_t rx, uint64_t ro,
		   struct jm_graph_req *req)
{
	memset(req, 0, sizeof(*req));
	req->id = id;
	req->dylib = dylib;
	req->nseg = 0;
	if (ro)
		req->seg[req->nseg++] = (struct jm_segment_req){JM_RO, JM_STANDARD, ro, 0, 16};
	req->seg[req->nseg++] = (struct jm_segment_req){JM_RX, JM_STANDARD, rx, 0, 16};
	jm_graph_normalize(req);
}

static uintptr_t lo_of(const struct jm_alloc *a)
{
	uintptr_t lo = UINTPTR_MAX;
	for (uint32_t s = 0; s < a->nseg; s++)
		if ((uintptr_t)a->seg[s].exec < lo)
			lo = (uintptr_t)a->seg[s].exec;
	return lo;
}

static uintptr_t hi_of(const struct jm_alloc *a)
{
	uintptr_t hi = 0;
	for (uint32_t s = 0; s < a->nseg; s++)
		if ((uintptr_t)a->seg[s].exec + a->seg[s].size > hi)
			hi = (uintptr_t)a->seg[s].exec + a->seg[s].size;
	return hi;
}

static void test_no_reach_failure_within_one_slab(void **state)
{
	(void)state;
	struct jm_backend b;
	open_colocate("", &b); /* the PR's 1G per-JITDylib slab */
	for (int i = 0; i < NG; i++) {
		struct jm_graph_req req;
		req_of((uint64_t)i, (uint32_t)(i % 4), 5000 + 37 * (uint64_t)i, 3000, &req);
		if (b.ops->allocate(&b, &req, &allocs[i]) < 0)
			fail_msg("allocate: %s", b.err);
		jm_contents_write(&allocs[i]);
		assert_int_equal(b.ops->finalize(&b, &allocs[i]), 0);
	}
	/* each dylib's graphs are within one 1G slab of each other */
	for (uint32_t d = 0; d < 4; d++) {
		uintptr_t lo = UINTPTR_MAX, hi = 0;
		for (int i = (int)d; i < NG; i += 4) {
			lo = lo_of(&allocs[i]) < lo ? lo_of(&allocs[i]) : lo;
			hi = hi_of(&allocs[i]) > hi ? hi_of(&allocs[i]) : hi;
		}
		if (hi - lo > (1ul << 30))
			fail_msg("dylib %u spans %lu bytes", d, (unsigned long)(hi - lo));
	}
	struct jm_backend_stats st = {0};
	b.ops->stats(&b, &st);
	assert_int_equal(st.reach_failures, 0);
	assert_int_equal(st.reservations, 4); /* one slab per dylib */
	char why[256];
	for (int i = 0; i < NG; i++) {
		if (jm_contents_check(&allocs[i], 1, why, sizeof(why)) < 0)
			fail_msg("graph %d: %s", i, why);
		assert_int_equal(b.ops->deallocate(&b, &allocs[i]), 0);
	}
	jm_backend_close(&b);
}

static void test_dylibs_never_share_a_reservation(void **state)
{
	(void)state;
	struct jm_backend b;
	/* small slabs: many reservations, which the kernel places next to
	 * each other, so only the pools keep the dylibs apart */
	open_colocate("slab_size=64K", &b);
	for (int i = 0; i < NG; i++) {
		struct jm_graph_req req;
		req_of((uint64_t)i, (uint32_t)(i % 3), 4096 + 100 * (uint64_t)(i % 7), 0, &req);
		assert_int_equal(b.ops->allocate(&b, &req, &allocs[i]), 0);
		assert_int_equal(b.ops->finalize(&b, &allocs[i]), 0);
	}
	/* free dylib 0's graphs, then link more into dylibs 1 and 2: none may
	 * land in memory dylib 0 freed */
	for (int i = 0; i < NG; i += 3)
		assert_int_equal(b.ops->deallocate(&b, &allocs[i]), 0);
	struct jm_alloc more[60];
	for (int k = 0; k < 60; k++) {
		struct jm_graph_req req;
		req_of(1000 + (uint64_t)k, 1 + (uint32_t)(k % 2), 4096, 0, &req);
		assert_int_equal(b.ops->allocate(&b, &req, &more[k]), 0);
		for (int i = 0; i < NG; i += 3)
			if (lo_of(&more[k]) < hi_of(&allocs[i]) && lo_of(&allocs[i]) < hi_of(&more[k]))
				fail_msg("dylib %u graph reuses memory of dylib 0 graph %d",
					 1 + k % 2, i);
	}
	/* and dylib 0 gets its own memory back */
	struct jm_graph_req req;
	struct jm_backend_stats st0 = {0}, st1 = {0};
	b.ops->stats(&b, &st0);
	req_of(5000, 0, 4096, 0, &req);
	struct jm_alloc again;
	assert_int_equal(b.ops->allocate(&b, &req, &again), 0);
	b.ops->stats(&b, &st1);
	assert_int_equal(st1.reservations, st0.reservations);
	assert_int_equal(b.ops->deallocate(&b, &again), 0);
	for (int k = 0; k < 60; k++)
		assert_int_equal(b.ops->deallocate(&b, &more[k]), 0);
	for (int i = 0; i < NG; i++)
		if (i % 3)
			assert_int_equal(b.ops->deallocate(&b, &allocs[i]), 0);
	jm_backend_close(&b);
}

static void test_reach_failure_counted_past_2g(void **state)
{
	(void)state;
	struct jm_backend b;
	open_colocate("", &b);
	/* three 900 MiB graphs of one dylib need three 1 GiB slabs: the dylib
	 * spans more than 2 GiB by the third. Untouched pages cost no RSS. */
	struct jm_alloc big[3];
	for (int i = 0; i < 3; i++) {
		struct jm_graph_req req;
		req_of((uint64_t)i, 7, 900ull << 20, 0, &req);
		if (b.ops->allocate(&b, &req, &big[i]) < 0) {
			jm_backend_close(&b);
			SKIP_BECAUSE("cannot reserve 3 GiB here: %s", b.err);
		}
	}
	struct jm_backend_stats st = {0};
	b.ops->stats(&b, &st);
	assert_int_equal(st.reservations, 3);
	uintptr_t lo = UINTPTR_MAX, hi = 0;
	for (int i = 0; i < 3; i++) {
		lo = lo_of(&big[i]) < lo ? lo_of(&big[i]) : lo;
		hi = hi_of(&big[i]) > hi ? hi_of(&big[i]) : hi;
	}
	printf("# dylib 7 spans %lu MiB: %llu reach failures\n",
	       (unsigned long)((hi - lo) >> 20), (unsigned long long)st.reach_failures);
	/* the definition: a graph fails if the dylib's span including it
	 * exceeds 2 GiB; recompute it independently */
	uint64_t want = 0;
	uintptr_t l = lo_of(&big[0]), h = hi_of(&big[0]);
	for (int i = 1; i < 3; i++) {
		l = lo_of(&big[i]) < l ? lo_of(&big[i]) : l;
		h = hi_of(&big[i]) > h ? hi_of(&big[i]) : h;
		want += h - l > (2ul << 30);
	}
	assert_true(hi - lo > (2ul << 30));
	assert_true(want >= 1);
	assert_int_equal(st.reach_failures, want);
	for (int i = 0; i < 3; i++)
		assert_int_equal(b.ops->deallocate(&b, &big[i]), 0);
	jm_backend_close(&b);
}

static void test_single_growth_fails_cleanly_in_process(void **state)
{
	(void)state;
	struct jm_backend b;
	open_colocate("growth=single,slab_size=256K", &b);
	struct jm_alloc a[80];
	int n = 0, failed_at = -1;
	for (; n < 80; n++) {
		struct jm_graph_req req;
		req_of((uint64_t)n, 0, 8192, 4096, &req); /* 12 KiB each */
		if (b.ops->allocate(&b, &req, &a[n]) < 0) {
			failed_at = n;
			break;
		}
	}
	assert_int_equal(failed_at, 256 / 12); /* 21 graphs fit, the 22nd fails */
	assert_non_null(strstr(b.err, "JITDylib 0"));
	assert_non_null(strstr(b.err, "growth=single"));
	struct jm_backend_stats st = {0};
	b.ops->stats(&b, &st);
	assert_int_equal(st.reservations, 1);
	/* another dylib still gets its own slab */
	struct jm_graph_req req;
	struct jm_alloc other;
	req_of(999, 1, 8192, 4096, &req);
	assert_int_equal(b.ops->allocate(&b, &req, &other), 0);
	assert_int_equal(b.ops->deallocate(&b, &other), 0);
	/* freeing a finalized graph makes room in dylib 0 again (an
	 * abandoned one would not: its range never returns) */
	jm_contents_write(&a[0]);
	assert_int_equal(b.ops->finalize(&b, &a[0]), 0);
	assert_int_equal(b.ops->deallocate(&b, &a[0]), 0);
	req_of(1000, 0, 8192, 4096, &req);
	assert_int_equal(b.ops->allocate(&b, &req, &a[0]), 0);
	for (int i = 0; i < n; i++)
		assert_int_equal(b.ops->deallocate(&b, &a[i]), 0);
	jm_backend_close(&b);
}

static void test_single_growth_run_fails_others_complete(void **state)
{
	(void)state;
	char json[] = "/tmp/jitmm-colocate-XXXXXX";
	int fd = mkstemp(json);
	close(fd);
	char *args[] = {"run", "-r", "1", "--warmup", "0", "--backend", "colocate:growth=single,slab_size=1M,colocate,single-pool",
			"--workload", "synthetic:graphs=600,dylibs=2", "--json", json, NULL};
	char *out = NULL, *err = NULL;
	int rc = tu_run_jitmm(args, &out, &err);
	assert_int_equal(rc, 1); /* a run failed */
	assert_non_null(strstr(err, "growth=single"));
	char lerr[256];
	json_object *root = jm_results_load(json, lerr, sizeof(lerr));
	if (!root)
		fail_msg("%s", lerr);
	json_object *runs = jm_json_path(root, "runs");
	assert_int_equal(json_object_array_length(runs), 3);
	for (int i = 0; i < 3; i++) {
		json_object *run = json_object_array_get_idx(runs, (size_t)i);
		const char *growth = jm_json_str(run, "backend_options.growth", "?");
		const char *name = jm_json_str(run, "backend", "?");
		const char *status = jm_json_str(run, "status", "?");
		if (!strcmp(name, "colocate") && !strcmp(growth, "single")) {
			assert_string_equal(status, "failed");
			const char *msg = jm_json_str(run, "error.message", "");
			printf("# error: %s\n", msg);
			assert_non_null(strstr(msg, "slab is full"));
			assert_string_equal(jm_json_str(run, "error.op", ""), "allocate");
		} else {
			assert_string_equal(status, "ok");
			double g;
			assert_int_equal(jm_json_num(run, "metrics.graphs", &g), 0);
			assert_int_equal((int)g, 600);
		}
	}
	json_object_put(root);
	unlink(json);
	free(out);
	free(err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_reach_failure_within_one_slab),
		cmocka_unit_test(test_dylibs_never_share_a_reservation),
		cmocka_unit_test(test_reach_failure_counted_past_2g),
		cmocka_unit_test(test_single_growth_fails_cleanly_in_process),
		cmocka_unit_test(test_single_growth_run_fails_others_complete),
	};
	return cmocka_run_group_tests_name("colocate design", tests, NULL, NULL);
}
