/* Extras of the ebpf probe beyond the generic ops (probes/probe.h). */
#ifndef JITMM_EBPF_H
#define JITMM_EBPF_H

#include <sys/types.h>

#include "ebpf_events.h"
#include "probe.h"

/* Count another process with the current run, in its own slot (the run's
 * syscalls and faults then include it; vmas_* stay the measured child's).
 * Processes the measured child forks are tracked without this (the BPF
 * program follows sched_process_fork), which covers an executor that the
 * backend starts with fork/posix_spawn; this is for one started by other
 * means, e.g. by the runner before attach. Call between attach and read.
 * 0 on success, -1 if p is not an open ebpf probe or the slots are full. */
int jm_ebpf_track_extra(struct jm_probe *p, pid_t tgid);

/* Open the event-stream file (written atomically: it appears, complete,
 * when the probe is closed) and record every run attached from now on.
 * Setting p->events_path before the first attach does the same, but this
 * reports an unwritable path before any run starts. */
int jm_ebpf_events_open(struct jm_probe *p, const char *path, char *err, size_t len);

/* Receive the event stream in a callback instead of a file (e.g. for a
 * recorder): fn runs on the probe's consumer thread, once per record, for
 * every run attached after this call; a negative return stops the current
 * drain. Set before attach. */
typedef int (*jm_ebpf_event_fn)(void *ctx, const struct jm_ebpf_event *ev);
int jm_ebpf_set_event_handler(struct jm_probe *p, jm_ebpf_event_fn fn, void *ctx);

#endif
