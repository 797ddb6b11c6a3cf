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

/* The matrix: for each workload, each backend spec, each repetition, the
 * cells of shard shard_i/shard_n (0/0: all), run from base (its backend,
 * workload and repetition replaced), after warmup runs of each (workload,
 * backend) whose results are dropped (as hyperfine's --warmup: the first
 * run of a cell pays for cold page cache, a plugin's first load, a CPU
 * clocking up); the runs kept are
 * each tagged with matrix_index and,
 * when tags is not NULL, "tag_key": tags[b]; added to root. A leaked
 * mapping is noted on stderr unless quiet. Stops early on SIGINT/SIGTERM.
 * Returns 1 if a run was not ok, else 0. With input_error_stops (the
 * command's name), a run that fails reading its trace (error op
 * "workload": a malformed line) is an input error: the matrix stops there,
 * says so on stderr and returns JM_EXIT_USAGE (traces are read by the runs
 * only, never first by the parent). */
struct jm_matrix {
	const struct jm_run_spec *base;
	const struct jm_backend_spec *backends;
	const char *const *labels; /* progress label per backend spec */
	const char *tag_key;
	const char *const *tags;
	int nbackends;
	const char (*workloads)[320];
	const uint64_t *graphs; /* per workload, for progress */
	int nworkloads;
	uint64_t repeat;
	unsigned warmup;
	unsigned shard_i, shard_n;
	int quiet;
	const char *input_error_stops;
};
int jm_matrix_run(const struct jm_matrix *mx, struct jm_probe *probe, json_object *root);

#endif
