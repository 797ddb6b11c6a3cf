/* Reports, compare, export, shard/merge and sweep, from a fixed results
 * file (tests/fixtures/results.json) and from small real runs.
 * JITMM_UPDATE_GOLDEN=1 rewrites the golden files instead of comparing. */
#include "testutil.h"

#include <dirent.h>
#include <json-c/json.h>
#include <sys/stat.h>

#include "../common/atomic_write.h"
#include "../reports/headline.h"
#include "../reports/merge.h"
#include "../reports/names.h"
#include "../reports/results.h"
#include "../reports/run_total.h"
#include "../reports/sweep.h"

#define FIXTURE "tests/fixtures/results.json"
#define GOLDEN_DIR "tests/fixtures/"

static void spit(const char *path, const char *text)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static char *tmpdir(void)
{
	char t[] = "/tmp/jitmm-test-reports-XXXXXX";
	char *d = mkdtemp(t);
	assert_non_null(d);
	return strdup(d);
}

static void rmrf(const char *dir)
{
	assert_int_equal(tu_rmtree(dir), 0);
}

static void check_golden(const char *golden_name, const char *actual)
{
	char path[512];
	snprintf(path, sizeof(path), GOLDEN_DIR "%s", golden_name);
	if (getenv("JITMM_UPDATE_GOLDEN")) {
		spit(path, actual);
		return;
	}
	char *want = tu_slurp(path);
	if (!want)
		fail_msg("golden file %s missing (JITMM_UPDATE_GOLDEN=1 writes it)", path);
	if (strcmp(want, actual)) {
		/* show the first differing line */
		const char *a = want, *b = actual;
		int line = 1;
		while (*a && *a == *b) {
			line += *a == '\n';
			a++;
			b++;
		}
		fail_msg("%s differs at line %d:\n  want: %.120s\n  got:  %.120s", path, line, a, b);
	}
	free(want);
}

static int have(const char *prog)
{
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1", prog);
	return system(cmd) == 0;
}

static char *report_dir; /* the fixture's report, made once */

static int make_report(void **state)
{
	(void)state;
	if (!have("gnuplot")) {
		report_dir = NULL;
		return 0;
	}
	report_dir = tmpdir();
	char *args[] = {"report", FIXTURE, "-o", report_dir, NULL};
	char *out, *err;
	int rc = tu_run_jitmm(args, &out, &err);
	if (rc != 0)
		fprintf(stderr, "jitmm report: %s\n", err);
	free(out);
	free(err);
	return rc;
}

static int drop_report(void **state)
{
	(void)state;
	if (report_dir)
		rmrf(report_dir);
	free(report_dir);
	return 0;
}

#define NEED_REPORT()                                                         \
	do {                                                                  \
		if (!report_dir)                                              \
			SKIP_BECAUSE("gnuplot is not installed (scripts/install-deps installs gnuplot-nox)"); \
	} while (0)

static void test_report_md_golden(void **state)
{
	(void)state;
	NEED_REPORT();
	char path[4200];
	snprintf(path, sizeof(path), "%s/report.md", report_dir);
	char *md = tu_slurp(path);
	assert_non_null(md);
	/* the headline table's columns with units, the ratio and the context */
	assert_non_null(strstr(md, "| VMAs added (count) | vs single-pool (VMAs added) |"));
	assert_non_null(strstr(md, "Probe: procfs"));
	assert_non_null(strstr(md, "vm.max_map_count 65530"));
	assert_non_null(strstr(md, "![VMAs added vs graphs processed, llvm-500:graphs=200](plots/vmas-1-llvm-500.png)"));
	check_golden("report.md.golden", md);
	free(md);
}

static void test_report_is_deterministic(void **state)
{
	(void)state;
	NEED_REPORT();
	char *d2 = tmpdir();
	char *args[] = {"report", FIXTURE, "-o", d2, NULL};
	assert_int_equal(tu_run_jitmm(args, NULL, NULL), 0);
	const char *files[] = {"report.md", "report.html", "plots/vmas-1-llvm-500.dat",
			       "plots/bars-2-page-pairs.gp"};
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char a[4200], b[4200];
		snprintf(a, sizeof(a), "%s/%s", report_dir, files[i]);
		snprintf(b, sizeof(b), "%s/%s", d2, files[i]);
		char *x = tu_slurp(a), *y = tu_slurp(b);
		assert_non_null(x);
		assert_non_null(y);
		assert_string_equal(x, y);
		free(x);
		free(y);
	}
	rmrf(d2);
	free(d2);
}

/* Balanced tags (void elements aside) and no scripts or remote loads. */
static void check_html_balance(const char *html)
{
	const char *stack[256];
	size_t stlen[256];
	int depth = 0;
	static const char *const voids[] = {"meta", "br", "hr", "img", "link", "input", "!DOCTYPE"};
	for (const char *p = html; (p = strchr(p, '<')); p++) {
		if (p[1] == '!' || p[1] == '?')
			continue;
		int closing = p[1] == '/';
		const char *name = p + 1 + closing;
		size_t nl = strcspn(name, " \t\n>/");
		const char *end = strchr(p, '>');
		assert_non_null(end);
		int selfclose = end[-1] == '/';
		int isvoid = 0;
		for (size_t v = 0; v < sizeof(voids) / sizeof(voids[0]); v++)
			isvoid |= strlen(voids[v]) == nl && !strncmp(voids[v], name, nl);
		if (closing) {
			if (depth == 0 || stlen[depth - 1] != nl || strncmp(stack[depth - 1], name, nl))
				fail_msg("unbalanced </%.*s> at offset %ld", (int)nl, name, (long)(p - html));
			depth--;
		} else if (!selfclose && !isvoid) {
			assert_true(depth < 256);
			stack[depth] = name;
			stlen[depth++] = nl;
		}
	}
	assert_int_equal(depth, 0);
	assert_null(strstr(html, "<script"));
	assert_null(strstr(html, "src=\"http"));
	assert_null(strstr(html, "href=\"http"));
}

static void test_report_html_wellformed(void **state)
{
	(void)state;
	NEED_REPORT();
	char path[4200], cmd[4400];
	snprintf(path, sizeof(path), "%s/report.html", report_dir);
	char *html = tu_slurp(path);
	assert_non_null(html);
	check_html_balance(html);
	/* inline SVG: the figures are in the page itself */
	assert_non_null(strstr(html, "<svg"));
	if (have("xmllint")) {
		snprintf(cmd, sizeof(cmd), "xmllint --noout '%s'", path);
		assert_int_equal(system(cmd), 0);
	} else {
		printf("# note: xmllint not installed; checked tag balance only\n");
	}
	/* every file the page links to exists and is not empty */
	int links = 0;
	for (const char *p = html; (p = strstr(p, "href=\"")); p += 6) {
		const char *s = p + 6, *e = strchr(s, '"');
		if (*s == '#')
			continue;
		char file[4400];
		snprintf(file, sizeof(file), "%s/%.*s", report_dir, (int)(e - s), s);
		struct stat st;
		if (stat(file, &st) < 0 || st.st_size == 0)
			fail_msg("report.html links to %s, which is missing or empty", file);
		links++;
	}
	assert_true(links >= 4 * 6); /* 6 plots, 4 files each */
	free(html);
}

static void test_plots_are_images_and_scripts_run(void **state)
{
	(void)state;
	NEED_REPORT();
	char pdir[4200];
	snprintf(pdir, sizeof(pdir), "%s/plots", report_dir);
	DIR *d = opendir(pdir);
	assert_non_null(d);
	struct dirent *e;
	int scripts = 0;
	while ((e = readdir(d))) {
		size_t l = strlen(e->d_name);
		if (l < 4 || strcmp(e->d_name + l - 3, ".gp"))
			continue;
		char base[256], png[4600], cmd[10000], errf[4600];
		snprintf(base, sizeof(base), "%.*s", (int)(l - 3), e->d_name);
		snprintf(png, sizeof(png), "%s/%s.png", pdir, base);
		/* the kept script regenerates its images with no error output */
		unlink(png);
		snprintf(errf, sizeof(errf), "%s/gnuplot.err", pdir);
		snprintf(cmd, sizeof(cmd), "cd '%s' && gnuplot '%s' 2>'%s'", pdir, e->d_name, errf);
		assert_int_equal(system(cmd), 0);
		char *msgs = tu_slurp(errf);
		if (msgs && *msgs)
			fail_msg("gnuplot %s printed: %s", e->d_name, msgs);
		free(msgs);
		unlink(errf);
		FILE *f = fopen(png, "rb");
		assert_non_null(f);
		unsigned char h[24];
		assert_int_equal(fread(h, 1, 24, f), 24);
		fclose(f);
		assert_memory_equal(h, "\x89PNG\r\n\x1a\n", 8);
		unsigned w = (unsigned)h[16] << 24 | h[17] << 16 | h[18] << 8 | h[19];
		assert_true(w >= 800);
		scripts++;
	}
	closedir(d);
	assert_int_equal(scripts, 6); /* 3 plots x 2 workloads; no fault classes here */
}

/* The faults-by-class plot from real probe output: the eBPF probe's
 * metrics.probe.page_faults_by_prot (run --fault-classes) becomes a plot
 * with a bar per class. Needs root and BPF (CI has both). */
