/* Design tests for slab-pool (tvm-ffi SlabPoolMemoryManager): best fit
 * (and its ties) and coalescing of the free lists, the pool split, exact
 * syscalls per operation, oversize doubling, first-slab halving on mmap
 * failure, and clear_free_slabs reclaiming only drained, used slabs
 * (in-process and through `jitmm run`). */
#include "design_util.h"

#include <errno.h>
#include <json.h>
#include <pthread.h>
#include <sys/mman.h>

#include "../allocators/backend.h"
#include "../allocators/os.h"
#include "../linker/contents.h"
#include "../probes/procfs_sample.h"

#define PAGE 4096ull
#define MiB (1ull << 20)

static void open_slab(struct jm_backend *b, const char *opts)
{
	char err[300];
	if (jm_backend_open(jm_backend_find("slab-pool"), opts, b, err, sizeof(err)) < 0)
		fail_msg("%s", err);
}

/* A graph of one segment per non-zero size, in AllocGroup order. */
static struct jm_graph_req graph(uint64_t id, uint64_t ro, uint64_t rw, uint64_t rx)
{
	struct jm_graph_req r = {.id = id};
	uint64_t sz[3] = {ro, rw, rx};
	enum jm_prot_class cls[3] = {JM_RO, JM_RW, JM_RX};
	for (int i = 0; i < 3; i++)
		if (sz[i])
			r.seg[r.nseg++] = (struct jm_segment_req){cls[i], JM_STANDARD, sz[i], 0, 16};
	return r;
}

static void alloc_fin(struct jm_backend *b, const struct jm_graph_req *r, struct jm_alloc *a)
{
	if (b->ops->allocate(b, r, a) < 0)
		fail_msg("allocate: %s", b->err);
	a->id = r->id;
	jm_contents_write(a);
	if (b->ops->finalize(b, a) < 0)
		fail_msg("finalize: %s", b->err);
}

static uintptr_t addr(const struct jm_alloc *a) { return (uintptr_t)a->seg[0].exec; }

static void test_best_fit_and_coalescing(void **state)
{
	(void)state;
	struct jm_backend b;
	open_slab(&b, "thp=off");
	/* ro-only graphs bump upward in the non-exec pool:
	 * |A 3p|s1|B 1p|s2|C 2p|s3| */
	struct jm_alloc A, s1, B, s2, C, s3, x, y, z;
	struct jm_graph_req r;
	r = graph(1, 3 * PAGE, 0, 0); alloc_fin(&b, &r, &A);
	r = graph(2, PAGE, 0, 0); alloc_fin(&b, &r, &s1);
	r = graph(3, PAGE, 0, 0); alloc_fin(&b, &r, &B);
	r = graph(4, PAGE, 0, 0); alloc_fin(&b, &r, &s2);
	r = graph(5, 2 * PAGE, 0, 0); alloc_fin(&b, &r, &C);
	r = graph(6, PAGE, 0, 0); alloc_fin(&b, &r, &s3);
	assert_int_equal(addr(&s1), addr(&A) + 3 * PAGE);
	assert_int_equal(addr(&s3), addr(&C) + 2 * PAGE);
	assert_int_equal(b.ops->deallocate(&b, &A), 0);
	assert_int_equal(b.ops->deallocate(&b, &B), 0);
	assert_int_equal(b.ops->deallocate(&b, &C), 0);
	assert_int_equal(tu_backend_extra(&b, "free_ranges"), 3);
	/* 2 pages: the exact 2-page hole C, not the lower 3-page hole A
	 * (first fit would take A) */
	r = graph(7, 2 * PAGE, 0, 0); alloc_fin(&b, &r, &x);
	assert_int_equal(addr(&x), addr(&C));
	/* 1 page: the exact hole B */
	r = graph(8, PAGE, 0, 0); alloc_fin(&b, &r, &y);
	assert_int_equal(addr(&y), addr(&B));
	assert_int_equal(tu_backend_extra(&b, "free_ranges"), 1); /* only A is left */
	/* coalescing: free s1 and y (B): A + s1 + B become one 5-page block */
	assert_int_equal(b.ops->deallocate(&b, &s1), 0);
	assert_int_equal(tu_backend_extra(&b, "free_ranges"), 1);
	assert_int_equal(b.ops->deallocate(&b, &y), 0);
	assert_int_equal(tu_backend_extra(&b, "free_ranges"), 1);
	r = graph(9, 5 * PAGE, 0, 0); alloc_fin(&b, &r, &z);
	assert_int_equal(addr(&z), addr(&A));
	assert_int_equal(tu_backend_extra(&b, "free_ranges"), 0);
	/* best fit takes from the low end of a larger block: 1 page of a
	 * freed 2-page block */
	assert_int_equal(b.ops->deallocate(&b, &x), 0);
	r = graph(10, PAGE, 0, 0); alloc_fin(&b, &r, &y);
	assert_int_equal(addr(&y), addr(&C));
	char why[256] = "";
	if (jm_contents_check(&y, 1, why, sizeof(why)) < 0)
		fail_msg("%s", why);
	jm_backend_close(&b);
}

