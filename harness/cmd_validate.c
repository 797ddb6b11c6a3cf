/* jitmm validate: each model beside the real LLVM class it models (the
 * llvm-* backends of the LLVM plugin), on the same workloads, every run in
 * its own child as jitmm run's, and per metric the real value, the
 * model's and the error (reports/validate.c). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../allocators/backend.h"
#include "../allocators/os.h"
#include "../common/atomic_write.h"
#include "../reports/results.h"
#include "../reports/validate.h"
#include "../run/context.h"
#include "../run/progress.h"
#include "../run/run_cell.h"
#include "../run/runner.h"
#include "../workloads/workload.h"
#include "cli.h"

#define MAX_WORKLOADS 32

/* model / real, with the options that make them comparable */
static const struct {
	struct jm_validate_pair p;
	const char *model_opts, *real_opts; /* "%s": --granularity */
} pairs[] = {
	{{"inprocess", "inprocess", "llvm-inprocess"}, "", ""},
	{{"mapper", "single-pool", "llvm-mapper"}, "granularity=%s", "granularity=%s"},
	{{"shm", "shm-mapper", "llvm-shm"}, "granularity=%s", "granularity=%s"},
	{{"section", "section-mm", "llvm-section"}, "", ""},
};
#define NPAIRS (int)(sizeof(pairs) / sizeof(pairs[0]))

static void validate_usage(FILE *f)
{
	fprintf(f,
		"usage: jitmm validate [options]\n\n"
		"Runs each model beside the real LLVM class it models, loaded from the LLVM\n"
		"plugin (docs/llvm-patch.md), on the same workloads, every run in its own\n"
		"child process, and prints per pair and workload the real value, the model's\n"
		"and the error (model - real) / real of: VMAs added, VMAs peak, mmap,\n"
		"mprotect, munmap, minor faults, RSS added, VA reserved. Every run starts\n"
		"alike on both sides: the small holes of its address space reserved, 16 MiB\n"
		"of heap and every loaded object's pages faulted in, so that neither side's\n"
		"libraries nor first steps count as its memory manager's (run/even_start.h).\n\n"
		"pairs (model / real):\n"
		"  inprocess   inprocess / llvm-inprocess\n"
		"  mapper      single-pool / llvm-mapper, both at --granularity\n"
		"  shm         shm-mapper / llvm-shm, both at --granularity\n"
		"  section     section-mm / llvm-section\n\n"
		"      --pair LIST        pairs to validate, comma separated (default: all)\n"
		"  -w, --workload SPEC    comma separated or repeated (default:\n"
		"                         " JM_DEFAULT_WORKLOADS ",churn,\n"
		"                         and trace:" JM_DEFAULT_TRACES " when\n"
		"                         run from the jitmm tree)\n"
		"  -r, --repeat N         repetitions per (backend, workload); medians (default 1)\n"
		"      --tolerance PCT    largest error of a count: VMAs, syscalls, VA reserved\n"
		"                         (default 1)\n"
		"      --tolerance-measured PCT\n"
		"                         largest error of the kernel-measured minor faults and\n"
		"                         RSS (default 5, as jitmm compare's margin for them;\n"
		"                         differences of up to 8 pages pass regardless)\n"
		"      --granularity SIZE reservation unit of the mapper and shm pairs (default 1G)\n"
		"      --plugin PATH      the LLVM plugin of the real side (default: as the\n"
		"                         llvm-* backends' plugin option)\n"
		"  -s, --seed N           override every workload's seed\n"
		"  -p, --probe NAME       auto|ebpf|procfs (default auto)\n"
		"  -j, --json FILE        also write the runs' results JSON to FILE ('-':\n"
		"                         stdout, instead of the table)\n"
		"      --pretty           indent the JSON (default: compact)\n"
		"      --timeout S        kill a run after S seconds (default 600, 0 = none)\n"
		"  -q, --quiet            no progress or failure notes on stderr\n\n"
		"examples:\n"
		"  jitmm validate\n"
		"  jitmm validate --pair inprocess,mapper -w llvm-500,churn -r 3\n"
		"  jitmm validate --pair mapper --granularity 16M --plugin ~/llvm-patched/jitmm-llvm.so\n\n"
		"Exit codes: 0 every error within its tolerance, 1 an error beyond it or a\n"
		"run failed (the plugin missing among the reasons), 2 usage or input error,\n"
		"130 interrupted.\n");
}

enum { OPT_PAIR = 256, OPT_TOL, OPT_TOL_MEASURED, OPT_GRANULARITY, OPT_PLUGIN, OPT_TIMEOUT,
       OPT_PRETTY };

static int parse_pct(const char *what, const char *text, double *out)
{
	char *end;
	double v = strtod(text, &end);
	if (end == text || (*end && strcmp(end, "%")) || !(v >= 0) || v > 1e6)
		return jm_usage_error("validate: --%s: '%s' is not a percentage >= 0", what, text);
	*out = v;
	return 0;
}