static void test_faults_by_class_plot(void **state)
{
	(void)state;
	NEED_REPORT();
	if (geteuid() != 0)
		SKIP_BECAUSE("not root: the eBPF probe needs CAP_BPF and CAP_PERFMON");
	char *d = tmpdir(), p[4300];
	char *out = NULL, *err = NULL;
	int rc = tu_run_jitmm((char *[]){"run", "-q", "-r", "1", "--warmup", "0", "--probe", "ebpf",
					 "--fault-classes", "-b", "single-pool,inprocess", "-w",
					 "llvm-500:graphs=60", "--out", d, NULL}, &out, &err);
	if (rc == 2 && strstr(err, "probe")) {
		char why[300];
		snprintf(why, sizeof(why), "%.*s", (int)strcspn(err, "\n"), err);
		free(out);
		free(err);
		rmrf(d);
		free(d);
		SKIP_BECAUSE("the eBPF probe does not load here: %s", why);
	}
	if (rc != 0)
		fail_msg("run --probe ebpf --fault-classes: exit %d: %s", rc, err);
	free(out);
	free(err);
	/* the key the probe writes, and the plot drawn from it */
	char e[512];
	snprintf(p, sizeof(p), "%s/results.json", d);
	json_object *root = jm_results_load(p, e, sizeof(e));
	assert_non_null(root);
	double rw = -1;
	json_object *run0 = json_object_array_get_idx(jm_json_path(root, "runs"), 0);
	assert_int_equal(jm_json_num(run0, "metrics.probe.page_faults_by_prot.rw", &rw), 0);
	assert_true(rw > 0); /* the linker writes every graph's data */
	json_object_put(root);
	snprintf(p, sizeof(p), "%s/plots/faults-1-llvm-500.png", d);
	struct stat st;
	assert_int_equal(stat(p, &st), 0);
	assert_true(st.st_size > 1000);
	snprintf(p, sizeof(p), "%s/plots/faults-1-llvm-500.dat", d);
	char *dat = tu_slurp(p);
	assert_non_null(dat);
	assert_non_null(strstr(dat, " rw\n"));
	assert_non_null(strstr(dat, " rx\n"));
	free(dat);
	snprintf(p, sizeof(p), "%s/report.md", d);
	char *md = tu_slurp(p);
	assert_non_null(strstr(md, "![Faults by protection class, llvm-500:graphs=60]"));
	assert_null(strstr(md, "Faults by protection class: not measured"));
	free(md);
	rmrf(d);
	free(d);
}

/* The plots read at a glance: 16 line types of their own colour, point
 * and dash (15 backends and more), the workload in every title, the VMA
 * axis scaled to the data with vm.max_map_count a note when far above it,
 * ratio bars from parity without empty groups, VA on a log scale. */
static void test_plot_styles_and_scales(void **state)
{
	(void)state;
	NEED_REPORT();
	char p[4300];
	snprintf(p, sizeof(p), "%s/plots/vmas-1-llvm-500.gp", report_dir);
	char *gp = tu_slurp(p);
	assert_non_null(gp);
	char colours[16][16], styles[16][64];
	int n = 0;
	for (const char *q = gp; (q = strstr(q, "set linetype ")) && n < 16; q++) {
		int lt, pt;
		char rgb[16], dt[48];
		if (sscanf(q, "set linetype %d lc rgb '%15[^']' lw 2.5 dt %47[^p]pt %d", &lt, rgb, dt, &pt) != 4)
			continue;
		snprintf(colours[n], sizeof(colours[n]), "%s", rgb);
		snprintf(styles[n], sizeof(styles[n]), "%s/%d", dt, pt);
		for (int k = 0; k < n; k++)
			if (!strcmp(colours[k], rgb) || !strcmp(styles[k], styles[n]))
				fail_msg("line types %d and %d share a colour or a dash and point", k + 1, n + 1);
		n++;
	}
	assert_int_equal(n, 16);
	assert_non_null(strstr(gp, "set linetype cycle 16"));
	/* the workload, by its name, in the title; VMAs added on an axis that
	 * ends near the data (480), not at vm.max_map_count (65530) */
	assert_non_null(strstr(gp, "set title 'llvm-500:graphs=200: VMAs added against graphs processed'"));
	assert_non_null(strstr(gp, "set yrange [1:1443]"));
	assert_null(strstr(gp, "first mmc"));
	assert_non_null(strstr(gp, "x the highest count here"));
	free(gp);
	snprintf(p, sizeof(p), "%s/plots/bars-1-llvm-500.gp", report_dir);
	gp = tu_slurp(p);
	assert_non_null(strstr(gp, "set title 'llvm-500:graphs=200: each metric relative to single-pool"));
	assert_non_null(strstr(gp, "($2<1?$2:1):($2>1?$2:1) with boxxyerror")); /* from parity */
	assert_null(strstr(gp, "'munmap'")); /* 0 for every backend: no empty group */
	free(gp);
	snprintf(p, sizeof(p), "%s/plots/memory-2-page-pairs.gp", report_dir);
	gp = tu_slurp(p);
	assert_non_null(strstr(gp, "set title 'page-pairs:graphs=200: resident memory over the run"));
	assert_non_null(strstr(gp, "set ylabel 'VA reserved (MiB, log scale)'\nset logscale y"));
	free(gp);
}

/* A run that hits vm.max_map_count is drawn up to its failure, marked and
 * labelled with why; the limit is a line where the counts reach it. */
static void test_max_map_count_failure_plotted(void **state)
{
	(void)state;
	if (!have("gnuplot"))
		SKIP_BECAUSE("gnuplot is not installed");
	char *d = tmpdir(), p[4300];
	char *out = NULL, *err = NULL;
	int rc = tu_run_jitmm((char *[]){"run", "-q", "-r", "1", "--warmup", "0", "-b",
					 "single-pool,per-prot", "-w", "max-map-count", "--out", d, NULL},
			      &out, &err);
	if (rc != 1)
		fail_msg("run: exit %d, want 1 (single-pool fails): %s", rc, err);
	snprintf(p, sizeof(p), "%s/plots/vmas-1-max-map-count.gp", d);
	char *gp = tu_slurp(p);
	assert_non_null(gp);
	assert_non_null(strstr(gp, "set label 10 'single-pool failed: "));
	assert_non_null(strstr(gp, "ENOMEM at graph "));
	assert_non_null(strstr(gp, "title 'single-pool (failed)'"));
	assert_non_null(strstr(gp, "first mmc")); /* the limit is in range: a line */
	free(gp);
	snprintf(p, sizeof(p), "%s/plots/vmas-1-max-map-count.png", d);
	struct stat st;
	assert_int_equal(stat(p, &st), 0);
	assert_true(st.st_size > 1000);
	free(out);
	free(err);
	rmrf(d);
	free(d);
}

static void test_report_bad_input(void **state)
{
	(void)state;
	char *d = tmpdir(), in[4200], md[4300];
	snprintf(in, sizeof(in), "%s/bad.json", d);
	spit(in, "{\n  \"schema_version\": 1,\n  \"runs\": [ }\n");
	char *args[] = {"report", in, NULL};
	char *err;
	assert_int_equal(tu_run_jitmm(args, NULL, &err), 2);
	char want[4300];
	snprintf(want, sizeof(want), "%s:3:", in);
	assert_non_null(strstr(err, want));
	free(err);
	snprintf(md, sizeof(md), "%s/report.md", d);
	assert_int_not_equal(access(md, F_OK), 0);
	rmrf(d);
	free(d);
}

/* Without gnuplot the tables are still written, with a note saying why
 * there are no plots. */
