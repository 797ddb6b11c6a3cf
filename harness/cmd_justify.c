/* jitmm justify: a baseline and a candidate backend on a set of workloads,
 * with repetitions, each run in its own child (jm_run_one, as jitmm run),
 * and the Markdown table a reviewer asks for (reports/justify.c). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../allocators/backend.h"
#include "../probes/probe.h"
#include "../common/atomic_write.h"
#include "../reports/justify.h"
#include "../reports/names.h"
#include "../reports/results.h"
#include "../workloads/workload.h"
#include "cli.h"
#include "../run/context.h"
#include "../run/progress.h"
#include "../run/run_cell.h"
#include "../run/runner.h"

#define MAX_WORKLOADS 32

static void justify_usage(FILE *f)
{
	fprintf(f,
		"usage: jitmm justify --baseline BACKEND --candidate BACKEND [options]\n\n"
		"Runs the baseline and the candidate backend on each workload, every run in\n"
		"its own child process, and prints one Markdown table ready to paste into a\n"
		"pull request: a row per workload, a column per metric that changed (VMAs\n"
		"added, mprotect calls, RSS added, reach failures; medians over the\n"
		"repetitions, an executor process's work included), each cell baseline ->\n"
		"candidate; regressions in bold and named below the table; then the machine\n"
		"context and the command that reproduces it.\n\n"
		"      --baseline SPEC    NAME[:key=value,...], e.g. inprocess\n"
		"      --candidate SPEC   NAME[:key=value,...], e.g. striped:chunk_size=64K\n"
		"  -w, --workload SPEC    preset, PRESET:k=v,..., synthetic:k=v,... or trace:FILE;\n"
		"                         comma separated or repeated (default:\n"
		"                         " JM_DEFAULT_WORKLOADS ",\n"
		"                         and trace:" JM_DEFAULT_TRACES " when\n"
		"                         run from the jitmm tree)\n"
		"  -r, --repeat N         repetitions per (backend, workload) (default 3)\n"
		"      --warmup N         runs of each (backend, workload) before its\n"
		"                         repetitions, results dropped (default 1)\n"
		"  -s, --seed N           override every workload's seed\n"
		"  -p, --probe NAME       auto|procfs|... (default auto)\n"
		"  -o, --out FILE         write the table to FILE (atomically; '-': stdout)\n"
		"      --timeout S        kill a run after S seconds (default 600, 0 = none)\n"
		"  -q, --quiet            no progress or failure notes on stderr\n\n"
		"examples:\n"
		"  jitmm justify --baseline inprocess --candidate striped\n"
		"  jitmm justify --baseline single-pool --candidate colocate -w synthetic:dylibs=8 -r 5\n"
		"  jitmm justify --baseline inprocess --candidate striped:chunk_size=64K -o pr.md\n\n"
		"Exit codes: 0 every run ok, 1 a run failed (its cells say so), 2 usage or\n"
		"input error, 130 interrupted (nothing written).\n");
}

enum { OPT_BASELINE = 256, OPT_CANDIDATE, OPT_TIMEOUT, OPT_WARMUP };

static int parse_one(const char *what, const char *text, struct jm_backend_spec *out)
{
	struct jm_backend_spec specs[4];
	char err[300];
	int n = jm_backend_spec_parse(text, specs, 4, err, sizeof(err));
	if (n < 0)
		return jm_usage_error("justify: --%s: %s", what, err);
	if (n != 1)
		return jm_usage_error("justify: --%s: '%s' names %d backends, want one", what,
				      text, n);
	*out = specs[0];
	return 0;
}

/* Append " arg" (shell-quoted) to cmd. */
static void cmd_add(char *cmd, size_t len, const char *arg)
{
	char q[1024];
	jm_shell_quote(arg, q, sizeof(q));
	size_t used = strlen(cmd);
	snprintf(cmd + used, len - used, "%s%s", used ? " " : "", q);
}

