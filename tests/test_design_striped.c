/* Design tests for striped (llvm#216484): what the stripes are for.
 * - the executable memory of many graphs is one r-x VMA per slab;
 * - code sits below all data in each slab (rx from the bottom, the rest
 *   from the top); all segments of a graph come from one slab;
 * - freed chunks are reused by their group only; an empty slab is unmapped;
 * - every segment is protected at finalize;
 * - at the default chunk size, on llvm-500, striped adds at least 20x fewer
 *   VMAs than inprocess (through the real runner, child processes). */
#include "testutil.h"

#include <json-c/json.h>
#include <sys/mman.h>

#include "../allocators/backend.h"
#include "../allocators/os.h"
#include "../linker/contents.h"
#include "../probes/procfs_sample.h"
#include "../reports/results.h"
#include "../workloads/rng.h"

#define NGRAPHS 300

static struct jm_alloc allocs[NGRAPHS];

static void graph(struct jm_rng *r, uint64_t id, struct jm_graph_req *req)
{
	memset(req, 0, sizeof(*req));
	req->id = id;
	req->nseg = 0;
	req->seg[req->nseg++] = (struct jm_segment_req){JM_RO, JM_STANDARD,
		1 + jm_rng_below(r, 9000), 0, 16};
	if (jm_rng_below(r, 2))
		req->seg[req->nseg++] = (struct jm_segment_req){JM_RW, JM_STANDARD,
			1 + jm_rng_below(r, 5000), jm_rng_below(r, 3000), 16};
	req->seg[req->nseg++] = (struct jm_segment_req){JM_RX, JM_STANDARD,
		16 + jm_rng_below(r, 12000), 0, 16};
	jm_graph_normalize(req);
}

/* Count the VMAs of /proc/self/maps with perms (e.g. "r-x") that overlap
 * [lo, hi). */
static int vmas_in(uintptr_t lo, uintptr_t hi, const char *perms)
{
	FILE *f = fopen("/proc/self/maps", "r");
	assert_non_null(f);
	char line[512];
	int n = 0;
	while (fgets(line, sizeof(line), f)) {
		unsigned long s, e;
		char p[8];
		if (sscanf(line, "%lx-%lx %7s", &s, &e, p) == 3 && e > lo && s < hi &&
		    !strncmp(p, perms, 3))
			n++;
	}
	fclose(f);
	return n;
}

struct slab_view {
	void *slab;
	uintptr_t rx_lo, rx_hi, data_lo, data_hi;
};

static int collect(struct slab_view *v, int max, int n)
{
	int nv = 0;
	for (int i = 0; i < n; i++) {
		int k;
		for (k = 0; k < nv && v[k].slab != allocs[i].priv; k++)
			;
		if (k == nv) {
			assert_true(nv < max);
			v[nv++] = (struct slab_view){allocs[i].priv, UINTPTR_MAX, 0, UINTPTR_MAX, 0};
		}
		for (uint32_t s = 0; s < allocs[i].nseg; s++) {
			uintptr_t lo = (uintptr_t)allocs[i].seg[s].exec;
			uintptr_t hi = lo + allocs[i].seg[s].size;
			uintptr_t *l = allocs[i].seg[s].cls == JM_RX ? &v[k].rx_lo : &v[k].data_lo;
			uintptr_t *h = allocs[i].seg[s].cls == JM_RX ? &v[k].rx_hi : &v[k].data_hi;
			if (lo < *l)
				*l = lo;
			if (hi > *h)
				*h = hi;
		}
	}
	return nv;
}

static void open_striped(const char *opts, struct jm_backend *b)
{
	char err[300];
	if (jm_backend_open(jm_backend_find("striped"), opts, b, err, sizeof(err)) < 0)
		fail_msg("%s", err);
}

