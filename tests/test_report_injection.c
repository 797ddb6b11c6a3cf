/* No string from data reaches a gnuplot script as code. Every string of a
 * results file (host, kernel, backend and workload names, option names
 * and values, the baseline, a sweep's parameter and values, fault classes)
 * gets a payload that would run a command in gnuplot if it escaped its
 * quoting -- `cmd` in double quotes, a quote that closes the string and
 * calls system(), a newline and '!cmd', a macro, a line continuation --
 * each creating a marker file; `jitmm report` must render every plot and
 * no marker may appear. The same through a trace file's name with
 * `run --out` and through an --out path. Needs gnuplot (else skipped). */
#include "testutil.h"

#include <dirent.h>
#include <json-c/json.h>
#include <sys/stat.h>

#include "../reports/results.h"
#include "gp_check.h"

/* The payloads touch ${JM_M}X: JM_M (markers/m) is in the environment
 * jitmm and so gnuplot and its shell inherit; no '/' in the payload, so
 * that it fits in a file name. */
static char markers[64];

#define NPAYLOADS 6
static void payload(int k, char *buf, size_t len)
{
	static const char *const p[NPAYLOADS] = {
		"`touch ${JM_M}a`",
		"'.system('touch ${JM_M}b').'",
		"\"`touch ${JM_M}c`\"",
		"\n!touch ${JM_M}d\n",
		"'\\\n!touch ${JM_M}e\n'",
		"@x system(\"touch ${JM_M}f\")\"'",
	};
	snprintf(buf, len, "%s", p[k]);
}

/* Every string gets the payload appended (so names stay consistent with
 * each other: a run's backend and the baseline, an option's name and the
 * sweep's param), and so do the keys of option and fault-class objects;
 * status keeps its meaning. */
static json_object *poison(json_object *o, const char *key, const char *p, int keys)
{
	if (json_object_is_type(o, json_type_string)) {
		if (key && !strcmp(key, "status"))
			return json_object_get(o);
		char buf[4096];
		snprintf(buf, sizeof(buf), "%s%s", json_object_get_string(o), p);
		return json_object_new_string(buf);
	}
	if (json_object_is_type(o, json_type_array)) {
		json_object *a = json_object_new_array();
		for (size_t i = 0; i < json_object_array_length(o); i++)
			json_object_array_add(a, poison(json_object_array_get_idx(o, i), NULL, p, 0));
		return a;
	}
	if (json_object_is_type(o, json_type_object)) {
		json_object *n = json_object_new_object();
		json_object_object_foreach(o, k, v) {
			char nk[512];
			snprintf(nk, sizeof(nk), "%s%s", k, keys ? p : "");
			int sub = !strcmp(k, "backend_options") || !strcmp(k, "options") ||
				  !strcmp(k, "page_faults_by_prot");
			json_object_object_add(n, nk, poison(v, k, p, sub));
		}
		return n;
	}
	return json_object_get(o);
}

static void check_scripts(const char *dir)
{
	char pdir[4200];
	snprintf(pdir, sizeof(pdir), "%s/plots", dir);
	DIR *d = opendir(pdir);
	assert_non_null(d);
	int n = 0;
	for (struct dirent *de; (de = readdir(d));) {
		size_t l = strlen(de->d_name);
		if (l < 4 || strcmp(de->d_name + l - 3, ".gp"))
			continue;
		char path[4500];
		snprintf(path, sizeof(path), "%s/%s", pdir, de->d_name);
		FILE *f = fopen(path, "r");
		assert_non_null(f);
		static char gp[1 << 20];
		size_t got = fread(gp, 1, sizeof(gp) - 1, f);
		gp[got] = 0;
		fclose(f);
		const char *why = gp_check_script(gp);
		if (why)
			fail_msg("%s: %s", de->d_name, why);
		n++;
	}
	closedir(d);
	assert_true(n > 0);
}

/* report on the poisoned file: exit 0, every plot drawn, no marker */
static void report_poisoned(json_object *clean, const char *tmp, int plots_wanted)
{
	for (int k = 0; k < NPAYLOADS; k++) {
		char p[256], in[4200], out[4200], err[512];
		payload(k, p, sizeof(p));
		json_object *bad = poison(clean, NULL, p, 0);
		json_object_object_del(bad, "aggregates");
		jm_results_aggregate(bad);
		snprintf(in, sizeof(in), "%s/in-%d.json", tmp, k);
		snprintf(out, sizeof(out), "%s/out-%d", tmp, k);
		assert_int_equal(jm_results_write(bad, in, err, sizeof(err)), 0);
		json_object_put(bad);
		char *e = NULL;
		int rc = tu_run_jitmm((char *[]){"report", in, "-o", out, NULL}, NULL, &e);
		if (rc != 0)
			fail_msg("payload %d: jitmm report exited %d: %s", k, rc, e);
		free(e);
		if (tu_dir_entries(markers) != 0)
			fail_msg("payload %d ran a command: %d marker(s) in %s", k, tu_dir_entries(markers),
				 markers);
		char pdir[4300];
		snprintf(pdir, sizeof(pdir), "%s/plots", out);
		/* png + svg + dat + gp per plot */
		assert_int_equal(tu_dir_entries(pdir), 4 * plots_wanted);
		check_scripts(out);
	}
}

