/* Design tests of julia-blocks (Julia's legacy cgmemmgr, JITLink port):
 * 1 MiB blocks; one mprotect per newly used block at finalize; write
 * aliases (dual) or /proc/self/mem copies (selfmem) for protected blocks;
 * the 8-slot replacement rule and its tail unmap; never frees. */
#include "design_util.h"

#define KIB 1024ull

static void test_dual_syscalls_per_operation(void **state)
{
	(void)state;
	struct jm_backend b;
	du_open(&b, "julia-blocks", "writer=dual");
	struct jm_graph_req req;
	struct jm_alloc a[3];
	for (int i = 0; i < 3; i++) {
		du_graph(&req, (uint64_t)i + 1, 100, 100, 100);
		du_mark();
		du_alloc(&b, &req, &a[i]);
		if (i == 0) {
			/* RO, RW and RX block: 1 MiB each, the file already
			 * 128 MiB long */
			assert_int_equal(du_calls(JM_SYS_MMAP), 3);
			assert_int_equal(du_bytes(JM_SYS_MMAP), 3 << 20);
			assert_int_equal(du_calls(JM_SYS_FTRUNCATE), 0);
			assert_int_equal(du_calls(JM_SYS_MPROTECT), 0);
			for (uint32_t s = 0; s < a[i].nseg; s++)
				assert_ptr_equal(a[i].seg[s].write, a[i].seg[s].exec);
		} else {
			/* protected RO and RX blocks: written through an
			 * alias, mapped once (graph 2) and opened RW */
			assert_int_equal(du_calls(JM_SYS_MMAP), i == 1 ? 2 : 0);
			assert_int_equal(du_calls(JM_SYS_MPROTECT), 2);
			for (uint32_t s = 0; s < a[i].nseg; s++)
				if (a[i].seg[s].cls == JM_RW)
					assert_ptr_equal(a[i].seg[s].write, a[i].seg[s].exec);
				else
					assert_ptr_not_equal(a[i].seg[s].write, a[i].seg[s].exec);
		}
		void *alias = a[i].seg[a[i].nseg - 1].write;
		du_mark();
		du_finalize(&b, &a[i]);
		/* one mprotect per newly used block (graph 1: the RO and RX
		 * blocks, whole); later: each alias closed again */
		assert_int_equal(du_calls(JM_SYS_MPROTECT), 2);
		if (i == 0)
			assert_int_equal(du_bytes(JM_SYS_MPROTECT), 2 << 20);
		assert_int_equal(du_calls(JM_SYS_MMAP) + du_calls(JM_SYS_MUNMAP), 0);
		if (i > 0) {
			char why[256] = "";
			if (tu_check_prot(alias, 1, "---", why, sizeof(why)) < 0)
				fail_msg("alias after finalize: %s", why);
		}
	}
	jm_backend_close(&b);
}

static void test_selfmem_syscalls_per_operation(void **state)
{
	(void)state;
	struct jm_backend b;
	du_open(&b, "julia-blocks", "writer=selfmem");
	struct jm_graph_req req;
	struct jm_alloc a[3];
	for (int i = 0; i < 3; i++) {
		du_graph(&req, (uint64_t)i + 1, 100, 100, 100);
		du_mark();
		du_alloc(&b, &req, &a[i]);
		/* graph 1: three blocks; graph 2: one temp buffer per RO/RX
		 * allocator; graph 3: the kept temp buffers */
		assert_int_equal(du_calls(JM_SYS_MMAP), i == 0 ? 3 : i == 1 ? 2 : 0);
		assert_int_equal(du_calls(JM_SYS_MPROTECT), 0);
		du_mark();
		du_finalize(&b, &a[i]);
		assert_int_equal(du_calls(JM_SYS_MPROTECT), i == 0 ? 2 : 0);
		assert_int_equal(du_calls(JM_SYS_PWRITE), i == 0 ? 0 : 2);
		assert_int_equal(du_bytes(JM_SYS_PWRITE), i == 0 ? 0 : 200);
		assert_int_equal(du_calls(JM_SYS_MMAP) + du_calls(JM_SYS_MUNMAP), 0);
	}
	jm_backend_close(&b);
}

/* RX-only graph of `rx` bytes */
static void rx_graph(struct jm_graph_req *req, uint64_t id, uint64_t rx)
{
	du_graph(req, id, 0, 0, rx);
}