static void test_code_is_one_vma_per_slab(void **state)
{
	(void)state;
	struct jm_backend b;
	/* small slabs so that 300 graphs need several */
	open_striped("slab_size=2M,chunk_size=64K", &b);
	struct jm_rng r;
	jm_rng_seed(&r, 42);
	for (int i = 0; i < NGRAPHS; i++) {
		struct jm_graph_req req;
		graph(&r, (uint64_t)i, &req);
		if (b.ops->allocate(&b, &req, &allocs[i]) < 0)
			fail_msg("allocate: %s", b.err);
		jm_contents_write(&allocs[i]);
		if (b.ops->finalize(&b, &allocs[i]) < 0)
			fail_msg("finalize: %s", b.err);
	}
	struct slab_view v[64];
	int nslabs = collect(v, 64, NGRAPHS);
	assert_true(nslabs >= 2);
	int rx_vmas = 0;
	for (int k = 0; k < nslabs; k++) {
		int n = vmas_in(v[k].rx_lo, v[k].rx_hi, "r-x");
		if (n != 1)
			fail_msg("slab %d: the code of its graphs is %d r-x VMAs, want 1", k, n);
		rx_vmas += n;
		/* rx from the bottom, data from the top */
		if (v[k].data_lo != UINTPTR_MAX && v[k].rx_hi > v[k].data_lo)
			fail_msg("slab %d: code up to %#lx above data from %#lx", k,
				 (unsigned long)v[k].rx_hi, (unsigned long)v[k].data_lo);
	}
	printf("# %d graphs: %d slabs, %d r-x VMAs\n", NGRAPHS, nslabs, rx_vmas);
	/* graphs' contents and code still intact */
	char why[256];
	for (int i = 0; i < NGRAPHS; i++)
		if (jm_contents_check(&allocs[i], 1, why, sizeof(why)) < 0)
			fail_msg("graph %d: %s", i, why);
	for (int i = 0; i < NGRAPHS; i++)
		assert_int_equal(b.ops->deallocate(&b, &allocs[i]), 0);
	jm_backend_close(&b);
}

static void test_graph_within_one_slab(void **state)
{
	(void)state;
	struct jm_backend b;
	open_striped("slab_size=1M,chunk_size=16K", &b);
	struct jm_rng r;
	jm_rng_seed(&r, 7);
	for (int i = 0; i < NGRAPHS; i++) {
		struct jm_graph_req req;
		graph(&r, (uint64_t)i, &req);
		assert_int_equal(b.ops->allocate(&b, &req, &allocs[i]), 0);
		uintptr_t lo = UINTPTR_MAX, hi = 0;
		for (uint32_t s = 0; s < allocs[i].nseg; s++) {
			uintptr_t a = (uintptr_t)allocs[i].seg[s].exec;
			lo = a < lo ? a : lo;
			hi = a + allocs[i].seg[s].size > hi ? a + allocs[i].seg[s].size : hi;
		}
		if (hi - lo > (1u << 20))
			fail_msg("graph %d spans %lu bytes, more than its 1M slab", i,
				 (unsigned long)(hi - lo));
	}
	struct jm_backend_stats st = {0};
	b.ops->stats(&b, &st);
	assert_true(st.reservations >= 2);
	for (int i = 0; i < NGRAPHS; i++)
		assert_int_equal(b.ops->deallocate(&b, &allocs[i]), 0);
	jm_backend_close(&b);
}

