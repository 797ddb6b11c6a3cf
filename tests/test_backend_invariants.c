/* The conformance suite: every registered backend (and every option variant
 * listed below) under seeded random allocate/finalize/deallocate sequences.
 * Checks: live allocations never overlap; every finalized segment has the
 * protection the backend promises, as /proc/self/maps shows; alignment is
 * honoured; contents read back through the execution address; the rx
 * function at each code segment's start executes and returns its value; the
 * VMA count returns to where it was after destroy. */
#include "testutil.h"

#include <errno.h>
#include <signal.h>
#include <sys/mman.h>

#include "../allocators/backend.h"
#include "../linker/contents.h"
#include "../probes/procfs_sample.h"
#include "../workloads/rng.h"

/* Option variants tested in addition to each backend's defaults. */
static const char *const variants[] = {
	"single-pool:granularity=64K",
	"slab-pool:thp=off",
	"slab-pool:slab_size=8M",
	"slab-pool:slab_size=8M,commit_granularity=64K",
	"shm-mapper:granularity=64K",
	"shm-mapper:mode=inprocess-mapper",
	"shm-mapper:mode=inprocess-mapper,granularity=64K",
	"per-prot:granularity=1M",
	"per-prot:granularity=64K",
	"julia-blocks:writer=selfmem",
	"julia-blocks:slot_scan=full",
	"julia-blocks:writer=selfmem,slot_scan=full",
	"codemodel:writer=selfmem",
	"codemodel:block_bits=16",
	"codemodel:block_bits=16,writer=selfmem,text_data_ratio=3",
	"striped:chunk_size=64K",
	"striped:chunk_size=4K,slab_size=1M",
	"striped:chunk_size=1M,slab_size=2M",
	"colocate:growth=single,slab_size=64M",
	"colocate:slab_size=64K",
	"section-mm:reserve=on",
	/* the real classes (skipped where the LLVM plugin is not built) */
	"llvm-mapper:granularity=64K",
	"llvm-shm:granularity=64K",
	"llvm-section:reserve=on",
	NULL,
};

#define MAX_LIVE 48

struct seg_range {
	uintptr_t lo, hi;
	int owner;
};

