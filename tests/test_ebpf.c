/* The ebpf probe against ground truth taken in the same run: the os
 * layer's own syscall counts, /proc/PID/maps, getrusage, a VMA count the
 * measured process computes itself, and perf's syscall tracepoint. Also:
 * the event stream loses nothing at 1,000,000 records, and an unprivileged
 * `--probe auto` falls back to procfs with the reason in the JSON.
 * Everything that needs BPF skips (with the reason) where it cannot load. */
#include "testutil.h"

#include <json-c/json.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "../probes/ebpf.h"
#include "../probes/probe.h"
#include "../probes/procfs_sample.h"

/* ---- helpers ---- */

/* Open the ebpf probe or skip the test with the reason. */
#define OPEN_EBPF_OR_SKIP(p)                                                   \
	do {                                                                   \
		char why_[256], err_[300];                                     \
		if (jm_probe_select("ebpf", (p), why_, sizeof(why_), err_,     \
				    sizeof(err_)) < 0)                         \
			SKIP_BECAUSE("%s", err_);                              \
	} while (0)

static int ebpf_usable(char *why, size_t len)
{
	struct jm_probe p;
	char w[256];
	if (jm_probe_select("ebpf", &p, w, sizeof(w), why, len) < 0)
		return 0;
	p.ops->close(&p);
	return 1;
}

static json_object *load_json(const char *path)
{
	json_object *o = json_object_from_file(path);
	assert_non_null(o);
	return o;
}

static json_object *get(json_object *o, const char *dotted)
{
	char buf[256];
	snprintf(buf, sizeof(buf), "%s", dotted);
	for (char *tok = strtok(buf, "."); tok; tok = strtok(NULL, ".")) {
		json_object *n;
		if (!o || !json_object_object_get_ex(o, tok, &n))
			return NULL;
		o = n;
	}
	return o;
}

static int64_t get_i(json_object *o, const char *dotted)
{
	json_object *v = get(o, dotted);
	if (!v)
		fail_msg("missing %s", dotted);
	return json_object_get_int64(v);
}

/* A child the test drives through the probe protocol: it stops at each
 * step, writing one byte and waiting for one byte. */
struct kid {
	pid_t pid;
	int to_parent, from_parent; /* parent's ends */
};

static void kid_sync(int out, int in)
{
	char c = 's';
	if (write(out, &c, 1) != 1 || read(in, &c, 1) != 1)
		_exit(3);
}

static void kid_start(struct kid *k, void (*body)(int out, int in, void *), void *arg)
{
	int a[2], b[2];
	assert_int_equal(pipe(a), 0);
	assert_int_equal(pipe(b), 0);
	fflush(NULL);
	k->pid = fork();
	assert_true(k->pid >= 0);
	if (k->pid == 0) {
		close(a[0]);
		close(b[1]);
		body(a[1], b[0], arg);
		_exit(0);
	}
	close(a[1]);
	close(b[0]);
	k->to_parent = a[0];
	k->from_parent = b[1];
}

/* wait for the child's next stop; 0 if it stopped, -1 if it ended */
static int kid_wait(struct kid *k)
{
	char c;
	return read(k->to_parent, &c, 1) == 1 ? 0 : -1;
}

static void kid_go(struct kid *k)
{
	char c = 'g';
	assert_int_equal(write(k->from_parent, &c, 1), 1);
}

static void kid_reap(struct kid *k, void *result, size_t len)
{
	if (result)
		assert_int_equal(read(k->to_parent, result, len), (ssize_t)len);
	int st;
	waitpid(k->pid, &st, 0);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	close(k->to_parent);
	close(k->from_parent);
}

/* Drive a child through ready / begin / end with the probe snapshotting
 * at each stop, then read the probe. */
static void drive(struct jm_probe *p, struct kid *k, struct jm_probe_result *r,
		  void *result, size_t len)
{
	assert_int_equal(kid_wait(k), 0); /* ready */
	assert_int_equal(p->ops->attach(p, k->pid), 0);
	kid_go(k);
	assert_int_equal(kid_wait(k), 0); /* window begin */
	p->ops->window_begin(p);
	kid_go(k);
	assert_int_equal(kid_wait(k), 0); /* window end */
	p->ops->window_end(p);
	kid_go(k);
	kid_reap(k, result, len);
	assert_int_equal(p->ops->read(p, r), 0);
	p->ops->detach(p);
}

/* ---- 1. syscall counts and VMAs equal the os layer's, every backend ---- */

/* Under ASan the sanitizer's own allocator mmaps, munmaps and madvises
 * behind the os layer's back (the kernel rightly counts those too): for
 * these syscalls the kernel's count may only be higher. */
static int sanitizer_maps(const char *sys)
{
#ifdef __SANITIZE_ADDRESS__
	return !strcmp(sys, "mmap") || !strcmp(sys, "munmap") || !strcmp(sys, "madvise");
#else
	(void)sys;
	return 0;
#endif
}

