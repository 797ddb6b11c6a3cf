/* Failures the harness must reproduce, explain and survive: the
 * vm.max_map_count ENOMEM, injected mmap/mprotect/munmap failures on every
 * backend, backends that crash, hang or leak, and SIGINT/SIGTERM. */
#include "testutil.h"

#include <dirent.h>
#include <errno.h>
#include <json-c/json.h>
#include <linux/bpf.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>

#include "../allocators/backend.h"
#include "../run/context.h"
#include "../reports/results.h"

/* vm.max_map_count, or a skip when the max-map-count preset's ~90000 VMAs
 * would not reach it */
static long reachable_max_map_count(void)
{
	long limit = jm_max_map_count();
	if (limit <= 0 || limit > 200000)
		SKIP_BECAUSE("vm.max_map_count is %ld: the preset's ~90000 VMAs "
			     "would not reach it (jitmm never changes sysctls)", limit);
	return limit;
}

/* The kernel limit, really hit: single-pool and inprocess end failed with
 * ENOMEM from mprotect (or mmap) at about vm.max_map_count VMAs. */
static void test_max_map_count_really_fails(void **state)
{
	(void)state;
	long limit = reachable_max_map_count();
	int rc;
	json_object *o = tu_run_results((char *[]){"run", "-r", "1", "--warmup", "0", "-q", "-b", "single-pool,inprocess",
					     "-w", "max-map-count", NULL}, &rc, NULL, NULL);
	assert_non_null(o);
	assert_int_equal(rc, 1);
	for (size_t i = 0; i < 2; i++) {
		json_object *r = tu_run_at(o, i);
		printf("# %s: %s %s at graph %.0f, %.0f VMAs\n", jm_json_str(r, "backend", "?"),
		       jm_json_str(r, "error.syscall", "?"), jm_json_str(r, "error.errno_name", "?"),
		       tu_num(r, "error.graph_id"), tu_num(r, "error.vmas_at_failure"));
		assert_string_equal(jm_json_str(r, "status", "?"), "failed");
		const char *sys = jm_json_str(r, "error.syscall", "?");
		assert_true(!strcmp(sys, "mprotect") || !strcmp(sys, "mmap"));
		assert_string_equal(jm_json_str(r, "error.errno_name", "?"), "ENOMEM");
		assert_true(tu_num(r, "error.graph_id") > 1000);
		double v = tu_num(r, "error.vmas_at_failure");
		/* do_mmap lets a process reach limit + 1 VMAs (an off-by-one
		 * whose fix was posted in Oct 2025; reference/linux.md) */
		assert_true(v >= limit - 16 && v <= limit + 1);
		assert_true(tu_num(r, "error.vm_max_map_count") == limit);
		assert_non_null(strstr(jm_json_str(r, "error.cause", ""), "max_map_count"));
		/* the metrics survive a failed run */
		assert_true(tu_num(r, "metrics.vma_headroom") == 0);
	}
	json_object_put(o);
}

/* shm-mapper's executor hits the limit, not the controller: the error
 * carries the executor's VMA count and pid, the cause says so, and the
 * headroom is the executor's (issue 11: the controller's 56 VMAs and a
 * headroom of 1.4e9 were reported). */
static void test_max_map_count_in_executor(void **state)
{
	(void)state;
	long limit = reachable_max_map_count();
	int rc;
	json_object *o = tu_run_results((char *[]){"run", "-r", "1", "--warmup", "0", "-q", "-b", "shm-mapper",
					     "-w", "max-map-count", NULL}, &rc, NULL, NULL);
	assert_non_null(o);
	assert_int_equal(rc, 1);
	json_object *r = tu_run_at(o, 0);
	double v = tu_num(r, "error.vmas_at_failure"), pid = tu_num(r, "error.pid");
	printf("# shm-mapper: %s %s at graph %.0f, executor pid %.0f had %.0f VMAs; controller "
	       "%.0f; headroom %.0f\n", jm_json_str(r, "error.syscall", "?"),
	       jm_json_str(r, "error.errno_name", "?"), tu_num(r, "error.graph_id"), pid, v,
	       tu_num(r, "metrics.vmas_after"), tu_num(r, "metrics.vma_headroom"));
	assert_string_equal(jm_json_str(r, "error.syscall", "?"), "executor mprotect");
	assert_string_equal(jm_json_str(r, "error.errno_name", "?"), "ENOMEM");
	assert_true(v >= limit - 16 && v <= limit + 1);
	assert_true(pid > 0);
	assert_non_null(strstr(jm_json_str(r, "error.cause", ""), "executor process"));
	assert_true(tu_num(r, "metrics.vma_headroom") == 0);
	assert_true(tu_num(r, "metrics.vmas_per_graph") > 2.9);
	/* in one process (the in-process mapper) the error is the process's own */
	json_object_put(o);
	o = tu_run_results((char *[]){"run", "-r", "1", "--warmup", "0", "-q", "-b", "shm-mapper:mode=inprocess-mapper",
				"-w", "max-map-count", NULL}, &rc, NULL, NULL);
	assert_non_null(o);
	r = tu_run_at(o, 0);
	assert_true(tu_num(r, "error.pid") == -1); /* absent */
	assert_non_null(strstr(jm_json_str(r, "error.cause", ""), "the process reached"));
	json_object_put(o);
}