static void test_report_without_gnuplot(void **state)
{
	(void)state;
	char *d = tmpdir(), p[4300];
	char *saved = strdup(getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin");
	setenv("PATH", "/nonexistent", 1);
	char *args[] = {"report", FIXTURE, "-o", d, NULL};
	int rc = tu_run_jitmm(args, NULL, NULL);
	setenv("PATH", saved, 1);
	free(saved);
	assert_int_equal(rc, 0);
	snprintf(p, sizeof(p), "%s/report.md", d);
	char *md = tu_slurp(p);
	assert_non_null(md);
	assert_non_null(strstr(md, "No plots: gnuplot is not installed"));
	assert_non_null(strstr(md, "| single-pool | ok |"));
	free(md);
	snprintf(p, sizeof(p), "%s/report.html", d);
	char *html = tu_slurp(p);
	assert_non_null(html);
	check_html_balance(html);
	free(html);
	rmrf(d);
	free(d);
}

static void test_ratio_text(void **state)
{
	(void)state;
	char b[64];
	jm_ratio_text(5700, 100, b, sizeof(b));
	assert_string_equal(b, "57x fewer");
	jm_ratio_text(100, 250, b, sizeof(b));
	assert_string_equal(b, "2.5x more");
	jm_ratio_text(1217, 1216, b, sizeof(b));
	assert_string_equal(b, "same");
	jm_ratio_text(100, 91, b, sizeof(b));
	assert_string_equal(b, "1.099x fewer");
	jm_ratio_text(10, 0, b, sizeof(b));
	assert_string_equal(b, "none added");
	jm_ratio_text(10, 10, b, sizeof(b));
	assert_string_equal(b, "same");
}

/* The export checked as its consumer reads it (tests/export_check.py:
 * Bencher's BMF schema, github-action-benchmark's and Bencher's parsers,
 * LNT's import against docs/lnt-jitmm.yaml); 1 if it passes. */
static int consumer_accepts(const char *fmt, const char *file, char **why)
{
	char cmd[4600];
	snprintf(cmd, sizeof(cmd), "python3 tests/export_check.py %s '%s' docs/lnt-jitmm.yaml 2>&1",
		 fmt, file);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	static char out[8192];
	size_t n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = 0;
	int st = pclose(p);
	if (why)
		*why = out;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 77)
		return -1;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

#define NEED_PYTHON()                                                                    \
	do {                                                                             \
		if (!have("python3"))                                                    \
			SKIP_BECAUSE("python3 is not installed (scripts/install-deps installs it)"); \
	} while (0)

static void export_golden(const char *fmt)
{
	NEED_PYTHON();
	char *d = tmpdir(), file[4200];
	snprintf(file, sizeof(file), "%s/export.json", d);
	char *args[] = {"export", "--format", (char *)fmt, FIXTURE, "-o", file, NULL};
	assert_int_equal(tu_run_jitmm(args, NULL, NULL), 0);
	char *out = tu_slurp(file);
	json_object *o = json_tokener_parse(out);
	assert_non_null(o);
	if (!strcmp(fmt, "bmf")) {
		json_object *v = jm_json_path(o, "llvm-500:graphs=200/single-pool");
		assert_non_null(v);
		double x;
		assert_int_equal(jm_json_num(v, "vmas-added.value", &x), 0);
		assert_int_equal(jm_json_num(v, "latency.upper_value", &x), 0);
		assert_int_equal(jm_json_num(v, "failed-runs.value", &x), 0);
		assert_true(x == 0);
	} else if (!strcmp(fmt, "gab")) {
		assert_true(json_object_is_type(o, json_type_array));
		json_object *e = json_object_array_get_idx(o, 0);
		assert_string_equal(jm_json_str(e, "name", ""), "llvm-500:graphs=200/single-pool - VMAs added");
	} else if (!strcmp(fmt, "gbench")) {
		json_object *b = json_object_array_get_idx(jm_json_path(o, "benchmarks"), 0);
		assert_string_equal(jm_json_str(b, "name", ""), "llvm-500:graphs=200/single-pool");
		assert_string_equal(jm_json_str(b, "time_unit", ""), "ns");
		assert_non_null(jm_json_path(b, "vmas_added"));
	} else {
		assert_string_equal(jm_json_str(o, "format_version", ""), "2");
		assert_string_equal(jm_json_str(o, "run.start_time", ""), "2026-11-21T23:31:56");
		assert_string_equal(jm_json_str(o, "run.llvm_project_revision", ""), "20261121233156");
		json_object *t = json_object_array_get_idx(jm_json_path(o, "tests"), 0);
		/* one sample per repetition, in seconds, in the fewest digits */
		assert_int_equal(json_object_array_length(jm_json_path(t, "execution_time")), 3);
		assert_null(strstr(out, "00000000"));
	}
	json_object_put(o);
	char *why;
	int ok = consumer_accepts(fmt, file, &why);
	if (ok < 0)
		SKIP_BECAUSE("%s", why);
	if (!ok)
		fail_msg("the %s consumer refuses it: %s", fmt, why);
	char name[64];
	snprintf(name, sizeof(name), "export-%s.json.golden", fmt);
	check_golden(name, out);
	free(out);
	rmrf(d);
	free(d);
}

static void test_export_bmf(void **state) { (void)state; export_golden("bmf"); }
static void test_export_gab(void **state) { (void)state; export_golden("gab"); }
static void test_export_lnt(void **state) { (void)state; export_golden("lnt"); }
static void test_export_gbench(void **state) { (void)state; export_golden("gbench"); }

static void test_export_bad_format(void **state)
{
	(void)state;
	char *args[] = {"export", "--format", "csv", FIXTURE, NULL};
	assert_int_equal(tu_run_jitmm(args, NULL, NULL), 2);
	char *e = NULL;
	assert_int_equal(tu_run_jitmm((char *[]){"export", "-f", "bmf", "-m", "vmas,wall_ns", FIXTURE,
						 NULL}, NULL, &e), 2);
	assert_non_null(strstr(e, "'vmas' is not an exported metric"));
	free(e);
	assert_int_equal(tu_run_jitmm((char *[]){"export", "-f", "lnt", "--order", "abc123", FIXTURE,
						 NULL}, NULL, NULL), 2);
	/* the checker itself refuses what a consumer refuses */
	NEED_PYTHON();
	char *d = tmpdir(), f[4200];
	snprintf(f, sizeof(f), "%s/bad.json", d);
	spit(f, "[]\n");
	assert_int_equal(consumer_accepts("gab", f, NULL), 0);
	spit(f, "{\"b\": {\"m\": {\"lower_value\": 1}}}\n");
	assert_int_equal(consumer_accepts("bmf", f, NULL), 0);
	spit(f, "{\"format_version\": \"2\", \"machine\": {\"name\": \"m\"}, \"run\": {\"start_time\":"
		" \"2026-01-01 00:00:00\", \"end_time\": \"2026-01-01T00:00:00\", "
		"\"llvm_project_revision\": \"02ebc067\"}, \"tests\": [{\"name\": \"t\", \"vmas-added\": 1}]}\n");
	assert_int_equal(consumer_accepts("lnt", f, NULL), 0);
	rmrf(d);
	free(d);
}

/* Every distinct configuration has its own, stable name in every format;
 * failed runs are in every format, and export exits 1 for them. */
static void test_export_names_and_failures(void **state)
{
	(void)state;
	char *d = tmpdir(), in[4200], f[4200];
	snprintf(in, sizeof(in), "%s/r.json", d);
	snprintf(f, sizeof(f), "%s/e.json", d);
	char *e = NULL;
	int rc = tu_run_jitmm((char *[]){"run", "-q", "-r", "1", "--warmup", "0", "-b",
					 "single-pool,single-pool:granularity=1G,null,null:crash_after=3",
					 "-w", "llvm-500:graphs=20,llvm-500:graphs=20,seed=7,"
					 "synthetic:graphs=30", "--json", in, NULL}, NULL, &e);
	assert_int_equal(rc, 1); /* the crash */
	free(e);
	const char *want[] = {
		"llvm-500:graphs=20/single-pool", "llvm-500:graphs=20/single-pool:granularity=1G",
		"llvm-500:graphs=20,seed=7/single-pool", "synthetic:graphs=30/single-pool",
		/* null and null:crash_after=3 differ in a test option only: all
		 * their options name them apart */
		"llvm-500:graphs=20/null crash_after=0,hang_after=0,leak=off",
		"llvm-500:graphs=20/null crash_after=3,hang_after=0,leak=off", NULL,
	};
	const char *fmts[] = {"bmf", "gab", "lnt", "gbench"};
	for (int k = 0; k < 4; k++) {
		char *o = NULL;
		rc = tu_run_jitmm((char *[]){"export", "-f", (char *)fmts[k], in, "-o", f, NULL}, NULL, &o);
		if (rc != 1 || !strstr(o, "3 runs failed"))
			fail_msg("%s: exit %d, want 1: %s", fmts[k], rc, o);
		free(o);
		char *text = tu_slurp(f);
		for (int w = 0; want[w]; w++) {
			char q[300];
			snprintf(q, sizeof(q), "\"%s%s", !strcmp(fmts[k], "lnt") ? "jitmm/" : "", want[w]);
			if (!strstr(text, q))
				fail_msg("%s: no %s in %s", fmts[k], q, text);
		}
		/* the crashed configuration is marked */
		const char *mark = !strcmp(fmts[k], "bmf") ? "\"failed-runs\"" :
				   !strcmp(fmts[k], "gab") ? "crash_after=3,hang_after=0,leak=off - failed runs" :
				   !strcmp(fmts[k], "lnt") ? "\"execution_status\"" : "\"error_occurred\": true";
		assert_non_null(strstr(text, mark));
		free(text);
		if (have("python3")) {
			char *why;
			int ok = consumer_accepts(fmts[k], f, &why);
			if (ok == 0)
				fail_msg("%s refused: %s", fmts[k], why);
		}
	}
	/* --metrics, --order, --machine */
	assert_int_equal(tu_run_jitmm((char *[]){"export", "-f", "lnt", in, "-o", f, "--metrics",
						 "vmas_added,execution_time", "--order", "523456",
						 "--machine", "ci-x86", NULL}, NULL, NULL), 1);
	char err[512];
	json_object *o = jm_results_load(FIXTURE, err, sizeof(err));
	json_object_put(o);
	char *text = tu_slurp(f);
	o = json_tokener_parse(text);
	assert_string_equal(jm_json_str(o, "run.llvm_project_revision", ""), "523456");
	assert_string_equal(jm_json_str(o, "machine.name", ""), "ci-x86");
	json_object *t0 = json_object_array_get_idx(jm_json_path(o, "tests"), 0);
	int keys = 0;
	json_object_object_foreach(t0, k, v) {
		(void)v;
		keys++;
		if (strcmp(k, "name") && strcmp(k, "vmas_added") && strcmp(k, "execution_time") &&
		    strcmp(k, "execution_status"))
			fail_msg("--metrics let %s through", k);
	}
	assert_int_equal(keys, 3);
	json_object_put(o);
	free(text);
	rmrf(d);
	free(d);
}

/* ---- compare ---- */

/* Write the fixture with one aggregate metric of one entry changed. */
static void mutate(const char *out, const char *backend, const char *metric,
		   double factor, double add)
{
	char err[512];
	json_object *root = jm_results_load(FIXTURE, err, sizeof(err));
	assert_non_null(root);
	json_object *aggs = jm_json_path(root, "aggregates");
	int hit = 0;
	for (size_t i = 0; i < json_object_array_length(aggs); i++) {
		json_object *a = json_object_array_get_idx(aggs, i);
		if (strcmp(jm_json_str(a, "backend", ""), backend) ||
		    strcmp(jm_json_str(a, "workload", ""), "llvm-500"))
			continue;
		json_object *e = jm_json_path(jm_json_path(a, "metrics"), metric);
		if (!e) {
			/* "a.b.c" metric names are keys, not paths */
			json_object_object_get_ex(jm_json_path(a, "metrics"), metric, &e);
		}
		assert_non_null(e);
		const char *k[] = {"median", "min", "max"};
		for (int j = 0; j < 3; j++) {
			double v;
			assert_int_equal(jm_json_num(e, k[j], &v), 0);
			json_object_object_add(e, k[j], json_object_new_double(v * factor + add));
		}
		hit = 1;
	}
	assert_true(hit);
	assert_int_equal(jm_results_write(root, out, err, sizeof(err)), 0);
	json_object_put(root);
}

static int compare(const char *a, const char *b, const char *extra1, const char *extra2,
		   char **out)
{
	char *args[8] = {"compare", (char *)a, (char *)b, "--fail-on-regression"};
	int n = 4;
	if (extra1)
		args[n++] = (char *)extra1;
	if (extra2)
		args[n++] = (char *)extra2;
	args[n] = NULL;
	char *err;
	int rc = tu_run_jitmm(args, out, &err);
	free(err);
	return rc;
}

static void test_compare_exit_codes(void **state)
{
	(void)state;
	char *d = tmpdir(), p[4200], *out;
	snprintf(p, sizeof(p), "%s/new.json", d);

	/* identical: no regression */
	assert_int_equal(compare(FIXTURE, FIXTURE, NULL, NULL, &out), 0);
	assert_non_null(strstr(out, "0 regressions"));
	free(out);

	/* improvement: fewer VMAs */
	mutate(p, "single-pool", "vmas_added", 0.5, 0);
	assert_int_equal(compare(FIXTURE, p, NULL, NULL, &out), 0);
	assert_non_null(strstr(out, "| vmas_added |"));
	assert_non_null(strstr(out, "improvement"));
	free(out);

	/* an exact count regresses on a single extra VMA */
	mutate(p, "single-pool", "vmas_added", 1, 1);
	assert_int_equal(compare(FIXTURE, p, NULL, NULL, &out), 1);
	assert_non_null(strstr(out, "**REGRESSION**"));
	free(out);
	/* ... unless its threshold allows it */
	assert_int_equal(compare(FIXTURE, p, "--threshold", "vmas_added=1", &out), 0);
	assert_non_null(strstr(out, "within 1%"));
	free(out);

	/* timing within the 10% margin, then beyond it (3 repetitions each) */
	mutate(p, "inprocess", "wall_ns", 1.05, 0);
	assert_int_equal(compare(FIXTURE, p, NULL, NULL, &out), 0);
	assert_non_null(strstr(out, "within 10%"));
	free(out);
	mutate(p, "inprocess", "wall_ns", 3, 0);
	assert_int_equal(compare(FIXTURE, p, NULL, NULL, &out), 1);
	free(out);
	assert_int_equal(compare(FIXTURE, p, "-t", "wall_ns=250", &out), 0);
	free(out);
	/* with too few repetitions a timing is not judged */
	assert_int_equal(compare(FIXTURE, p, "--min-repeat", "4", &out), 0);
	assert_non_null(strstr(out, "not judged"));
	free(out);

	/* without --fail-on-regression a regression still exits 0 */
	char *args[] = {"compare", FIXTURE, p, NULL};
	assert_int_equal(tu_run_jitmm(args, NULL, NULL), 0);
	rmrf(d);
	free(d);
}

static void test_compare_unusable_input(void **state)
{
	(void)state;
	char *d = tmpdir(), p[4200], *out, *err;
	snprintf(p, sizeof(p), "%s/bad.json", d);
	spit(p, "{\n \"schema_version\": 1,\n \"runs\": [1,,]\n}\n");
	char *args[] = {"compare", FIXTURE, p, "--fail-on-regression", NULL};
	assert_int_equal(tu_run_jitmm(args, &out, &err), 2);
	char want[4300];
	snprintf(want, sizeof(want), "%s:3: malformed JSON", p);
	assert_non_null(strstr(err, want));
	free(out);
	free(err);

	/* nothing in common: a different backend set */
	char e[512];
	json_object *root = jm_results_load(FIXTURE, e, sizeof(e));
	json_object *aggs = jm_json_path(root, "aggregates");
	for (size_t i = 0; i < json_object_array_length(aggs); i++)
		json_object_object_add(json_object_array_get_idx(aggs, i), "backend",
				       json_object_new_string("other"));
	assert_int_equal(jm_results_write(root, p, e, sizeof(e)), 0);
	json_object_put(root);
	assert_int_equal(tu_run_jitmm(args, &out, &err), 2);
	assert_non_null(strstr(err, "nothing") ? strstr(err, "nothing") : strstr(err, "in common"));
	free(out);
	free(err);

	spit(p, "[1, 2]\n");
	assert_int_equal(tu_run_jitmm(args, NULL, NULL), 2);
	char *missing[] = {"compare", FIXTURE, "/nonexistent/x.json", NULL};
	assert_int_equal(tu_run_jitmm(missing, NULL, NULL), 2);
	rmrf(d);
	free(d);
}

/* ---- names of configurations (reports/names.h) ---- */

static json_object *jparse(const char *text)
{
	json_object *o = json_tokener_parse(text);
	if (!o)
		fail_msg("bad JSON in the test: %s", text);
	return o;
}

static void test_names(void **state)
{
	(void)state;
	json_object *root = jparse(
		"{\"config\": {\"backends\": ["
		"{\"name\": \"single-pool\", \"defaults\": {\"granularity\": \"16M\", \"llvm\": \"22\"}},"
		"{\"name\": \"llvm-mapper\", \"defaults\": {\"plugin\": \"default\", \"label\": \"\","
		" \"granularity\": \"1G\"}},"
		"{\"name\": \"null\", \"defaults\": {\"crash_after\": \"0\"}, \"test_options\": [\"crash_after\"]}],"
		"\"workload_defaults\": {\"llvm-500\": \"synthetic:graphs=500,seed=1\","
		" \"synthetic\": \"synthetic:graphs=500,seed=1\"}, \"threads\": 8, \"code_model\": \"small\"}}");
	static const struct {
		const char *o, *backend, *workload;
	} cases[] = {
		{"{\"backend\": \"single-pool\", \"backend_options\": {\"granularity\": \"16M\", \"llvm\": \"22\"},"
		 " \"workload\": \"llvm-500\", \"workload_spec\": \"synthetic:graphs=500,seed=1\"}",
		 "single-pool", "llvm-500"},
		{"{\"backend\": \"single-pool\", \"backend_options\": {\"granularity\": \"1G\", \"llvm\": \"22\"},"
		 " \"workload\": \"llvm-500\", \"workload_spec\": \"synthetic:graphs=50,seed=7\"}",
		 "single-pool:granularity=1G", "llvm-500:graphs=50,seed=7"},
		/* a label names the plugin; the empty default label is not shown */
		{"{\"backend\": \"llvm-mapper\", \"backend_options\": {\"plugin\": \"/x/p.so\", \"label\":"
		 " \"patched\", \"granularity\": \"1G\"}, \"workload\": \"synthetic\", \"workload_spec\":"
		 " \"synthetic:graphs=20,seed=1\"}",
		 "llvm-mapper[patched]", "synthetic:graphs=20"},
		{"{\"backend\": \"llvm-mapper\", \"backend_options\": {\"plugin\": \"default\", \"label\": \"\","
		 " \"granularity\": \"16M\"}, \"workload\": \"trace:z.jmt\", \"workload_spec\":"
		 " \"trace:workloads/traces/z.jmt\"}",
		 "llvm-mapper:granularity=16M", "trace:workloads/traces/z.jmt"},
		/* test-only options are not part of the name */
		{"{\"backend\": \"null\", \"backend_options\": {\"crash_after\": \"3\"}, \"workload\": \"llvm-500\","
		 " \"workload_spec\": \"synthetic:graphs=500,seed=1\"}", "null", "llvm-500"},
		/* no defaults recorded (an older file): every option, the whole spec */
		{"{\"backend\": \"striped\", \"backend_options\": {\"slab_size\": \"64M\"}, \"workload\":"
		 " \"page-pairs\", \"workload_spec\": \"synthetic:graphs=500,sizes=fixed\"}",
		 "striped:slab_size=64M", "synthetic:graphs=500,sizes=fixed"},
	};
	char b[JM_NAME_MAX], w[JM_NAME_MAX];
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_object *o = jparse(cases[i].o);
		jm_name_backend(root, o, b, sizeof(b));
		jm_name_workload(root, o, w, sizeof(w));
		if (strcmp(b, cases[i].backend) || strcmp(w, cases[i].workload))
			fail_msg("case %zu: '%s' on '%s', want '%s' on '%s'", i, b, w, cases[i].backend,
				 cases[i].workload);
		json_object_put(o);
	}
	/* what differs from run's defaults, and the whole dashboard name */
	jm_name_run_options(root, b, sizeof(b));
	assert_string_equal(b, "threads=8");
	json_object *o = jparse(cases[1].o);
	jm_name_config(root, o, b, sizeof(b));
	assert_string_equal(b, "llvm-500:graphs=50,seed=7/single-pool:granularity=1G/threads=8");
	/* never cut inside a value: a short buffer ends after a whole pair */
	json_object *many = jparse("{\"a\": \"1111\", \"b\": \"2222\", \"c\": \"3333\"}");
	jm_name_backend_from("x", many, NULL, NULL, b, 14);
	assert_string_equal(b, "x:a=1111,...");
	json_object_put(many);
	json_object_put(o);
	json_object_put(root);
}

