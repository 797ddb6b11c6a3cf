/* The free-range set: see freeset.h. A treap (a binary search tree by
 * start address that is a heap by a random priority: expected depth
 * O(log n) whatever the insertion order) over an array of nodes, so that
 * nodes are indices and a freed node is reused before the array grows.
 * Once best fit has been asked for, every node is also in a second treap
 * by (length, start), through a second pair of child links (same
 * priority: each tree is a treap on its own key). That one holds no
 * subtree summary, so its operations are plain loops. */
#include "freeset.h"

#include <stdlib.h>
#include <string.h>

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
	N(fs, i) = (struct jm_freeset_node){s, e, e - s, NIL, NIL, fs->seed, NIL, NIL};
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

/* ---- the tree by (length, start), for best fit ---- */

/* (len, start) comes before node b in the length tree */
static int len_before(const struct jm_freeset_node *b, uint64_t len, uint64_t start)
{
	uint64_t lb = b->end - b->start;
	return len < lb || (len == lb && start < b->start);
}

/* Put x into the length tree: down to where its priority puts it, then
 * split the subtree there around x into x's children. */
static void len_put(struct jm_freeset *fs, uint32_t x)
{
	struct jm_freeset_node *nd = fs->node;
	uint64_t len = nd[x].end - nd[x].start, start = nd[x].start;
	uint32_t pri = nd[x].pri, *link = &fs->len_root;
	while (*link != NIL && nd[*link].pri >= pri)
		link = len_before(&nd[*link], len, start) ? &nd[*link].len_l : &nd[*link].len_r;
	uint32_t t = *link, *lo = &nd[x].len_l, *hi = &nd[x].len_r;
	*link = x;
	while (t != NIL) {
		if (!len_before(&nd[t], len, start)) { /* t before x */
			*lo = t;
			lo = &nd[t].len_r;
			t = *lo;
		} else {
			*hi = t;
			hi = &nd[t].len_l;
			t = *hi;
		}
	}
	*lo = *hi = NIL;
}

/* Take the node at *link out of the length tree: its children, joined,
 * take its place. */
static void len_unlink(struct jm_freeset *fs, uint32_t *link)
{
	struct jm_freeset_node *nd = fs->node;
	uint32_t a = nd[*link].len_l, b = nd[*link].len_r;
	while (a != NIL && b != NIL) {
		if (nd[a].pri > nd[b].pri) {
			*link = a;
			link = &nd[a].len_r;
			a = *link;
		} else {
			*link = b;
			link = &nd[b].len_l;
			b = *link;
		}
	}
	*link = a != NIL ? a : b;
}

/* Take x out of the length tree (x still has the key it went in with). */
static void len_erase(struct jm_freeset *fs, uint32_t x)
{
	struct jm_freeset_node *nd = fs->node;
	uint64_t len = nd[x].end - nd[x].start, start = nd[x].start;
	uint32_t *link = &fs->len_root;
	while (*link != x)
		link = len_before(&nd[*link], len, start) ? &nd[*link].len_l : &nd[*link].len_r;
	len_unlink(fs, link);
}

/* ---- the tree by address ---- */

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

/* Recompute the maxima on the path from t down to the node that starts
 * at key (or to where it would be), bottom-up. */
static void repair(struct jm_freeset *fs, uint32_t t, uint64_t key)
{
	if (t == NIL)
		return;
	if (N(fs, t).start != key)
		repair(fs, key < N(fs, t).start ? N(fs, t).l : N(fs, t).r, key);
	pull(fs, t);
}

/* The length of the node that starts at key (in its place) went from old
 * to len. Longer: every maximum on its path is at least len. Shorter:
 * only the maxima equal to old may have been its, and they are the lower
 * end of the path (maxima do not grow downwards), so the path is
 * recomputed from the first of them. */
static void relen(struct jm_freeset *fs, uint64_t key, uint64_t old, uint64_t len)
{
	uint32_t t = fs->root;
	if (len >= old) {
		for (;; t = key < N(fs, t).start ? N(fs, t).l : N(fs, t).r) {
			if (N(fs, t).max < len)
				N(fs, t).max = len;
			if (N(fs, t).start == key)
				return;
		}
	}
	while (N(fs, t).max != old && N(fs, t).start != key)
		t = key < N(fs, t).start ? N(fs, t).l : N(fs, t).r;
	repair(fs, t, key);
}

/* Put node x (its start in no node of the tree) into the tree: down to
 * where x's priority puts it, every maximum on the way at least x's
 * length, then the subtree there is split around x's start into x's
 * children. */
