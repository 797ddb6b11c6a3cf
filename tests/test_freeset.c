/* The free-range set (allocators/freeset.c) against the sorted arrays with
 * scans it replaced: first fit (the old freeset.c) and best fit (the old
 * free list of slab-pool, tvm-ffi's Slab::bumpAllocate: the shortest fit,
 * the lowest address among equals, an exact fit ends the scan). The same
 * random operations on both must give the same addresses, the same ranges
 * and the same failures, so that every model built on it (single-pool,
 * per-prot, colocate, striped, shm-mapper, slab-pool, the Julia models'
 * accounting) places memory exactly as before. */
#include "testutil.h"

#include "../allocators/freeset.h"

/* ---- the reference: sorted array, fits by scan (the old freeset.c and
 * slab-pool free list) ---- */

struct ref {
	struct jm_range r[16384];
	size_t n;
};

static size_t ref_lower_bound(const struct ref *f, uint64_t a)
{
	size_t i = 0;
	while (i < f->n && f->r[i].start < a)
		i++;
	return i;
}

static void ref_erase(struct ref *f, size_t i)
{
	memmove(&f->r[i], &f->r[i + 1], (f->n - i - 1) * sizeof(f->r[0]));
	f->n--;
}

static void ref_insert_at(struct ref *f, size_t i, uint64_t s, uint64_t e)
{
	assert_true(f->n < 16384);
	memmove(&f->r[i + 1], &f->r[i], (f->n - i) * sizeof(f->r[0]));
	f->r[i] = (struct jm_range){s, e};
	f->n++;
}

static int ref_insert(struct ref *f, uint64_t s, uint64_t e)
{
	if (s >= e)
		return 0;
	size_t i = ref_lower_bound(f, s);
	if ((i > 0 && f->r[i - 1].end > s) || (i < f->n && f->r[i].start < e))
		return -1;
	int mp = i > 0 && f->r[i - 1].end == s, mn = i < f->n && f->r[i].start == e;
	if (mp && mn) {
		f->r[i - 1].end = f->r[i].end;
		ref_erase(f, i);
	} else if (mp) {
		f->r[i - 1].end = e;
	} else if (mn) {
		f->r[i].start = s;
	} else {
		ref_insert_at(f, i, s, e);
	}
	return 0;
}

static int ref_take(struct ref *f, size_t i, uint64_t size, uint64_t *start)
{
	*start = f->r[i].start;
	f->r[i].start += size;
	if (f->r[i].start == f->r[i].end)
		ref_erase(f, i);
	return 0;
}

static int ref_first_fit(struct ref *f, uint64_t size, uint64_t *start)
{
	for (size_t i = 0; i < f->n; i++)
		if (f->r[i].end - f->r[i].start >= size)
			return ref_take(f, i, size, start);
	return -1;
}

static int ref_best_fit(struct ref *f, uint64_t size, uint64_t *start)
{
	size_t best = f->n;
	uint64_t bl = UINT64_MAX;
	for (size_t i = 0; i < f->n; i++) {
		uint64_t l = f->r[i].end - f->r[i].start;
		if (l >= size && l < bl) {
			best = i;
			bl = l;
			if (l == size)
				break;
		}
	}
	return best == f->n ? -1 : ref_take(f, best, size, start);
}

static int ref_remove(struct ref *f, uint64_t s, uint64_t e)
{
	size_t i = ref_lower_bound(f, s + 1);
	if (i == 0)
		return -1;
	i--;
	struct jm_range r = f->r[i];
	if (r.start > s || r.end < e)
		return -1;
	if (r.start == s && r.end == e)
		ref_erase(f, i);
	else if (r.start == s)
		f->r[i].start = e;
	else if (r.end == e)
		f->r[i].end = s;
	else {
		f->r[i].end = s;
		ref_insert_at(f, i + 1, e, r.end);
	}
	return 0;
}