int cmd_justify(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"baseline", required_argument, 0, OPT_BASELINE},
		{"candidate", required_argument, 0, OPT_CANDIDATE},
		{"workload", required_argument, 0, 'w'},
		{"repeat", required_argument, 0, 'r'},
		{"seed", required_argument, 0, 's'},
		{"probe", required_argument, 0, 'p'},
		{"out", required_argument, 0, 'o'},
		{"timeout", required_argument, 0, OPT_TIMEOUT},
		{"warmup", required_argument, 0, OPT_WARMUP},
		{"quiet", no_argument, 0, 'q'},
		{"help", no_argument, 0, 'h'},
		{0, 0, 0, 0},
	};
	static char workloads[MAX_WORKLOADS][320];
	const char *btext[2] = {NULL, NULL};
	const char *probe_name = "auto", *out_path = NULL;
	uint64_t repeat = 3, warmup = 1, seed = 0, timeout = 600;
	int nworkloads = 0, quiet = 0;
	char err[512];

	optind = 1;
	int c;
	while ((c = getopt_long(argc, argv, "w:r:s:p:o:qh", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_BASELINE: btext[0] = optarg; break;
		case OPT_CANDIDATE: btext[1] = optarg; break;
		case 'w': {
			int n = jm_split_specs(optarg, workloads + nworkloads,
					       MAX_WORKLOADS - nworkloads);
			if (n < 0)
				return jm_usage_error("justify: --workload: too many or too long");
			nworkloads += n;
			break;
		}
		case 'r':
			if (jm_parse_u64(optarg, &repeat) < 0 || repeat < 1 ||
			    repeat > JM_JUSTIFY_MAX_REPEAT)
				return jm_usage_error("justify: --repeat: '%s' is not a count in [1, %d]",
						      optarg, JM_JUSTIFY_MAX_REPEAT);
			break;
		case 's':
			if (jm_parse_u64(optarg, &seed) < 0 || seed == 0)
				return jm_usage_error("justify: --seed: '%s' is not a positive integer", optarg);
			break;
		case 'p': probe_name = optarg; break;
		case 'o': out_path = optarg; break;
		case OPT_TIMEOUT:
			if (jm_parse_u64(optarg, &timeout) < 0 || timeout > 86400 * 7)
				return jm_usage_error("justify: --timeout: '%s' is not seconds", optarg);
			break;
		case OPT_WARMUP:
			if (jm_parse_u64(optarg, &warmup) < 0 || warmup > 100)
				return jm_usage_error("justify: --warmup: '%s' is not a count in [0, 100]",
						      optarg);
			break;
		case 'q': quiet = 1; break;
		case 'h': justify_usage(stdout); return JM_EXIT_OK;
		default: return jm_bad_option("justify", argv);
		}
	}
	if (optind < argc)
		return jm_usage_error("justify: unexpected argument '%s'", argv[optind]);
	if (!btext[0] || !btext[1])
		return jm_usage_error("justify: --baseline and --candidate are both required "
				      "(see 'jitmm justify --help')");
	struct jm_backend_spec be[2];
	if (parse_one("baseline", btext[0], &be[0]) || parse_one("candidate", btext[1], &be[1]))
		return JM_EXIT_USAGE;
	/* a bad option value is a usage error now, not a failed run later */
	for (int s = 0; s < 2; s++) {
		struct jm_optvals v;
		if (jm_opts_parse(be[s].ops->options, be[s].optspec, &v, err, sizeof(err)) < 0)
			return jm_usage_error("justify: --%s: %s", s ? "candidate" : "baseline", err);
	}
	if (!nworkloads)
		nworkloads = jm_default_workloads(workloads, MAX_WORKLOADS);
	uint64_t wl_graphs[MAX_WORKLOADS];
	for (int i = 0; i < nworkloads; i++) {
		struct jm_workload w;
		if (jm_workload_open(workloads[i], seed, &w, err, sizeof(err)) < 0)
			return jm_usage_error("justify: --workload: %s", err);
		wl_graphs[i] = w.graphs;
		jm_workload_close(&w);
	}
	/* fail on an unwritable destination before running */
	if (out_path && jm_out_check(out_path, err, sizeof(err)) < 0)
		return jm_usage_error("justify: --out: %s", err);

	struct jm_probe probe;
	char why_not[256];
	if (jm_cell_probe("justify", probe_name, quiet, &probe, why_not, sizeof(why_not)))
		return JM_EXIT_USAGE;

	/* the reproducing command: every choice explicit */
	static char command[4096];
	char num[32];
	command[0] = 0;
	cmd_add(command, sizeof(command), "jitmm");
	cmd_add(command, sizeof(command), "justify");
	cmd_add(command, sizeof(command), "--baseline");
	cmd_add(command, sizeof(command), btext[0]);
	cmd_add(command, sizeof(command), "--candidate");
	cmd_add(command, sizeof(command), btext[1]);
	char wl_text[MAX_WORKLOADS * 320] = "";
	for (int i = 0; i < nworkloads; i++) {
		if (i)
			strcat(wl_text, ",");
		strcat(wl_text, workloads[i]);
	}
	cmd_add(command, sizeof(command), "--workload");
	cmd_add(command, sizeof(command), wl_text);
	cmd_add(command, sizeof(command), "--repeat");
	snprintf(num, sizeof(num), "%llu", (unsigned long long)repeat);
	cmd_add(command, sizeof(command), num);
	if (warmup != 1) {
		cmd_add(command, sizeof(command), "--warmup");
		snprintf(num, sizeof(num), "%llu", (unsigned long long)warmup);
		cmd_add(command, sizeof(command), num);
	}
	if (seed) {
		cmd_add(command, sizeof(command), "--seed");
		snprintf(num, sizeof(num), "%llu", (unsigned long long)seed);
		cmd_add(command, sizeof(command), num);
	}
	if (strcmp(probe_name, "auto")) {
		cmd_add(command, sizeof(command), "--probe");
		cmd_add(command, sizeof(command), probe_name);
	}

	struct jm_justify j = {0};
	j.rows = calloc((size_t)nworkloads, sizeof(*j.rows));
	if (!j.rows)
		return jm_usage_error("justify: out of memory");
	for (int s = 0; s < 2; s++) {
		/* named as the reports name it: what differs from the defaults */
		json_object *b = jm_config_backend(&be[s]);
		jm_name_backend_from(be[s].ops->name, jm_json_path(b, "options"),
				     jm_json_path(b, "defaults"), jm_json_path(b, "test_options"),
				     j.name[s], sizeof(j.name[s]));
		json_object_put(b);
	}
	j.repeat = (int)repeat;
	j.warmup = (int)warmup;
	j.nrows = nworkloads;
	j.probe = probe.ops->name;
	j.command = command;
	json_object *context = jm_context_json();
	j.context = context;

	progress_init(quiet);
	progress_catch_signals();
	unsigned total = (unsigned)(2 * nworkloads * (int)(repeat + warmup)), idx = 0;
	int any_failed = 0;
	for (int w = 0; w < nworkloads && !progress_interrupted(); w++) {
		snprintf(j.rows[w].workload, sizeof(j.rows[w].workload), "%.319s", workloads[w]);
		/* warm-up runs first, dropped; then baseline and candidate
		 * interleaved so drift hits both alike */
		for (uint64_t r = 0; r < warmup + repeat && !progress_interrupted(); r++)
			for (int s = 0; s < 2 && !progress_interrupted(); s++) {
				struct jm_run_spec spec = {0};
				int warm = r < warmup, ignored = 0;
				char label[480];
				snprintf(label, sizeof(label), "%s%s", j.name[s], warm ? " (warm-up)" : "");
				spec.backend = be[s];
				snprintf(spec.workload, sizeof(spec.workload), "%.319s", workloads[w]);
				spec.seed = seed;
				spec.repetition = (unsigned)(warm ? 0 : r - warmup);
				spec.timeout_s = (unsigned)timeout;
				json_object *run = jm_cell_run(&spec, &probe, ++idx, total, label,
							       wl_graphs[w], quiet || warm,
							       warm ? &ignored : &any_failed);
				if (!warm)
					jm_justify_add_run(&j, &j.rows[w], s, run);
				json_object_put(run);
			}
	}
	if (probe.ops->close)
		probe.ops->close(&probe);

	int rc = any_failed ? JM_EXIT_FAIL : JM_EXIT_OK;
	if (progress_interrupted()) {
		rc = JM_EXIT_INTERRUPTED;
	} else {
		char *text = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&text, &len);
		if (!f) {
			fprintf(stderr, "jitmm: justify: out of memory\n");
			rc = JM_EXIT_USAGE;
		} else {
			jm_justify_markdown(&j, f);
			fclose(f);
			if (jm_out_write(out_path, text, len, err, sizeof(err)) < 0) {
				fprintf(stderr, "jitmm: %s\n", err);
				rc = JM_EXIT_USAGE;
			} else if (out_path && !jm_out_is_stdout(out_path) && !quiet) {
				fprintf(stderr, "jitmm: wrote %s\n", out_path);
			}
		}
		free(text);
	}
	json_object_put(context);
	free(j.rows);
	return rc;
}
