/* What run, sweep and justify do around each run of their matrix of
 * (workload, backend or option value, repetition) cells: pick the probe
 * once, then run each cell under the progress line and report a failed
 * one on stderr. */
#ifndef JITMM_RUN_CELL_H
#define JITMM_RUN_CELL_H

#include <stddef.h>
#include <stdint.h>

#include "runner.h"

/* jm_probe_select for --probe NAME of subcommand cmd: a bad name is a
 * usage error ("CMD: --probe: ...", returns JM_EXIT_USAGE); a fallback is
 * noted on stderr unless quiet, its reason left in why_not. 0 if open. */
int jm_cell_probe(const char *cmd, const char *name, int quiet,
		  struct jm_probe *probe, char *why_not, size_t why_len);

/* Run spec as cell idx of total (progress shows label, spec->workload and
 * its graphs). A run whose status is not "ok" sets *any_failed and, unless
 * quiet, prints "jitmm: LABEL on WORKLOAD: STATUS: MESSAGE". Returns the
 * run's JSON (the caller owns it). */
json_object *jm_cell_run(const struct jm_run_spec *spec, struct jm_probe *probe,
			 unsigned idx, unsigned total, const char *label,
			 uint64_t graphs, int quiet, int *any_failed);

#endif
