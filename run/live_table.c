#include "live_table.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define DELETED UINT64_MAX

static size_t hash(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdull;
	k ^= k >> 33;
	return (size_t)k;
}

/* slots for max_live graphs, 0 if that many cannot be had */
static size_t table_cap(size_t max_live)
{
	size_t cap = 64;
	if (max_live > (SIZE_MAX / sizeof(struct jm_live_slot) - 16) / 8)
		return 0; /* the doubling below would overflow */
	while (cap < max_live * 4 + 16)
		cap *= 2;
	return cap;
}

uint64_t jm_live_table_bytes(size_t max_live)
{
	size_t cap = table_cap(max_live);
	return cap ? (uint64_t)cap * sizeof(struct jm_live_slot) : UINT64_MAX;
}

int jm_live_init(struct jm_live_table *t, size_t max_live)
{
	size_t cap = table_cap(max_live);
	if (!cap)
		return -1;
	t->slot = calloc(cap, sizeof(*t->slot));
	if (!t->slot)
		return -1;
	t->cap = cap;
	t->n = t->used = 0;
	return 0;
}

void jm_live_release(struct jm_live_table *t)
{
	free(t->slot);
	memset(t, 0, sizeof(*t));
}

static struct jm_live_slot *probe(struct jm_live_table *t, uint64_t key,
				  int for_insert)
{
	size_t mask = t->cap - 1, i = hash(key) & mask;
	struct jm_live_slot *tomb = NULL;
	for (;;) {
		struct jm_live_slot *s = &t->slot[i];
		if (s->key == key)
			return s;
		if (s->key == 0)
			return for_insert && tomb ? tomb : (for_insert ? s : NULL);
		if (s->key == DELETED && !tomb)
			tomb = s;
		i = (i + 1) & mask;
	}
}

static int rehash(struct jm_live_table *t, size_t cap)
{
	struct jm_live_table n = {calloc(cap, sizeof(*n.slot)), cap, 0, 0};
	if (!n.slot)
		return -1;
	for (size_t i = 0; i < t->cap; i++)
		if (t->slot[i].key && t->slot[i].key != DELETED) {
			struct jm_live_slot *s = probe(&n, t->slot[i].key, 1);
			*s = t->slot[i];
			n.n++;
			n.used++;
		}
	free(t->slot);
	*t = n;
	return 0;
}

struct jm_alloc *jm_live_insert(struct jm_live_table *t, uint64_t id)
{
	/* at most half full, tombstones included: linear probing stays short */
	if ((t->used + 1) * 2 > t->cap &&
	    rehash(t, t->n * 4 > t->cap ? t->cap * 2 : t->cap) < 0)
		return NULL;
	uint64_t key = id + 1;
	if (key == DELETED)
		return NULL;
	struct jm_live_slot *s = probe(t, key, 1);
	if (s->key == key)
		return NULL;
	if (s->key == 0)
		t->used++;
	s->key = key;
	t->n++;
	memset(&s->alloc, 0, sizeof(s->alloc));
	return &s->alloc;
}

struct jm_alloc *jm_live_find(struct jm_live_table *t, uint64_t id)
{
	struct jm_live_slot *s = probe(t, id + 1, 0);
	return s ? &s->alloc : NULL;
}

void jm_live_remove(struct jm_live_table *t, uint64_t id)
{
	struct jm_live_slot *s = probe(t, id + 1, 0);
	if (s) {
		s->key = DELETED;
		t->n--;
	}
}

struct jm_alloc *jm_live_next(struct jm_live_table *t, size_t *pos)
{
	while (*pos < t->cap) {
		struct jm_live_slot *s = &t->slot[(*pos)++];
		if (s->key && s->key != DELETED)
			return &s->alloc;
	}
	return NULL;
}
