/* ebpf: the kernel-side probe. Loads probes/jitmm.bpf.c (CO-RE, skeleton
 * generated at build time by mk/bpf.mk), tracks the measured child's tgid
 * (and the processes it forks, e.g. shm-mapper's executor), and snapshots
 * the per-process counters at the window's edges while the child is
 * blocked, so the window's numbers are exact.
 *
 * The per-process counters live in an mmap-able BPF array that this file
 * reads directly (no syscall per snapshot). Minor/major faults come from
 * software perf counters opened on the child. With probe->events_path set,
 * a thread drains the ring buffer of per-syscall records into that file
 * (format: docs/events-format.md).
 *
 * Another process can be counted with the run (an executor started some
 * other way than by fork from the child): jm_ebpf_track_extra(). */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/perf_event.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../common/atomic_write.h"
#include "ebpf.h"
#include "ebpf_events.h"
#include "jitmm.skel.h"
#include "probe.h"
#include "procfs_sample.h"

/* 16 MiB: 233,016 records of 72 bytes in flight; 1,000,000 records at
 * full mprotect speed arrive with no drop (tests/test_ebpf.c) */
#define DEFAULT_RINGBUF_BYTES (16u << 20)

struct ebpf_priv {
	struct jitmm_bpf *skel;
	struct jm_ebpf_proc *procs; /* the mmap-ed "procs" array */
	size_t procs_len;
	pid_t tgid;
	int attached, began, ended;
	struct jm_ebpf_proc *snap0, *snap1; /* at window begin / end */
	int perf_fd[2];                     /* minor, major */
	uint64_t perf0[2], perf1[2];
	/* event stream */
	struct ring_buffer *rb;
	pthread_t thread;
	int thread_running, events_started;
	volatile int stop;
	struct jm_atomic_file af;
	int file_open;
	unsigned run_index;
	uint64_t recorded; /* records written for the current run */
	jm_ebpf_event_fn handler; /* instead of the file, if set */
	void *handler_ctx;
};

/* libbpf's messages: the last warning is kept as the reason for a failure */
static char libbpf_last[160];

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	char buf[256];
	vsnprintf(buf, sizeof(buf), fmt, ap);
	size_t n = strlen(buf);
	while (n && buf[n - 1] == '\n')
		buf[--n] = 0;
	if (n)
		snprintf(libbpf_last, sizeof(libbpf_last), "%.150s", buf);
	if (getenv("JITMM_LIBBPF_VERBOSE"))
		fprintf(stderr, "libbpf: %s\n", buf);
	return 0;
}

/* Effective capabilities of this process, from /proc/self/status. */
static uint64_t cap_effective(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	if (!f)
		return 0;
	char line[256];
	unsigned long long caps = 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %llx", &caps) == 1)
			break;
	fclose(f);
	return caps;
}

static int ebpf_available(char *why, size_t len)
{
	if (access("/sys/kernel/btf/vmlinux", R_OK) != 0) {
		snprintf(why, len, "kernel has no BTF (/sys/kernel/btf/vmlinux: %s)",
			 strerror(errno));
		return -1;
	}
	uint64_t caps = cap_effective();
	const int CAP_SYS_ADMIN_ = 21, CAP_PERFMON_ = 38, CAP_BPF_ = 39;
	int admin = (caps >> CAP_SYS_ADMIN_) & 1;
	int bpf_perfmon = ((caps >> CAP_BPF_) & 1) && ((caps >> CAP_PERFMON_) & 1);
	if (!admin && !bpf_perfmon) {
		snprintf(why, len, "%s: loading tracing BPF programs needs CAP_BPF and "
			 "CAP_PERFMON (or CAP_SYS_ADMIN)",
			 geteuid() ? "not root" : "capabilities dropped");
		return -1;
	}
	return 0;
}

static void dontfork(void *addr, size_t len)
{
	/* the child must not inherit the probe's mappings: they would be
	 * VMAs of the measured process */
	if (addr) {
		long pg = sysconf(_SC_PAGESIZE);
		uintptr_t a = (uintptr_t)addr & ~((uintptr_t)pg - 1);
		madvise((void *)a, len + ((uintptr_t)addr - a), MADV_DONTFORK);
	}
}

