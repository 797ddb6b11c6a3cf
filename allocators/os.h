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

/* Hardened hosts (PaX MPROTECT, SELinux deny_execmem) refuse to make
 * written memory executable with mprotect. LLVM detects them
 * (execProtChangeNeedsNewMapping, Support/Unix/MemoryLinux.h) and then
 * sys::Memory::protectMappedMemory (Support/Unix/Memory.inc) changes a
 * protection to or from exec with a new mapping instead of an mprotect:
 * memfd_create, a write of the pages' contents, mmap(MAP_FIXED) of the
 * file over them. Such pages are file mappings: they never merge with
 * their anonymous neighbours. The mode is per process (set before the
 * measured child is forked); jm_os_llvm_protect is the LLVM-based
 * models' protectMappedMemory. */
enum jm_host { JM_HOST_NORMAL, JM_HOST_HARDENED };
void jm_os_set_host(enum jm_host h);
enum jm_host jm_os_host(void);
/* execProtChangeNeedsNewMapping: a "PaX:" line of /proc/self/status with
 * the M (MPROTECT) flag, else an anonymous RW page that mprotect refuses
 * to make R-X with EPERM (PaX) or EACCES (SELinux). why: one line. */
enum jm_host jm_os_host_detect(char *why, size_t len);
const char *jm_host_name(enum jm_host h);
/* protectMappedMemory of [addr, addr + len) (page-rounded) to prot.
 * from_exec: the pages are executable now. On a normal host, or for a
 * change that neither gains nor drops exec: one mprotect. On a hardened
 * host: memfd_create + pwrite of the current contents + mmap(prot,
 * MAP_PRIVATE | MAP_FIXED, fd) + close. 0, or -1 with errno. */
int jm_os_llvm_protect(void *addr, size_t len, int prot, int from_exec);

#endif
