/* Reach bookkeeping shared by the backends that care about direct-relocation
 * reach (colocate, striped). x86-64 REL32 / AArch64 ADRP+ADD reach is
 * +-2 GiB; a JITDylib whose objects are further apart needs GOT/stub
 * indirection.
 *
 * Definition (docs/backends/colocate.md): per JITDylib d, span(d) = [lo, hi)
 * over the execution addresses of every standard-lifetime segment of every
 * graph of d allocated so far (freed graphs included: the span only grows,
 * which keeps the check O(1) and matches a JIT that keeps stubs to symbols
 * of dropped objects). A graph G of d is a reach failure when
 *     max(hi, hi(G)) - min(lo, lo(G)) > 2 GiB
 * i.e. some byte of G is more than 2 GiB from some byte of an earlier graph
 * of d (or G itself spans more than 2 GiB). Each graph counts at most once;
 * the first graph of a dylib fails only if it alone spans more than 2 GiB. */
#ifndef JITMM_REACH_H
#define JITMM_REACH_H

#include <stdint.h>

#include "graph.h"

#define JM_REACH_LIMIT (2ull << 30)

struct jm_reach {
	struct {
		uint64_t lo, hi; /* hi == 0: no graph yet */
	} *span;
	uint32_t nspan;
	uint64_t failures;
	uint32_t dylibs_seen;
};

void jm_reach_init(struct jm_reach *r);
void jm_reach_release(struct jm_reach *r);
/* Record allocation a (its exec addresses) for dylib; returns 1 if it is a
 * reach failure, 0 if not, -1 on ENOMEM. */
int jm_reach_note(struct jm_reach *r, uint32_t dylib, const struct jm_alloc *a);

#endif