static void ref_remove_all_in(struct ref *f, uint64_t s, uint64_t e)
{
	size_t i = ref_lower_bound(f, s);
	if (i > 0 && f->r[i - 1].end > s)
		i--;
	while (i < f->n && f->r[i].start < e) {
		struct jm_range r = f->r[i];
		if (r.start < s && r.end > e) {
			f->r[i].end = s;
			ref_insert_at(f, i + 1, e, r.end);
			return;
		}
		if (r.start < s) {
			f->r[i].end = s;
			i++;
		} else if (r.end > e) {
			f->r[i].start = e;
			return;
		} else {
			ref_erase(f, i);
		}
	}
}

static int ref_contains(const struct ref *f, uint64_t s, uint64_t e)
{
	size_t i = ref_lower_bound(f, s + 1);
	return i > 0 && f->r[i - 1].start <= s && f->r[i - 1].end >= e;
}

/* ---- the trees' invariants (struct jm_freeset_node) ---- */

struct walk {
	unsigned char *in_addr; /* per node index: seen in the address tree */
	size_t n;
	uint64_t bytes, prev_end;
	uint64_t prev_len, prev_start;
};

/* Address subtree t under a node of priority pri: in address order,
 * ranges neither overlapping nor touching (touching ones coalesce), a heap
 * by priority, every max the longest range of its subtree (first fit
 * trusts it). Returns that longest range. */
static uint64_t check_addr(const struct jm_freeset *fs, uint32_t t, uint32_t pri,
			   struct walk *w)
{
	if (t == 0)
		return 0;
	const struct jm_freeset_node *x = &fs->node[t];
	assert_true(x->pri <= pri);
	uint64_t m = check_addr(fs, x->l, x->pri, w);
	assert_true(x->start < x->end);
	assert_true(w->n == 0 || x->start > w->prev_end);
	w->prev_end = x->end;
	w->n++;
	w->bytes += x->end - x->start;
	w->in_addr[t] = 1;
	if (x->end - x->start > m)
		m = x->end - x->start;
	uint64_t mr = check_addr(fs, x->r, x->pri, w);
	if (mr > m)
		m = mr;
	assert_int_equal(x->max, m);
	return m;
}

/* Length subtree t: in (length, start) order, a heap by priority, and
 * every node one of the address tree's. */
static void check_len(const struct jm_freeset *fs, uint32_t t, uint32_t pri, struct walk *w)
{
	if (t == 0)
		return;
	const struct jm_freeset_node *x = &fs->node[t];
	assert_true(x->pri <= pri);
	check_len(fs, x->len_l, x->pri, w);
	uint64_t len = x->end - x->start;
	assert_true(w->n == 0 || len > w->prev_len ||
		    (len == w->prev_len && x->start > w->prev_start));
	assert_true(w->in_addr[t]);
	w->prev_len = len;
	w->prev_start = x->start;
	w->n++;
	check_len(fs, x->len_r, x->pri, w);
}

static void check_trees(const struct jm_freeset *fs)
{
	struct walk w = {.in_addr = calloc(fs->used + 1, 1)};
	assert_non_null(w.in_addr);
	check_addr(fs, fs->root, UINT32_MAX, &w);
	assert_int_equal(w.n, fs->n);
	assert_int_equal(w.bytes, jm_freeset_bytes(fs));
	if (fs->by_len) {
		w.n = 0;
		check_len(fs, fs->len_root, UINT32_MAX, &w);
		assert_int_equal(w.n, fs->n);
	}
	free(w.in_addr);
}

/* ---- the comparison ---- */

static uint64_t rng_state = TU_XORSHIFT_SEED;
static uint64_t rnd(uint64_t below)
{
	return tu_xorshift_below(&rng_state, below);
}

static void same_ranges(const struct jm_freeset *fs, const struct ref *f)
{
	assert_int_equal(fs->n, f->n);
	uint64_t bytes = 0, at = 0;
	struct jm_range r;
	for (size_t i = 0; i < f->n; i++) {
		assert_int_equal(jm_freeset_fit_from(fs, at, 1, &r), 0);
		assert_int_equal(r.start, f->r[i].start);
		assert_int_equal(r.end, f->r[i].end);
		bytes += r.end - r.start;
		at = r.end;
	}
	assert_int_equal(jm_freeset_fit_from(fs, at, 1, &r), -1);
	assert_int_equal(jm_freeset_bytes(fs), bytes);
	check_trees(fs);
}