static void test_eight_slots_least_available_replaced(void **state)
{
	(void)state;
	const uint64_t ps = jm_page_size();
	struct jm_backend b;
	du_open(&b, "julia-blocks", "slot_scan=full");
	struct jm_graph_req req;
	struct jm_alloc a[10];
	/* eight graphs no two of which share a block: slots 0..7 fill, the
	 * later ones with less room left */
	for (int k = 0; k < 8; k++) {
		rx_graph(&req, (uint64_t)k + 1, 600 * KIB + (uint64_t)k * 8 * KIB);
		du_mark();
		du_link(&b, &req, &a[k]);
		assert_int_equal(du_calls(JM_SYS_MMAP), 1);
		assert_int_equal(du_calls(JM_SYS_MUNMAP), 0);
	}
	assert_int_equal(tu_backend_extra(&b, "evictions"), 0);
	/* no slot fits 600 KiB: slot 7 (least available) is replaced: the new
	 * block is mapped first, then the victim's free tail unmapped */
	uint64_t used7 = 600 * KIB + 7 * 8 * KIB;
	uintptr_t base7 = (uintptr_t)a[7].seg[0].exec;
	long v0 = jm_vma_count(0);
	rx_graph(&req, 9, 600 * KIB);
	du_mark();
	du_alloc(&b, &req, &a[8]);
	assert_int_equal(du_calls(JM_SYS_MMAP), 1);
	assert_int_equal(du_calls(JM_SYS_MUNMAP), 1);
	assert_int_equal(du_bytes(JM_SYS_MUNMAP), (1 << 20) - jm_align_up(used7, ps));
	du_finalize(&b, &a[8]);
	if (du_vmas_reliable())
		assert_int_equal(jm_vma_count(0) - v0, 1); /* just the new block */
	assert_int_equal(tu_backend_extra(&b, "evictions"), 1);
	assert_false(du_mapped(base7 + jm_align_up(used7, ps)));
	assert_true(du_mapped(base7 + used7 - 1));
	/* the evicted block's code still runs */
	char why[256] = "";
	if (jm_contents_check(&a[7], 1, why, sizeof(why)) < 0)
		fail_msg("%s", why);
	/* a small graph goes to the first slot with room: slot 0 */
	rx_graph(&req, 10, 100);
	du_link(&b, &req, &a[9]);
	assert_ptr_equal(a[9].seg[0].exec, (char *)a[0].seg[0].exec + 600 * KIB);
	jm_backend_close(&b);
}

static void test_upstream_scan_replaces_slot_zero(void **state)
{
	(void)state;
	const uint64_t ps = jm_page_size();
	struct jm_backend b;
	du_open(&b, "julia-blocks", ""); /* slot_scan=upstream */
	struct jm_graph_req req;
	struct jm_alloc a[3];
	rx_graph(&req, 1, 600 * KIB);
	du_link(&b, &req, &a[0]);
	/* the literal loop stops at empty slot 1: slot 0 is replaced although
	 * seven slots are free */
	rx_graph(&req, 2, 600 * KIB);
	du_mark();
	du_alloc(&b, &req, &a[1]);
	assert_int_equal(du_calls(JM_SYS_MMAP), 1);
	assert_int_equal(du_calls(JM_SYS_MUNMAP), 1);
	assert_int_equal(du_bytes(JM_SYS_MUNMAP), (1 << 20) - jm_align_up(600 * KIB, ps));
	du_finalize(&b, &a[1]);
	assert_int_equal(tu_backend_extra(&b, "evictions"), 1);
	assert_false(du_mapped((uintptr_t)a[0].seg[0].exec + 600 * KIB));
	rx_graph(&req, 3, 100);
	du_link(&b, &req, &a[2]);
	assert_ptr_equal(a[2].seg[0].exec, (char *)a[1].seg[0].exec + 600 * KIB);
	jm_backend_close(&b);
}

