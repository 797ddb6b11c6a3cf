/* Failures the harness must reproduce, explain and survive: the
 * vm.max_map_count ENOMEM, injected mmap/mprotect failures on every
 * backend, backends that crash, hang or leak, and SIGINT/SIGTERM. */
#include "testutil.h"

#include <errno.h>
#include <json-c/json.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>

#include "../allocators/backend.h"
#include "../run/context.h"
#include "../reports/results.h"

/* Run jitmm with args (NULL-terminated, "--json PATH" appended); returns the
 * loaded results (NULL if unreadable) and the exit code in *rc. */
static json_object *run_json(char **args, int *rc, char **err_out)
{
	char path[] = "/tmp/jitmm-fail-XXXXXX";
	int fd = mkstemp(path);
	close(fd);
	char *full[32];
	int n = 0;
	while (args[n] && n < 28) {
		full[n] = args[n];
		n++;
	}
	full[n++] = "--json";
	full[n++] = path;
	full[n] = NULL;
	char *err = NULL;
	*rc = tu_run_jitmm(full, NULL, &err);
	char e[512];
	json_object *o = jm_results_load(path, e, sizeof(e));
	if (!o)
		printf("# %s\n# stderr: %s\n", e, err);
	if (err_out)
		*err_out = err;
	else
		free(err);
	unlink(path);
	return o;
}

static json_object *run_at(json_object *o, size_t i)
{
	return json_object_array_get_idx(jm_json_path(o, "runs"), i);
}

static double num(json_object *o, const char *path)
{
	double v = -1;
	if (jm_json_num(o, path, &v) < 0)
		return -1;
	return v;
}

/* The kernel limit, really hit: single-pool and inprocess end failed with
 * ENOMEM from mprotect (or mmap) at about vm.max_map_count VMAs. */
static void test_max_map_count_really_fails(void **state)
{
	(void)state;
	long limit = jm_max_map_count();
	if (limit <= 0 || limit > 200000)
		SKIP_BECAUSE("vm.max_map_count is %ld: the preset's ~90000 VMAs "
			     "would not reach it (jitmm never changes sysctls)", limit);
	int rc;
	json_object *o = run_json((char *[]){"run", "-q", "-b", "single-pool,inprocess",
					     "-w", "max-map-count", NULL}, &rc, NULL);
	assert_non_null(o);
	assert_int_equal(rc, 1);
	for (size_t i = 0; i < 2; i++) {
		json_object *r = run_at(o, i);
		printf("# %s: %s %s at graph %.0f, %.0f VMAs\n", jm_json_str(r, "backend", "?"),
		       jm_json_str(r, "error.syscall", "?"), jm_json_str(r, "error.errno_name", "?"),
		       num(r, "error.graph_id"), num(r, "error.vmas_at_failure"));
		assert_string_equal(jm_json_str(r, "status", "?"), "failed");
		const char *sys = jm_json_str(r, "error.syscall", "?");
		assert_true(!strcmp(sys, "mprotect") || !strcmp(sys, "mmap"));
		assert_string_equal(jm_json_str(r, "error.errno_name", "?"), "ENOMEM");
		assert_true(num(r, "error.graph_id") > 1000);
		double v = num(r, "error.vmas_at_failure");
		/* do_mmap lets a process reach limit + 1 VMAs (an off-by-one
		 * whose fix was posted in Oct 2025; reference/linux.md) */
		assert_true(v >= limit - 16 && v <= limit + 1);
		assert_true(num(r, "error.vm_max_map_count") == limit);
		assert_non_null(strstr(jm_json_str(r, "error.cause", ""), "max_map_count"));
		/* the metrics survive a failed run */
		assert_true(num(r, "metrics.vma_headroom") == 0);
	}
	json_object_put(o);
}

/* vma_headroom: how many more graphs of this shape fit before the limit. */
static void test_vma_headroom(void **state)
{
	(void)state;
	long limit = jm_max_map_count();
	int rc;
	json_object *o = run_json((char *[]){"run", "-q", "-b", "single-pool", "-w",
					     "page-pairs:graphs=300", NULL}, &rc, NULL);
	assert_non_null(o);
	json_object *r = run_at(o, 0);
	double per = num(r, "metrics.vmas_per_graph"), room = num(r, "metrics.vma_headroom");
	double after = num(r, "metrics.vmas_after");
	printf("# page-pairs on single-pool: %.3f VMAs per graph, headroom %.0f graphs\n",
	       per, room);
	assert_true(per > 1.9 && per < 2.1); /* rx page + rw page */
	assert_true(room > 0);
	/* after + room * per lands on the limit (to one graph) */
	double at = after + room * per;
	assert_true(at <= limit && at > limit - 2 * per);
	json_object_put(o);
}

/* Backends whose documented fallback absorbs a failure of this syscall: the
 * run must then complete and the os layer must show the failed call.
 * Everything else must fail cleanly naming the syscall and errno. */
