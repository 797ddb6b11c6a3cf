#include "os.h"

#include "../common/numparse.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* Counters are process-wide: each measured run lives in its own child
 * process, so no per-run state is needed. Atomic adds keep them exact when
 * a workload replays on several threads. */
static struct jm_os_counters counters;

struct injection {
	enum jm_sys sys;
	int err;
	uint64_t at_call; /* absolute call number that fails */
	int armed;
};
#define MAX_INJECT 16
static struct injection injections[MAX_INJECT];
static int ninject;

/* Count the call; return an errno to inject, or 0 to make the real call. */
static int enter(enum jm_sys s)
{
	uint64_t n = __atomic_add_fetch(&counters.sys[s].calls, 1,
					__ATOMIC_RELAXED);
	for (int i = 0; i < ninject; i++) {
		struct injection *in = &injections[i];
		int armed = 1; /* each injection fires once, in one thread */
		if (in->sys == s && in->at_call == n &&
		    __atomic_compare_exchange_n(&in->armed, &armed, 0, 0, __ATOMIC_ACQ_REL,
						__ATOMIC_RELAXED))
			return in->err;
	}
	return 0;
}

static void record_error(enum jm_sys s, int err)
{
	struct jm_sys_count *c = &counters.sys[s];
	__atomic_add_fetch(&c->errors, 1, __ATOMIC_RELAXED);
	for (int i = 0; i < JM_OS_MAX_ERRNOS; i++) {
		int cur = __atomic_load_n(&c->by_errno[i].err, __ATOMIC_RELAXED);
		if (cur == 0) {
			int zero = 0;
			if (__atomic_compare_exchange_n(&c->by_errno[i].err, &zero,
							err, 0, __ATOMIC_RELAXED,
							__ATOMIC_RELAXED))
				cur = err;
			else
				cur = zero;
		}
		if (cur == err) {
			__atomic_add_fetch(&c->by_errno[i].count, 1,
					   __ATOMIC_RELAXED);
			return;
		}
	}
}

static void record_bytes(enum jm_sys s, uint64_t len)
{
	__atomic_add_fetch(&counters.sys[s].bytes, len, __ATOMIC_RELAXED);
}

void *jm_os_mmap(void *addr, size_t len, int prot, int flags, int fd,
		 off_t off)
{
	int inj = enter(JM_SYS_MMAP);
	if (inj) {
		record_error(JM_SYS_MMAP, inj);
		errno = inj;
		return MAP_FAILED;
	}
	void *p = mmap(addr, len, prot, flags, fd, off);
	if (p == MAP_FAILED) {
		int e = errno;
		record_error(JM_SYS_MMAP, e);
		errno = e;
	} else {
		record_bytes(JM_SYS_MMAP, len);
	}
	return p;
}

#define OS_WRAP_INT(sysid, call, len)                                      \
	do {                                                               \
		int inj_ = enter(sysid);                                   \
		if (inj_) {                                                \
			record_error(sysid, inj_);                         \
			errno = inj_;                                      \
			return -1;                                         \
		}                                                          \
		long r_ = (long)(call);                                    \
		if (r_ < 0) {                                              \
			int e_ = errno;                                    \
			record_error(sysid, e_);                           \
			errno = e_;                                        \
		} else {                                                   \
			record_bytes(sysid, (uint64_t)(len));              \
		}                                                          \
		return r_;                                                 \
	} while (0)

int jm_os_munmap(void *addr, size_t len)
{
	OS_WRAP_INT(JM_SYS_MUNMAP, munmap(addr, len), len);
}

int jm_os_mprotect(void *addr, size_t len, int prot)
{
	OS_WRAP_INT(JM_SYS_MPROTECT, mprotect(addr, len, prot), len);
}

int jm_os_madvise(void *addr, size_t len, int advice)
{
	OS_WRAP_INT(JM_SYS_MADVISE, madvise(addr, len, advice), len);
}

int jm_os_memfd_create(const char *name, unsigned flags)
{
	OS_WRAP_INT(JM_SYS_MEMFD_CREATE, memfd_create(name, flags), 0);
}

int jm_os_ftruncate(int fd, off_t len)
{
	OS_WRAP_INT(JM_SYS_FTRUNCATE, ftruncate(fd, len), len);
}

ssize_t jm_os_pwrite(int fd, const void *buf, size_t len, off_t off)
{
	int inj = enter(JM_SYS_PWRITE);
	if (inj) {
		record_error(JM_SYS_PWRITE, inj);
		errno = inj;
		return -1;
	}
	ssize_t r = pwrite(fd, buf, len, off);
	if (r < 0) {
		int e = errno;
		record_error(JM_SYS_PWRITE, e);
		errno = e;
	} else {
		record_bytes(JM_SYS_PWRITE, (uint64_t)r);
	}
	return r;
}

