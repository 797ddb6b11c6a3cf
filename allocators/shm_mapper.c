/* shm-mapper: LLVM MapperJITLinkMemoryManager over SharedMemoryMapper, with
 * the executor in a separate process (llvm/lib/ExecutionEngine/Orc/
 * MemoryMapper.cpp, Orc/TargetProcess/ExecutorSharedMemoryMapperService.cpp,
 * Orc/MapperJITLinkMemoryManager.cpp).
 *
 * create:     fork the executor (before the measurement window: prepare);
 *             controller and executor talk over a SOCK_SEQPACKET socketpair
 *             (LLVM: the EPC connection).
 * allocate:   (manager) T = sum of page-aligned segments; first fit in
 *             executor-address order over the free ranges; if none,
 *             reserve(alignTo(T, granularity)) and take its low end, the
 *             rest back to the free ranges. Segments contiguous from the
 *             low end in AllocGroup order. Each segment's exec address is
 *             the executor's; its write address is the controller's view
 *             at the same offset (Mapper::prepare).
 * reserve:    executor: memfd_create("jitlink_<pid>_<n>"), ftruncate(size),
 *             mmap(size, PROT_NONE, MAP_SHARED, fd), passes the fd to the
 *             controller, close(fd). Controller: mmap(size, RW, MAP_SHARED,
 *             fd), close(fd). (LLVM: shm_open + shm_unlink by name; a memfd
 *             handed over with SCM_RIGHTS is the same object without a
 *             name in /dev/shm.)
 * finalize:   controller memsets each segment's zero-fill tail through its
 *             view, then asks the executor to initialize: one mprotect per
 *             segment (length content + zero-fill, unrounded, as LLVM), in
 *             the executor, counted by the executor's own os layer.
 * deallocate: executor deinitialize: forgets the allocation; NO protection
 *             reset, no syscall in either process. The range goes back to
 *             the free ranges.
 * destroy:    controller munmaps its views, executor release munmaps each
 *             reservation; then the executor exits and is reaped.
 *
 * mode=inprocess-mapper models LLVM's InProcessMemoryMapper under the same
 * manager and granularity, for comparison: reserve = mmap(RW, PRIVATE|ANON),
 * write = exec, initialize = memset + mprotect per segment, deinitialize =
 * one mprotect(RW) over [min, max) of the allocation, release = munmap.
 *
 * Inferred or adapted (also in docs/backends/shm-mapper.md):
 * - granularity default 1 GiB: llvm-jitlink's slab size for its
 *   shared-memory executor on 64-bit Unix (the only in-tree user).
 * - Free ranges coalesce across reservations that touch, as LLVM's
 *   IntervalMap, and LLVM hands out a range straddling two of them, then
 *   prepare()s a controller pointer past the end of the first view: right
 *   only when the next view follows it in the controller too. In mode=shared
 *   a fit spans reservations that follow each other in both processes (as
 *   LLVM's, measured against llvm-shm at granularity=64K), and no others:
 *   where the views are apart, LLVM's pointer is wrong (a latent upstream
 *   bug the model does not reproduce).
 * - The executor view is not placed at the controller's address; exec and
 *   write addresses are whatever each process's mmap returns (after fork
 *   they often coincide numerically; they are still different mappings).
 *   Passing the controller address as a MAP_FIXED_NOREPLACE hint to the
 *   executor's mmap would make them equal whenever that range is free there.
 * - Allocations still live at destroy are released without a
 *   deinitialize-time protection reset (the harness frees everything first).
 * - For tests and verification the executor also serves "read bytes at an
 *   exec address" (process_vm_readv on itself, so a PROT_NONE page fails
 *   with EFAULT instead of crashing) and "call the function at an exec
 *   address" (under a SIGSEGV/SIGBUS/SIGILL guard), and reports its os-layer
 *   counters and /proc/self/maps VMA count. */
#include "shm_mapper.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backend.h"
#include "freeset.h"
#include "mapper_pool.h"
#include "os.h"

enum shm_mode { MODE_SHARED = 0, MODE_INPROCESS = 1 };

/* ---- protocol ---- */

enum shm_op {
	OP_RESERVE = 1,
	OP_INITIALIZE,
	OP_DEINITIALIZE,
	OP_RELEASE,
	OP_STATS,
	OP_READ,
	OP_EXECUTE,
	OP_EXIT,
};

#define MAX_RELEASE 64
#define READ_CHUNK (32u << 10)

struct shm_req {
	uint32_t op, n;
	uint64_t a, b;
	struct {
		uint64_t addr, size;
		int32_t prot, pad;
	} seg[JM_MAX_SEGS];
	uint64_t bases[MAX_RELEASE];
};

struct shm_rep {
	int32_t err;
	uint32_t n;
	uint64_t v[10];
};