/* ---- the summary, the PR-width report, why runs failed ---- */

/* report.md opens on the summary: per workload who wins and what it
 * costs; a control (null) never wins. */
static void test_summary_on_top(void **state)
{
	(void)state;
	NEED_REPORT();
	char path[4200];
	snprintf(path, sizeof(path), "%s/report.md", report_dir);
	char *md = tu_slurp(path);
	assert_non_null(md);
	char *sum = strstr(md, "## Summary"), *tables = strstr(md, "## Results per workload");
	assert_non_null(sum);
	assert_non_null(tables);
	assert_true(sum < tables);
	assert_non_null(strstr(md, "- Fewest VMAs added: inprocess, 480 (single-pool: 481).\n"));
	assert_non_null(strstr(md, "  - **inprocess**: same VMAs as single-pool, 1.4x more memory "
				   "syscalls, same RSS, 4.5x less address space (3.6 MiB).\n"));
	/* null adds 1 VMA but is a control: it is in no winner line */
	for (const char *p = sum; p < tables; p = strchr(p, '\n') + 1)
		if (!strncmp(p, "- ", 2) && strstr(p, "null") && strstr(p, "null") < strchr(p, '\n'))
			fail_msg("the control won: %.120s", p);
	free(md);
	/* the HTML page opens on it too */
	snprintf(path, sizeof(path), "%s/report.html", report_dir);
	char *html = tu_slurp(path);
	char *s2 = strstr(html, "<div class=\"summary\" id=\"summary\">");
	assert_non_null(s2);
	assert_true(s2 < strstr(html, "<h2>Results per workload</h2>"));
	assert_non_null(strstr(s2, "<strong>inprocess</strong>: same VMAs as single-pool"));
	free(html);
}

