/* The real LLVM memory managers behind the llvm-* backends (the LLVM plugin,
 * llvm/): their memory syscalls counted as a model's, the models validated
 * against them (jitmm validate), plugins that are missing or not plugins
 * failing one run each, two plugins kept apart in one matrix, and the
 * parent never loading libLLVM. (The conformance suite,
 * test_backend_invariants, exercises every llvm-* backend as it does the
 * models.) Skipped, with the reason, where the plugin is not built. */
#include "testutil.h"

#include <errno.h>
#include <json-c/json.h>
#include <limits.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>

#include "../allocators/llvm_plugin.h"
#include "../allocators/os.h"
#include "../linker/contents.h"
#include "../reports/results.h"
#include "../reports/validate.h"

#define SKIP_WITHOUT_PLUGIN()                                                   \
	do {                                                                    \
		char why_[600];                                                 \
		if (jm_backend_available(jm_backend_find("llvm-mapper"), "", why_, \
					 sizeof(why_)) < 0)                     \
			SKIP_BECAUSE("the LLVM plugin is not here: %s", why_);  \
	} while (0)

/* jitmm with args and "--json PATH": the results, the exit code in *rc */
static struct jm_os_counters since(const struct jm_os_counters *a)
{
	struct jm_os_counters b, d;
	jm_os_snapshot(&b);
	jm_os_diff(a, &b, &d);
	return d;
}

/* LLVM's own mmap/mprotect/munmap go through the os layer: one graph
 * through the real InProcessMemoryManager costs what its model costs. */