/* Ties: among free blocks of the same size the lowest offset wins, as in
 * upstream's scan of its offset-sorted list with a strict '<' (the blocks
 * are freed highest first, so the order they went in does not decide). */
static void test_best_fit_ties(void **state)
{
	(void)state;
	struct jm_backend b;
	open_slab(&b, "thp=off");
	/* |D 2p|t1|E 2p|t2|F 3p|t3| */
	struct jm_alloc D, t1, E, t2, F, t3, x;
	struct jm_graph_req r;
	r = graph(1, 2 * PAGE, 0, 0); alloc_fin(&b, &r, &D);
	r = graph(2, PAGE, 0, 0); alloc_fin(&b, &r, &t1);
	r = graph(3, 2 * PAGE, 0, 0); alloc_fin(&b, &r, &E);
	r = graph(4, PAGE, 0, 0); alloc_fin(&b, &r, &t2);
	r = graph(5, 3 * PAGE, 0, 0); alloc_fin(&b, &r, &F);
	r = graph(6, PAGE, 0, 0); alloc_fin(&b, &r, &t3);
	uintptr_t d = addr(&D), e = addr(&E), f = addr(&F);
	assert_int_equal(b.ops->deallocate(&b, &F), 0);
	assert_int_equal(b.ops->deallocate(&b, &E), 0);
	assert_int_equal(b.ops->deallocate(&b, &D), 0);
	/* 2 pages: D and E fit exactly, D is lower */
	r = graph(7, 2 * PAGE, 0, 0); alloc_fin(&b, &r, &x);
	assert_int_equal(addr(&x), d);
	/* 1 page: E (2 pages) is the shortest fit, not F; then the rest of E,
	 * an exact fit; then the low end of F */
	uintptr_t want[3] = {e, e + PAGE, f};
	for (int i = 0; i < 3; i++) {
		r = graph(8 + i, PAGE, 0, 0); alloc_fin(&b, &r, &x);
		assert_int_equal(addr(&x), want[i]);
	}
	assert_int_equal(tu_backend_extra(&b, "free_ranges"), 1); /* 2 pages of F */
	jm_backend_close(&b);
}

