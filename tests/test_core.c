/* Unit tests of the core pieces: option and spec parsing, the free set,
 * the latency histogram, the live table, the os layer's counting and
 * injection, and the synthetic workloads. */
#include "testutil.h"

#include <errno.h>
#include <math.h>
#include <sys/mman.h>

#include "../allocators/backend.h"
#include "../allocators/freeset.h"
#include "../allocators/os.h"
#include "../run/latency.h"
#include "../run/live_table.h"
#include "../workloads/object_sizes.h"
#include "../workloads/workload.h"

static void test_sizes(void **state)
{
	(void)state;
	uint64_t v;
	assert_int_equal(jm_parse_size("4096", &v), 0);
	assert_int_equal(v, 4096);
	assert_int_equal(jm_parse_size("64K", &v), 0);
	assert_int_equal(v, 65536);
	assert_int_equal(jm_parse_size("16M", &v), 0);
	assert_int_equal(v, 16u << 20);
	assert_int_equal(jm_parse_size("1G", &v), 0);
	assert_int_equal(v, 1ull << 30);
	assert_int_equal(jm_parse_size("2GiB", &v), 0);
	assert_int_equal(v, 2ull << 30);
	assert_int_equal(jm_parse_size("1T", &v), 0);
	assert_int_equal(v, 1ull << 40);
	const char *bad[] = {"", "-1", "1X", "M", "1MM", "99999999999999999999", "16777216T", "1.5M", NULL};
	for (int i = 0; bad[i]; i++)
		assert_int_equal(jm_parse_size(bad[i], &v), -1);
	char buf[32];
	jm_format_size(16u << 20, buf, sizeof(buf));
	assert_string_equal(buf, "16M");
	jm_format_size(4097, buf, sizeof(buf));
	assert_string_equal(buf, "4097");
}