static void check_runs_match(json_object *root, int *nruns)
{
	json_object *runs = get(root, "runs");
	assert_non_null(runs);
	assert_string_equal(json_object_get_string(get(root, "config.probe_used")), "ebpf");
	for (size_t i = 0; i < json_object_array_length(runs); i++) {
		json_object *run = json_object_array_get_idx(runs, i);
		const char *backend = json_object_get_string(get(run, "backend"));
		json_object *mt = get(run, "metrics");
		json_object *os = get(mt, "syscalls"), *pr = get(mt, "probe.syscalls");
		if (!pr)
			fail_msg("%s: no probe syscalls (%s)", backend,
				 json_object_get_string(get(mt, "probe_error")));
		if (get(mt, "probe.processes")) {
			/* it forked an executor: the os layer counts the measured
			 * process; the executor's own os layer, if the backend
			 * reports it (metrics.backend.executor_NAME_calls), must
			 * equal the kernel's count for the other processes */
			json_object *all = pr;
			pr = get(mt, "probe.syscalls_measured_process");
			assert_non_null(pr);
			json_object_object_foreach(all, sname, acnt) {
				char key[96];
				snprintf(key, sizeof(key), "backend.executor_%s_calls", sname);
				json_object *ex = get(mt, key);
				if (!ex)
					continue;
				int64_t others = get_i(acnt, "calls") -
						 get_i(get(pr, sname), "calls");
				/* ASan maps for an executor's mallocs (llvm-shm's) */
				if (sanitizer_maps(sname) && others >= json_object_get_int64(ex))
					continue;
				if (others != json_object_get_int64(ex))
					fail_msg("%s executor %s: its os layer %lld, ebpf %lld",
						 backend, sname,
						 (long long)json_object_get_int64(ex),
						 (long long)others);
			}
		}
		json_object_object_foreach(os, name, cnt) {
			json_object *pc = get(pr, name);
			assert_non_null(pc);
			static const char *const f[] = {"calls", "errors", "bytes"};
			for (int k = 0; k < 3; k++) {
				int64_t want = get_i(cnt, f[k]), got = get_i(pc, f[k]);
				if (sanitizer_maps(name) && got >= want)
					continue;
				if (want != got)
					fail_msg("%s %s %s: os layer %lld, ebpf %lld", backend,
						 name, f[k], (long long)want, (long long)got);
			}
			json_object_object_foreach(get(cnt, "errnos"), en, ev) {
				char key[64];
				snprintf(key, sizeof(key), "errnos.%s", en);
				assert_int_equal(json_object_get_int64(ev), get_i(pc, key));
			}
		}
		/* vmas_after: /proc/PID/maps lines minus [vsyscall], in the child */
		assert_int_equal(get_i(mt, "vmas_after"), get_i(mt, "probe.vmas_after"));
		assert_true(get_i(mt, "probe.vmas_peak") >= get_i(mt, "vmas_after"));
		/* faults are compared exactly in test_faults_equal_getrusage,
		 * where the child's getrusage brackets the same instructions;
		 * here the child's own readings sit a few calls inside the
		 * probe's window (a few faults apart under ASan) */
		assert_true(get_i(mt, "probe.page_faults") > 0);
		(*nruns)++;
	}
}

static void test_syscalls_equal_os_layer_every_backend(void **state)
{
	(void)state;
	char why[300];
	if (!ebpf_usable(why, sizeof(why)))
		SKIP_BECAUSE("%s", why);
	char json[] = "/tmp/jitmm-ebpf-XXXXXX";
	int fd = mkstemp(json);
	close(fd);
	/* loads, drops (munmap/madvise through trim), every backend */
	char *args[] = {"run", "-r", "1", "--warmup", "0", "-q", "--probe", "ebpf", "--backend", "all", "--workload",
			"llvm-500,synthetic:graphs=600,free=cycles,cycles=4,trim=on",
			"--json", json, NULL};
	char *out = NULL, *err = NULL;
	int rc = tu_run_jitmm(args, &out, &err);
	if (rc != 0)
		fail_msg("jitmm run exited %d: %s", rc, err);
	json_object *root = load_json(json);
	int n = 0;
	check_runs_match(root, &n);
	assert_true(n >= 2 * 3);
	printf("# %d runs: ebpf syscall counts, bytes, errnos and vmas_after == os layer\n", n);
	json_object_put(root);
	unlink(json);
	free(out);
	free(err);
}

/* --threads: the streams' threads (and their stacks) exist before the
 * window, so the kernel sees exactly the backend's syscalls in it too */
