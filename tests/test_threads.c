/* Multi-threaded use of one backend instance: 8 threads over every
 * thread-safe backend allocate, write, finalize and free concurrently.
 * Afterwards no two live segments overlap, every live graph still holds
 * its own contents (nothing was lost or overwritten by another thread),
 * and everything comes back. Then load/drop cycles with a trim after each
 * drop, so that one thread's trim runs while the others allocate,
 * finalize and free (slab-pool's clear_free_slabs released slabs in use:
 * issue 11). Also: `jitmm run --threads` end to end, and its refusal of
 * backends without JM_CAP_THREAD_SAFE. `make test TSAN=1` runs this file
 * under ThreadSanitizer. */
#include "testutil.h"

#include <malloc.h>
#include <pthread.h>

#include "../allocators/backend.h"
#include "../linker/contents.h"
#include "../probes/procfs_sample.h"
#include "../workloads/rng.h"

#define THREADS 8
#define ROUNDS 400
#define KEEP 24 /* live graphs per thread at the end */

struct worker {
	struct jm_backend *b;
	int idx;
	struct jm_alloc live[KEEP];
	int nlive;
	uint64_t allocated, freed;
	uint64_t bytes; /* segment bytes of every graph allocated */
	char err[300];
};

static void graph(struct jm_rng *r, uint64_t id, struct jm_graph_req *req)
{
	memset(req, 0, sizeof(*req));
	req->id = id;
	uint32_t n = 0;
	req->seg[n++] = (struct jm_segment_req){JM_RX, JM_STANDARD, 16 + jm_rng_below(r, 9000), 0,
						1u << jm_rng_below(r, 7)};
	if (jm_rng_below(r, 2))
		req->seg[n++] = (struct jm_segment_req){JM_RO, JM_STANDARD, 1 + jm_rng_below(r, 5000),
							0, 8};
	if (jm_rng_below(r, 2))
		req->seg[n++] = (struct jm_segment_req){JM_RW, JM_STANDARD, 1 + jm_rng_below(r, 3000),
							jm_rng_below(r, 2000), 16};
	req->nseg = n;
	jm_graph_normalize(req);
}

static void *work(void *arg)
{
	struct worker *w = arg;
	struct jm_rng r;
	jm_rng_seed(&r, 1000 + (uint64_t)w->idx);
	for (int i = 0; i < ROUNDS && !w->err[0]; i++) {
		uint64_t id = (uint64_t)w->idx * 1000000 + (uint64_t)i;
		struct jm_graph_req req;
		graph(&r, id, &req);
		int slot = w->nlive < KEEP ? w->nlive : (int)jm_rng_below(&r, KEEP);
		if (w->nlive == KEEP) { /* make room: free a random live graph */
			if (w->b->ops->deallocate(w->b, &w->live[slot]) < 0) {
				snprintf(w->err, sizeof(w->err), "deallocate: %s", w->b->err);
				break;
			}
			w->freed++;
		} else {
			w->nlive++;
		}
		struct jm_alloc *a = &w->live[slot];
		memset(a, 0, sizeof(*a));
		if (w->b->ops->allocate(w->b, &req, a) < 0) {
			snprintf(w->err, sizeof(w->err), "allocate: %s", w->b->err);
			w->nlive--;
			break;
		}
		a->id = id;
		jm_contents_write(a);
		if (w->b->ops->finalize(w->b, a) < 0) {
			snprintf(w->err, sizeof(w->err), "finalize: %s", w->b->err);
			break;
		}
		w->allocated++;
		for (uint32_t s = 0; s < a->nseg; s++)
			w->bytes += a->seg[s].size;
		/* another thread's overlap would show up here or at the end */
		if (jm_contents_check_backend(w->b, a, 0, w->err, sizeof(w->err)) < 0)
			break;
	}
	return NULL;
}

struct range {
	int space; /* 1: the executor process's addresses (shm-mapper) */
	uintptr_t lo, hi;
};

static int cmp(const void *x, const void *y)
{
	const struct range *a = x, *b = y;
	if (a->space != b->space)
		return a->space - b->space;
	return a->lo < b->lo ? -1 : a->lo > b->lo;
}

static void *nothing(void *arg)
{
	return arg;
}

