/* Design tests for section-mm (LLVM's SectionMemoryManager,
 * llvm/lib/ExecutionEngine/SectionMemoryManager.cpp), each run on the model
 * and, where the LLVM plugin is built, on the real class (llvm-section):
 * - a section without a free block maps RequiredSize = align * (ceil(size /
 *   align) + 1) bytes, page-rounded, RW;
 * - sections of graphs allocated before a finalize come from the blocks'
 *   free tails (no mmap), and one finalizeMemory protects them all: one
 *   mprotect per pending Code and ROData block, none for RWData;
 * - finalize trims the free blocks to whole pages: a tail on the finalized
 *   block's page is lost, a whole free page is reused by the next graph;
 * - deallocate makes no syscall and the memory stays mapped; destroy makes
 *   one munmap per block;
 * - reserve=on: one mmap for the graph's three groups;
 * - on a hardened host (model only) the code block's RX is a memfd remap. */
#include "design_util.h"

static const char *const impls[] = {"section-mm", "llvm-section"};

/* 1 with b open on impl, 0 (printed) when impl cannot run here */
static int open_impl(struct jm_backend *b, const char *impl, const char *opts)
{
	char why[600];
	int r = tu_backend_prepare(jm_backend_find(impl), opts, why, sizeof(why));
	if (r == 0) {
		printf("# %s not run: %s\n", impl, why);
		return 0;
	}
	if (r < 0)
		fail_msg("%s: prepare: %s", impl, why);
	du_open(b, impl, opts);
	return 1;
}

static void seg(struct jm_graph_req *r, enum jm_prot_class c, uint64_t size, uint64_t align)
{
	r->seg[r->nseg++] = (struct jm_segment_req){c, JM_STANDARD, size, 0, align};
}

static void test_required_size_and_pending_blocks(void **state)
{
	(void)state;
	for (int k = 0; k < 2; k++) {
		struct jm_backend b;
		if (!open_impl(&b, impls[k], ""))
			continue;
		struct jm_graph_req g1, g2, g3;
		du_graph(&g1, 1, 100, 100, 5000);
		du_graph(&g2, 2, 100, 100, 100);
		du_graph(&g3, 3, 100, 100, 100);
		struct jm_alloc a1, a2, a3;
		du_mark();
		du_alloc(&b, &g1, &a1);
		/* ro 16 * 8 = 128 -> 1 page, rw 1 page, rx 16 * 314 = 5024 -> 2 pages */
		assert_int_equal(du_calls(JM_SYS_MMAP), 3);
		assert_int_equal(du_bytes(JM_SYS_MMAP), 4 * 4096);
		du_mark();
		du_alloc(&b, &g2, &a2); /* from the three free tails */
		du_alloc(&b, &g3, &a3);
		assert_int_equal(du_calls(JM_SYS_MMAP), 0);
		for (uint32_t s = 0; s < a2.nseg; s++) /* they follow a1's sections */
			assert_true(a1.seg[s].exec < a2.seg[s].exec &&
				    a2.seg[s].exec < a3.seg[s].exec &&
				    (uintptr_t)a3.seg[s].exec - (uintptr_t)a1.seg[s].exec < 8192);
		du_mark();
		/* covers a2 and a3 too: one mprotect per pending block, a1's and
		 * the one a2's and a3's sections share (PendingPrefixIndex), in
		 * Code and ROData; none in RWData */
		du_finalize(&b, &a1);
		assert_int_equal(du_calls(JM_SYS_MPROTECT), 4);
		char why[256];
		if (tu_check_prot_pid(getpid(), a3.seg[2].exec, 100, "r-x", why, sizeof(why)) < 0)
			fail_msg("%s: a3's code after a1's finalize: %s", impls[k], why);
		du_mark();
		du_finalize(&b, &a2);
		du_finalize(&b, &a3);
		assert_int_equal(du_calls(JM_SYS_MPROTECT), 0);
		du_mark();
		assert_int_equal(b.ops->deallocate(&b, &a1), 0);
		assert_int_equal(b.ops->deallocate(&b, &a2), 0);
		assert_int_equal(b.ops->deallocate(&b, &a3), 0);
		assert_int_equal(du_total_calls(), 0);
		assert_true(du_mapped((uintptr_t)a1.seg[2].exec));
		du_mark();
		jm_backend_close(&b);
		assert_int_equal(du_calls(JM_SYS_MUNMAP), 3); /* one per block */
	}
}

static void test_finalize_trims_free_blocks_to_pages(void **state)
{
	(void)state;
	for (int k = 0; k < 2; k++) {
		struct jm_backend b;
		if (!open_impl(&b, impls[k], ""))
			continue;
		/* align 4096: RequiredSize 8192, the section on the first page,
		 * the second page free */
		struct jm_graph_req g1 = {.id = 1}, g2 = {.id = 2}, g3 = {.id = 3};
		seg(&g1, JM_RX, 100, 4096);
		seg(&g2, JM_RX, 100, 16);
		seg(&g3, JM_RX, 100, 16);
		struct jm_alloc a1, a2, a3;
		du_mark();
		du_link(&b, &g1, &a1);
		assert_int_equal(du_calls(JM_SYS_MMAP), 1);
		assert_int_equal(du_bytes(JM_SYS_MMAP), 8192);
		du_mark();
		du_link(&b, &g2, &a2); /* the free second page */
		assert_int_equal(du_calls(JM_SYS_MMAP), 0);
		assert_ptr_equal(a2.seg[0].exec, (char *)a1.seg[0].exec + 4096);
		du_mark();
		du_link(&b, &g3, &a3); /* a2's page is r-x now: its tail is gone */
		assert_int_equal(du_calls(JM_SYS_MMAP), 1);
		assert_true(a3.seg[0].exec < a1.seg[0].exec ||
			    a3.seg[0].exec >= (void *)((char *)a1.seg[0].exec + 8192));
		jm_backend_close(&b);
	}
}

static void test_reserve_maps_once(void **state)
{
	(void)state;
	for (int k = 0; k < 2; k++) {
		struct jm_backend b;
		if (!open_impl(&b, impls[k], "reserve=on"))
			continue;
		struct jm_graph_req g;
		du_graph(&g, 1, 100, 5000, 9000);
		struct jm_alloc a;
		du_mark();
		du_link(&b, &g, &a);
		assert_int_equal(du_calls(JM_SYS_MMAP), 1);
		assert_int_equal(du_calls(JM_SYS_MPROTECT), 2);
		jm_backend_close(&b);
	}
}

static void test_hardened_host_remaps_code(void **state)
{
	(void)state;
	jm_os_set_host(JM_HOST_HARDENED);
	struct jm_backend b;
	du_open(&b, "section-mm", "");
	struct jm_graph_req g;
	du_graph(&g, 1, 100, 100, 100);
	struct jm_alloc a;
	du_alloc(&b, &g, &a);
	du_mark();
	du_finalize(&b, &a);
	assert_int_equal(du_calls(JM_SYS_MEMFD_CREATE), 1); /* rw- -> r-x */
	assert_int_equal(du_calls(JM_SYS_MPROTECT), 1);     /* rw- -> r-- */
	jm_backend_close(&b);
	jm_os_set_host(JM_HOST_NORMAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_required_size_and_pending_blocks),
		cmocka_unit_test(test_finalize_trims_free_blocks_to_pages),
		cmocka_unit_test(test_reserve_maps_once),
		cmocka_unit_test(test_hardened_host_remaps_code),
	};
	return cmocka_run_group_tests_name("section-mm design", tests, NULL, NULL);
}