static int cmp_range(const void *a, const void *b)
{
	const struct seg_range *x = a, *y = b;
	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

static void random_graph(struct jm_rng *r, uint64_t id, struct jm_graph_req *req)
{
	memset(req, 0, sizeof(*req));
	req->id = id;
	uint32_t n = 0;
	for (int c = 0; c < JM_NCLASS; c++)
		for (int l = 0; l < JM_NLIFETIME; l++) {
			int p = l == JM_STANDARD ? (c == JM_RX ? 100 : 60) : 10;
			if ((int)jm_rng_below(r, 100) >= p)
				continue;
			struct jm_segment_req *s = &req->seg[n++];
			s->cls = (enum jm_prot_class)c;
			s->life = (enum jm_lifetime)l;
			uint64_t big = jm_rng_below(r, 10) == 0;
			s->content = 1 + jm_rng_below(r, big ? 300000 : 6000);
			if (c == JM_RX && s->content < 16)
				s->content = 16;
			s->zero_fill = jm_rng_below(r, 3) == 0 ? jm_rng_below(r, 9000) : 0;
			s->align = 1u << jm_rng_below(r, 13); /* 1 .. 4096 */
		}
	req->nseg = n;
	jm_graph_normalize(req);
}

static const char *prot_text(int prot)
{
	switch (prot) {
	case PROT_READ: return "r--";
	case PROT_READ | PROT_WRITE: return "rw-";
	case PROT_READ | PROT_EXEC: return "r-x";
	case PROT_READ | PROT_WRITE | PROT_EXEC: return "rwx";
	default: return "---";
	}
}

/* Live segments must not overlap. which: 0 both views in one address
 * space, 1 exec views only, 2 write views only (the two views of an
 * out-of-process backend live in different processes). */
static void check_no_overlap_in(struct jm_alloc *live, int *used, int n, int which)
{
	struct seg_range r[MAX_LIVE * JM_MAX_SEGS * 2];
	int k = 0;
	for (int i = 0; i < n; i++) {
		if (!used[i])
			continue;
		for (uint32_t s = 0; s < live[i].nseg; s++) {
			struct jm_segment_alloc *sg = &live[i].seg[s];
			if (!sg->exec || !sg->size)
				continue;
			if (which != 2)
				r[k++] = (struct seg_range){(uintptr_t)sg->exec,
							    (uintptr_t)sg->exec + sg->size, i};
			if (which == 2 || (which == 0 && sg->write != sg->exec))
				r[k++] = (struct seg_range){(uintptr_t)sg->write,
							    (uintptr_t)sg->write + sg->size, i};
		}
	}
	qsort(r, (size_t)k, sizeof(r[0]), cmp_range);
	for (int i = 1; i < k; i++)
		if (r[i].lo < r[i - 1].hi)
			fail_msg("segments overlap: [%#lx,%#lx) of live %d and [%#lx,%#lx) of live %d",
				 (unsigned long)r[i - 1].lo, (unsigned long)r[i - 1].hi, r[i - 1].owner,
				 (unsigned long)r[i].lo, (unsigned long)r[i].hi, r[i].owner);
}

static void check_no_overlap(const struct jm_backend *b, struct jm_alloc *live, int *used,
			     int n)
{
	if (b->ops->caps & JM_CAP_OUT_OF_PROCESS) {
		check_no_overlap_in(live, used, n, 1);
		check_no_overlap_in(live, used, n, 2);
	} else {
		check_no_overlap_in(live, used, n, 0);
	}
}

static void check_finalized(struct jm_backend *b, struct jm_alloc *a)
{
	char why[256] = "";
	int execute = !(b->ops->caps & JM_CAP_NO_PROTECT);
	/* through the backend: an out-of-process backend's exec addresses are
	 * read, and its code called, in its executor */
	if (jm_contents_check_backend(b, a, execute, why, sizeof(why)) < 0)
		fail_msg("%s: %s", b->ops->name, why);
	pid_t pid = b->ops->exec_pid ? b->ops->exec_pid(b) : 0;
	for (uint32_t s = 0; s < a->nseg; s++) {
		struct jm_segment_alloc *sg = &a->seg[s];
		if (!sg->exec)
			continue;
		int prot = jm_backend_effective_prot(b, sg->cls);
		if (prot < 0)
			continue;
		why[0] = 0;
		if (tu_check_prot_pid(pid, sg->exec, sg->size, prot_text(prot), why,
				      sizeof(why)) < 0)
			fail_msg("%s: graph %llu %s segment: %s", b->ops->name,
				 (unsigned long long)a->id, jm_class_name(sg->cls), why);
	}
}

/* Execution ranges handed out during one exercise: none may still be
 * mapped after destroy. Unlike the VMA count, this holds under
 * AddressSanitizer, whose allocator maps memory of its own. */
#define MAX_SEEN 4096
static struct seg_range seen[MAX_SEEN];
static int nseen;

static void remember(const struct jm_backend *b, const struct jm_alloc *a)
{
	/* an out-of-process backend's exec ranges are the executor's (gone
	 * with it after destroy); in this process its write views must go */
	int writes = (b->ops->caps & JM_CAP_OUT_OF_PROCESS) != 0;
	for (uint32_t s = 0; s < a->nseg && nseen < MAX_SEEN; s++) {
		uintptr_t lo = (uintptr_t)(writes ? a->seg[s].write : a->seg[s].exec);
		seen[nseen++] = (struct seg_range){lo, lo + a->seg[s].size, 0};
	}
}

static void check_seen_unmapped(const char *name)
{
	FILE *f = fopen("/proc/self/maps", "r");
	if (!f)
		fail_msg("cannot open /proc/self/maps");
	char line[512];
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;
		if (sscanf(line, "%lx-%lx", &lo, &hi) != 2)
			continue;
		for (int i = 0; i < nseen; i++)
			if (seen[i].lo < hi && lo < seen[i].hi) {
				fclose(f);
				fail_msg("%s: %#lx-%#lx still mapped after destroy (leaked)",
					 name, (unsigned long)seen[i].lo, (unsigned long)seen[i].hi);
			}
	}
	fclose(f);
}

