/* Workload options are bounded and a run's memory is checked before it
 * starts (issue 11: scale=nan segfaulted the child, scale=1e308 wrapped to
 * a tiny run with exit 0, scale=1e6 grew the child to 24 GB and woke the
 * OOM killer). A bad value is a usage error (exit 2) naming the option; a
 * run that would need more than MemAvailable fails before it touches the
 * memory, and a trace whose graphs outgrow it is stopped at the graph that
 * would. None of the runs here can use much memory on any machine: they
 * ask for petabytes. */
#include "testutil.h"

#include <json-c/json.h>

#include "../reports/results.h"
#include "../workloads/trace.h"
#include "../workloads/workload.h"

static const struct {
	const char *spec, *what; /* what: the text the error must hold */
} bad[] = {
	{"llvm-500:scale=nan", "option scale: 'nan' is not a finite"},
	{"llvm-500:scale=NaN", "option scale"},
	{"llvm-500:scale=inf", "option scale: 'inf' is not a finite"},
	{"llvm-500:scale=-inf", "option scale"},
	{"llvm-500:scale=infinity", "option scale"},
	{"llvm-500:scale=1e308", "option scale: 1e+308 is out of range"},
	{"llvm-500:scale=1e999", "option scale: '1e999' is not a finite"},
	{"llvm-500:scale=1e6", "option scale: 1e+06 is out of range"},
	{"llvm-500:scale=0", "option scale: 0 is out of range"},
	{"llvm-500:scale=-1", "option scale"},
	{"llvm-500:scale=0x1p2000", "option scale"},
	{"llvm-500:scale=", "option scale"},
	{"llvm-500:scale=1e-400", "option scale"}, /* underflows: ERANGE */
	{"churn:free_fraction=nan", "option free_fraction"},
	{"churn:free_fraction=2", "option free_fraction: must be in [0, 1]"},
	{"churn:free_fraction=inf", "option free_fraction"},
	{"tvm-oversize:alt_fraction=nan", "option alt_fraction"},
	{"tvm-oversize:alt_fraction=1.5", "option alt_fraction: must be in [0, 1]"},
	{"llvm-500:graphs=0", "option graphs: 0 is out of range"},
	{"llvm-500:graphs=-1", "option graphs"},
	{"llvm-500:graphs=100000001", "option graphs"},
	{"llvm-500:graphs=1180591620717411303424", "option graphs"},
	{"page-pairs:rx=1180591620717411303424", "option rx"},
	{"page-pairs:rx=17G", "option rx: 17G is out of range"},
	{"page-pairs:rw=-4K", "option rw"},
	{"page-pairs:zf=16777216T", "option zf"},
	{"page-pairs:align=3", "option align: 3 is not a power of two"},
	{"page-pairs:align=8192", "option align"},
	{"tvm-load-drop:cycles=0", "option cycles"},
	{"tvm-load-drop:cycles=1000001", "option cycles"},
	{"llvm-500:dylibs=0", "option dylibs"},
	{"llvm-500:dylibs=65537", "option dylibs"},
	{"llvm-500:seed=-1", "option seed"},
	{"llvm-500:sizes=huge", "option sizes"},
	{"llvm-500:stubs=maybe", "option stubs"},
};

static void test_bad_options(void **state)
{
	(void)state;
	size_t refused = 0;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *out = NULL, *err = NULL;
		int rc = tu_run_jitmm((char *[]){"run", "-q", "-b", "null", "-w",
						 (char *)bad[i].spec, NULL}, &out, &err);
		if (rc != 2 || !strstr(err, bad[i].what) || strchr(err, '\n') != strrchr(err, '\n'))
			fail_msg("%s: exit %d, stderr '%s' (want exit 2 and '%s' on one line)",
				 bad[i].spec, rc, err, bad[i].what);
		refused++;
		free(out);
		free(err);
	}
	printf("# %zu bad workload options refused with exit 2, the option named\n", refused);
	/* in range they are taken as given */
	struct jm_workload w;
	char err[300];
	assert_int_equal(jm_workload_open("llvm-500:scale=0.25", 0, &w, err, sizeof(err)), 0);
	assert_non_null(strstr(w.spec, "scale=0.25"));
	jm_workload_close(&w);
}

/* The estimate: fixed sizes are exact (pages of each segment times the
 * live graphs at the peak: all, one cycle). */