/* vma_headroom: how many more graphs of this shape fit before the limit. */
static void test_vma_headroom(void **state)
{
	(void)state;
	long limit = jm_max_map_count();
	int rc;
	json_object *o = tu_run_results((char *[]){"run", "-r", "1", "--warmup", "0", "-q", "-b", "single-pool", "-w",
					     "page-pairs:graphs=300", NULL}, &rc, NULL, NULL);
	assert_non_null(o);
	json_object *r = tu_run_at(o, 0);
	double per = tu_num(r, "metrics.vmas_per_graph"), room = tu_num(r, "metrics.vma_headroom");
	double after = tu_num(r, "metrics.vmas_after");
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
			json_object *o = tu_run_results((char *[]){"run", "-r", "1", "--warmup", "0", "-q", "-b", (char *)name,
				"-w", "page-pairs:graphs=20", "--inject", (char *)spec, NULL}, &rc, NULL, NULL);
			assert_non_null(o);
			json_object *r = tu_run_at(o, 0);
			const char *st = jm_json_str(r, "status", "?");
			char path[96];
			snprintf(path, sizeof(path), "metrics.syscalls.%s.calls", sys);
			double calls = tu_num(r, path);
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
				assert_true(tu_num(r, path) == 1);
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
					       tu_num(r, "metrics.vmas_leaked"));
				else
					assert_true(tu_num(r, "metrics.vmas_leaked") == 0);
			}
			json_object_put(o);
		}
	}
}

/* A failed munmap leaves a mapping behind: it must fail the run (naming
 * munmap and the errno), never end in an ok run with a leaked VMA, and
 * never crash (striped freed its slab twice: issue 11). tvm-load-drop frees
 * and trims, so the failure lands in deallocate, trim or destroy
 * depending on the backend; @2 lets the first munmap succeed. */
static void test_munmap_failure_every_backend(void **state)
{
	(void)state;
	static const char *const specs[] = {"munmap:EINVAL@1", "munmap:EINVAL@2",
					    "munmap:ENOMEM@1"};
	int injected = 0, failed_cleanly = 0;
	for (size_t b = 0; b < jm_backend_count(); b++) {
		const char *name = jm_backends[b]->name;
		for (size_t k = 0; k < sizeof(specs) / sizeof(specs[0]); k++) {
			const char *spec = specs[k];
			char want[16];
			snprintf(want, sizeof(want), "%.*s", (int)strcspn(spec + 7, "@"), spec + 7);
			int rc;
			json_object *o = tu_run_results((char *[]){"run", "-r", "1", "--warmup", "0", "-q", "-b", (char *)name,
				"-w", "tvm-load-drop", "--inject", (char *)spec, NULL}, &rc, NULL, NULL);
			assert_non_null(o);
			json_object *r = tu_run_at(o, 0);
			const char *st = jm_json_str(r, "status", "?");
			printf("# %s --inject %s: %s %s %s\n", name, spec, st,
			       jm_json_str(r, "error.op", ""), jm_json_str(r, "error.message", ""));
			if (!strcmp(st, "ok")) {
				/* only a backend that never unmaps may end ok */
				assert_true(tu_num(r, "metrics.syscalls.munmap.calls") == 0);
				if (!TU_SANITIZED) /* ASan's allocator maps memory of its own */
					assert_true(tu_num(r, "metrics.vmas_leaked") == 0);
				printf("#   %s makes no munmap call %s here: nothing to inject\n",
				       name, strchr(spec, '@') + 1);
				json_object_put(o);
				continue;
			}
			injected++;
			assert_string_equal(st, "failed");
			assert_int_equal(rc, 1);
			assert_string_not_equal(jm_json_str(r, "error.op", "?"), "crash");
			assert_non_null(strstr(jm_json_str(r, "error.syscall", "?"), "munmap"));
			assert_string_equal(jm_json_str(r, "error.errno_name", "?"), want);
			/* the mapping it could not unmap is counted, not hidden */
			if (!TU_SANITIZED)
				assert_true(tu_num(r, "metrics.vmas_leaked") >= 1);
			failed_cleanly++;
			json_object_put(o);
		}
	}
	printf("# munmap failures: %d injected, %d failed cleanly\n", injected, failed_cleanly);
	assert_true(injected >= 20);
}

