/* The jitmm command line, end to end: exit codes, one-line errors, crash
 * isolation, and that results.json has every documented field. */
#include "testutil.h"

#include <json-c/json.h>

#include "../reports/results.h"

static char tmpdir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/jitmm-cli-XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	return tu_rmtree(tmpdir);
}

static int lines(const char *s)
{
	int n = 0;
	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static void expect_usage_error(char *const args[], const char *needle)
{
	char *out = NULL, *err = NULL;
	int rc = tu_run_jitmm(args, &out, &err);
	if (rc != 2 || !strstr(err, needle) || lines(err) != 1)
		fail_msg("%s %s: rc %d, stderr '%s' (want exit 2 and one line with '%s')",
			 args[0], args[1] ? args[1] : "", rc, err, needle);
	free(out);
	free(err);
}

static void test_usage_errors(void **state)
{
	(void)state;
	expect_usage_error((char *[]){"run", "-r", "1", "--warmup", "0", "--backend", "nosuch", "-q", NULL}, "unknown backend 'nosuch'");
	expect_usage_error((char *[]){"run", "-r", "1", "--warmup", "0", "--workload", "nosuch", "-q", NULL}, "unknown workload 'nosuch'");
	expect_usage_error((char *[]){"run", "-r", "1", "--warmup", "0", "-b", "single-pool:granularity=huge", "-q", NULL}, "granularity");
	expect_usage_error((char *[]){"run", "-r", "1", "--warmup", "0", "-b", "single-pool:colour=red", "-q", NULL}, "unknown option 'colour'");
	expect_usage_error((char *[]){"run", "-r", "1", "--warmup", "0", "-w", "llvm-500:graphs=-3", "-q", NULL}, "graphs");
	expect_usage_error((char *[]){"run", "--repeat", "0", "-q", NULL}, "--repeat");
	expect_usage_error((char *[]){"run", "-r", "1", "--warmup", "0", "--inject", "mmap:ENOMEM", "-q", NULL}, "--inject");
	expect_usage_error((char *[]){"run", "-r", "1", "--warmup", "0", "--probe", "xray", "-q", NULL}, "unknown probe 'xray'");
	expect_usage_error((char *[]){"run", "-r", "1", "--warmup", "0", "stray", "-q", NULL}, "unexpected argument");
	expect_usage_error((char *[]){"list", "colours", NULL}, "unknown list");
	expect_usage_error((char *[]){"frobnicate", NULL}, "not a jitmm command");
	/* getopt's own errors and missing operands: one line too, naming the
	 * option and the command's --help (were getopt's line plus the usage) */
	expect_usage_error((char *[]){"run", "-r", "1", "--warmup", "0", "--bogus", NULL}, "'--bogus'");
	expect_usage_error((char *[]){"run", "-r", "1", "--warmup", "0", "-q", "--json", NULL}, "'--json'");
	expect_usage_error((char *[]){"run", "-r", "1", "--warmup", "0", "-qZ", NULL}, "'-Z'");
	expect_usage_error((char *[]){"sweep", "-b", NULL}, "jitmm sweep --help");
	expect_usage_error((char *[]){"trace", "from-elf", "--zz", NULL}, "'--zz'");
	expect_usage_error((char *[]){"compare", "a.json", NULL}, "BASE.json NEW.json");
	expect_usage_error((char *[]){"report", NULL}, "RESULTS.json");
	expect_usage_error((char *[]){"export", "x.json", NULL}, "--format");
	expect_usage_error((char *[]){"merge", "x.json", NULL}, "-o ALL.json");
	expect_usage_error((char *[]){"sweep", "-b", "null", NULL}, "--param");
	/* names and specs are UTF-8 (jm_text_check), so that results.json
	 * holding them passes its own loader: a trace path, an option value */
	expect_usage_error((char *[]){"run", "-r", "1", "--warmup", "0", "-q", "-w", "trace:caf\xe9.jmt", NULL},
			   "byte 9 is not valid UTF-8");
	expect_usage_error((char *[]){"run", "-r", "1", "--warmup", "0", "-q", "-b", "llvm-mapper:plugin=/x/\xff.so", NULL},
			   "not valid UTF-8");
	expect_usage_error((char *[]){"run", "-r", "1", "--warmup", "0", "-q", "-w", "trace:a\xed\xa0\x80.jmt", NULL},
			   "not valid UTF-8"); /* a UTF-16 surrogate */
	/* a --baseline that is not run: no ratio could be shown */
	expect_usage_error((char *[]){"run", "-r", "1", "--warmup", "0", "-q", "-b", "null", "--baseline", "inprocss", NULL},
			   "'inprocss' is not one of the backends run");
}

static void test_help_and_lists(void **state)
{
	(void)state;
	char *out = NULL;
	assert_int_equal(tu_run_jitmm((char *[]){"--version", NULL}, &out, NULL), 0);
	assert_non_null(strstr(out, "jitmm "));
	free(out);
	/* the top-level help lists every exit code, 130 included */
	assert_int_equal(tu_run_jitmm((char *[]){"--help", NULL}, &out, NULL), 0);
	assert_non_null(strstr(out, "130 interrupted"));
	assert_non_null(strstr(out, "2 usage or\ninput error"));
	free(out);
	assert_int_equal(tu_run_jitmm((char *[]){"run", "--help", NULL}, &out, NULL), 0);
	assert_non_null(strstr(out, "examples:"));
	free(out);
	assert_int_equal(tu_run_jitmm((char *[]){"list", "backends", NULL}, &out, NULL), 0);
	const char *want[] = {"inprocess", "single-pool", "null", "granularity", "default 16M", NULL};
	for (int i = 0; want[i]; i++)
		if (!strstr(out, want[i]))
			fail_msg("list backends lacks '%s'", want[i]);
	free(out);
	assert_int_equal(tu_run_jitmm((char *[]){"list", "workloads", NULL}, &out, NULL), 0);
	assert_non_null(strstr(out, "llvm-500"));
	assert_non_null(strstr(out, "max-map-count"));
	free(out);
	assert_int_equal(tu_run_jitmm((char *[]){"list", "probes", NULL}, &out, NULL), 0);
	assert_non_null(strstr(out, "procfs"));
	free(out);
}

static json_object *load(const char *path)
{
	char err[512];
	json_object *o = jm_results_load(path, err, sizeof(err));
	if (!o)
		fail_msg("%s", err);
	return o;
}

/* A backend that crashes becomes a failed run; the harness carries on. */
static void test_crash_isolation(void **state)
{
	(void)state;
	char json[128];
	snprintf(json, sizeof(json), "%s/crash.json", tmpdir);
	char *err = NULL;
	int rc = tu_run_jitmm((char *[]){"run", "-r", "1", "--warmup", "0", "-b", "null:crash_after=5,single-pool,null", "-w",
					 "llvm-500", "--json", json, "-q", NULL}, NULL, &err);
	assert_int_equal(rc, 1);
	free(err);
	json_object *o = load(json);
	json_object *runs = jm_json_path(o, "runs");
	assert_int_equal(json_object_array_length(runs), 3);
	json_object *r0 = json_object_array_get_idx(runs, 0);
	assert_string_equal(jm_json_str(r0, "status", ""), "failed");
	assert_string_equal(jm_json_str(r0, "error.op", ""), "crash");
#if defined(__SANITIZE_ADDRESS__)
	/* ASan catches the SIGSEGV, reports it and exits 1: no signal */
	assert_non_null(strstr(jm_json_str(r0, "error.message", ""), "status 1"));
#else
	double sig = 0;
	assert_int_equal(jm_json_num(r0, "error.signal", &sig), 0);
	assert_int_equal((int)sig, 11);
#endif
	for (int i = 1; i < 3; i++)
		assert_string_equal(jm_json_str(json_object_array_get_idx(runs, (size_t)i), "status", ""), "ok");
	json_object_put(o);
}

/* Every field docs/json-format.md promises is present, with the right type. */
static void test_results_fields(void **state)
{
	(void)state;
	char dir[128], json[160], md[160];
	snprintf(dir, sizeof(dir), "%s/out", tmpdir);
	snprintf(json, sizeof(json), "%s/results.json", dir);
	snprintf(md, sizeof(md), "%s/report.md", dir);
	char *out = NULL;
	int rc = tu_run_jitmm((char *[]){"run", "-b", "single-pool,inprocess", "-w",
					 "llvm-500:graphs=50", "-r", "2", "--out", dir, "-q", NULL},
			      &out, NULL);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(out, "| single-pool |"));
	free(out);
	json_object *o = load(json);
	static const char *const num_fields[] = {
		"schema_version", "context.page_size", "context.vm_max_map_count",
		"context.vm_overcommit_memory", "config.repeat", "config.threads",
		"config.max_samples", NULL};
	static const char *const str_fields[] = {
		"generator", "context.kernel", "context.arch", "context.thp_enabled", "context.cpu",
		"context.jitmm_version", "context.jitmm_git_sha", "context.hostname", "context.date",
		"config.probe_used", "config.probe_requested", "config.replay",
		"config.code_model", NULL};
	for (int i = 0; num_fields[i]; i++) {
		double v;
		if (jm_json_num(o, num_fields[i], &v) < 0)
			fail_msg("missing number %s", num_fields[i]);
	}
	for (int i = 0; str_fields[i]; i++)
		if (!jm_json_str(o, str_fields[i], NULL))
			fail_msg("missing string %s", str_fields[i]);
	json_object *runs = jm_json_path(o, "runs");
	assert_int_equal(json_object_array_length(runs), 4);
	static const char *const run_num[] = {
		"repetition", "metrics.graphs", "metrics.vmas_before", "metrics.vmas_after",
		"metrics.vmas_added", "metrics.vmas_peak", "metrics.page_faults_minor",
		"metrics.page_faults_major", "metrics.rss_peak_bytes", "metrics.va_reserved_bytes",
		"metrics.bytes_requested", "metrics.bytes_mapped", "metrics.bytes_wasted",
		"metrics.wall_ns", "metrics.sampling_ns", "metrics.latency.allocate.p50_ns", "metrics.latency.allocate.p99_ns",
		"metrics.latency.allocate.max_ns", "metrics.latency.finalize.p50_ns",
		"metrics.latency.finalize.p99_ns", "metrics.latency.finalize.max_ns",
		"metrics.vmas_leaked", "metrics.reach_failures", "matrix_index", "metrics.threads",
		"metrics.reloc_reach_failures", "metrics.reach_failures_aarch64",
		"metrics.relocations.graphs_linked", NULL};
	for (size_t k = 0; k < 4; k++) {
		json_object *r = json_object_array_get_idx(runs, k);
		assert_string_equal(jm_json_str(r, "status", ""), "ok");
		assert_non_null(jm_json_str(r, "backend", NULL));
		assert_non_null(jm_json_str(r, "workload", NULL));
		assert_non_null(jm_json_path(r, "backend_options"));
		for (int i = 0; run_num[i]; i++) {
			double v;
			if (jm_json_num(r, run_num[i], &v) < 0)
				fail_msg("run %zu: missing number %s", k, run_num[i]);
		}
		for (const char *s = "mmap\0munmap\0mprotect\0madvise\0memfd_create\0ftruncate\0pwrite64\0"; *s; s += strlen(s) + 1) {
			char path[96];
			double v;
			snprintf(path, sizeof(path), "metrics.syscalls.%s.calls", s);
			if (jm_json_num(r, path, &v) < 0)
				fail_msg("missing %s", path);
		}
		double added, before, after, graphs;
		jm_json_num(r, "metrics.vmas_added", &added);
		jm_json_num(r, "metrics.vmas_before", &before);
		jm_json_num(r, "metrics.vmas_after", &after);
		jm_json_num(r, "metrics.graphs", &graphs);
		assert_true(added == after - before);
		assert_int_equal((int)graphs, 50);
		json_object *series = jm_json_path(r, "series.vmas");
		assert_non_null(series);
		assert_true(json_object_array_length(series) >= 10);
	}
	json_object *aggs = jm_json_path(o, "aggregates");
	assert_int_equal(json_object_array_length(aggs), 2);
	expect_usage_error((char *[]){"report", json, "--baseline", "inprocss", NULL},
			   "no runs of backend 'inprocss'");
	double med;
	assert_int_equal(jm_agg_metric(json_object_array_get_idx(aggs, 0), "vmas_added", &med, NULL, NULL), 0);
	json_object_put(o);
	FILE *f = fopen(md, "r");
	assert_non_null(f);
	char buf[8192];
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = 0;
	fclose(f);
	assert_non_null(strstr(buf, "# jitmm report"));
	assert_non_null(strstr(buf, "| inprocess | ok |"));
	assert_non_null(strstr(buf, "vm.max_map_count"));
}