static void exercise(const struct jm_backend_ops *ops, const char *optspec, uint64_t seed)
{
	nseen = 0;
	struct jm_backend b;
	char err[600];
	int ready = tu_backend_prepare(ops, optspec, err, sizeof(err));
	if (ready == 0) {
		printf("# %s: not available here, not exercised: %s\n", ops->name, err);
		return;
	}
	if (ready < 0)
		fail_msg("%s: prepare: %s", ops->name, err);
	long vmas0 = jm_vma_count(0);
	if (jm_backend_open(ops, optspec, &b, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	struct jm_rng r;
	jm_rng_seed(&r, seed);
	static struct jm_alloc live[MAX_LIVE];
	int used[MAX_LIVE] = {0};
	uint64_t next_id = 1;
	for (int step = 0; step < 400; step++) {
		int slot = (int)jm_rng_below(&r, MAX_LIVE);
		if (!used[slot]) {
			struct jm_graph_req req;
			random_graph(&r, next_id++, &req);
			if (ops->allocate(&b, &req, &live[slot]) < 0)
				fail_msg("%s: allocate: %s", ops->name, b.err);
			struct jm_alloc *a = &live[slot];
			a->id = req.id;
			for (uint32_t s = 0; s < a->nseg; s++) {
				uint32_t al = req.seg[s].align;
				if ((uintptr_t)a->seg[s].write % al || (uintptr_t)a->seg[s].exec % al)
					fail_msg("%s: segment %u not aligned to %u", ops->name, s, al);
				if (a->seg[s].size != req.seg[s].content + req.seg[s].zero_fill)
					fail_msg("%s: segment %u size changed", ops->name, s);
			}
			jm_contents_write(a);
			remember(&b, a);
			if (ops->finalize(&b, a) < 0)
				fail_msg("%s: finalize: %s", ops->name, b.err);
			used[slot] = 1;
			check_finalized(&b, a);
			check_no_overlap(&b, live, used, MAX_LIVE);
		} else {
			if (ops->deallocate(&b, &live[slot]) < 0)
				fail_msg("%s: deallocate: %s", ops->name, b.err);
			used[slot] = 0;
		}
		if (step % 97 == 0) {
			struct jm_trim_result t;
			if (ops->trim(&b, &t) < 0)
				fail_msg("%s: trim: %s", ops->name, b.err);
			/* everything live must still be intact after a trim */
			for (int i = 0; i < MAX_LIVE; i++)
				if (used[i])
					check_finalized(&b, &live[i]);
		}
	}
	for (int i = 0; i < MAX_LIVE; i++)
		if (used[i] && ops->deallocate(&b, &live[i]) < 0)
			fail_msg("%s: deallocate: %s", ops->name, b.err);
	pid_t executor = ops->exec_pid ? ops->exec_pid(&b) : 0;
	jm_backend_close(&b);
	/* an executor process must be gone (exited and reaped) after destroy */
	if (executor > 0 && (kill(executor, 0) == 0 || errno != ESRCH))
		fail_msg("%s: executor %d still exists after destroy", ops->name,
			 (int)executor);
	long vmas1 = jm_vma_count(0);
	/* the null backend hands out heap memory, which stays mapped; under
	 * ASan, libLLVM's mallocs map memory where an llvm-* backend's freed
	 * slabs were (the plain build checks those) */
	if (TU_SANITIZED && !strncmp(ops->name, "llvm-", 5))
		printf("# note: %s: freed ranges not checked under ASan\n", ops->name);
	else if (!(ops->caps & JM_CAP_NO_PROTECT))
		check_seen_unmapped(ops->name);
	if (vmas1 != vmas0 && TU_SANITIZED)
		printf("# note: %s: VMA leak check not asserted under ASan "
		       "(%ld before, %ld after: its allocator maps memory too)\n",
		       ops->name, vmas0, vmas1);
	else if (vmas1 != vmas0)
		fail_msg("%s: %ld VMAs before, %ld after destroy (leaked mappings)",
			 ops->name, vmas0, vmas1);
}

static void test_every_backend(void **state)
{
	(void)state;
	for (size_t i = 0; jm_backends[i]; i++)
		for (uint64_t seed = 1; seed <= 3; seed++) {
			printf("# %s seed %llu\n", jm_backends[i]->name, (unsigned long long)seed);
			exercise(jm_backends[i], "", seed);
		}
}

static void test_variants(void **state)
{
	(void)state;
	for (int i = 0; variants[i]; i++) {
		struct jm_backend_spec spec[2];
		char err[256];
		int n = jm_backend_spec_parse(variants[i], spec, 2, err, sizeof(err));
		if (n != 1)
			fail_msg("variant %s: %s", variants[i], err);
		printf("# %s\n", variants[i]);
		exercise(spec[0].ops, spec[0].optspec, 7);
	}
}

static void test_big_alignment_rejected_by_llvm_models(void **state)
{
	(void)state;
	/* LLVM rejects segment alignment above the page size */
	const char *names[] = {"inprocess", "single-pool", "striped", "colocate",
			       "slab-pool", "shm-mapper", "llvm-inprocess", "llvm-mapper",
			       "llvm-shm"};
	for (int i = 0; i < 9; i++) {
		struct jm_backend b;
		char err[600];
		const struct jm_backend_ops *ops = jm_backend_find(names[i]);
		if (tu_backend_prepare(ops, "", err, sizeof(err)) <= 0) {
			printf("# %s: not available here: %s\n", names[i], err);
			continue;
		}
		assert_int_equal(jm_backend_open(ops, "", &b, err, sizeof(err)), 0);
		struct jm_graph_req req = {.id = 1, .nseg = 1};
		req.seg[0] = (struct jm_segment_req){JM_RX, JM_STANDARD, 100, 0, 8192};
		struct jm_alloc a;
		assert_int_equal(b.ops->allocate(&b, &req, &a), -1);
		assert_non_null(strstr(b.err, "alignment"));
		jm_backend_close(&b);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_backend),
		cmocka_unit_test(test_variants),
		cmocka_unit_test(test_big_alignment_rejected_by_llvm_models),
	};
	return cmocka_run_group_tests_name("backend invariants", tests, NULL, NULL);
}