static void test_llvm_syscalls_counted(void **state)
{
	(void)state;
	SKIP_WITHOUT_PLUGIN();
	const struct jm_backend_ops *ops = jm_backend_find("llvm-inprocess");
	char err[600];
	assert_int_equal(tu_backend_prepare(ops, "", err, sizeof(err)), 1);
	struct jm_backend b;
	assert_int_equal(jm_backend_open(ops, "", &b, err, sizeof(err)), 0);
	struct jm_graph_req r = {.id = 1, .nseg = 3};
	r.seg[0] = (struct jm_segment_req){JM_RO, JM_STANDARD, 700, 0, 8};
	r.seg[1] = (struct jm_segment_req){JM_RW, JM_STANDARD, 500, 100, 8};
	r.seg[2] = (struct jm_segment_req){JM_RX, JM_STANDARD, 3000, 0, 16};
	struct jm_os_counters t0, d;
	struct jm_alloc a;
	jm_os_snapshot(&t0);
	assert_int_equal(ops->allocate(&b, &r, &a), 0);
	d = since(&t0);
	assert_int_equal(d.sys[JM_SYS_MMAP].calls, 1); /* one slab */
	assert_int_equal(d.sys[JM_SYS_MMAP].bytes, 3 * 4096);
	jm_contents_write(&a);
	jm_os_snapshot(&t0);
	assert_int_equal(ops->finalize(&b, &a), 0);
	d = since(&t0);
	assert_int_equal(d.sys[JM_SYS_MPROTECT].calls, 3); /* one per segment */
	if (jm_contents_check(&a, 1, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	jm_os_snapshot(&t0);
	assert_int_equal(ops->deallocate(&b, &a), 0);
	d = since(&t0);
	assert_int_equal(d.sys[JM_SYS_MUNMAP].calls, 1);
	struct jm_backend_stats st = {0};
	ops->stats(&b, &st);
	assert_int_equal(st.va_reserved, 0);
	assert_int_equal(st.va_reserved_peak, 3 * 4096);
	assert_int_equal(st.reservations, 1);
	/* an injected failure reaches LLVM, which reports it */
	jm_os_inject(JM_SYS_MMAP, ENOMEM, 1);
	assert_int_equal(ops->allocate(&b, &r, &a), -1);
	assert_string_equal(b.err_sys, "mmap");
	assert_int_equal(b.err_errno, ENOMEM);
	printf("# injected: %s\n", b.err);
	jm_backend_close(&b);
}

static uint64_t extra_of(const struct jm_backend_stats *st, const char *name)
{
	for (int i = 0; i < st->nextra; i++)
		if (!strcmp(st->extra[i].name, name))
			return st->extra[i].value;
	return 0;
}

/* What one step cost and where the next graph went: a graph with a
 * finalize-lifetime segment freed before finalize (abandon), then the
 * same graph again. */
struct abandon_cost {
	uint64_t calls[3]; /* mmap, mprotect, munmap of the abandon (both processes) */
	int reused;        /* the next graph at the abandoned one's address */
};

static struct abandon_cost abandon_cost(const char *name, const char *opts)
{
	const struct jm_backend_ops *ops = jm_backend_find(name);
	char err[600];
	assert_int_equal(tu_backend_prepare(ops, opts, err, sizeof(err)), 1);
	struct jm_backend b;
	if (jm_backend_open(ops, opts, &b, err, sizeof(err)) < 0)
		fail_msg("%s: %s", name, err);
	struct jm_graph_req r = {.id = 1, .nseg = 3};
	r.seg[0] = (struct jm_segment_req){JM_RW, JM_STANDARD, 500, 0, 8};
	r.seg[1] = (struct jm_segment_req){JM_RX, JM_STANDARD, 3000, 0, 16};
	r.seg[2] = (struct jm_segment_req){JM_RW, JM_FINALIZE, 200, 0, 8};
	struct jm_alloc a, a2;
	assert_int_equal(ops->allocate(&b, &r, &a), 0);
	void *first = a.seg[1].exec;
	static const char *const executor[3] = {"executor_mmap_calls",
						"executor_mprotect_calls",
						"executor_munmap_calls"};
	struct jm_backend_stats st0 = {0}, st1 = {0};
	struct jm_os_counters t0, d;
	ops->stats(&b, &st0);
	jm_os_snapshot(&t0);
	assert_int_equal(ops->deallocate(&b, &a), 0);
	d = since(&t0);
	ops->stats(&b, &st1);
	struct abandon_cost c = {{d.sys[JM_SYS_MMAP].calls, d.sys[JM_SYS_MPROTECT].calls,
				  d.sys[JM_SYS_MUNMAP].calls}, 0};
	/* an executor's calls count too */
	for (int k = 0; k < 3; k++)
		c.calls[k] += extra_of(&st1, executor[k]) - extra_of(&st0, executor[k]);
	r.id = 2;
	assert_int_equal(ops->allocate(&b, &r, &a2), 0);
	c.reused = a2.seg[1].exec == first;
	assert_int_equal(ops->deallocate(&b, &a2), 0);
	jm_backend_close(&b);
	printf("# %s %s: abandon mmap %llu mprotect %llu munmap %llu, next graph %s\n",
	       name, opts, (unsigned long long)c.calls[0], (unsigned long long)c.calls[1],
	       (unsigned long long)c.calls[2], c.reused ? "reuses the range" : "elsewhere");
	return c;
}

/* Abandon is not in validate's workloads: each model's abandon (the
 * llvm= release of the plugin's LLVM) against the real class's. */
static void test_abandon_as_model(void **state)
{
	(void)state;
	SKIP_WITHOUT_PLUGIN();
	static const char *const pairs[][4] = {
		{"inprocess", "", "llvm-inprocess", ""},
		{"single-pool", "granularity=1G", "llvm-mapper", ""},
		{"shm-mapper", "granularity=1G", "llvm-shm", ""},
		{"section-mm", "", "llvm-section", ""},
	};
	char path[PATH_MAX], version[64], err[600];
	jm_llvm_plugin_default_path(path, sizeof(path));
	assert_int_equal(jm_llvm_plugin_check(path, version, sizeof(version), err, sizeof(err)), 0);
	if (atoi(version) != 22)
		SKIP_BECAUSE("the plugin's LLVM is %s; the pairs here are LLVM 22's", version);
	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		struct abandon_cost m = abandon_cost(pairs[i][0], pairs[i][1]);
		struct abandon_cost r = abandon_cost(pairs[i][2], pairs[i][3]);
		for (int k = 0; k < 3; k++)
			assert_int_equal(m.calls[k], r.calls[k]);
		assert_int_equal(m.reused, r.reused);
	}
}

/* The shared-memory executor is a real process whose own os layer counts
 * its LLVM calls, as shm-mapper's executor does. */
static void test_llvm_shm_executor_counted(void **state)
{
	(void)state;
	SKIP_WITHOUT_PLUGIN();
	const struct jm_backend_ops *ops = jm_backend_find("llvm-shm");
	char err[600];
	assert_int_equal(tu_backend_prepare(ops, "granularity=64K", err, sizeof(err)), 1);
	struct jm_backend b;
	assert_int_equal(jm_backend_open(ops, "granularity=64K", &b, err, sizeof(err)), 0);
	pid_t pid = ops->exec_pid(&b);
	assert_true(pid > 0 && pid != getpid());
	struct jm_graph_req r = {.id = 1, .nseg = 2};
	r.seg[0] = (struct jm_segment_req){JM_RW, JM_STANDARD, 100, 0, 8};
	r.seg[1] = (struct jm_segment_req){JM_RX, JM_STANDARD, 100, 0, 16};
	struct jm_alloc a;
	assert_int_equal(ops->allocate(&b, &r, &a), 0);
	jm_contents_write(&a);
	assert_int_equal(ops->finalize(&b, &a), 0);
	/* read and called in the executor: its r-x page, as it maps it */
	if (jm_contents_check_backend(&b, &a, 1, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	char why[256];
	if (tu_check_prot_pid(pid, a.seg[1].exec, 100, "r-x", why, sizeof(why)) < 0)
		fail_msg("executor's code page: %s", why);
	struct jm_backend_stats st = {0};
	ops->stats(&b, &st);
	uint64_t mmaps = 0, mprotects = 0, ftruncates = 0;
	for (int i = 0; i < st.nextra; i++) {
		if (!strcmp(st.extra[i].name, "executor_mmap_calls"))
			mmaps = st.extra[i].value;
		if (!strcmp(st.extra[i].name, "executor_mprotect_calls"))
			mprotects = st.extra[i].value;
		if (!strcmp(st.extra[i].name, "executor_ftruncate_calls"))
			ftruncates = st.extra[i].value;
	}
	/* ExecutorSharedMemoryMapperService: reserve = shm_open + ftruncate +
	 * mmap(PROT_NONE); initialize = one mprotect per segment */
	assert_int_equal(mmaps, 1);
	assert_int_equal(ftruncates, 1);
	assert_int_equal(mprotects, 2);
	/* the reservation, then RW | RX | the rest: three more (under ASan
	 * its allocator maps memory in the executor too, for LLVM's mallocs) */
	if (TU_SANITIZED)
		printf("# ASan: executor VMAs added %llu, not asserted\n",
		       (unsigned long long)st.vmas_other_processes);
	else
		assert_int_equal(st.vmas_other_processes, 3);
	assert_int_equal(ops->deallocate(&b, &a), 0);
	jm_backend_close(&b);
	assert_true(kill(pid, 0) < 0 && errno == ESRCH); /* exited and reaped */
}

/* The acceptance test of jitmm validate: every pair within tolerance on
 * llvm-500, a churn workload and the shipped sqlite3 trace. */
static void test_validate_within_tolerance(void **state)
{
	(void)state;
	SKIP_WITHOUT_PLUGIN();
	if (TU_SANITIZED)
		SKIP_BECAUSE("built with ASan, whose allocator maps and faults memory of its "
			     "own in every measured child: the comparison would be ASan's");
	if (access("workloads/traces/sqlite3.jmt", R_OK) < 0)
		SKIP_BECAUSE("workloads/traces/sqlite3.jmt: %s (run from the tree)",
			     strerror(errno));
	char *out = NULL, *err = NULL;
	int rc;
	json_object *o = tu_run_results((char *[]){"validate", "-q", "-w",
		"llvm-500,churn:graphs=2000,trace:workloads/traces/sqlite3.jmt", NULL},
		&rc, &out, &err);
	if (rc != 0)
		fail_msg("validate exited %d:\n%s\n%s", rc, out, err);
	/* 4 pairs x 3 workloads x 8 metrics */
	assert_non_null(strstr(out, "96 of 96 comparisons within tolerance"));
	assert_non_null(strstr(out, "### mapper: real `llvm-mapper` (LLVM "));
	assert_null(strstr(out, "| **"));
	/* the runs are written too, each real one naming its LLVM */
	assert_non_null(o);
	size_t n = json_object_array_length(jm_json_path(o, "runs"));
	assert_int_equal(n, 8 * 3);
	for (size_t i = 0; i < n; i++) {
		json_object *r = tu_run_at(o, i);
		if (!strncmp(jm_json_str(r, "backend", ""), "llvm-", 5))
			assert_non_null(jm_json_path(r, "backend_info.llvm_version"));
	}
	printf("%s", strstr(out, "### inprocess"));
	json_object_put(o);
	free(out);
	free(err);
}

/* The table from results alone: an error beyond tolerance is bold and
 * counted; a workload without a model run is counted missing. */
static json_object *fake_run(const char *backend, const char *ws, double vmas, double faults)
{
	json_object *r = json_object_new_object();
	json_object_object_add(r, "backend", json_object_new_string(backend));
	json_object_object_add(r, "backend_options", json_object_new_object());
	json_object_object_add(r, "workload", json_object_new_string(ws));
	json_object_object_add(r, "workload_spec", json_object_new_string(ws));
	json_object_object_add(r, "status", json_object_new_string("ok"));
	json_object *m = json_object_new_object();
	json_object_object_add(m, "vmas_added", json_object_new_double(vmas));
	json_object_object_add(m, "vmas_peak", json_object_new_double(vmas + 50));
	json_object_object_add(m, "vmas_before", json_object_new_double(50));
	json_object_object_add(m, "page_faults_minor", json_object_new_double(faults));
	json_object_object_add(r, "metrics", m);
	return r;
}

static void test_validate_table(void **state)
{
	(void)state;
	json_object *root = jm_results_new(json_object_new_object(), json_object_new_object());
	jm_results_add_run(root, fake_run("llvm-inprocess", "w1", 1000, 2000));
	jm_results_add_run(root, fake_run("inprocess", "w1", 1020, 2000)); /* +2.0% */
	jm_results_add_run(root, fake_run("llvm-inprocess", "w2", 100, 1000));
	jm_results_add_run(root, fake_run("inprocess", "w2", 100, 1060));  /* +6.0% */
	jm_results_add_run(root, fake_run("llvm-inprocess", "w3", 10, 40));
	jm_results_add_run(root, fake_run("inprocess", "w3", 10, 46)); /* 6 pages */
	jm_results_add_run(root, fake_run("llvm-inprocess", "w4", 10, 40));
	const struct jm_validate_pair p = {"inprocess", "inprocess", "llvm-inprocess"};
	struct jm_validate_opts o = {.tol_count = 1, .tol_measured = 5, .floor_pages = 8,
				     .page_size = 4096};
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct jm_validate_result res;
	jm_validate_print(root, &p, 1, &o, f, &res);
	fclose(f);
	printf("%s", buf);
	assert_int_equal(res.cells, 3 * 8);
	assert_int_equal(res.over, 3); /* w1: VMAs added and peak; w2: faults */
	assert_int_equal(res.missing, 1);
	assert_non_null(strstr(buf, "**1000 / 1020 (+2.0%)**"));
	assert_non_null(strstr(buf, "**1000 / 1060 (+6.0%)**"));
	assert_non_null(strstr(buf, "| 40 / 46 (+15.0%) |")); /* under 8 pages */
	assert_non_null(strstr(buf, "| w4 | model failed |"));
	free(buf);
	json_object_put(root);
}

/* A plugin path that does not exist and a file that is not a plugin each
 * fail their own run, saying why; the runs around them are intact. */
static void test_bad_plugins_fail_one_run(void **state)
{
	(void)state;
	char text[] = "/tmp/jitmm-not-a-plugin-XXXXXX", spec[1200];
	int fd = mkstemp(text);
	assert_true(write(fd, "not an ELF file\n", 16) == 16);
	close(fd);
	/* an ELF shared object that is not a plugin: jitmm itself (PIE) */
	snprintf(spec, sizeof(spec), "inprocess,llvm-mapper:plugin=/nonexistent/jitmm-llvm.so,"
		 "llvm-mapper:plugin=%s,llvm-section:plugin=%s,single-pool", text,
		 tu_jitmm_bin());
	char *out = NULL, *err = NULL;
	int rc;
	json_object *o = tu_run_results((char *[]){"run", "-r", "1", "--warmup", "0", "-b", spec, "-w", "llvm-500:graphs=20",
					     NULL}, &rc, &out, &err);
	assert_int_equal(rc, 1);
	assert_non_null(o);
	char not_elf[200], not_plugin[200];
	snprintf(not_elf, sizeof(not_elf), "%s: not a jitmm plugin (not an ELF file)", text);
	snprintf(not_plugin, sizeof(not_plugin), "%s: not a jitmm plugin (no jitmm_llvm_plugin)",
		 tu_jitmm_bin());
	const char *want[] = {
		NULL, "/nonexistent/jitmm-llvm.so: No such file or directory", not_elf,
		not_plugin, NULL,
	};
	for (size_t i = 0; i < 5; i++) {
		json_object *r = tu_run_at(o, i);
		const char *st = jm_json_str(r, "status", "?");
		if (!want[i]) {
			assert_string_equal(st, "ok");
			assert_true(tu_num(r, "metrics.graphs") == 20);
			continue;
		}
		assert_string_equal(st, "failed");
		assert_string_equal(jm_json_str(r, "error.op", "?"), "create");
		assert_non_null(strstr(jm_json_str(r, "error.message", ""), want[i]));
		assert_non_null(strstr(err, want[i])); /* said on stderr too */
	}
	json_object_put(o);
	free(out);
	free(err);
	unlink(text);
	/* validate refuses up front, with the reason */
	char *args[] = {"validate", "-q", "--pair", "mapper", "--plugin",
			"/nonexistent/jitmm-llvm.so", NULL};
	rc = tu_run_jitmm(args, &out, &err);
	assert_int_equal(rc, 1);
	assert_non_null(strstr(err, "the real side cannot run here"));
	free(out);
	free(err);
}

/* Two plugins in one matrix (two copies stand for an upstream and a
 * patched build): each run loads its own, results say which, and labels
 * keep them apart in the names reports use. */
static void test_two_plugins_with_labels(void **state)
{
	(void)state;
	SKIP_WITHOUT_PLUGIN();
	char dir[] = "/tmp/jitmm-plugins-XXXXXX", src[600], cmd[2000];
	assert_non_null(mkdtemp(dir));
	jm_llvm_plugin_default_path(src, sizeof(src));
	snprintf(cmd, sizeof(cmd), "mkdir %s/up %s/pa && cp '%s' %s/up/ && cp '%s' %s/pa/", dir,
		 dir, src, dir, src, dir);
	assert_int_equal(system(cmd), 0);
	char spec[1600], a[700], b[700];
	snprintf(a, sizeof(a), "%s/up/jitmm-llvm.so", dir);
	snprintf(b, sizeof(b), "%s/pa/jitmm-llvm.so", dir);
	snprintf(spec, sizeof(spec), "llvm-mapper:plugin=%s,label=upstream,"
		 "llvm-mapper:plugin=%s,label=patched", a, b);
	char *out = NULL, *err = NULL, resfile[700];
	snprintf(resfile, sizeof(resfile), "%s/r.json", dir);
	int rc = tu_run_jitmm((char *[]){"run", "-r", "1", "--warmup", "0", "-q", "-b", spec, "-w", "llvm-500:graphs=50",
					 "--json", resfile, NULL}, &out, &err);
	if (rc != 0)
		fail_msg("rc %d: %s", rc, err);
	assert_non_null(strstr(out, " LLVM ")); /* the context line names it */
	assert_non_null(strstr(out, "| llvm-mapper[upstream] | ok |"));
	assert_non_null(strstr(out, "| llvm-mapper[patched] | ok |"));
	char e[300];
	json_object *o = jm_results_load(resfile, e, sizeof(e));
	assert_non_null(o);
	assert_string_equal(jm_json_str(tu_run_at(o, 0), "backend_info.llvm_plugin", ""), a);
	assert_string_equal(jm_json_str(tu_run_at(o, 1), "backend_info.llvm_plugin", ""), b);
	json_object *cfg = json_object_array_get_idx(jm_json_path(o, "config.backends"), 1);
	assert_true(json_object_get_boolean(jm_json_path(cfg, "available")));
	assert_non_null(strstr(jm_json_str(cfg, "note", ""), b));
	json_object_put(o);
	free(out);
	free(err);
	/* export: one series each */
	rc = tu_run_jitmm((char *[]){"export", "--format", "bmf", resfile, NULL}, &out, &err);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(out, "\"llvm-500:graphs=50/llvm-mapper[upstream]\""));
	assert_non_null(strstr(out, "\"llvm-500:graphs=50/llvm-mapper[patched]\""));
	free(out);
	free(err);
	/* justify: the labels name the columns */
	char bs[800], cs[800];
	snprintf(bs, sizeof(bs), "llvm-mapper:plugin=%s,label=upstream", a);
	snprintf(cs, sizeof(cs), "llvm-mapper:plugin=%s,label=patched", b);
	rc = tu_run_jitmm((char *[]){"justify", "-q", "--baseline", bs, "--candidate", cs,
				     "-w", "llvm-500:graphs=50", "-r", "1", "--warmup", "0", NULL},
			 &out, &err);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(out, "Baseline `llvm-mapper[upstream]`, candidate "
				    "`llvm-mapper[patched]`."));
	assert_non_null(strstr(out, "Candidate `llvm-mapper[patched]` ran LLVM "));
	free(out);
	free(err);
	tu_rmtree(dir);
}

static int maps_have(pid_t pid, const char *what)
{
	char path[64], line[512];
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	FILE *f = fopen(path, "r");
	int found = 0;
	while (f && fgets(line, sizeof(line), f))
		found |= strstr(line, what) != NULL;
	if (f)
		fclose(f);
	return found;
}

/* While an llvm-* run is measured, its child has libLLVM mapped and the
 * jitmm parent has not. */
static void test_parent_never_loads_llvm(void **state)
{
	(void)state;
	SKIP_WITHOUT_PLUGIN();
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		dup2(null, 1);
		dup2(null, 2);
		execl(tu_jitmm_bin(), tu_jitmm_bin(), "run", "-q", "--probe", "procfs", "-b",
		      "llvm-mapper", "-w", "churn:graphs=1000000", (char *)NULL);
		_exit(127);
	}
	int seen_child = 0;
	for (int i = 0; i < 2000 && !seen_child; i++) {
		pid_t c = tu_first_child(pid);
		if (c > 0 && maps_have(c, "libLLVM")) {
			seen_child = 1;
			assert_false(maps_have(pid, "libLLVM"));
			assert_false(maps_have(pid, "jitmm-llvm"));
		}
		struct timespec ts = {0, 5 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	kill(pid, SIGINT);
	int status;
	waitpid(pid, &status, 0);
	assert_true(seen_child);
}

/* jitmm list backends reads the plugin's file to say what it is, or why
 * an llvm-* backend cannot run. */
static void test_list_says_why(void **state)
{
	(void)state;
	SKIP_WITHOUT_PLUGIN();
	char *out = NULL, *err = NULL;
	assert_int_equal(tu_run_jitmm((char *[]){"list", "backends", NULL}, &out, &err), 0);
	assert_non_null(strstr(out, "available: plugin "));
	assert_non_null(strstr(out, "(LLVM "));
	free(out);
	free(err);
	const char *keep = getenv("JITMM_LLVM_PLUGIN");
	char saved[4096];
	snprintf(saved, sizeof(saved), "%s", keep ? keep : "");
	setenv("JITMM_LLVM_PLUGIN", "/nonexistent/jitmm-llvm.so", 1);
	assert_int_equal(tu_run_jitmm((char *[]){"list", "backends", NULL}, &out, &err), 0);
	assert_non_null(strstr(out, "unavailable: LLVM plugin /nonexistent/jitmm-llvm.so: "
				    "No such file or directory"));
	free(out);
	free(err);
	if (keep)
		setenv("JITMM_LLVM_PLUGIN", saved, 1);
	else
		unsetenv("JITMM_LLVM_PLUGIN");
}

/* validate's usage errors: one line, exit 2, before any run */
static void test_validate_usage(void **state)
{
	(void)state;
	static const struct {
		char *args[8];
		const char *says;
	} bad[] = {
		{{"validate", "--pair", "mapper,nosuch", NULL}, "'nosuch' is not inprocess"},
		{{"validate", "--tolerance", "-1", NULL}, "--tolerance: '-1' is not a percentage"},
		{{"validate", "--tolerance-measured", "x", NULL}, "is not a percentage"},
		{{"validate", "--granularity", "zz", NULL}, "--granularity: 'zz' is not a size"},
		{{"validate", "--granularity", "1000", NULL}, "granularity"},
		{{"validate", "-w", "nosuch", NULL}, "unknown workload 'nosuch'"},
		{{"validate", "-r", "0", NULL}, "--repeat"},
		{{"validate", "--bogus", NULL}, "jitmm validate --help"},
		{{"validate", "extra", NULL}, "unexpected argument 'extra'"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *out = NULL, *err = NULL;
		int rc = tu_run_jitmm(bad[i].args, &out, &err);
		if (rc != 2 || !strstr(err, bad[i].says))
			fail_msg("%s %s: rc %d, stderr: %s", bad[i].args[1],
				 bad[i].args[2] ? bad[i].args[2] : "", rc, err);
		assert_int_equal(strlen(out), 0);
		free(out);
		free(err);
	}
	char *out = NULL;
	assert_int_equal(tu_run_jitmm((char *[]){"validate", "--help", NULL}, &out, NULL), 0);
	assert_non_null(strstr(out, "examples:"));
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_llvm_syscalls_counted),
		cmocka_unit_test(test_llvm_shm_executor_counted),
		cmocka_unit_test(test_abandon_as_model),
		cmocka_unit_test(test_validate_within_tolerance),
		cmocka_unit_test(test_validate_table),
		cmocka_unit_test(test_validate_usage),
		cmocka_unit_test(test_bad_plugins_fail_one_run),
		cmocka_unit_test(test_two_plugins_with_labels),
		cmocka_unit_test(test_parent_never_loads_llvm),
		cmocka_unit_test(test_list_says_why),
	};
	return cmocka_run_group_tests_name("real LLVM memory managers", tests, NULL, NULL);
}