static int ebpf_open(struct jm_probe *p)
{
	libbpf_set_print(libbpf_print);
	libbpf_last[0] = 0;
	struct ebpf_priv *e = calloc(1, sizeof(*e));
	if (!e) {
		snprintf(p->err, sizeof(p->err), "out of memory");
		return -1;
	}
	e->perf_fd[0] = e->perf_fd[1] = -1;
	e->snap0 = calloc(JM_EBPF_MAX_PROCS, sizeof(struct jm_ebpf_proc));
	e->snap1 = calloc(JM_EBPF_MAX_PROCS, sizeof(struct jm_ebpf_proc));
	e->skel = jitmm_bpf__open();
	if (!e->snap0 || !e->snap1 || !e->skel) {
		snprintf(p->err, sizeof(p->err), "cannot open BPF object: %.160s",
			 libbpf_last[0] ? libbpf_last : strerror(errno));
		goto fail;
	}
	const char *rbs = getenv("JITMM_RINGBUF_BYTES");
	unsigned long rbytes = rbs ? strtoul(rbs, NULL, 0) : DEFAULT_RINGBUF_BYTES;
	if (bpf_map__set_max_entries(e->skel->maps.events, (uint32_t)rbytes) < 0) {
		snprintf(p->err, sizeof(p->err), "JITMM_RINGBUF_BYTES=%s: not a power of "
			 "two multiple of the page size", rbs ? rbs : "");
		goto fail;
	}
	/* wake the consumer at a quarter full at most (256 KiB by default) */
	e->skel->rodata->wakeup_bytes = rbytes / 4 < (256u << 10) ? rbytes / 4 : (256u << 10);
	int err = jitmm_bpf__load(e->skel);
	if (err) {
		snprintf(p->err, sizeof(p->err), "BPF load failed: %.40s%s%.160s", strerror(-err),
			 libbpf_last[0] ? ": " : "", libbpf_last);
		goto fail;
	}
	err = jitmm_bpf__attach(e->skel);
	if (err) {
		snprintf(p->err, sizeof(p->err), "BPF attach failed: %.40s%s%.160s", strerror(-err),
			 libbpf_last[0] ? ": " : "", libbpf_last);
		goto fail;
	}
	const struct bpf_map *pm = e->skel->maps.procs;
	size_t vsz = (bpf_map__value_size(pm) + 7) & ~(size_t)7;
	long pg = sysconf(_SC_PAGESIZE);
	e->procs_len = (vsz * bpf_map__max_entries(pm) + (size_t)pg - 1) & ~((size_t)pg - 1);
	void *m = mmap(NULL, e->procs_len, PROT_READ | PROT_WRITE, MAP_SHARED,
		       bpf_map__fd(pm), 0);
	if (m == MAP_FAILED) {
		snprintf(p->err, sizeof(p->err), "mmap of the BPF counters: %s", strerror(errno));
		goto fail;
	}
	e->procs = m;
	dontfork(m, e->procs_len);
	dontfork(e->skel->bss, sizeof(*e->skel->bss));
	dontfork((void *)e->skel->rodata, sizeof(*e->skel->rodata));
	p->priv = e;
	return 0;
fail:
	if (e->skel)
		jitmm_bpf__destroy(e->skel);
	free(e->snap0);
	free(e->snap1);
	free(e);
	return -1;
}

/* ---- event stream ---- */

static int on_event(void *ctx, void *data, size_t size)
{
	struct ebpf_priv *e = ctx;
	if (size < sizeof(struct jm_ebpf_event))
		return 0;
	const struct jm_ebpf_event *r = data;
	if (e->handler) {
		e->recorded++;
		return e->handler(e->handler_ctx, r) < 0 ? -1 : 0;
	}
	if (!e->file_open)
		return 0;
	fprintf(e->af.f, "%llu %u %u %s 0x%llx %llu 0x%llx 0x%llx %lld %u %u\n",
		(unsigned long long)r->t_ns, r->tgid, r->tid,
		jm_probe_sys_name((enum jm_probe_sys)r->sys),
		(unsigned long long)r->addr, (unsigned long long)r->len,
		(unsigned long long)r->prot, (unsigned long long)r->flags,
		(long long)r->ret, r->map_count, r->flags_hi & JM_EBPF_EV_IN_WINDOW);
	e->recorded++;
	return 0;
}

static void *consumer(void *arg)
{
	struct ebpf_priv *e = arg;
	while (!e->stop) {
		int n = ring_buffer__poll(e->rb, 10);
		if (n < 0 && n != -EINTR)
			break;
	}
	return NULL;
}