static void test_results_fields(void **state)
{
	(void)state;
	if (!tu_have_gnuplot())
		SKIP_BECAUSE("gnuplot is not installed");
	char tmp[] = "/tmp/jitmm-inj-XXXXXX", err[512];
	assert_non_null(mkdtemp(tmp));
	json_object *root = jm_results_load("tests/fixtures/results.json", err, sizeof(err));
	assert_non_null(root);
	/* fault classes too, so the faults plot is drawn */
	json_object *runs = jm_json_path(root, "runs");
	for (size_t i = 0; i < json_object_array_length(runs); i++) {
		json_object *m = jm_json_path(json_object_array_get_idx(runs, i), "metrics");
		json_object *probe = json_object_new_object(), *fbc = json_object_new_object();
		json_object_object_add(fbc, "rx", json_object_new_int(40));
		json_object_object_add(probe, "page_faults_by_prot", fbc);
		json_object_object_add(m, "probe", probe);
	}
	/* vmas, bars, memory and faults for each of the 2 workloads */
	report_poisoned(root, tmp, 8);
	json_object_put(root);
	assert_int_equal(tu_rmtree(tmp), 0);
}

static void test_sweep_fields(void **state)
{
	(void)state;
	if (!tu_have_gnuplot())
		SKIP_BECAUSE("gnuplot is not installed");
	char tmp[] = "/tmp/jitmm-inj-XXXXXX", json[4200], err[512];
	assert_non_null(mkdtemp(tmp));
	snprintf(json, sizeof(json), "%s/sweep.json", tmp);
	char *e = NULL;
	int rc = tu_run_jitmm((char *[]){"sweep", "-q", "-b", "single-pool", "-P",
					 "granularity=1M,4M", "-w", "llvm-500:graphs=30",
					 "--json", json, NULL}, NULL, &e);
	if (rc != 0)
		fail_msg("sweep: %s", e);
	free(e);
	json_object *root = jm_results_load(json, err, sizeof(err));
	assert_non_null(root);
	/* vmas, bars, memory and the sweep's plot */
	report_poisoned(root, tmp, 4);
	json_object_put(root);
	assert_int_equal(tu_rmtree(tmp), 0);
}

/* A trace file whose name carries the payloads (no newline: a spec with a
 * control character is refused), run with an --out that carries them too. */
static void test_trace_name_and_out_path(void **state)
{
	(void)state;
	if (!tu_have_gnuplot())
		SKIP_BECAUSE("gnuplot is not installed");
	char tmp[] = "/tmp/jitmm-inj-XXXXXX";
	assert_non_null(mkdtemp(tmp));
	char trace[4200], spec[4300], out[4300];
	snprintf(trace, sizeof(trace), "%s/z`touch ${JM_M}t`'.system('touch ${JM_M}u').'\"x.jmt",
		 tmp);
	setenv("JM_TRACE", trace, 1);
	assert_int_equal(system("cp workloads/traces/zlib.jmt \"$JM_TRACE\""), 0);
	snprintf(spec, sizeof(spec), "trace:%s", trace);
	snprintf(out, sizeof(out), "%s/o`touch ${JM_M}v`'.system('touch ${JM_M}w').'", tmp);
	char *e = NULL;
	int rc = tu_run_jitmm((char *[]){"run", "-r", "1", "--warmup", "0", "-q", "-b", "single-pool,inprocess", "-w", spec,
					 "--out", out, NULL}, NULL, &e);
	if (rc != 0)
		fail_msg("run: exit %d: %s", rc, e);
	free(e);
	assert_int_equal(tu_dir_entries(markers), 0);
	check_scripts(out);
	assert_int_equal(tu_rmtree(tmp), 0);
}

static int setup(void **state)
{
	(void)state;
	snprintf(markers, sizeof(markers), "/tmp/jitmm-markers-XXXXXX");
	if (!mkdtemp(markers))
		return -1;
	char m[80];
	snprintf(m, sizeof(m), "%s/m", markers);
	return setenv("JM_M", m, 1);
}

static int teardown(void **state)
{
	(void)state;
	return tu_rmtree(markers);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_results_fields),
		cmocka_unit_test(test_sweep_fields),
		cmocka_unit_test(test_trace_name_and_out_path),
	};
	return cmocka_run_group_tests_name("report injection", tests, setup, teardown);
}