static void test_syscalls_equal_os_layer_threads(void **state)
{
	(void)state;
	char why[300];
	if (!ebpf_usable(why, sizeof(why)))
		SKIP_BECAUSE("%s", why);
	char json[] = "/tmp/jitmm-ebpf-XXXXXX";
	int fd = mkstemp(json);
	close(fd);
	char *args[] = {"run", "-r", "1", "--warmup", "0", "-q", "--probe", "ebpf", "--backend", "single-pool,inprocess,slab-pool",
			"--workload", "churn:graphs=400", "--threads", "4", "--json", json, NULL};
	char *err = NULL;
	int rc = tu_run_jitmm(args, NULL, &err);
	if (rc != 0)
		fail_msg("jitmm run exited %d: %s", rc, err);
	json_object *root = load_json(json);
	int n = 0;
	check_runs_match(root, &n);
	assert_int_equal(n, 3);
	json_object_put(root);
	unlink(json);
	free(err);
}

/* Real errors (not injected): page-pairs beyond vm.max_map_count makes
 * mprotect fail with ENOMEM; the kernel's errno count must match. */
static void test_errno_counts_at_map_count_limit(void **state)
{
	(void)state;
	char why[300];
	if (!ebpf_usable(why, sizeof(why)))
		SKIP_BECAUSE("%s", why);
	char json[] = "/tmp/jitmm-ebpf-XXXXXX";
	close(mkstemp(json));
	char *args[] = {"run", "-r", "1", "--warmup", "0", "-q", "--probe", "ebpf", "--backend", "single-pool",
			"--workload", "page-pairs:graphs=40000", "--json", json, NULL};
	char *err = NULL;
	int rc = tu_run_jitmm(args, NULL, &err);
	assert_int_equal(rc, 1); /* the run fails at the limit, as it should */
	json_object *root = load_json(json);
	int n = 0;
	check_runs_match(root, &n);
	json_object *run = json_object_array_get_idx(get(root, "runs"), 0);
	assert_true(get_i(run, "metrics.probe.syscalls.mprotect.errnos.ENOMEM") >= 1);
	json_object_put(root);
	unlink(json);
	free(err);
}

/* ---- 2. faults: 64 MiB touched page by page ---- */

#define FAULT_BYTES (64ul << 20)

struct fault_result {
	long minflt, majflt;
};

/* Not instrumented: under ASan every store would also read its shadow
 * page, adding faults (2048 for 64 MiB) that are not the test's. */
__attribute__((no_sanitize_address, noinline)) static void touch_pages(char *m, size_t len,
									size_t pg)
{
	for (size_t o = 0; o < len; o += pg)
		((volatile char *)m)[o] = 1;
}