/* --format pr: the summary and six-column tables, no plots, the context
 * folded away: it fits a pull request comment. */
static void test_report_format_pr(void **state)
{
	(void)state;
	char *out = NULL, *err = NULL;
	assert_int_equal(tu_run_jitmm((char *[]){"report", "--format", "pr", FIXTURE, NULL}, &out,
				      &err), 0);
	assert_non_null(strstr(out, "### llvm-500:graphs=200\n"));
	assert_non_null(strstr(out, "| backend | VMAs | vs single-pool | syscalls | RSS | VA |\n"));
	assert_non_null(strstr(out, "| inprocess | 480 | same | 680 | 3.6 MiB | 3.6 MiB |\n"));
	assert_null(strstr(out, "plots/"));
	assert_non_null(strstr(out, "<details><summary>Context</summary>"));
	/* every table line has six columns, and none is wider than a
	 * comment's ~780 px holds (100 characters, rendered) */
	int rows = 0;
	for (const char *p = out; *p; p = strchr(p, '\n') + 1) {
		size_t len = strcspn(p, "\n");
		if (*p == '|') {
			int bars = 0;
			for (size_t i = 0; i < len; i++)
				bars += p[i] == '|';
			assert_int_equal(bars, 7);
			assert_true(len <= 100);
			rows++;
		}
		if (!p[len])
			break;
	}
	assert_int_equal(rows, 2 * (2 + 3));
	free(out);
	free(err);
	/* -o FILE, and no report directory made */
	char *d = tmpdir(), f[4200];
	snprintf(f, sizeof(f), "%s/pr.md", d);
	assert_int_equal(tu_run_jitmm((char *[]){"report", "-f", "pr", FIXTURE, "-o", f, NULL}, NULL,
				      NULL), 0);
	assert_int_equal(access(f, R_OK), 0);
	assert_int_equal(tu_run_jitmm((char *[]){"report", "-f", "slides", FIXTURE, NULL}, NULL,
				      NULL), 2);
	rmrf(d);
	free(d);
}

/* A failed run says why -- the syscall, errno, graph and VMA count -- on
 * the console, in the summary, and in report.md and report.html. */
static void test_why_runs_failed_everywhere(void **state)
{
	(void)state;
	char *d = tmpdir(), p[4300];
	char *out = NULL, *err = NULL;
	int rc = tu_run_jitmm((char *[]){"run", "-r", "1", "--warmup", "0", "-b", "single-pool", "-w",
					 "llvm-500:graphs=20", "--inject", "mprotect:ENOMEM@3", "--out", d,
					 NULL}, &out, &err);
	assert_int_equal(rc, 1);
	const char *why = "mprotect failed with ENOMEM at graph 1 with ";
	if (!strstr(err, "jitmm: single-pool on llvm-500:graphs=20: failed: ") || !strstr(err, why))
		fail_msg("console: %s", err);
	snprintf(p, sizeof(p), "%s/report.md", d);
	char *md = tu_slurp(p);
	assert_non_null(md);
	assert_non_null(strstr(md, "- **single-pool failed** 1 of 1 runs: mprotect failed with ENOMEM"));
	assert_non_null(strstr(strstr(md, "## Why runs failed"), why));
	free(md);
	snprintf(p, sizeof(p), "%s/report.html", d);
	char *html = tu_slurp(p);
	assert_non_null(html);
	check_html_balance(html);
	assert_non_null(strstr(html, "<h2>Why runs failed</h2>"));
	assert_non_null(strstr(strstr(html, "<h2>Why runs failed</h2>"), why));
	free(html);
	free(out);
	free(err);
	rmrf(d);
	free(d);
}

/* ---- one total per run: the executor process's work counts ---- */

/* shm-mapper runs its code in an executor process: every reader that
 * compares backends (the table, export, compare, justify) counts both
 * processes' VMAs and syscalls (reports/run_total.h). */
static void test_run_total_counts_the_executor(void **state)
{
	(void)state;
	char *d = tmpdir(), in[4200], p2[4200], e[512];
	snprintf(in, sizeof(in), "%s/shm.json", d);
	snprintf(p2, sizeof(p2), "%s/shm2.json", d);
	char *o = NULL, *er = NULL;
	int rc = tu_run_jitmm((char *[]){"run", "-q", "-r", "1", "-b", "single-pool,shm-mapper", "-w",
					 "page-pairs:graphs=40", "--json", in, NULL}, &o, &er);
	if (rc != 0)
		fail_msg("run: %s", er);
	/* the table: the executor's part beside the controller's */
	assert_non_null(strstr(o, "| 0 (+80 executor) |")); /* mprotect */
	free(o);
	free(er);
	json_object *root = jm_results_load(in, e, sizeof(e));
	assert_non_null(root);
	json_object *shm = NULL, *aggs = jm_json_path(root, "aggregates");
	for (size_t i = 0; i < json_object_array_length(aggs); i++)
		if (!strcmp(jm_json_str(json_object_array_get_idx(aggs, i), "backend", ""), "shm-mapper"))
			shm = json_object_array_get_idx(aggs, i);
	assert_non_null(shm);
	double own, ex, total;
	assert_int_equal(jm_agg_metric(shm, "syscalls.mprotect.calls", &own, NULL, NULL), 0);
	assert_int_equal(jm_agg_metric(shm, "backend.executor_mprotect_calls", &ex, NULL, NULL), 0);
	assert_int_equal(jm_total_agg(shm, "syscalls.mprotect.calls", &total, NULL, NULL), 0);
	assert_true(own == 0 && ex == 80 && total == 80);
	assert_int_equal(jm_total_agg(shm, "vmas_added", &total, NULL, NULL), 0);
	assert_true(total > 80); /* the executor's 81, the controller's 1 */
	/* export: the totals */
	assert_int_equal(tu_run_jitmm((char *[]){"export", "-f", "bmf", in, NULL}, &o, NULL), 0);
	json_object *bmf = json_tokener_parse(o);
	assert_non_null(bmf);
	int seen = 0;
	json_object_object_foreach(bmf, name, v) {
		if (!strstr(name, "shm-mapper"))
			continue;
		double x;
		assert_int_equal(jm_json_num(v, "mprotect-calls.value", &x), 0);
		assert_true(x == 80);
		assert_int_equal(jm_json_num(v, "vmas-added.value", &x), 0);
		assert_true(x == total);
		seen = 1;
	}
	assert_true(seen);
	json_object_put(bmf);
	free(o);
	/* compare: one more executor mprotect is a regression */
	json_object *m = jm_json_path(shm, "metrics");
	json_object *em = NULL;
	json_object_object_get_ex(m, "backend.executor_mprotect_calls", &em);
	assert_non_null(em);
	const char *k[] = {"median", "min", "max", "mean"};
	for (int j = 0; j < 4; j++)
		json_object_object_add(em, k[j], json_object_new_int(81));
	assert_int_equal(jm_results_write(root, p2, e, sizeof(e)), 0);
	json_object_put(root);
	assert_int_equal(compare(in, p2, NULL, NULL, &o), 1);
	assert_non_null(strstr(o, "syscalls.mprotect.calls"));
	assert_non_null(strstr(o, "**REGRESSION**"));
	free(o);
	rmrf(d);
	free(d);
}

/* ---- shard and merge ---- */

static void run_to(const char *json, const char *shard, const char *repeat)
{
	char *args[16] = {"run", "-q", "-b", "single-pool,inprocess,null", "-w",
			  "llvm-500:graphs=40,page-pairs:graphs=30", "-r", (char *)repeat,
			  "--json", (char *)json};
	int n = 10;
	if (shard) {
		args[n++] = "--shard";
		args[n++] = (char *)shard;
	}
	args[n] = NULL;
	char *out, *err;
	int rc = tu_run_jitmm(args, &out, &err);
	if (rc)
		fail_msg("jitmm run: %s", err);
	free(out);
	free(err);
}

static void matrix_keys(const char *path, char *buf, size_t len)
{
	char e[512];
	json_object *root = jm_results_load(path, e, sizeof(e));
	assert_non_null(root);
	json_object *runs = jm_json_path(root, "runs");
	size_t used = 0;
	buf[0] = 0;
	for (size_t i = 0; i < json_object_array_length(runs); i++) {
		json_object *r = json_object_array_get_idx(runs, i);
		double mm = -1, mp = -1;
		jm_json_num(r, "metrics.syscalls.mmap.calls", &mm);
		jm_json_num(r, "metrics.syscalls.mprotect.calls", &mp);
		used += (size_t)snprintf(buf + used, len - used, "%s|%s|%s|%d|%.0f|%.0f\n",
			jm_json_str(r, "backend", "?"),
			json_object_to_json_string(jm_json_path(r, "backend_options")),
			jm_json_str(r, "workload_spec", "?"),
			json_object_get_int(jm_json_path(r, "repetition")), mm, mp);
		assert_true(used < len);
	}
	json_object_put(root);
}