/* Under ThreadSanitizer the llvm-* backends are not stressed: libLLVM is
 * not built with TSan, so the order its own synchronization gives (futexes
 * inlined from libstdc++, its listener thread, llvm-shm's executor round
 * trips and the fork of that executor from a threaded process) is
 * invisible to it, and it would report that order's effects as races.
 * jitmm's code around the plugin is the same C as the models' and is
 * stressed through them; the plain build stresses the llvm-* backends. */
static int tsan_skips(const struct jm_backend_ops *ops)
{
#if defined(__SANITIZE_THREAD__)
	if (!strncmp(ops->name, "llvm-", 5)) {
		printf("# %s: not stressed under TSan (libLLVM is not TSan-instrumented)\n",
		       ops->name);
		return 1;
	}
#else
	(void)ops;
#endif
	return 0;
}

static void stress(const struct jm_backend_ops *ops)
{
	struct jm_backend b;
	char err[300];
	/* glibc caches thread stacks (mappings of their own): warm the cache
	 * so that the VMA count below is the backend's alone */
	pthread_t warm[THREADS];
	for (int i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&warm[i], NULL, nothing, NULL), 0);
	for (int i = 0; i < THREADS; i++)
		pthread_join(warm[i], NULL);
	if (tsan_skips(ops))
		return;
	int ready = tu_backend_prepare(ops, "", err, sizeof(err));
	if (ready == 0) {
		printf("# %s: not available here: %s\n", ops->name, err);
		return;
	}
	if (ready < 0)
		fail_msg("%s: prepare: %s", ops->name, err);
	long vmas0 = jm_vma_count(0);
	if (jm_backend_open(ops, "", &b, err, sizeof(err)) < 0)
		fail_msg("%s: %s", ops->name, err);
	static struct worker w[THREADS];
	pthread_t th[THREADS];
	memset(w, 0, sizeof(w));
	for (int i = 0; i < THREADS; i++) {
		w[i].b = &b;
		w[i].idx = i;
		assert_int_equal(pthread_create(&th[i], NULL, work, &w[i]), 0);
	}
	for (int i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	static struct range rg[THREADS * KEEP * JM_MAX_SEGS * 2];
	size_t n = 0;
	/* exec addresses in another process overlap only among themselves */
	int remote = ops->exec_pid && ops->exec_pid(&b) > 0;
	for (int i = 0; i < THREADS; i++) {
		if (w[i].err[0])
			fail_msg("%s thread %d: %s", ops->name, i, w[i].err);
		/* no lost allocation: every graph allocated is live or freed */
		assert_int_equal(w[i].allocated, ROUNDS);
		assert_int_equal(w[i].allocated - w[i].freed, (uint64_t)w[i].nlive);
		for (int k = 0; k < w[i].nlive; k++) {
			const struct jm_alloc *a = &w[i].live[k];
			/* a documented race can make such a backend's finalized code
			 * writable: read it back, do not call it */
			int exec = !(ops->caps & (JM_CAP_NO_PROTECT | JM_CAP_EXEC_RACE));
			if (jm_contents_check_backend(&b, a, exec, err, sizeof(err)) < 0)
				fail_msg("%s thread %d graph %llu: %s", ops->name, i,
					 (unsigned long long)a->id, err);
			for (uint32_t s = 0; s < a->nseg; s++) {
				void *addrs[2] = {a->seg[s].write, a->seg[s].exec};
				for (int v = 0; v < 2; v++) {
					if (!addrs[v] || a->seg[s].size == 0 ||
					    (v == 1 && addrs[1] == addrs[0] && !remote))
						continue;
					rg[n].space = v == 1 && remote;
					rg[n].lo = (uintptr_t)addrs[v];
					rg[n].hi = rg[n].lo + a->seg[s].size;
					n++;
				}
			}
		}
	}
	qsort(rg, n, sizeof(rg[0]), cmp);
	for (size_t i = 1; i < n; i++)
		if (rg[i].space == rg[i - 1].space && rg[i].lo < rg[i - 1].hi)
			fail_msg("%s: live segments overlap: %#lx-%#lx and %#lx-%#lx", ops->name,
				 (unsigned long)rg[i - 1].lo, (unsigned long)rg[i - 1].hi,
				 (unsigned long)rg[i].lo, (unsigned long)rg[i].hi);
	for (int i = 0; i < THREADS; i++)
		for (int k = 0; k < w[i].nlive; k++)
			assert_int_equal(b.ops->deallocate(&b, &w[i].live[k]), 0);
	struct jm_backend_stats st = {0};
	b.ops->stats(&b, &st);
	/* a backend that never frees (codemodel) keeps every byte live */
	uint64_t kept = 0;
	if (!(ops->caps & JM_CAP_FREES))
		for (int i = 0; i < THREADS; i++)
			kept += w[i].bytes;
	if (st.bytes_live != kept)
		fail_msg("%s: %llu bytes live after freeing everything, expected %llu",
			 ops->name, (unsigned long long)st.bytes_live,
			 (unsigned long long)kept);
	jm_backend_close(&b);
	long vmas1 = jm_vma_count(0);
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
	/* ASan and TSan map per-thread state of their own: the leak check is
	 * the plain build's (test_backend_invariants checks it per backend) */
	if (vmas1 > vmas0)
		printf("# sanitizer build: %ld VMAs more after destroy, not checked\n",
		       vmas1 - vmas0);
	vmas1 = vmas0;
#endif
	if (vmas1 > vmas0)
		fail_msg("%s: %ld VMAs left after destroy", ops->name, vmas1 - vmas0);
	printf("# %s: %d threads x %d graphs, %zu live segment ranges, no overlap\n",
	       ops->name, THREADS, ROUNDS, n);
}

