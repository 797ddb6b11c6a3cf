/* Design tests of per-prot (Julia PR 61418 per-MemProt pools): VMAs grow
 * with reservations x classes, not with graphs; exact syscalls per
 * operation; deallocate resets only the allocation's own segments. */
#include "design_util.h"

#define NGRAPHS 400

/* Link NGRAPHS page-pair graphs (4K rx + 4K rw + 1K ro); VMAs added. */
static long vmas_for(const char *name, const char *opts, uint64_t *reservations)
{
	static struct jm_alloc a[NGRAPHS];
	struct jm_backend b;
	long v0 = jm_vma_count(0);
	du_open(&b, name, opts);
	for (int i = 0; i < NGRAPHS; i++) {
		struct jm_graph_req req;
		du_graph(&req, (uint64_t)i + 1, 1024, 4096, 4096);
		du_link(&b, &req, &a[i]);
	}
	long added = jm_vma_count(0) - v0;
	struct jm_backend_stats st = {0};
	b.ops->stats(&b, &st);
	*reservations = st.reservations;
	jm_backend_close(&b);
	return added;
}

static void test_vmas_grow_with_reservations_not_graphs(void **state)
{
	(void)state;
	if (!du_vmas_reliable())
		SKIP_BECAUSE("VMA counts under AddressSanitizer include its allocator's mappings");
	uint64_t res_pp, res_sp;
	long pp = vmas_for("per-prot", "", &res_pp);
	long sp = vmas_for("single-pool", "", &res_sp);
	printf("# %d graphs: single-pool +%ld VMAs (%llu reservations), "
	       "per-prot +%ld VMAs (%llu reservations)\n", NGRAPHS, sp,
	       (unsigned long long)res_sp, pp, (unsigned long long)res_pp);
	/* one reservation per class, 16M each, is enough for 400 graphs */
	assert_int_equal(res_pp, 3);
	/* at most two VMAs (finalized prefix + rw tail) per reservation */
	assert_true(pp <= 2 * (long)res_pp);
	/* single-pool: about one VMA per segment (3 per graph) */
	assert_true(sp >= 3 * NGRAPHS - 10);

	/* small reservations: still a handful per reservation, however many */
	uint64_t res_small;
	long small = vmas_for("per-prot", "granularity=64K", &res_small);
	printf("# per-prot granularity=64K: +%ld VMAs, %llu reservations\n", small,
	       (unsigned long long)res_small);
	assert_true(res_small > 20);
	assert_true(small <= 2 * (long)res_small);
	assert_true(small < sp / 4);
}

static void test_syscalls_per_operation(void **state)
{
	(void)state;
	const uint64_t ps = jm_page_size();
	struct jm_backend b;
	du_open(&b, "per-prot", "granularity=1M");
	struct jm_alloc a[4];
	struct jm_graph_req req;
	for (int i = 0; i < 4; i++) {
		du_graph(&req, (uint64_t)i + 1, 100, 5000, 9000); /* 1+2+3 pages */
		du_mark();
		du_alloc(&b, &req, &a[i]);
		/* one RW reservation per class, by the first graph only */
		assert_int_equal(du_calls(JM_SYS_MMAP), i == 0 ? 3 : 0);
		if (i == 0)
			assert_int_equal(du_bytes(JM_SYS_MMAP), 3 << 20);
		assert_int_equal(du_calls(JM_SYS_MPROTECT), 0);
		du_mark();
		du_finalize(&b, &a[i]);
		/* one mprotect per segment, over its pages */
		assert_int_equal(du_calls(JM_SYS_MPROTECT), 3);
		assert_int_equal(du_bytes(JM_SYS_MPROTECT), 6 * ps);
		assert_int_equal(du_calls(JM_SYS_MMAP) + du_calls(JM_SYS_MUNMAP) +
				 du_calls(JM_SYS_MADVISE), 0);
	}
	du_mark();
	assert_int_equal(b.ops->deallocate(&b, &a[1]), 0);
	/* one mprotect(RW) per own segment; no munmap, no madvise */
	assert_int_equal(du_calls(JM_SYS_MPROTECT), 3);
	assert_int_equal(du_bytes(JM_SYS_MPROTECT), 6 * ps);
	assert_int_equal(du_calls(JM_SYS_MUNMAP) + du_calls(JM_SYS_MADVISE) +
			 du_calls(JM_SYS_MMAP), 0);
	du_mark();
	jm_backend_close(&b);
	assert_int_equal(du_calls(JM_SYS_MUNMAP), 3);
}