int jm_ebpf_events_open(struct jm_probe *p, const char *path, char *err, size_t len)
{
	if (!p || !p->ops || strcmp(p->ops->name, "ebpf") || !p->priv) {
		snprintf(err, len, "the event stream needs the ebpf probe");
		return -1;
	}
	struct ebpf_priv *e = p->priv;
	if (e->file_open)
		return 0;
	char aerr[300];
	if (jm_atomic_open(&e->af, path, aerr, sizeof(aerr)) < 0) {
		snprintf(err, len, "%s", aerr);
		return -1;
	}
	static char buf[1 << 20];
	setvbuf(e->af.f, buf, _IOFBF, sizeof(buf));
	fprintf(e->af.f, "# jitmm events 1\n"
		"# t_ns tgid tid syscall addr len prot flags ret map_count in_window\n");
	e->file_open = 1;
	p->events_path = path;
	return 0;
}

int jm_ebpf_set_event_handler(struct jm_probe *p, jm_ebpf_event_fn fn, void *ctx)
{
	if (!p || !p->ops || strcmp(p->ops->name, "ebpf") || !p->priv)
		return -1;
	struct ebpf_priv *e = p->priv;
	e->handler = fn;
	e->handler_ctx = ctx;
	return 0;
}

static int events_start(struct jm_probe *p, struct ebpf_priv *e)
{
	if (!e->file_open && !e->handler) {
		char err[300];
		if (jm_ebpf_events_open(p, p->events_path, err, sizeof(err)) < 0) {
			snprintf(p->err, sizeof(p->err), "--events: %.240s", err);
			return -1;
		}
	}
	if (!e->rb) {
		e->rb = ring_buffer__new(bpf_map__fd(e->skel->maps.events), on_event, e, NULL);
		if (!e->rb) {
			snprintf(p->err, sizeof(p->err), "ring buffer: %s", strerror(errno));
			return -1;
		}
	}
	if (e->file_open)
		fprintf(e->af.f, "run %u tgid %d\n", e->run_index, (int)e->tgid);
	e->recorded = 0;
	e->stop = 0;
	/* JITMM_EVENTS_DEFER=1: no consumer during the run, the buffer is read
	 * at its end only; with a small JITMM_RINGBUF_BYTES this overflows on
	 * purpose, which is how the tests check that drops are counted */
	const char *defer = getenv("JITMM_EVENTS_DEFER");
	if (!(defer && *defer == '1')) {
		if (pthread_create(&e->thread, NULL, consumer, e) != 0) {
			snprintf(p->err, sizeof(p->err), "cannot start the event thread");
			return -1;
		}
		e->thread_running = 1;
	}
	e->events_started = 1;
	e->skel->bss->ctl.events_on = 1;
	return 0;
}

/* Stop the consumer and take whatever is left in the buffer. The tracked
 * processes have exited or are stopped, so nothing more arrives. */
static void events_stop(struct ebpf_priv *e)
{
	e->skel->bss->ctl.events_on = 0;
	if (!e->events_started)
		return;
	e->events_started = 0;
	if (e->thread_running) {
		e->stop = 1;
		pthread_join(e->thread, NULL);
		e->thread_running = 0;
	}
	ring_buffer__consume(e->rb);
	uint64_t dropped = 0;
	for (unsigned i = 0; i < JM_EBPF_MAX_PROCS; i++)
		dropped += e->procs[i].events_dropped;
	if (e->file_open)
		fprintf(e->af.f, "end %u recorded %llu dropped %llu\n", e->run_index,
			(unsigned long long)e->recorded, (unsigned long long)dropped);
	if (dropped)
		fprintf(stderr, "jitmm: events: run %u: %llu records dropped (ring buffer "
			"full; JITMM_RINGBUF_BYTES raises its size)\n", e->run_index,
			(unsigned long long)dropped);
	e->run_index++;
}

/* ---- runs ---- */

static int perf_open(pid_t pid, uint64_t config)
{
	struct perf_event_attr a;
	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	a.type = PERF_TYPE_SOFTWARE;
	a.config = config;
	a.exclude_kernel = 1;
	a.exclude_hv = 1;
	return (int)syscall(SYS_perf_event_open, &a, pid, -1, -1, PERF_FLAG_FD_CLOEXEC);
}

static uint64_t perf_read(int fd)
{
	uint64_t v = 0;
	if (fd < 0 || read(fd, &v, sizeof(v)) != sizeof(v))
		return 0;
	return v;
}

static void untrack_all(struct ebpf_priv *e)
{
	int fd = bpf_map__fd(e->skel->maps.tracked);
	uint32_t key, next;
	/* deleting while iterating restarts from the beginning each time */
	while (bpf_map_get_next_key(fd, NULL, &next) == 0) {
		key = next;
		bpf_map_delete_elem(fd, &key);
	}
}