static void test_estimate(void **state)
{
	(void)state;
	struct jm_workload w;
	char err[300];
	assert_int_equal(jm_workload_open("page-pairs:graphs=100", 0, &w, err, sizeof(err)), 0);
	assert_int_equal(w.peak_bytes, 100 * 2 * 4096);
	jm_workload_close(&w);
	assert_int_equal(jm_workload_open("synthetic:graphs=64,sizes=fixed,rx=5000,ro=1,rw=1,"
					  "zf=4096,free=cycles,cycles=4", 0, &w, err,
					  sizeof(err)), 0);
	assert_int_equal(w.peak_bytes, 16 * (8192 + 4096 + 8192));
	jm_workload_close(&w);
	/* real sizes scale with scale (page rounding aside) */
	assert_int_equal(jm_workload_open("llvm-500", 0, &w, err, sizeof(err)), 0);
	uint64_t one = w.peak_bytes;
	jm_workload_close(&w);
	assert_int_equal(jm_workload_open("llvm-500:scale=100", 0, &w, err, sizeof(err)), 0);
	printf("# llvm-500: %llu bytes at the peak; scale=100: %llu\n",
	       (unsigned long long)one, (unsigned long long)w.peak_bytes);
	assert_true(w.peak_bytes > 40 * one && w.peak_bytes < 100 * one);
	jm_workload_close(&w);
	/* traces state no sizes up front */
	assert_int_equal(jm_workload_open("trace:workloads/traces/zlib.jmt", 0, &w, err,
					  sizeof(err)), 0);
	assert_int_equal(w.peak_bytes, 0);
	jm_workload_close(&w);
}

/* More than any machine has: refused before the window, nothing touched. */
static void test_refused_before_start(void **state)
{
	(void)state;
	static const char *const specs[] = {
		/* 10^8 graphs of 16 GiB: 1.5 EiB */
		"synthetic:graphs=100000000,sizes=fixed,rx=4K,ro=0,rw=16G",
		/* the largest scale allowed, 10^8 real-shaped graphs */
		"llvm-500:graphs=100000000,scale=15000",
	};
	for (size_t i = 0; i < 2; i++) {
		for (int threads = 1; threads <= 2; threads++) {
			char *err = NULL, t[16];
			snprintf(t, sizeof(t), "%d", threads);
			int rc;
			json_object *o = tu_run_results((char *[]){"run", "-q", "-b", "single-pool", "-w",
				(char *)specs[i], "-t", t, NULL}, &rc, NULL, &err);
			assert_non_null(o);
			json_object *r = json_object_array_get_idx(jm_json_path(o, "runs"), 0);
			const char *msg = jm_json_str(r, "error.message", "");
			printf("# %s -t %d: %s\n", specs[i], threads, msg);
			assert_int_equal(rc, 1);
			assert_string_equal(jm_json_str(r, "status", "?"), "failed");
			assert_string_equal(jm_json_str(r, "error.op", "?"), "workload");
			assert_non_null(strstr(msg, "MemAvailable"));
			assert_non_null(strstr(msg, "refused before it started"));
			free(err);
			json_object_put(o);
		}
	}
}

/* A trace states its sizes only as it goes: graphs of 4 TiB each are
 * stopped at the first, before it is allocated. */
static void test_trace_outgrows_memory(void **state)
{
	(void)state;
	char path[] = "/tmp/jitmm-huge-XXXXXX.jmt";
	int fd = mkstemps(path, 4);
	FILE *f = fdopen(fd, "w");
	fputs("jitmm-trace 1\nsource test\narch x86_64\npage_size 4096\nmade_by hand\n", f);
	for (int i = 0; i < 8; i++)
		fprintf(f, "alloc %d rx=1099511627776 ro=1099511627776 "
			"rw=1099511627776+1099511627776\nfinalize %d\n", i, i);
	fclose(f);
	char spec[64];
	snprintf(spec, sizeof(spec), "trace:%s", path);
	int rc;
	char *err = NULL;
	json_object *o = tu_run_results((char *[]){"run", "-q", "-b", "inprocess", "-w", spec, NULL},
				  &rc, NULL, &err);
	unlink(path);
	assert_non_null(o);
	json_object *r = json_object_array_get_idx(jm_json_path(o, "runs"), 0);
	const char *msg = jm_json_str(r, "error.message", "");
	printf("# 8 graphs of 4 TiB: %s\n", msg);
	assert_int_equal(rc, 1);
	assert_string_equal(jm_json_str(r, "error.op", "?"), "workload");
	assert_non_null(strstr(msg, "MemAvailable"));
	double graph = -1, done = -1;
	jm_json_num(r, "error.graph_id", &graph);
	jm_json_num(r, "error.graphs_done", &done);
	assert_true(graph == 0 && done == 0);
	free(err);
	json_object_put(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_options),
		cmocka_unit_test(test_estimate),
		cmocka_unit_test(test_refused_before_start),
		cmocka_unit_test(test_trace_outgrows_memory),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