static void test_pool_split(void **state)
{
	(void)state;
	struct jm_backend b;
	open_slab(&b, "thp=off");
	struct jm_alloc a;
	struct jm_graph_req r = graph(1, PAGE, PAGE, PAGE);
	alloc_fin(&b, &r, &a);
	/* non-exec segments at the slab base; exec at the midpoint:
	 * floor_2M(64M * 2/3) = 42 MiB */
	uintptr_t base = (uintptr_t)a.seg[0].exec;
	assert_int_equal((uintptr_t)a.seg[1].exec, base + PAGE);
	assert_int_equal((uintptr_t)a.seg[2].exec, base + 42 * MiB);
	assert_int_equal(base % PAGE, 0);
	char why[256] = "";
	assert_int_equal(tu_check_prot(a.seg[0].exec, PAGE, "r--", why, sizeof(why)), 0);
	assert_int_equal(tu_check_prot(a.seg[1].exec, PAGE, "rw-", why, sizeof(why)), 0);
	assert_int_equal(tu_check_prot(a.seg[2].exec, PAGE, "r-x", why, sizeof(why)), 0);
	/* the rest of the slab is PROT_NONE: the committed chunk around it is
	 * rw-, the uncommitted rest ---  */
	assert_int_equal(tu_check_prot((char *)base + 2 * MiB, PAGE, "---", why, sizeof(why)), 0);
	jm_backend_close(&b);
}

static void test_syscalls_per_operation(void **state)
{
	(void)state;
	struct jm_os_counters c0, c1, d;
	struct jm_backend b;
	jm_os_snapshot(&c0);
	open_slab(&b, "");
	jm_os_snapshot(&c1);
	jm_os_diff(&c0, &c1, &d);
	/* create: one PROT_NONE slab mmap + madvise(MADV_HUGEPAGE) */
	assert_int_equal(d.sys[JM_SYS_MMAP].calls, 1);
	assert_int_equal(d.sys[JM_SYS_MMAP].bytes, 64 * MiB);
	assert_int_equal(d.sys[JM_SYS_MADVISE].calls, 1);
	assert_int_equal(jm_os_total_calls(&d), 2);

	/* first allocate: per pool one mprotect(RW) of the 2 MiB chunk, then
	 * the region reset mprotect(RW): 4, no mmap */
	struct jm_alloc a, a2;
	struct jm_graph_req r = graph(1, PAGE, PAGE, 100);
	jm_os_snapshot(&c0);
	assert_int_equal(b.ops->allocate(&b, &r, &a), 0);
	jm_os_snapshot(&c1);
	jm_os_diff(&c0, &c1, &d);
	assert_int_equal(d.sys[JM_SYS_MPROTECT].calls, 4);
	assert_int_equal(d.sys[JM_SYS_MPROTECT].bytes, 2 * MiB + 2 * PAGE + 2 * MiB + PAGE);
	assert_int_equal(jm_os_total_calls(&d), 4);

	/* finalize: one mprotect per segment */
	a.id = 1;
	jm_contents_write(&a);
	jm_os_snapshot(&c0);
	assert_int_equal(b.ops->finalize(&b, &a), 0);
	jm_os_snapshot(&c1);
	jm_os_diff(&c0, &c1, &d);
	assert_int_equal(d.sys[JM_SYS_MPROTECT].calls, 3);
	assert_int_equal(jm_os_total_calls(&d), 3);

	/* deallocate: no syscall at all */
	jm_os_snapshot(&c0);
	assert_int_equal(b.ops->deallocate(&b, &a), 0);
	jm_os_snapshot(&c1);
	jm_os_diff(&c0, &c1, &d);
	assert_int_equal(jm_os_total_calls(&d), 0);
	/* ... so the freed pages keep their finalized protections */
	char why[256] = "";
	assert_int_equal(tu_check_prot(a.seg[2].exec, PAGE, "r-x", why, sizeof(why)), 0);

	/* the same shape again: chunks already committed, only the two region
	 * resets; the recycled r-x page becomes rw- again */
	jm_os_snapshot(&c0);
	assert_int_equal(b.ops->allocate(&b, &r, &a2), 0);
	jm_os_snapshot(&c1);
	jm_os_diff(&c0, &c1, &d);
	assert_int_equal(d.sys[JM_SYS_MPROTECT].calls, 2);
	assert_int_equal(jm_os_total_calls(&d), 2);
	assert_ptr_equal(a2.seg[2].exec, a.seg[2].exec);
	assert_int_equal(tu_check_prot(a2.seg[2].exec, PAGE, "rw-", why, sizeof(why)), 0);
	assert_int_equal(b.ops->deallocate(&b, &a2), 0);

	/* destroy: one munmap per slab */
	jm_os_snapshot(&c0);
	jm_backend_close(&b);
	jm_os_snapshot(&c1);
	jm_os_diff(&c0, &c1, &d);
	assert_int_equal(d.sys[JM_SYS_MUNMAP].calls, 1);
	assert_int_equal(jm_os_total_calls(&d), 1);

	/* thp=off: no madvise */
	jm_os_snapshot(&c0);
	open_slab(&b, "thp=off");
	jm_os_snapshot(&c1);
	jm_os_diff(&c0, &c1, &d);
	assert_int_equal(d.sys[JM_SYS_MADVISE].calls, 0);
	jm_backend_close(&b);
}