static void test_shard_merge_equals_unsharded(void **state)
{
	(void)state;
	char *d = tmpdir(), full[4200], s[3][4200], all[4200];
	snprintf(full, sizeof(full), "%s/full.json", d);
	snprintf(all, sizeof(all), "%s/all.json", d);
	run_to(full, NULL, "2");
	for (int i = 0; i < 3; i++) {
		char sh[32];
		snprintf(s[i], sizeof(s[i]), "%s/s%d.json", d, i + 1);
		snprintf(sh, sizeof(sh), "%d/3", i + 1);
		run_to(s[i], sh, "2");
	}
	/* each shard has a third of the 12 cells */
	char e[512];
	json_object *one = jm_results_load(s[1], e, sizeof(e));
	assert_int_equal(json_object_array_length(jm_json_path(one, "runs")), 4);
	json_object_put(one);
	/* inputs in any order */
	char *args[] = {"merge", s[2], s[0], s[1], "-o", all, NULL};
	assert_int_equal(tu_run_jitmm(args, NULL, NULL), 0);
	static char a[16384], b[16384];
	matrix_keys(full, a, sizeof(a));
	matrix_keys(all, b, sizeof(b));
	assert_string_equal(a, b);
	json_object *m = jm_results_load(all, e, sizeof(e));
	assert_int_equal(json_object_array_length(jm_json_path(m, "aggregates")), 6);
	assert_null(jm_json_path(m, "config.shard"));
	json_object_put(m);

	/* conflicts: the same shard twice, a different configuration */
	char *twice[] = {"merge", s[0], s[0], "-o", all, NULL};
	assert_int_equal(tu_run_jitmm(twice, NULL, NULL), 2);
	char other[4200];
	snprintf(other, sizeof(other), "%s/other.json", d);
	run_to(other, "2/3", "1");
	char *conflict[] = {"merge", s[0], other, "-o", all, NULL};
	char *err;
	assert_int_equal(tu_run_jitmm(conflict, NULL, &err), 2);
	assert_non_null(strstr(err, "config.repeat"));
	free(err);
	/* a context conflict (another kernel) */
	json_object *x = jm_results_load(s[1], e, sizeof(e));
	json_object_object_add(jm_json_path(x, "context"), "kernel", json_object_new_string("5.4.0"));
	assert_int_equal(jm_results_write(x, other, e, sizeof(e)), 0);
	json_object_put(x);
	assert_int_equal(tu_run_jitmm(conflict, NULL, &err), 2);
	assert_non_null(strstr(err, "context.kernel"));
	free(err);
	/* wrong types where merge walks objects: exit 2, one line (were a
	 * segfault and a json-c assertion); no config at all is merged */
	static const char *const bad[][2] = {
		{"{\"schema_version\":1,\"runs\":[{\"status\":\"ok\",\"metrics\":5}]}",
		 ": runs[0].metrics: expected an object, got a number"},
		{"{\"schema_version\":1,\"config\":[],\"runs\":[]}", ": config: expected an object, got an array"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(jm_write_atomic(other, bad[i][0], strlen(bad[i][0]), e, sizeof(e)), 0);
		char *one_bad[] = {"merge", other, "-o", all, NULL};
		assert_int_equal(tu_run_jitmm(one_bad, NULL, &err), 2);
		assert_non_null(strstr(err, bad[i][1]));
		assert_int_equal(strchr(err, '\n') - err + 1, (long)strlen(err));
		free(err);
	}
	static const char no_config[] = "{\"schema_version\":1,\"runs\":[]}";
	assert_int_equal(jm_write_atomic(other, no_config, strlen(no_config), e, sizeof(e)), 0);
	char *merge_no_config[] = {"merge", other, "-o", all, NULL};
	assert_int_equal(tu_run_jitmm(merge_no_config, NULL, NULL), 0);
	rmrf(d);
	free(d);
}

static void test_shard_parse(void **state)
{
	(void)state;
	unsigned i, n;
	assert_int_equal(jm_shard_parse("2/5", &i, &n), 0);
	assert_int_equal(i, 2);
	assert_int_equal(n, 5);
	assert_int_equal(jm_shard_parse("0/5", &i, &n), -1);
	assert_int_equal(jm_shard_parse("6/5", &i, &n), -1);
	assert_int_equal(jm_shard_parse("1/2x", &i, &n), -1);
	/* every cell in exactly one shard */
	for (unsigned long k = 0; k < 50; k++) {
		int owners = 0;
		for (unsigned s = 1; s <= 7; s++)
			owners += jm_shard_has(k, s, 7);
		assert_int_equal(owners, 1);
	}
	char *bad[] = {"run", "-r", "1", "--warmup", "0", "--shard", "3/2", NULL};
	assert_int_equal(tu_run_jitmm(bad, NULL, NULL), 2);
}

/* ---- sweep ---- */

static void test_sweep_values(void **state)
{
	(void)state;
	char v[64][32], err[256];
	assert_int_equal(jm_sweep_values("1M..1G*4", 1, v, 64, err, sizeof(err)), 6);
	assert_string_equal(v[0], "1M");
	assert_string_equal(v[5], "1G");
	assert_int_equal(jm_sweep_values("16..26", 0, v, 64, err, sizeof(err)), 11);
	assert_string_equal(v[10], "26");
	assert_int_equal(jm_sweep_values("4M,16M,256M", 1, v, 64, err, sizeof(err)), 3);
	assert_string_equal(v[2], "256M");
	assert_int_equal(jm_sweep_values("26..16", 0, v, 64, err, sizeof(err)), -1);
	assert_int_equal(jm_sweep_values("1M..1G*1", 1, v, 64, err, sizeof(err)), -1);
	assert_int_equal(jm_sweep_values("1..1000", 0, v, 64, err, sizeof(err)), -1);
	assert_int_equal(jm_sweep_values("x..4", 0, v, 64, err, sizeof(err)), -1);
}

static json_object *fake_agg(const char *value, double failed, double reach, double vmas,
			     double va, double waste)
{
	json_object *a = json_object_new_object(), *o = json_object_new_object(),
		    *m = json_object_new_object();
	json_object_object_add(o, "block_bits", json_object_new_string(value));
	json_object_object_add(a, "backend_options", o);
	json_object_object_add(a, "runs", json_object_new_int(3));
	json_object_object_add(a, "failed", json_object_new_int((int)failed));
	const char *k[] = {"reach_failures", "vmas_added", "va_reserved_peak_bytes", "bytes_wasted"};
	double v[] = {reach, vmas, va, waste};
	for (int i = 0; i < 4; i++) {
		json_object *e = json_object_new_object();
		json_object_object_add(e, "median", json_object_new_double(v[i]));
		json_object_object_add(e, "min", json_object_new_double(v[i]));
		json_object_object_add(e, "max", json_object_new_double(v[i]));
		json_object_object_add(m, k[i], e);
	}
	json_object_object_add(a, "metrics", m);
	return a;
}

static void test_sweep_rule(void **state)
{
	(void)state;
	json_object *a[5] = {
		fake_agg("16", 0, 12, 10, 1 << 16, 100),   /* smallest VA, but reach failures */
		fake_agg("18", 1, 0, 10, 1 << 18, 100),    /* a failed run */
		fake_agg("20", 0, 0, 30, 1 << 20, 100),    /* VMAs 3x the best */
		fake_agg("22", 0, 0, 12, 1 << 22, 5000),   /* eligible */
		fake_agg("24", 0, 0, 10, 1 << 24, 50),     /* eligible, bigger VA */
	};
	struct jm_sweep_pick pick;
	jm_sweep_recommend(a, 5, "block_bits", 2, &pick);
	assert_int_equal(pick.index, 3);
	assert_string_equal(pick.value, "22");
	assert_non_null(strstr(pick.why, "within 2x"));
	/* a factor of 1.1 excludes 22 (12 > 11): then 24 */
	jm_sweep_recommend(a, 5, "block_bits", 1.1, &pick);
	assert_string_equal(pick.value, "24");
	/* nothing eligible */
	jm_sweep_recommend(a, 2, "block_bits", 2, &pick);
	assert_int_equal(pick.index, -1);
	assert_non_null(strstr(pick.why, "no recommendation"));
	for (int i = 0; i < 5; i++)
		json_object_put(a[i]);
}

static void test_sweep_end_to_end(void **state)
{
	(void)state;
	if (!have("gnuplot"))
		SKIP_BECAUSE("gnuplot is not installed");
	char *d = tmpdir();
	char *args[] = {"sweep", "-q", "-b", "single-pool", "-P", "granularity=1M..64M*4", "-w",
			"llvm-500:graphs=60", "--out", d, NULL};
	char *out, *err;
	assert_int_equal(tu_run_jitmm(args, &out, &err), 0);
	assert_non_null(strstr(out, "**Recommendation for llvm-500:** granularity="));
	assert_non_null(strstr(out, "Rule: "));
	char p[4300];
	snprintf(p, sizeof(p), "%s/report.md", d);
	char *md = tu_slurp(p);
	assert_non_null(md);
	assert_non_null(strstr(md, "## Sweep: single-pool granularity"));
	assert_non_null(strstr(md, "(plots/sweep-1-llvm-500.png)"));
	free(md);
	snprintf(p, sizeof(p), "%s/plots/sweep-1-llvm-500.png", d);
	assert_int_equal(access(p, R_OK), 0);
	snprintf(p, sizeof(p), "%s/report.html", d);
	char *html = tu_slurp(p);
	check_html_balance(html);
	assert_non_null(strstr(html, "Recommendation for"));
	free(html);
	free(out);
	free(err);
	/* `jitmm report` on the sweep's results keeps the sweep section */
	char in[4300], d2[4000];
	snprintf(in, sizeof(in), "%s/results.json", d);
	snprintf(d2, sizeof(d2), "%s/again", d);
	char *again[] = {"report", in, "-o", d2, NULL};
	assert_int_equal(tu_run_jitmm(again, NULL, NULL), 0);
	snprintf(p, sizeof(p), "%s/report.md", d2);
	md = tu_slurp(p);
	assert_non_null(md);
	assert_non_null(strstr(md, "**Recommendation for llvm-500:** granularity="));
	free(md);
	/* an option the backend does not have is a usage error */
	char *bad[] = {"sweep", "-b", "single-pool", "-P", "nosuch=1..2", NULL};
	assert_int_equal(tu_run_jitmm(bad, NULL, NULL), 2);
	char *badv[] = {"sweep", "-b", "single-pool", "-P", "granularity=1..2", NULL};
	assert_int_equal(tu_run_jitmm(badv, NULL, NULL), 2);
	rmrf(d);
	free(d);
}

/* 20,000 runs in 20,000 groups, with their aggregates in 20,000
 * workloads: every reader finds groups through a hash table, not by
 * comparing every pair (compare took more than 5 minutes on such a 2 MB
 * file; the report's tables allocated a row for every aggregate in every
 * table). No time is asserted: a return of the quadratic code would stall
 * this test. */
static void test_many_groups(void **state)
{
	(void)state;
	char *d = tmpdir(), in[4200], out[4200], merged[4200];
	snprintf(in, sizeof(in), "%s/many.json", d);
	snprintf(out, sizeof(out), "%s/out", d);
	snprintf(merged, sizeof(merged), "%s/merged.json", d);
	FILE *f = fopen(in, "w");
	assert_non_null(f);
	fputs("{\"schema_version\": 1, \"runs\": [", f);
	for (int i = 0; i < 20000; i++)
		fprintf(f, "%s{\"status\": \"ok\", \"backend\": \"b%d\", \"workload\": \"w%d\", "
			   "\"workload_spec\": \"w%d\", \"repetition\": 0, \"metrics\": "
			   "{\"vmas_added\": %d}}", i ? "," : "", i, i, i, i);
	fputs("], \"aggregates\": [", f);
	for (int i = 0; i < 20000; i++)
		fprintf(f, "%s{\"backend\": \"b%d\", \"workload\": \"w%d\", \"workload_spec\": "
			   "\"w%d\", \"runs\": 1, \"failed\": 0, \"metrics\": {\"vmas_added\": "
			   "{\"median\": %d, \"min\": %d, \"max\": %d}}}", i ? "," : "", i, i, i, i, i, i);
	fputs("]}\n", f);
	fclose(f);
	char *o = NULL, *e = NULL;
	assert_int_equal(tu_run_jitmm((char *[]){"compare", in, in, NULL}, &o, &e), 0);
	assert_non_null(strstr(o, "20000 matched"));
	free(o);
	free(e);
	assert_int_equal(tu_run_jitmm((char *[]){"export", "-f", "lnt", in, "-o", merged, NULL},
				      NULL, NULL), 0);
	assert_int_equal(tu_run_jitmm((char *[]){"merge", in, "-o", merged, NULL}, NULL, NULL), 0);
	char err[512];
	json_object *m = jm_results_load(merged, err, sizeof(err));
	assert_non_null(m);
	assert_int_equal(json_object_array_length(jm_json_path(m, "aggregates")), 20000);
	json_object_put(m);
	assert_int_equal(tu_run_jitmm((char *[]){"report", in, "-o", out, NULL}, NULL, NULL), 0);
	rmrf(d);
	free(d);
}

/* ---- interrupts, failed sweeps, gnuplot's errors ---- */

/* DIR/bin/gnuplot: a shell script (body) that stands in for gnuplot;
 * JM_REAL_GNUPLOT is the real one. Returns DIR. */
static char *fake_gnuplot(const char *body)
{
	char *d = tmpdir(), bin[4200], path[4300], real[4096] = "";
	FILE *w = popen("command -v gnuplot", "r");
	if (w) {
		if (!fgets(real, sizeof(real), w))
			real[0] = 0;
		pclose(w);
	}
	real[strcspn(real, "\n")] = 0;
	setenv("JM_REAL_GNUPLOT", real, 1);
	snprintf(bin, sizeof(bin), "%s/bin", d);
	assert_int_equal(mkdir(bin, 0755), 0);
	snprintf(path, sizeof(path), "%s/gnuplot", bin);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "#!/bin/sh\n%s\n", body);
	fclose(f);
	assert_int_equal(chmod(path, 0755), 0);
	return d;
}