/* Live allocations the random driver may give back. */
struct held {
	uint64_t start, len;
};

/* 200k random operations on both. Allocations (58 in 100) are by first
 * fit below first_fit_below, by best fit from there: best fit then keeps
 * the set's length index through every other operation. */
static void same_as_scan(unsigned first_fit_below)
{
	static struct ref f;
	static struct held held[16384];
	size_t nheld = 0;
	struct jm_freeset fs;
	memset(&f, 0, sizeof(f));
	jm_freeset_init(&fs);
	/* reservations of 1 MiB, every third one touching the one before (they
	 * coalesce, as in LLVM), added whenever free memory runs low */
	uint64_t lo = 1ull << 30, next = lo;
	size_t max_ranges = 0;
	for (int step = 0; step < 200000; step++) {
		uint64_t a, b;
		if (jm_freeset_bytes(&fs) < (256 << 10)) {
			if (rnd(3))
				next += 1 << 20; /* a gap: no coalescing */
			assert_int_equal(jm_freeset_insert(&fs, next, next + (1 << 20)), 0);
			assert_int_equal(ref_insert(&f, next, next + (1 << 20)), 0);
			next += 1 << 20;
		}
		unsigned op = (unsigned)rnd(100);
		uint64_t any = lo + rnd((next - lo) / 4096) * 4096; /* a page anywhere */
		if (op < 58) { /* allocate: first fit or best fit */
			uint64_t size = (1 + rnd(op < 5 ? 64 : 6)) * 4096;
			int r1, r2;
			if (op < first_fit_below) {
				r1 = jm_freeset_first_fit(&fs, size, &a);
				r2 = ref_first_fit(&f, size, &b);
			} else {
				r1 = jm_freeset_best_fit(&fs, size, &a);
				r2 = ref_best_fit(&f, size, &b);
			}
			assert_int_equal(r1, r2);
			if (r1 == 0) {
				assert_int_equal(a, b);
				if (nheld < 16384)
					held[nheld++] = (struct held){a, size};
				else /* enough held: give it straight back */
					assert_int_equal(jm_freeset_insert(&fs, a, a + size),
							 ref_insert(&f, a, a + size));
			}
		} else if (op < 88 && nheld) { /* free a random live allocation */
			size_t k = (size_t)rnd(nheld);
			struct held h = held[k];
			held[k] = held[--nheld];
			assert_int_equal(jm_freeset_insert(&fs, h.start, h.start + h.len), 0);
			assert_int_equal(ref_insert(&f, h.start, h.start + h.len), 0);
		} else if (op < 90 && f.n) { /* a double free is refused */
			struct jm_range r = f.r[rnd(f.n)];
			uint64_t s = r.start + rnd((r.end - r.start) / 4096) * 4096;
			assert_int_equal(jm_freeset_insert(&fs, s - 4096, s + 4096), -1);
			assert_int_equal(ref_insert(&f, s - 4096, s + 4096), -1);
		} else if (op < 96) { /* remove part of a free range (striped) */
			uint64_t e = any + (1 + rnd(4)) * 4096;
			int r1 = jm_freeset_remove(&fs, any, e), r2 = ref_remove(&f, any, e);
			assert_int_equal(r1, r2);
			if (r1 == 0 && nheld < 16384)
				held[nheld++] = (struct held){any, e - any};
		} else if (op < 97) { /* forget the free bytes over several ranges */
			uint64_t e = any + rnd(16) * 4096;
			jm_freeset_remove_all_in(&fs, any, e);
			ref_remove_all_in(&f, any, e);
		} else { /* membership */
			uint64_t e = any + rnd(8) * 4096;
			assert_int_equal(jm_freeset_contains(&fs, any, e), ref_contains(&f, any, e));
		}
		if (f.n > max_ranges)
			max_ranges = f.n;
		if (step % 997 == 0)
			same_ranges(&fs, &f);
	}
	/* the driver reached a fragmented state, not a trivial one */
	assert_true(max_ranges > 100);
	same_ranges(&fs, &f);
	jm_freeset_release(&fs);
}