/* The done-criterion of the foundation issue. */
static void test_single_pool_llvm_500(void **state)
{
	(void)state;
	char json[128];
	snprintf(json, sizeof(json), "%s/x.json", tmpdir);
	assert_int_equal(tu_run_jitmm((char *[]){"run", "-r", "1", "--warmup", "0", "--backend", "single-pool", "--workload",
						 "llvm-500", "--json", json, "-q", NULL}, NULL, NULL), 0);
	json_object *o = load(json);
	double added = 0;
	assert_int_equal(jm_json_num(json_object_array_get_idx(jm_json_path(o, "runs"), 0),
				     "metrics.vmas_added", &added), 0);
	printf("# single-pool on llvm-500: %.0f VMAs added\n", added);
	assert_true(added >= 900);
	json_object_put(o);
}

static void test_execute_every_graph(void **state)
{
	(void)state;
	char *err = NULL;
	int rc = tu_run_jitmm((char *[]){"run", "-r", "1", "--warmup", "0", "-b", "all", "-w", "churn:graphs=300", "--execute", "-q", NULL},
			      NULL, &err);
	if (rc != 0)
		fail_msg("rc %d: %s", rc, err);
	free(err);
}

/* a workload whose every run failed still gets a readable table */
static void test_all_runs_failed_table(void **state)
{
	(void)state;
	char *out = NULL;
	int rc = tu_run_jitmm((char *[]){"run", "-r", "1", "--warmup", "0", "-q", "-b", "null:crash_after=1", "-w",
					 "llvm-500:graphs=20", NULL}, &out, NULL);
	assert_int_equal(rc, 1);
	assert_non_null(strstr(out, "(no run completed)"));
	assert_null(strstr(out, "nan"));
	assert_non_null(strstr(out, "| null | 1/1 failed |"));
	free(out);
}