/* jitmm with fake's bin first on PATH, as the leader of its own process
 * group (as a shell runs a command in the foreground: Ctrl-C goes to that
 * group); stderr into *err; the exit code (128+signal if killed). */
static int run_with_fake(const char *fake, char *const args[], char **err)
{
	char path[8192], efile[4300];
	snprintf(path, sizeof(path), "%s/bin:%s", fake, getenv("PATH"));
	snprintf(efile, sizeof(efile), "%s/stderr", fake);
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		setpgid(0, 0);
		setenv("PATH", path, 1);
		int fd = open(efile, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int nul = open("/dev/null", O_WRONLY);
		dup2(fd, 2);
		dup2(nul, 1);
		int n = 0;
		while (args[n])
			n++;
		char **argv = calloc((size_t)n + 2, sizeof(char *));
		argv[0] = (char *)tu_jitmm_bin();
		for (int i = 0; i < n; i++)
			argv[i + 1] = args[i];
		execv(argv[0], argv);
		_exit(127);
	}
	int st = 0;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	*err = tu_slurp(efile);
	return WIFSIGNALED(st) ? 128 + WTERMSIG(st) : WEXITSTATUS(st);
}

/* The first gnuplot sends SIGINT to jitmm's process group -- what Ctrl-C
 * in a terminal does -- then draws. */
static const char ctrl_c_gnuplot[] =
	"if mkdir \"$JM_SENT\" 2>/dev/null; then\n"
	"  read -r _ _ _ _ pgrp _ < /proc/$PPID/stat\n"
	"  kill -s INT -- -\"$pgrp\"\n"
	"fi\n"
	"exec \"$JM_REAL_GNUPLOT\" \"$@\"";

static int stage_left(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return 0;
	int n = 0;
	for (struct dirent *e; (e = readdir(d));)
		n += !strncmp(e->d_name, ".jitmm-stage-", 13);
	closedir(d);
	return n;
}

/* Ctrl-C while `run --out` writes the report: the runs are done, so the
 * results are kept and the report is finished (gnuplot is in its own
 * process group, the signal does not kill it); exit 130. Before: exit 2
 * and no report.md. */
static void test_ctrl_c_during_run_report(void **state)
{
	(void)state;
	if (!have("gnuplot"))
		SKIP_BECAUSE("gnuplot is not installed");
	char *fake = fake_gnuplot(ctrl_c_gnuplot), out[4200], sent[4200], p[4300];
	snprintf(out, sizeof(out), "%s/out", fake);
	snprintf(sent, sizeof(sent), "%s/sent", fake);
	setenv("JM_SENT", sent, 1);
	char *err = NULL;
	int rc = run_with_fake(fake, (char *[]){"run", "-r", "1", "--warmup", "0", "-q", "-b", "single-pool,inprocess", "-w",
						"llvm-500:graphs=30", "--out", out, NULL}, &err);
	if (rc != 130)
		fail_msg("run: exit %d, want 130: %s", rc, err);
	free(err);
	assert_int_equal(access(sent, F_OK), 0); /* the signal was sent */
	char e[512];
	snprintf(p, sizeof(p), "%s/results.json", out);
	json_object *root = jm_results_load(p, e, sizeof(e));
	assert_non_null(root);
	json_object_put(root);
	/* complete: report.md and every file it links to */
	snprintf(p, sizeof(p), "%s/report.md", out);
	char *md = tu_slurp(p);
	assert_non_null(md);
	int images = 0;
	for (const char *q = md; (q = strstr(q, "](plots/")); q += 8) {
		char file[4400];
		snprintf(file, sizeof(file), "%s/%.*s", out, (int)strcspn(q + 2, ")"), q + 2);
		struct stat st;
		if (stat(file, &st) < 0 || st.st_size == 0)
			fail_msg("report.md links to %s, missing", file);
		images++;
	}
	assert_true(images >= 4);
	free(md);
	assert_int_equal(stage_left(out), 0);
	unsetenv("JM_SENT");
	rmrf(fake);
	free(fake);
}

/* Ctrl-C while `jitmm report` writes: it stops, gnuplot is killed, nothing
 * is written; exit 130. */
static void test_ctrl_c_during_report(void **state)
{
	(void)state;
	if (!have("gnuplot"))
		SKIP_BECAUSE("gnuplot is not installed");
	char *fake = fake_gnuplot(ctrl_c_gnuplot), out[4200], sent[4200], p[4300];
	snprintf(out, sizeof(out), "%s/out", fake);
	snprintf(sent, sizeof(sent), "%s/sent", fake);
	setenv("JM_SENT", sent, 1);
	char *err = NULL;
	int rc = run_with_fake(fake, (char *[]){"report", FIXTURE, "-o", out, NULL}, &err);
	if (rc != 130 || !strstr(err, "interrupted"))
		fail_msg("report: exit %d, want 130: %s", rc, err);
	free(err);
	snprintf(p, sizeof(p), "%s/report.md", out);
	assert_int_not_equal(access(p, F_OK), 0);
	snprintf(p, sizeof(p), "%s/plots", out);
	assert_int_not_equal(access(p, F_OK), 0);
	assert_int_equal(stage_left(out), 0);
	unsetenv("JM_SENT");
	rmrf(fake);
	free(fake);
}

