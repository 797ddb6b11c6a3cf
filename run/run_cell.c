/* Around each run of a command's matrix: see run_cell.h. */
#include "run_cell.h"

#include <stdio.h>
#include <string.h>

#include "../reports/diagnostics.h"
#include "../reports/merge.h"
#include "../reports/results.h"
#include "../common/exit_codes.h"
#include "progress.h"

int jm_cell_probe(const char *cmd, const char *name, int quiet,
		  struct jm_probe *probe, char *why_not, size_t why_len)
{
	char perr[300];
	if (jm_probe_select(name, probe, why_not, why_len, perr, sizeof(perr)) < 0)
		return jm_usage_error("%s: --probe: %s", cmd, perr);
	if (why_not[0] && !quiet)
		fprintf(stderr, "jitmm: probe %s (%s)\n", probe->ops->name, why_not);
	return 0;
}

json_object *jm_cell_run(const struct jm_run_spec *spec, struct jm_probe *probe,
			 unsigned idx, unsigned total, const char *label,
			 uint64_t graphs, int quiet, int *any_failed)
{
	progress_run_start(idx, total, label, spec->workload, graphs);
	json_object *run = jm_run_one(spec, probe);
	progress_run_end();
	const char *st = jm_json_str(run, "status", "failed");
	if (strcmp(st, "ok")) {
		*any_failed = 1;
		if (!quiet) {
			/* why, as the report says it: the syscall, the graph,
			 * the VMA count against vm.max_map_count */
			char why[1024];
			jm_failure_why(run, why, sizeof(why));
			fprintf(stderr, "jitmm: %s on %s: %s: %s", label, spec->workload, st, why);
			if (jm_json_path(run, "error.syscall"))
				fprintf(stderr, " (%s)", jm_json_str(run, "error.message", "?"));
			fputc('\n', stderr);
		}
	}
	return run;
}

int jm_matrix_run(const struct jm_matrix *mx, struct jm_probe *probe, json_object *root)
{
	unsigned long cells = (unsigned long)mx->nbackends * (unsigned long)mx->nworkloads *
			      mx->repeat, cell = 0;
	unsigned total = jm_shard_count(cells, mx->shard_i, mx->shard_n), idx = 0;
	/* a (workload, backend) is warmed up where this shard runs one of
	 * its repetitions */
	for (unsigned long wb = 0; mx->warmup && wb < cells / (mx->repeat ? mx->repeat : 1); wb++) {
		int here = 0;
		for (uint64_t r = 0; r < mx->repeat && !here; r++)
			here = jm_shard_has(wb * mx->repeat + r, mx->shard_i, mx->shard_n);
		total += here ? mx->warmup : 0;
	}
	int any_failed = 0;
	for (int w = 0; w < mx->nworkloads && !progress_interrupted(); w++)
		for (int b = 0; b < mx->nbackends && !progress_interrupted(); b++) {
			int warmed = 0;
			for (uint64_t r = 0; r < mx->repeat && !progress_interrupted(); r++) {
				unsigned long k = cell++;
				if (!jm_shard_has(k, mx->shard_i, mx->shard_n))
					continue;
				struct jm_run_spec spec = *mx->base;
				spec.backend = mx->backends[b];
				snprintf(spec.workload, sizeof(spec.workload), "%.319s",
					 mx->workloads[w]);
				/* dropped, and so is its status: the runs kept say it */
				for (unsigned u = 0; !warmed && u < mx->warmup && !progress_interrupted(); u++) {
					int ignored = 0;
					char label[200];
					snprintf(label, sizeof(label), "%.180s (warm-up)", mx->labels[b]);
					json_object_put(jm_cell_run(&spec, probe, ++idx, total, label,
								    mx->graphs[w], 1, &ignored));
				}
				warmed = 1;
				if (progress_interrupted())
					break;
				spec.repetition = (unsigned)r;
				json_object *run = jm_cell_run(&spec, probe, ++idx, total,
							       mx->labels[b], mx->graphs[w],
							       mx->quiet, &any_failed);
				if (mx->input_error_stops &&
				    !strcmp(jm_json_str(run, "error.op", ""), "input")) {
					jm_usage_error("%s: --workload: %s", mx->input_error_stops,
						       jm_json_str(run, "error.message", "?"));
					json_object_put(run);
					return JM_EXIT_USAGE;
				}
				/* the cell's place in the matrix, so merge restores run order */
				json_object_object_add(run, "matrix_index",
						       json_object_new_int64((int64_t)k));
				if (mx->tags)
					json_object_object_add(run, mx->tag_key,
							       json_object_new_string(mx->tags[b]));
				double leaked = 0;
				if (!mx->quiet && jm_json_num(run, "metrics.vmas_leaked", &leaked) == 0 &&
				    leaked > 0)
					fprintf(stderr, "jitmm: %s on %s: %.0f mappings left after "
						"the backend was destroyed (leak)\n",
						mx->labels[b], mx->workloads[w], leaked);
				jm_results_add_run(root, run);
			}
		}
	return any_failed;
}