/* run's defaults: 3 repetitions after a warm-up run of each (backend,
 * workload) whose results are dropped; the aggregates carry mean and
 * standard deviation, the table the wall time's range and CV. */
static void test_default_repetitions_and_warmup(void **state)
{
	(void)state;
	if (system("command -v script >/dev/null 2>&1") != 0)
		SKIP_BECAUSE("script(1) is not installed (util-linux): no terminal for the progress");
	char json[128], log[128], cmd[1024];
	snprintf(json, sizeof(json), "%s/defaults.json", tmpdir);
	snprintf(log, sizeof(log), "%s/defaults.log", tmpdir);
	char *bin = realpath(tu_jitmm_bin(), NULL);
	assert_non_null(bin);
	/* progress shows on a terminal only: script(1) gives it one */
	snprintf(cmd, sizeof(cmd), "TERM=dumb script -qec '%s run -p procfs -b null -w "
		 "llvm-500:graphs=20 -j %s' %s >/dev/null 2>&1", bin, json, log);
	free(bin);
	assert_int_equal(system(cmd), 0);
	FILE *f = fopen(log, "r");
	assert_non_null(f);
	static char buf[1 << 16];
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = 0;
	fclose(f);
	if (!strstr(buf, "[1/4] null (warm-up) on llvm-500:graphs=20") ||
	    !strstr(buf, "[4/4] null on llvm-500:graphs=20"))
		fail_msg("progress does not show a warm-up run and 3 repetitions: %.400s", buf);
	json_object *o = load(json);
	json_object *runs = jm_json_path(o, "runs");
	assert_int_equal(json_object_array_length(runs), 3);
	for (int r = 0; r < 3; r++)
		assert_int_equal(json_object_get_int(jm_json_path(json_object_array_get_idx(runs, (size_t)r),
							       "repetition")), r);
	double v;
	assert_int_equal(jm_json_num(o, "config.repeat", &v), 0);
	assert_true(v == 3);
	assert_int_equal(jm_json_num(o, "config.warmup", &v), 0);
	assert_true(v == 1);
	json_object *agg = json_object_array_get_idx(jm_json_path(o, "aggregates"), 0);
	double mean, sd, lo, hi;
	assert_int_equal(jm_agg_spread(agg, "wall_ns", &mean, &sd), 0);
	assert_int_equal(jm_agg_metric(agg, "wall_ns", NULL, &lo, &hi), 0);
	assert_true(mean >= lo && mean <= hi && sd >= 0);
	json_object_put(o);
	/* the table: wall time with its range and coefficient of variation */
	char *out = NULL;
	assert_int_equal(tu_run_jitmm((char *[]){"report", json, "-o", tmpdir, NULL}, NULL, NULL), 0);
	snprintf(log, sizeof(log), "%s/report.md", tmpdir);
	f = fopen(log, "r");
	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = 0;
	fclose(f);
	assert_non_null(strstr(buf, "| wall (ms) [range] ±CV |"));
	const char *row = strstr(buf, "| null | ok |");
	assert_non_null(row);
	const char *eol = strchr(row, '\n');
	char line[512];
	snprintf(line, sizeof(line), "%.*s", (int)(eol - row), row);
	if (!strstr(line, " [") || !strstr(line, "±"))
		fail_msg("no range or CV in the wall cell: %s", line);
	assert_non_null(strstr(buf, "median over 3 repetitions after a warm-up run (dropped)"));
	free(out);
}