static void touch_body(int out, int in, void *arg)
{
	(void)arg;
	long pg = sysconf(_SC_PAGESIZE);
	struct rusage r0, r1;
	/* warm every code path used inside the window */
	getrusage(RUSAGE_SELF, &r0);
	char *warm = mmap(NULL, (size_t)pg, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	madvise(warm, (size_t)pg, MADV_NOHUGEPAGE);
	touch_pages(warm, (size_t)pg, (size_t)pg);
	munmap(warm, (size_t)pg);
	kid_sync(out, in); /* ready */
	kid_sync(out, in); /* begin */
	getrusage(RUSAGE_SELF, &r0);
	char *m = mmap(NULL, FAULT_BYTES, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		_exit(4);
	madvise(m, FAULT_BYTES, MADV_NOHUGEPAGE); /* 4 KiB pages: one fault each */
	touch_pages(m, FAULT_BYTES, (size_t)pg);
	getrusage(RUSAGE_SELF, &r1);
	kid_sync(out, in); /* end */
	struct fault_result res = {r1.ru_minflt - r0.ru_minflt, r1.ru_majflt - r0.ru_majflt};
	if (write(out, &res, sizeof(res)) != sizeof(res))
		_exit(5);
	munmap(m, FAULT_BYTES);
}

static void test_faults_equal_getrusage(void **state)
{
	(void)state;
	struct jm_probe p;
	OPEN_EBPF_OR_SKIP(&p);
	struct kid k;
	struct jm_probe_result r;
	struct fault_result g;
	kid_start(&k, touch_body, NULL);
	drive(&p, &k, &r, &g, sizeof(g));
	p.ops->close(&p);
	long pages = (long)(FAULT_BYTES / (size_t)sysconf(_SC_PAGESIZE));
	printf("# 64 MiB touched: getrusage %ld minor %ld major; ebpf %llu faults "
	       "(perf minor %llu major %llu; write %llu)\n", g.minflt, g.majflt,
	       (unsigned long long)r.faults, (unsigned long long)r.faults_minor,
	       (unsigned long long)r.faults_major,
	       (unsigned long long)r.faults_by_access[1]);
	assert_int_equal(g.minflt + g.majflt, pages);
	assert_int_equal(r.faults, (uint64_t)(g.minflt + g.majflt));
	assert_true(r.have_fault_split);
	assert_int_equal(r.faults_minor, (uint64_t)g.minflt);
	assert_int_equal(r.faults_major, (uint64_t)g.majflt);
	assert_int_equal(r.faults_by_access[1], (uint64_t)pages); /* all writes */
	/* the window saw exactly one mmap and one madvise */
	assert_int_equal(r.window[JM_PSYS_MMAP].calls, 1);
	assert_int_equal(r.window[JM_PSYS_MMAP].bytes, FAULT_BYTES);
	assert_int_equal(r.window[JM_PSYS_MADVISE].calls, 1);
	assert_int_equal(r.window[JM_PSYS_MUNMAP].calls, 0);
	assert_true(r.total[JM_PSYS_MUNMAP].calls >= 1);
}

/* With --fault-classes the faults are split by the VMA's protection. */
static void test_fault_classes(void **state)
{
	(void)state;
	struct jm_probe p;
	OPEN_EBPF_OR_SKIP(&p);
	p.flags |= JM_PROBE_FAULT_CLASSES;
	struct kid k;
	struct jm_probe_result r;
	struct fault_result g;
	kid_start(&k, touch_body, NULL);
	drive(&p, &k, &r, &g, sizeof(g));
	p.ops->close(&p);
	long pages = (long)(FAULT_BYTES / (size_t)sysconf(_SC_PAGESIZE));
	assert_true(r.have_fault_classes);
	assert_int_equal(r.faults_by_class[2], (uint64_t)pages); /* rw */
	assert_int_equal(r.faults_by_class[0] + r.faults_by_class[1] +
			 r.faults_by_class[2] + r.faults_by_class[3], r.faults);
}

/* ---- 3. the VMA peak ---- */

#define PEAK_VMAS 3000

struct peak_result {
	long before, peak, after;
};

/* n one-page mappings with alternating protection: none can merge */
static char **map_pages(int n)
{
	long pg = sysconf(_SC_PAGESIZE);
	char *base = mmap(NULL, (size_t)pg * (size_t)n, PROT_READ,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (base == MAP_FAILED)
		_exit(4);
	for (int i = 0; i < n; i += 2)
		mprotect(base + (size_t)i * (size_t)pg, (size_t)pg, PROT_READ | PROT_WRITE);
	char **r = malloc(sizeof(char *));
	*r = base;
	return r;
}

static void peak_body(int out, int in, void *arg)
{
	(void)arg;
	long pg = sysconf(_SC_PAGESIZE);
	kid_sync(out, in); /* ready: the probe is attached from here */
	/* a higher peak after attach but before the window: must not count */
	char **pre = map_pages(2 * PEAK_VMAS);
	munmap(*pre, (size_t)pg * 2 * PEAK_VMAS);
	kid_sync(out, in); /* begin */
	struct peak_result res;
	res.before = jm_vma_count(0);
	char **m = map_pages(PEAK_VMAS);
	res.peak = jm_vma_count(0);
	munmap(*m, (size_t)pg * PEAK_VMAS);
	res.after = jm_vma_count(0);
	kid_sync(out, in); /* end */
	if (write(out, &res, sizeof(res)) != sizeof(res))
		_exit(5);
	free(pre);
	free(m);
}

static void test_vma_peak_is_exact(void **state)
{
	(void)state;
	struct jm_probe p;
	OPEN_EBPF_OR_SKIP(&p);
	struct kid k;
	struct jm_probe_result r;
	struct peak_result g;
	kid_start(&k, peak_body, NULL);
	drive(&p, &k, &r, &g, sizeof(g));
	p.ops->close(&p);
	printf("# VMAs: before %ld, peak %ld (maps), after %ld; ebpf peak %llu after %llu\n",
	       g.before, g.peak, g.after, (unsigned long long)r.vmas_peak,
	       (unsigned long long)r.vmas_after);
	assert_true(g.peak >= g.before + PEAK_VMAS - 1);
	assert_int_equal(r.vmas_peak, (uint64_t)g.peak);
	assert_int_equal(r.vmas_after, (uint64_t)g.after);
}

/* Through the runner: a workload that raises and lowers the VMA count;
 * the probe's peak is at least every sample's, above the end count. */
static void test_vma_peak_cycles_workload(void **state)
{
	(void)state;
	char why[300];
	if (!ebpf_usable(why, sizeof(why)))
		SKIP_BECAUSE("%s", why);
	char json[] = "/tmp/jitmm-ebpf-XXXXXX";
	close(mkstemp(json));
	char *args[] = {"run", "-r", "1", "--warmup", "0", "-q", "--probe", "ebpf", "--backend", "inprocess",
			"--workload", "synthetic:graphs=2000,sizes=fixed,rx=4K,ro=0,rw=4K,"
			"free=cycles,cycles=2,trim=on", "--json", json, NULL};
	assert_int_equal(tu_run_jitmm(args, NULL, NULL), 0);
	json_object *root = load_json(json);
	json_object *run = json_object_array_get_idx(get(root, "runs"), 0);
	int64_t peak = get_i(run, "metrics.probe.vmas_peak");
	int64_t after = get_i(run, "metrics.probe.vmas_after");
	json_object *vs = get(run, "series.vmas");
	int64_t smax = 0;
	for (size_t i = 0; i < json_object_array_length(vs); i++) {
		int64_t v = json_object_get_int64(json_object_array_get_idx(vs, i));
		smax = v > smax ? v : smax;
	}
	printf("# free=cycles: ebpf peak %lld, samples' max %lld, after %lld\n",
	       (long long)peak, (long long)smax, (long long)after);
	assert_true(peak >= smax);
	assert_true(peak > after + 1000); /* 1000 graphs of 2 VMAs dropped */
	assert_int_equal(get_i(run, "metrics.vmas_peak"), peak);
	json_object_put(root);
	unlink(json);
}

/* A ring buffer far too small: records are lost, and the loss is counted
 * exactly (recorded + dropped = calls). */
static void small_ring_body(int out, int in, void *arg)
{
	(void)arg;
	long pg = sysconf(_SC_PAGESIZE);
	char *m = mmap(NULL, (size_t)pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	kid_sync(out, in); /* ready */
	kid_sync(out, in); /* begin */
	for (int i = 0; i < 100000; i++)
		mprotect(m, (size_t)pg, i & 1 ? PROT_READ : PROT_READ | PROT_WRITE);
	kid_sync(out, in); /* end */
}

static void test_event_drops_are_counted(void **state)
{
	(void)state;
	struct jm_probe p;
	setenv("JITMM_RINGBUF_BYTES", "4096", 1); /* 56 records */
	/* nothing reads the buffer until the run ends: it must overflow */
	setenv("JITMM_EVENTS_DEFER", "1", 1);
	char why[256], err[300];
	int rc = jm_probe_select("ebpf", &p, why, sizeof(why), err, sizeof(err));
	unsetenv("JITMM_RINGBUF_BYTES");
	if (rc < 0)
		SKIP_BECAUSE("%s", err);
	char path[] = "/tmp/jitmm-events-XXXXXX";
	close(mkstemp(path));
	assert_int_equal(jm_ebpf_events_open(&p, path, err, sizeof(err)), 0);
	struct kid k;
	struct jm_probe_result r;
	kid_start(&k, small_ring_body, NULL);
	drive(&p, &k, &r, NULL, 0);
	unsetenv("JITMM_EVENTS_DEFER");
	p.ops->close(&p);
	unlink(path);
	printf("# 4 KiB ring: %llu recorded, %llu dropped of %llu calls\n",
	       (unsigned long long)r.events_recorded, (unsigned long long)r.events_dropped,
	       (unsigned long long)r.total[JM_PSYS_MPROTECT].calls);
	assert_true(r.events_dropped > 0);
	assert_int_equal(r.events_recorded + r.events_dropped, r.total[JM_PSYS_MPROTECT].calls);
}

/* The stream through a callback (what a recorder uses) */
struct handler_count {
	uint64_t all, mprotect_in_window;
	int64_t last_ret;
};

static int count_event(void *ctx, const struct jm_ebpf_event *ev)
{
	struct handler_count *h = ctx;
	h->all++;
	if (ev->sys == JM_PSYS_MPROTECT && (ev->flags_hi & JM_EBPF_EV_IN_WINDOW)) {
		h->mprotect_in_window++;
		h->last_ret = ev->ret;
	}
	return 0;
}

static void test_event_handler(void **state)
{
	(void)state;
	struct jm_probe p;
	OPEN_EBPF_OR_SKIP(&p);
	struct handler_count h = {0, 0, -1};
	assert_int_equal(jm_ebpf_set_event_handler(&p, count_event, &h), 0);
	struct kid k;
	struct jm_probe_result r;
	kid_start(&k, small_ring_body, NULL); /* 100,000 mprotect calls */
	drive(&p, &k, &r, NULL, 0);
	p.ops->close(&p);
	assert_int_equal(r.events_dropped, 0);
	assert_int_equal(h.mprotect_in_window, 100000);
	assert_int_equal(h.all, r.events_recorded);
	assert_int_equal(h.last_ret, 0);
}

/* ---- 3b. a forked helper process (an executor) is counted too ---- */

#define EXECUTOR_CALLS 5000

static void executor_body(int out, int in, void *arg)
{
	(void)arg;
	long pg = sysconf(_SC_PAGESIZE);
	kid_sync(out, in); /* ready */
	kid_sync(out, in); /* begin */
	pid_t ex = fork();
	if (ex == 0) { /* the "executor": its own address space */
		char *m = mmap(NULL, (size_t)pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		for (int i = 0; i < EXECUTOR_CALLS; i++)
			mprotect(m, (size_t)pg, i & 1 ? PROT_READ : PROT_READ | PROT_WRITE);
		_exit(0);
	}
	int st;
	waitpid(ex, &st, 0);
	char *m = mmap(NULL, (size_t)pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	mprotect(m, (size_t)pg, PROT_READ | PROT_WRITE);
	kid_sync(out, in); /* end */
}

static void test_forked_executor_is_counted(void **state)
{
	(void)state;
	struct jm_probe p;
	OPEN_EBPF_OR_SKIP(&p);
	struct kid k;
	struct jm_probe_result r;
	kid_start(&k, executor_body, NULL);
	drive(&p, &k, &r, NULL, 0);
	p.ops->close(&p);
	printf("# executor: %u processes, window mprotect %llu (measured process %llu)\n",
	       r.nprocs, (unsigned long long)r.window[JM_PSYS_MPROTECT].calls,
	       (unsigned long long)r.window_main[JM_PSYS_MPROTECT].calls);
	assert_int_equal(r.nprocs, 2);
	assert_int_equal(r.window_main[JM_PSYS_MPROTECT].calls, 1);
	assert_int_equal(r.window[JM_PSYS_MPROTECT].calls, EXECUTOR_CALLS + 1);
	assert_int_equal(r.window[JM_PSYS_MMAP].calls, 2);
}

/* ---- 4. event stream: 1,000,000 records, no drop ---- */

#define EVENT_CALLS 1000000

static void mprotect_body(int out, int in, void *arg)
{
	(void)arg;
	long pg = sysconf(_SC_PAGESIZE);
	char *m = mmap(NULL, (size_t)pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	kid_sync(out, in); /* ready */
	kid_sync(out, in); /* begin */
	for (int i = 0; i < EVENT_CALLS; i++)
		mprotect(m, (size_t)pg, i & 1 ? PROT_READ : PROT_READ | PROT_WRITE);
	kid_sync(out, in); /* end */
}

static void test_event_stream_million_no_drops(void **state)
{
	(void)state;
	struct jm_probe p;
	OPEN_EBPF_OR_SKIP(&p);
	char path[] = "/tmp/jitmm-events-XXXXXX";
	close(mkstemp(path));
	char err[300];
	assert_int_equal(jm_ebpf_events_open(&p, path, err, sizeof(err)), 0);
	struct kid k;
	struct jm_probe_result r;
	kid_start(&k, mprotect_body, NULL);
	drive(&p, &k, &r, NULL, 0);
	p.ops->close(&p); /* commits the file */
	uint64_t calls = 0;
	for (int s = 0; s < JM_PROBE_NSYS; s++)
		calls += r.total[s].calls;
	printf("# events: %llu recorded, %llu dropped, %llu counted calls\n",
	       (unsigned long long)r.events_recorded, (unsigned long long)r.events_dropped,
	       (unsigned long long)calls);
	assert_true(r.have_events);
	assert_int_equal(r.events_dropped, 0);
	assert_int_equal(r.window[JM_PSYS_MPROTECT].calls, EVENT_CALLS);
	assert_int_equal(r.events_recorded, calls);
	/* the file: one record line per call, EVENT_CALLS of them mprotect in
	 * the window, and the end line agrees */
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	char line[512];
	uint64_t records = 0, in_window_mprotect = 0, end_recorded = 0, end_dropped = 1;
	while (fgets(line, sizeof(line), f)) {
		if (line[0] == '#' || !strncmp(line, "run ", 4))
			continue;
		unsigned long long rec, drop;
		if (sscanf(line, "end %*u recorded %llu dropped %llu", &rec, &drop) == 2) {
			end_recorded = rec;
			end_dropped = drop;
			continue;
		}
		char sys[32];
		unsigned w;
		if (sscanf(line, "%*u %*u %*u %31s %*s %*s %*s %*s %*s %*u %u", sys, &w) != 2)
			fail_msg("bad record: %s", line);
		records++;
		if (w && !strcmp(sys, "mprotect"))
			in_window_mprotect++;
	}
	fclose(f);
	unlink(path);
	assert_int_equal(records, calls);
	assert_int_equal(in_window_mprotect, EVENT_CALLS);
	assert_int_equal(end_recorded, records);
	assert_int_equal(end_dropped, 0);
}

/* Through the CLI: one file for several runs, in the order of runs[] */
static void test_events_option_several_runs(void **state)
{
	(void)state;
	char why[300];
	if (!ebpf_usable(why, sizeof(why)))
		SKIP_BECAUSE("%s", why);
	char json[] = "/tmp/jitmm-ebpf-XXXXXX", ev[] = "/tmp/jitmm-events-XXXXXX";
	close(mkstemp(json));
	close(mkstemp(ev));
	char *args[] = {"run", "-r", "1", "--warmup", "0", "-q", "--probe", "ebpf", "--backend", "all", "--workload",
			"llvm-500", "--events", ev, "--json", json, NULL};
	assert_int_equal(tu_run_jitmm(args, NULL, NULL), 0);
	json_object *root = load_json(json);
	json_object *runs = get(root, "runs");
	FILE *f = fopen(ev, "r");
	assert_non_null(f);
	char line[512];
	int nrun = -1, run_tgid = 0;
	uint64_t in_run = 0, in_window_mprotect = 0;
	while (fgets(line, sizeof(line), f)) {
		unsigned idx;
		int tgid, ev_tgid;
		unsigned long long rec, drop;
		char sys[32];
		unsigned w;
		if (sscanf(line, "run %u tgid %d", &idx, &tgid) == 2) {
			nrun++;
			assert_int_equal(idx, nrun);
			json_object *run = json_object_array_get_idx(runs, (size_t)nrun);
			assert_int_equal(tgid, get_i(run, "metrics.probe.pid"));
			run_tgid = tgid;
			in_run = in_window_mprotect = 0;
		} else if (sscanf(line, "end %u recorded %llu dropped %llu", &idx, &rec, &drop) == 3) {
			json_object *run = json_object_array_get_idx(runs, (size_t)nrun);
			assert_int_equal(rec, in_run);
			assert_int_equal(drop, 0);
			assert_int_equal(rec, get_i(run, "metrics.probe.events_recorded"));
			assert_int_equal(get_i(run, "metrics.probe.events_dropped"), 0);
			assert_int_equal(in_window_mprotect,
					 get_i(run, "metrics.syscalls.mprotect.calls"));
		} else if (line[0] != '#') {
			assert_int_equal(sscanf(line, "%*u %d %*u %31s %*s %*s %*s %*s %*s %*u %u",
						&ev_tgid, sys, &w), 3);
			in_run++;
			/* the os layer counts the measured process (an executor's
			 * events are its own) */
			in_window_mprotect += w && !strcmp(sys, "mprotect") && ev_tgid == run_tgid;
		}
	}
	fclose(f);
	assert_int_equal(nrun + 1, (int)json_object_array_length(runs));
	json_object_put(root);
	unlink(ev);
	/* --events needs ebpf: a usage error with procfs, and no file */
	char *bad[] = {"run", "-r", "1", "--warmup", "0", "-q", "--probe", "procfs", "--backend", "null", "--workload",
		       "llvm-500", "--events", ev, NULL};
	assert_int_equal(tu_run_jitmm(bad, NULL, NULL), 2);
	assert_int_equal(access(ev, F_OK), -1);
	char *bad2[] = {"run", "-r", "1", "--warmup", "0", "-q", "--probe", "procfs", "--backend", "null", "--workload",
			"llvm-500", "--fault-classes", NULL};
	assert_int_equal(tu_run_jitmm(bad2, NULL, NULL), 2);
	unlink(json);
}

/* ---- 5. fallback as an unprivileged user ---- */

static int run_cmd(char *const argv[], const char *outfile)
{
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		int fd = open(outfile ? outfile : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0644);
		dup2(fd, 1);
		dup2(fd, 2);
		execvp(argv[0], argv);
		_exit(127);
	}
	int st;
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int copy_file(const char *from, const char *to)
{
	char *argv[] = {"cp", (char *)from, (char *)to, NULL};
	return run_cmd(argv, NULL);
}

static void test_unprivileged_auto_falls_back(void **state)
{
	(void)state;
	if (geteuid() != 0)
		SKIP_BECAUSE("needs root to switch to an unprivileged user");
	char *probe_setpriv[] = {"setpriv", "--version", NULL};
	if (run_cmd(probe_setpriv, NULL) != 0)
		SKIP_BECAUSE("setpriv (util-linux) not installed");
	char dir[] = "/tmp/jitmm-nobody-XXXXXX";
	assert_non_null(mkdtemp(dir));
	chmod(dir, 01777);
	const char *bin = tu_jitmm_bin();
	char copy[300], json[300], log[300];
	snprintf(copy, sizeof(copy), "%s/jitmm", dir);
	snprintf(json, sizeof(json), "%s/x.json", dir);
	snprintf(log, sizeof(log), "%s/log", dir);
	assert_int_equal(copy_file(bin, copy), 0);
	chmod(copy, 0755);
	char *argv[] = {"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
			copy, "run", "-q", "--probe", "auto", "--backend", "single-pool",
			"--workload", "llvm-500", "--json", json, NULL};
	int rc = run_cmd(argv, log);
	if (rc != 0) {
		char cat[400];
		snprintf(cat, sizeof(cat), "cat %s >&2", log);
		(void)!system(cat);
	}
	assert_int_equal(rc, 0);
	json_object *root = load_json(json);
	const char *used = json_object_get_string(get(root, "config.probe_used"));
	const char *why = json_object_get_string(get(root, "config.probe_fallback_reason"));
	printf("# as nobody: probe %s, reason: %s\n", used, why);
	assert_string_equal(used, "procfs");
	assert_non_null(strstr(why, "ebpf: "));
	assert_non_null(strstr(why, "not root"));
	json_object *run = json_object_array_get_idx(get(root, "runs"), 0);
	assert_string_equal(json_object_get_string(get(run, "status")), "ok");
	json_object_put(root);
	unlink(json);
	unlink(log);
	unlink(copy);
	rmdir(dir);
}

/* ---- 6. perf's syscall tracepoint agrees ---- */

static void test_perf_agrees_on_mprotect(void **state)
{
	(void)state;
	char *pv[] = {"perf", "--version", NULL};
	if (run_cmd(pv, NULL) != 0)
		SKIP_BECAUSE("perf (linux-perf) not installed");
	struct jm_probe p;
	OPEN_EBPF_OR_SKIP(&p);
	const char *bin = tu_jitmm_bin();
	char out[] = "/tmp/jitmm-perf-XXXXXX";
	close(mkstemp(out));
	/* Start perf stopped; track it (its forks, i.e. the jitmm it runs
	 * and that one's run child, are followed); let it go. Then
	 * perf's inherited count == ebpf's count over perf's descendants
	 * (all tracked processes minus perf itself, the "main" one). */
	int go[2];
	assert_int_equal(pipe(go), 0);
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		close(go[1]);
		char c;
		if (read(go[0], &c, 1) != 1)
			_exit(3);
		int fd = open("/dev/null", O_WRONLY);
		dup2(fd, 1);
		execlp("perf", "perf", "stat", "-x,", "-o", out, "-e",
		       "syscalls:sys_enter_mprotect", "--", bin, "run", "-q", "--probe",
		       "procfs", "--backend", "single-pool", "--workload", "llvm-500", (char *)NULL);
		_exit(127);
	}
	close(go[0]);
	assert_int_equal(p.ops->attach(&p, pid), 0);
	p.ops->window_begin(&p);
	assert_int_equal(write(go[1], "g", 1), 1);
	close(go[1]);
	int st;
	waitpid(pid, &st, 0);
	p.ops->window_end(&p);
	struct jm_probe_result r;
	assert_int_equal(p.ops->read(&p, &r), 0);
	p.ops->detach(&p);
	p.ops->close(&p);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		unlink(out);
		SKIP_BECAUSE("perf stat -e syscalls:sys_enter_mprotect failed here "
			     "(exit %d): tracefs/tracepoints unavailable", WEXITSTATUS(st));
	}
	FILE *f = fopen(out, "r");
	assert_non_null(f);
	char line[512];
	long long perf_count = -1;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, "sys_enter_mprotect"))
			perf_count = atoll(line);
	fclose(f);
	unlink(out);
	uint64_t ebpf_count = r.window[JM_PSYS_MPROTECT].calls -
			      r.window_main[JM_PSYS_MPROTECT].calls;
	printf("# mprotect calls of jitmm run: perf %lld, ebpf %llu (%u processes)\n",
	       perf_count, (unsigned long long)ebpf_count, r.nprocs);
	assert_true(r.nprocs >= 3); /* perf, jitmm, its run child */
	assert_true(perf_count > 1000);
	assert_int_equal((uint64_t)perf_count, ebpf_count);
}

/* ---- 7. procfs and ebpf both selectable; auto prefers ebpf ---- */

static void test_auto_prefers_ebpf(void **state)
{
	(void)state;
	char why[300];
	if (!ebpf_usable(why, sizeof(why)))
		SKIP_BECAUSE("%s", why);
	struct jm_probe p;
	char w[256], err[300];
	assert_int_equal(jm_probe_select("auto", &p, w, sizeof(w), err, sizeof(err)), 0);
	assert_string_equal(p.ops->name, "ebpf");
	assert_string_equal(w, "");
	p.ops->close(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_auto_prefers_ebpf),
		cmocka_unit_test(test_syscalls_equal_os_layer_every_backend),
		cmocka_unit_test(test_syscalls_equal_os_layer_threads),
		cmocka_unit_test(test_errno_counts_at_map_count_limit),
		cmocka_unit_test(test_faults_equal_getrusage),
		cmocka_unit_test(test_fault_classes),
		cmocka_unit_test(test_vma_peak_is_exact),
		cmocka_unit_test(test_vma_peak_cycles_workload),
		cmocka_unit_test(test_forked_executor_is_counted),
		cmocka_unit_test(test_event_stream_million_no_drops),
		cmocka_unit_test(test_events_option_several_runs),
		cmocka_unit_test(test_event_drops_are_counted),
		cmocka_unit_test(test_event_handler),
		cmocka_unit_test(test_unprivileged_auto_falls_back),
		cmocka_unit_test(test_perf_agrees_on_mprotect),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