static void test_chunks_reused_and_empty_slab_unmapped(void **state)
{
	(void)state;
	long vmas0 = jm_vma_count(0);
	struct jm_backend b;
	open_striped("slab_size=4M,chunk_size=64K", &b);
	struct jm_rng r;
	jm_rng_seed(&r, 9);
	struct jm_graph_req req[40];
	for (int i = 0; i < 40; i++) {
		graph(&r, (uint64_t)i, &req[i]);
		assert_int_equal(b.ops->allocate(&b, &req[i], &allocs[i]), 0);
		jm_contents_write(&allocs[i]);
		assert_int_equal(b.ops->finalize(&b, &allocs[i]), 0);
	}
	struct jm_backend_stats st0 = {0}, st1 = {0}, st2 = {0};
	b.ops->stats(&b, &st0);
	/* free the even graphs and link them again: same slab, no growth, and
	 * the reused memory reads as zero before the linker writes it */
	for (int i = 0; i < 40; i += 2)
		assert_int_equal(b.ops->deallocate(&b, &allocs[i]), 0);
	for (int i = 0; i < 40; i += 2) {
		assert_int_equal(b.ops->allocate(&b, &req[i], &allocs[i]), 0);
		for (uint32_t s = 0; s < allocs[i].nseg; s++) {
			const unsigned char *p = allocs[i].seg[s].write;
			for (uint64_t k = 0; k < allocs[i].seg[s].size; k++)
				if (p[k])
					fail_msg("reused memory not zeroed");
		}
		jm_contents_write(&allocs[i]);
		assert_int_equal(b.ops->finalize(&b, &allocs[i]), 0);
	}
	b.ops->stats(&b, &st1);
	assert_int_equal(st1.reservations, st0.reservations);
	assert_int_equal(st1.va_reserved, st0.va_reserved);
	/* everything freed: the slab goes back to the kernel */
	for (int i = 0; i < 40; i++)
		assert_int_equal(b.ops->deallocate(&b, &allocs[i]), 0);
	b.ops->stats(&b, &st2);
	assert_int_equal(st2.va_reserved, 0);
	assert_int_equal(st2.bytes_live, 0);
#if !defined(__SANITIZE_ADDRESS__)
	/* (ASan's allocator maps memory of its own meanwhile) */
	assert_int_equal(jm_vma_count(0), vmas0);
#else
	(void)vmas0;
#endif
	jm_backend_close(&b);
}

static void test_bad_geometry_rejected(void **state)
{
	(void)state;
	struct jm_backend b;
	char err[300];
	assert_int_equal(jm_backend_open(jm_backend_find("striped"),
					 "slab_size=1M,chunk_size=768K", &b, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "multiple of chunk_size"));
	assert_int_equal(jm_backend_open(jm_backend_find("striped"),
					 "chunk_size=6000", &b, err, sizeof(err)), -1);
}

static double vmas_added(json_object *root, const char *backend)
{
	json_object *runs = jm_json_path(root, "runs");
	for (size_t i = 0; i < json_object_array_length(runs); i++) {
		json_object *run = json_object_array_get_idx(runs, i);
		if (strcmp(jm_json_str(run, "backend", ""), backend))
			continue;
		assert_string_equal(jm_json_str(run, "status", ""), "ok");
		double v;
		assert_int_equal(jm_json_num(run, "metrics.vmas_added", &v), 0);
		return v;
	}
	fail_msg("no %s run", backend);
	return 0;
}

static void test_20x_fewer_vmas_than_inprocess(void **state)
{
	(void)state;
	char json[] = "/tmp/jitmm-striped-XXXXXX";
	int fd = mkstemp(json);
	close(fd);
	char *args[] = {"run", "--backend", "striped,inprocess", "--workload", "llvm-500",
			"--quiet", "--json", json, NULL};
	char *out = NULL, *err = NULL;
	int rc = tu_run_jitmm(args, &out, &err);
	if (rc != 0)
		fail_msg("jitmm run exited %d: %s", rc, err);
	char lerr[256];
	json_object *root = jm_results_load(json, lerr, sizeof(lerr));
	if (!root)
		fail_msg("%s", lerr);
	double s = vmas_added(root, "striped"), ip = vmas_added(root, "inprocess");
	printf("# llvm-500: striped adds %.0f VMAs, inprocess %.0f (%.1fx)\n", s, ip,
	       s > 0 ? ip / s : ip);
	assert_true(ip >= 20 * (s > 1 ? s : 1));
	json_object_put(root);
	unlink(json);
	free(out);
	free(err);
}

