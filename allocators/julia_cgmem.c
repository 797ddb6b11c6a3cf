/* Shared Julia cgmemmgr machinery: see julia_cgmem.h. */
#include "julia_cgmem.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "os.h"

enum jm_julia_writer jm_julia_writer(const struct jm_backend *b)
{
	return !strcmp(jm_opt_str(&b->opts, "writer"), "selfmem") ?
		JM_JULIA_SELFMEM : JM_JULIA_DUAL;
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

void jm_julia_owned_release(struct jm_julia_owned *o)
{
	struct jm_range r;
	for (uint64_t at = 0; jm_freeset_fit_from(&o->set, at, 1, &r) == 0; at = r.end)
		jm_os_munmap((void *)(uintptr_t)r.start, r.end - r.start);
	jm_freeset_release(&o->set);
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
	*fd = open("/proc/self/mem", O_RDWR | O_SYNC | O_CLOEXEC);
	if (*fd < 0)
		return jm_backend_error(b, NULL, errno, "open /proc/self/mem");
	void *t = jm_os_mmap(NULL, ps, PROT_READ | PROT_EXEC,
			     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (t == MAP_FAILED)
		return jm_backend_error(b, "mmap", errno, "self-mem test page");
	const uint64_t v = 0xffff000012345678u;
	ssize_t w = jm_os_pwrite(*fd, &v, sizeof(v), (off_t)(uintptr_t)t);
	int ok = w == (ssize_t)sizeof(v) && *(volatile uint64_t *)t == v;
	int e = errno;
	jm_os_munmap(t, ps);
	if (!ok)
		return jm_backend_error(b, "pwrite64", w < 0 ? e : EIO,
			"cannot write a read-only page through /proc/self/mem");
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
