/* Design tests of codemodel (Julia PR 60915 CodeModel-aware blocks): VMA
 * count flat in graph count within a block and about +2 per block; no
 * syscalls at all at finalize and for graphs that fit the current block;
 * packing without page rounding; read-only data in r-x memory; oversize
 * graphs in dedicated reservations; blocks kept within call range, reach
 * failures counted when the window closes; deallocate a no-op. */
#include "design_util.h"

#define KIB 1024ull

static void test_vmas_flat_within_a_block(void **state)
{
	(void)state;
	struct jm_backend b;
	du_open(&b, "codemodel", "");
	static struct jm_alloc a[201];
	struct jm_graph_req req;
	du_graph(&req, 1, 256, 128, 1024);
	du_link(&b, &req, &a[0]);
	long v1 = jm_vma_count(0);
	du_mark();
	for (int i = 1; i <= 200; i++) {
		du_graph(&req, (uint64_t)i + 1, 256, 128, 1024);
		du_link(&b, &req, &a[i]);
	}
	/* 200 more graphs in the same block: not one syscall, not one VMA */
	assert_int_equal(du_total_calls(), 0);
	if (du_vmas_reliable())
		assert_int_equal(jm_vma_count(0), v1);
	assert_int_equal(tu_backend_extra(&b, "blocks"), 1);
	jm_backend_close(&b);
}

static void test_about_two_vmas_per_block(void **state)
{
	(void)state;
	const char *writers[] = {"block_bits=16", "block_bits=16,writer=selfmem"};
	for (int w = 0; w < 2; w++) {
		struct jm_backend b;
		du_open(&b, "codemodel", writers[w]);
		static struct jm_alloc a[80];
		struct jm_graph_req req;
		/* 64 KiB blocks: RX 56 KiB, RW 8 KiB; two graphs per block */
		du_graph(&req, 1, 0, 2 * KIB, 20 * KIB);
		du_link(&b, &req, &a[0]);
		long v1 = jm_vma_count(0);
		uint64_t blocks1 = tu_backend_extra(&b, "blocks");
		for (int i = 1; i < 80; i++) {
			du_graph(&req, (uint64_t)i + 1, 0, 2 * KIB, 20 * KIB);
			du_link(&b, &req, &a[i]);
		}
		long dv = jm_vma_count(0) - v1;
		uint64_t nb = tu_backend_extra(&b, "blocks") - blocks1;
		printf("# %s: %llu new blocks, +%ld VMAs (%.2f per block)\n",
		       writers[w], (unsigned long long)nb, dv, (double)dv / (double)nb);
		assert_int_equal(nb, 39);
		if (du_vmas_reliable())
			assert_true(dv >= (long)(nb * 3 / 2) && dv <= (long)(nb * 5 / 2));
		struct jm_backend_stats st = {0};
		b.ops->stats(&b, &st);
		assert_int_equal(st.reach_failures, 0);
		assert_true(tu_backend_extra(&b, "code_span") < (1ull << 31));
		jm_backend_close(&b);
	}
}

static void test_dual_syscalls_per_operation(void **state)
{
	(void)state;
	struct jm_backend b;
	du_open(&b, "codemodel", "");
	struct jm_graph_req req;
	struct jm_alloc a[3];
	du_graph(&req, 1, 100, 100, 100);
	du_mark();
	du_alloc(&b, &req, &a[0]);
	/* first block: file grown to 128 MiB; PROT_NONE reservation, RX view
	 * (MAP_FIXED PROT_NONE, then mprotect R-X), write alias, RW side */
	assert_int_equal(du_calls(JM_SYS_FTRUNCATE), 1);
	assert_int_equal(du_bytes(JM_SYS_FTRUNCATE), 128ull << 20);
	assert_int_equal(du_calls(JM_SYS_MMAP), 4);
	assert_int_equal(du_calls(JM_SYS_MPROTECT), 1);
	assert_int_equal(du_calls(JM_SYS_MUNMAP), 0);
	du_mark();
	du_finalize(&b, &a[0]);
	assert_int_equal(du_total_calls(), 0); /* no mprotect at finalize */
	du_graph(&req, 2, 100, 100, 100);
	du_mark();
	du_link(&b, &req, &a[1]);
	assert_int_equal(du_total_calls(), 0);
	/* a graph that does not fit: a new block near the code */
	uint64_t misses0 = tu_backend_extra(&b, "hint_misses");
	du_graph(&req, 3, 0, 100, 896 * KIB - 100); /* fits a fresh RX side only */
	du_mark();
	du_alloc(&b, &req, &a[2]);
	uint64_t misses = tu_backend_extra(&b, "hint_misses") - misses0;
	assert_int_equal(du_calls(JM_SYS_MMAP), 4 + misses);
	assert_int_equal(du_calls(JM_SYS_MPROTECT), 1);
	assert_int_equal(du_calls(JM_SYS_FTRUNCATE), 0);
	/* the old block's RX tail, its alias, its RW tail (+ missed hints) */
	assert_int_equal(du_calls(JM_SYS_MUNMAP), 3 + misses);
	du_mark();
	du_finalize(&b, &a[2]);
	assert_int_equal(du_total_calls(), 0);
	jm_backend_close(&b);
}

