/* The os layer: the only code in jitmm that calls mmap, mprotect, munmap,
 * madvise, memfd_create, ftruncate and pwrite. It counts every call, its
 * errors (by errno) and its bytes, which is the in-process ground truth the
 * probes are checked against (like LLVM's CounterMapper), and it can fail
 * the Nth call of a syscall on purpose (fault injection). */
#ifndef JITMM_OS_H
#define JITMM_OS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

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

void *jm_os_mmap(void *addr, size_t len, int prot, int flags, int fd,
		 off_t off);
int jm_os_munmap(void *addr, size_t len);
int jm_os_mprotect(void *addr, size_t len, int prot);
int jm_os_madvise(void *addr, size_t len, int advice);
int jm_os_memfd_create(const char *name, unsigned flags);
int jm_os_ftruncate(int fd, off_t len);
ssize_t jm_os_pwrite(int fd, const void *buf, size_t len, off_t off);

/* Counters since process start (or the last reset). */
void jm_os_snapshot(struct jm_os_counters *out);
void jm_os_reset(void);
/* out = b - a, per syscall (errno tables merged by value). */
void jm_os_diff(const struct jm_os_counters *a, const struct jm_os_counters *b,
		struct jm_os_counters *out);
uint64_t jm_os_total_calls(const struct jm_os_counters *c);

/* Fail the nth (1-based, counted from now) call of syscall s with err.
 * Returns -1 if too many injections are pending. */
int jm_os_inject(enum jm_sys s, int err, uint64_t nth);
void jm_os_inject_clear(void);
/* Parse "SYSCALL:ERRNO@N", e.g. "mmap:ENOMEM@3". */
int jm_os_inject_parse(const char *spec, enum jm_sys *s, int *err,
		       uint64_t *nth);
const char *jm_errno_name(int err);
int jm_errno_parse(const char *name);

size_t jm_page_size(void);

#endif