enum stat_slot {
	SV_VMAS, SV_VMAS_BASE, SV_MMAP, SV_MUNMAP, SV_MPROTECT, SV_MEMFD,
	SV_FTRUNCATE, SV_RELEASED, SV_LIVE_RES,
};
/* a reply with err set: the executor's VMA count right after the failure
 * (at vm.max_map_count it is the executor that hits the limit) */
#define REP_ERR_VMAS 9

/* ---- the executor process ---- */

#define EXEC_MAX_RES 4096

static struct {
	int sock;
	long vmas_base;
	uint64_t nshm, released;
	struct {
		uint64_t addr, size, allocs;
	} res[EXEC_MAX_RES];
	size_t nres;
	sigjmp_buf jb;
	uint8_t buf[sizeof(struct shm_rep) + READ_CHUNK];
} ex;

long jm_exec_vma_count(void)
{
	static char b[1 << 16];
	int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	long lines = 0;
	ssize_t r;
	char last = '\n';
	size_t vs = 0; /* matched prefix of "[vsyscall]" */
	const char *pat = "[vsyscall]";
	while ((r = read(fd, b, sizeof(b))) > 0)
		for (ssize_t i = 0; i < r; i++) {
			if (b[i] == '\n')
				lines++;
			if (pat[vs] && b[i] == pat[vs]) {
				if (!pat[++vs])
					lines--;
			} else {
				vs = b[i] == pat[0];
			}
			last = b[i];
		}
	close(fd);
	(void)last;
	return lines;
}

static void exec_fault(int sig)
{
	siglongjmp(ex.jb, sig);
}

static void exec_stats(struct shm_rep *rep)
{
	struct jm_os_counters c;
	jm_os_snapshot(&c);
	rep->v[SV_VMAS] = (uint64_t)jm_exec_vma_count();
	rep->v[SV_VMAS_BASE] = (uint64_t)ex.vmas_base;
	rep->v[SV_MMAP] = c.sys[JM_SYS_MMAP].calls;
	rep->v[SV_MUNMAP] = c.sys[JM_SYS_MUNMAP].calls;
	rep->v[SV_MPROTECT] = c.sys[JM_SYS_MPROTECT].calls;
	rep->v[SV_MEMFD] = c.sys[JM_SYS_MEMFD_CREATE].calls;
	rep->v[SV_FTRUNCATE] = c.sys[JM_SYS_FTRUNCATE].calls;
	rep->v[SV_RELEASED] = ex.released;
	rep->v[SV_LIVE_RES] = ex.nres;
}

static ssize_t exec_send(void *p, size_t len, int fd)
{
	struct shm_rep *rep = p;
	if (rep->err)
		rep->v[REP_ERR_VMAS] = (uint64_t)jm_exec_vma_count();
	struct iovec iov = {(void *)p, len};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	if (fd >= 0) {
		mh.msg_control = u.buf;
		mh.msg_controllen = sizeof(u.buf);
		struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	}
	return sendmsg(ex.sock, &mh, MSG_NOSIGNAL);
}

static int exec_find(uint64_t addr)
{
	for (size_t i = 0; i < ex.nres; i++)
		if (addr >= ex.res[i].addr && addr < ex.res[i].addr + ex.res[i].size)
			return (int)i;
	return -1;
}

/* ExecutorSharedMemoryMapperService::reserve */
static void exec_reserve(const struct shm_req *q, struct shm_rep *rep)
{
	if (ex.nres == EXEC_MAX_RES) {
		rep->err = ENOMEM;
		exec_send(rep, sizeof(*rep), -1);
		return;
	}
	char name[64];
	snprintf(name, sizeof(name), "jitlink_%d_%llu", (int)getpid(),
		 (unsigned long long)++ex.nshm);
	int fd = jm_os_memfd_create(name, MFD_CLOEXEC);
	if (fd < 0) {
		rep->err = errno;
		exec_send(rep, sizeof(*rep), -1);
		return;
	}
	if (jm_os_ftruncate(fd, (off_t)q->a) < 0) {
		rep->err = errno;
		close(fd);
		exec_send(rep, sizeof(*rep), -1);
		return;
	}
	void *p = jm_os_mmap(NULL, q->a, PROT_NONE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		rep->err = errno;
		close(fd);
		exec_send(rep, sizeof(*rep), -1);
		return;
	}
	ex.res[ex.nres].addr = (uint64_t)(uintptr_t)p;
	ex.res[ex.nres].size = q->a;
	ex.res[ex.nres].allocs = 0;
	ex.nres++;
	rep->v[0] = (uint64_t)(uintptr_t)p;
	exec_send(rep, sizeof(*rep), fd); /* LLVM returns the shm name */
	close(fd);
}