static void test_finalize_lifetime_tail_returns(void **state)
{
	(void)state;
	struct jm_backend b;
	open_slab(&b, "thp=off");
	struct jm_graph_req r = {.id = 1, .nseg = 2};
	r.seg[0] = (struct jm_segment_req){JM_RO, JM_STANDARD, PAGE, 0, 8};
	r.seg[1] = (struct jm_segment_req){JM_RO, JM_FINALIZE, 2 * PAGE, 0, 8};
	struct jm_alloc a, c;
	assert_int_equal(b.ops->allocate(&b, &r, &a), 0);
	uintptr_t fin = (uintptr_t)a.seg[1].exec;
	assert_int_equal(fin, (uintptr_t)a.seg[0].exec + PAGE); /* std then fin */
	a.id = 1;
	jm_contents_write(&a);
	assert_int_equal(b.ops->finalize(&b, &a), 0);
	assert_null(a.seg[1].exec); /* given back at finalize */
	assert_int_equal(tu_backend_extra(&b, "free_ranges"), 1);
	struct jm_graph_req r2 = graph(2, 2 * PAGE, 0, 0);
	alloc_fin(&b, &r2, &c);
	assert_int_equal(addr(&c), fin);
	jm_backend_close(&b);
}

static void test_oversize_doubles(void **state)
{
	(void)state;
	struct jm_backend b;
	open_slab(&b, "slab_size=8M,thp=off");
	/* 10 MiB of code: exec budgets are 4M (8M slab), 6M (16M), 12M (32M) */
	struct jm_graph_req r = graph(1, PAGE, 0, 10 * MiB);
	struct jm_os_counters c0, c1, d;
	struct jm_alloc a;
	jm_os_snapshot(&c0);
	alloc_fin(&b, &r, &a);
	jm_os_snapshot(&c1);
	jm_os_diff(&c0, &c1, &d);
	assert_int_equal(d.sys[JM_SYS_MMAP].calls, 1);
	assert_int_equal(d.sys[JM_SYS_MMAP].bytes, 32 * MiB);
	assert_int_equal(tu_backend_extra(&b, "slabs"), 2);
	assert_int_equal(tu_backend_extra(&b, "exhausted_retries"), 1);
	char why[256] = "";
	if (jm_contents_check(&a, 1, why, sizeof(why)) < 0)
		fail_msg("%s", why);
	/* the next normal graph still goes to the first (8M) slab */
	struct jm_alloc n;
	struct jm_graph_req r2 = graph(2, PAGE, 0, PAGE);
	jm_os_snapshot(&c0);
	alloc_fin(&b, &r2, &n);
	jm_os_snapshot(&c1);
	jm_os_diff(&c0, &c1, &d);
	assert_int_equal(d.sys[JM_SYS_MMAP].calls, 0);

	/* doubling stops at reach (2 GiB - 2 MiB): a 1 GiB code segment
	 * cannot fit the exec pool of any slab, so the pool reserves a 2 GiB
	 * slab (PROT_NONE, nothing touched) and reports it exhausted */
	struct jm_graph_req huge = graph(3, 0, 0, 1ull << 30);
	struct jm_alloc h;
	jm_os_snapshot(&c0);
	assert_int_equal(b.ops->allocate(&b, &huge, &h), -1);
	jm_os_snapshot(&c1);
	jm_os_diff(&c0, &c1, &d);
	assert_int_equal(d.sys[JM_SYS_MMAP].calls, 1);
	assert_int_equal(d.sys[JM_SYS_MMAP].bytes, 2ull << 30);
	assert_non_null(strstr(b.err, "exec pool exhausted"));
	jm_backend_close(&b);
}