static int ebpf_attach(struct jm_probe *p, pid_t tgid)
{
	struct ebpf_priv *e = p->priv;
	struct jm_ebpf_ctl *ctl = &e->skel->bss->ctl;
	ctl->follow_forks = 0;
	untrack_all(e);
	memset(e->procs, 0, e->procs_len);
	e->tgid = tgid;
	e->began = e->ended = 0;
	/* the child is blocked at its ready point: its VMA count is stable */
	long v = jm_vma_count(tgid);
	e->procs[0].tgid = (uint32_t)tgid;
	e->procs[0].map_count = e->procs[0].map_peak = v < 0 ? 0 : (uint64_t)v;
	__atomic_store_n(&ctl->nprocs, 1, __ATOMIC_SEQ_CST);
	uint32_t key = (uint32_t)tgid, slot = 0;
	if (bpf_map_update_elem(bpf_map__fd(e->skel->maps.tracked), &key, &slot, BPF_ANY) < 0) {
		snprintf(p->err, sizeof(p->err), "cannot track pid %d: %s", (int)tgid,
			 strerror(errno));
		return -1;
	}
	ctl->follow_forks = 1;
	for (int i = 0; i < 2; i++) /* left by an attach that failed */
		if (e->perf_fd[i] >= 0)
			close(e->perf_fd[i]);
	ctl->fault_classes = (p->flags & JM_PROBE_FAULT_CLASSES) != 0;
	e->perf_fd[0] = perf_open(tgid, PERF_COUNT_SW_PAGE_FAULTS_MIN);
	e->perf_fd[1] = perf_open(tgid, PERF_COUNT_SW_PAGE_FAULTS_MAJ);
	e->attached = 1;
	if ((p->events_path || e->handler) && events_start(p, e) < 0)
		return -1;
	return 0;
}

int jm_ebpf_track_extra(struct jm_probe *p, pid_t tgid)
{
	if (!p || !p->ops || strcmp(p->ops->name, "ebpf") || !p->priv)
		return -1;
	struct ebpf_priv *e = p->priv;
	uint32_t slot = __atomic_fetch_add(&e->skel->bss->ctl.nprocs, 1, __ATOMIC_SEQ_CST);
	if (slot >= JM_EBPF_MAX_PROCS)
		return -1;
	long v = jm_vma_count(tgid);
	e->procs[slot].tgid = (uint32_t)tgid;
	e->procs[slot].map_count = e->procs[slot].map_peak = v < 0 ? 0 : (uint64_t)v;
	uint32_t key = (uint32_t)tgid;
	return bpf_map_update_elem(bpf_map__fd(e->skel->maps.tracked), &key, &slot, BPF_ANY);
}

static unsigned nprocs(struct ebpf_priv *e)
{
	unsigned n = __atomic_load_n(&e->skel->bss->ctl.nprocs, __ATOMIC_SEQ_CST);
	return n > JM_EBPF_MAX_PROCS ? JM_EBPF_MAX_PROCS : n;
}

static void snapshot(struct ebpf_priv *e, struct jm_ebpf_proc *dst)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	memcpy(dst, e->procs, JM_EBPF_MAX_PROCS * sizeof(*dst));
}

static int ebpf_window_begin(struct jm_probe *p)
{
	struct ebpf_priv *e = p->priv;
	/* the window's peak starts from the current count */
	for (unsigned i = 0; i < nprocs(e); i++) {
		e->procs[i].map_peak = e->procs[i].map_count;
		e->procs[i].in_window = 1;
	}
	snapshot(e, e->snap0);
	e->perf0[0] = perf_read(e->perf_fd[0]);
	e->perf0[1] = perf_read(e->perf_fd[1]);
	e->began = 1;
	return 0;
}

static int ebpf_window_end(struct jm_probe *p)
{
	struct ebpf_priv *e = p->priv;
	snapshot(e, e->snap1);
	e->perf1[0] = perf_read(e->perf_fd[0]);
	e->perf1[1] = perf_read(e->perf_fd[1]);
	for (unsigned i = 0; i < nprocs(e); i++)
		e->procs[i].in_window = 0;
	e->ended = 1;
	return 0;
}