/* ExecutorSharedMemoryMapperService::initialize */
static void exec_initialize(const struct shm_req *q, struct shm_rep *rep)
{
	uint64_t min = UINT64_MAX;
	for (uint32_t i = 0; i < q->n && i < JM_MAX_SEGS; i++) {
		if (q->seg[i].addr < min)
			min = q->seg[i].addr;
		if (jm_os_mprotect((void *)(uintptr_t)q->seg[i].addr, q->seg[i].size,
				   q->seg[i].prot) < 0) {
			rep->err = errno;
			rep->v[1] = i;
			return;
		}
		/* icache invalidation: nothing to do on x86-64 */
	}
	int r = exec_find(q->a);
	if (r >= 0)
		ex.res[r].allocs++;
	rep->v[0] = min;
}

static void exec_deinitialize(const struct shm_req *q, struct shm_rep *rep)
{
	/* dealloc actions would run here; protections are NOT reset */
	int r = exec_find(q->a);
	if (r < 0 || !ex.res[r].allocs) {
		rep->err = EINVAL;
		return;
	}
	ex.res[r].allocs--;
}

/* ExecutorSharedMemoryMapperService::release */
static void exec_release(const struct shm_req *q, struct shm_rep *rep)
{
	for (uint32_t i = 0; i < q->n && i < MAX_RELEASE; i++) {
		int r = exec_find(q->bases[i]);
		if (r < 0) {
			rep->err = EINVAL;
			continue;
		}
		ex.res[r].allocs = 0; /* deinitialize sub-allocations */
		if (jm_os_munmap((void *)(uintptr_t)ex.res[r].addr, ex.res[r].size) < 0)
			rep->err = errno;
		ex.res[r] = ex.res[--ex.nres];
		ex.released++;
	}
}

static void exec_read(const struct shm_req *q)
{
	struct shm_rep *rep = (struct shm_rep *)ex.buf;
	memset(rep, 0, sizeof(*rep));
	size_t len = q->b < READ_CHUNK ? q->b : READ_CHUNK;
	struct iovec local = {ex.buf + sizeof(*rep), len};
	struct iovec remote = {(void *)(uintptr_t)q->a, len};
	ssize_t got = process_vm_readv(getpid(), &local, 1, &remote, 1, 0);
	if (got != (ssize_t)len) {
		rep->err = got < 0 ? errno : EFAULT;
		exec_send(rep, sizeof(*rep), -1);
		return;
	}
	rep->v[0] = len;
	exec_send(ex.buf, sizeof(*rep) + len, -1);
}

static void exec_execute(const struct shm_req *q, struct shm_rep *rep)
{
	struct sigaction sa = {.sa_handler = exec_fault}, old[3];
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_NODEFER;
	const int sigs[3] = {SIGSEGV, SIGBUS, SIGILL};
	for (int i = 0; i < 3; i++)
		sigaction(sigs[i], &sa, &old[i]);
	int sig = sigsetjmp(ex.jb, 1);
	if (sig == 0) {
		uint32_t (*fn)(void);
		void *addr = (void *)(uintptr_t)q->a;
		memcpy(&fn, &addr, sizeof(fn));
		rep->v[0] = fn();
	} else {
		rep->err = EFAULT;
		rep->v[1] = (uint64_t)sig;
	}
	for (int i = 0; i < 3; i++)
		sigaction(sigs[i], &old[i], NULL);
}

static void executor_main(int sock, pid_t controller)
{
	/* dies with the controller (SIGKILL included), even if it died before
	 * the prctl */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != controller)
		_exit(0);
	ex.sock = sock;
	/* no inherited descriptors (the runner's pipes among them) */
	if (sock != 3) {
		dup2(sock, 3);
		ex.sock = 3;
	}
	close_range(4, ~0u, 0);
	jm_os_reset(); /* the executor's own counters, no injections */
	ex.vmas_base = jm_exec_vma_count();
	static struct shm_req q;
	for (;;) {
		ssize_t r = recv(ex.sock, &q, sizeof(q), 0);
		if (r <= 0) {
			if (r < 0 && errno == EINTR)
				continue;
			_exit(0); /* controller gone */
		}
		struct shm_rep rep = {0};
		switch (q.op) {
		case OP_RESERVE:
			exec_reserve(&q, &rep);
			continue; /* replied (with the fd) */
		case OP_INITIALIZE: exec_initialize(&q, &rep); break;
		case OP_DEINITIALIZE: exec_deinitialize(&q, &rep); break;
		case OP_RELEASE: exec_release(&q, &rep); break;
		case OP_STATS: exec_stats(&rep); break;
		case OP_READ: exec_read(&q); continue;
		case OP_EXECUTE: exec_execute(&q, &rep); break;
		case OP_EXIT:
			exec_stats(&rep);
			exec_send(&rep, sizeof(rep), -1);
			_exit(rep.v[SV_VMAS] == rep.v[SV_VMAS_BASE] ? 0 : 3);
		default: rep.err = EINVAL; break;
		}
		exec_send(&rep, sizeof(rep), -1);
	}
}