/* Pairs named in text ("mapper,shm"), as a bit per pair. */
static int parse_pairs(const char *text, unsigned *mask)
{
	char buf[256];
	if (strlen(text) >= sizeof(buf))
		return jm_usage_error("validate: --pair: too long");
	strcpy(buf, text);
	char *save = NULL;
	for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		int found = 0;
		for (int i = 0; i < NPAIRS; i++)
			if (!strcmp(t, pairs[i].p.name)) {
				*mask |= 1u << i;
				found = 1;
			}
		if (!found)
			return jm_usage_error("validate: --pair: '%s' is not inprocess, mapper, "
					      "shm or section", t);
	}
	return 0;
}

/* "NAME:options" of one side into spec; a usage error when it does not parse. */
static int side_spec(const char *name, const char *fmt, const char *granularity,
		     const char *plugin, struct jm_backend_spec *spec)
{
	char opts[300], text[400], err[300];
	snprintf(opts, sizeof(opts), fmt, granularity);
	if (plugin) {
		size_t l = strlen(opts);
		snprintf(opts + l, sizeof(opts) - l, "%splugin=%s", l ? "," : "", plugin);
	}
	snprintf(text, sizeof(text), "%s%s%s", name, opts[0] ? ":" : "", opts);
	if (jm_backend_spec_parse(text, spec, 1, err, sizeof(err)) != 1)
		return jm_usage_error("validate: %s", err);
	return 0;
}