static const struct {
	const char *backend, *sys, *fallback;
} fallbacks[] = {
	{"slab-pool", "mmap", "halves its first slab (down to 8 MiB) and retries"},
	/* the first mmap is the /proc/self/mem probe's test page:
	 * RTDyldMemoryManagerJL then uses the memfd writer */
	{"julia-blocks", "mmap", "the self-mem probe fails: the memfd writer is used"},
	/* the first mmap and mprotect are the first memfd probe's: PR 60915's
	 * constructor goes on to the self-mem and second memfd probes */
	{"codemodel", "mmap", "the first memfd probe fails: the constructor probes again"},
	{"codemodel", "mprotect", "the first memfd probe fails: the constructor probes again"},
	/* Memory::allocateMappedMemory: the near hint failed, once more without */
	{"section-mm", "mmap", "retries without its near hint"},
	{"llvm-section", "mmap", "retries without its near hint"},
	{NULL, NULL, NULL},
};

static const char *fallback_of(const char *backend, const char *sys)
{
	for (int i = 0; fallbacks[i].backend; i++)
		if (!strcmp(fallbacks[i].backend, backend) && !strcmp(fallbacks[i].sys, sys))
			return fallbacks[i].fallback;
	return NULL;
}

static void test_injected_failures_every_backend(void **state)
{
	(void)state;
	static const char *const injections[][2] = {
		{"mmap", "mmap:ENOMEM@1"},
		{"mprotect", "mprotect:ENOMEM@1"},
		{"mprotect", "mprotect:EACCES@7"},
	};
	for (size_t b = 0; b < jm_backend_count(); b++) {
		const char *name = jm_backends[b]->name;
		for (size_t k = 0; k < sizeof(injections) / sizeof(injections[0]); k++) {
			const char *sys = injections[k][0], *spec = injections[k][1];
			const char *errname = strchr(spec, ':') + 1;
			char want_errno[16];
			snprintf(want_errno, sizeof(want_errno), "%.*s",
				 (int)strcspn(errname, "@"), errname);
			int rc;
			json_object *o = run_json((char *[]){"run", "-q", "-b", (char *)name,
				"-w", "page-pairs:graphs=20", "--inject", (char *)spec, NULL}, &rc, NULL);
			assert_non_null(o);
			json_object *r = run_at(o, 0);
			const char *st = jm_json_str(r, "status", "?");
			char path[96];
			snprintf(path, sizeof(path), "metrics.syscalls.%s.calls", sys);
			double calls = num(r, path);
			const char *fb = fallback_of(name, sys);
			printf("# %s --inject %s: %s%s%s\n", name, spec, st,
			       strcmp(st, "ok") ? ": " : "",
			       strcmp(st, "ok") ? jm_json_str(r, "error.message", "?") : "");
			unsigned long nth = strtoul(strchr(spec, '@') + 1, NULL, 10);
			if (!strcmp(st, "ok") && calls < (double)nth) {
				printf("#   %s makes %.0f %s calls on this workload: call %lu never "
				       "happens, nothing to inject\n", name, calls, sys, nth);
			} else if (fb) {
				assert_string_equal(st, "ok");
				snprintf(path, sizeof(path), "metrics.syscalls.%s.errnos.%s", sys, want_errno);
				assert_true(num(r, path) == 1);
				printf("#   fallback: %s\n", fb);
			} else {
				assert_string_equal(st, "failed");
				assert_int_equal(rc, 1);
				assert_string_equal(jm_json_str(r, "error.syscall", "?"), sys);
				assert_string_equal(jm_json_str(r, "error.errno_name", "?"), want_errno);
				assert_non_null(strstr(jm_json_str(r, "error.message", ""), want_errno));
				/* failed cleanly: no mapping left behind */
				if (TU_SANITIZED)
					printf("#   (leak check not asserted under ASan: %.0f)\n",
					       num(r, "metrics.vmas_leaked"));
				else
					assert_true(num(r, "metrics.vmas_leaked") == 0);
			}
			json_object_put(o);
		}
	}
}

/* A crash, a hang and a leak in one matrix: each run is recorded with its
 * cause, the others complete, results.json and report.md are valid. */