static void test_first_slab_halves_on_enomem(void **state)
{
	(void)state;
	struct jm_os_counters c0, c1, d;
	struct jm_backend b;
	/* 64M, 32M and 16M fail: the pool settles on 8M */
	jm_os_snapshot(&c0);
	for (uint64_t n = 1; n <= 3; n++)
		assert_int_equal(jm_os_inject(JM_SYS_MMAP, ENOMEM, n), 0);
	open_slab(&b, "thp=off");
	jm_os_inject_clear();
	jm_os_snapshot(&c1);
	jm_os_diff(&c0, &c1, &d);
	assert_int_equal(d.sys[JM_SYS_MMAP].calls, 4);
	assert_int_equal(d.sys[JM_SYS_MMAP].errors, 3);
	assert_int_equal(d.sys[JM_SYS_MMAP].bytes, 8 * MiB);
	assert_int_equal(tu_backend_extra(&b, "slab_size"), 8 * MiB);
	/* later slabs use the pinned 8M size */
	struct jm_alloc a, a2;
	struct jm_graph_req r = graph(1, 3 * MiB, 0, 0);
	alloc_fin(&b, &r, &a);
	jm_os_snapshot(&c0);
	alloc_fin(&b, &r, &a2);
	jm_os_snapshot(&c1);
	jm_os_diff(&c0, &c1, &d);
	assert_int_equal(d.sys[JM_SYS_MMAP].calls, 1);
	assert_int_equal(d.sys[JM_SYS_MMAP].bytes, 8 * MiB);
	jm_backend_close(&b);

	/* four failures: nothing at or above 8M could be reserved */
	for (uint64_t n = 1; n <= 4; n++)
		assert_int_equal(jm_os_inject(JM_SYS_MMAP, ENOMEM, n), 0);
	char err[300];
	int rc = jm_backend_open(jm_backend_find("slab-pool"), "", &b, err, sizeof(err));
	jm_os_inject_clear();
	assert_int_equal(rc, -1);
	assert_non_null(strstr(err, "at least 8 MB"));
	assert_non_null(strstr(err, "ENOMEM"));
}