/* first fit for most allocations, best fit for some (from an early one on,
 * the length index follows first fits, removals and coalescing too) */
static void test_same_as_scan(void **state)
{
	(void)state;
	same_as_scan(53);
}

/* best fit only, as slab-pool: many holes of equal length, so the lowest
 * address among equals decides most fits */
static void test_best_fit_same_as_scan(void **state)
{
	(void)state;
	same_as_scan(0);
}

/* A set of 2^16 ranges made in address order (the order that degenerates
 * an unbalanced tree): first fit finds the one long range at the far end,
 * then takes the lowest ranges in order. (Its O(log n) cost is measured,
 * not asserted: `make bench`, per-graph cost at 100k vs 10k graphs.) */
static void test_balanced(void **state)
{
	(void)state;
	struct jm_freeset fs;
	jm_freeset_init(&fs);
	for (uint64_t i = 0; i < 65536; i++)
		assert_int_equal(jm_freeset_insert(&fs, i * 8192, i * 8192 + 4096), 0);
	assert_int_equal(fs.n, 65536);
	/* one range long enough, at the very end: first fit must find it */
	assert_int_equal(jm_freeset_insert(&fs, 1ull << 40, (1ull << 40) + 65536), 0);
	uint64_t a;
	assert_int_equal(jm_freeset_first_fit(&fs, 65536, &a), 0);
	assert_int_equal(a, 1ull << 40);
	assert_int_equal(fs.n, 65536);
	assert_int_equal(jm_freeset_bytes(&fs), 65536ull * 4096);
	for (uint64_t i = 0; i < 32768; i++) {
		assert_int_equal(jm_freeset_first_fit(&fs, 4096, &a), 0);
		assert_int_equal(a, i * 8192);
	}
	assert_int_equal(fs.n, 32768);
	assert_true(jm_freeset_contains(&fs, 32768 * 8192, 32768 * 8192 + 4096));
	check_trees(&fs);
	jm_freeset_release(&fs);
}

/* Best fit over 2^16 ranges made in address order, the length index
 * built by the first call over all of them: the one short range at the
 * far end is the exact fit, equal ranges go lowest address first, and a
 * longer request takes the shortest range long enough. */
static void test_best_fit_balanced(void **state)
{
	(void)state;
	struct jm_freeset fs;
	jm_freeset_init(&fs);
	for (uint64_t i = 0; i < 65536; i++)
		assert_int_equal(jm_freeset_insert(&fs, i * 16384, i * 16384 + 8192), 0);
	assert_int_equal(jm_freeset_insert(&fs, 1ull << 40, (1ull << 40) + 4096), 0);
	assert_int_equal(jm_freeset_insert(&fs, 1ull << 41, (1ull << 41) + 65536), 0);
	uint64_t a;
	assert_int_equal(jm_freeset_best_fit(&fs, 4096, &a), 0);
	assert_int_equal(a, 1ull << 40);
	for (uint64_t i = 0; i < 1024; i++) {
		/* the low half of the lowest 8 KiB range, then its high half,
		 * now an exact fit */
		assert_int_equal(jm_freeset_best_fit(&fs, 4096, &a), 0);
		assert_int_equal(a, i * 16384);
		assert_int_equal(jm_freeset_best_fit(&fs, 4096, &a), 0);
		assert_int_equal(a, i * 16384 + 4096);
	}
	assert_int_equal(jm_freeset_best_fit(&fs, 8192, &a), 0);
	assert_int_equal(a, 1024 * 16384);
	assert_int_equal(jm_freeset_best_fit(&fs, 12288, &a), 0);
	assert_int_equal(a, 1ull << 41);
	assert_int_equal(jm_freeset_best_fit(&fs, 65536, &a), -1);
	assert_int_equal(fs.n, 65536 + 2 - 1 - 1024 - 1); /* the exact fits are gone */
	check_trees(&fs);
	jm_freeset_release(&fs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_as_scan),
		cmocka_unit_test(test_best_fit_same_as_scan),
		cmocka_unit_test(test_balanced),
		cmocka_unit_test(test_best_fit_balanced),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
