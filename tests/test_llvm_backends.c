/* Pinned behaviour of the two LLVM models (reference/allocators.md
 * sections 1 and 2): exact syscalls per operation, free-set coalescing and
 * the VMA cost of interleaved permissions. */
#include "testutil.h"

#include <sys/mman.h>

#include "../allocators/backend.h"
#include "../allocators/os.h"
#include "../linker/contents.h"
#include "../run/runner.h"
#include "../reports/results.h"

static struct jm_backend open_backend(const char *name, const char *opts)
{
	struct jm_backend b;
	char err[256];
	if (jm_backend_open(jm_backend_find(name), opts, &b, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	return b;
}

static struct jm_graph_req graph(uint64_t id, uint64_t ro, uint64_t rw, uint64_t rx)
{
	struct jm_graph_req r = {.id = id};
	if (ro) r.seg[r.nseg++] = (struct jm_segment_req){JM_RO, JM_STANDARD, ro, 0, 16};
	if (rw) r.seg[r.nseg++] = (struct jm_segment_req){JM_RW, JM_STANDARD, rw, 0, 16};
	if (rx) r.seg[r.nseg++] = (struct jm_segment_req){JM_RX, JM_STANDARD, rx, 0, 16};
	jm_graph_normalize(&r);
	return r;
}

static struct jm_os_counters delta_since(const struct jm_os_counters *a)
{
	struct jm_os_counters b, d;
	jm_os_snapshot(&b);
	jm_os_diff(a, &b, &d);
	return d;
}

#define CALLS(d, s) ((d).sys[JM_SYS_##s].calls)

static void test_single_pool_syscalls_per_op(void **state)
{
	(void)state;
	struct jm_backend b = open_backend("single-pool", "granularity=1M");
	struct jm_os_counters t0, d;
	struct jm_alloc a1, a2;
	struct jm_graph_req g1 = graph(1, 100, 200, 300), g2 = graph(2, 0, 5000, 70);

	jm_os_snapshot(&t0);
	assert_int_equal(b.ops->allocate(&b, &g1, &a1), 0);
	d = delta_since(&t0);
	assert_int_equal(CALLS(d, MMAP), 1); /* the first reservation */
	assert_int_equal(d.sys[JM_SYS_MMAP].bytes, 1 << 20);
	assert_int_equal(CALLS(d, MPROTECT), 0);

	jm_os_snapshot(&t0);
	assert_int_equal(b.ops->allocate(&b, &g2, &a2), 0);
	d = delta_since(&t0);
	assert_int_equal(jm_os_total_calls(&d), 0); /* fits the reservation */

	/* segments contiguous from the low end, page aligned, group order */
	assert_ptr_equal((char *)a1.seg[1].exec, (char *)a1.seg[0].exec + 4096);
	assert_ptr_equal((char *)a1.seg[2].exec, (char *)a1.seg[1].exec + 4096);
	assert_ptr_equal((char *)a2.seg[0].exec, (char *)a1.seg[2].exec + 4096);
	assert_int_equal(a1.seg[0].cls, JM_RO);
	assert_int_equal(a1.seg[1].cls, JM_RW);
	assert_int_equal(a1.seg[2].cls, JM_RX);

	jm_contents_write(&a1);
	jm_os_snapshot(&t0);
	assert_int_equal(b.ops->finalize(&b, &a1), 0);
	d = delta_since(&t0);
	assert_int_equal(CALLS(d, MPROTECT), 3); /* one per non-empty segment */
	assert_int_equal(jm_os_total_calls(&d), 3);

	jm_contents_write(&a2);
	jm_os_snapshot(&t0);
	assert_int_equal(b.ops->finalize(&b, &a2), 0);
	d = delta_since(&t0);
	assert_int_equal(CALLS(d, MPROTECT), 2);

	jm_os_snapshot(&t0);
	assert_int_equal(b.ops->deallocate(&b, &a1), 0);
	d = delta_since(&t0);
	assert_int_equal(CALLS(d, MPROTECT), 1); /* one RW reset over the span */
	assert_int_equal(d.sys[JM_SYS_MPROTECT].bytes, 3 * 4096);
	assert_int_equal(jm_os_total_calls(&d), 1); /* no munmap, no madvise */

	assert_int_equal(b.ops->deallocate(&b, &a2), 0);
	jm_os_snapshot(&t0);
	jm_backend_close(&b);
	d = delta_since(&t0);
	assert_int_equal(CALLS(d, MUNMAP), 1); /* reservations die with the manager */
}

static void test_single_pool_coalesces(void **state)
{
	(void)state;
	struct jm_backend b = open_backend("single-pool", "granularity=1M");
	struct jm_alloc a, c, keep, big;
	struct jm_graph_req one = graph(1, 0, 0, 4096);
	assert_int_equal(b.ops->allocate(&b, &one, &a), 0);
	one.id = 2;
	assert_int_equal(b.ops->allocate(&b, &one, &c), 0);
	one.id = 3;
	assert_int_equal(b.ops->allocate(&b, &one, &keep), 0);
	assert_ptr_equal((char *)c.seg[0].exec, (char *)a.seg[0].exec + 4096);
	jm_contents_write(&a);
	jm_contents_write(&c);
	b.ops->finalize(&b, &a);
	b.ops->finalize(&b, &c);
	assert_int_equal(b.ops->deallocate(&b, &a), 0);
	assert_int_equal(b.ops->deallocate(&b, &c), 0);
	/* the two freed neighbours are one free range of two pages, lower than
	 * the reservation's tail: a two-page request reuses them */
	struct jm_os_counters t0, d;
	struct jm_graph_req two = graph(4, 0, 4096, 4096);
	jm_os_snapshot(&t0);
	assert_int_equal(b.ops->allocate(&b, &two, &big), 0);
	d = delta_since(&t0);
	assert_int_equal(CALLS(d, MMAP), 0);
	assert_ptr_equal(big.seg[0].exec, a.seg[0].exec);
	struct jm_backend_stats st = {0};
	b.ops->stats(&b, &st);
	assert_int_equal(st.reservations, 1);
	jm_backend_close(&b);
}

static void test_single_pool_grows_by_granularity(void **state)
{
	(void)state;
	struct jm_backend b = open_backend("single-pool", "granularity=64K");
	struct jm_os_counters t0, d;
	struct jm_alloc a;
	struct jm_graph_req g = graph(1, 0, 0, 100 * 1024); /* 25 pages > 64K */
	jm_os_snapshot(&t0);
	assert_int_equal(b.ops->allocate(&b, &g, &a), 0);
	d = delta_since(&t0);
	assert_int_equal(CALLS(d, MMAP), 1);
	assert_int_equal(d.sys[JM_SYS_MMAP].bytes, 128 * 1024); /* alignTo(T, granularity) */
	b.ops->deallocate(&b, &a);
	jm_backend_close(&b);
}

static void test_inprocess_syscalls_per_op(void **state)
{
	(void)state;
	struct jm_backend b = open_backend("inprocess", "");
	struct jm_os_counters t0, d;
	struct jm_alloc a;
	struct jm_graph_req g = graph(1, 100, 200, 300);
	/* a finalize-lifetime segment: mapped with the graph, unmapped at finalize */
	g.seg[g.nseg++] = (struct jm_segment_req){JM_RO, JM_FINALIZE, 50, 0, 8};
	jm_graph_normalize(&g);
	jm_os_snapshot(&t0);
	assert_int_equal(b.ops->allocate(&b, &g, &a), 0);
	d = delta_since(&t0);
	assert_int_equal(CALLS(d, MMAP), 1);
	assert_int_equal(d.sys[JM_SYS_MMAP].bytes, 4 * 4096);
	jm_contents_write(&a);
	jm_os_snapshot(&t0);
	assert_int_equal(b.ops->finalize(&b, &a), 0);
	d = delta_since(&t0);
	assert_int_equal(CALLS(d, MPROTECT), 4);
	assert_int_equal(CALLS(d, MUNMAP), 1); /* the finalize region */
	assert_int_equal(d.sys[JM_SYS_MUNMAP].bytes, 4096);
	assert_null(a.seg[3].exec);
	char why[256];
	assert_int_equal(jm_contents_check(&a, 1, why, sizeof(why)), 0);
	jm_os_snapshot(&t0);
	assert_int_equal(b.ops->deallocate(&b, &a), 0);
	d = delta_since(&t0);
	assert_int_equal(CALLS(d, MUNMAP), 1);
	assert_int_equal(d.sys[JM_SYS_MUNMAP].bytes, 3 * 4096);
	assert_int_equal(jm_os_total_calls(&d), 1);
	jm_backend_close(&b);
}

static json_object *run_in_child(const char *backend, const char *workload)
{
	struct jm_run_spec spec;
	memset(&spec, 0, sizeof(spec));
	char err[256];
	if (jm_backend_spec_parse(backend, &spec.backend, 1, err, sizeof(err)) != 1)
		fail_msg("%s", err);
	snprintf(spec.workload, sizeof(spec.workload), "%s", workload);
	spec.timeout_s = 120;
	spec.execute = 1;
	return jm_run_one(&spec, NULL);
}

/* 500 graphs of one RX page and one RW page: every segment its own VMA */
static void test_interleaving_costs_a_vma_per_segment(void **state)
{
	(void)state;
	const char *names[] = {"single-pool", "inprocess"};
	for (int i = 0; i < 2; i++) {
		json_object *run = run_in_child(names[i], "page-pairs");
		double added = 0, mprot = 0, graphs = 0;
		assert_string_equal(jm_json_str(run, "status", "?"), "ok");
		assert_int_equal(jm_json_num(run, "metrics.vmas_added", &added), 0);
		assert_int_equal(jm_json_num(run, "metrics.syscalls.mprotect.calls", &mprot), 0);
		assert_int_equal(jm_json_num(run, "metrics.graphs", &graphs), 0);
		printf("# %s on page-pairs: %.0f VMAs added, %.0f mprotect\n", names[i], added, mprot);
		assert_true(added >= 900);
		assert_int_equal((int)graphs, 500);
		assert_int_equal((int)mprot, 1000);
		json_object_put(run);
	}
}

/* Allocate (and write) graph g; finalize it when fin. */
static void link_graph(struct jm_backend *b, struct jm_graph_req g,
		       struct jm_alloc *a, int fin)
{
	if (b->ops->allocate(b, &g, a) < 0)
		fail_msg("%s: allocate: %s", b->ops->name, b->err);
	jm_contents_write(a);
	if (fin && b->ops->finalize(b, a) < 0)
		fail_msg("%s: finalize: %s", b->ops->name, b->err);
}

/* LLVM 22 MapperJITLinkMemoryManager.cpp, InFlightAlloc::abandon =
 * Mapper->deinitialize({AllocAddr}); InProcessMemoryMapper::deinitialize
 * (MemoryMapper.cpp) finds no initialized allocation there: no syscall,
 * and the range stays in UsedMemory, never again available. Measured with
 * the real LLVM 22 classes: abandoning the graph at a reservation's base
 * and one after it makes no syscall; the next graphs go past both. The
 * same holds for per-prot, colocate and shm-mapper:mode=inprocess-mapper,
 * which share the manager. */
static void test_mapper_abandon_llvm22(void **state)
{
	(void)state;
	static const char *const specs[][2] = {
		{"single-pool", "granularity=64K"},
		{"colocate", "slab_size=64K"},
		{"shm-mapper", "mode=inprocess-mapper,granularity=64K"},
		{"per-prot", "granularity=64K"},
	};
	for (size_t k = 0; k < sizeof(specs) / sizeof(specs[0]); k++) {
		struct jm_backend b = open_backend(specs[k][0], specs[k][1]);
		struct jm_alloc a, c, d;
		struct jm_os_counters t0, dd;
		link_graph(&b, graph(1, 100, 100, 100), &a, 0); /* at the base */
		link_graph(&b, graph(2, 100, 100, 100), &c, 0);
		jm_os_snapshot(&t0);
		assert_int_equal(b.ops->deallocate(&b, &c), 0);
		assert_int_equal(b.ops->deallocate(&b, &a), 0);
		dd = delta_since(&t0);
		assert_int_equal(jm_os_total_calls(&dd), 0);
		/* neither range comes back: the next graph lands after both */
		link_graph(&b, graph(3, 100, 100, 100), &d, 1);
		for (uint32_t i = 0; i < d.nseg; i++)
			assert_true((char *)d.seg[i].exec > (char *)c.seg[i].exec);
		if (strcmp(specs[k][0], "shm-mapper"))
			assert_int_equal(tu_backend_extra(&b, "abandoned_bytes"), 6 * 4096);
		assert_int_equal(b.ops->deallocate(&b, &d), 0);
		jm_backend_close(&b);
	}
}

/* LLVM 16-19 (measured with the real LLVM 16 and 19 classes):
 * InFlightAlloc::abandon = Mapper->release({AllocAddr}).
 * InProcessMemoryMapper::release (MemoryMapper.cpp) looks the address up
 * as a reservation: a graph not at a base releases nothing and its range
 * never returns; the graph at the base munmaps the whole reservation,
 * deinitializing (mprotect RW) the live finalized graphs in it first.
 * Upstream's next allocation in the unmapped range writes into unmapped
 * memory; the model fails it with an error instead. */
static void test_single_pool_abandon_llvm19(void **state)
{
	(void)state;
	struct jm_backend b = open_backend("single-pool", "granularity=64K,llvm=19");
	struct jm_alloc base, mid, live, after;
	struct jm_os_counters t0, d;
	link_graph(&b, graph(1, 100, 100, 100), &base, 0);
	link_graph(&b, graph(2, 100, 100, 100), &mid, 0);
	link_graph(&b, graph(3, 100, 100, 100), &live, 1);
	jm_os_snapshot(&t0);
	assert_int_equal(b.ops->deallocate(&b, &mid), 0);
	d = delta_since(&t0);
	assert_int_equal(jm_os_total_calls(&d), 0);
	jm_os_snapshot(&t0);
	assert_int_equal(b.ops->deallocate(&b, &base), 0);
	d = delta_since(&t0);
	assert_int_equal(CALLS(d, MPROTECT), 1); /* live's deinitialize */
	assert_int_equal(CALLS(d, MUNMAP), 1);
	assert_int_equal(d.sys[JM_SYS_MUNMAP].bytes, 64 << 10);
	/* the reservation's free tail is still in the pool, unmapped */
	struct jm_graph_req g = graph(4, 100, 100, 100);
	assert_int_equal(b.ops->allocate(&b, &g, &after), -1);
	assert_non_null(strstr(b.err, "unmapped by an earlier abandon"));
	/* live was deinitialized by release: its free makes no syscall */
	jm_os_snapshot(&t0);
	assert_int_equal(b.ops->deallocate(&b, &live), 0);
	d = delta_since(&t0);
	assert_int_equal(jm_os_total_calls(&d), 0);
	jm_backend_close(&b);
}

/* LLVM 15 (measured with the real LLVM 15 classes):
 * MapperJITLinkMemoryManager(std::unique_ptr<MemoryMapper>) has no pool:
 * every graph is its own reservation of exactly its size, and deallocate
 * and abandon munmap it (no mprotect). */
static void test_single_pool_llvm15_reservation_per_graph(void **state)
{
	(void)state;
	struct jm_backend b = open_backend("single-pool", "llvm=15");
	struct jm_alloc a, c;
	struct jm_os_counters t0, d;
	jm_os_snapshot(&t0);
	link_graph(&b, graph(1, 100, 100, 100), &a, 1);
	link_graph(&b, graph(2, 100, 100, 100), &c, 0);
	d = delta_since(&t0);
	assert_int_equal(CALLS(d, MMAP), 2);
	assert_int_equal(d.sys[JM_SYS_MMAP].bytes, 6 * 4096);
	assert_int_equal(CALLS(d, MPROTECT), 3);
	jm_os_snapshot(&t0);
	assert_int_equal(b.ops->deallocate(&b, &a), 0);
	assert_int_equal(b.ops->deallocate(&b, &c), 0);
	d = delta_since(&t0);
	assert_int_equal(CALLS(d, MUNMAP), 2);
	assert_int_equal(jm_os_total_calls(&d), 2);
	jm_backend_close(&b);
	char err[256];
	struct jm_backend x;
	assert_int_equal(jm_backend_open(jm_backend_find("single-pool"), "llvm=20",
					 &x, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not modelled"));
}

/* JITLinkMemoryManager.cpp, IPInFlightAlloc::abandon: releaseMappedMemory
 * of FinalizationSegments, then of StandardSegments (Support/Unix/
 * Memory.inc: nothing for an empty block). Measured with LLVM 15, 16, 19
 * and 22: one munmap without finalize-lifetime segments, two with. And
 * InProcessMemoryManager::deallocate before llvm#81943 (LLVM <= 18)
 * released the standard segments only for graphs with dealloc actions:
 * the real LLVM 15 and 16 classes make no syscall on free. */
static void test_inprocess_abandon_and_llvm18_free(void **state)
{
	(void)state;
	struct jm_backend b = open_backend("inprocess", "");
	struct jm_alloc a, f;
	struct jm_os_counters t0, d;
	struct jm_graph_req g = graph(1, 100, 100, 100);
	link_graph(&b, g, &a, 0);
	jm_os_snapshot(&t0);
	assert_int_equal(b.ops->deallocate(&b, &a), 0);
	d = delta_since(&t0);
	assert_int_equal(CALLS(d, MUNMAP), 1);
	assert_int_equal(jm_os_total_calls(&d), 1);
	g.seg[g.nseg++] = (struct jm_segment_req){JM_RW, JM_FINALIZE, 100, 0, 16};
	jm_graph_normalize(&g);
	link_graph(&b, g, &f, 0);
	jm_os_snapshot(&t0);
	assert_int_equal(b.ops->deallocate(&b, &f), 0);
	d = delta_since(&t0);
	assert_int_equal(CALLS(d, MUNMAP), 2);
	assert_int_equal(d.sys[JM_SYS_MUNMAP].bytes, 4 * 4096);
	jm_backend_close(&b);

	b = open_backend("inprocess", "llvm=18");
	link_graph(&b, graph(1, 100, 100, 100), &a, 1);
	jm_os_snapshot(&t0);
	assert_int_equal(b.ops->deallocate(&b, &a), 0);
	d = delta_since(&t0);
	assert_int_equal(jm_os_total_calls(&d), 0);
	assert_int_equal(tu_backend_extra(&b, "kept_bytes"), 3 * 4096);
	/* still mapped, at its final protections */
	char why[128];
	assert_int_equal(tu_check_prot(a.seg[2].exec, 1, "r-x", why, sizeof(why)), 0);
	jm_backend_close(&b);
	/* what upstream never unmaps, the test does */
	munmap(a.seg[0].exec, 3 * 4096);
}

/* 1 if the VMA holding addr is a mapping of the memfd "llvm-jit". */
static int on_llvm_memfd(const void *addr)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	int found = 0;
	while (f && fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;
		if (sscanf(line, "%lx-%lx", &lo, &hi) == 2 &&
		    (uintptr_t)addr >= lo && (uintptr_t)addr < hi) {
			found = strstr(line, "/memfd:llvm-jit") != NULL;
			break;
		}
	}
	if (f)
		fclose(f);
	return found;
}

/* Support/Unix/Memory.inc, sys::Memory::protectMappedMemory on hosts
 * where execProtChangeNeedsNewMapping() (PaX MPROTECT, SELinux
 * deny_execmem): a change to or from exec is memfd_create + write +
 * mmap(MAP_FIXED) of the pages instead of an mprotect; other changes stay
 * mprotects. The code stays intact and runs from the file mapping. */
static void test_hardened_host_remaps_exec_changes(void **state)
{
	(void)state;
	char why[160] = "";
	(void)jm_os_host_detect(why, sizeof(why));
	assert_true(why[0] != 0);
	jm_os_set_host(JM_HOST_HARDENED);
	static const char *const names[] = {"inprocess", "single-pool"};
	for (int k = 0; k < 2; k++) {
		struct jm_backend b = open_backend(names[k], "");
		struct jm_alloc a;
		struct jm_os_counters t0, d;
		struct jm_graph_req g = graph(1, 100, 100, 5000);
		assert_int_equal(b.ops->allocate(&b, &g, &a), 0);
		jm_contents_write(&a);
		jm_os_snapshot(&t0);
		assert_int_equal(b.ops->finalize(&b, &a), 0);
		d = delta_since(&t0);
		assert_int_equal(CALLS(d, MPROTECT), 2);  /* r-- and rw- */
		assert_int_equal(CALLS(d, MEMFD_CREATE), 1); /* r-x: remapped */
		assert_int_equal(CALLS(d, PWRITE), 1);
		assert_int_equal(d.sys[JM_SYS_PWRITE].bytes, 2 * 4096);
		assert_int_equal(CALLS(d, MMAP), 1);
		char msg[256] = "";
		assert_int_equal(jm_contents_check(&a, 1, msg, sizeof(msg)), 0);
		assert_true(on_llvm_memfd(a.seg[2].exec));
		assert_false(on_llvm_memfd(a.seg[1].exec));
		jm_os_snapshot(&t0);
		assert_int_equal(b.ops->deallocate(&b, &a), 0);
		d = delta_since(&t0);
		/* the mapper's RW reset drops exec: remapped too */
		assert_int_equal(CALLS(d, MEMFD_CREATE), k == 1 ? 1 : 0);
		assert_int_equal(CALLS(d, MPROTECT), 0);
		jm_backend_close(&b);
	}
	jm_os_set_host(JM_HOST_NORMAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_single_pool_syscalls_per_op),
		cmocka_unit_test(test_single_pool_coalesces),
		cmocka_unit_test(test_single_pool_grows_by_granularity),
		cmocka_unit_test(test_inprocess_syscalls_per_op),
		cmocka_unit_test(test_mapper_abandon_llvm22),
		cmocka_unit_test(test_single_pool_abandon_llvm19),
		cmocka_unit_test(test_single_pool_llvm15_reservation_per_graph),
		cmocka_unit_test(test_inprocess_abandon_and_llvm18_free),
		cmocka_unit_test(test_hardened_host_remaps_exec_changes),
		cmocka_unit_test(test_interleaving_costs_a_vma_per_segment),
	};
	return cmocka_run_group_tests_name("llvm backends", tests, NULL, NULL);
}
