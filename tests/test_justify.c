/* jitmm justify: the table's shape, its context line, the reproducing
 * command (which, run again, gives the same VMA table), exit codes, no
 * partial output file on error; and the reduction/quoting helpers. */
#include "testutil.h"

#include <sys/stat.h>
#include <sys/utsname.h>

#include "../run/context.h"
#include "../reports/justify.h"

static int count_lines_starting(const char *text, const char *prefix)
{
	int n = 0;
	size_t pl = strlen(prefix);
	for (const char *p = text; p && *p;) {
		if (!strncmp(p, prefix, pl))
			n++;
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return n;
}

/* The cells of the table's column headed title, one line each. */
static char *column(const char *text, const char *title)
{
	const char *head = strstr(text, "| workload |");
	if (!head)
		return NULL;
	int col = -1, k = 0;
	const char *eol = strchr(head, '\n');
	for (const char *p = head + 1; p < eol; p = strchr(p, '|') + 1, k++)
		if (!strncmp(p + 1, title, strlen(title)))
			col = k;
	if (col < 0)
		return NULL;
	char *out = calloc(1, 8192);
	for (const char *row = strchr(eol + 1, '\n') + 1; *row == '|'; row = strchr(row, '\n') + 1) {
		const char *p = row + 1;
		for (int c = 0; c < col; c++)
			p = strchr(p, '|') + 1;
		size_t n = (size_t)(strchr(p, '|') - p);
		strncat(out, p, n);
		strcat(out, "\n");
	}
	return out;
}

static void test_table_shape_context_and_command(void **state)
{
	(void)state;
	char path[] = "/tmp/jitmm-justify-XXXXXX";
	int fd = mkstemp(path);
	close(fd);
	char *args[] = {"justify", "--baseline", "inprocess", "--candidate", "striped:chunk_size=64K",
			"-w", "page-pairs:graphs=60", "-w", "llvm-500:graphs=80,julia-linalg-light",
			"--repeat", "2", "--warmup", "0", "-q", "-o", path, NULL};
	char *out = NULL, *err = NULL;
	int rc = tu_run_jitmm(args, &out, &err);
	if (rc != 0)
		fail_msg("justify exited %d: %s", rc, err);
	assert_string_equal(out, ""); /* the table went to the file */
	char *t = tu_slurp(path);
	assert_non_null(t);
	printf("%s", t);
	/* one table: a row per workload, a column per metric that changed */
	assert_int_equal(count_lines_starting(t, "| workload | VMAs added (count) |"), 1);
	assert_int_equal(count_lines_starting(t, "| page-pairs:graphs=60 | "), 1);
	assert_int_equal(count_lines_starting(t, "| llvm-500:graphs=80 | "), 1);
	assert_int_equal(count_lines_starting(t, "| julia-linalg-light | "), 1);
	assert_int_equal(count_lines_starting(t, "| "), 4); /* header + 3 rows */
	/* page-pairs: inprocess maps every page separately (2 VMAs per
	 * graph), striped packs them: baseline -> candidate */
	/* (under ASan a mapping of its own may merge with or split one of
	 * the backend's: 119 seen in CI) */
	if (!TU_SANITIZED)
		assert_non_null(strstr(t, "| page-pairs:graphs=60 | 120 → "));
	assert_non_null(strstr(t, "fewer, -"));
	/* reach is 0 on both sides everywhere: no column, named below */
	assert_null(strstr(t, "reach failures (graphs"));
	assert_non_null(strstr(t, "Unchanged on every workload: "));
	assert_non_null(strstr(strstr(t, "Unchanged on every workload: "), "reach failures"));
	assert_null(strstr(t, "n/a"));
	if (!strstr(t, "No regression on these workloads.")) {
		/* Under ASan its allocator's pages land in RSS added (0.6 -> 0.7
		 * MiB on page-pairs seen in CI): only RSS may be named there, and
		 * nothing when not sanitized. */
		const char *reg = strstr(t, "**Regressions**: ");
		assert_non_null(reg);
		if (!TU_SANITIZED)
			fail_msg("regression without a sanitizer: %.200s", reg);
		reg += strlen("**Regressions**: ");
		for (const char *item = reg; *item && *item != '\n';) {
			if (strncmp(item, "RSS added on ", 13) != 0)
				fail_msg("a count regressed under ASan: %.200s", item);
			const char *next = strstr(item, ", RSS added on ");
			const char *eol = strchr(item, '\n');
			if (!next || (eol && next > eol))
				break;
			item = next + 2;
		}
	}
	/* context: the live values of this machine */
	struct utsname u;
	uname(&u);
	char want[256];
	snprintf(want, sizeof(want), "Context: Linux %s (", u.release);
	assert_non_null(strstr(t, want));
	snprintf(want, sizeof(want), "vm.max_map_count %ld,", jm_max_map_count());
	assert_non_null(strstr(t, want));
	snprintf(want, sizeof(want), "page size %ld B", sysconf(_SC_PAGESIZE));
	assert_non_null(strstr(t, want));
	/* version and sha as the binary reports them */
	char *vargs[] = {"--version", NULL}, *ver = NULL;
	assert_int_equal(tu_run_jitmm(vargs, &ver, NULL), 0);
	ver[strcspn(ver, "\n")] = 0; /* "jitmm 0.1.0 (sha)" */
	snprintf(want, sizeof(want), "; %s; probe ", ver);
	if (!strstr(t, want))
		fail_msg("context does not name '%s'", ver);
	free(ver);
	/* the reproducing command names every choice */
	const char *cmd = "jitmm justify --baseline inprocess --candidate striped:chunk_size=64K "
			  "--workload page-pairs:graphs=60,llvm-500:graphs=80,julia-linalg-light "
			  "--repeat 2 --warmup 0\n";
	assert_non_null(strstr(t, cmd));

	/* ... and reproduces the table when run (the mprotect counts come from
	 * the os layer and are exact; VMA counts would also see the sanitizer
	 * runtime's own mappings under SAN=1) */
	char *args2[] = {"justify", "--baseline", "inprocess", "--candidate",
			 "striped:chunk_size=64K", "--workload",
			 "page-pairs:graphs=60,llvm-500:graphs=80,julia-linalg-light",
			 "--repeat", "2", "--warmup", "0", "-q", NULL};
	char *out2 = NULL;
	assert_int_equal(tu_run_jitmm(args2, &out2, NULL), 0);
	char *v1 = column(t, "mprotect calls"), *v2 = column(out2, "mprotect calls");
	if (!v1 || !v2) { /* mprotect unchanged everywhere: named as such */
		assert_null(v1);
		assert_null(v2);
		assert_non_null(strstr(strstr(out2, "Unchanged on every workload: "), "mprotect"));
	} else {
		assert_string_equal(v1, v2);
	}
	free(v1);
	free(v2);
	free(out2);
	free(t);
	free(out);
	free(err);
	unlink(path);
}

static void test_failed_run_exit_1(void **state)
{
	(void)state;
	char *args[] = {"justify", "--baseline", "single-pool", "--candidate",
			"colocate:growth=single,slab_size=64K", "-w", "llvm-500:graphs=50",
			"-r", "1", NULL};
	char *out = NULL, *err = NULL;
	assert_int_equal(tu_run_jitmm(args, &out, &err), 1);
	assert_non_null(strstr(out, "failed (1/1 runs)"));
	assert_non_null(strstr(err, "slab is full"));
	free(out);
	free(err);
}

/* A candidate worse than the baseline is bold in its cell and named under
 * the table; names carry the options that differ from the defaults, and
 * the counts an executor process's work (shm-mapper). */
static void test_regression_flagged(void **state)
{
	(void)state;
	char *out = NULL, *err = NULL;
	int rc = tu_run_jitmm((char *[]){"justify", "-q", "--baseline", "inprocess", "--candidate",
					 "striped:chunk_size=64K", "-w", "tvm-load-drop", "-r", "1",
					 "--warmup", "0", NULL}, &out, &err);
	if (rc != 0)
		fail_msg("rc %d: %s", rc, err);
	assert_non_null(strstr(out, "candidate `striped:chunk_size=64K`"));
	assert_non_null(strstr(out, ", worse** |"));
	/* (under ASan its allocator's mappings may add VMAs and RSS too) */
	const char *reg = strstr(out, "**Regressions**: ");
	assert_non_null(reg);
	const char *eol = strchr(reg, '\n');
	char line[512];
	snprintf(line, sizeof(line), "%.*s", (int)(eol ? eol - reg : 200), reg);
	if (!strstr(line, "mprotect calls on tvm-load-drop"))
		fail_msg("regressions: %s", line);
	free(out);
	free(err);
	rc = tu_run_jitmm((char *[]){"justify", "-q", "--baseline", "single-pool", "--candidate",
				     "shm-mapper", "-w", "page-pairs:graphs=40", "-r", "1", "--warmup",
				     "0", NULL}, &out, &err);
	if (rc != 0)
		fail_msg("rc %d: %s", rc, err);
	/* the executor's 80 mprotects and 81 VMAs: no "-100%" */
	assert_null(strstr(out, "-100%"));
	assert_non_null(strstr(strstr(out, "Unchanged on every workload: "), "mprotect calls"));
	free(out);
	free(err);
}

static void test_usage_errors_exit_2_no_file(void **state)
{
	(void)state;
	char path[] = "/tmp/jitmm-justify-nofile-XXXXXX";
	int fd = mkstemp(path);
	close(fd);
	unlink(path);
	struct {
		const char *args[12];
		const char *msg;
	} cases[] = {
		{{"justify", "--candidate", "striped", "-o", path}, "--baseline and --candidate"},
		{{"justify", "--baseline", "nosuch", "--candidate", "striped", "-o", path}, "nosuch"},
		{{"justify", "--baseline", "inprocess", "--candidate", "striped,colocate", "-o", path},
		 "want one"},
		{{"justify", "--baseline", "inprocess", "--candidate", "striped:chunk_size=banana",
		  "-o", path}, "chunk_size"},
		{{"justify", "--baseline", "inprocess", "--candidate", "striped", "-w", "nope",
		  "-o", path}, "nope"},
		{{"justify", "--baseline", "inprocess", "--candidate", "striped", "-r", "0",
		  "-o", path}, "--repeat"},
		{{"justify", "--baseline", "inprocess", "--candidate", "striped", "-o",
		  "/nonexistent-dir/x.md"}, "nonexistent"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *out = NULL, *err = NULL;
		int rc = tu_run_jitmm((char **)cases[i].args, &out, &err);
		if (rc != 2 || !strstr(err, cases[i].msg))
			fail_msg("case %zu: rc %d, stderr '%s'", i, rc, err);
		assert_int_equal(count_lines_starting(err, "jitmm: "), 1);
		assert_string_equal(out, "");
		struct stat sb;
		assert_int_equal(stat(path, &sb), -1);
		free(out);
		free(err);
	}
	char *hargs[] = {"justify", "--help", NULL};
	char *out = NULL;
	assert_int_equal(tu_run_jitmm(hargs, &out, NULL), 0);
	assert_non_null(strstr(out, "examples:"));
	free(out);
}

static void test_reduction_and_quoting(void **state)
{
	(void)state;
	char b[64];
	jm_justify_reduction(1216, 11, b, sizeof(b));
	assert_string_equal(b, "110.5x fewer (-99.1%)");
	jm_justify_reduction(100, 150, b, sizeof(b));
	assert_string_equal(b, "1.5x more (+50.0%)");
	jm_justify_reduction(7, 7, b, sizeof(b));
	assert_string_equal(b, "none");
	jm_justify_reduction(40, 0, b, sizeof(b));
	assert_string_equal(b, "-100%");
	jm_justify_reduction(6401, 6129, b, sizeof(b));
	assert_string_equal(b, "-4.2%");
	jm_justify_reduction(12053, 12058, b, sizeof(b));
	assert_string_equal(b, "+5 (<+0.1%)");
	jm_justify_reduction(0, 3, b, sizeof(b));
	assert_string_equal(b, "+3 (from 0)");
	jm_shell_quote("striped:chunk_size=64K,slab_size=1G", b, sizeof(b));
	assert_string_equal(b, "striped:chunk_size=64K,slab_size=1G");
	jm_shell_quote("trace:my file's.jsonl", b, sizeof(b));
	assert_string_equal(b, "'trace:my file'\\''s.jsonl'");
}

/* the default workloads: the seed presets and, from the jitmm tree, the
 * shipped real traces */
static void test_default_workloads(void **state)
{
	(void)state;
	if (access("workloads/traces/zlib.jmt", R_OK))
		SKIP_BECAUSE("not run from the jitmm tree (no workloads/traces/zlib.jmt)");
	char *out = NULL, *err = NULL;
	int rc = tu_run_jitmm((char *[]){"justify", "-q", "--baseline", "single-pool",
					 "--candidate", "per-prot", "-r", "1", "--warmup", "0", NULL},
			      &out, &err);
	if (rc != 0)
		fail_msg("rc %d: %s", rc, err);
	const char *want[] = {"| llvm-500 |", "| julia-linalg-light |", "| julia-linalg-sweep |",
			      "| page-pairs |", "| tvm-load-drop |",
			      "| trace:workloads/traces/zlib.jmt |",
			      "| trace:workloads/traces/sqlite3.jmt |", NULL};
	for (int k = 0; want[k]; k++)
		if (!strstr(out, want[k]))
			fail_msg("default workloads: no row '%s'", want[k]);
	free(out);
	free(err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reduction_and_quoting),
		cmocka_unit_test(test_usage_errors_exit_2_no_file),
		cmocka_unit_test(test_failed_run_exit_1),
		cmocka_unit_test(test_regression_flagged),
		cmocka_unit_test(test_table_shape_context_and_command),
		cmocka_unit_test(test_default_workloads),
	};
	return cmocka_run_group_tests_name("justify", tests, NULL, NULL);
}
