#include "reach.h"

#include <stdlib.h>
#include <string.h>

void jm_reach_init(struct jm_reach *r)
{
	memset(r, 0, sizeof(*r));
}

void jm_reach_release(struct jm_reach *r)
{
	free(r->span);
	memset(r, 0, sizeof(*r));
}

int jm_reach_note(struct jm_reach *r, uint32_t dylib, const struct jm_alloc *a)
{
	if (dylib >= r->nspan) {
		uint32_t n = r->nspan ? r->nspan : 8;
		while (n <= dylib)
			n *= 2;
		void *p = realloc(r->span, (size_t)n * sizeof(*r->span));
		if (!p)
			return -1;
		r->span = p;
		memset(r->span + r->nspan, 0, (size_t)(n - r->nspan) * sizeof(*r->span));
		r->nspan = n;
	}
	uint64_t lo = UINT64_MAX, hi = 0;
	for (uint32_t i = 0; i < a->nseg; i++) {
		const struct jm_segment_alloc *s = &a->seg[i];
		if (s->life != JM_STANDARD || !s->exec || !s->size)
			continue;
		uint64_t x = (uint64_t)(uintptr_t)s->exec;
		if (x < lo)
			lo = x;
		if (x + s->size > hi)
			hi = x + s->size;
	}
	if (!hi)
		return 0;
	if (!r->span[dylib].hi) {
		r->dylibs_seen++;
	} else {
		if (r->span[dylib].lo < lo)
			lo = r->span[dylib].lo;
		if (r->span[dylib].hi > hi)
			hi = r->span[dylib].hi;
	}
	r->span[dylib].lo = lo;
	r->span[dylib].hi = hi;
	if (hi - lo > JM_REACH_LIMIT) {
		r->failures++;
		return 1;
	}
	return 0;
}