/* llvm#216484 changes InProcessMemoryManager (JITLinkMemoryManager.cpp),
 * whose IPInFlightAlloc::applyProtections protects every segment, RW and
 * finalize-lifetime ones included; and its text says "each chunk of a slab
 * is only ever handed out to a single AllocGroup": a chunk emptied by a
 * free stays with its group. */
static void test_protects_every_segment_and_chunks_keep_their_group(void **state)
{
	(void)state;
	struct jm_backend b;
	open_striped("slab_size=1M,chunk_size=64K", &b);
	struct jm_graph_req g = {.id = 1};
	g.seg[g.nseg++] = (struct jm_segment_req){JM_RO, JM_STANDARD, 100, 0, 16};
	g.seg[g.nseg++] = (struct jm_segment_req){JM_RW, JM_STANDARD, 100, 0, 16};
	g.seg[g.nseg++] = (struct jm_segment_req){JM_RX, JM_STANDARD, 100, 0, 16};
	g.seg[g.nseg++] = (struct jm_segment_req){JM_RO, JM_FINALIZE, 100, 0, 16};
	jm_graph_normalize(&g);
	struct jm_alloc a, c;
	assert_int_equal(b.ops->allocate(&b, &g, &a), 0);
	jm_contents_write(&a);
	struct jm_os_counters t0, t1, d;
	jm_os_snapshot(&t0);
	assert_int_equal(b.ops->finalize(&b, &a), 0);
	jm_os_snapshot(&t1);
	jm_os_diff(&t0, &t1, &d);
	/* four segments protected, the finalize-lifetime r-- one reset to RW
	 * before its chunk takes other graphs */
	assert_int_equal(d.sys[JM_SYS_MPROTECT].calls, 5);
	assert_int_equal(b.ops->deallocate(&b, &a), 0);
	jm_backend_close(&b);

	/* 16 chunks of 64K: an rx graph takes chunk 0, a ro graph chunk 15.
	 * Once the rx graph is freed, chunk 0 still serves rx only, so a ro
	 * graph of 15 chunks does not fit beside the live ro graph (14 free
	 * chunks) and needs a second slab. */
	open_striped("slab_size=1M,chunk_size=64K", &b);
	struct jm_graph_req rx = {.id = 2, .nseg = 1}, ro = {.id = 3, .nseg = 1};
	rx.seg[0] = (struct jm_segment_req){JM_RX, JM_STANDARD, 100, 0, 16};
	ro.seg[0] = (struct jm_segment_req){JM_RO, JM_STANDARD, 100, 0, 16};
	struct jm_alloc x, keep;
	assert_int_equal(b.ops->allocate(&b, &rx, &x), 0);
	assert_int_equal(b.ops->allocate(&b, &ro, &keep), 0);
	assert_int_equal(b.ops->deallocate(&b, &x), 0);
	ro.id = 4;
	ro.seg[0].content = 15 * (64 << 10);
	assert_int_equal(b.ops->allocate(&b, &ro, &c), 0);
	struct jm_backend_stats st = {0};
	b.ops->stats(&b, &st);
	assert_int_equal(st.reservations, 2);
	assert_ptr_not_equal(c.priv, keep.priv);
	assert_int_equal(b.ops->deallocate(&b, &c), 0);
	assert_int_equal(b.ops->deallocate(&b, &keep), 0);
	jm_backend_close(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_code_is_one_vma_per_slab),
		cmocka_unit_test(test_graph_within_one_slab),
		cmocka_unit_test(test_chunks_reused_and_empty_slab_unmapped),
		cmocka_unit_test(test_protects_every_segment_and_chunks_keep_their_group),
		cmocka_unit_test(test_bad_geometry_rejected),
		cmocka_unit_test(test_20x_fewer_vmas_than_inprocess),
	};
	return cmocka_run_group_tests_name("striped design", tests, NULL, NULL);
}
