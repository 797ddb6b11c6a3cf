/* Probes observe a measured child process from outside the backend's own
 * bookkeeping. One ops struct; each probe is one file, listed once in
 * probes/registry.c.
 *
 * Protocol (driven by the runner, in the parent process):
 *   open()                  once per harness process (load programs)
 *   attach(tgid)            the child is stopped at its "ready" point
 *   window_begin()/end()    the child is stopped at the window's edges
 *   read(result)            after the window; fills what the probe knows
 *   detach(); close()
 * The procfs probe's numbers are taken inside the child itself (see
 * procfs_sample.h), so its parent-side hooks do nothing. */
#ifndef JITMM_PROBE_H
#define JITMM_PROBE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* struct jm_sys_count: a kernel-side probe counts a syscall as the os
 * layer does (calls, errors by errno, bytes) */
#include "../common/syscalls.h"

/* enum jm_probe_sys (the syscalls a kernel-side probe counts): common/syscalls.h */

struct jm_probe_result {
	int have_syscalls;
	struct jm_sys_count window[JM_PROBE_NSYS]; /* measured window */
	struct jm_sys_count total[JM_PROBE_NSYS];  /* whole process */
	int have_vmas;
	uint64_t vmas_after, vmas_peak; /* mm->map_count */
	int have_faults;
	uint64_t faults, faults_minor, faults_major, faults_total;
	int have_fault_split;  /* faults_minor/faults_major are set */
	/* window faults by the access that faulted: read, write, exec */
	int have_fault_access;
	uint64_t faults_by_access[3];
	/* window faults by protection of the faulting VMA: rx, ro, rw, other
	 * (ebpf with JM_PROBE_FAULT_CLASSES: costs ~5 us per fault) */
	int have_fault_classes;
	uint64_t faults_by_class[4];
	int have_events;
	uint64_t events_recorded, events_dropped;
	/* the measured process, and how many processes were tracked in all
	 * (more than 1 when it forked, e.g. shm-mapper's executor: window[]
	 * and faults then cover them all, window_main[] the measured one) */
	pid_t tgid;
	unsigned nprocs;
	struct jm_sys_count window_main[JM_PROBE_NSYS];
};

struct jm_probe;

struct jm_probe_ops {
	const char *name;
	const char *description;
	/* 0 if it can run here; else -1 and a one-line reason */
	int (*available)(char *why, size_t len);
	int (*open)(struct jm_probe *p);
	int (*attach)(struct jm_probe *p, pid_t tgid);
	int (*window_begin)(struct jm_probe *p);
	int (*window_end)(struct jm_probe *p);
	int (*read)(struct jm_probe *p, struct jm_probe_result *out);
	void (*detach)(struct jm_probe *p);
	void (*close)(struct jm_probe *p);
};

struct jm_probe {
	const struct jm_probe_ops *ops;
	void *priv;
	char err[256];
	/* set by the runner: where to save the event stream, or NULL */
	const char *events_path;
	unsigned flags; /* JM_PROBE_*, set after select, before attach */
};

/* classify page faults by the protection of the faulting VMA (slow) */
#define JM_PROBE_FAULT_CLASSES 1u

extern const struct jm_probe_ops *const jm_probes[];
const struct jm_probe_ops *jm_probe_find(const char *name);

/* Open the probe named (or "auto": the first that is available and opens,
 * in registry order, falling back to procfs). why_not receives the reason
 * the preferred probe did not run (empty if it did). */
int jm_probe_select(const char *name, struct jm_probe *p, char *why_not,
		    size_t len, char *err, size_t errlen);

#endif
