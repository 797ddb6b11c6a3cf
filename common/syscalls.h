/* Syscall ids and per-syscall counts, shared by the os layer (which makes
 * the calls and counts them), the probes (which count them from the
 * kernel), the recorder and the results writers. Knows no room above it. */
#ifndef JITMM_SYSCALLS_H
#define JITMM_SYSCALLS_H

#include <stdint.h>

enum jm_sys {
	JM_SYS_MMAP,
	JM_SYS_MUNMAP,
	JM_SYS_MPROTECT,
	JM_SYS_MADVISE,
	JM_SYS_MEMFD_CREATE,
	JM_SYS_FTRUNCATE,
	JM_SYS_PWRITE,
	JM_NSYS
};

#define JM_OS_MAX_ERRNOS 8

struct jm_sys_count {
	uint64_t calls;
	uint64_t errors;
	uint64_t bytes; /* length argument, summed over successful calls */
	/* errors by errno: the first JM_OS_MAX_ERRNOS distinct values */
	struct {
		int err;
		uint64_t count;
	} by_errno[JM_OS_MAX_ERRNOS];
};

struct jm_os_counters {
	struct jm_sys_count sys[JM_NSYS];
};

const char *jm_sys_name(enum jm_sys s);
int jm_sys_parse(const char *name, enum jm_sys *out);

/* The os layer's counters of a window: out = b - a, per syscall (errno
 * tables merged by value). */
void jm_os_diff(const struct jm_os_counters *a, const struct jm_os_counters *b,
		struct jm_os_counters *out);
uint64_t jm_os_total_calls(const struct jm_os_counters *c);

/* "ENOMEM" <-> ENOMEM for the errnos memory syscalls return; "E?" for
 * others. jm_errno_parse also takes a decimal number; 0 when unknown. */
const char *jm_errno_name(int err);
int jm_errno_parse(const char *name);

/* Syscalls a kernel-side probe counts (a superset of the os layer's). */
enum jm_probe_sys {
	JM_PSYS_MMAP,
	JM_PSYS_MUNMAP,
	JM_PSYS_MPROTECT,
	JM_PSYS_MREMAP,
	JM_PSYS_MADVISE,
	JM_PSYS_BRK,
	JM_PSYS_MEMFD_CREATE,
	JM_PSYS_FTRUNCATE,
	JM_PSYS_PWRITE64,
	JM_PROBE_NSYS
};
const char *jm_probe_sys_name(enum jm_probe_sys s);

#endif