static void test_option_tables(void **state)
{
	(void)state;
	static const struct jm_option_def defs[] = {
		{"granularity", JM_OPT_SIZE, "16M", NULL, "", 4096, 1ull << 40},
		{"writer", JM_OPT_ENUM, "dual", "dual|selfmem", "", 0, 0},
		{"thp", JM_OPT_BOOL, "on", NULL, "", 0, 0},
		{"n", JM_OPT_UINT, "3", NULL, "", 1, 10},
		{0},
	};
	struct jm_optvals v;
	char err[256];
	assert_int_equal(jm_opts_parse(defs, NULL, &v, err, sizeof(err)), 0);
	assert_int_equal(jm_opt_u64(&v, "granularity"), 16u << 20);
	assert_string_equal(jm_opt_str(&v, "writer"), "dual");
	assert_int_equal(jm_opt_u64(&v, "thp"), 1);
	assert_int_equal(jm_opts_parse(defs, "granularity=1G,writer=selfmem,thp=off,n=10", &v, err, sizeof(err)), 0);
	assert_int_equal(jm_opt_u64(&v, "granularity"), 1ull << 30);
	assert_int_equal(jm_opt_u64(&v, "writer"), 1);
	assert_int_equal(jm_opt_u64(&v, "thp"), 0);
	assert_int_equal(jm_opt_u64(&v, "n"), 10);
	struct { const char *spec, *msg; } bad[] = {
		{"granularity=abc", "not a size"},
		{"granularity=1K", "out of range"},
		{"writer=triple", "not one of dual|selfmem"},
		{"thp=maybe", "not on|off"},
		{"n=0", "out of range"},
		{"n=-1", "not a non-negative integer"},
		{"bogus=1", "unknown option 'bogus'"},
		{"granularity", "not key=value"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = 0;
		assert_int_equal(jm_opts_parse(defs, bad[i].spec, &v, err, sizeof(err)), -1);
		if (!strstr(err, bad[i].msg))
			fail_msg("'%s': got '%s', want '%s'", bad[i].spec, err, bad[i].msg);
	}
}

static void test_backend_specs(void **state)
{
	(void)state;
	struct jm_backend_spec s[32];
	char err[512];
	int n = jm_backend_spec_parse("single-pool:granularity=1G,inprocess", s, 16, err, sizeof(err));
	assert_int_equal(n, 2);
	assert_string_equal(s[0].ops->name, "single-pool");
	assert_string_equal(s[0].optspec, "granularity=1G");
	assert_string_equal(s[1].ops->name, "inprocess");
	assert_string_equal(s[1].optspec, "");
	/* 'all': every backend that can run here */
	int avail = 0;
	for (size_t i = 0; i < jm_backend_count(); i++)
		avail += jm_backend_available(jm_backends[i], "", err, sizeof(err)) == 0;
	n = jm_backend_spec_parse("all", s, 32, err, sizeof(err));
	assert_int_equal(n, avail);
	/* without the LLVM plugin, the llvm-* backends are left out */
	const char *plugin = getenv("JITMM_LLVM_PLUGIN");
	char keep[4096];
	snprintf(keep, sizeof(keep), "%s", plugin ? plugin : "");
	setenv("JITMM_LLVM_PLUGIN", "/nonexistent/jitmm-llvm.so", 1);
	n = jm_backend_spec_parse("all", s, 32, err, sizeof(err));
	int llvm = 0;
	for (size_t i = 0; i < jm_backend_count(); i++)
		llvm += !strncmp(jm_backends[i]->name, "llvm-", 5);
	assert_int_equal(llvm, 4);
	assert_int_equal(n, (int)jm_backend_count() - llvm);
	for (int i = 0; i < n; i++)
		assert_true(strncmp(s[i].ops->name, "llvm-", 5) != 0);
	assert_int_equal(jm_backend_available(jm_backend_find("llvm-mapper"), "", err,
					      sizeof(err)), -1);
	assert_non_null(strstr(err, "/nonexistent/jitmm-llvm.so: No such file"));
	if (plugin)
		setenv("JITMM_LLVM_PLUGIN", keep, 1);
	else
		unsetenv("JITMM_LLVM_PLUGIN");
	n = jm_backend_spec_parse("null:crash_after=3,crash_after=4", s, 16, err, sizeof(err));
	assert_int_equal(n, 1);
	assert_string_equal(s[0].optspec, "crash_after=3,crash_after=4");
	assert_int_equal(jm_backend_spec_parse("nosuch", s, 16, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "unknown backend 'nosuch'"));
	assert_int_equal(jm_backend_spec_parse("single-pool:granularity=zz", s, 16, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "granularity"));
	assert_int_equal(jm_backend_spec_parse("granularity=1G", s, 16, err, sizeof(err)), -1);
	assert_int_equal(jm_backend_spec_parse("", s, 16, err, sizeof(err)), -1);
}

static void test_freeset(void **state)
{
	(void)state;
	struct jm_freeset fs;
	jm_freeset_init(&fs);
	assert_int_equal(jm_freeset_insert(&fs, 100, 200), 0);
	assert_int_equal(jm_freeset_insert(&fs, 300, 400), 0);
	assert_int_equal(fs.n, 2);
	/* filling the gap coalesces all three into one */
	assert_int_equal(jm_freeset_insert(&fs, 200, 300), 0);
	assert_int_equal(fs.n, 1);
	struct jm_range r;
	assert_int_equal(jm_freeset_fit_from(&fs, 0, 1, &r), 0);
	assert_int_equal(r.start, 100);
	assert_int_equal(r.end, 400);
	/* overlapping insert is a double free */
	assert_int_equal(jm_freeset_insert(&fs, 150, 160), -1);
	uint64_t a;
	assert_int_equal(jm_freeset_first_fit(&fs, 50, &a), 0);
	assert_int_equal(a, 100); /* low end */
	assert_int_equal(jm_freeset_first_fit(&fs, 1000, &a), -1);
	assert_int_equal(jm_freeset_bytes(&fs), 250);
	/* first fit takes the lowest range that fits, best fit the smallest */
	jm_freeset_release(&fs);
	jm_freeset_init(&fs);
	jm_freeset_insert(&fs, 0, 100);
	jm_freeset_insert(&fs, 1000, 1030);
	jm_freeset_insert(&fs, 2000, 2040);
	assert_int_equal(jm_freeset_first_fit(&fs, 30, &a), 0);
	assert_int_equal(a, 0);
	assert_int_equal(jm_freeset_best_fit(&fs, 30, &a), 0);
	assert_int_equal(a, 1000); /* exact fit */
	assert_int_equal(jm_freeset_best_fit(&fs, 35, &a), 0);
	assert_int_equal(a, 2000);
	assert_true(jm_freeset_contains(&fs, 30, 100));
	assert_int_equal(jm_freeset_remove(&fs, 40, 60), 0);
	assert_false(jm_freeset_contains(&fs, 30, 100));
	assert_int_equal(fs.n, 3);
	jm_freeset_remove_all_in(&fs, 0, 3000);
	assert_int_equal(fs.n, 0);
	jm_freeset_release(&fs);
}

static void test_latency(void **state)
{
	(void)state;
	struct jm_latency h;
	memset(&h, 0, sizeof(h));
	for (uint64_t i = 1; i <= 1000; i++)
		jm_latency_record(&h, i * 100);
	uint64_t p50 = jm_latency_quantile(&h, 0.5), p99 = jm_latency_quantile(&h, 0.99);
	/* within the histogram's 6.25% bucket error */
	assert_true(p50 >= 50000 && p50 <= 50000 * 1.07);
	assert_true(p99 >= 99000 && p99 <= 99000 * 1.07);
	assert_int_equal(jm_latency_quantile(&h, 1.0), 100000);
	assert_int_equal(h.max, 100000);
	struct jm_latency e;
	memset(&e, 0, sizeof(e));
	assert_int_equal(jm_latency_quantile(&e, 0.5), 0);
}

static void test_live_table(void **state)
{
	(void)state;
	struct jm_live_table t;
	assert_int_equal(jm_live_init(&t, 4), 0);
	for (uint64_t i = 0; i < 1000; i++) {
		struct jm_alloc *a = jm_live_insert(&t, i * 7);
		assert_non_null(a);
		a->priv_u[0] = i;
	}
	assert_null(jm_live_insert(&t, 7)); /* duplicate */
	for (uint64_t i = 0; i < 1000; i += 2)
		jm_live_remove(&t, i * 7);
	assert_int_equal(t.n, 500);
	for (uint64_t i = 0; i < 1000; i++) {
		struct jm_alloc *a = jm_live_find(&t, i * 7);
		if (i % 2)
			assert_true(a && a->priv_u[0] == i);
		else
			assert_null(a);
	}
	size_t pos = 0, n = 0;
	while (jm_live_next(&t, &pos))
		n++;
	assert_int_equal(n, 500);
	jm_live_release(&t);

	/* memory follows the graphs live at once, not a declared maximum:
	 * a billion declared costs what the presize bound does */
	assert_int_equal(jm_live_init(&t, 1u << 30), 0);
	size_t presized = jm_live_bytes(&t);
	assert_true(presized <= jm_live_table_bytes(JM_LIVE_PRESIZE_MAX));
	jm_live_release(&t);
	/* 200,000 graphs through a live set of 1000: the table stays small;
	 * every allocation found, zeroed, and in the same place while live */
	assert_int_equal(jm_live_init(&t, 0), 0);
	for (uint64_t i = 0; i < 200000; i++) {
		struct jm_alloc *a = jm_live_insert(&t, i * 0x9e3779b97f4a7c15ull);
		assert_non_null(a);
		assert_int_equal(a->priv_u[0], 0);
		a->priv_u[0] = i + 1;
		if (i >= 1000) {
			uint64_t old = (i - 1000) * 0x9e3779b97f4a7c15ull;
			struct jm_alloc *b = jm_live_find(&t, old);
			assert_true(b && b->priv_u[0] == i - 1000 + 1);
			jm_live_remove(&t, old);
			assert_null(jm_live_find(&t, old));
		}
	}
	assert_int_equal(t.n, 1000);
	assert_true(jm_live_bytes(&t) <= jm_live_table_bytes(1000));
	jm_live_release(&t);
}

static void test_os_layer_counts_and_injects(void **state)
{
	(void)state;
	struct jm_os_counters a, b, d;
	jm_os_snapshot(&a);
	void *p = jm_os_mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(p != MAP_FAILED);
	assert_int_equal(jm_os_mprotect(p, 4096, PROT_READ), 0);
	assert_int_equal(jm_os_mprotect((char *)p + 1, 4096, PROT_READ), -1); /* EINVAL */
	assert_int_equal(jm_os_inject(JM_SYS_MPROTECT, ENOMEM, 2), 0);
	assert_int_equal(jm_os_mprotect(p, 4096, PROT_READ), 0);
	assert_int_equal(jm_os_mprotect(p, 4096, PROT_READ), -1);
	assert_int_equal(errno, ENOMEM);
	assert_int_equal(jm_os_mprotect(p, 4096, PROT_READ), 0);
	assert_int_equal(jm_os_munmap(p, 8192), 0);
	jm_os_snapshot(&b);
	jm_os_diff(&a, &b, &d);
	assert_int_equal(d.sys[JM_SYS_MMAP].calls, 1);
	assert_int_equal(d.sys[JM_SYS_MMAP].bytes, 8192);
	assert_int_equal(d.sys[JM_SYS_MPROTECT].calls, 5);
	assert_int_equal(d.sys[JM_SYS_MPROTECT].errors, 2);
	assert_int_equal(d.sys[JM_SYS_MPROTECT].bytes, 3 * 4096);
	int einval = 0, enomem = 0;
	for (int i = 0; i < JM_OS_MAX_ERRNOS; i++) {
		if (d.sys[JM_SYS_MPROTECT].by_errno[i].err == EINVAL)
			einval = (int)d.sys[JM_SYS_MPROTECT].by_errno[i].count;
		if (d.sys[JM_SYS_MPROTECT].by_errno[i].err == ENOMEM)
			enomem = (int)d.sys[JM_SYS_MPROTECT].by_errno[i].count;
	}
	assert_int_equal(einval, 1);
	assert_int_equal(enomem, 1);
	assert_int_equal(d.sys[JM_SYS_MUNMAP].calls, 1);

	enum jm_sys s;
	int err;
	uint64_t nth;
	assert_int_equal(jm_os_inject_parse("mmap:ENOMEM@3", &s, &err, &nth), 0);
	assert_int_equal(s, JM_SYS_MMAP);
	assert_int_equal(err, ENOMEM);
	assert_int_equal(nth, 3);
	assert_int_equal(jm_os_inject_parse("mprotect:EACCES@100", &s, &err, &nth), 0);
	const char *bad[] = {"mmap", "mmap:ENOMEM", "mmap:ENOMEM@0", "mmap:EWHAT@1",
			     "open:ENOMEM@1", "mmap@1:ENOMEM", "mmap:ENOMEM@x", NULL};
	for (int i = 0; bad[i]; i++)
		assert_int_equal(jm_os_inject_parse(bad[i], &s, &err, &nth), -1);
}

static uint64_t stream_hash(const char *spec, uint64_t seed, uint64_t *graphs)
{
	struct jm_workload w;
	char err[256];
	if (jm_workload_open(spec, seed, &w, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	struct jm_event ev;
	uint64_t h = 1469598103934665603ull;
	*graphs = 0;
	while (jm_workload_next(&w, &ev) > 0) {
		h = (h ^ ev.type ^ (ev.id << 8)) * 1099511628211ull;
		if (ev.type == JM_EV_ALLOC) {
			(*graphs)++;
			for (uint32_t i = 0; i < ev.req.nseg; i++)
				h = (h ^ ev.req.seg[i].content ^ ((uint64_t)ev.req.seg[i].cls << 40)) * 1099511628211ull;
		}
	}
	jm_workload_close(&w);
	return h;
}

static void test_workloads_deterministic(void **state)
{
	(void)state;
	uint64_t g1, g2, g3;
	assert_true(stream_hash("llvm-500", 0, &g1) == stream_hash("llvm-500", 0, &g2));
	assert_int_equal(g1, 500);
	assert_true(stream_hash("llvm-500", 0, &g1) != stream_hash("llvm-500", 2, &g3));
	for (const struct jm_preset *p = jm_presets; p->name; p++) {
		uint64_t g;
		stream_hash(p->name, 0, &g);
		assert_true(g > 0);
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* llvm-500 draws shapes from real objects: the rx median near 1.5 KiB,
 * ro near 0.5 KiB, writable data in about 40% of graphs */
static void test_llvm_500_shape(void **state)
{
	(void)state;
	struct jm_workload w;
	char err[256];
	assert_int_equal(jm_workload_open("llvm-500:stubs=off", 0, &w, err, sizeof(err)), 0);
	uint64_t rx[500], ro[500];
	int nrx = 0, nro = 0, nrw = 0, graphs = 0;
	struct jm_event ev;
	while (jm_workload_next(&w, &ev) > 0) {
		if (ev.type != JM_EV_ALLOC)
			continue;
		graphs++;
		for (uint32_t i = 0; i < ev.req.nseg; i++) {
			const struct jm_segment_req *s = &ev.req.seg[i];
			if (s->cls == JM_RX) rx[nrx++] = s->content;
			if (s->cls == JM_RO) ro[nro++] = s->content;
			if (s->cls == JM_RW) nrw++;
		}
	}
	jm_workload_close(&w);
	qsort(rx, (size_t)nrx, sizeof(rx[0]), cmp_u64);
	qsort(ro, (size_t)nro, sizeof(ro[0]), cmp_u64);
	printf("# llvm-500: rx median %llu, ro median %llu, rw in %d%%\n",
	       (unsigned long long)rx[nrx / 2], (unsigned long long)ro[nro / 2], nrw * 100 / graphs);
	assert_int_equal(graphs, 500);
	assert_true(rx[nrx / 2] > 1000 && rx[nrx / 2] < 2200);
	assert_true(ro[nro / 2] > 250 && ro[nro / 2] < 800);
	assert_true(nrw * 100 / graphs >= 30 && nrw * 100 / graphs <= 50);
	assert_true(jm_object_sizes_count > 3000);
}

static void test_free_policies(void **state)
{
	(void)state;
	struct jm_workload w;
	char err[256];
	struct jm_event ev;
	/* cycles: 4 cycles of 5 graphs, all freed, a trim after each drop */
	assert_int_equal(jm_workload_open("synthetic:graphs=20,free=cycles,cycles=4", 0, &w, err, sizeof(err)), 0);
	int allocs = 0, frees = 0, trims = 0, live = 0, peak = 0;
	while (jm_workload_next(&w, &ev) > 0) {
		if (ev.type == JM_EV_ALLOC) { allocs++; live++; }
		if (ev.type == JM_EV_FREE) { frees++; live--; }
		if (ev.type == JM_EV_TRIM) trims++;
		if (live > peak) peak = live;
	}
	jm_workload_close(&w);
	assert_int_equal(allocs, 20);
	assert_int_equal(frees, 20);
	assert_int_equal(trims, 4);
	assert_int_equal(peak, 5);
	/* fraction: about half freed, never a free of a dead graph */
	assert_int_equal(jm_workload_open("synthetic:graphs=2000,free=fraction,free_fraction=0.5", 0, &w, err, sizeof(err)), 0);
	static char alive[2000];
	memset(alive, 0, sizeof(alive));
	frees = 0;
	while (jm_workload_next(&w, &ev) > 0) {
		if (ev.type == JM_EV_ALLOC) alive[ev.id] = 1;
		if (ev.type == JM_EV_FREE) {
			assert_true(alive[ev.id]);
			alive[ev.id] = 0;
			frees++;
		}
	}
	jm_workload_close(&w);
	assert_true(frees > 900 && frees < 1100);
}

static void test_workload_errors(void **state)
{
	(void)state;
	struct jm_workload w;
	char err[256];
	struct { const char *spec, *msg; } bad[] = {
		{"nosuch", "unknown workload 'nosuch'"},
		{"llvm-500:graphs=x", "not a non-negative integer"},
		{"synthetic:free=sometimes", "not one of never|fraction|cycles"},
		{"synthetic:sizes=fixed,rx=0,rw=0", "every segment is empty"},
		{"synthetic:align=3,sizes=fixed", "not a power of two"},
		{"synthetic:graphs", "not key=value"},
		{"synthetic:free_fraction=2,free=fraction", "[0, 1]"},
		{":x=1", "missing"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = 0;
		assert_int_equal(jm_workload_open(bad[i].spec, 0, &w, err, sizeof(err)), -1);
		if (!strstr(err, bad[i].msg))
			fail_msg("'%s': got '%s', want '%s'", bad[i].spec, err, bad[i].msg);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_option_tables),
		cmocka_unit_test(test_backend_specs),
		cmocka_unit_test(test_freeset),
		cmocka_unit_test(test_latency),
		cmocka_unit_test(test_live_table),
		cmocka_unit_test(test_os_layer_counts_and_injects),
		cmocka_unit_test(test_workloads_deterministic),
		cmocka_unit_test(test_llvm_500_shape),
		cmocka_unit_test(test_free_policies),
		cmocka_unit_test(test_workload_errors),
	};
	return cmocka_run_group_tests_name("core", tests, NULL, NULL);
}
