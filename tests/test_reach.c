/* Relocation reach with real code: the harness's linker (linker/reloc.c)
 * against hand-placed segments (near, > 2 GiB, > 4 GiB, 200 MiB apart),
 * both code models, both architecture tables; --execute on every backend;
 * and the reach-stress workload on every backend, where reach failures
 * must appear exactly when the measured distance exceeds 2 GiB. */
#include "testutil.h"

#include <json-c/json.h>
#include <sys/mman.h>

#include "../allocators/backend.h"
#include "../linker/arch.h"
#include "../linker/contents.h"
#include "../linker/reloc.h"
#include "../reports/results.h"

#define GIB (1ull << 30)
#define MIB (1ull << 20)

/* A PROT_NONE reservation segments are carved from at chosen offsets. */
static char *reserve_va(uint64_t len)
{
	void *p = mmap(NULL, len, PROT_NONE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

/* One graph: rx at base + rx_off, rw at base + rw_off, ro at base +
 * ro_off (if ro_off != UINT64_MAX); one page each, made writable. */
static void place(struct jm_alloc *a, uint64_t id, char *base, uint64_t rx_off,
		  uint64_t rw_off, uint64_t ro_off)
{
	memset(a, 0, sizeof(*a));
	a->id = id;
	struct { enum jm_prot_class c; uint64_t off; } s[3] = {
		{JM_RO, ro_off}, {JM_RW, rw_off}, {JM_RX, rx_off}};
	for (int i = 0; i < 3; i++) {
		if (s[i].off == UINT64_MAX)
			continue;
		char *p = base + s[i].off;
		assert_int_equal(mprotect(p, 4096, PROT_READ | PROT_WRITE), 0);
		struct jm_segment_alloc *g = &a->seg[a->nseg++];
		g->write = g->exec = p;
		g->size = 4096;
		g->content = s[i].c == JM_RX ? 256 : 64;
		g->cls = s[i].c;
		g->life = JM_STANDARD;
	}
}

static void make_exec(struct jm_alloc *a)
{
	for (uint32_t i = 0; i < a->nseg; i++)
		if (a->seg[i].cls == JM_RX)
			assert_int_equal(mprotect(a->seg[i].exec, 4096, PROT_READ | PROT_EXEC), 0);
}

static void link_and_run(struct jm_linker *L, struct jm_alloc *a)
{
	char err[512] = "";
	jm_contents_write_linked(L, a);
	make_exec(a);
	int rc = jm_contents_check_linked(L, a, 1, err, sizeof(err));
	if (rc)
		fail_msg("%s", err);
	jm_link_finalized(L, a);
}

static void test_near_code_links_and_runs(void **state)
{
	(void)state;
	char *base = reserve_va(64 * MIB);
	assert_non_null(base);
	struct jm_linker L;
	jm_linker_init(&L, JM_CM_SMALL);
	struct jm_alloc a, b;
	place(&a, 1, base, 0, 8192, 16384);
	link_and_run(&L, &a);
	assert_int_equal(a.link.state, JM_LINK_LINKED);
	/* the entry's value is what it loaded from rw and ro */
	assert_int_equal(a.link.value, jm_contents_data_word(&a, 1) + jm_contents_data_word(&a, 0));
	assert_int_equal(L.st.relocs[JM_RELOC_DATA], 4); /* entry + leaf, rw + ro */
	assert_int_equal(L.st.relocs[JM_RELOC_CALL], 0);

	/* the second graph calls the first graph's leaf */
	place(&b, 2, base, 32 * MIB, 32 * MIB + 8192, UINT64_MAX);
	link_and_run(&L, &b);
	assert_int_equal(b.link.state, JM_LINK_LINKED);
	assert_int_equal(L.st.relocs[JM_RELOC_CALL], 1);
	uint32_t leaf_a = jm_contents_data_word(&a, 1) + jm_contents_data_word(&a, 0);
	assert_int_equal(b.link.value, leaf_a + jm_contents_data_word(&b, 0));
	assert_int_equal(L.st.reach_failures, 0);
	assert_int_equal(L.st.reach_failures_other, 0); /* 32 MiB: BL reaches */
	assert_true(L.st.max_distance[JM_RELOC_CALL] >= 32 * MIB - 8192);

	/* memory that is not what was linked is caught */
	char err[256];
	mprotect(a.seg[1].exec, 4096, PROT_READ | PROT_WRITE);
	((uint8_t *)a.seg[1].exec)[0] ^= 1;
	assert_int_equal(jm_contents_check_linked(&L, &a, 1, err, sizeof(err)), -1);
	munmap(base, 64 * MIB);
}

/* data 3 GiB from code: out of x86-64's +-2 GiB (R_X86_64_PC32), inside
 * AArch64 ADRP's +-4 GiB; 5 GiB: out of both. */
static void test_far_data_is_a_reach_failure(void **state)
{
	(void)state;
	char *base = reserve_va(6 * GIB);
	if (!base)
		SKIP_BECAUSE("cannot reserve 6 GiB of address space");
	struct jm_linker L;
	jm_linker_init(&L, JM_CM_SMALL);
	struct jm_alloc a;
	place(&a, 7, base, 0, 3 * GIB, UINT64_MAX);
	link_and_run(&L, &a);
	assert_int_equal(a.link.state, JM_LINK_SENTINEL);
	assert_int_equal(a.link.value, JM_LINK_SENTINEL_VALUE); /* and it ran */
	assert_int_equal(L.st.reach_failures, 2); /* entry and leaf loads */
	assert_int_equal(L.st.reach_failures_other, 0);
	assert_int_equal(L.st.nfirst, 2);
	assert_string_equal(L.st.first[0].reloc, "R_X86_64_PC32");
	assert_true(L.st.first[0].distance > INT32_MAX);
	char text[300];
	jm_reach_failure_text(&L.st.first[0], text, sizeof(text));
	assert_non_null(strstr(text, "relocation target out of range"));
	assert_non_null(strstr(text, "graph 7"));
	/* a sentinel graph is never called by later graphs */
	assert_int_equal(L.have_callee, 0);

	struct jm_alloc b;
	place(&b, 8, base, 16 * MIB, 5 * GIB, UINT64_MAX);
	link_and_run(&L, &b);
	assert_int_equal(b.link.state, JM_LINK_SENTINEL);
	assert_int_equal(L.st.reach_failures_other, 2);
	assert_string_equal(L.st.first_other[0].reloc, "R_AARCH64_ADR_PREL_PG_HI21");

	/* the large code model has no PC-relative data reach limit */
	struct jm_linker big;
	jm_linker_init(&big, JM_CM_LARGE);
	struct jm_alloc c;
	place(&c, 9, base, 32 * MIB, 5 * GIB + 8192, UINT64_MAX);
	link_and_run(&big, &c);
	assert_int_equal(c.link.state, JM_LINK_LINKED);
	assert_int_equal(c.link.value, jm_contents_data_word(&c, 0));
	assert_int_equal(big.st.reach_failures, 0);
	assert_int_equal(big.st.reach_failures_other, 0);
	munmap(base, 6 * GIB);
}

/* A call 200 MiB away: fine on x86-64, beyond AArch64's BL (+-128 MiB)
 * in both code models. */
static void test_call_beyond_aarch64_branch_range(void **state)
{
	(void)state;
	char *base = reserve_va(256 * MIB);
	assert_non_null(base);
	for (int cm = 0; cm < JM_NCM; cm++) {
		struct jm_linker L;
		jm_linker_init(&L, (enum jm_code_model)cm);
		struct jm_alloc a, b;
		place(&a, 1, base, 0, 4096, UINT64_MAX);
		link_and_run(&L, &a);
		place(&b, 2, base, 200 * MIB, 200 * MIB + 4096, UINT64_MAX);
		link_and_run(&L, &b);
		assert_int_equal(b.link.state, JM_LINK_LINKED);
		assert_int_equal(L.st.reach_failures, 0);
		assert_int_equal(L.st.reach_failures_other, 1);
		assert_string_equal(L.st.first_other[0].reloc, "R_AARCH64_CALL26");
		assert_int_equal(L.st.first_other[0].kind, JM_RELOC_CALL);
		munmap(base, 256 * MIB);
		base = reserve_va(256 * MIB);
		assert_non_null(base);
	}
	munmap(base, 256 * MIB);
}

/* A trace may free the callee between a graph's allocate and finalize:
 * the entry (which would call freed memory) is then not called, the leaf
 * still is. */
static void test_callee_freed_before_finalize(void **state)
{
	(void)state;
	char *base = reserve_va(16 * MIB);
	struct jm_linker L;
	jm_linker_init(&L, JM_CM_SMALL);
	struct jm_alloc a, b;
	place(&a, 1, base, 0, 4096, UINT64_MAX);
	link_and_run(&L, &a);
	place(&b, 2, base, 8 * MIB, 8 * MIB + 4096, UINT64_MAX);
	jm_contents_write_linked(&L, &b);
	assert_int_equal(b.link.callee_id, 1);
	jm_link_forget(&L, 1);
	munmap(base, 8192); /* graph 1 is gone */
	b.link.flags |= JM_LINK_CALLEE_GONE;
	make_exec(&b);
	char err[256] = "";
	assert_int_equal(jm_contents_check_linked(&L, &b, 1, err, sizeof(err)), 0);
	assert_int_equal(L.have_callee, 0);
	munmap(base, 16 * MIB);
}

/* Code too small for linked functions gets mov eax, imm; ret. */
static void test_small_code_is_plain(void **state)
{
	(void)state;
	char *base = reserve_va(16 * MIB);
	struct jm_linker L;
	jm_linker_init(&L, JM_CM_SMALL);
	struct jm_alloc a;
	place(&a, 3, base, 0, 4096, UINT64_MAX);
	a.seg[1].content = 8;
	link_and_run(&L, &a);
	assert_int_equal(a.link.state, JM_LINK_PLAIN);
	assert_int_equal(a.link.value, jm_contents_value(3));
	munmap(base, 16 * MIB);
}

static json_object *run_json(const char *backend, const char *workload,
			     const char *extra1, const char *extra2, int *rc)
{
	char path[] = "/tmp/jitmm-reach-XXXXXX";
	int fd = mkstemp(path);
	close(fd);
	char *args[16];
	int n = 0;
	args[n++] = "run";
	args[n++] = "-q";
	args[n++] = "-b";
	args[n++] = (char *)backend;
	args[n++] = "-w";
	args[n++] = (char *)workload;
	args[n++] = "--json";
	args[n++] = path;
	if (extra1)
		args[n++] = (char *)extra1;
	if (extra2)
		args[n++] = (char *)extra2;
	args[n] = NULL;
	char *out = NULL, *err = NULL;
	*rc = tu_run_jitmm(args, &out, &err);
	char e[512];
	json_object *o = jm_results_load(path, e, sizeof(e));
	if (!o)
		printf("# jitmm stderr: %s\n", err);
	free(out);
	free(err);
	unlink(path);
	return o;
}

/* --execute runs every graph's linked code on every backend. */
static void test_execute_every_backend(void **state)
{
	(void)state;
	for (size_t i = 0; i < jm_backend_count(); i++) {
		const char *name = jm_backends[i]->name;
		int rc;
		json_object *o = run_json(name, "llvm-500,page-pairs:graphs=200", "--execute", NULL, &rc);
		assert_non_null(o);
		json_object *runs = jm_json_path(o, "runs");
		for (size_t k = 0; k < json_object_array_length(runs); k++) {
			json_object *r = json_object_array_get_idx(runs, k);
			double linked, plain, sentinel, graphs, calls, fails;
			if (strcmp(jm_json_str(r, "status", "?"), "ok"))
				fail_msg("%s: %s", name, jm_json_str(r, "error.message", "?"));
			assert_int_equal(jm_json_num(r, "metrics.relocations.graphs_linked", &linked), 0);
			jm_json_num(r, "metrics.relocations.graphs_plain", &plain);
			jm_json_num(r, "metrics.relocations.graphs_sentinel", &sentinel);
			jm_json_num(r, "metrics.relocations.call_relocations", &calls);
			jm_json_num(r, "metrics.reloc_reach_failures", &fails);
			jm_json_num(r, "metrics.graphs", &graphs);
			printf("# %s on %s: %.0f graphs linked, %.0f plain, %.0f out of reach, "
			       "%.0f calls\n", name, jm_json_str(r, "workload", "?"), linked,
			       plain, sentinel, calls);
			/* every graph's code ran (the run is ok); graphs placed
			 * out of reach of their callee ran a sentinel instead */
			assert_true(linked + plain + sentinel == graphs);
			assert_true(linked > 0 && calls > 0);
			assert_true((sentinel > 0) == (fails > 0));
		}
		assert_int_equal(rc, 0);
		json_object_put(o);
	}
}

/* Backends that touch every reserved byte get fewer graphs: their code and
 * data share one mapping per graph, so the distances do not depend on the
 * graph count, and the full preset would cost 2.5 GiB of RSS. */
static const struct {
	const char *backend, *workload, *why;
} reach_overrides[] = {
	{"inprocess", "reach-stress:graphs=6",
	 "memsets its whole slab (LLVM): 64 MiB RSS per graph"},
	{NULL, NULL, NULL},
};

static void test_reach_stress_every_backend(void **state)
{
	(void)state;
	const double limit = 2.0 * GIB;
	for (size_t i = 0; i < jm_backend_count(); i++) {
		const char *name = jm_backends[i]->name, *wl = "reach-stress";
		for (int k = 0; reach_overrides[k].backend; k++)
			if (!strcmp(reach_overrides[k].backend, name)) {
				wl = reach_overrides[k].workload;
				printf("# %s: %s (%s)\n", name, wl, reach_overrides[k].why);
			}
		int rc;
		json_object *o = run_json(name, wl, "--execute", NULL, &rc);
		assert_non_null(o);
		json_object *r = json_object_array_get_idx(jm_json_path(o, "runs"), 0);
		if (strcmp(jm_json_str(r, "status", "?"), "ok"))
			fail_msg("%s: %s", name, jm_json_str(r, "error.message", "?"));
		double fails, dd, dc, va;
		jm_json_num(r, "metrics.reloc_reach_failures", &fails);
		jm_json_num(r, "metrics.relocations.max_data_distance", &dd);
		jm_json_num(r, "metrics.relocations.max_call_distance", &dc);
		jm_json_num(r, "metrics.va_reserved_peak_bytes", &va);
		double far = dd > dc ? dd : dc;
		printf("# %s: VA peak %.0f MiB, max distance data %.0f MiB call %.0f MiB, "
		       "%.0f reach failures\n", name, va / MIB, dd / MIB, dc / MIB, fails);
		/* +-16 bytes of slack for the x86 -4 addend at the boundary */
		if (far > limit + 16)
			assert_true(fails > 0);
		else if (far < limit - 16)
			assert_true(fails == 0);
		json_object_put(o);
		if (fails > 0) {
			/* the same placement in the large code model: no failures */
			o = run_json(name, wl, "--execute", "--code-model=large", &rc);
			assert_non_null(o);
			r = json_object_array_get_idx(jm_json_path(o, "runs"), 0);
			assert_string_equal(jm_json_str(r, "status", "?"), "ok");
			jm_json_num(r, "metrics.reloc_reach_failures", &fails);
			assert_true(fails == 0);
			json_object_put(o);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_near_code_links_and_runs),
		cmocka_unit_test(test_far_data_is_a_reach_failure),
		cmocka_unit_test(test_call_beyond_aarch64_branch_range),
		cmocka_unit_test(test_small_code_is_plain),
		cmocka_unit_test(test_callee_freed_before_finalize),
		cmocka_unit_test(test_execute_every_backend),
		cmocka_unit_test(test_reach_stress_every_backend),
	};
	return cmocka_run_group_tests_name("relocation reach", tests, NULL, NULL);
}