void jm_os_snapshot(struct jm_os_counters *out)
{
	/* field by field: other threads may be counting meanwhile */
	for (int s = 0; s < JM_NSYS; s++) {
		const struct jm_sys_count *c = &counters.sys[s];
		struct jm_sys_count *o = &out->sys[s];
		o->calls = __atomic_load_n(&c->calls, __ATOMIC_SEQ_CST);
		o->errors = __atomic_load_n(&c->errors, __ATOMIC_SEQ_CST);
		o->bytes = __atomic_load_n(&c->bytes, __ATOMIC_SEQ_CST);
		for (int i = 0; i < JM_OS_MAX_ERRNOS; i++) {
			o->by_errno[i].err = __atomic_load_n(&c->by_errno[i].err, __ATOMIC_SEQ_CST);
			o->by_errno[i].count = __atomic_load_n(&c->by_errno[i].count,
							       __ATOMIC_SEQ_CST);
		}
	}
}

void jm_os_reset(void)
{
	memset(&counters, 0, sizeof(counters));
	jm_os_inject_clear();
}

int jm_os_inject(enum jm_sys s, int err, uint64_t nth)
{
	if (ninject >= MAX_INJECT || nth == 0 || nth > JM_OS_INJECT_MAX_NTH)
		return -1;
	injections[ninject++] = (struct injection){
		.sys = s,
		.err = err,
		.at_call = __atomic_load_n(&counters.sys[s].calls, __ATOMIC_RELAXED) + nth,
		.armed = 1,
	};
	return 0;
}

void jm_os_inject_clear(void)
{
	ninject = 0;
}

int jm_os_inject_parse(const char *spec, enum jm_sys *s, int *err,
		       uint64_t *nth)
{
	char buf[64];
	if (strlen(spec) >= sizeof(buf))
		return -1;
	strcpy(buf, spec);
	char *colon = strchr(buf, ':'), *at = strchr(buf, '@');
	if (!colon || !at || at < colon)
		return -1;
	*colon = 0;
	*at = 0;
	if (jm_sys_parse(buf, s) < 0)
		return -1;
	*err = jm_errno_parse(colon + 1);
	if (!*err)
		return -1;
	/* N: decimal digits only (no sign, no 0x), 1 to JM_OS_INJECT_MAX_NTH */
	const char *num = at + 1;
	uint64_t n;
	if (!*num || strspn(num, "0123456789") != strlen(num) || jm_parse_u64(num, &n) < 0 ||
	    n == 0 || n > JM_OS_INJECT_MAX_NTH)
		return -1;
	*nth = n;
	return 0;
}

size_t jm_page_size(void)
{
	static size_t ps; /* every thread computes the same value */
	size_t v = __atomic_load_n(&ps, __ATOMIC_RELAXED);
	if (!v) {
		v = (size_t)sysconf(_SC_PAGESIZE);
		__atomic_store_n(&ps, v, __ATOMIC_RELAXED);
	}
	return v;
}

static enum jm_host host_mode = JM_HOST_NORMAL;

void jm_os_set_host(enum jm_host h)
{
	host_mode = h;
}

enum jm_host jm_os_host(void)
{
	return host_mode;
}

const char *jm_host_name(enum jm_host h)
{
	return h == JM_HOST_HARDENED ? "hardened" : "normal";
}

enum jm_host jm_os_host_detect(char *why, size_t len)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	while (f && fgets(line, sizeof(line), f)) {
		if (strncmp(line, "PaX:", 4))
			continue;
		fclose(f);
		line[strcspn(line, "\n")] = 0;
		int m = strchr(line + 4, 'M') != NULL;
		snprintf(why, len, "/proc/self/status %s: MPROTECT %s", line,
			 m ? "on" : "off");
		return m ? JM_HOST_HARDENED : JM_HOST_NORMAL;
	}
	if (f)
		fclose(f);
	size_t ps = jm_page_size();
	void *p = mmap(NULL, ps, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		snprintf(why, len, "test page: mmap %s; assumed normal", strerror(errno));
		return JM_HOST_NORMAL;
	}
	int rc = mprotect(p, ps, PROT_READ | PROT_EXEC), e = errno;
	munmap(p, ps);
	if (rc < 0 && (e == EPERM || e == EACCES)) {
		snprintf(why, len, "mprotect(R-X) of a written page refused: %s",
			 jm_errno_name(e));
		return JM_HOST_HARDENED;
	}
	snprintf(why, len, "mprotect(R-X) of a written page allowed");
	return JM_HOST_NORMAL;
}

int jm_os_llvm_protect(void *addr, size_t len, int prot, int from_exec)
{
	const size_t ps = jm_page_size();
	if (host_mode != JM_HOST_HARDENED || !(from_exec || (prot & PROT_EXEC)))
		return jm_os_mprotect(addr, len, prot);
	len = (len + ps - 1) & ~(ps - 1);
	int fd = jm_os_memfd_create("llvm-jit", MFD_CLOEXEC);
	if (fd < 0)
		return -1;
	for (size_t done = 0; done < len;) {
		ssize_t w = jm_os_pwrite(fd, (const char *)addr + done, len - done,
					 (off_t)done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			int e = w < 0 ? errno : EIO;
			close(fd);
			errno = e;
			return -1;
		}
		done += (size_t)w;
	}
	void *p = jm_os_mmap(addr, len, prot, MAP_PRIVATE | MAP_FIXED, fd, 0);
	int e = errno;
	close(fd);
	if (p == MAP_FAILED) {
		errno = e;
		return -1;
	}
	return 0;
}