/* ---- the controller ---- */

struct shm_res {
	uint64_t exec, size;
	char *local;
};

struct shm_mapper {
	pthread_mutex_t lock; /* pool state */
	pthread_mutex_t chan; /* one request in flight on the socket */
	enum shm_mode mode;
	uint64_t granularity;
	int sock;
	pid_t pid;
	struct jm_freeset free; /* executor addresses */
	struct shm_res *res;    /* sorted by exec address */
	size_t nres, capres;
	uint64_t reserved, reserved_peak, live;
};

static struct jm_shm_exit_report last_exit;

void jm_shm_mapper_last_exit(struct jm_shm_exit_report *out)
{
	*out = last_exit;
}

enum { P_START, P_SIZE, P_STATE, P_SPAN };
enum { ST_ALLOCATED, ST_FINALIZED };

/* One request/reply round trip. data/datalen receive a READ payload; *fd
 * receives a passed descriptor (-1 if none). */
static int call(struct jm_backend *b, struct shm_mapper *m, const struct shm_req *q,
		struct shm_rep *rep, void *data, size_t datalen, int *fd)
{
	pthread_mutex_lock(&m->chan);
	if (fd)
		*fd = -1;
	if (send(m->sock, q, sizeof(*q), MSG_NOSIGNAL) != (ssize_t)sizeof(*q)) {
		int e = errno;
		pthread_mutex_unlock(&m->chan);
		return jm_backend_error(b, NULL, e, "sending to the executor");
	}
	struct iovec iov[2] = {{rep, sizeof(*rep)}, {data, datalen}};
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr mh = {.msg_iov = iov, .msg_iovlen = data ? 2 : 1,
			    .msg_control = u.buf, .msg_controllen = sizeof(u.buf)};
	ssize_t r;
	while ((r = recvmsg(m->sock, &mh, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR)
		;
	int e = errno;
	pthread_mutex_unlock(&m->chan);
	if (r < (ssize_t)sizeof(*rep))
		return jm_backend_error(b, NULL, r < 0 ? e : EPIPE,
					"no reply from the executor (pid %d)", (int)m->pid);
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS) {
			int got;
			memcpy(&got, CMSG_DATA(cm), sizeof(int));
			if (fd)
				*fd = got;
			else
				close(got);
		}
	return 0;
}

static void shm_destroy(struct jm_backend *b);

/* After jm_backend_error() for a failure the executor reported: it
 * happened there, with the executor's VMA count (not the controller's,
 * which has a handful: issue 11). Returns -1. */
static int in_executor(struct jm_backend *b, const struct shm_mapper *m,
		       const struct shm_rep *rep)
{
	b->err_pid = m->pid;
	b->err_vmas = (long)rep->v[REP_ERR_VMAS];
	return -1;
}

/* socketpair and fork: the executor runs on its end; 0 with the
 * controller's end and the executor's pid, or -1 (errno, and what failed). */
static int executor_start(int *sock, pid_t *pid, const char **what)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		*what = "socketpair";
		return -1;
	}
	fflush(NULL);
	pid_t controller = getpid();
	*pid = fork();
	if (*pid < 0) {
		int e = errno;
		close(sv[0]);
		close(sv[1]);
		errno = e;
		*what = "forking the executor";
		return -1;
	}
	if (*pid == 0) {
		close(sv[0]);
		executor_main(sv[1], controller);
		_exit(0);
	}
	close(sv[1]);
	*sock = sv[0];
	return 0;
}

/* The executor shm_prepare started before the window, for create to take:
 * a JIT process connects to its executor before it links anything (as
 * llvm-shm's does), and forking inside the window would count the copy-on-
 * write faults the fork causes as the manager's. */
static struct {
	int sock;
	pid_t pid;
} prepared = {-1, 0};

static int shm_prepare(const struct jm_backend_ops *self, const struct jm_optvals *opts,
		       char *err, size_t len)
{
	(void)self;
	const char *what;
	if (!strcmp(jm_opt_str(opts, "mode"), "inprocess-mapper") || prepared.sock >= 0)
		return 0;
	if (executor_start(&prepared.sock, &prepared.pid, &what) < 0) {
		snprintf(err, len, "%s: %s", what, strerror(errno));
		return -1;
	}
	return 0;
}