/* A sweep where no run succeeds: exit 1 (runs failed) and a report that
 * says so, instead of gnuplot failing on a plot with no points (exit 2,
 * no report). */
static void test_sweep_without_success(void **state)
{
	(void)state;
	if (!have("gnuplot"))
		SKIP_BECAUSE("gnuplot is not installed");
	char *d = tmpdir(), p[4300];
	char *out = NULL, *err = NULL;
	int rc = tu_run_jitmm((char *[]){"sweep", "-q", "-b", "null", "-P", "crash_after=1,2", "-w",
					 "llvm-500:graphs=20", "--out", d, NULL}, &out, &err);
	if (rc != 1)
		fail_msg("sweep: exit %d, want 1: %s", rc, err);
	snprintf(p, sizeof(p), "%s/report.md", d);
	char *md = tu_slurp(p);
	assert_non_null(md);
	assert_non_null(strstr(md, "no run of any value succeeded"));
	assert_non_null(strstr(md, "no recommendation"));
	free(md);
	free(out);
	free(err);
	rmrf(d);
	free(d);
}

/* gnuplot's error is its last line, however much it printed before (it
 * was cut at 511 bytes); the report is not written. */
static void test_gnuplot_error_after_long_output(void **state)
{
	(void)state;
	char *fake = fake_gnuplot(
		"i=0; while [ $i -lt 60 ]; do echo \"warning: filler line $i of a long "
		"stream of warnings before the error\" >&2; i=$((i+1)); done\n"
		"echo '\"x.gp\" line 3: the real error, after 4 KiB of warnings' >&2\nexit 1");
	char out[4200], p[4300], *err = NULL;
	snprintf(out, sizeof(out), "%s/out", fake);
	int rc = run_with_fake(fake, (char *[]){"report", FIXTURE, "-o", out, NULL}, &err);
	assert_int_equal(rc, 2);
	if (!strstr(err, "line 3: the real error, after 4 KiB of warnings\n"))
		fail_msg("message: %s", err);
	free(err);
	snprintf(p, sizeof(p), "%s/report.md", out);
	assert_int_not_equal(access(p, F_OK), 0);
	assert_int_equal(stage_left(out), 0);
	rmrf(fake);
	free(fake);
}

/* ---- a real browser, when there is one ---- */

/* chromium headless with a private profile and nothing on the network */
static int chromium(const char *browser, const char *profile, const char *args, const char *url,
		    const char *out)
{
	char cmd[24000];
	snprintf(cmd, sizeof(cmd),
		 "cd '%s' && timeout 120 %s --headless --no-sandbox --disable-gpu --no-first-run "
		 "--disable-background-networking --disable-component-update --disable-sync "
		 "--user-data-dir='%s/p' %s '%s' >'%s' 2>'%s/chromium.log'",
		 profile, browser, profile, args, url, out, profile);
	return system(cmd);
}

/* The report in a real browser: a screenshot whose top is the summary
 * (its green-tinted box, #eef8f3 with a #009E73 border, rendered within
 * the first screen), and the page's own layout measured in the browser:
 * the summary box and every plot laid out as an image of real size. */
static void test_report_in_headless_chromium(void **state)
{
	(void)state;
	NEED_REPORT();
	const char *browser = have("chromium") ? "chromium" : have("chromium-browser") ? "chromium-browser" : NULL;
	if (!browser)
		SKIP_BECAUSE("chromium is not installed (scripts/install-deps --browser installs it; CI does)");
	NEED_PYTHON();
	char *profile = tmpdir(), shot[4300], url[4300], out[4300], args[4600];
	snprintf(shot, sizeof(shot), "%s/shot.png", profile);
	snprintf(url, sizeof(url), "file://%s/report.html", report_dir);
	snprintf(out, sizeof(out), "%s/stdout", profile);
	snprintf(args, sizeof(args), "--window-size=1300,1400 --screenshot='%s'", shot);
	int rc = chromium(browser, profile, args, url, out);
	if (rc != 0)
		fail_msg("chromium --screenshot exited %d", rc);
	char cmd[4700];
	snprintf(cmd, sizeof(cmd), "python3 tests/png_colours.py '%s' eef8f3 009e73 > '%s/colours'",
		 shot, profile);
	assert_int_equal(system(cmd), 0);
	snprintf(cmd, sizeof(cmd), "%s/colours", profile);
	char *colours = tu_slurp(cmd);
	long bg = 0, bg_row = -1, border = 0, border_row = -1, w = 0, h = 0;
	if (sscanf(colours, "eef8f3 %ld %ld\n009e73 %ld %ld\nsize %ld %ld", &bg, &bg_row, &border,
		   &border_row, &w, &h) != 6)
		fail_msg("png_colours: %s", colours);
	printf("# screenshot %ldx%ld: summary box %ld px from row %ld, border %ld px\n", w, h, bg,
	       bg_row, border);
	assert_true(w == 1300 && h == 1400);
	if (bg < w * h / 20 || bg_row < 0 || bg_row > 500 || border < 1000)
		fail_msg("the summary is not rendered at the top of the page: %s", colours);
	free(colours);
	/* the layout, measured by the browser itself: a page that frames the
	 * report and writes what it sees (file:// pages may read each other
	 * with --allow-file-access-from-files) */
	char wrap[4300];
	snprintf(wrap, sizeof(wrap), "%s/measure.html", profile);
	FILE *f = fopen(wrap, "w");
	assert_non_null(f);
	fprintf(f, "<!DOCTYPE html><html><body><iframe id=\"r\" src=\"%s\" "
		   "style=\"width:1300px;height:2000px\"></iframe><pre id=\"out\">pending</pre><script>\n"
		   "document.getElementById('r').onload = function () {\n"
		   "  var out = [], d = this.contentDocument, s = d.getElementById('summary');\n"
		   "  var r = s ? s.getBoundingClientRect() : null;\n"
		   "  out.push('summary ' + (r ? Math.round(r.width) + 'x' + Math.round(r.height) : '0x0'));\n"
		   "  d.querySelectorAll('figure svg').forEach(function (g) {\n"
		   "    var b = g.getBoundingClientRect();\n"
		   "    out.push('plot ' + Math.round(b.width) + 'x' + Math.round(b.height));\n"
		   "  });\n"
		   "  document.getElementById('out').textContent = out.join(' ') + ' end';\n"
		   "};\n</script></body></html>\n", url);
	fclose(f);
	char wurl[4400];
	snprintf(wurl, sizeof(wurl), "file://%s", wrap);
	rc = chromium(browser, profile, "--allow-file-access-from-files --virtual-time-budget=15000 "
			  "--dump-dom", wurl, out);
	if (rc != 0)
		fail_msg("chromium --dump-dom exited %d", rc);
	char *dom = tu_slurp(out);
	const char *m = strstr(dom, "<pre id=\"out\">summary ");
	if (!m)
		fail_msg("the page did not measure the report: %.300s", dom);
	long sw = 0, sh = 0;
	assert_int_equal(sscanf(m, "<pre id=\"out\">summary %ldx%ld", &sw, &sh), 2);
	assert_true(sw > 600 && sh > 100);
	int plots = 0;
	for (const char *q = m; (q = strstr(q, " plot ")) && q < strstr(m, " end"); q += 6) {
		long pw = 0, ph = 0;
		assert_int_equal(sscanf(q, " plot %ldx%ld", &pw, &ph), 2);
		if (pw < 400 || ph < 300)
			fail_msg("a plot laid out at %ldx%ld", pw, ph);
		plots++;
	}
	assert_int_equal(plots, 6); /* vmas, bars, memory for each of 2 workloads */
	free(dom);
	rmrf(profile);
	free(profile);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_report_md_golden),
		cmocka_unit_test(test_report_is_deterministic),
		cmocka_unit_test(test_report_html_wellformed),
		cmocka_unit_test(test_plots_are_images_and_scripts_run),
		cmocka_unit_test(test_faults_by_class_plot),
		cmocka_unit_test(test_plot_styles_and_scales),
		cmocka_unit_test(test_max_map_count_failure_plotted),
		cmocka_unit_test(test_report_bad_input),
		cmocka_unit_test(test_report_without_gnuplot),
		cmocka_unit_test(test_report_in_headless_chromium),
		cmocka_unit_test(test_ratio_text),
		cmocka_unit_test(test_export_bmf),
		cmocka_unit_test(test_export_gab),
		cmocka_unit_test(test_export_lnt),
		cmocka_unit_test(test_export_gbench),
		cmocka_unit_test(test_export_names_and_failures),
		cmocka_unit_test(test_export_bad_format),
		cmocka_unit_test(test_compare_exit_codes),
		cmocka_unit_test(test_compare_unusable_input),
		cmocka_unit_test(test_run_total_counts_the_executor),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_summary_on_top),
		cmocka_unit_test(test_report_format_pr),
		cmocka_unit_test(test_why_runs_failed_everywhere),
		cmocka_unit_test(test_shard_parse),
		cmocka_unit_test(test_shard_merge_equals_unsharded),
		cmocka_unit_test(test_sweep_values),
		cmocka_unit_test(test_sweep_rule),
		cmocka_unit_test(test_sweep_end_to_end),
		cmocka_unit_test(test_many_groups),
		cmocka_unit_test(test_ctrl_c_during_run_report),
		cmocka_unit_test(test_ctrl_c_during_report),
		cmocka_unit_test(test_sweep_without_success),
		cmocka_unit_test(test_gnuplot_error_after_long_output),
	};
	return cmocka_run_group_tests_name("reports", tests, make_report, drop_report);
}
