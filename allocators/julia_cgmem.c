/* Shared Julia cgmemmgr machinery: see julia_cgmem.h. */
#include "julia_cgmem.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "os.h"

int jm_julia_writer_opt(const struct jm_backend *b)
{
	const char *w = jm_opt_str(&b->opts, "writer");
	return !strcmp(w, "selfmem") ? JM_JULIA_SELFMEM :
		!strcmp(w, "dual") ? JM_JULIA_DUAL : -1;
}

void jm_julia_owned_init(struct jm_julia_owned *o)
{
	jm_freeset_init(&o->set);
	o->peak = 0;
}

void jm_julia_own(struct jm_julia_owned *o, uint64_t a, uint64_t len)
{
	jm_freeset_insert(&o->set, a, a + len);
	uint64_t now = jm_freeset_bytes(&o->set); /* kept by the set: O(1) */
	if (now > o->peak)
		o->peak = now;
}

int jm_julia_unmap(struct jm_julia_owned *o, uint64_t a, uint64_t len)
{
	jm_freeset_remove_all_in(&o->set, a, a + len);
	return jm_os_munmap((void *)(uintptr_t)a, len);
}

int jm_julia_owned_release(struct jm_backend *b, struct jm_julia_owned *o)
{
	int rc = 0;
	struct jm_range r;
	for (uint64_t at = 0; jm_freeset_fit_from(&o->set, at, 1, &r) == 0; at = r.end)
		if (jm_os_munmap((void *)(uintptr_t)r.start, r.end - r.start) < 0 && !rc)
			rc = jm_backend_error(b, "munmap", errno,
				"releasing the mapping at %#llx (%llu bytes); it is leaked",
				(unsigned long long)r.start, (unsigned long long)(r.end - r.start));
	jm_freeset_release(&o->set);
	return rc;
}

int jm_julia_memfd_open(struct jm_backend *b, int *fd)
{
	*fd = jm_os_memfd_create("julia-codegen", MFD_CLOEXEC);
	if (*fd < 0)
		return jm_backend_error(b, "memfd_create", errno, "code file");
	if (fchmod(*fd, S_IRWXU) != 0 ||
	    jm_os_ftruncate(*fd, (off_t)jm_page_size()) != 0)
		return jm_backend_error(b, "ftruncate", errno, "code file");
	return 0;
}

int jm_julia_selfmem_open(struct jm_backend *b, int *fd)
{
	const uint64_t ps = jm_page_size();
	struct utsname u;
	int major = 0, minor = 0;
	*fd = -1;
	/* THP-backed blocks could freeze kernels < 4.10 with the DirtyCOW
	 * mitigation (upstream's comment) */
	if (uname(&u) != 0 || sscanf(u.release, "%d.%d", &major, &minor) < 1 ||
	    !(major > 4 || (major == 4 && minor >= 10)))
		return jm_backend_error(b, NULL, ENOSYS,
			"/proc/self/mem writer needs Linux 4.10 or later");
	*fd = open("/proc/self/mem", O_RDWR | O_SYNC | O_CLOEXEC);
	if (*fd < 0)
		return jm_backend_error(b, NULL, errno, "open /proc/self/mem");
	void *t = jm_os_mmap(NULL, ps, PROT_READ | PROT_EXEC,
			     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (t == MAP_FAILED) {
		int e = errno;
		close(*fd);
		*fd = -1;
		return jm_backend_error(b, "mmap", e, "self-mem test page");
	}
	const uint64_t v = 0xffff000012345678u;
	ssize_t w = jm_os_pwrite(*fd, &v, sizeof(v), (off_t)(uintptr_t)t);
	int ok = w == (ssize_t)sizeof(v) && *(volatile uint64_t *)t == v;
	int e = errno;
	if (jm_os_munmap(t, ps) < 0) {
		int me = errno;
		close(*fd);
		*fd = -1;
		return jm_backend_error(b, "munmap", me, "self-mem test page");
	}
	if (!ok) {
		close(*fd);
		*fd = -1;
		return jm_backend_error(b, "pwrite64", w < 0 ? e : EIO,
			"cannot write a read-only page through /proc/self/mem");
	}
	return 0;
}

int jm_julia_selfmem_write(struct jm_backend *b, int fd, uint64_t wr,
			   uint64_t rt, uint64_t sz)
{
	uint64_t done = 0;
	while (done < sz) {
		ssize_t w = jm_os_pwrite(fd, (const void *)(uintptr_t)(wr + done),
					 sz - done, (off_t)(rt + done));
		if (w < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (w <= 0)
			return jm_backend_error(b, "pwrite64", w < 0 ? errno : EIO,
				"writing code through /proc/self/mem");
		done += (uint64_t)w;
	}
	return 0;
}