static void put(struct jm_freeset *fs, uint32_t x)
{
	uint64_t len = len_of(fs, x);
	uint32_t *link = &fs->root;
	while (*link != NIL && N(fs, *link).pri >= N(fs, x).pri) {
		uint32_t t = *link;
		if (N(fs, t).max < len)
			N(fs, t).max = len;
		link = N(fs, x).start < N(fs, t).start ? &N(fs, t).l : &N(fs, t).r;
	}
	uint32_t lo, hi;
	split(fs, *link, N(fs, x).start, &lo, &hi);
	N(fs, x).l = lo;
	N(fs, x).r = hi;
	pull(fs, x);
	*link = x;
}

/* Take node t out of the address tree and free it. Its children, joined,
 * take its place; the maxima above that may have been its are recomputed
 * (as in relen: from the first on the way down equal to its length). */
static void drop_addr(struct jm_freeset *fs, uint32_t t)
{
	uint64_t key = N(fs, t).start, len = len_of(fs, t);
	uint32_t *link = &fs->root, fix = NIL;
	while (*link != t) {
		if (fix == NIL && N(fs, *link).max == len)
			fix = *link;
		link = key < N(fs, *link).start ? &N(fs, *link).l : &N(fs, *link).r;
	}
	*link = join(fs, N(fs, t).l, N(fs, t).r);
	repair(fs, fix, key);
	free_node(fs, t);
}

/* Take node t out of both trees and free it. */
static void drop(struct jm_freeset *fs, uint32_t t)
{
	if (fs->by_len)
		len_erase(fs, t);
	drop_addr(fs, t);
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
	put(fs, x);
	if (fs->by_len)
		len_put(fs, x);
	return 0;
}

/* Make node t [s, e) in the address tree, where it keeps its place. */
static void reshape_addr(struct jm_freeset *fs, uint32_t t, uint64_t s, uint64_t e)
{
	uint64_t old = len_of(fs, t);
	fs->bytes += (e - s) - old; /* modular: it may shrink */
	N(fs, t).start = s;
	N(fs, t).end = e;
	relen(fs, s, old, e - s);
}

/* Make node t [s, e); its place by length is found anew. */
static void reshape(struct jm_freeset *fs, uint32_t t, uint64_t s, uint64_t e)
{
	if (fs->by_len)
		len_erase(fs, t);
	reshape_addr(fs, t, s, e);
	if (fs->by_len)
		len_put(fs, t);
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
		drop(fs, q);
		reshape(fs, p, N(fs, p).start, e);
	} else if (merge_prev) {
		reshape(fs, p, N(fs, p).start, end);
	} else if (merge_next) {
		reshape(fs, q, start, N(fs, q).end);
	} else {
		return add_range(fs, start, end);
	}
	return 0;
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
		if (fs->by_len) /* out under its old length, back under the new */
			len_erase(fs, t);
		if (len_of(fs, t) == size) {
			uint32_t j = join(fs, N(fs, t).l, N(fs, t).r);
			free_node(fs, t);
			return j;
		}
		N(fs, t).start += size;
		fs->bytes -= size;
		if (fs->by_len)
			len_put(fs, t);
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

/* Every node of address subtree t into the length tree. */
static void index_by_len(struct jm_freeset *fs, uint32_t t)
{
	if (t == NIL)
		return;
	index_by_len(fs, N(fs, t).l);
	len_put(fs, t);
	index_by_len(fs, N(fs, t).r);
}

int jm_freeset_best_fit(struct jm_freeset *fs, uint64_t size, uint64_t *start)
{
	if (!fs->by_len) {
		index_by_len(fs, fs->root);
		fs->by_len = 1;
	}
	/* the first node by (length, start) of at least size bytes, and the
	 * link to it, by which it leaves the length tree */
	uint32_t *best = NULL;
	for (uint32_t *link = &fs->len_root; *link != NIL;) {
		if (len_of(fs, *link) >= size) {
			best = link;
			link = &N(fs, *link).len_l;
		} else {
			link = &N(fs, *link).len_r;
		}
	}
	if (!best)
		return -1;
	uint32_t t = *best;
	len_unlink(fs, best);
	*start = N(fs, t).start; /* taken from its low end */
	if (len_of(fs, t) == size) {
		drop_addr(fs, t);
	} else {
		reshape_addr(fs, t, *start + size, N(fs, t).end);
		len_put(fs, t);
	}
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
		drop(fs, t);
	} else if (r.start == start) {
		reshape(fs, t, end, r.end);
	} else if (r.end == end) {
		reshape(fs, t, r.start, start);
	} else {
		reshape(fs, t, r.start, start);
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
			reshape(fs, t, r.start, start);
			add_range(fs, end, r.end);
			return;
		}
		if (r.start < start) {
			reshape(fs, t, r.start, start);
		} else if (r.end > end) {
			reshape(fs, t, end, r.end);
			return;
		} else {
			drop(fs, t);
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
