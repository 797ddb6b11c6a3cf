/* Pieces of a run's JSON that both the measured child (measure.c) and the
 * parent-side runner (runner.c) build. */
#ifndef JITMM_RUN_JSON_H
#define JITMM_RUN_JSON_H

#include <json-c/json.h>

#include "../allocators/os.h"

/* The per-syscall counts object (metrics.syscalls, and the probe's
 * syscalls / syscalls_whole_process / syscalls_measured_process):
 *   {"<syscall>": {"calls", "errors", "bytes", "errnos": {"<ENAME>": n}}}
 * of c[0..n) in order, c[s] named name(s). The os layer's counters and a
 * kernel probe's share struct jm_sys_count. */
json_object *jm_syscalls_json(const struct jm_sys_count *c, int n,
			      const char *(*name)(int s));

/* A run that failed before it measured anything:
 *   {"status": "failed", "error": {"op": op, "message": msg}} */
json_object *jm_failed_run_json(const char *op, const char *msg);

#endif
