/* Output paths: results are written atomically (temp + rename) and never
 * through a symlink planted in the output directory, neither at the final
 * name nor at the temporary name; a failed write leaves no partial file.
 * The report's images, which gnuplot writes, are made in a private
 * directory and moved into place: links planted at every name jitmm or
 * gnuplot ever used are not followed; an output directory that is a link
 * is refused; files are not world-writable under umask 000. */
#include "testutil.h"

#include <json-c/json.h>
#include <dirent.h>
#include <errno.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "../common/atomic_write.h"
#include "../reports/results.h"

static const char victim_text[] = "do not touch\n";

static void make_victim(char *path, size_t len)
{
	snprintf(path, len, "/tmp/jitmm-victim-XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, victim_text, sizeof(victim_text) - 1),
			 (ssize_t)sizeof(victim_text) - 1);
	close(fd);
}

static void assert_victim_untouched(const char *path)
{
	char buf[64] = "";
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = 0;
	fclose(f);
	assert_string_equal(buf, victim_text);
}

/* files in dir, not counting dot files */
static int entries(const char *dir)
{
	DIR *d = opendir(dir);
	assert_non_null(d);
	int n = 0;
	for (struct dirent *de; (de = readdir(d));)
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

static void assert_regular(const char *path)
{
	struct stat st;
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
}

/* jitmm run --out DIR with symlinks planted at DIR/results.json and
 * DIR/report.md: both are replaced by regular files, the targets keep
 * their contents. */
static void test_run_replaces_planted_symlinks(void **state)
{
	(void)state;
	char dir[] = "/tmp/jitmm-out-XXXXXX", victim[64], victim2[64], p[256], q[256];
	assert_non_null(mkdtemp(dir));
	make_victim(victim, sizeof(victim));
	make_victim(victim2, sizeof(victim2));
	snprintf(p, sizeof(p), "%s/results.json", dir);
	snprintf(q, sizeof(q), "%s/report.md", dir);
	assert_int_equal(symlink(victim, p), 0);
	assert_int_equal(symlink(victim2, q), 0);
	int rc = tu_run_jitmm((char *[]){"run", "-r", "1", "--warmup", "0", "-q", "-b", "null", "-w",
					 "page-pairs:graphs=10", "--out", dir, NULL},
			      NULL, NULL);
	assert_int_equal(rc, 0);
	assert_regular(p);
	assert_regular(q);
	assert_victim_untouched(victim);
	assert_victim_untouched(victim2);
	char e[256];
	json_object *o = jm_results_load(p, e, sizeof(e));
	assert_non_null(o);
	json_object_put(o);
	unlink(victim);
	unlink(victim2);
	assert_int_equal(tu_rmtree(dir), 0);
}

/* A symlink planted at the temporary name jm_write_atomic tries first is
 * not followed either (O_EXCL|O_NOFOLLOW): it moves on to another name. */
static void test_planted_temp_symlink_not_followed(void **state)
{
	(void)state;
	char dir[] = "/tmp/jitmm-out-XXXXXX", victim[64], path[256], tmp[300];
	assert_non_null(mkdtemp(dir));
	make_victim(victim, sizeof(victim));
	snprintf(path, sizeof(path), "%s/results.json", dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp.%d.0", path, (int)getpid());
	assert_int_equal(symlink(victim, tmp), 0);
	char err[256];
	assert_int_equal(jm_write_atomic(path, "{}\n", 3, err, sizeof(err)), 0);
	assert_victim_untouched(victim);
	assert_regular(path);
	struct stat st;
	assert_int_equal(lstat(tmp, &st), 0);
	assert_true(S_ISLNK(st.st_mode)); /* left alone */
	unlink(tmp);
	unlink(path);
	unlink(victim);
	rmdir(dir);
}

/* The output directory swapped for a link between the temporary's
 * creation and the rename (by someone who can write its parent): the file
 * lands in the directory that was opened, nothing in the link's target;
 * an abort after a swap removes the temporary there too. */
static void test_directory_swapped_mid_write(void **state)
{
	(void)state;
	char top[] = "/tmp/jitmm-swap-XXXXXX", out[300], moved[300], elsewhere[300], p[400];
	assert_non_null(mkdtemp(top));
	snprintf(out, sizeof(out), "%s/out", top);
	snprintf(moved, sizeof(moved), "%s/out.checked", top);
	snprintf(elsewhere, sizeof(elsewhere), "%s/elsewhere", top);
	assert_int_equal(mkdir(out, 0755), 0);
	assert_int_equal(mkdir(elsewhere, 0755), 0);
	char err[256];
	struct jm_atomic_file af, af2;
	snprintf(p, sizeof(p), "%s/results.json", out);
	assert_int_equal(jm_atomic_open(&af, p, err, sizeof(err)), 0);
	snprintf(p, sizeof(p), "%s/events.txt", out);
	assert_int_equal(jm_atomic_open(&af2, p, err, sizeof(err)), 0);
	fputs("{}\n", af.f);
	fputs("x\n", af2.f);
	assert_int_equal(rename(out, moved), 0);
	assert_int_equal(symlink(elsewhere, out), 0);
	if (jm_atomic_commit(&af, err, sizeof(err)) != 0)
		fail_msg("commit: %s", err);
	jm_atomic_abort(&af2);
	assert_int_equal(entries(elsewhere), 0);
	snprintf(p, sizeof(p), "%s/results.json", moved);
	assert_regular(p);
	assert_int_equal(entries(moved), 1); /* the aborted temporary is gone */
	assert_int_equal(tu_rmtree(top), 0);
}

/* A write into a directory that does not exist fails with a message and
 * leaves nothing behind; an unwritable output makes jitmm exit 2. */
static void test_failed_write_leaves_nothing(void **state)
{
	(void)state;
	char err[256] = "";
	assert_int_equal(jm_write_atomic("/tmp/jitmm-no-such-dir/x.json", "{}", 2,
					 err, sizeof(err)), -1);
	assert_non_null(strstr(err, "jitmm-no-such-dir"));
	assert_null(strstr(err, ".tmp.")); /* names the user's path */
	char dir[] = "/tmp/jitmm-out-XXXXXX", path[256];
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/results.json", dir);
	assert_int_equal(mkdir(path, 0755), 0); /* a directory in the way */
	char *e = NULL;
	int rc = tu_run_jitmm((char *[]){"run", "-r", "1", "--warmup", "0", "-q", "-b", "null", "-w",
					 "page-pairs:graphs=10", "--json", path, NULL},
			      NULL, &e);
	assert_int_equal(rc, 2);
	assert_non_null(strstr(e, "results.json"));
	free(e);
	assert_int_equal(entries(dir), 1); /* no temporary left behind */
	assert_int_equal(tu_rmtree(dir), 0);
}

/* A FIFO or device at the destination, or a link into /proc (/dev/stdout),
 * would be replaced by rename (as root: /dev/full became a regular file):
 * refused, left as it was; run --json checks before running. */
static void test_non_regular_destination_refused(void **state)
{
	(void)state;
	char dir[] = "/tmp/jitmm-out-XXXXXX", fifo[256], link[256], err[256];
	assert_non_null(mkdtemp(dir));
	snprintf(fifo, sizeof(fifo), "%s/fifo.json", dir);
	snprintf(link, sizeof(link), "%s/stdout.json", dir);
	assert_int_equal(mkfifo(fifo, 0644), 0);
	assert_int_equal(symlink("/proc/self/fd/1", link), 0);
	assert_int_equal(jm_write_atomic(fifo, "{}", 2, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not a regular file"));
	assert_int_equal(jm_write_atomic(link, "{}", 2, err, sizeof(err)), -1);
	assert_true(strstr(err, "/proc") || strstr(err, "not a regular file"));
	struct stat st;
	assert_int_equal(lstat(fifo, &st), 0);
	assert_true(S_ISFIFO(st.st_mode));
	assert_int_equal(lstat(link, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	/* sysfs: access(W_OK) says yes to root, creating a file fails; the
	 * check leaves nothing behind where it can write */
	assert_int_equal(jm_atomic_check("/sys/jitmm-check.json", err, sizeof(err)), -1);
	char good[300];
	snprintf(good, sizeof(good), "%s/good.json", dir);
	assert_int_equal(jm_atomic_check(good, err, sizeof(err)), 0);
	char *e = NULL, *o = NULL;
	int rc = tu_run_jitmm((char *[]){"run", "-r", "1", "--warmup", "0", "-q", "-b", "null", "-w",
					 "page-pairs:graphs=10", "--json", fifo, NULL},
			      &o, &e);
	assert_int_equal(rc, 2);
	assert_non_null(strstr(e, "run: --json:"));
	assert_string_equal(o, ""); /* refused before the matrix ran */
	free(e);
	free(o);
	assert_int_equal(entries(dir), 2); /* the fifo and the link only */
	assert_int_equal(tu_rmtree(dir), 0);
}

#define FIXTURE "tests/fixtures/results.json"

/* The plots the fixture's report draws. */
static const char *const fixture_plots[] = {
	"vmas-1-llvm-500", "bars-1-llvm-500", "memory-1-llvm-500",
	"vmas-2-page-pairs", "bars-2-page-pairs", "memory-2-page-pairs",
};
#define NFIXTURE_PLOTS (sizeof(fixture_plots) / sizeof(fixture_plots[0]))

static void plant(const char *victim, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void plant(const char *victim, const char *fmt, ...)
{
	char path[4200];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	if (symlink(victim, path) < 0 && errno != EEXIST)
		fail_msg("symlink %s: %s", path, strerror(errno));
}

static long last_pid(void)
{
	long pid = 0;
	FILE *f = fopen("/proc/sys/kernel/ns_last_pid", "r");
	if (f) {
		if (fscanf(f, "%ld", &pid) != 1)
			pid = 0;
		fclose(f);
	}
	return pid ? pid : (long)getpid();
}

/* Links to files outside the output directory at every name a report
 * writes or wrote: the final names, gnuplot's old temporary images
 * (plots/.tmp-PID-NAME.png/.svg) and the atomic writer's temporaries
 * (NAME.tmp.PID.N) for the next 400 PIDs. jitmm report runs, the victims
 * are unchanged, the final names are regular files. */
static void test_report_with_planted_links(void **state)
{
	(void)state;
	if (!tu_have_gnuplot())
		SKIP_BECAUSE("gnuplot is not installed");
	char dir[] = "/tmp/jitmm-out-XXXXXX", victim[64], victim2[64], p[4300];
	assert_non_null(mkdtemp(dir));
	make_victim(victim, sizeof(victim));
	make_victim(victim2, sizeof(victim2));
	snprintf(p, sizeof(p), "%s/plots", dir);
	assert_int_equal(mkdir(p, 0755), 0);
	static const char *const ext[] = {"png", "svg", "dat", "gp"};
	plant(victim, "%s/report.md", dir);
	plant(victim2, "%s/report.html", dir);
	for (size_t i = 0; i < NFIXTURE_PLOTS; i++)
		for (size_t e = 0; e < 4; e++)
			plant(i % 2 ? victim : victim2, "%s/plots/%s.%s", dir, fixture_plots[i], ext[e]);
	long base = last_pid();
	int planted = 0;
	for (long pid = base + 1; pid <= base + 400; pid++) {
		for (size_t i = 0; i < NFIXTURE_PLOTS; i++) {
			for (size_t e = 0; e < 4; e++) {
				if (e < 2)
					plant(victim, "%s/plots/.tmp-%ld-%s.%s", dir, pid,
					      fixture_plots[i], ext[e]);
				plant(victim2, "%s/plots/%s.%s.tmp.%ld.0", dir, fixture_plots[i],
				      ext[e], pid);
				planted += 1 + (e < 2);
			}
		}
		plant(victim, "%s/report.md.tmp.%ld.0", dir, pid);
		plant(victim2, "%s/report.html.tmp.%ld.0", dir, pid);
		planted += 2;
	}
	char *e = NULL;
	int rc = tu_run_jitmm((char *[]){"report", FIXTURE, "-o", dir, NULL}, NULL, &e);
	if (rc != 0)
		fail_msg("jitmm report: exit %d: %s", rc, e);
	free(e);
	assert_victim_untouched(victim);
	assert_victim_untouched(victim2);
	snprintf(p, sizeof(p), "%s/report.md", dir);
	assert_regular(p);
	snprintf(p, sizeof(p), "%s/report.html", dir);
	assert_regular(p);
	for (size_t i = 0; i < NFIXTURE_PLOTS; i++)
		for (size_t x = 0; x < 4; x++) {
			snprintf(p, sizeof(p), "%s/plots/%s.%s", dir, fixture_plots[i], ext[x]);
			assert_regular(p);
		}
	printf("# %d links planted at temporary names of PIDs %ld..%ld: none followed\n",
	       planted + 2 + (int)NFIXTURE_PLOTS * 4, base + 1, base + 400);
	unlink(victim);
	unlink(victim2);
	assert_int_equal(tu_rmtree(dir), 0);
}

static int world_writable_in(const char *dir, int *files)
{
	DIR *d = opendir(dir);
	assert_non_null(d);
	int bad = 0;
	for (struct dirent *de; (de = readdir(d));) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		char p[4300];
		struct stat st;
		snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
		assert_int_equal(lstat(p, &st), 0);
		if (st.st_mode & 0002) {
			printf("# world-writable: %s (%o)\n", p, (unsigned)(st.st_mode & 07777));
			bad++;
		}
		if (S_ISREG(st.st_mode) && (st.st_mode & 0777) != 0644) {
			printf("# mode %o, want 644: %s\n", (unsigned)(st.st_mode & 0777), p);
			bad++;
		}
		(*files)++;
	}
	closedir(d);
	return bad;
}

/* Under umask 000 the report's files are 0644 (gnuplot's images were
 * 0666), and no stage directory is left. */
static void test_report_modes_under_umask_000(void **state)
{
	(void)state;
	if (!tu_have_gnuplot())
		SKIP_BECAUSE("gnuplot is not installed");
	char dir[] = "/tmp/jitmm-out-XXXXXX", p[4300];
	assert_non_null(mkdtemp(dir));
	mode_t old = umask(0);
	int rc = tu_run_jitmm((char *[]){"report", FIXTURE, "-o", dir, NULL}, NULL, NULL);
	umask(old);
	assert_int_equal(rc, 0);
	int files = 0;
	snprintf(p, sizeof(p), "%s/plots", dir);
	assert_int_equal(world_writable_in(dir, &files), 0);
	assert_int_equal(world_writable_in(p, &files), 0);
	assert_int_equal(files, 3 + 4 * (int)NFIXTURE_PLOTS); /* report.md, .html, plots/ */
	assert_int_equal(tu_rmtree(dir), 0);
}

/* --out (run, sweep, report -o) that is a symbolic link to another
 * directory is refused before anything is written, and so is a plots/
 * that is a link. */
static void test_out_link_refused(void **state)
{
	(void)state;
	char dir[] = "/tmp/jitmm-out-XXXXXX", elsewhere[] = "/tmp/jitmm-elsewhere-XXXXXX";
	char link[4200], slash[4300];
	assert_non_null(mkdtemp(dir));
	assert_non_null(mkdtemp(elsewhere));
	snprintf(link, sizeof(link), "%s/out", dir);
	snprintf(slash, sizeof(slash), "%s/", link);
	assert_int_equal(symlink(elsewhere, link), 0);
	char *const cmds[][16] = {
		{"run", "-r", "1", "--warmup", "0", "-q", "-b", "null", "-w", "page-pairs:graphs=10", "--out", link, NULL},
		{"run", "-r", "1", "--warmup", "0", "-q", "-b", "null", "-w", "page-pairs:graphs=10", "--out", slash, NULL},
		{"sweep", "-q", "-b", "single-pool", "-P", "granularity=1M,4M", "-w",
		 "llvm-500:graphs=10", "--out", link, NULL},
		{"report", FIXTURE, "-o", link, NULL},
	};
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		char *o = NULL, *e = NULL;
		int rc = tu_run_jitmm((char **)cmds[i], &o, &e);
		if (rc != 2 || !strstr(e, "symbolic link"))
			fail_msg("jitmm %s ... %s: exit %d: %s", cmds[i][0], link, rc, e);
		assert_string_equal(o, "");
		free(o);
		free(e);
		assert_int_equal(entries(elsewhere), 0);
	}
	/* the output directory is real, its plots/ a link */
	unlink(link);
	assert_int_equal(mkdir(link, 0755), 0);
	char plots[4300];
	snprintf(plots, sizeof(plots), "%s/plots", link);
	assert_int_equal(symlink(elsewhere, plots), 0);
	if (tu_have_gnuplot()) {
		char *e = NULL;
		int rc = tu_run_jitmm((char *[]){"report", FIXTURE, "-o", link, NULL}, NULL, &e);
		if (rc != 2 || !strstr(e, "plots: is a symbolic link"))
			fail_msg("report with plots/ a link: exit %d: %s", rc, e);
		free(e);
		assert_int_equal(entries(elsewhere), 0);
		assert_int_equal(entries(link), 1); /* the link only: no report.md */
	}
	assert_int_equal(tu_rmtree(dir), 0);
	assert_int_equal(tu_rmtree(elsewhere), 0);
}

/* sh -c CMD with $J set to the jitmm binary; its exit status. */
static int sh(const char *cmd)
{
	char *bin = realpath(tu_jitmm_bin(), NULL); /* the command cds */
	assert_non_null(bin);
	setenv("J", bin, 1);
	free(bin);
	int st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static char *slurp_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	static char buf[1 << 20];
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = 0;
	fclose(f);
	return strdup(buf);
}

/* '-' is stdout for every output (run --json, sweep --json, merge -o,
 * export -o, justify -o) and stdin for every results input (export,
 * report, compare, merge). results.json is compact, one line, unless
 * --pretty. */
static void test_dash_is_stdin_and_stdout(void **state)
{
	(void)state;
	char dir[] = "/tmp/jitmm-out-XXXXXX", cmd[1024], p[300];
	assert_non_null(mkdtemp(dir));
	/* run --json -: the results on stdout, no table mixed in */
	char *o = NULL, *e = NULL;
	assert_int_equal(tu_run_jitmm((char *[]){"run", "-q", "-r", "1", "-b", "null", "-w",
						 "page-pairs:graphs=10", "--json", "-", NULL},
				      &o, &e), 0);
	assert_int_equal(o[0], '{');
	assert_null(strstr(o, "| backend"));
	assert_non_null(strchr(o, '\n'));
	assert_int_equal(strchr(o, '\n')[1], 0); /* compact: one line */
	json_object *j = json_tokener_parse(o);
	assert_non_null(j);
	json_object_put(j);
	free(o);
	free(e);
	assert_int_equal(entries(dir), 0); /* and no file named '-' */
	/* --pretty indents; the loader reads both */
	snprintf(cmd, sizeof(cmd), "cd %s && \"$J\" run -q -r 1 -b null -w page-pairs:graphs=10 "
		 "--json a.json --pretty >/dev/null && \"$J\" merge a.json -o - > m.json && "
		 "\"$J\" export -f bmf - < m.json > bmf.json && "
		 "\"$J\" export -f gab m.json -o - > gab.json && "
		 "\"$J\" compare - a.json < m.json > cmp.md && "
		 "\"$J\" report - -o rep < a.json 2>/dev/null", dir);
	assert_int_equal(sh(cmd), 0);
	snprintf(p, sizeof(p), "%s/a.json", dir);
	char *pretty = slurp_file(p);
	assert_non_null(strstr(pretty, "{\n  \"schema_version\": 1,"));
	free(pretty);
	snprintf(p, sizeof(p), "%s/m.json", dir);
	char *merged = slurp_file(p);
	assert_int_equal(strchr(merged, '\n')[1], 0);
	free(merged);
	const char *made[] = {"bmf.json", "gab.json", "cmp.md", "rep/report.md"};
	for (size_t i = 0; i < sizeof(made) / sizeof(made[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, made[i]);
		struct stat st;
		if (stat(p, &st) < 0 || st.st_size < 10)
			fail_msg("%s missing or empty", p);
	}
	snprintf(p, sizeof(p), "%s/bmf.json", dir);
	char *bmf = slurp_file(p);
	assert_non_null(strstr(bmf, "page-pairs"));
	free(bmf);
	/* report from stdin needs -o: it has no directory of its own */
	snprintf(cmd, sizeof(cmd), "cd %s && \"$J\" report - < a.json 2>/dev/null", dir);
	assert_int_equal(sh(cmd), 2);
	assert_int_equal(tu_rmtree(dir), 0);
}

/* `merge ... -o all.json && jitmm report all.json` writes all-report/
 * beside all.json, not into the current directory; a run's
 * DIR/results.json still regenerates DIR. */
static void test_report_default_dir(void **state)
{
	(void)state;
	char dir[] = "/tmp/jitmm-out-XXXXXX", cmd[1024], p[300];
	assert_non_null(mkdtemp(dir));
	snprintf(cmd, sizeof(cmd), "cd %s && \"$J\" run -q -r 1 -b null -w page-pairs:graphs=10 "
		 "--json s.json >/dev/null && \"$J\" merge s.json -o all.json 2>/dev/null && "
		 "\"$J\" report all.json 2>/dev/null", dir);
	assert_int_equal(sh(cmd), 0);
	snprintf(p, sizeof(p), "%s/all-report/report.md", dir);
	assert_int_equal(access(p, R_OK), 0);
	snprintf(p, sizeof(p), "%s/report.md", dir);
	assert_int_not_equal(access(p, F_OK), 0);
	snprintf(cmd, sizeof(cmd), "cd %s && mkdir r && cp s.json r/results.json && "
		 "\"$J\" report r/results.json 2>/dev/null", dir);
	assert_int_equal(sh(cmd), 0);
	snprintf(p, sizeof(p), "%s/r/report.md", dir);
	assert_int_equal(access(p, R_OK), 0);
	assert_int_equal(tu_rmtree(dir), 0);
}

/* A report killed with SIGKILL leaves its stage (DIR/.jitmm-stage-HEX):
 * the next report into DIR removes it, but not a stage a live report
 * holds (its flock), nor anything that only looks like one (another name,
 * a link to a directory elsewhere, which is not followed). */
static void plant_stage(const char *dir, const char *name, char *path, size_t len)
{
	char f[400];
	snprintf(path, len, "%s/%s", dir, name);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(f, sizeof(f), "%s/vmas-1-x.png", path);
	FILE *fp = fopen(f, "w");
	assert_non_null(fp);
	fputs("half an image", fp);
	fclose(fp);
}

static void test_killed_report_stage_swept(void **state)
{
	(void)state;
	char dir[] = "/tmp/jitmm-out-XXXXXX", stale[300], held[300], other[300], link[300];
	char victim[] = "/tmp/jitmm-victim-dir-XXXXXX", vfile[400];
	assert_non_null(mkdtemp(dir));
	assert_non_null(mkdtemp(victim));
	snprintf(vfile, sizeof(vfile), "%s/keep.txt", victim);
	FILE *fp = fopen(vfile, "w");
	assert_non_null(fp);
	fclose(fp);
	plant_stage(dir, ".jitmm-stage-0123456789abcdef", stale, sizeof(stale));
	plant_stage(dir, ".jitmm-stage-fedcba9876543210", held, sizeof(held));
	plant_stage(dir, ".jitmm-stage-notours", other, sizeof(other));
	snprintf(link, sizeof(link), "%s/.jitmm-stage-00000000000000aa", dir);
	assert_int_equal(symlink(victim, link), 0);
	int hfd = open(held, O_RDONLY | O_DIRECTORY);
	assert_true(hfd >= 0);
	assert_int_equal(flock(hfd, LOCK_EX), 0); /* a live report's */

	char err[256];
	int dfd = jm_dir_open(dir, err, sizeof(err));
	assert_true(dfd >= 0);
	assert_int_equal(jm_stage_sweep(dfd), 1);
	close(dfd);
	assert_int_not_equal(access(stale, F_OK), 0);
	assert_int_equal(access(held, F_OK), 0);
	assert_int_equal(access(other, F_OK), 0);
	assert_int_equal(access(vfile, F_OK), 0); /* the link not followed */
	struct stat st;
	assert_int_equal(lstat(link, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	close(hfd);

	/* end to end: jitmm report sweeps the one no longer held, and its
	 * own stage is gone when it is done */
	if (tu_have_gnuplot()) {
		assert_int_equal(tu_run_jitmm((char *[]){"report", FIXTURE, "-o", dir, NULL}, NULL,
					      NULL), 0);
		assert_int_not_equal(access(held, F_OK), 0);
		DIR *d = opendir(dir);
		assert_non_null(d);
		int stages = 0;
		for (struct dirent *de; (de = readdir(d));)
			stages += !strncmp(de->d_name, ".jitmm-stage-", 13);
		closedir(d);
		assert_int_equal(stages, 2); /* notours and the link */
	} else {
		printf("# gnuplot is not installed: the report end to end not run\n");
	}
	assert_int_equal(tu_rmtree(dir), 0);
	assert_int_equal(tu_rmtree(victim), 0);
}

/* A report written over an earlier one removes the earlier plots it did
 * not draw again (they would pass for this run's), and nothing else. */
static void test_stale_plots_removed(void **state)
{
	(void)state;
	if (!tu_have_gnuplot())
		SKIP_BECAUSE("gnuplot is not installed");
	char dir[] = "/tmp/jitmm-out-XXXXXX", p[4300], one[4300], err[512];
	assert_non_null(mkdtemp(dir));
	assert_int_equal(tu_run_jitmm((char *[]){"report", FIXTURE, "-o", dir, NULL}, NULL, NULL), 0);
	snprintf(p, sizeof(p), "%s/plots/vmas-2-page-pairs.png", dir);
	assert_int_equal(access(p, R_OK), 0);
	snprintf(p, sizeof(p), "%s/plots/notes.txt", dir);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fclose(f);
	/* the fixture with its first workload only */
	json_object *root = jm_results_load(FIXTURE, err, sizeof(err));
	assert_non_null(root);
	json_object *runs = json_object_new_array();
	json_object *all = jm_json_path(root, "runs");
	for (size_t i = 0; i < json_object_array_length(all); i++) {
		json_object *r = json_object_array_get_idx(all, i);
		if (!strcmp(jm_json_str(r, "workload", ""), "llvm-500"))
			json_object_array_add(runs, json_object_get(r));
	}
	json_object_object_add(root, "runs", runs);
	json_object_object_del(root, "aggregates");
	jm_results_aggregate(root);
	snprintf(one, sizeof(one), "%s/one.json", dir);
	assert_int_equal(jm_results_write(root, one, err, sizeof(err)), 0);
	json_object_put(root);
	assert_int_equal(tu_run_jitmm((char *[]){"report", one, "-o", dir, NULL}, NULL, NULL), 0);
	snprintf(p, sizeof(p), "%s/plots/vmas-2-page-pairs.png", dir);
	assert_int_not_equal(access(p, F_OK), 0);
	snprintf(p, sizeof(p), "%s/plots/vmas-2-page-pairs.gp", dir);
	assert_int_not_equal(access(p, F_OK), 0);
	snprintf(p, sizeof(p), "%s/plots/vmas-1-llvm-500.png", dir);
	assert_int_equal(access(p, R_OK), 0);
	snprintf(p, sizeof(p), "%s/plots/notes.txt", dir);
	assert_int_equal(access(p, F_OK), 0); /* not jitmm's: kept */
	assert_int_equal(tu_rmtree(dir), 0);
}

/* -o/--out is the output option of every command that writes a file;
 * record's and trace's --output stay as aliases. */
static void test_one_output_spelling(void **state)
{
	(void)state;
	char dir[] = "/tmp/jitmm-out-XXXXXX", cmd[1024], p[300];
	assert_non_null(mkdtemp(dir));
	snprintf(cmd, sizeof(cmd), "cd %s && \"$J\" trace from-workload llvm-500:graphs=3 --out a.jmt "
		 "2>/dev/null && \"$J\" run -q -r 1 -b null -w trace:a.jmt --json r.json >/dev/null && "
		 "\"$J\" export -f lnt r.json --out l.json && \"$J\" merge r.json --out m.json "
		 "2>/dev/null && \"$J\" report r.json --out rep 2>/dev/null", dir);
	assert_int_equal(sh(cmd), 0);
	const char *made[] = {"a.jmt", "l.json", "m.json", "rep/report.md"};
	for (size_t i = 0; i < sizeof(made) / sizeof(made[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, made[i]);
		assert_int_equal(access(p, R_OK), 0);
	}
	char *o = NULL;
	assert_int_equal(tu_run_jitmm((char *[]){"record", "--help", NULL}, &o, NULL), 0);
	assert_non_null(strstr(o, "-o, --out OUT"));
	free(o);
	assert_int_equal(tu_rmtree(dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_run_replaces_planted_symlinks),
		cmocka_unit_test(test_planted_temp_symlink_not_followed),
		cmocka_unit_test(test_directory_swapped_mid_write),
		cmocka_unit_test(test_killed_report_stage_swept),
		cmocka_unit_test(test_failed_write_leaves_nothing),
		cmocka_unit_test(test_non_regular_destination_refused),
		cmocka_unit_test(test_report_with_planted_links),
		cmocka_unit_test(test_report_modes_under_umask_000),
		cmocka_unit_test(test_out_link_refused),
		cmocka_unit_test(test_dash_is_stdin_and_stdout),
		cmocka_unit_test(test_report_default_dir),
		cmocka_unit_test(test_stale_plots_removed),
		cmocka_unit_test(test_one_output_spelling),
	};
	return cmocka_run_group_tests_name("output paths", tests, NULL, NULL);
}
