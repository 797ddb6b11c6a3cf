/* jitmm sweep: one backend over the values of one option, every metric
 * plotted against the value, and a recommended value with its rule. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../allocators/backend.h"
#include "../allocators/options.h"
#include "../probes/probe.h"
#include "../common/atomic_write.h"
#include "../reports/merge.h"
#include "../reports/report_dir.h"
#include "../reports/results.h"
#include "../reports/results_shape.h"
#include "../reports/sweep.h"
#include "../workloads/workload.h"
#include "cli.h"
#include "../run/context.h"
#include "../run/progress.h"
#include "../run/run_cell.h"
#include "../run/runner.h"

#define MAX_WORKLOADS 16

static void sweep_usage(FILE *f)
{
	fprintf(f,
		"usage: jitmm sweep --backend NAME[:k=v,...] --param KEY=VALUES --workload SPEC\n"
		"                   [--repeat N] [--factor F] [--out DIR] [--json FILE] [--shard I/N]\n\n"
		"Runs one backend over the values of one of its options (each value x workload\n"
		"x repetition in its own child), prints a table per workload and recommends a\n"
		"value: among values whose runs all succeeded with zero reach failures and\n"
		"whose VMAs added are within F times the best, the smallest VA reservation,\n"
		"then the smallest waste. With --out, DIR gets results.json, report.md,\n"
		"report.html and plots/ (every metric against the value).\n\n"
		"  -b, --backend NAME     the backend, with fixed options after ':'\n"
		"  -P, --param KEY=VALUES the option swept: a,b,c | START..END (step 1) |\n"
		"                         START..END*FACTOR (geometric); sizes take K/M/G/T\n"
		"  -w, --workload SPEC    workloads as for 'run' (default llvm-500)\n"
		"  -r, --repeat N         repetitions of each value (default 3)\n"
		"      --warmup N         runs of each value and workload before its\n"
		"                         repetitions, results dropped (default 1)\n"
		"  -F, --factor F         VMA tolerance of the rule (default 2)\n"
		"  -o, --out DIR          write results.json and the report there\n"
		"  -j, --json FILE        write the results JSON to FILE ('-': stdout, instead\n"
		"                         of the tables)\n"
		"      --pretty           indent the JSON (default: compact)\n"
		"  -p, --probe NAME       auto|procfs|... (default auto)\n"
		"  -s, --seed N           override every workload's seed\n"
		"      --shard I/N        only matrix cells k with k %% N == I-1 ('jitmm merge')\n"
		"      --timeout S        kill a run after S seconds (default 600)\n"
		"  -q, --quiet            no progress on stderr\n\n"
		"examples:\n"
		"  jitmm sweep -b single-pool -P granularity=1M..1G*4 -w llvm-500 --out sweep\n"
		"  jitmm sweep -b codemodel -P block_bits=16..26 -w llvm-500 -r 3\n"
		"  jitmm sweep -b single-pool -P granularity=4M,16M,256M -w page-pairs -F 1.5\n\n"
		"Exit codes: 0 every run ok, 1 a run failed, 2 usage or input error,\n"
		"130 interrupted (finished runs and their report are still written).\n");
}

enum { OPT_SHARD = 256, OPT_TIMEOUT, OPT_PRETTY, OPT_WARMUP };

int cmd_sweep(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"backend", required_argument, 0, 'b'},
		{"param", required_argument, 0, 'P'},
		{"workload", required_argument, 0, 'w'},
		{"repeat", required_argument, 0, 'r'},
		{"factor", required_argument, 0, 'F'},
		{"out", required_argument, 0, 'o'},
		{"json", required_argument, 0, 'j'},
		{"probe", required_argument, 0, 'p'},
		{"seed", required_argument, 0, 's'},
		{"quiet", no_argument, 0, 'q'},
		{"help", no_argument, 0, 'h'},
		{"shard", required_argument, 0, OPT_SHARD},
		{"timeout", required_argument, 0, OPT_TIMEOUT},
		{"pretty", no_argument, 0, OPT_PRETTY},
		{"warmup", required_argument, 0, OPT_WARMUP},
		{0, 0, 0, 0},
	};
	const char *backend_text = NULL, *param_text = NULL, *out_dir = NULL, *json_path = NULL;
	const char *probe_name = "auto", *shard_text = NULL;
	static char workloads[MAX_WORKLOADS][320];
	int nworkloads = 0, quiet = 0, pretty = 0;
	uint64_t repeat = 3, warmup = 1, seed = 0, timeout = 600;
	double factor = 2;
	unsigned shard_i = 0, shard_n = 0;
	char err[1024];
	optind = 1;
	int c;
	while ((c = getopt_long(argc, argv, "b:P:w:r:F:o:j:p:s:qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'b': backend_text = optarg; break;
		case 'P': param_text = optarg; break;
		case 'w': {
			int n = jm_split_specs(optarg, workloads + nworkloads, MAX_WORKLOADS - nworkloads);
			if (n < 0)
				return jm_usage_error("sweep: --workload: too many or too long");
			nworkloads += n;
			break;
		}
		case 'r':
			if (jm_parse_u64(optarg, &repeat) < 0 || repeat < 1 || repeat > 10000)
				return jm_usage_error("sweep: --repeat: '%s' is not a count in [1, 10000]", optarg);
			break;
		case 'F': {
			char *end;
			factor = strtod(optarg, &end);
			if (*end || !(factor >= 1) || factor > 1e6)
				return jm_usage_error("sweep: --factor: '%s' is not a number >= 1", optarg);
			break;
		}
		case 'o': out_dir = optarg; break;
		case 'j': json_path = optarg; break;
		case 'p': probe_name = optarg; break;
		case 's':
			if (jm_parse_u64(optarg, &seed) < 0 || seed == 0)
				return jm_usage_error("sweep: --seed: '%s' is not a positive integer", optarg);
			break;
		case 'q': quiet = 1; break;
		case OPT_PRETTY: pretty = 1; break;
		case OPT_WARMUP:
			if (jm_parse_u64(optarg, &warmup) < 0 || warmup > 100)
				return jm_usage_error("sweep: --warmup: '%s' is not a count in [0, 100]", optarg);
			break;
		case 'h': sweep_usage(stdout); return JM_EXIT_OK;
		case OPT_SHARD:
			if (jm_shard_parse(optarg, &shard_i, &shard_n) < 0)
				return jm_usage_error("sweep: --shard: '%s' is not I/N with 1 <= I <= N", optarg);
			shard_text = optarg;
			break;
		case OPT_TIMEOUT:
			if (jm_parse_u64(optarg, &timeout) < 0 || timeout > 86400 * 7)
				return jm_usage_error("sweep: --timeout: '%s' is not seconds", optarg);
			break;
		default: return jm_bad_option("sweep", argv);
		}
	}
	if (optind < argc)
		return jm_usage_error("sweep: unexpected argument '%s'", argv[optind]);
	if (!backend_text || !param_text)
		return jm_usage_error("sweep: --backend and --param are both required "
				      "(see 'jitmm sweep --help')");
	struct jm_backend_spec bs[2];
	int nb = jm_backend_spec_parse(backend_text, bs, 2, err, sizeof(err));
	if (nb < 0)
		return jm_usage_error("sweep: --backend: %s", err);
	if (nb != 1)
		return jm_usage_error("sweep: --backend: give exactly one backend");
	const char *eq = strchr(param_text, '=');
	char key[64];
	if (!eq || eq == param_text || (size_t)(eq - param_text) >= sizeof(key))
		return jm_usage_error("sweep: --param: '%s' is not KEY=VALUES", param_text);
	snprintf(key, sizeof(key), "%.*s", (int)(eq - param_text), param_text);
	const struct jm_option_def *def = NULL;
	for (const struct jm_option_def *d = bs[0].ops->options; d && d->name; d++)
		if (!strcmp(d->name, key))
			def = d;
	if (!def) {
		char known[256] = "";
		for (const struct jm_option_def *d = bs[0].ops->options; d && d->name; d++)
			snprintf(known + strlen(known), sizeof(known) - strlen(known), "%s%s",
				 known[0] ? ", " : "", d->name);
		return jm_usage_error("sweep: --param: backend %s has no option '%s' (options: %s)",
				      bs[0].ops->name, key, known[0] ? known : "none");
	}
	static char values[JM_SWEEP_MAX_VALUES][32];
	int nvalues = jm_sweep_values(eq + 1, def->type == JM_OPT_SIZE, values,
				      JM_SWEEP_MAX_VALUES, err, sizeof(err));
	if (nvalues < 0)
		return jm_usage_error("sweep: --param: %s", err);
	static struct jm_backend_spec specs[JM_SWEEP_MAX_VALUES];
	for (int i = 0; i < nvalues; i++) {
		specs[i] = bs[0];
		int l = snprintf(specs[i].optspec, sizeof(specs[i].optspec), "%s%s%s=%s", bs[0].optspec,
				 bs[0].optspec[0] ? "," : "", key, values[i]);
		if (l < 0 || (size_t)l >= sizeof(specs[i].optspec))
			return jm_usage_error("sweep: options too long");
		struct jm_optvals ov;
		if (jm_opts_parse(bs[0].ops->options, specs[i].optspec, &ov, err, sizeof(err)) < 0)
			return jm_usage_error("sweep: --param: %s=%s: %s", key, values[i], err);
	}
	if (!nworkloads)
		nworkloads = jm_split_specs("llvm-500", workloads, MAX_WORKLOADS);
	uint64_t wl_graphs[MAX_WORKLOADS];
	for (int i = 0; i < nworkloads; i++) {
		struct jm_workload w;
		if (jm_workload_open(workloads[i], seed, &w, err, sizeof(err)) < 0)
			return jm_usage_error("sweep: --workload: %s", err);
		wl_graphs[i] = w.graphs;
		jm_workload_close(&w);
	}
	/* every results file jitmm writes can be read back (results_shape.h) */
	if ((uint64_t)nvalues * (uint64_t)nworkloads * repeat > JM_RESULTS_MAX_RUNS)
		return jm_usage_error("sweep: %llu runs (values x workloads x repeat): more than "
				      "the %d a results file may hold",
				      (unsigned long long)nvalues * (unsigned long long)nworkloads *
					      (unsigned long long)repeat, JM_RESULTS_MAX_RUNS);
	if (out_dir && jm_mkdirs(out_dir, err, sizeof(err)) < 0)
		return jm_usage_error("sweep: --out: %s", err);
	/* before the matrix runs, not after */
	if (json_path && jm_out_check(json_path, err, sizeof(err)) < 0)
		return jm_usage_error("sweep: --json: %s", err);
	struct jm_probe probe;
	char why_not[256];
	if (jm_cell_probe("sweep", probe_name, quiet, &probe, why_not, sizeof(why_not)))
		return JM_EXIT_USAGE;
	progress_init(quiet);
	progress_catch_signals();

	json_object *config = json_object_new_object(), *bl = json_object_new_array(),
		    *wl = json_object_new_array(), *sw = json_object_new_object(),
		    *vl = json_object_new_array();
	for (int i = 0; i < nvalues; i++) {
		json_object_array_add(bl, jm_config_backend(&specs[i]));
		json_object_array_add(vl, json_object_new_string(values[i]));
	}
	for (int i = 0; i < nworkloads; i++)
		json_object_array_add(wl, json_object_new_string(workloads[i]));
	json_object_object_add(sw, "backend", json_object_new_string(bs[0].ops->name));
	json_object_object_add(sw, "param", json_object_new_string(key));
	json_object_object_add(sw, "values", vl);
	json_object_object_add(sw, "factor", json_object_new_double(factor));
	json_object_object_add(config, "backends", bl);
	json_object_object_add(config, "workloads", wl);
	json_object_object_add(config, "workload_defaults",
			       jm_config_workload_defaults((const char (*)[320])workloads, nworkloads));
	json_object_object_add(config, "repeat", json_object_new_int64((int64_t)repeat));
	json_object_object_add(config, "warmup", json_object_new_int64((int64_t)warmup));
	json_object_object_add(config, "seed", json_object_new_int64((int64_t)seed));
	json_object_object_add(config, "probe_requested", json_object_new_string(probe_name));
	json_object_object_add(config, "probe_used", json_object_new_string(probe.ops->name));
	json_object_object_add(config, "probe_fallback_reason", json_object_new_string(why_not));
	json_object_object_add(config, "baseline", json_object_new_string(bs[0].ops->name));
	json_object_object_add(config, "timeout_s", json_object_new_int64((int64_t)timeout));
	json_object_object_add(config, "sweep", sw);
	if (shard_text)
		json_object_object_add(config, "shard", json_object_new_string(shard_text));
	json_object *root = jm_results_new(jm_context_json(), config);

	static char labels[JM_SWEEP_MAX_VALUES][160];
	const char *label_p[JM_SWEEP_MAX_VALUES], *tag_p[JM_SWEEP_MAX_VALUES];
	for (int v = 0; v < nvalues; v++) {
		snprintf(labels[v], sizeof(labels[v]), "%.40s %.63s=%.31s", specs[v].ops->name,
			 key, values[v]);
		label_p[v] = labels[v];
		tag_p[v] = values[v];
	}
	struct jm_run_spec base = {0};
	base.seed = seed;
	base.timeout_s = (unsigned)timeout;
	struct jm_matrix mx = {
		.base = &base, .backends = specs, .labels = label_p,
		.tag_key = "sweep_value", .tags = tag_p, .nbackends = nvalues,
		.workloads = (const char (*)[320])workloads, .graphs = wl_graphs,
		.nworkloads = nworkloads, .repeat = repeat, .warmup = (unsigned)warmup,
		.shard_i = shard_i, .shard_n = shard_n, .quiet = quiet,
	};
	int any_failed = jm_matrix_run(&mx, &probe, root);
	if (probe.ops->close)
		probe.ops->close(&probe);
	int interrupted = progress_interrupted();
	json_object_object_add(config, "interrupted", json_object_new_boolean(interrupted));
	json_object_object_add(config, "finished", jm_config_now());
	jm_results_aggregate(root);

	struct jm_sweep_report sr = {0};
	jm_sweep_sections(root, &sr);
	/* stdout is data: the tables, unless the results JSON went there */
	if (!json_path || !jm_out_is_stdout(json_path))
		fputs(sr.markdown, stdout);
	int rc = 0;
	if (jm_out_results(root, json_path, out_dir, pretty, err, sizeof(err)) < 0)
		rc = jm_usage_error("sweep: %s", err);
	if (out_dir && !rc) {
		/* the report adds the sweep section itself (config.sweep); an
		 * interrupt does not stop it (as in run) */
		if (jm_report_write_dir(root, out_dir, bs[0].ops->name, NULL, err, sizeof(err)) < 0)
			rc = jm_usage_error("sweep: %s", err);
		else if (!quiet)
			fprintf(stderr, "jitmm: wrote %s/results.json, report.md, report.html and plots/\n",
				out_dir);
	}
	jm_sweep_report_free(&sr);
	json_object_put(root);
	if (interrupted || progress_interrupted())
		return JM_EXIT_INTERRUPTED;
	if (rc)
		return rc;
	return any_failed ? JM_EXIT_FAIL : JM_EXIT_OK;
}
