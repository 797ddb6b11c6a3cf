/* --replay literal: the raw `sys` events of a recording replayed as they
 * were, through the os layer, to reproduce the recording's VMA behaviour
 * without its program. Recorded addresses are kept where they are free
 * (MAP_FIXED_NOREPLACE) and otherwise shifted by one constant, so the
 * relative layout (and with it the VMA merging) survives. */
#ifndef JITMM_REPLAY_LITERAL_H
#define JITMM_REPLAY_LITERAL_H

#include <stddef.h>
#include <stdint.h>

#include "../workloads/workload.h"

struct jm_literal_region {
	uint64_t rec, len, act; /* recorded start, length, actual start */
};

struct jm_literal {
	struct jm_literal_region *r; /* sorted by rec, non-overlapping */
	size_t n, cap;
	int64_t delta;          /* actual - recorded for new mappings */
	int have_delta;
	uint64_t replayed;      /* syscalls made */
	uint64_t moved;         /* mmaps not placed at their recorded address */
	uint64_t failed_recorded; /* failed in the recording: not replayed */
	uint64_t untracked;     /* ranges outside every replayed mapping */
	uint64_t errors;        /* replayed calls that failed here */
	int64_t first_vmas, last_vmas; /* recorded counts, -1 unknown */
};

void jm_literal_init(struct jm_literal *l);
/* Apply one recorded syscall. 0, or -1 with a message (out of memory or
 * a replayed call failing where the recording's succeeded). */
int jm_literal_apply(struct jm_literal *l, const struct jm_sys_event *s, char *err,
		     size_t errlen);
/* Unmap everything still mapped and free the table. */
void jm_literal_release(struct jm_literal *l);

#endif
