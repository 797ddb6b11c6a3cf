/* jitmm compare: BASE vs NEW results, regressions gate CI with exit 1. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "../reports/compare.h"
#include "../reports/results.h"
#include "cli.h"

static void compare_usage(FILE *f)
{
	fprintf(f,
		"usage: jitmm compare BASE.json NEW.json [--threshold METRIC=PCT ...]\n"
		"                     [--min-repeat N] [--fail-on-regression]\n\n"
		"Matches runs by (backend, options, workload), prints a Markdown table of\n"
		"every metric that changed (base, new, delta, ratio, verdict) and a summary.\n"
		"Default thresholds: counts (VMAs, syscalls, reach failures, VA/mapped bytes)\n"
		"regress on any increase; page faults and RSS beyond 5%%; timings (*_ns)\n"
		"beyond 10%% and only when both sides have at least 3 ok repetitions.\n\n"
		"  -t, --threshold METRIC=PCT  allowed increase of METRIC (an aggregate metric\n"
		"                              name, e.g. wall_ns=15, vmas_added=1); repeatable;\n"
		"                              a metric not compared by default is added\n"
		"      --min-repeat N          repetitions a side needs before timings are judged\n"
		"                              (default 3)\n"
		"      --fail-on-regression    exit 1 when any metric regressed\n\n"
		"examples:\n"
		"  jitmm compare main/results.json pr/results.json --fail-on-regression\n"
		"  jitmm compare a.json b.json -t wall_ns=25 -t page_faults_minor=0\n\n"
		"Exit codes: 0 no regression (or no --fail-on-regression), 1 regression with\n"
		"--fail-on-regression, 2 usage error or unusable input (unreadable, malformed,\n"
		"nothing in common).\n");
}

enum { OPT_FAIL = 256, OPT_MINREP };

int cmd_compare(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"threshold", required_argument, 0, 't'},
		{"fail-on-regression", no_argument, 0, OPT_FAIL},
		{"min-repeat", required_argument, 0, OPT_MINREP},
		{"help", no_argument, 0, 'h'},
		{0, 0, 0, 0},
	};
	struct jm_cmp_opts o;
	jm_cmp_opts_default(&o);
	int fail = 0;
	char err[1024];
	uint64_t u;
	optind = 1;
	int c;
	while ((c = getopt_long(argc, argv, "t:h", longopts, NULL)) != -1) {
		switch (c) {
		case 't':
			if (jm_cmp_threshold_parse(&o, optarg, err, sizeof(err)) < 0)
				return jm_usage_error("compare: --threshold: %s", err);
			break;
		case OPT_FAIL: fail = 1; break;
		case OPT_MINREP:
			if (sscanf(optarg, "%lu", &u) != 1 || u < 1 || u > 10000)
				return jm_usage_error("compare: --min-repeat: '%s' is not in [1, 10000]", optarg);
			o.min_reps = (int)u;
			break;
		case 'h': compare_usage(stdout); return JM_EXIT_OK;
		default: return jm_bad_option("compare", argv);
		}
	}
	if (argc - optind != 2)
		return jm_usage_error("compare: want BASE.json NEW.json (see 'jitmm compare --help')");
	json_object *base = jm_results_load(argv[optind], err, sizeof(err));
	if (!base)
		return jm_usage_error("compare: %s", err);
	json_object *neu = jm_results_load(argv[optind + 1], err, sizeof(err));
	if (!neu) {
		json_object_put(base);
		return jm_usage_error("compare: %s", err);
	}
	static const char *const ctx_keys[] = {"kernel", "arch", "page_size", "vm_max_map_count",
					       "jitmm_version", "hostname"};
	for (size_t i = 0; i < sizeof(ctx_keys) / sizeof(ctx_keys[0]); i++) {
		char p[64];
		snprintf(p, sizeof(p), "context.%s", ctx_keys[i]);
		json_object *x = jm_json_path(base, p), *y = jm_json_path(neu, p);
		const char *xs = x ? json_object_get_string(x) : "?";
		char xb[256];
		snprintf(xb, sizeof(xb), "%s", xs);
		const char *ys = y ? json_object_get_string(y) : "?";
		if (strcmp(xb, ys))
			fprintf(stderr, "jitmm: compare: note: %s differs (%s vs %s)\n", ctx_keys[i], xb, ys);
	}
	struct jm_cmp_result res;
	int rc = JM_EXIT_OK;
	if (jm_compare(base, neu, &o, stdout, &res, err, sizeof(err)) < 0)
		rc = jm_usage_error("compare: %s and %s: %s", argv[optind], argv[optind + 1], err);
	else if (res.regressions && fail)
		rc = JM_EXIT_FAIL;
	json_object_put(base);
	json_object_put(neu);
	return rc;
}