static void test_clear_free_slabs(void **state)
{
	(void)state;
	struct jm_backend b;
	struct jm_trim_result t;
	open_slab(&b, "slab_size=8M,thp=off");
	/* a fresh, never used slab is kept */
	assert_int_equal(b.ops->trim(&b, &t), 0);
	assert_int_equal(t.units_released, 0);
	/* 3 MiB of data per graph: one graph per 8M slab (4M non-exec pool) */
	struct jm_alloc g1, g2, g3, g4;
	struct jm_graph_req r1 = graph(1, 3 * MiB, 0, PAGE), r2 = graph(2, 3 * MiB, 0, PAGE),
			    r3 = graph(3, 3 * MiB, 0, PAGE), r4 = graph(4, 3 * MiB, 0, 0);
	alloc_fin(&b, &r1, &g1);
	alloc_fin(&b, &r2, &g2);
	alloc_fin(&b, &r3, &g3);
	assert_int_equal(tu_backend_extra(&b, "slabs"), 3);
	/* a slab whose only allocation was abandoned before finalize was
	 * never used: kept */
	assert_int_equal(b.ops->allocate(&b, &r4, &g4), 0);
	assert_int_equal(tu_backend_extra(&b, "slabs"), 4);
	assert_int_equal(b.ops->deallocate(&b, &g4), 0);
	/* drain the first and the third slab; the second one stays live */
	assert_int_equal(b.ops->deallocate(&b, &g1), 0);
	assert_int_equal(b.ops->deallocate(&b, &g3), 0);

	long v0 = jm_vma_count(0);
	uint64_t rss0 = jm_rss_rollup(0);
	struct jm_os_counters c0, c1, d;
	jm_os_snapshot(&c0);
	assert_int_equal(b.ops->trim(&b, &t), 0);
	jm_os_snapshot(&c1);
	jm_os_diff(&c0, &c1, &d);
	long v1 = jm_vma_count(0);
	uint64_t rss1 = jm_rss_rollup(0);
	assert_int_equal(t.units_released, 2);
	assert_int_equal(t.bytes_released, 16 * MiB);
	assert_int_equal(d.sys[JM_SYS_MUNMAP].calls, 2);
	assert_int_equal(d.sys[JM_SYS_MUNMAP].bytes, 16 * MiB);
	assert_int_equal(jm_os_total_calls(&d), 2);
	assert_int_equal(tu_backend_extra(&b, "slabs"), 2);
	assert_int_equal(tu_backend_extra(&b, "slabs_reclaimed"), 2);
	/* each slab held [r-- 3M | rw- | --- | r-x | ---]: several VMAs, and
	 * 3 MiB + a page of touched memory */
	printf("# trim: %ld -> %ld VMAs, RSS %llu -> %llu\n", v0, v1,
	       (unsigned long long)rss0, (unsigned long long)rss1);
	assert_true(v0 - v1 >= 6);
	assert_true(rss0 > rss1 && rss0 - rss1 >= 5 * MiB); /* 2 x (3 MiB + a page) */
	/* the live graph is untouched */
	char why[256] = "";
	if (jm_contents_check(&g2, 1, why, sizeof(why)) < 0)
		fail_msg("%s", why);
	/* nothing more to give back */
	assert_int_equal(b.ops->trim(&b, &t), 0);
	assert_int_equal(t.units_released, 0);
	/* drain the last used slab: it goes too, the abandoned one stays */
	assert_int_equal(b.ops->deallocate(&b, &g2), 0);
	assert_int_equal(b.ops->trim(&b, &t), 0);
	assert_int_equal(t.units_released, 1);
	assert_int_equal(tu_backend_extra(&b, "slabs"), 1);
	/* and the pool keeps working: a new graph lands in the kept slab */
	alloc_fin(&b, &r1, &g1);
	assert_int_equal(tu_backend_extra(&b, "slabs"), 1);
	jm_backend_close(&b);
}

/* metrics of the first run in a results file */
static json_object *run_metrics(json_object *root)
{
	json_object *runs, *run, *m;
	assert_true(json_object_object_get_ex(root, "runs", &runs));
	run = json_object_array_get_idx(runs, 0);
	assert_non_null(run);
	json_object *st;
	assert_true(json_object_object_get_ex(run, "status", &st));
	assert_string_equal(json_object_get_string(st), "ok");
	assert_true(json_object_object_get_ex(run, "metrics", &m));
	return m;
}

static int64_t geti(json_object *o, const char *key)
{
	json_object *v;
	if (!json_object_object_get_ex(o, key, &v))
		fail_msg("no %s in metrics", key);
	return json_object_get_int64(v);
}

