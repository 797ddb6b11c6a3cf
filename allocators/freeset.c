/* The free-range set: see freeset.h. A treap (a binary search tree by
 * start address that is a heap by a random priority: expected depth
 * O(log n) whatever the insertion order) over an array of nodes, so that
 * nodes are indices and a freed node is reused before the array grows. */
#include "freeset.h"

#include <stdlib.h>
#include <string.h>

struct jm_freeset_node {
	uint64_t start, end;
	uint64_t max; /* the longest range in this subtree */
	uint32_t l, r, pri;
};

#define NIL 0u
#define N(fs, i) ((fs)->node[i])

void jm_freeset_init(struct jm_freeset *fs)
{
	memset(fs, 0, sizeof(*fs));
	fs->seed = 2463534242u;
}

void jm_freeset_release(struct jm_freeset *fs)
{
	free(fs->node);
	jm_freeset_init(fs);
}

static uint64_t len_of(const struct jm_freeset *fs, uint32_t t)
{
	return N(fs, t).end - N(fs, t).start;
}

/* recompute t's subtree maximum from its children (node[NIL].max is 0) */
static void pull(struct jm_freeset *fs, uint32_t t)
{
	uint64_t m = len_of(fs, t), a = N(fs, N(fs, t).l).max, b = N(fs, N(fs, t).r).max;
	if (a > m)
		m = a;
	if (b > m)
		m = b;
	N(fs, t).max = m;
}

static uint32_t new_node(struct jm_freeset *fs, uint64_t s, uint64_t e)
{
	uint32_t i;
	if (fs->free_list) {
		i = fs->free_list;
		fs->free_list = N(fs, i).l;
	} else {
		if (fs->used == fs->cap) {
			uint32_t cap = fs->cap ? fs->cap * 2 : 16;
			if (cap <= fs->cap)
				return NIL; /* 2^32 ranges */
			struct jm_freeset_node *n = realloc(fs->node, (size_t)cap * sizeof(*n));
			if (!n)
				return NIL;
			if (!fs->cap) {
				memset(&n[NIL], 0, sizeof(n[NIL]));
				fs->used = 1;
			}
			fs->node = n;
			fs->cap = cap;
		}
		i = fs->used++;
	}
	fs->seed ^= fs->seed << 13; /* xorshift32 */
	fs->seed ^= fs->seed >> 17;
	fs->seed ^= fs->seed << 5;
	N(fs, i) = (struct jm_freeset_node){s, e, e - s, NIL, NIL, fs->seed};
	fs->n++;
	fs->bytes += e - s;
	return i;
}

static void free_node(struct jm_freeset *fs, uint32_t i)
{
	fs->bytes -= len_of(fs, i);
	fs->n--;
	N(fs, i).l = fs->free_list;
	fs->free_list = i;
}

/* Join two treaps, every start in a below every start in b. */
static uint32_t join(struct jm_freeset *fs, uint32_t a, uint32_t b)
{
	if (a == NIL)
		return b;
	if (b == NIL)
		return a;
	if (N(fs, a).pri > N(fs, b).pri) {
		uint32_t r = join(fs, N(fs, a).r, b);
		N(fs, a).r = r;
		pull(fs, a);
		return a;
	}
	uint32_t l = join(fs, a, N(fs, b).l);
	N(fs, b).l = l;
	pull(fs, b);
	return b;
}

/* Split t into the nodes that start below key (*lo) and the others (*hi). */
static void split(struct jm_freeset *fs, uint32_t t, uint64_t key, uint32_t *lo,
		  uint32_t *hi)
{
	if (t == NIL) {
		*lo = *hi = NIL;
		return;
	}
	uint32_t sub;
	if (N(fs, t).start < key) {
		split(fs, N(fs, t).r, key, &sub, hi);
		N(fs, t).r = sub;
		*lo = t;
	} else {
		split(fs, N(fs, t).l, key, lo, &sub);
		N(fs, t).l = sub;
		*hi = t;
	}
	pull(fs, t);
}

/* Put node x (its start in no node of t) into t; returns the root. Down
 * to where x's priority puts it, then t's subtree there is split around
 * x's start into x's children. */
static uint32_t put(struct jm_freeset *fs, uint32_t t, uint32_t x)
{
	if (t == NIL)
		return x;
	if (N(fs, x).pri > N(fs, t).pri) {
		uint32_t lo, hi;
		split(fs, t, N(fs, x).start, &lo, &hi);
		N(fs, x).l = lo;
		N(fs, x).r = hi;
		pull(fs, x);
		return x;
	}
	if (N(fs, x).start < N(fs, t).start) {
		uint32_t l = put(fs, N(fs, t).l, x);
		N(fs, t).l = l;
	} else {
		uint32_t r = put(fs, N(fs, t).r, x);
		N(fs, t).r = r;
	}
	pull(fs, t);
	return t;
}

