/* Turning a live process's memory syscalls into a trace (jitmm record):
 * the raw calls are spooled to a temporary file as they arrive, then two
 * passes over it reconstruct the JIT's graphs (docs/recording.md) and write
 * the trace with the raw `sys` lines and the graph events interleaved.
 * Independent of the eBPF probe that feeds it, so it can be tested with
 * hand-made call sequences. */
#ifndef JITMM_RECORDER_H
#define JITMM_RECORDER_H

#include <stddef.h>
#include <stdint.h>

#include "../common/syscalls.h" /* enum jm_probe_sys */
#include "trace.h"

/* One syscall as the probe saw it at its exit. */
struct jm_rec_call {
	uint64_t t_ns;
	uint32_t tgid, tid;
	uint32_t sys;       /* enum jm_probe_sys */
	uint32_t map_count; /* VMAs of the process right after the call */
	uint64_t addr, len, prot, flags;
	int64_t ret;
};

/* What the reconstruction found; also written into the trace as the
 * "# jit: ..." comment line (docs/recording.md). */
struct jm_rec_summary {
	uint64_t calls;        /* calls spooled */
	uint64_t sys_lines;    /* written as `sys` lines */
	uint64_t other_procs;  /* calls of processes other than the recorded one */
	uint64_t comments;     /* calls the format cannot carry (brk, mremap, ...) */
	uint64_t graphs, finalizes, frees, max_live;
	uint64_t jit_mmaps, jit_mprotects, jit_munmaps, jit_madvises;
	int64_t jit_vmas;      /* net VMAs the graph-related calls created */
	int64_t jit_vmas_peak; /* the most that net count reached */
	uint64_t jit_fin_mprotects; /* mprotects that allocated/finalized graphs
				     * (jit_mprotects minus the rw- ones that
				     * gave carved graphs back) */
	uint64_t pools;        /* PROT_NONE reservations (not split into graphs) */
	/* pools whose mprotects came from more than one thread: their graphs,
	 * carved by contiguity, may be split or merged (docs/recording.md) */
	uint64_t pools_threaded;
};

struct jm_recorder;

/* tgid: the recorded process (calls of others are counted, not written). */
struct jm_recorder *jm_recorder_new(uint32_t tgid, char *err, size_t errlen);
/* The process's VMA count when recording began (if known): the first
 * call's VMA change is measured from it instead of being unknown. */
void jm_recorder_set_initial_vmas(struct jm_recorder *r, int64_t vmas);
/* Append one call (thread-safe only for a single producer). 0 or -1. */
int jm_recorder_add(struct jm_recorder *r, const struct jm_rec_call *c);
/* Reconstruct and write the trace to path (atomically). h: source, arch,
 * page_size, made_by; sizes/graphs/max_live are filled in here. */
int jm_recorder_write(struct jm_recorder *r, const char *path, struct jm_trace_header *h,
		      struct jm_rec_summary *sum, char *err, size_t errlen);
void jm_recorder_free(struct jm_recorder *r);

/* Parse the "# jit: ..." line of a recording written by jm_recorder_write.
 * 0, or -1 with a message (no such line, unreadable file). */
int jm_recording_summary(const char *path, struct jm_rec_summary *sum, char *err,
			 size_t errlen);

#endif