static int shm_create(struct jm_backend *b)
{
	struct shm_mapper *m = calloc(1, sizeof(*m));
	if (!m)
		return jm_backend_error(b, NULL, ENOMEM, "calloc");
	m->mode = !strcmp(jm_opt_str(&b->opts, "mode"), "inprocess-mapper")
			  ? MODE_INPROCESS : MODE_SHARED;
	m->granularity = jm_opt_u64(&b->opts, "granularity");
	m->sock = -1;
	if (m->granularity % jm_page_size()) {
		free(m);
		return jm_backend_error(b, NULL, EINVAL,
			"granularity must be a multiple of the page size");
	}
	pthread_mutex_init(&m->lock, NULL);
	pthread_mutex_init(&m->chan, NULL);
	jm_freeset_init(&m->free);
	b->priv = m;
	if (m->mode == MODE_INPROCESS)
		return 0;
	const char *what;
	if (prepared.sock >= 0) {
		m->sock = prepared.sock;
		m->pid = prepared.pid;
		prepared.sock = -1;
	} else if (executor_start(&m->sock, &m->pid, &what) < 0) {
		jm_backend_error(b, NULL, errno, "%s", what);
		goto fail;
	}
	/* a first round trip: the executor is up and has its baseline */
	struct shm_req q = {.op = OP_STATS};
	struct shm_rep rep;
	if (call(b, m, &q, &rep, NULL, 0, NULL) == 0)
		return 0;
fail:;
	char keep[sizeof(b->err)];
	memcpy(keep, b->err, sizeof(keep));
	shm_destroy(b); /* jm_backend_open does not destroy after a failed create */
	b->priv = NULL;
	memcpy(b->err, keep, sizeof(keep));
	return -1;
}

static struct shm_res *res_find(struct shm_mapper *m, uint64_t addr)
{
	size_t lo = 0, hi = m->nres;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (m->res[mid].exec + m->res[mid].size <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < m->nres && m->res[lo].exec <= addr)
		return &m->res[lo];
	return NULL;
}

static int res_add(struct shm_mapper *m, uint64_t exec, uint64_t size, char *local)
{
	if (m->nres == m->capres) {
		size_t cap = m->capres ? m->capres * 2 : 8;
		struct shm_res *r = realloc(m->res, cap * sizeof(*r));
		if (!r)
			return -1;
		m->res = r;
		m->capres = cap;
	}
	size_t i = m->nres;
	while (i > 0 && m->res[i - 1].exec > exec) {
		m->res[i] = m->res[i - 1];
		i--;
	}
	m->res[i] = (struct shm_res){exec, size, local};
	m->nres++;
	m->reserved += size;
	if (m->reserved > m->reserved_peak)
		m->reserved_peak = m->reserved;
	return 0;
}

/* Mapper::reserve. Returns the executor address, 0 on failure. */
static uint64_t reserve(struct jm_backend *b, struct shm_mapper *m, uint64_t len)
{
	if (m->mode == MODE_INPROCESS) {
		void *p = jm_os_mmap(NULL, len, PROT_READ | PROT_WRITE,
				     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED) {
			jm_backend_error(b, "mmap", errno, "reserving %llu bytes",
					 (unsigned long long)len);
			return 0;
		}
		if (res_add(m, (uint64_t)(uintptr_t)p, len, p) < 0) {
			jm_os_munmap(p, len);
			jm_backend_error(b, NULL, ENOMEM, "realloc");
			return 0;
		}
		return (uint64_t)(uintptr_t)p;
	}
	struct shm_req q = {.op = OP_RESERVE, .a = len};
	struct shm_rep rep;
	int fd;
	if (call(b, m, &q, &rep, NULL, 0, &fd) < 0)
		return 0;
	if (rep.err || fd < 0) {
		if (fd >= 0)
			close(fd);
		jm_backend_error(b, "executor reserve", rep.err ? rep.err : EPROTO,
				 "reserving %llu bytes in the executor",
				 (unsigned long long)len);
		if (rep.err)
			in_executor(b, m, &rep);
		return 0;
	}
	void *local = jm_os_mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	int e = errno;
	close(fd);
	if (local == MAP_FAILED) {
		jm_backend_error(b, "mmap", e, "mapping the controller view");
		struct shm_req rq = {.op = OP_RELEASE, .n = 1, .bases = {rep.v[0]}};
		struct shm_rep rr;
		call(b, m, &rq, &rr, NULL, 0, NULL);
		return 0;
	}
	if (res_add(m, rep.v[0], len, local) < 0) {
		jm_os_munmap(local, len);
		jm_backend_error(b, NULL, ENOMEM, "realloc");
		return 0;
	}
	return rep.v[0];
}

/* The end of the run of reservations from r on that follow each other in
 * the executor and, with their views, in the controller. */
static uint64_t run_end(const struct shm_mapper *m, const struct shm_res *r)
{
	while (r + 1 < m->res + m->nres && r[1].exec == r->exec + r->size &&
	       r[1].local == r->local + r->size)
		r++;
	return r->exec + r->size;
}