static void test_selfmem_syscalls_per_operation(void **state)
{
	(void)state;
	struct jm_backend b;
	du_open(&b, "codemodel", "writer=selfmem");
	struct jm_graph_req req;
	struct jm_alloc a[2];
	for (int i = 0; i < 2; i++) {
		du_graph(&req, (uint64_t)i + 1, 100, 100, 100);
		du_mark();
		du_alloc(&b, &req, &a[i]);
		/* reservation, RX side (anon R-X fixed), RW side */
		assert_int_equal(du_calls(JM_SYS_MMAP), i == 0 ? 3 : 0);
		assert_int_equal(du_calls(JM_SYS_MPROTECT), 0);
		du_mark();
		du_finalize(&b, &a[i]);
		/* one pwrite of the RX side (ro 100, pad to 112, rx 100) */
		assert_int_equal(du_calls(JM_SYS_PWRITE), 1);
		assert_int_equal(du_bytes(JM_SYS_PWRITE), 212);
		assert_int_equal(du_calls(JM_SYS_MPROTECT) + du_calls(JM_SYS_MMAP) +
				 du_calls(JM_SYS_MUNMAP), 0);
	}
	jm_backend_close(&b);
}

static void test_packing_and_routing(void **state)
{
	(void)state;
	struct jm_backend b;
	du_open(&b, "codemodel", "");
	struct jm_graph_req req;
	struct jm_alloc a[2];
	du_graph(&req, 1, 100, 100, 100);
	du_link(&b, &req, &a[0]);
	du_graph(&req, 2, 100, 100, 100);
	du_link(&b, &req, &a[1]);
	/* segment order ro, rw, rx; ro and rx share the RX side, packed at
	 * 16-byte alignment: no page rounding between segments or graphs */
	char *ro0 = a[0].seg[0].exec, *rw0 = a[0].seg[1].exec, *rx0 = a[0].seg[2].exec;
	assert_ptr_equal(rx0, ro0 + 112);
	assert_ptr_equal(a[1].seg[0].exec, ro0 + 224);
	assert_ptr_equal(a[1].seg[1].exec, rw0 + 112);
	/* RX side 7/8 of the block, RW side after it */
	assert_ptr_equal(rw0, ro0 + 896 * KIB);
	char why[256] = "";
	if (tu_check_prot(ro0, 100, "r-x", why, sizeof(why)) < 0)
		fail_msg("read-only data: %s", why);
	if (tu_check_prot(rw0, 100, "rw-", why, sizeof(why)) < 0)
		fail_msg("writable data: %s", why);
	assert_int_equal(jm_backend_effective_prot(&b, JM_RO), PROT_READ | PROT_EXEC);
	jm_backend_close(&b);
}

static void test_oversize_gets_a_dedicated_reservation(void **state)
{
	(void)state;
	struct jm_backend b;
	du_open(&b, "codemodel", "");
	struct jm_graph_req req;
	struct jm_alloc a[3];
	du_graph(&req, 1, 0, 100, 100);
	du_link(&b, &req, &a[0]);
	du_graph(&req, 2, 0, 200 * KIB, 100); /* RW side > 128 KiB */
	du_mark();
	du_alloc(&b, &req, &a[1]);
	/* one reservation of exactly the graph's pages, mapped as a block */
	assert_int_equal(du_calls(JM_SYS_MMAP), 4);
	assert_int_equal(du_calls(JM_SYS_MUNMAP), 0);
	assert_int_equal(tu_backend_extra(&b, "oversize_reservations"), 1);
	assert_int_equal(tu_backend_extra(&b, "blocks"), 1);
	du_mark();
	du_finalize(&b, &a[1]);
	assert_int_equal(du_calls(JM_SYS_MUNMAP), 1); /* its alias, now idle */
	assert_int_equal(du_calls(JM_SYS_MPROTECT), 0);
	/* the current block is untouched: the next graph packs after graph 1 */
	du_graph(&req, 3, 0, 100, 100);
	du_link(&b, &req, &a[2]);
	assert_ptr_equal(a[2].seg[1].exec, (char *)a[0].seg[1].exec + 112);
	jm_backend_close(&b);
}

static void link_blocks(struct jm_backend *b, int n)
{
	struct jm_graph_req req;
	struct jm_alloc a;
	for (int i = 0; i < n; i++) {
		du_graph(&req, (uint64_t)i + 1, 0, 100, 800 * KIB); /* one per block */
		du_link(b, &req, &a);
	}
}

