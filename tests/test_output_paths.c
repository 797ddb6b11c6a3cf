/* Output paths: results are written atomically (temp + rename) and never
 * through a symlink planted in the output directory, neither at the final
 * name nor at the temporary name; a failed write leaves no partial file. */
#include "testutil.h"

#include <json-c/json.h>
#include <dirent.h>
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
	int rc = tu_run_jitmm((char *[]){"run", "-q", "-b", "null", "-w",
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
	int rc = tu_run_jitmm((char *[]){"run", "-q", "-b", "null", "-w",
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
	int rc = tu_run_jitmm((char *[]){"run", "-q", "-b", "null", "-w",
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_run_replaces_planted_symlinks),
		cmocka_unit_test(test_planted_temp_symlink_not_followed),
		cmocka_unit_test(test_failed_write_leaves_nothing),
		cmocka_unit_test(test_non_regular_destination_refused),
	};
	return cmocka_run_group_tests_name("output paths", tests, NULL, NULL);
}