/* Remove the node whose start is key from t; returns the root. */
static uint32_t erase(struct jm_freeset *fs, uint32_t t, uint64_t key)
{
	if (N(fs, t).start == key) {
		uint32_t j = join(fs, N(fs, t).l, N(fs, t).r);
		free_node(fs, t);
		return j;
	}
	if (key < N(fs, t).start) {
		uint32_t l = erase(fs, N(fs, t).l, key);
		N(fs, t).l = l;
	} else {
		uint32_t r = erase(fs, N(fs, t).r, key);
		N(fs, t).r = r;
	}
	pull(fs, t);
	return t;
}

/* A node's start or end changed without changing its place in address
 * order: recompute the maxima on the path from the root to it (start key). */
static void repair(struct jm_freeset *fs, uint32_t t, uint64_t key)
{
	if (N(fs, t).start != key)
		repair(fs, key < N(fs, t).start ? N(fs, t).l : N(fs, t).r, key);
	pull(fs, t);
}

/* the node with the largest start <= key, NIL if none */
static uint32_t floor_of(const struct jm_freeset *fs, uint64_t key)
{
	uint32_t t = fs->root, best = NIL;
	while (t != NIL) {
		if (N(fs, t).start <= key) {
			best = t;
			t = N(fs, t).r;
		} else {
			t = N(fs, t).l;
		}
	}
	return best;
}

/* the node with the smallest start >= key, NIL if none */
static uint32_t ceil_of(const struct jm_freeset *fs, uint64_t key)
{
	uint32_t t = fs->root, best = NIL;
	while (t != NIL) {
		if (N(fs, t).start >= key) {
			best = t;
			t = N(fs, t).l;
		} else {
			t = N(fs, t).r;
		}
	}
	return best;
}

static int add_range(struct jm_freeset *fs, uint64_t s, uint64_t e)
{
	uint32_t x = new_node(fs, s, e);
	if (x == NIL)
		return -1;
	fs->root = put(fs, fs->root, x);
	return 0;
}

static void set_start(struct jm_freeset *fs, uint32_t t, uint64_t s)
{
	fs->bytes -= s - N(fs, t).start;
	N(fs, t).start = s;
	repair(fs, fs->root, s);
}

static void set_end(struct jm_freeset *fs, uint32_t t, uint64_t e)
{
	fs->bytes += e - N(fs, t).end; /* modular: e may be below end */
	N(fs, t).end = e;
	repair(fs, fs->root, N(fs, t).start);
}

int jm_freeset_insert(struct jm_freeset *fs, uint64_t start, uint64_t end)
{
	if (start >= end)
		return 0;
	/* one descent: p the range at or below start, q the one above */
	uint32_t p = NIL, q = NIL;
	for (uint32_t t = fs->root; t != NIL;) {
		if (N(fs, t).start <= start) {
			p = t;
			t = N(fs, t).r;
		} else {
			q = t;
			t = N(fs, t).l;
		}
	}
	if ((p != NIL && N(fs, p).end > start) || (q != NIL && N(fs, q).start < end))
		return -1; /* overlaps a free range: a double free */
	int merge_prev = p != NIL && N(fs, p).end == start;
	int merge_next = q != NIL && N(fs, q).start == end;
	if (merge_prev && merge_next) {
		uint64_t e = N(fs, q).end;
		fs->root = erase(fs, fs->root, N(fs, q).start);
		set_end(fs, p, e);
	} else if (merge_prev) {
		set_end(fs, p, end);
	} else if (merge_next) {
		set_start(fs, q, start);
	} else {
		return add_range(fs, start, end);
	}
	return 0;
}

/* Take size bytes from the low end of node t. */
static void take_low(struct jm_freeset *fs, uint32_t t, uint64_t size, uint64_t *start)
{
	*start = N(fs, t).start;
	if (len_of(fs, t) == size)
		fs->root = erase(fs, fs->root, *start);
	else
		set_start(fs, t, *start + size);
}

/* First fit in t (whose maximum is at least want) in one pass: down to
 * the lowest range that fits (the left subtree first when it holds one),
 * take size bytes from its low end, recompute the maxima on the way up. */
