/* What the last shm-mapper executor reported when it was shut down, for
 * tests: after releasing every reservation the executor counts its own VMAs
 * again; a design that leaked executor mappings shows here, since the
 * executor's address space is gone once destroy returns. And how an
 * executor counts its VMAs. */
#ifndef JITMM_SHM_MAPPER_H
#define JITMM_SHM_MAPPER_H

#include <stdint.h>
#include <sys/types.h>

struct jm_shm_exit_report {
	int valid;            /* an executor was shut down since process start */
	pid_t pid;
	int exit_status;      /* waitpid status */
	long vmas_baseline;   /* executor VMAs before its first reservation */
	long vmas_at_exit;    /* after releasing every reservation */
	uint64_t munmap_calls; /* executor munmaps over its whole life */
	uint64_t reservations_released;
};

void jm_shm_mapper_last_exit(struct jm_shm_exit_report *out);

/* VMAs of this process, as an executor counts its own (shm-mapper's and
 * llvm-shm's): lines of /proc/self/maps minus [vsyscall]. No stdio or
 * malloc, so counting adds no mapping; not reentrant. */
long jm_exec_vma_count(void);

#endif
