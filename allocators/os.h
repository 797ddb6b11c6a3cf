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

#include "../common/syscalls.h"

/* enum jm_sys, struct jm_sys_count and their names: common/syscalls.h */

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

/* Fail the nth (1-based, counted from now) call of syscall s with err.
 * Returns -1 if too many injections are pending or nth is out of range. */
#define JM_OS_INJECT_MAX_NTH (1ull << 40) /* calls: far beyond any run */
int jm_os_inject(enum jm_sys s, int err, uint64_t nth);
void jm_os_inject_clear(void);
/* Parse "SYSCALL:ERRNO@N", e.g. "mmap:ENOMEM@3"; N is decimal, 1 to
 * JM_OS_INJECT_MAX_NTH. */
int jm_os_inject_parse(const char *spec, enum jm_sys *s, int *err,
		       uint64_t *nth);

size_t jm_page_size(void);

#endif