static void test_evicted_alias_unmapped_at_finalize(void **state)
{
	(void)state;
	struct jm_backend b;
	du_open(&b, "julia-blocks", "writer=dual");
	struct jm_graph_req req;
	struct jm_alloc a[3];
	rx_graph(&req, 1, 600 * KIB);
	du_link(&b, &req, &a[0]);
	rx_graph(&req, 2, 100); /* same block, through an alias */
	du_alloc(&b, &req, &a[1]);
	void *alias = a[1].seg[0].write;
	du_finalize(&b, &a[1]);
	assert_true(du_mapped((uintptr_t)alias));
	/* eviction of a block with an alias: deferred to finalize */
	rx_graph(&req, 3, 600 * KIB);
	du_mark();
	du_alloc(&b, &req, &a[2]);
	assert_int_equal(du_calls(JM_SYS_MMAP), 1);
	assert_int_equal(du_calls(JM_SYS_MUNMAP), 0);
	du_mark();
	du_finalize(&b, &a[2]);
	assert_int_equal(du_calls(JM_SYS_MPROTECT), 1); /* the new block */
	assert_int_equal(du_calls(JM_SYS_MUNMAP), 2);   /* alias + tail */
	assert_false(du_mapped((uintptr_t)alias));
	jm_backend_close(&b);
}

static void test_never_frees(void **state)
{
	(void)state;
	const char *writers[] = {"writer=dual", "writer=selfmem"};
	for (int w = 0; w < 2; w++) {
		struct jm_backend b;
		du_open(&b, "julia-blocks", writers[w]);
		struct jm_graph_req req;
		struct jm_alloc a, c;
		du_graph(&req, 1, 100, 100, 100);
		du_link(&b, &req, &a);
		du_mark();
		assert_int_equal(b.ops->deallocate(&b, &a), 0);
		assert_int_equal(du_total_calls(), 0);
		du_graph(&req, 2, 100, 100, 100);
		du_link(&b, &req, &c);
		for (uint32_t s = 0; s < c.nseg; s++)
			assert_true((char *)c.seg[s].exec >= (char *)a.seg[s].exec + 100);
		jm_backend_close(&b);
	}
}

/* src/cgmemmgr.cpp, RTDyldMemoryManagerJL::RTDyldMemoryManagerJL on Linux:
 * the SelfMemAllocator when get_self_mem_fd() (_init_self_mem: kernel >=
 * 4.10, a test R-X page written through /proc/self/mem) works, the
 * DualMapAllocator (init_shared_map) only when it does not. writer=auto
 * (the default) makes that choice and reports it as writer_selfmem. */
static void test_writer_auto_is_upstreams_choice(void **state)
{
	(void)state;
	int selfmem = du_selfmem_works("julia-blocks");
	struct jm_backend b;
	du_mark();
	du_open(&b, "julia-blocks", "");
	assert_int_equal(tu_backend_extra(&b, "writer_selfmem"), (uint64_t)selfmem);
	if (selfmem) {
		/* the probe only: test page mapped, written, unmapped; no memfd */
		assert_int_equal(du_calls(JM_SYS_MEMFD_CREATE), 0);
		assert_int_equal(du_calls(JM_SYS_MMAP), 1);
		assert_int_equal(du_calls(JM_SYS_PWRITE), 1);
		assert_int_equal(du_calls(JM_SYS_MUNMAP), 1);
	} else {
		assert_int_equal(du_calls(JM_SYS_MEMFD_CREATE), 1);
	}
	/* what it chose behaves as that writer: three graphs, the second and
	 * third written through the chosen path */
	struct jm_graph_req req;
	struct jm_alloc a[3];
	du_mark();
	for (int i = 0; i < 3; i++) {
		du_graph(&req, (uint64_t)i + 1, 100, 100, 100);
		du_link(&b, &req, &a[i]);
	}
	assert_int_equal(du_calls(JM_SYS_PWRITE), selfmem ? 4 : 0);
	jm_backend_close(&b);
	/* writer=dual still forces the memfd */
	du_mark();
	du_open(&b, "julia-blocks", "writer=dual");
	assert_int_equal(tu_backend_extra(&b, "writer_selfmem"), 0);
	assert_int_equal(du_calls(JM_SYS_MEMFD_CREATE), 1);
	assert_int_equal(du_calls(JM_SYS_PWRITE), 0);
	jm_backend_close(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_writer_auto_is_upstreams_choice),
		cmocka_unit_test(test_dual_syscalls_per_operation),
		cmocka_unit_test(test_selfmem_syscalls_per_operation),
		cmocka_unit_test(test_eight_slots_least_available_replaced),
		cmocka_unit_test(test_upstream_scan_replaces_slot_zero),
		cmocka_unit_test(test_evicted_alias_unmapped_at_finalize),
		cmocka_unit_test(test_never_frees),
	};
	return cmocka_run_group_tests_name("julia-blocks design", tests, NULL, NULL);
}