static uint32_t take_first(struct jm_freeset *fs, uint32_t t, uint64_t want,
			   uint64_t size, uint64_t *start)
{
	if (N(fs, N(fs, t).l).max >= want) {
		uint32_t l = take_first(fs, N(fs, t).l, want, size, start);
		N(fs, t).l = l;
	} else if (len_of(fs, t) >= want) {
		*start = N(fs, t).start;
		if (len_of(fs, t) == size) {
			uint32_t j = join(fs, N(fs, t).l, N(fs, t).r);
			free_node(fs, t);
			return j;
		}
		N(fs, t).start += size;
		fs->bytes -= size;
	} else {
		uint32_t r = take_first(fs, N(fs, t).r, want, size, start);
		N(fs, t).r = r;
	}
	pull(fs, t);
	return t;
}

int jm_freeset_first_fit(struct jm_freeset *fs, uint64_t size, uint64_t *start)
{
	uint64_t want = size ? size : 1; /* an empty request: the lowest range */
	if (fs->root == NIL || N(fs, fs->root).max < want)
		return -1;
	fs->root = take_first(fs, fs->root, want, size, start);
	return 0;
}

/* In address order over the subtrees that hold a fit: the shortest range
 * of at least size, the first of equals; an exact fit ends the walk. */
static int best_walk(const struct jm_freeset *fs, uint32_t t, uint64_t size,
		     uint32_t *best)
{
	if (t == NIL || N(fs, t).max < size)
		return 0;
	if (best_walk(fs, N(fs, t).l, size, best))
		return 1;
	uint64_t len = len_of(fs, t);
	if (len >= size && (*best == NIL || len < len_of(fs, *best))) {
		*best = t;
		if (len == size)
			return 1;
	}
	return best_walk(fs, N(fs, t).r, size, best);
}

int jm_freeset_best_fit(struct jm_freeset *fs, uint64_t size, uint64_t *start)
{
	uint32_t best = NIL;
	best_walk(fs, fs->root, size, &best);
	if (best == NIL)
		return -1;
	take_low(fs, best, size, start);
	return 0;
}

static uint32_t fit_from(const struct jm_freeset *fs, uint32_t t, uint64_t from,
			 uint64_t size)
{
	while (t != NIL && N(fs, t).max >= size) {
		if (N(fs, t).start < from) {
			t = N(fs, t).r;
			continue;
		}
		uint32_t x = fit_from(fs, N(fs, t).l, from, size);
		if (x != NIL)
			return x;
		if (len_of(fs, t) >= size)
			return t;
		t = N(fs, t).r;
	}
	return NIL;
}

int jm_freeset_fit_from(const struct jm_freeset *fs, uint64_t from, uint64_t size,
			struct jm_range *out)
{
	uint32_t t = fit_from(fs, fs->root, from, size ? size : 1);
	if (t == NIL)
		return -1;
	*out = (struct jm_range){N(fs, t).start, N(fs, t).end};
	return 0;
}

int jm_freeset_remove(struct jm_freeset *fs, uint64_t start, uint64_t end)
{
	uint32_t t = floor_of(fs, start);
	if (t == NIL || N(fs, t).end < end)
		return -1;
	struct jm_range r = {N(fs, t).start, N(fs, t).end};
	if (r.start == start && r.end == end) {
		fs->root = erase(fs, fs->root, start);
	} else if (r.start == start) {
		set_start(fs, t, end);
	} else if (r.end == end) {
		set_end(fs, t, start);
	} else {
		set_end(fs, t, start);
		return add_range(fs, end, r.end);
	}
	return 0;
}

void jm_freeset_remove_all_in(struct jm_freeset *fs, uint64_t start,
			      uint64_t end)
{
	for (;;) {
		uint32_t t = floor_of(fs, start);
		if (t == NIL || N(fs, t).end <= start)
			t = ceil_of(fs, start);
		if (t == NIL || N(fs, t).start >= end)
			return;
		struct jm_range r = {N(fs, t).start, N(fs, t).end};
		if (r.start < start && r.end > end) {
			set_end(fs, t, start);
			add_range(fs, end, r.end);
			return;
		}
		if (r.start < start) {
			set_end(fs, t, start);
		} else if (r.end > end) {
			set_start(fs, t, end);
			return;
		} else {
			fs->root = erase(fs, fs->root, r.start);
		}
	}
}

uint64_t jm_freeset_bytes(const struct jm_freeset *fs)
{
	return fs->bytes;
}

int jm_freeset_contains(const struct jm_freeset *fs, uint64_t start,
			uint64_t end)
{
	uint32_t t = floor_of(fs, start);
	return t != NIL && N(fs, t).end >= end;
}