/* First fit in address order; in shared mode within one run of
 * reservations (run_end). */
static int first_fit(struct shm_mapper *m, uint64_t size, uint64_t *start)
{
	/* the free ranges long enough, in address order (O(log n) each) */
	struct jm_range fr;
	for (uint64_t at = 0; jm_freeset_fit_from(&m->free, at, size, &fr) == 0; at = fr.end) {
		uint64_t s = fr.start, e = fr.end;
		while (s < e) {
			uint64_t piece = e;
			if (m->mode == MODE_SHARED) {
				struct shm_res *r = res_find(m, s);
				if (r && run_end(m, r) < piece)
					piece = run_end(m, r);
			}
			if (piece - s >= size) {
				*start = s;
				return jm_freeset_remove(&m->free, s, s + size);
			}
			s = piece;
		}
	}
	return -1;
}

static int shm_allocate(struct jm_backend *b, const struct jm_graph_req *req,
			struct jm_alloc *out)
{
	struct shm_mapper *m = b->priv;
	const uint64_t ps = jm_page_size();
	uint64_t total, start;
	if (jm_mapper_graph_size(b, req, &total) < 0)
		return -1;
	pthread_mutex_lock(&m->lock);
	if (first_fit(m, total, &start) < 0) {
		uint64_t len = jm_align_up(total, m->granularity);
		start = reserve(b, m, len);
		if (!start) {
			pthread_mutex_unlock(&m->lock);
			return -1;
		}
		if (len > total) /* the rest of the reservation is available */
			jm_freeset_insert(&m->free, start + total, start + len);
	}
	/* copied under the lock: another thread's res_add may realloc or
	 * shift m->res (sorted insert) as soon as the lock is dropped */
	struct shm_res r = *res_find(m, start);
	m->live += total;
	pthread_mutex_unlock(&m->lock);

	jm_alloc_init(out, req);
	uint64_t next = start;
	for (uint32_t i = 0; i < out->nseg; i++) {
		out->seg[i].exec = (void *)(uintptr_t)next;
		out->seg[i].write = r.local + (next - r.exec); /* prepare */
		next += jm_align_up(out->seg[i].size, ps);
	}
	out->priv_u[P_START] = start;
	out->priv_u[P_SIZE] = total;
	out->priv_u[P_STATE] = ST_ALLOCATED;
	return 0;
}

static int shm_finalize(struct jm_backend *b, struct jm_alloc *a)
{
	struct shm_mapper *m = b->priv;
	uint64_t min = UINT64_MAX, max = 0;
	struct shm_req q = {.op = OP_INITIALIZE, .n = a->nseg, .a = a->priv_u[P_START]};
	for (uint32_t i = 0; i < a->nseg; i++) {
		struct jm_segment_alloc *s = &a->seg[i];
		uint64_t base = (uint64_t)(uintptr_t)s->exec;
		if (base < min)
			min = base;
		if (base + s->size > max)
			max = base + s->size;
		memset((char *)s->write + s->content, 0, s->size - s->content);
		if (m->mode == MODE_INPROCESS) {
			if (jm_os_mprotect(s->exec, s->size, jm_class_prot(s->cls)) < 0)
				return jm_backend_error(b, "mprotect", errno,
							"protecting segment %u", i);
			continue;
		}
		q.seg[i].addr = base;
		q.seg[i].size = s->size;
		q.seg[i].prot = jm_class_prot(s->cls);
	}
	if (m->mode == MODE_SHARED) {
		struct shm_rep rep;
		if (call(b, m, &q, &rep, NULL, 0, NULL) < 0)
			return -1;
		if (rep.err) {
			jm_backend_error(b, "executor mprotect", rep.err,
					 "protecting segment %llu in the executor (pid %d)",
					 (unsigned long long)rep.v[1], (int)m->pid);
			return in_executor(b, m, &rep);
		}
	}
	a->priv_u[P_STATE] = ST_FINALIZED;
	a->priv_u[P_SPAN] = max - min; /* InProcessMemoryMapper's Allocations[Min].Size */
	return 0;
}

