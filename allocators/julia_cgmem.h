/* The machinery of Julia's src/cgmemmgr.cpp that both of its models share:
 * julia-blocks (RTDyldMemoryManagerJL's allocators) and codemodel
 * (PR 60915's CodeAllocator). Both write protected code either through a
 * memfd ("julia-codegen") mapped twice, or with pwrite to /proc/self/mem,
 * and both account every byte they map in one set, unmapped at destroy. */
#ifndef JITMM_JULIA_CGMEM_H
#define JITMM_JULIA_CGMEM_H

#include <stdint.h>

#include "backend.h"
#include "freeset.h"

/* the memfd grows by this much at least (upstream's map_size increment) */
#define JM_JULIA_MAP_SIZE_INC (128ull << 20)

/* how protected code is written */
enum jm_julia_writer { JM_JULIA_DUAL, JM_JULIA_SELFMEM };
/* option "writer" (auto|dual|selfmem): the writer it forces, or -1 for
 * auto (the backend probes as its upstream constructor does) */
int jm_julia_writer_opt(const struct jm_backend *b);

/* Every byte mapped by the backend, and the peak of that. */
struct jm_julia_owned {
	struct jm_freeset set;
	uint64_t peak;
};

void jm_julia_owned_init(struct jm_julia_owned *o);
void jm_julia_own(struct jm_julia_owned *o, uint64_t a, uint64_t len);
/* munmap [a, a + len) and forget it. */
int jm_julia_unmap(struct jm_julia_owned *o, uint64_t a, uint64_t len);
/* munmap everything still owned (destroy). -1 if a munmap failed (the
 * first failure recorded on b; the rest are released). */
int jm_julia_owned_release(struct jm_backend *b, struct jm_julia_owned *o);

/* memfd_create("julia-codegen"), fchmod 0700, ftruncate to one page: the
 * first steps of upstream's init_anon_hdl / check_fd_or_close. The two
 * models probe the file differently afterwards. 0 or -1 (error set). */
int jm_julia_memfd_open(struct jm_backend *b, int *fd);
/* upstream's _init_self_mem: refuse kernels before 4.10 (uname), open
 * /proc/self/mem and check that a read-only executable test page can be
 * written through it (mmap R-X, pwrite, munmap). On failure *fd is closed
 * (-1) and the error is set. */
int jm_julia_selfmem_open(struct jm_backend *b, int *fd);
/* Copy sz bytes from wr to the runtime address rt with pwrite on the
 * /proc/self/mem fd, retrying short writes, EINTR and EAGAIN. */
int jm_julia_selfmem_write(struct jm_backend *b, int fd, uint64_t wr,
			   uint64_t rt, uint64_t sz);

#endif