/* ---- load/drop cycles with trims racing the other threads ---- */

#define CYCLES 40
#define BATCH 12

struct cycler {
	struct jm_backend *b;
	int idx;
	uint64_t graphs, trims, units_released;
	char err[300];
};

static void *load_drop(void *arg)
{
	struct cycler *w = arg;
	struct jm_rng r;
	jm_rng_seed(&r, 7000 + (uint64_t)w->idx);
	/* a documented race can leave finalized code writable: read back */
	int exec = !(w->b->ops->caps & (JM_CAP_NO_PROTECT | JM_CAP_EXEC_RACE));
	static __thread struct jm_alloc batch[BATCH];
	for (int c = 0; c < CYCLES && !w->err[0]; c++) {
		int n = 0;
		for (; n < BATCH; n++) {
			struct jm_graph_req req;
			graph(&r, (uint64_t)w->idx * 1000000 + (uint64_t)(c * BATCH + n), &req);
			struct jm_alloc *a = &batch[n];
			memset(a, 0, sizeof(*a));
			if (w->b->ops->allocate(w->b, &req, a) < 0) {
				snprintf(w->err, sizeof(w->err), "allocate: %s", w->b->err);
				break;
			}
			a->id = req.id;
			jm_contents_write(a);
			if (w->b->ops->finalize(w->b, a) < 0) {
				snprintf(w->err, sizeof(w->err), "finalize: %s", w->b->err);
				n++;
				break;
			}
			w->graphs++;
		}
		/* still ours after the other threads' trims and reuse */
		for (int k = 0; k < n && !w->err[0]; k++)
			jm_contents_check_backend(w->b, &batch[k], exec, w->err, sizeof(w->err));
		for (int k = 0; k < n; k++)
			if (w->b->ops->deallocate(w->b, &batch[k]) < 0 && !w->err[0])
				snprintf(w->err, sizeof(w->err), "deallocate: %s", w->b->err);
		struct jm_trim_result tr = {0};
		if (!w->err[0] && w->b->ops->trim(w->b, &tr) < 0)
			snprintf(w->err, sizeof(w->err), "trim: %s", w->b->err);
		w->trims++;
		w->units_released += tr.units_released;
	}
	return NULL;
}

/* Options that make a trimming backend release often in the cycles: small
 * slabs, so that a drop empties some while other threads fill others. */
static const char *cycle_options(const struct jm_backend_ops *ops)
{
	return !strcmp(ops->name, "slab-pool") ? "slab_size=1M,commit_granularity=64K" : "";
}

