/* The memory pool of LLVM's MapperJITLinkMemoryManager over
 * InProcessMemoryMapper (llvm/lib/ExecutionEngine/Orc/
 * MapperJITLinkMemoryManager.cpp, Orc/MemoryMapper.cpp), shared by the
 * backends that model it with different pool keys: single-pool (one pool),
 * colocate (one per JITDylib), per-prot (one per protection).
 *
 * A struct jm_mapper holds what is per backend: the lock, every
 * reservation (for destroy), reserved and live bytes. A struct
 * jm_mapper_pool is one first-fit, coalescing free set (freeset.h, LLVM's
 * IntervalMap) that grows by reservations: one mmap(RW, PRIVATE|ANON)
 * each. Free ranges coalesce within a pool, never across pools.
 *
 * Unless said otherwise, functions that touch pools or counters expect
 * the caller to hold m->lock. */
#ifndef JITMM_MAPPER_POOL_H
#define JITMM_MAPPER_POOL_H

#include <pthread.h>
#include <stdint.h>

#include "backend.h"
#include "freeset.h"

struct jm_mapper {
	pthread_mutex_t lock;
	struct jm_range *res; /* every reservation, for destroy */
	size_t nres, capres;
	uint64_t reserved, reserved_peak, live;
	/* bytes of abandoned allocations that never return to a pool */
	uint64_t abandoned;
};

/* jm_mapper_finalize sets a->priv_u[JM_MAPPER_P_STATE] to 1: backends
 * built on it keep that slot for it (abandon = free of an allocation
 * that was never finalized). */
#define JM_MAPPER_P_STATE 3

struct jm_mapper_pool {
	struct jm_freeset free;
	uint64_t reservations, reserved; /* this pool's */
};

void jm_mapper_init(struct jm_mapper *m);
/* munmap every reservation; free the bookkeeping (not the pools). -1 if a
 * munmap failed (the first failure recorded on b; the rest are released). */
int jm_mapper_release(struct jm_backend *b, struct jm_mapper *m);
void jm_mapper_pool_init(struct jm_mapper_pool *p);
void jm_mapper_pool_release(struct jm_mapper_pool *p);

/* Reads option `name` (a size) and checks it is a whole number of pages. */
int jm_mapper_unit(struct jm_backend *b, const char *name, uint64_t *out);

/* T: the sum of the graph's page-aligned segments. Fails (jm_backend_error)
 * on a segment aligned beyond a page, or on an empty graph. */
int jm_mapper_graph_size(struct jm_backend *b, const struct jm_graph_req *req,
			 uint64_t *total);

/* One reservation of len bytes (mmap RW) into pool p. `what` completes
 * the failure message "reserving <len>...", e.g. " bytes". */
int jm_mapper_reserve(struct jm_backend *b, struct jm_mapper *m,
		      struct jm_mapper_pool *p, uint64_t len, const char *what);
/* Take len bytes from p's free ranges (first fit): 0 with *start set and
 * m->live grown by len, or -1 (no error recorded) if none fits. */
int jm_mapper_fit(struct jm_mapper *m, struct jm_mapper_pool *p, uint64_t len,
		  uint64_t *start);
/* Reserve alignTo(len, unit) into p, then take len bytes from it. */
int jm_mapper_grow(struct jm_backend *b, struct jm_mapper *m,
		   struct jm_mapper_pool *p, uint64_t len, uint64_t unit,
		   const char *what, uint64_t *start);
/* jm_mapper_fit, else jm_mapper_grow. */
int jm_mapper_take(struct jm_backend *b, struct jm_mapper *m,
		   struct jm_mapper_pool *p, uint64_t len, uint64_t unit,
		   const char *what, uint64_t *start);
/* [start, start + len) back to p; m->live shrinks by len. -1 if any of it
 * was free already (a double free) or on ENOMEM. */
int jm_mapper_give_back(struct jm_mapper *m, struct jm_mapper_pool *p,
			uint64_t start, uint64_t len);

/* The LLVM 22 abandon (MapperJITLinkMemoryManager.cpp,
 * InFlightAlloc::abandon = Mapper->deinitialize({AllocAddr})) of len
 * bytes: InProcessMemoryMapper::deinitialize finds no initialized
 * allocation at AllocAddr, so protectMappedMemory gets a zero size and
 * makes no call, and the range stays in UsedMemory: it never returns to
 * the available set. No syscall; m->live shrinks, m->abandoned grows. */
void jm_mapper_abandon(struct jm_mapper *m, uint64_t len);
/* 1 if start is the base of one of m's reservations. */
int jm_mapper_is_base(const struct jm_mapper *m, uint64_t start);
/* munmap the reservation based at start and forget it (m->reserved
 * shrinks); its free ranges stay wherever the caller keeps them. */
int jm_mapper_unreserve(struct jm_backend *b, struct jm_mapper *m,
			uint64_t start);

/* Segments laid out contiguously from start, page-aligned, in AllocGroup
 * order; written in place (write == exec). */
void jm_mapper_layout(struct jm_alloc *out, uint64_t start);

/* Mapper::initialize, as a backend's finalize op: per segment memset the
 * zero-fill tail and one protectMappedMemory (jm_os_llvm_protect) to the
 * segment's protection; marks the
 * allocation finalized (JM_MAPPER_P_STATE). */
int jm_mapper_finalize(struct jm_backend *b, struct jm_alloc *a);
/* Mapper::deinitialize of a contiguous allocation: one mprotect(RW)
 * (sys::Memory::protectMappedMemory: jm_os_llvm_protect; from_exec: the
 * span holds code). */
int jm_mapper_reset(struct jm_backend *b, uint64_t start, uint64_t len,
		    int from_exec);
/* 1 if the allocation has a code (rx) segment. */
int jm_mapper_has_exec(const struct jm_alloc *a);
/* The common stats: reserved (= mapped) bytes, peaks, live, reservations. */
void jm_mapper_stats(const struct jm_mapper *m, struct jm_backend_stats *out);

#endif
