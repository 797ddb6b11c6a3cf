#include "freeset.h"

#include <stdlib.h>
#include <string.h>

void jm_freeset_init(struct jm_freeset *fs)
{
	memset(fs, 0, sizeof(*fs));
}

void jm_freeset_release(struct jm_freeset *fs)
{
	free(fs->r);
	memset(fs, 0, sizeof(*fs));
}

/* index of the first range with start >= addr */
static size_t lower_bound(const struct jm_freeset *fs, uint64_t addr)
{
	size_t lo = 0, hi = fs->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (fs->r[mid].start < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int grow(struct jm_freeset *fs)
{
	if (fs->n < fs->cap)
		return 0;
	size_t cap = fs->cap ? fs->cap * 2 : 16;
	struct jm_range *r = realloc(fs->r, cap * sizeof(*r));
	if (!r)
		return -1;
	fs->r = r;
	fs->cap = cap;
	return 0;
}

static void erase_at(struct jm_freeset *fs, size_t i)
{
	memmove(&fs->r[i], &fs->r[i + 1], (fs->n - i - 1) * sizeof(fs->r[0]));
	fs->n--;
}

static int insert_at(struct jm_freeset *fs, size_t i, uint64_t s, uint64_t e)
{
	if (grow(fs) < 0)
		return -1;
	memmove(&fs->r[i + 1], &fs->r[i], (fs->n - i) * sizeof(fs->r[0]));
	fs->r[i] = (struct jm_range){s, e};
	fs->n++;
	return 0;
}

int jm_freeset_insert(struct jm_freeset *fs, uint64_t start, uint64_t end)
{
	if (start >= end)
		return 0;
	size_t i = lower_bound(fs, start);
	int merge_prev = i > 0 && fs->r[i - 1].end >= start;
	int merge_next = i < fs->n && fs->r[i].start <= end;
	if ((i > 0 && fs->r[i - 1].end > start) ||
	    (i < fs->n && fs->r[i].start < end))
		return -1; /* overlaps a free range: a double free */
	if (merge_prev && merge_next) {
		fs->r[i - 1].end = fs->r[i].end;
		erase_at(fs, i);
	} else if (merge_prev) {
		fs->r[i - 1].end = end;
	} else if (merge_next) {
		fs->r[i].start = start;
	} else {
		return insert_at(fs, i, start, end);
	}
	return 0;
}

static void take_low(struct jm_freeset *fs, size_t i, uint64_t size,
		     uint64_t *start)
{
	*start = fs->r[i].start;
	fs->r[i].start += size;
	if (fs->r[i].start == fs->r[i].end)
		erase_at(fs, i);
}

int jm_freeset_first_fit(struct jm_freeset *fs, uint64_t size, uint64_t *start)
{
	for (size_t i = 0; i < fs->n; i++)
		if (fs->r[i].end - fs->r[i].start >= size) {
			take_low(fs, i, size, start);
			return 0;
		}
	return -1;
}

int jm_freeset_best_fit(struct jm_freeset *fs, uint64_t size, uint64_t *start)
{
	size_t best = fs->n;
	uint64_t best_len = UINT64_MAX;
	for (size_t i = 0; i < fs->n; i++) {
		uint64_t len = fs->r[i].end - fs->r[i].start;
		if (len >= size && len < best_len) {
			best = i;
			best_len = len;
			if (len == size)
				break;
		}
	}
	if (best == fs->n)
		return -1;
	take_low(fs, best, size, start);
	return 0;
}

int jm_freeset_remove(struct jm_freeset *fs, uint64_t start, uint64_t end)
{
	size_t i = lower_bound(fs, start + 1);
	if (i == 0)
		return -1;
	i--;
	struct jm_range r = fs->r[i];
	if (r.start > start || r.end < end)
		return -1;
	if (r.start == start && r.end == end) {
		erase_at(fs, i);
	} else if (r.start == start) {
		fs->r[i].start = end;
	} else if (r.end == end) {
		fs->r[i].end = start;
	} else {
		fs->r[i].end = start;
		return insert_at(fs, i + 1, end, r.end);
	}
	return 0;
}

void jm_freeset_remove_all_in(struct jm_freeset *fs, uint64_t start,
			      uint64_t end)
{
	size_t i = lower_bound(fs, start);
	if (i > 0 && fs->r[i - 1].end > start)
		i--;
	while (i < fs->n && fs->r[i].start < end) {
		struct jm_range r = fs->r[i];
		if (r.start < start && r.end > end) {
			fs->r[i].end = start;
			insert_at(fs, i + 1, end, r.end);
			return;
		}
		if (r.start < start) {
			fs->r[i].end = start;
			i++;
		} else if (r.end > end) {
			fs->r[i].start = end;
			return;
		} else {
			erase_at(fs, i);
		}
	}
}

uint64_t jm_freeset_bytes(const struct jm_freeset *fs)
{
	uint64_t t = 0;
	for (size_t i = 0; i < fs->n; i++)
		t += fs->r[i].end - fs->r[i].start;
	return t;
}

int jm_freeset_contains(const struct jm_freeset *fs, uint64_t start,
			uint64_t end)
{
	size_t i = lower_bound(fs, start + 1);
	if (i == 0)
		return 0;
	return fs->r[i - 1].start <= start && fs->r[i - 1].end >= end;
}