static int shm_deallocate(struct jm_backend *b, struct jm_alloc *a)
{
	struct shm_mapper *m = b->priv;
	uint64_t start = a->priv_u[P_START], size = a->priv_u[P_SIZE];
	if (a->priv_u[P_STATE] == ST_FINALIZED) { /* Mapper::deinitialize */
		if (m->mode == MODE_INPROCESS) {
			if (jm_os_mprotect((void *)(uintptr_t)start, a->priv_u[P_SPAN],
					   PROT_READ | PROT_WRITE) < 0)
				return jm_backend_error(b, "mprotect", errno,
							"resetting protections");
		} else {
			struct shm_req q = {.op = OP_DEINITIALIZE, .a = start};
			struct shm_rep rep;
			if (call(b, m, &q, &rep, NULL, 0, NULL) < 0)
				return -1;
			if (rep.err)
				return jm_backend_error(b, NULL, rep.err,
							"executor deinitialize");
		}
	}
	pthread_mutex_lock(&m->lock);
	int rc = 0;
	/* abandon: LLVM 22's InFlightAlloc::abandon is
	 * Mapper->deinitialize({AllocAddr}) of an allocation the mapper never
	 * initialized (MapperJITLinkMemoryManager.cpp): no syscall in either
	 * mode (ExecutorSharedMemoryMapperService::deinitialize finds a zero
	 * size there), and the range never returns to the available set
	 * (measured against llvm-shm: tests/test_llvm_real.c) */
	if (a->priv_u[P_STATE] == ST_FINALIZED)
		rc = jm_freeset_insert(&m->free, start, start + size);
	m->live -= size;
	pthread_mutex_unlock(&m->lock);
	if (rc < 0)
		return jm_backend_error(b, NULL, EINVAL, "double free");
	return 0;
}

static void shm_stats(struct jm_backend *b, struct jm_backend_stats *out)
{
	struct shm_mapper *m = b->priv;
	pthread_mutex_lock(&m->lock);
	out->va_reserved = out->bytes_mapped = m->reserved;
	out->va_reserved_peak = out->bytes_mapped_peak = m->reserved_peak;
	out->bytes_live = m->live;
	out->reservations = m->nres;
	uint64_t ranges = m->free.n;
	pthread_mutex_unlock(&m->lock);
	int n = 0;
	out->extra[n].name = "free_ranges";
	out->extra[n++].value = ranges;
	if (m->mode == MODE_SHARED) {
		struct shm_req q = {.op = OP_STATS};
		struct shm_rep rep;
		char err[sizeof(b->err)];
		memcpy(err, b->err, sizeof(err)); /* stats must not clobber it */
		if (call(b, m, &q, &rep, NULL, 0, NULL) == 0) {
			static const struct {
				const char *name;
				int slot;
			} ev[] = {
				{"executor_vmas", SV_VMAS},
				{"executor_vmas_added", -1},
				{"executor_mmap_calls", SV_MMAP},
				{"executor_munmap_calls", SV_MUNMAP},
				{"executor_mprotect_calls", SV_MPROTECT},
				{"executor_memfd_create_calls", SV_MEMFD},
				{"executor_ftruncate_calls", SV_FTRUNCATE},
			};
			for (size_t i = 0; i < sizeof(ev) / sizeof(ev[0]); i++) {
				out->extra[n].name = ev[i].name;
				out->extra[n++].value = ev[i].slot < 0
					? rep.v[SV_VMAS] - rep.v[SV_VMAS_BASE]
					: rep.v[ev[i].slot];
			}
			out->vmas_other_processes = rep.v[SV_VMAS] - rep.v[SV_VMAS_BASE];
			out->vmas_other_process_now = rep.v[SV_VMAS];
		}
		memcpy(b->err, err, sizeof(err));
	}
	out->nextra = n;
}

static pid_t shm_exec_pid(struct jm_backend *b)
{
	struct shm_mapper *m = b->priv;
	return m->mode == MODE_SHARED ? m->pid : 0;
}

static int shm_read_exec(struct jm_backend *b, const void *exec, void *buf, size_t len)
{
	struct shm_mapper *m = b->priv;
	if (m->mode == MODE_INPROCESS) {
		memcpy(buf, exec, len);
		return 0;
	}
	for (size_t done = 0; done < len;) {
		size_t chunk = len - done < READ_CHUNK ? len - done : READ_CHUNK;
		struct shm_req q = {.op = OP_READ,
				    .a = (uint64_t)(uintptr_t)exec + done, .b = chunk};
		struct shm_rep rep;
		if (call(b, m, &q, &rep, (char *)buf + done, chunk, NULL) < 0)
			return -1;
		if (rep.err)
			return jm_backend_error(b, "process_vm_readv", rep.err,
				"reading %zu bytes at executor address %#llx", chunk,
				(unsigned long long)q.a);
		done += chunk;
	}
	return 0;
}

static int shm_execute(struct jm_backend *b, const void *exec, uint32_t *ret)
{
	struct shm_mapper *m = b->priv;
	if (m->mode == MODE_INPROCESS) {
		uint32_t (*fn)(void);
		memcpy(&fn, &exec, sizeof(fn));
		*ret = fn();
		return 0;
	}
	struct shm_req q = {.op = OP_EXECUTE, .a = (uint64_t)(uintptr_t)exec};
	struct shm_rep rep;
	if (call(b, m, &q, &rep, NULL, 0, NULL) < 0)
		return -1;
	if (rep.err)
		return jm_backend_error(b, NULL, rep.err,
			"calling %p in the executor: signal %d (%s)", exec, (int)rep.v[1],
			strsignal((int)rep.v[1]));
	*ret = (uint32_t)rep.v[0];
	return 0;
}