/* --inject N is a call count: 1 to 2^40, decimal; anything else is a usage
 * error before any run (issue 11: @-1 and @2^70 were accepted). */
static void test_inject_count_bounds(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"mmap:ENOMEM@-1", "mmap:ENOMEM@1180591620717411303424", "mmap:ENOMEM@0",
		"mmap:ENOMEM@1099511627777", "mmap:ENOMEM@+3", "mmap:ENOMEM@0x10",
		"mmap:ENOMEM@18446744073709551615", "mmap:ENOMEM@ 3",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *out = NULL, *err = NULL;
		int rc = tu_run_jitmm((char *[]){"run", "-r", "1", "--warmup", "0", "-q", "-b", "null", "-w",
			"page-pairs:graphs=2", "--inject", (char *)bad[i], NULL}, &out, &err);
		if (rc != 2 || !strstr(err, "--inject"))
			fail_msg("--inject %s: rc %d, stderr %s", bad[i], rc, err);
		free(out);
		free(err);
	}
	char *out = NULL, *err = NULL;
	assert_int_equal(tu_run_jitmm((char *[]){"run", "-r", "1", "--warmup", "0", "-q", "-b", "null", "-w",
		"page-pairs:graphs=2", "--inject", "mmap:ENOMEM@1099511627776", NULL}, &out, &err), 0);
	free(out);
	free(err);
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
	json_object *o = tu_run_results((char *[]){"run", "-r", "1", "--warmup", "0", "-q", "-b",
		"null:crash_after=5,null:hang_after=5,null:leak=on,single-pool",
		"-w", "page-pairs:graphs=50", "--timeout", "1", "--out", dir, NULL}, &rc, NULL, &err);
	assert_non_null(o);
	assert_int_equal(rc, 1);
	assert_int_equal(json_object_array_length(jm_json_path(o, "runs")), 4);
	json_object *crash = tu_run_at(o, 0), *hang = tu_run_at(o, 1), *leak = tu_run_at(o, 2),
		    *fine = tu_run_at(o, 3);
	assert_string_equal(jm_json_str(crash, "status", "?"), "failed");
	assert_string_equal(jm_json_str(crash, "error.op", "?"), "crash");
	/* ASan catches the SIGSEGV itself and exits 1: still a crash */
	if (!TU_SANITIZED)
		assert_true(tu_num(crash, "error.signal") == SIGSEGV);
	assert_string_equal(jm_json_str(hang, "status", "?"), "failed");
	assert_string_equal(jm_json_str(hang, "error.op", "?"), "timeout");
	assert_string_equal(jm_json_str(leak, "status", "?"), "ok");
	assert_true(tu_num(leak, "metrics.vmas_leaked") >= 1);
	assert_string_equal(jm_json_str(fine, "status", "?"), "ok");
	if (TU_SANITIZED)
		printf("# (leak check of the clean run not asserted under ASan: %.0f)\n",
		       tu_num(fine, "metrics.vmas_leaked"));
	else
		assert_true(tu_num(fine, "metrics.vmas_leaked") == 0);
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
	pid_t child = tu_first_child(parent);
	if (!child)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/syscall", (int)child);
	FILE *f = fopen(path, "r");
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
		execl(bin, bin, "run", "-q", "-r", "1", "--warmup", "0", "-b",
		      "single-pool,null:hang_after=3,inprocess",
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
	assert_string_equal(jm_json_str(tu_run_at(o, 0), "status", "?"), "ok");
	assert_string_equal(jm_json_str(tu_run_at(o, 1), "status", "?"), "interrupted");
	json_object *intr = jm_json_path(o, "config.interrupted");
	assert_true(intr && json_object_get_boolean(intr));
	json_object_put(o);
	snprintf(path, sizeof(path), "%s/report.md", dir);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(tu_rmtree(dir), 0);
}

/* ---- SIGKILL of the parent ---- */

/* 1 while p exists and is not a zombie */
static int alive(pid_t p)
{
	char path[64], buf[512];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)p);
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	const char *rp = strrchr(buf, ')');
	return rp && rp[1] == ' ' && rp[2] != 'Z' && rp[2] != 'X';
}

/* The BPF program ids process p holds descriptors to (its fdinfo). */
static int bpf_prog_ids(pid_t p, uint32_t *ids, int max)
{
	char dir[64], path[320], line[128];
	snprintf(dir, sizeof(dir), "/proc/%d/fdinfo", (int)p);
	DIR *d = opendir(dir);
	int n = 0;
	if (!d)
		return 0;
	for (struct dirent *e; (e = readdir(d)) && n < max;) {
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		FILE *f = fopen(path, "r");
		if (!f)
			continue;
		unsigned id;
		while (fgets(line, sizeof(line), f) && n < max)
			if (sscanf(line, "prog_id: %u", &id) == 1)
				ids[n++] = id;
		fclose(f);
	}
	closedir(d);
	return n;
}