static void test_load_drop_cycle_via_run(void **state)
{
	(void)state;
	if (access(tu_jitmm_bin(), X_OK) != 0)
		SKIP_BECAUSE("the jitmm binary is not built");
	char path[] = "/tmp/jitmm-slab-XXXXXX";
	int fd = mkstemp(path);
	close(fd);
	/* load/drop cycles without trims, then --trim-at-end: the drained
	 * slab and its VMAs, RSS and VA are given back */
	char *args[] = {"run", "-q", "-b", "slab-pool:thp=off", "-w",
			"tvm-load-drop:trim=off", "--trim-at-end", "--json", path, NULL};
	char *out = NULL, *err = NULL;
	int rc = tu_run_jitmm(args, &out, &err);
	if (rc != 0)
		fail_msg("jitmm run exited %d: %s", rc, err);
	json_object *root = json_object_from_file(path);
	assert_non_null(root);
	json_object *m = run_metrics(root), *t;
	assert_true(json_object_object_get_ex(m, "trim_at_end", &t));
	printf("# trim_at_end: %s\n", json_object_to_json_string(t));
	assert_int_equal(geti(t, "units_released"), 1);
	assert_int_equal(geti(t, "bytes_released"), 64 * MiB);
	assert_int_equal(geti(t, "va_released_bytes"), 64 * MiB);
	assert_true(geti(t, "vmas_released") >= 2);
	assert_true(geti(t, "rss_released_bytes") > 0);
	json_object_put(root);
	free(out);
	free(err);

	/* the preset itself trims after every drop: 32 slabs reclaimed and
	 * no VMA left behind */
	char *args2[] = {"run", "-q", "-b", "slab-pool", "-w", "tvm-load-drop",
			 "--json", path, NULL};
	rc = tu_run_jitmm(args2, &out, &err);
	if (rc != 0)
		fail_msg("jitmm run exited %d: %s", rc, err);
	root = json_object_from_file(path);
	m = run_metrics(root);
	assert_int_equal(geti(m, "trim_units_released"), 32);
	assert_int_equal(geti(m, "trim_bytes_released"), 32 * 64 * MiB);
#ifndef __SANITIZE_ADDRESS__ /* ASan's allocator maps memory of its own */
	assert_true(geti(m, "vmas_added") <= 1); /* heap growth at most */
#endif
	assert_int_equal(geti(m, "va_reserved_bytes"), 0);
	json_object_put(root);
	free(out);
	free(err);
	unlink(path);
}

struct worker {
	struct jm_backend *b;
	int id;
	char err[300];
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct jm_alloc a[8];
	for (int round = 0; round < 40; round++) {
		for (int i = 0; i < 8; i++) {
			uint64_t id = (uint64_t)w->id * 100000 + (uint64_t)round * 8 + (uint64_t)i + 1;
			struct jm_graph_req r = graph(id, PAGE * (1 + (uint64_t)i % 3),
						      i % 2 ? PAGE : 0, 100 + (uint64_t)i * 500);
			if (w->b->ops->allocate(w->b, &r, &a[i]) < 0 ||
			    (a[i].id = id, jm_contents_write(&a[i]), 0) ||
			    w->b->ops->finalize(w->b, &a[i]) < 0) {
				snprintf(w->err, sizeof(w->err), "allocate/finalize: %s", w->b->err);
				return NULL;
			}
		}
		/* read back (not execute: upstream's lock-free chunk commit may
		 * race a neighbour's finalize, see slab_pool.c) */
		for (int i = 0; i < 8; i++) {
			if (jm_contents_check(&a[i], 0, w->err, sizeof(w->err)) < 0)
				return NULL;
			if (w->b->ops->deallocate(w->b, &a[i]) < 0) {
				snprintf(w->err, sizeof(w->err), "deallocate failed");
				return NULL;
			}
		}
	}
	return NULL;
}