static void cycles(const struct jm_backend_ops *ops)
{
	struct jm_backend b;
	char err[300];
	if (tsan_skips(ops))
		return;
	if (jm_backend_available(ops, cycle_options(ops), err, sizeof(err)) < 0) {
		printf("# %s: not available here: %s\n", ops->name, err);
		return;
	}
	if (jm_backend_open(ops, cycle_options(ops), &b, err, sizeof(err)) < 0)
		fail_msg("%s: %s", ops->name, err);
	static struct cycler w[THREADS];
	pthread_t th[THREADS];
	memset(w, 0, sizeof(w));
	for (int i = 0; i < THREADS; i++) {
		w[i].b = &b;
		w[i].idx = i;
		assert_int_equal(pthread_create(&th[i], NULL, load_drop, &w[i]), 0);
	}
	for (int i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	uint64_t graphs = 0, trims = 0, released = 0;
	for (int i = 0; i < THREADS; i++) {
		if (w[i].err[0])
			fail_msg("%s thread %d: %s", ops->name, i, w[i].err);
		graphs += w[i].graphs;
		trims += w[i].trims;
		released += w[i].units_released;
	}
	assert_int_equal(graphs, (uint64_t)THREADS * CYCLES * BATCH);
	struct jm_backend_stats st = {0};
	b.ops->stats(&b, &st);
	if (st.bytes_live != 0)
		fail_msg("%s: %llu bytes live after the last drop", ops->name,
			 (unsigned long long)st.bytes_live);
	jm_backend_close(&b);
	/* the trims really ran against the other threads' work */
	if (ops->caps & JM_CAP_TRIM)
		assert_true(released > 0);
	printf("# %s%s%s: %d threads x %d load/drop cycles of %d graphs, %llu trims "
	       "released %llu units\n", ops->name, cycle_options(ops)[0] ? ":" : "",
	       cycle_options(ops), THREADS, CYCLES, BATCH, (unsigned long long)trims,
	       (unsigned long long)released);
}

static void test_trim_races_every_thread_safe_backend(void **state)
{
	(void)state;
	for (size_t i = 0; i < jm_backend_count(); i++)
		if (jm_backends[i]->caps & JM_CAP_THREAD_SAFE &&
		    jm_backends[i]->caps & JM_CAP_FREES)
			cycles(jm_backends[i]);
}

static void test_stress_every_thread_safe_backend(void **state)
{
	(void)state;
	int tested = 0;
	for (size_t i = 0; i < jm_backend_count(); i++) {
		if (!(jm_backends[i]->caps & JM_CAP_THREAD_SAFE))
			continue;
		stress(jm_backends[i]);
		tested++;
	}
	assert_true(tested >= 2); /* inprocess and single-pool at least */
}

static void test_cli_threads(void **state)
{
	(void)state;
	char json[] = "/tmp/jm-threads-XXXXXX";
	int fd = mkstemp(json);
	close(fd);
	/* shm-mapper verifies through read_exec from every stream at once;
	 * granularity=64K makes the streams add reservations concurrently */
	char *args[] = {"run", "-q", "-b",
			"single-pool,inprocess,shm-mapper,shm-mapper:granularity=64K",
			"-w", "churn:graphs=2000",
			"--threads", "8", "--verify", "--json", json, NULL};
	char *out = NULL, *err = NULL;
	int rc = tu_run_jitmm(args, &out, &err);
	if (rc != 0)
		fail_msg("rc %d: %s", rc, err);
	free(out);
	free(err);
	FILE *f = fopen(json, "r");
	char *text = calloc(1, 1 << 22);
	size_t got = fread(text, 1, (1 << 22) - 1, f);
	fclose(f);
	unlink(json);
	assert_true(got > 0);
	/* 8 streams of 2000 graphs each, per-thread percentiles present */
	assert_non_null(strstr(text, "\"graphs\":16000") ? text : strstr(text, "\"graphs\": 16000"));
	assert_non_null(strstr(text, "latency_threads"));
	assert_non_null(strstr(text, "\"threads\": 8") ? text : strstr(text, "\"threads\":8"));
	free(text);

	/* issue 11: slab-pool's trim in one stream while the other allocates
	 * (most of these runs died with SIGSEGV or malloc corruption) */
	char *drop[] = {"run", "-q", "-b", "slab-pool", "-w", "tvm-load-drop", "-t", "2",
			"-r", "3", "--verify", NULL};
	rc = tu_run_jitmm(drop, &out, &err);
	if (rc != 0)
		fail_msg("slab-pool tvm-load-drop -t 2: rc %d: %s", rc, err);
	free(out);
	free(err);

	char *bad[] = {"run", "-q", "-b", "null", "-w", "churn", "--threads", "4", NULL};
	assert_int_equal(tu_run_jitmm(bad, &out, &err), 2);
	assert_non_null(strstr(err, "backend null is not thread-safe"));
	free(out);
	free(err);

	/* 'all' with --threads runs the thread-safe backends only (under
	 * TSan without the llvm-* ones: see tsan_skips) */
#if defined(__SANITIZE_THREAD__)
	setenv("JITMM_LLVM_PLUGIN", "/nonexistent/jitmm-llvm.so", 1);
#endif
	char *all[] = {"run", "-q", "-b", "all", "-w", "churn:graphs=100", "--threads", "2",
		       "--verify", NULL};
	rc = tu_run_jitmm(all, &out, &err);
	if (rc != 0)
		fail_msg("-b all --threads 2: rc %d: %s", rc, err);
	assert_non_null(strstr(err, "skipping backends that are not thread-safe: "
				    "julia-blocks, section-mm, "));
	assert_non_null(strstr(err, ", null\n"));
	assert_non_null(strstr(out, "| codemodel | ok"));
	assert_null(strstr(out, "| julia-blocks"));
	free(out);
	free(err);

	/* Julia's legacy manager is not thread-safe (global finalize) */
	char *jb[] = {"run", "-q", "-b", "julia-blocks", "-w", "churn", "--threads", "2",
		      NULL};
	assert_int_equal(tu_run_jitmm(jb, &out, &err), 2);
	assert_non_null(strstr(err, "backend julia-blocks is not thread-safe"));
	free(out);
	free(err);
}

/* Both streams fail at once: in the backend (an alignment inprocess
 * refuses: jm_backend_error in each thread) and before it (a graph past
 * the memory each stream may use). Each stream records its error in a
 * view of the backend of its own: the run reports one whole message, and
 * under ThreadSanitizer no race (the shared error buffer raced in 2 of 4
 * runs of the first and 3 of 3 of the second). */
static void test_streams_fail_at_once(void **state)
{
	(void)state;
	static const struct {
		const char *alloc, *op, *message;
	} cases[] = {
		{"alloc 1 rx=64@65536", "allocate",
		 "segment alignment 65536 exceeds page size: EINVAL (Invalid argument)"},
		/* 4 TiB, the most one graph can ask for: past each stream's
		 * half of MemAvailable on any machine with less than 8 TiB */
		{"alloc 1 rx=1099511627776 ro=1099511627776 rw=1099511627776+1099511627776",
		 "workload", "the live graphs would take 4.0 TiB, "},
	};
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		char path[] = "/tmp/jitmm-threads-fail-XXXXXX";
		int fd = mkstemp(path);
		assert_true(fd >= 0);
		dprintf(fd, "jitmm-trace 1\nsource test\narch x86_64\npage_size 4096\n"
			    "made_by test_threads\n%s\nfinalize 1\nfree 1\n", cases[c].alloc);
		close(fd);
		char wl[96];
		snprintf(wl, sizeof(wl), "trace:%s", path);
		char *args[] = {"run", "-q", "-p", "procfs", "-b", "inprocess", "-w", wl,
				"--threads", "2", "-r", "3", "--warmup", "0", NULL};
		int rc;
		char *err = NULL;
		json_object *res = tu_run_results(args, &rc, NULL, &err);
		unlink(path);
		assert_non_null(res);
		if (strstr(err, "ThreadSanitizer"))
			fail_msg("%s: %s", cases[c].alloc, err);
		assert_int_equal(rc, 1);
		for (size_t i = 0; i < 3; i++) {
			json_object *run = tu_run_at(res, i);
			assert_non_null(run);
			assert_string_equal(jm_json_str(run, "status", "?"), "failed");
			assert_string_equal(jm_json_str(run, "error.op", "?"), cases[c].op);
			const char *msg = jm_json_str(run, "error.message", "?");
			if (strncmp(msg, cases[c].message, strlen(cases[c].message)) != 0)
				fail_msg("%s: message '%s'", cases[c].alloc, msg);
			printf("# %s: %s\n", cases[c].alloc, msg);
		}
		json_object_put(res);
		free(err);
	}
}

int main(void)
{
	/* one malloc arena: per-thread arenas are mappings of their own */
	mallopt(M_ARENA_MAX, 1);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stress_every_thread_safe_backend),
		cmocka_unit_test(test_trim_races_every_thread_safe_backend),
		cmocka_unit_test(test_cli_threads),
		cmocka_unit_test(test_streams_fail_at_once),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