int cmd_validate(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"pair", required_argument, 0, OPT_PAIR},
		{"workload", required_argument, 0, 'w'},
		{"repeat", required_argument, 0, 'r'},
		{"tolerance", required_argument, 0, OPT_TOL},
		{"tolerance-measured", required_argument, 0, OPT_TOL_MEASURED},
		{"granularity", required_argument, 0, OPT_GRANULARITY},
		{"plugin", required_argument, 0, OPT_PLUGIN},
		{"seed", required_argument, 0, 's'},
		{"probe", required_argument, 0, 'p'},
		{"json", required_argument, 0, 'j'},
		{"timeout", required_argument, 0, OPT_TIMEOUT},
		{"pretty", no_argument, 0, OPT_PRETTY},
		{"quiet", no_argument, 0, 'q'},
		{"help", no_argument, 0, 'h'},
		{0, 0, 0, 0},
	};
	static char workloads[MAX_WORKLOADS][320];
	/* measured: jitmm compare's margin for them; 8 pages: two runs of one
	 * model on a small workload differ by up to 4 faults (docs/jitmm.1) */
	struct jm_validate_opts vo = {.tol_count = 1, .tol_measured = 5, .floor_pages = 8,
				      .page_size = (double)jm_page_size()};
	const char *probe_name = "auto", *json_path = NULL, *plugin = NULL;
	const char *granularity = "1G";
	uint64_t repeat = 1, seed = 0, timeout = 600, gran;
	unsigned mask = 0;
	int nworkloads = 0, quiet = 0, pretty = 0;
	char err[512];

	optind = 1;
	int c;
	while ((c = getopt_long(argc, argv, "w:r:s:p:j:qh", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_PAIR:
			if (parse_pairs(optarg, &mask))
				return JM_EXIT_USAGE;
			break;
		case 'w': {
			int n = jm_split_specs(optarg, workloads + nworkloads,
					       MAX_WORKLOADS - nworkloads);
			if (n < 0)
				return jm_usage_error("validate: --workload: too many or too long");
			nworkloads += n;
			break;
		}
		case 'r':
			if (jm_parse_u64(optarg, &repeat) < 0 || repeat < 1 || repeat > 1000)
				return jm_usage_error("validate: --repeat: '%s' is not a count in "
						      "[1, 1000]", optarg);
			break;
		case OPT_TOL:
			if (parse_pct("tolerance", optarg, &vo.tol_count))
				return JM_EXIT_USAGE;
			break;
		case OPT_TOL_MEASURED:
			if (parse_pct("tolerance-measured", optarg, &vo.tol_measured))
				return JM_EXIT_USAGE;
			break;
		case OPT_GRANULARITY:
			if (jm_parse_size(optarg, &gran) < 0)
				return jm_usage_error("validate: --granularity: '%s' is not a size "
						      "(e.g. 16M, 1G)", optarg);
			granularity = optarg;
			break;
		case OPT_PLUGIN: plugin = optarg; break;
		case 's':
			if (jm_parse_u64(optarg, &seed) < 0 || seed == 0)
				return jm_usage_error("validate: --seed: '%s' is not a positive "
						      "integer", optarg);
			break;
		case 'p': probe_name = optarg; break;
		case 'j': json_path = optarg; break;
		case OPT_TIMEOUT:
			if (jm_parse_u64(optarg, &timeout) < 0 || timeout > 86400 * 7)
				return jm_usage_error("validate: --timeout: '%s' is not seconds",
						      optarg);
			break;
		case 'q': quiet = 1; break;
		case OPT_PRETTY: pretty = 1; break;
		case 'h': validate_usage(stdout); return JM_EXIT_OK;
		default: return jm_bad_option("validate", argv);
		}
	}
	if (optind < argc)
		return jm_usage_error("validate: unexpected argument '%s'", argv[optind]);
	if (!mask)
		mask = (1u << NPAIRS) - 1;

	/* the matrix: model, then real, of every pair chosen */
	struct jm_backend_spec backends[2 * NPAIRS];
	struct jm_validate_pair chosen[NPAIRS];
	const char *labels[2 * NPAIRS];
	int nb = 0, np = 0;
	for (int i = 0; i < NPAIRS; i++) {
		if (!(mask & (1u << i)))
			continue;
		chosen[np++] = pairs[i].p;
		if (side_spec(pairs[i].p.model, pairs[i].model_opts, granularity, NULL,
			      &backends[nb]) ||
		    side_spec(pairs[i].p.real, pairs[i].real_opts, granularity, plugin,
			      &backends[nb + 1]))
			return JM_EXIT_USAGE;
		labels[nb] = pairs[i].p.model;
		labels[nb + 1] = pairs[i].p.real;
		nb += 2;
	}
	if (!nworkloads) {
		nworkloads = jm_default_workloads(workloads, MAX_WORKLOADS - 1);
		/* frees and reuses, which no default preset does at this scale */
		snprintf(workloads[nworkloads++], sizeof(workloads[0]), "churn");
	}
	uint64_t wl_graphs[MAX_WORKLOADS];
	for (int i = 0; i < nworkloads; i++) {
		struct jm_workload w;
		if (jm_workload_open(workloads[i], seed, &w, err, sizeof(err)) < 0)
			return jm_usage_error("validate: --workload: %s", err);
		wl_graphs[i] = w.graphs;
		jm_workload_close(&w);
	}
	if (json_path && jm_out_check(json_path, err, sizeof(err)) < 0)
		return jm_usage_error("validate: --json: %s", err);
	/* without the plugin every real run would fail: say why once */
	char note[600];
	if (jm_backend_available(backends[1].ops, backends[1].optspec, note, sizeof(note)) < 0) {
		fprintf(stderr, "jitmm: validate: the real side cannot run here: %s\n", note);
		return JM_EXIT_FAIL;
	}

	struct jm_probe probe;
	char why_not[256];
	if (jm_cell_probe("validate", probe_name, quiet, &probe, why_not, sizeof(why_not)))
		return JM_EXIT_USAGE;
	json_object *config = json_object_new_object();
	json_object *pl = json_object_new_array();
	for (int i = 0; i < np; i++)
		json_object_array_add(pl, json_object_new_string(chosen[i].name));
	json_object_object_add(config, "validate_pairs", pl);
	json_object_object_add(config, "tolerance_pct", json_object_new_double(vo.tol_count));
	json_object_object_add(config, "tolerance_measured_pct",
			       json_object_new_double(vo.tol_measured));
	json_object_object_add(config, "repeat", json_object_new_int64((int64_t)repeat));
	json_object_object_add(config, "seed", json_object_new_int64((int64_t)seed));
	json_object_object_add(config, "probe_used", json_object_new_string(probe.ops->name));
	json_object_object_add(config, "probe_fallback_reason", json_object_new_string(why_not));
	json_object_object_add(config, "real_side", json_object_new_string(note));
	json_object *root = jm_results_new(jm_context_json(), config);

	progress_init(quiet);
	progress_catch_signals();
	struct jm_run_spec base = {0};
	base.seed = seed;
	base.timeout_s = (unsigned)timeout;
	base.even_start = 1; /* model and real start alike (run/even_start.h) */
	struct jm_matrix mx = {
		.base = &base, .backends = backends, .labels = labels, .nbackends = nb,
		.workloads = (const char (*)[320])workloads, .graphs = wl_graphs,
		.nworkloads = nworkloads, .repeat = repeat, .quiet = quiet,
	};
	int any_failed = jm_matrix_run(&mx, &probe, root);
	if (probe.ops->close)
		probe.ops->close(&probe);
	if (progress_interrupted()) {
		json_object_put(root);
		return JM_EXIT_INTERRUPTED;
	}
	jm_results_aggregate(root);
	struct jm_validate_result res;
	/* stdout is data: the table, unless the results JSON goes there (the
	 * verdicts are still computed) */
	char *unused = NULL;
	size_t unused_len = 0;
	FILE *table = json_path && jm_out_is_stdout(json_path)
		? open_memstream(&unused, &unused_len) : stdout;
	jm_validate_print(root, chosen, np, &vo, table ? table : stdout, &res);
	if (table && table != stdout)
		fclose(table);
	free(unused);
	int rc = any_failed || res.over || res.missing ? JM_EXIT_FAIL : JM_EXIT_OK;
	if (json_path && jm_out_results(root, json_path, NULL, pretty, err, sizeof(err)) < 0) {
		fprintf(stderr, "jitmm: validate: --json: %s\n", err);
		rc = JM_EXIT_USAGE;
	}
	json_object_put(root);
	return rc;
}
