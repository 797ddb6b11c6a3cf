/* Shared helpers for jitmm's cmocka tests. */
#ifndef JITMM_TESTUTIL_H
#define JITMM_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Built with AddressSanitizer (make SAN=1)? Its allocator maps memory
 * behind the code's back, so exact VMA accounting (leak checks) is noise
 * there; tests say so instead of asserting it. */
#if defined(__SANITIZE_ADDRESS__)
#define TU_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TU_SANITIZED 1
#endif
#endif
#ifndef TU_SANITIZED
#define TU_SANITIZED 0
#endif

/* The jitmm binary under test: $JITMM (make test sets it), else ./jitmm. */
static inline const char *tu_jitmm_bin(void)
{
	const char *bin = getenv("JITMM");
	return bin ? bin : "./jitmm";
}

/* rm -rf dir (a test's temporary directory); the exit status of rm. */
static inline int tu_rmtree(const char *dir)
{
	char cmd[4200];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd);
}

/* Skip the current test with a reason printed where the log shows it. */
#define SKIP_BECAUSE(...)                                    \
	do {                                                 \
		printf("# skip reason: " __VA_ARGS__);       \
		printf("\n");                                \
		fflush(stdout);                              \
		skip();                                      \
	} while (0)

/* Permissions ("r-xp") of every VMA covering [addr, addr+len) in
 * /proc/PID/maps (pid 0: self) must equal perms. Returns 0 if so, -1
 * otherwise (with what was found in why). */
static inline int tu_check_prot_pid(pid_t pid, const void *addr, size_t len,
				    const char *perms, char *why, size_t whylen)
{
	uintptr_t lo = (uintptr_t)addr, hi = lo + len, covered = lo;
	char path[64];
	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	else
		snprintf(path, sizeof(path), "/proc/self/maps");
	FILE *f = fopen(path, "r");
	if (!f) {
		snprintf(why, whylen, "cannot open maps");
		return -1;
	}
	char line[512];
	int rc = -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned long s, e;
		char p[8];
		if (sscanf(line, "%lx-%lx %7s", &s, &e, p) != 3)
			continue;
		if (e <= covered || s >= hi)
			continue;
		if (s > covered) {
			snprintf(why, whylen, "hole at %#lx", (unsigned long)covered);
			break;
		}
		if (strncmp(p, perms, 3) != 0) {
			snprintf(why, whylen, "%#lx-%#lx is %s, want %s", s, e, p, perms);
			break;
		}
		covered = e;
		if (covered >= hi) {
			rc = 0;
			break;
		}
	}
	fclose(f);
	if (rc < 0 && !why[0])
		snprintf(why, whylen, "range %#lx-%#lx not mapped", (unsigned long)lo,
			 (unsigned long)hi);
	return rc;
}

static inline int tu_check_prot(const void *addr, size_t len, const char *perms,
				char *why, size_t whylen)
{
	return tu_check_prot_pid(0, addr, len, perms, why, whylen);
}

/* What a measured run does for a backend before its window (run/measure.c):
 * available (the LLVM plugin is there), then prepare (load it, start an
 * executor). Returns 1 if the backend can be opened, 0 if it is not
 * available here (why says why: a test skips it), -1 if prepare failed
 * (why says why: a test fails). */
#include "../allocators/backend.h"
static inline int tu_backend_prepare(const struct jm_backend_ops *ops, const char *optspec,
				     char *why, size_t len)
{
	if (jm_backend_available(ops, optspec, why, len) < 0)
		return 0;
	struct jm_optvals v;
	if (!ops->prepare)
		return 1;
	if (jm_opts_parse(ops->options, optspec, &v, why, len) < 0 ||
	    ops->prepare(ops, &v, why, len) < 0)
		return -1;
	return 1;
}

/* The whole file, malloc'd and NUL-terminated (NULL if it cannot be read). */
static inline char *tu_slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	char *buf = NULL;
	size_t n = 0, cap = 0;
	for (;;) {
		if (n + 4096 + 1 > cap) {
			cap = cap ? cap * 2 : 65536;
			char *nb = realloc(buf, cap);
			if (!nb) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = nb;
		}
		size_t got = fread(buf + n, 1, cap - n - 1, f);
		n += got;
		if (got == 0)
			break;
	}
	buf[n] = 0;
	fclose(f);
	return buf;
}

/* gnuplot on PATH (the report tests that draw need it) */
static inline int tu_have_gnuplot(void)
{
	return system("command -v gnuplot >/dev/null 2>&1") == 0;
}

/* A backend's extra statistic by name (stats' extra[]); fails the test if
 * the backend has none of that name. */
static inline uint64_t tu_backend_extra(struct jm_backend *b, const char *name)
{
	struct jm_backend_stats st = {0};
	b->ops->stats(b, &st);
	for (int i = 0; i < st.nextra; i++)
		if (!strcmp(st.extra[i].name, name))
			return st.extra[i].value;
	fail_msg("%s: no backend stat %s", b->ops->name, name);
	return 0;
}

/* Entries of dir other than . and .., -1 if it cannot be read. */
#include <dirent.h>
static inline int tu_dir_entries(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return -1;
	int n = 0;
	for (struct dirent *de; (de = readdir(d));)
		n += strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
	closedir(d);
	return n;
}

/* The first child of pid (/proc/PID/task/PID/children), 0 if none or if
 * the kernel lacks CONFIG_PROC_CHILDREN. */
static inline pid_t tu_first_child(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)pid, (int)pid);
	FILE *f = fopen(path, "r");
	int c = 0;
	if (f) {
		if (fscanf(f, "%d", &c) != 1)
			c = 0;
		fclose(f);
	}
	return c;
}