static void test_blocks_within_call_range(void **state)
{
	(void)state;
	struct jm_backend b;
	struct jm_backend_stats st;
	du_open(&b, "codemodel", "");
	link_blocks(&b, 16);
	memset(&st, 0, sizeof(st));
	b.ops->stats(&b, &st);
	assert_int_equal(tu_backend_extra(&b, "blocks"), 16);
	assert_int_equal(st.reach_failures, 0);
	assert_true(tu_backend_extra(&b, "code_span") <= (1ull << 31));
	jm_backend_close(&b);

	/* call range 2^23 (+-4 MiB): the window closes after a few 1 MiB
	 * blocks (each with its 896 KiB alias nearby); as long as no failure
	 * is counted, all code spans at most 4 MiB */
	du_open(&b, "codemodel", "call_range_bits=23");
	for (int i = 0; i < 12; i++) {
		link_blocks(&b, 1);
		memset(&st, 0, sizeof(st));
		b.ops->stats(&b, &st);
		if (st.reach_failures == 0)
			assert_true(tu_backend_extra(&b, "code_span") <= (4ull << 20));
	}
	printf("# call_range_bits=23: %llu reach failures over 12 blocks\n",
	       (unsigned long long)st.reach_failures);
	assert_true(st.reach_failures >= 1);
	jm_backend_close(&b);
}

static void test_deallocate_is_a_noop(void **state)
{
	(void)state;
	struct jm_backend b;
	du_open(&b, "codemodel", "");
	struct jm_graph_req req;
	struct jm_alloc a, c;
	du_graph(&req, 1, 100, 100, 100);
	du_link(&b, &req, &a);
	du_mark();
	assert_int_equal(b.ops->deallocate(&b, &a), 0);
	assert_int_equal(du_total_calls(), 0);
	du_graph(&req, 2, 100, 100, 100);
	du_link(&b, &req, &c);
	assert_true((char *)c.seg[0].exec > (char *)a.seg[2].exec);
	jm_backend_close(&b);
}

static void test_bad_options_rejected(void **state)
{
	(void)state;
	struct jm_backend b;
	char err[300];
	const struct jm_backend_ops *ops = jm_backend_find("codemodel");
	assert_int_equal(jm_backend_open(ops, "block_bits=32", &b, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "too big for call_range_bits"));
	assert_int_equal(jm_backend_open(ops, "call_range_bits=20", &b, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "block_bits 20 is too big for call_range_bits 20"));
}

/* Julia PR 60915 src/cgmemmgr.cpp, CodeAllocator::CodeAllocator with no
 * JULIA_CGMEMMGR_MAP_TYPE: the loop creates DualBlockMapper then
 * SelfMemMapper, then DualBlockMapper::Create() runs again
 * unconditionally. Each dual probe (init_anon_hdl / check_fd_or_close):
 * memfd_create, ftruncate(page), mmap(PROT_NONE, shared), mprotect(R-X),
 * munmap; the self-mem probe (_init_self_mem): mmap R-X, pwrite, munmap.
 * The dual mapper wins while memfd works; writer=selfmem is a what-if. */
static void test_create_probes_like_the_constructor(void **state)
{
	(void)state;
	int selfmem = du_selfmem_works("codemodel");
	struct jm_backend b;
	du_mark();
	du_open(&b, "codemodel", "");
	assert_int_equal(du_calls(JM_SYS_MEMFD_CREATE), 2);
	assert_int_equal(du_calls(JM_SYS_FTRUNCATE), 2);
	assert_int_equal(du_calls(JM_SYS_MPROTECT), 2);
	assert_int_equal(du_calls(JM_SYS_MMAP), 2 + selfmem);
	assert_int_equal(du_calls(JM_SYS_MUNMAP), 2 + selfmem);
	assert_int_equal(du_calls(JM_SYS_PWRITE), (uint64_t)selfmem);
	assert_int_equal(tu_backend_extra(&b, "writer_selfmem"), 0);
	jm_backend_close(&b);
	/* JULIA_CGMEMMGR_MAP_TYPE=dual: the dual mapper twice, no self-mem */
	du_mark();
	du_open(&b, "codemodel", "writer=dual");
	assert_int_equal(du_calls(JM_SYS_MEMFD_CREATE), 2);
	assert_int_equal(du_calls(JM_SYS_MMAP), 2);
	assert_int_equal(du_calls(JM_SYS_PWRITE), 0);
	jm_backend_close(&b);
	if (!selfmem)
		return;
	/* the what-if: one self-mem probe, no memfd */
	du_mark();
	du_open(&b, "codemodel", "writer=selfmem");
	assert_int_equal(du_calls(JM_SYS_MEMFD_CREATE), 0);
	assert_int_equal(du_calls(JM_SYS_MMAP), 1);
	assert_int_equal(du_calls(JM_SYS_PWRITE), 1);
	assert_int_equal(tu_backend_extra(&b, "writer_selfmem"), 1);
	jm_backend_close(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_probes_like_the_constructor),
		cmocka_unit_test(test_vmas_flat_within_a_block),
		cmocka_unit_test(test_about_two_vmas_per_block),
		cmocka_unit_test(test_dual_syscalls_per_operation),
		cmocka_unit_test(test_selfmem_syscalls_per_operation),
		cmocka_unit_test(test_packing_and_routing),
		cmocka_unit_test(test_oversize_gets_a_dedicated_reservation),
		cmocka_unit_test(test_blocks_within_call_range),
		cmocka_unit_test(test_deallocate_is_a_noop),
		cmocka_unit_test(test_bad_options_rejected),
	};
	return cmocka_run_group_tests_name("codemodel design", tests, NULL, NULL);
}
