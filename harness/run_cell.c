/* Around each run of a command's matrix: see run_cell.h. */
#include "run_cell.h"

#include <stdio.h>
#include <string.h>

#include "../reports/results.h"
#include "cli.h"
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
		if (!quiet)
			fprintf(stderr, "jitmm: %s on %s: %s: %s\n", label,
				spec->workload, st,
				jm_json_str(run, "error.message", "?"));
	}
	return run;
}