static void test_threads(void **state)
{
	(void)state;
	/* four threads allocating, writing, reading back and freeing at once:
	 * an overlap between threads would show as foreign bytes */
	struct jm_backend b;
	open_slab(&b, "slab_size=8M,thp=off");
	assert_true(b.ops->caps & JM_CAP_THREAD_SAFE);
	pthread_t t[4];
	struct worker w[4];
	for (int i = 0; i < 4; i++) {
		w[i] = (struct worker){.b = &b, .id = i + 1};
		assert_int_equal(pthread_create(&t[i], NULL, worker_main, &w[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		if (w[i].err[0])
			fail_msg("thread %d: %s", i, w[i].err);
	}
	assert_int_equal(tu_backend_extra(&b, "live_allocations"), 0);
	struct jm_backend_stats st = {0};
	b.ops->stats(&b, &st);
	assert_int_equal(st.bytes_live, 0);
	jm_backend_close(&b);
}

/* tvm-ffi orcjit_slab.cc: classifyOverflowSections picks sections named
 * .nv_fatbin*; Slab::allocate maps each outside the slab with its own
 * mmap(RW) (after the slab regions), InFlightAlloc::finalize protects it
 * after the slab segments, deallocateOne and InFlightAlloc::abandon
 * munmap it. Any other section name stays in the slab. */
static void test_nv_fatbin_overflow(void **state)
{
	(void)state;
	const uint64_t ps = jm_page_size(), fat = 3ull << 20;
	struct jm_backend b;
	du_open(&b, "slab-pool", "slab_size=16M");
	struct jm_graph_req req;
	du_graph(&req, 1, fat + 100, 100, 100);
	snprintf(req.section.name, sizeof(req.section.name), ".nv_fatbin");
	req.section.cls = JM_RO;
	req.section.size = fat;
	struct jm_alloc a;
	du_mark();
	du_alloc(&b, &req, &a);
	assert_int_equal(a.nseg, 4);
	const struct jm_segment_alloc *ov = &a.seg[3];
	assert_int_equal(ov->cls, JM_RO);
	assert_int_equal(ov->size, fat);
	assert_int_equal(a.seg[0].size, 100); /* the rest of ro stays in the slab */
	assert_int_equal(du_calls(JM_SYS_MMAP), 1);
	assert_int_equal(du_bytes(JM_SYS_MMAP), fat);
	du_mark();
	du_finalize(&b, &a);
	/* three slab segments, then the overflow block */
	assert_int_equal(du_calls(JM_SYS_MPROTECT), 4);
	assert_int_equal(du_bytes(JM_SYS_MPROTECT), 3 * ps + fat);
	char why[256] = "";
	if (tu_check_prot(ov->exec, fat, "r--", why, sizeof(why)) < 0)
		fail_msg("overflow block: %s", why);
	du_mark();
	assert_int_equal(b.ops->deallocate(&b, &a), 0);
	assert_int_equal(du_calls(JM_SYS_MUNMAP), 1);
	assert_int_equal(du_bytes(JM_SYS_MUNMAP), fat);
	assert_int_equal(du_calls(JM_SYS_MPROTECT), 0);
	assert_false(du_mapped((uintptr_t)ov->exec));

	/* abandon: the overflow block goes too */
	du_alloc(&b, &req, &a);
	void *ov_at = a.seg[3].exec;
	du_mark();
	assert_int_equal(b.ops->deallocate(&b, &a), 0);
	assert_int_equal(du_calls(JM_SYS_MUNMAP), 1);
	assert_false(du_mapped((uintptr_t)ov_at));

	/* another section name: all in the slab, no extra mmap */
	snprintf(req.section.name, sizeof(req.section.name), ".rodata");
	du_mark();
	du_alloc(&b, &req, &a);
	assert_int_equal(a.nseg, 3);
	assert_int_equal(du_calls(JM_SYS_MMAP), 0);
	du_finalize(&b, &a);
	assert_int_equal(b.ops->deallocate(&b, &a), 0);
	jm_backend_close(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_best_fit_and_coalescing),
		cmocka_unit_test(test_best_fit_ties),
		cmocka_unit_test(test_pool_split),
		cmocka_unit_test(test_syscalls_per_operation),
		cmocka_unit_test(test_finalize_lifetime_tail_returns),
		cmocka_unit_test(test_oversize_doubles),
		cmocka_unit_test(test_first_slab_halves_on_enomem),
		cmocka_unit_test(test_clear_free_slabs),
		cmocka_unit_test(test_load_drop_cycle_via_run),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_nv_fatbin_overflow),
	};
	return cmocka_run_group_tests_name("slab-pool design", tests, NULL, NULL);
}
