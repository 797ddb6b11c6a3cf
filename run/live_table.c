/* The live-graph table: see live_table.h. */
#include "live_table.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static size_t hash(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdull;
	k ^= k >> 33;
	return (size_t)k;
}

static struct jm_live_chunk *chunk_of(const struct jm_live_table *t, uint32_t slot)
{
	return t->chunk[slot / JM_LIVE_CHUNK];
}

/* One more chunk of free slots (pushed so that the lowest pops first). */
static int add_chunk(struct jm_live_table *t)
{
	if ((t->nchunks + 1) * JM_LIVE_CHUNK > UINT32_MAX)
		return -1;
	if (t->nchunks == t->chunks_cap) {
		size_t cap = t->chunks_cap ? t->chunks_cap * 2 : 16;
		struct jm_live_chunk **c = realloc(t->chunk, cap * sizeof(*c));
		if (!c)
			return -1;
		t->chunk = c;
		t->chunks_cap = cap;
	}
	size_t slots = (t->nchunks + 1) * JM_LIVE_CHUNK;
	uint32_t *f = realloc(t->free_slot, slots * sizeof(*f));
	if (!f)
		return -1;
	t->free_slot = f;
	/* written through (not calloc'd): its pages are touched now */
	struct jm_live_chunk *c = malloc(sizeof(*c));
	if (!c)
		return -1;
	memset(c, 0, sizeof(*c));
	uint32_t base = (uint32_t)(t->nchunks * JM_LIVE_CHUNK);
	for (uint32_t i = JM_LIVE_CHUNK; i-- > 0;)
		t->free_slot[t->nfree++] = base + i;
	t->chunk[t->nchunks++] = c;
	return 0;
}

static int index_resize(struct jm_live_table *t, size_t cap)
{
	struct jm_live_index *ix = malloc(cap * sizeof(*ix));
	if (!ix)
		return -1;
	memset(ix, 0, cap * sizeof(*ix));
	for (size_t i = 0; i < t->cap; i++) {
		if (!t->index[i].key)
			continue;
		size_t j = hash(t->index[i].key) & (cap - 1);
		while (ix[j].key)
			j = (j + 1) & (cap - 1);
		ix[j] = t->index[i];
	}
	free(t->index);
	t->index = ix;
	t->cap = cap;
	return 0;
}

int jm_live_init(struct jm_live_table *t, size_t expected)
{
	memset(t, 0, sizeof(*t));
	size_t pre = expected < JM_LIVE_PRESIZE_MAX ? expected : JM_LIVE_PRESIZE_MAX;
	size_t cap = 64;
	while (cap < pre * 2)
		cap *= 2;
	if (index_resize(t, cap) < 0)
		return -1;
	while (t->nchunks * JM_LIVE_CHUNK < pre)
		if (add_chunk(t) < 0) {
			jm_live_release(t);
			return -1;
		}
	return 0;
}

void jm_live_release(struct jm_live_table *t)
{
	for (size_t i = 0; i < t->nchunks; i++)
		free(t->chunk[i]);
	free(t->chunk);
	free(t->free_slot);
	free(t->index);
	memset(t, 0, sizeof(*t));
}

/* the index position of key, or of the empty entry where it would go */
static size_t position(const struct jm_live_table *t, uint64_t key)
{
	size_t mask = t->cap - 1, i = hash(key) & mask;
	while (t->index[i].key && t->index[i].key != key)
		i = (i + 1) & mask;
	return i;
}

struct jm_alloc *jm_live_insert(struct jm_live_table *t, uint64_t id)
{
	uint64_t key = id + 1;
	if (!key)
		return NULL;
	/* at most half full: probe sequences stay short */
	if ((t->n + 1) * 2 > t->cap && index_resize(t, t->cap * 2) < 0)
		return NULL;
	size_t i = position(t, key);
	if (t->index[i].key)
		return NULL;
	if (!t->nfree && add_chunk(t) < 0)
		return NULL;
	uint32_t slot = t->free_slot[--t->nfree];
	t->index[i] = (struct jm_live_index){key, slot};
	t->n++;
	struct jm_live_chunk *c = chunk_of(t, slot);
	c->key[slot % JM_LIVE_CHUNK] = key;
	struct jm_alloc *a = &c->alloc[slot % JM_LIVE_CHUNK];
	static const struct jm_graph_req none;
	jm_alloc_init(a, &none); /* zeroed */
	return a;
}

struct jm_alloc *jm_live_find_at(const struct jm_live_table *t, uint64_t id, size_t *at)
{
	size_t i = position(t, id + 1);
	*at = i;
	if (!t->index[i].key)
		return NULL;
	uint32_t slot = t->index[i].slot;
	return &chunk_of(t, slot)->alloc[slot % JM_LIVE_CHUNK];
}

struct jm_alloc *jm_live_find(const struct jm_live_table *t, uint64_t id)
{
	size_t at;
	return jm_live_find_at(t, id, &at);
}

void jm_live_remove(struct jm_live_table *t, uint64_t id)
{
	jm_live_remove_at(t, position(t, id + 1));
}

void jm_live_remove_at(struct jm_live_table *t, size_t i)
{
	size_t mask = t->cap - 1;
	if (!t->index[i].key)
		return;
	uint32_t slot = t->index[i].slot;
	chunk_of(t, slot)->key[slot % JM_LIVE_CHUNK] = 0;
	t->free_slot[t->nfree++] = slot;
	t->n--;
	/* backward shift: move up every later entry of the run whose home
	 * position is not between the hole and it */
	for (size_t j = i;;) {
		j = (j + 1) & mask;
		if (!t->index[j].key)
			break;
		size_t h = hash(t->index[j].key) & mask;
		if (i <= j ? (h <= i || h > j) : (h <= i && h > j)) {
			t->index[i] = t->index[j];
			i = j;
		}
	}
	t->index[i].key = 0;
}

struct jm_alloc *jm_live_next(const struct jm_live_table *t, size_t *pos)
{
	while (*pos < t->nchunks * JM_LIVE_CHUNK) {
		size_t s = (*pos)++;
		struct jm_live_chunk *c = t->chunk[s / JM_LIVE_CHUNK];
		if (c->key[s % JM_LIVE_CHUNK])
			return &c->alloc[s % JM_LIVE_CHUNK];
	}
	return NULL;
}

uint64_t jm_live_table_bytes(uint64_t max_live)
{
	const uint64_t per_graph = 4 * sizeof(struct jm_live_index) + sizeof(uint32_t);
	const uint64_t per_chunk = sizeof(struct jm_live_chunk) + sizeof(struct jm_live_chunk *);
	if (max_live > UINT64_MAX / (per_chunk + per_graph))
		return UINT64_MAX;
	uint64_t chunks = (max_live + JM_LIVE_CHUNK - 1) / JM_LIVE_CHUNK;
	return chunks * per_chunk + max_live * per_graph + 64 * sizeof(struct jm_live_index);
}

size_t jm_live_bytes(const struct jm_live_table *t)
{
	return t->cap * sizeof(*t->index) + t->nchunks * sizeof(struct jm_live_chunk) +
	       t->chunks_cap * sizeof(*t->chunk) +
	       t->nchunks * JM_LIVE_CHUNK * sizeof(*t->free_slot);
}