/* --trim-at-end: the report says what each backend gave back */
static void test_trim_report(void **state)
{
	(void)state;
	char dir[128], md[160];
	snprintf(dir, sizeof(dir), "%s/trim", tmpdir);
	snprintf(md, sizeof(md), "%s/report.md", dir);
	assert_int_equal(tu_run_jitmm((char *[]){"run", "-r", "1", "--warmup", "0", "-b", "slab-pool,single-pool", "-w",
						 "tvm-load-drop:trim=off", "--trim-at-end", "--out", dir,
						 "-q", NULL}, NULL, NULL), 0);
	FILE *f = fopen(md, "r");
	assert_non_null(f);
	static char buf[1 << 16];
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = 0;
	fclose(f);
	assert_non_null(strstr(buf, "## What a final trim gave back"));
	/* slab-pool's clear_free_slabs unmaps its drained slab; single-pool
	 * keeps its reservation */
	const char *sp = strstr(buf, "| tvm-load-drop:trim=off | slab-pool | 1 |");
	assert_non_null(sp);
	const char *eol = strchr(sp, '\n');
	assert_non_null(eol);
	/* its 64 MiB slab's address space comes back (VMA and RSS figures
	 * are not pinned here: sanitizer builds map memory of their own) */
	char row[256];
	snprintf(row, sizeof(row), "%.*s", (int)(eol - sp), sp);
	if (!strstr(row, "| 64.0 MiB |"))
		fail_msg("slab-pool row: %s", row);
	const char *single = strstr(buf, "| tvm-load-drop:trim=off | single-pool | 0 |");
	assert_non_null(single);
	eol = strchr(single, '\n');
	snprintf(row, sizeof(row), "%.*s", (int)(eol - single), single);
	if (!strstr(row, "| 0 B |"))
		fail_msg("single-pool row: %s", row);
}