/* A temporary directory of files written by the test and built there by a
 * shell command (test_jitlink, test_jitlink_record compile programs).
 * why is set when it could not be made; the tests then skip with it
 * (TU_NEED_FIXTURE). dir is a mkdtemp template until it is made. */
struct tu_fixture {
	char dir[64];
	const char *why;
};

/* fx->dir/name, in one of 8 buffers used in turn */
static inline char *tu_fixture_path(const struct tu_fixture *fx, const char *name)
{
	static char buf[8][PATH_MAX];
	static int k;
	char *p = buf[k++ % 8];
	snprintf(p, PATH_MAX, "%s/%s", fx->dir, name);
	return p;
}

/* mkdtemp, then files[i][0] written with files[i][1], then `cd DIR && build`
 * (why_build if it fails) */
static inline void tu_fixture_make(struct tu_fixture *fx, const char *const files[][2],
				   size_t n, const char *build, const char *why_build)
{
	if (!mkdtemp(fx->dir)) {
		fx->why = "mkdtemp failed";
		return;
	}
	for (size_t i = 0; i < n; i++) {
		FILE *f = fopen(tu_fixture_path(fx, files[i][0]), "w");
		int bad = !f || fputs(files[i][1], f) < 0;
		if (f)
			fclose(f);
		if (bad) {
			fx->why = "cannot write the test's files";
			return;
		}
	}
	char cmd[PATH_MAX + 1024];
	snprintf(cmd, sizeof(cmd), "cd '%s' && %s", fx->dir, build);
	if (system(cmd) != 0)
		fx->why = why_build;
}

static inline void tu_fixture_remove(struct tu_fixture *fx)
{
	if (fx->dir[strlen(fx->dir) - 1] != 'X')
		tu_rmtree(fx->dir);
}

#define TU_NEED_FIXTURE(fx)                              \
	do {                                             \
		if ((fx)->why) {                         \
			SKIP_BECAUSE("%s", (fx)->why);   \
			return;                          \
		}                                        \
	} while (0)

/* Run the jitmm binary ($JITMM, default ./jitmm) with args; capture stdout
 * and stderr into malloc'd strings (may be NULL); return the exit code
 * (128+sig if killed). */
static inline int tu_run_jitmm(char *const args[], char **out, char **err)
{
	const char *bin = tu_jitmm_bin();
	char ofile[] = "/tmp/jitmm-test-out-XXXXXX", efile[] = "/tmp/jitmm-test-err-XXXXXX";
	int ofd = mkstemp(ofile), efd = mkstemp(efile);
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		dup2(ofd, 1);
		dup2(efd, 2);
		int n = 0;
		while (args[n])
			n++;
		char **argv = calloc((size_t)n + 2, sizeof(char *));
		argv[0] = (char *)bin;
		for (int i = 0; i < n; i++)
			argv[i + 1] = args[i];
		execv(bin, argv);
		_exit(127);
	}
	int status = 0;
	waitpid(pid, &status, 0);
	char **dst[2] = {out, err};
	int fds[2] = {ofd, efd};
	for (int k = 0; k < 2; k++) {
		if (dst[k]) {
			off_t len = lseek(fds[k], 0, SEEK_END);
			char *buf = malloc((size_t)len + 1);
			ssize_t got = pread(fds[k], buf, (size_t)len, 0);
			buf[got > 0 ? got : 0] = 0;
			*dst[k] = buf;
		}
		close(fds[k]);
	}
	unlink(ofile);
	unlink(efile);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

/* Run jitmm with args plus --json TMP and load what it wrote through the
 * results loader (NULL when it wrote nothing readable: the loader's reason
 * and jitmm's stderr are printed). *rc is jitmm's exit code; out and err as
 * tu_run_jitmm (may be NULL). */
#include "../reports/results.h"
static inline json_object *tu_run_results(char *const args[], int *rc, char **out,
					  char **err)
{
	char path[] = "/tmp/jitmm-test-json-XXXXXX";
	int fd = mkstemp(path);
	if (fd >= 0)
		close(fd);
	char *full[64];
	int n = 0;
	while (args[n] && n < 60) {
		full[n] = args[n];
		n++;
	}
	full[n++] = "--json";
	full[n++] = path;
	full[n] = NULL;
	char *e_out = NULL;
	*rc = tu_run_jitmm(full, out, &e_out);
	char e[512];
	json_object *o = jm_results_load(path, e, sizeof(e));
	if (!o)
		printf("# %s\n# stderr: %s\n", e, e_out ? e_out : "");
	if (err)
		*err = e_out;
	else
		free(e_out);
	unlink(path);
	return o;
}

/* xorshift64 (Marsaglia 2003): the tests whose expected values are pinned
 * to its sequence (test_linker_bytes' hash, test_freeset's comparison) */
#define TU_XORSHIFT_SEED 88172645463325252ull
static inline uint64_t tu_xorshift_below(uint64_t *state, uint64_t below)
{
	*state ^= *state << 13;
	*state ^= *state >> 7;
	*state ^= *state << 17;
	return *state % below;
}

/* runs[i] of a results tree, and a number at a path in it (-1 if none). */
static inline json_object *tu_run_at(json_object *o, size_t i)
{
	return json_object_array_get_idx(jm_json_path(o, "runs"), i);
}

static inline double tu_num(json_object *o, const char *path)
{
	double v = -1;
	if (jm_json_num(o, path, &v) < 0)
		return -1;
	return v;
}

#endif