static const char *perms(int prot)
{
	return prot == PROT_READ ? "r--" : prot == (PROT_READ | PROT_WRITE) ? "rw-" : "r-x";
}

static void test_deallocate_resets_only_own_segments(void **state)
{
	(void)state;
	struct jm_backend b;
	du_open(&b, "per-prot", "");
	struct jm_alloc a[3];
	struct jm_graph_req req;
	for (int i = 0; i < 3; i++) {
		du_graph(&req, (uint64_t)i + 1, 300, 300, 300);
		du_link(&b, &req, &a[i]);
	}
	/* same-class segments of consecutive graphs are neighbours */
	for (uint32_t s = 0; s < a[0].nseg; s++)
		assert_ptr_equal((char *)a[0].seg[s].exec + jm_page_size(),
				 a[1].seg[s].exec);
	assert_int_equal(b.ops->deallocate(&b, &a[1]), 0);
	char why[256];
	for (int g = 0; g < 3; g += 2)
		for (uint32_t s = 0; s < a[g].nseg; s++) {
			why[0] = 0;
			if (tu_check_prot(a[g].seg[s].exec, a[g].seg[s].size,
					  perms(jm_class_prot(a[g].seg[s].cls)), why,
					  sizeof(why)) < 0)
				fail_msg("neighbour graph %d lost its protection: %s", g, why);
		}
	for (uint32_t s = 0; s < a[1].nseg; s++) {
		why[0] = 0;
		if (tu_check_prot(a[1].seg[s].exec, a[1].seg[s].size, "rw-", why,
				  sizeof(why)) < 0)
			fail_msg("freed segment not reset: %s", why);
	}
	/* first fit: the next graph of the same shape takes the freed pages */
	struct jm_alloc c;
	du_graph(&req, 9, 300, 300, 300);
	du_link(&b, &req, &c);
	for (uint32_t s = 0; s < c.nseg; s++)
		assert_ptr_equal(c.seg[s].exec, a[1].seg[s].exec);
	jm_backend_close(&b);
}

/* The seed ratio, through the CLI: per-prot adds at least 50x fewer
 * VMAs than single-pool on 500 real-shaped graphs (seed: 57x - 333x). */
static void test_seed_ratio_llvm_500(void **state)
{
	(void)state;
	json_object *res = du_cli_run("single-pool,per-prot", "llvm-500");
	assert_string_equal(du_run_field(res, 0, "backend"), "single-pool");
	assert_string_equal(du_run_field(res, 1, "backend"), "per-prot");
	assert_string_equal(du_run_field(res, 0, "status"), "ok");
	assert_string_equal(du_run_field(res, 1, "status"), "ok");
	int64_t sp = du_metric(res, 0, "vmas_added");
	int64_t pp = du_metric(res, 1, "vmas_added");
	printf("# llvm-500: single-pool +%lld VMAs, per-prot +%lld VMAs\n",
	       (long long)sp, (long long)pp);
	assert_true(pp > 0);
	if (du_vmas_reliable()) {
		assert_true(sp >= 50 * pp);
		assert_int_equal(du_metric(res, 1, "vmas_leaked"), 0);
	}
	json_object_put(res);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vmas_grow_with_reservations_not_graphs),
		cmocka_unit_test(test_syscalls_per_operation),
		cmocka_unit_test(test_deallocate_resets_only_own_segments),
		cmocka_unit_test(test_seed_ratio_llvm_500),
	};
	return cmocka_run_group_tests_name("per-prot design", tests, NULL, NULL);
}