static int bpf_prog_exists(uint32_t id)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.prog_id = id;
	int fd = (int)syscall(SYS_bpf, BPF_PROG_GET_FD_BY_ID, &a, sizeof(a));
	if (fd >= 0) {
		close(fd);
		return 1;
	}
	return errno != ENOENT;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
	nanosleep(&ts, NULL);
}

/* kill -9 of `jitmm run` mid-run: its measured child (and the child's
 * shm-mapper executor, if want_exec) must go too, holding no probe of the
 * parent's, and the parent's eBPF programs (when it used that probe) must
 * be unloaded (issue 11: the child sat paused forever, eBPF attached). */
static void kill_parent_mid_run(const char *backend, const char *workload, int want_exec)
{
	char probe[64];
	snprintf(probe, sizeof(probe), "/proc/%d/task/%d/children", (int)getpid(), (int)getpid());
	if (access(probe, R_OK) != 0)
		SKIP_BECAUSE("%s is missing (CONFIG_PROC_CHILDREN): cannot find the run's child", probe);
	const char *bin = tu_jitmm_bin();
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		setpgid(0, 0);
		int devnull = open("/dev/null", O_WRONLY);
		dup2(devnull, 1);
		dup2(devnull, 2);
		execl(bin, bin, "run", "-r", "1", "--warmup", "0", "-q", "-b", backend, "-w", workload, "--timeout", "0",
		      (char *)NULL);
		_exit(127);
	}
	setpgid(pid, pid);
	pid_t child = 0, exec = 0;
	for (int i = 0; i < 1000; i++) { /* up to 10 s */
		child = tu_first_child(pid);
		exec = child ? tu_first_child(child) : 0;
		if (child && (!want_exec || exec) && (want_exec || paused_child(pid)))
			break;
		sleep_ms(10);
	}
	if (!child || (want_exec && !exec)) {
		kill(-pid, SIGKILL);
		waitpid(pid, NULL, 0);
		fail_msg("the run's child%s never started", want_exec ? " or its executor" : "");
	}
	uint32_t ids[64], held[8];
	int nids = bpf_prog_ids(pid, ids, 64);
	int nheld = bpf_prog_ids(child, held, 8);
	kill(pid, SIGKILL); /* the parent alone, as `kill -9 PID` */
	waitpid(pid, NULL, 0);
	int gone = 0;
	for (int i = 0; i < 500 && !gone; i++) { /* up to 5 s */
		gone = !alive(child) && (!exec || !alive(exec));
		if (!gone)
			sleep_ms(10);
	}
	if (!gone) { /* do not leave them behind either way */
		kill(child, SIGKILL);
		if (exec)
			kill(exec, SIGKILL);
		fail_msg("%s: child %d%s still running after the parent was killed", backend,
			 (int)child, exec && alive(exec) ? " and its executor" : "");
	}
	assert_int_equal(nheld, 0);
	int left = nids;
	for (int i = 0; i < 500 && left; i++) {
		left = 0;
		for (int k = 0; k < nids; k++)
			left += bpf_prog_exists(ids[k]);
		if (left)
			sleep_ms(10);
	}
	printf("# %s: child %d%s gone after kill -9 of jitmm %d; %d BPF programs of the "
	       "parent, %d left\n", backend, (int)child, exec ? " and executor" : "", (int)pid,
	       nids, left);
	assert_int_equal(left, 0);
}

static void test_sigkill_parent_paused_child(void **state)
{
	(void)state;
	kill_parent_mid_run("null:hang_after=3", "page-pairs:graphs=20", 0);
}

static void test_sigkill_parent_shm_executor(void **state)
{
	(void)state;
	kill_parent_mid_run("shm-mapper", "tvm-load-drop:graphs=100000000,cycles=1000000", 1);
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
		cmocka_unit_test(test_max_map_count_in_executor),
		cmocka_unit_test(test_vma_headroom),
		cmocka_unit_test(test_injected_failures_every_backend),
		cmocka_unit_test(test_munmap_failure_every_backend),
		cmocka_unit_test(test_inject_count_bounds),
		cmocka_unit_test(test_crash_hang_leak_isolated),
		cmocka_unit_test(test_sigkill_parent_paused_child),
		cmocka_unit_test(test_sigkill_parent_shm_executor),
		cmocka_unit_test(test_sigint_to_group),
		cmocka_unit_test(test_sigterm_to_jitmm),
	};
	return cmocka_run_group_tests_name("failures", tests, NULL, NULL);
}