static void test_crash_hang_leak_isolated(void **state)
{
	(void)state;
	char dir[] = "/tmp/jitmm-iso-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char *err = NULL;
	int rc;
	json_object *o = run_json((char *[]){"run", "-q", "-b",
		"null:crash_after=5,null:hang_after=5,null:leak=on,single-pool",
		"-w", "page-pairs:graphs=50", "--timeout", "1", "--out", dir, NULL}, &rc, &err);
	assert_non_null(o);
	assert_int_equal(rc, 1);
	assert_int_equal(json_object_array_length(jm_json_path(o, "runs")), 4);
	json_object *crash = run_at(o, 0), *hang = run_at(o, 1), *leak = run_at(o, 2),
		    *fine = run_at(o, 3);
	assert_string_equal(jm_json_str(crash, "status", "?"), "failed");
	assert_string_equal(jm_json_str(crash, "error.op", "?"), "crash");
	/* ASan catches the SIGSEGV itself and exits 1: still a crash */
	if (!TU_SANITIZED)
		assert_true(num(crash, "error.signal") == SIGSEGV);
	assert_string_equal(jm_json_str(hang, "status", "?"), "failed");
	assert_string_equal(jm_json_str(hang, "error.op", "?"), "timeout");
	assert_string_equal(jm_json_str(leak, "status", "?"), "ok");
	assert_true(num(leak, "metrics.vmas_leaked") >= 1);
	assert_string_equal(jm_json_str(fine, "status", "?"), "ok");
	if (TU_SANITIZED)
		printf("# (leak check of the clean run not asserted under ASan: %.0f)\n",
		       num(fine, "metrics.vmas_leaked"));
	else
		assert_true(num(fine, "metrics.vmas_leaked") == 0);
	/* the crashed runs group with their peers (resolved workload spec) */
	assert_string_equal(jm_json_str(crash, "workload_spec", "a"),
			    jm_json_str(fine, "workload_spec", "b"));
	char path[256], e[512];
	snprintf(path, sizeof(path), "%s/results.json", dir);
	json_object *again = jm_results_load(path, e, sizeof(e));
	assert_non_null(again);
	json_object_put(again);
	snprintf(path, sizeof(path), "%s/report.md", dir);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	char buf[16384];
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = 0;
	fclose(f);
	assert_non_null(strstr(buf, "## Leaked mappings"));
	assert_non_null(strstr(buf, "timed out"));
	free(err);
	json_object_put(o);
	assert_int_equal(tu_rmtree(dir), 0);
}

/* The pid of a child of parent that sits in pause() (the hanging run). */
static pid_t paused_child(pid_t parent)
{
	char path[64], buf[256];
	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)parent, (int)parent);
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	int child = 0;
	if (fscanf(f, "%d", &child) != 1)
		child = 0;
	fclose(f);
	if (!child)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/syscall", child);
	f = fopen(path, "r");
	if (!f)
		return 0;
	long nr = -1;
	if (fgets(buf, sizeof(buf), f))
		nr = strtol(buf, NULL, 10);
	fclose(f);
	return nr == 34 /* __NR_pause on x86-64 */ ? child : 0;
}

/* Ctrl-C (SIGINT to the process group, as a terminal sends it) or SIGTERM
 * to jitmm alone while the second of three runs hangs. */
static void interrupt_with(int sig, int to_group)
{
	char probe[64];
	snprintf(probe, sizeof(probe), "/proc/%d/task/%d/children", (int)getpid(), (int)getpid());
	if (access(probe, R_OK) != 0)
		SKIP_BECAUSE("%s is missing (CONFIG_PROC_CHILDREN): cannot find the hanging run", probe);
	char dir[] = "/tmp/jitmm-int-XXXXXX";
	assert_non_null(mkdtemp(dir));
	const char *bin = tu_jitmm_bin();
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		setpgid(0, 0);
		int devnull = open("/dev/null", O_WRONLY);
		dup2(devnull, 1);
		dup2(devnull, 2);
		execl(bin, bin, "run", "-q", "-b", "single-pool,null:hang_after=3,inprocess",
		      "-w", "page-pairs:graphs=20", "--timeout", "0", "--out", dir, (char *)NULL);
		_exit(127);
	}
	setpgid(pid, pid);
	int found = 0;
	for (int i = 0; i < 1000 && !found; i++) { /* up to 10 s */
		found = paused_child(pid) != 0;
		if (!found) {
			struct timespec ts = {0, 10 * 1000 * 1000};
			nanosleep(&ts, NULL);
		}
	}
	if (!found) {
		kill(-pid, SIGKILL);
		waitpid(pid, NULL, 0);
		fail_msg("the hanging run never started");
	}
	kill(to_group ? -pid : pid, sig);
	int status;
	waitpid(pid, &status, 0);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 130);
	char path[256], e[512];
	snprintf(path, sizeof(path), "%s/results.json", dir);
	json_object *o = jm_results_load(path, e, sizeof(e));
	if (!o)
		fail_msg("%s", e);
	assert_int_equal(json_object_array_length(jm_json_path(o, "runs")), 2);
	assert_string_equal(jm_json_str(run_at(o, 0), "status", "?"), "ok");
	assert_string_equal(jm_json_str(run_at(o, 1), "status", "?"), "interrupted");
	json_object *intr = jm_json_path(o, "config.interrupted");
	assert_true(intr && json_object_get_boolean(intr));
	json_object_put(o);
	snprintf(path, sizeof(path), "%s/report.md", dir);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(tu_rmtree(dir), 0);
}

static void test_sigint_to_group(void **state)
{
	(void)state;
	interrupt_with(SIGINT, 1);
}

static void test_sigterm_to_jitmm(void **state)
{
	(void)state;
	interrupt_with(SIGTERM, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_max_map_count_really_fails),
		cmocka_unit_test(test_vma_headroom),
		cmocka_unit_test(test_injected_failures_every_backend),
		cmocka_unit_test(test_crash_hang_leak_isolated),
		cmocka_unit_test(test_sigint_to_group),
		cmocka_unit_test(test_sigterm_to_jitmm),
	};
	return cmocka_run_group_tests_name("failures", tests, NULL, NULL);
}