/* 'all' leaves out what cannot run here (the llvm-* backends without
 * their plugin) and says so on stderr, instead of a table short of rows */
static void test_all_names_what_it_leaves_out(void **state)
{
	(void)state;
	char *out = NULL, *err = NULL;
	const char *old = getenv("JITMM_LLVM_PLUGIN");
	char *keep = old ? strdup(old) : NULL;
	setenv("JITMM_LLVM_PLUGIN", "/nonexistent/jitmm-llvm.so", 1);
	char *args[] = {"run", "-r", "1", "--warmup", "0", "-b", "all", "-w", "llvm-500:graphs=5", NULL};
	int rc = tu_run_jitmm(args, &out, &err);
	if (keep) {
		setenv("JITMM_LLVM_PLUGIN", keep, 1);
		free(keep);
	} else {
		unsetenv("JITMM_LLVM_PLUGIN");
	}
	assert_int_equal(rc, 0);
	assert_non_null(strstr(err, "'all' leaves out llvm-mapper: LLVM plugin "
				    "/nonexistent/jitmm-llvm.so: "));
	assert_non_null(strstr(out, "| section-mm | ok"));
	assert_null(strstr(out, "| llvm-mapper"));
	free(out);
	free(err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_usage_errors),
		cmocka_unit_test(test_help_and_lists),
		cmocka_unit_test(test_crash_isolation),
		cmocka_unit_test(test_results_fields),
		cmocka_unit_test(test_single_pool_llvm_500),
		cmocka_unit_test(test_execute_every_graph),
		cmocka_unit_test(test_trim_report),
		cmocka_unit_test(test_default_repetitions_and_warmup),
		cmocka_unit_test(test_all_runs_failed_table),
		cmocka_unit_test(test_all_names_what_it_leaves_out),
	};
	return cmocka_run_group_tests_name("cli", tests, setup, teardown);
}