static void shm_destroy(struct jm_backend *b)
{
	struct shm_mapper *m = b->priv;
	if (!m)
		return;
	/* a failed munmap leaks a mapping: the first one is recorded on b */
	int failed = 0;
	for (size_t i = 0; i < m->nres; i++)
		if (jm_os_munmap(m->res[i].local, m->res[i].size) < 0 && !failed++)
			jm_backend_error(b, "munmap", errno, "releasing the %s at %p; its "
					 "mapping is leaked", m->mode == MODE_INPROCESS ?
					 "reservation" : "controller view", m->res[i].local);
	if (m->mode != MODE_INPROCESS) {
		/* SharedMemoryMapper::release: local views first, then the
		 * executor's reservations (in batches of MAX_RELEASE) */
		for (size_t i = 0; i < m->nres; i += MAX_RELEASE) {
			struct shm_req q = {.op = OP_RELEASE};
			for (size_t k = i; k < m->nres && k < i + MAX_RELEASE; k++)
				q.bases[q.n++] = m->res[k].exec;
			struct shm_rep rep;
			if (call(b, m, &q, &rep, NULL, 0, NULL) == 0 && rep.err && !failed++) {
				jm_backend_error(b, "executor munmap", rep.err,
						 "releasing the executor's reservations (pid %d)",
						 (int)m->pid);
				in_executor(b, m, &rep);
			}
		}
		if (m->pid > 0) {
			struct shm_req q = {.op = OP_EXIT};
			struct shm_rep rep = {0};
			int ok = call(b, m, &q, &rep, NULL, 0, NULL) == 0;
			close(m->sock);
			int status = 0;
			while (waitpid(m->pid, &status, 0) < 0 && errno == EINTR)
				;
			last_exit = (struct jm_shm_exit_report){
				.valid = ok,
				.pid = m->pid,
				.exit_status = status,
				.vmas_baseline = (long)rep.v[SV_VMAS_BASE],
				.vmas_at_exit = (long)rep.v[SV_VMAS],
				.munmap_calls = rep.v[SV_MUNMAP],
				.reservations_released = rep.v[SV_RELEASED],
			};
			if (ok && rep.v[SV_VMAS] != rep.v[SV_VMAS_BASE])
				fprintf(stderr, "shm-mapper: executor %d has %lld VMAs after "
					"release, %lld before its first reservation\n",
					(int)m->pid, (long long)rep.v[SV_VMAS],
					(long long)rep.v[SV_VMAS_BASE]);
		} else if (m->sock >= 0) {
			close(m->sock);
		}
	}
	jm_freeset_release(&m->free);
	free(m->res);
	pthread_mutex_destroy(&m->lock);
	pthread_mutex_destroy(&m->chan);
	free(m);
}

const struct jm_backend_ops jm_backend_shm_mapper = {
	.name = "shm-mapper",
	.description = "LLVM MapperJITLinkMemoryManager + SharedMemoryMapper: an "
		       "executor process maps shared memory PROT_NONE and mprotects "
		       "segments; the controller writes through an RW view",
	.models = "llvm/lib/ExecutionEngine/Orc/MemoryMapper.cpp (SharedMemoryMapper, "
		  "InProcessMemoryMapper), Orc/TargetProcess/"
		  "ExecutorSharedMemoryMapperService.cpp, MapperJITLinkMemoryManager.cpp",
	.caps = JM_CAP_FREES | JM_CAP_DUAL_MAPPED | JM_CAP_OUT_OF_PROCESS |
		JM_CAP_THREAD_SAFE,
	.options = (const struct jm_option_def[]){
		{"granularity", JM_OPT_SIZE, "1G", NULL,
		 "reservation unit (llvm-jitlink's shared-memory slab: 1G)",
		 4096, 1ull << 40},
		{"mode", JM_OPT_ENUM, "shared", "shared|inprocess-mapper",
		 "shared: executor process + shared memory; inprocess-mapper: "
		 "LLVM InProcessMemoryMapper at the same granularity", 0, 0},
		{0},
	},
	.create = shm_create,
	.allocate = shm_allocate,
	.finalize = shm_finalize,
	.deallocate = shm_deallocate,
	.trim = jm_backend_trim_none, /* reservations live until release */
	.stats = shm_stats,
	.destroy = shm_destroy,
	.exec_pid = shm_exec_pid,
	.read_exec = shm_read_exec,
	.execute = shm_execute,
	.prepare = shm_prepare,
};