/* Fold the kernel's per-errno buckets into the result's short table. */
static void fill_count(struct jm_sys_count *out, const struct jm_ebpf_sys *b,
		       const struct jm_ebpf_sys *a)
{
	out->calls += b->calls - (a ? a->calls : 0);
	out->errors += b->errors - (a ? a->errors : 0);
	out->bytes += b->bytes - (a ? a->bytes : 0);
	for (int err = 1; err < JM_EBPF_NERRNO; err++) {
		uint64_t n = b->by_errno[err] - (a ? a->by_errno[err] : 0);
		if (!n)
			continue;
		for (int i = 0; i < JM_OS_MAX_ERRNOS; i++) {
			if (out->by_errno[i].err == err || !out->by_errno[i].err) {
				out->by_errno[i].err = err;
				out->by_errno[i].count += n;
				break;
			}
		}
	}
}

static int ebpf_read(struct jm_probe *p, struct jm_probe_result *out)
{
	struct ebpf_priv *e = p->priv;
	memset(out, 0, sizeof(*out));
	events_stop(e);
	if (!e->began || !e->ended) {
		snprintf(p->err, sizeof(p->err), "the run ended before its window");
		return -1;
	}
	unsigned n = nprocs(e);
	out->tgid = e->tgid;
	out->nprocs = n;
	out->have_syscalls = 1;
	for (unsigned i = 0; i < n; i++) {
		const struct jm_ebpf_proc *a = &e->snap0[i], *b = &e->snap1[i];
		const struct jm_ebpf_proc *t = &e->procs[i];
		/* a process forked inside the window has no begin snapshot:
		 * its slot was zero then, which is right */
		for (int s = 0; s < JM_PROBE_NSYS; s++) {
			fill_count(&out->window[s], &b->sys[s], &a->sys[s]);
			fill_count(&out->total[s], &t->sys[s], NULL);
			if (i == 0)
				fill_count(&out->window_main[s], &b->sys[s], &a->sys[s]);
		}
		out->faults += b->faults - a->faults;
		out->faults_total += t->faults;
		for (int c = 0; c < JM_FAULT_NCLASS; c++)
			out->faults_by_class[c] += b->faults_by_class[c] - a->faults_by_class[c];
		for (int c = 0; c < JM_ACCESS_N; c++)
			out->faults_by_access[c] += b->faults_by_access[c] - a->faults_by_access[c];
		out->events_dropped += t->events_dropped;
	}
	out->have_vmas = 1;
	out->vmas_after = e->snap1[0].map_count;
	out->vmas_peak = e->snap1[0].map_peak;
	out->have_faults = 1;
	out->have_fault_access = 1;
	out->have_fault_classes = e->skel->bss->ctl.fault_classes != 0;
	if (e->perf_fd[0] >= 0 && e->perf_fd[1] >= 0) {
		out->have_fault_split = 1;
		out->faults_minor = e->perf1[0] - e->perf0[0];
		out->faults_major = e->perf1[1] - e->perf0[1];
	}
	if (e->file_open || e->handler) {
		out->have_events = 1;
		out->events_recorded = e->recorded;
	}
	return 0;
}

static void ebpf_detach(struct jm_probe *p)
{
	struct ebpf_priv *e = p->priv;
	events_stop(e);
	e->skel->bss->ctl.follow_forks = 0;
	untrack_all(e);
	__atomic_store_n(&e->skel->bss->ctl.nprocs, 0, __ATOMIC_SEQ_CST);
	for (int i = 0; i < 2; i++) {
		if (e->perf_fd[i] >= 0)
			close(e->perf_fd[i]);
		e->perf_fd[i] = -1;
	}
	e->attached = 0;
}

static void ebpf_close(struct jm_probe *p)
{
	struct ebpf_priv *e = p->priv;
	if (!e)
		return;
	if (e->attached)
		ebpf_detach(p);
	if (e->file_open) {
		char err[300];
		if (jm_atomic_commit(&e->af, err, sizeof(err)) < 0)
			fprintf(stderr, "jitmm: --events: %s\n", err);
		e->file_open = 0;
	}
	if (e->rb)
		ring_buffer__free(e->rb);
	if (e->procs)
		munmap(e->procs, e->procs_len);
	jitmm_bpf__destroy(e->skel);
	free(e->snap0);
	free(e->snap1);
	free(e);
	p->priv = NULL;
}

const struct jm_probe_ops jm_probe_ebpf = {
	.name = "ebpf",
	.description = "kernel-side counts of the child's memory syscalls, VMAs "
		       "(mm->map_count, exact peak) and page faults via tp_btf "
		       "programs (libbpf CO-RE); needs CAP_BPF+CAP_PERFMON",
	.available = ebpf_available,
	.open = ebpf_open,
	.attach = ebpf_attach,
	.window_begin = ebpf_window_begin,
	.window_end = ebpf_window_end,
	.read = ebpf_read,
	.detach = ebpf_detach,
	.close = ebpf_close,
};
