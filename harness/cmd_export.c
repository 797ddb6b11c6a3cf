/* jitmm export: results.json in a dashboard's own format, on stdout. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/numparse.h"
#include "../reports/export.h"
#include "../reports/results.h"
#include "cli.h"

static void export_usage(FILE *f)
{
	fprintf(f,
		"usage: jitmm export --format bmf|gab|lnt|gbench RESULTS.json [-o FILE]\n"
		"                    [--metrics LIST] [--order N] [--machine NAME]\n\n"
		"Converts a results file ('-': stdin) for a dashboard; JSON on stdout (or FILE).\n"
		"  bmf     Bencher Metric Format: {benchmark: {measure: {value, lower_value,\n"
		"          upper_value}}} ('bencher run --adapter json')\n"
		"  gab     github-action-benchmark 'customSmallerIsBetter': [{name, unit, value,\n"
		"          range, extra}]\n"
		"  lnt     LNT report format 2 for the jitmm test suite (schema:\n"
		"          docs/lnt-jitmm.yaml, 'lnt admin test-suite add'; 'lnt submit')\n"
		"  gbench  Google Benchmark JSON: wall time as real_time, the rest as counters\n"
		"          (github-action-benchmark 'googlecpp', Bencher 'cpp_google')\n"
		"Each benchmark is WORKLOAD/BACKEND named by what differs from the defaults\n"
		"(e.g. llvm-500:graphs=50/single-pool:granularity=1G), unique in the file;\n"
		"values are medians over the ok repetitions (LNT: one sample per repetition),\n"
		"counts include an executor process's. Failed runs are in every format: bmf\n"
		"a 'failed-runs' measure, gab a '... - failed runs' entry, lnt\n"
		"execution_status 1, gbench error_occurred.\n\n"
		"  -f, --format FMT     bmf, gab, lnt or gbench\n"
		"  -o, --out FILE       write FILE instead of stdout ('-': stdout)\n"
		"  -m, --metrics LIST   only these metrics, comma separated: aggregate names\n"
		"                       (vmas_added, syscalls.mprotect.calls, wall_ns, ...) or\n"
		"                       the format's names (vmas-added, mprotect_calls, ...)\n"
		"      --order N        lnt: the run's order, e.g. the LLVM revision under test\n"
		"                       (default: the run's start as YYYYMMDDhhmmss); --revision\n"
		"                       is the same\n"
		"      --machine NAME   lnt: the machine's name (default: the host name)\n\n"
		"examples:\n"
		"  jitmm export --format bmf out/results.json > bmf.json\n"
		"  jitmm export -f gab out/results.json -o gab.json --metrics vmas_added,wall_ns\n"
		"  jitmm export -f lnt out/results.json --order 523456 --machine ci-x86 -o lnt.json\n"
		"  jitmm run --json - -b single-pool,per-prot | jitmm export -f gbench -\n\n"
		"Exit codes: 0 ok, 1 the results hold failed runs (the export is written, with\n"
		"them marked), 2 usage error or unusable input.\n");
}

enum { OPT_ORDER = 256, OPT_MACHINE };

int cmd_export(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"format", required_argument, 0, 'f'},
		{"out", required_argument, 0, 'o'},
		{"metrics", required_argument, 0, 'm'},
		{"order", required_argument, 0, OPT_ORDER},
		{"revision", required_argument, 0, OPT_ORDER},
		{"machine", required_argument, 0, OPT_MACHINE},
		{"help", no_argument, 0, 'h'},
		{0, 0, 0, 0},
	};
	struct jm_export_opts o = {0};
	const char *out = NULL;
	char err[1024];
	optind = 1;
	int c;
	while ((c = getopt_long(argc, argv, "f:o:m:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'f': o.format = optarg; break;
		case 'o': out = optarg; break;
		case 'm': o.metrics = optarg; break;
		case OPT_ORDER: o.order = optarg; break;
		case OPT_MACHINE: o.machine = optarg; break;
		case 'h': export_usage(stdout); return JM_EXIT_OK;
		default: return jm_bad_option("export", argv);
		}
	}
	if (!o.format || optind != argc - 1)
		return jm_usage_error("export: want --format FMT and one RESULTS.json "
				      "(see 'jitmm export --help')");
	if (strcmp(o.format, "bmf") && strcmp(o.format, "gab") && strcmp(o.format, "lnt") &&
	    strcmp(o.format, "gbench"))
		return jm_usage_error("export: --format: '%s' is not bmf, gab, lnt or gbench", o.format);
	/* LNT orders by the numbers in it: text without any would be hashed */
	if (o.order && (!*o.order || strspn(o.order, "0123456789.") != strlen(o.order)))
		return jm_usage_error("export: --order: '%s' is not a revision number (digits and "
				      "dots, as LNT orders them)", o.order);
	if (o.machine && (jm_text_check(o.machine, "--machine", err, sizeof(err)) < 0 || !*o.machine))
		return jm_usage_error("export: %s", *o.machine ? err : "--machine: empty");
	json_object *root = jm_results_load(argv[optind], err, sizeof(err));
	if (!root)
		return jm_usage_error("export: %s", err);
	if (out && jm_out_check(out, err, sizeof(err)) < 0) {
		json_object_put(root);
		return jm_usage_error("export: --out: %s", err);
	}
	int failed = 0;
	json_object *doc = jm_export(root, &o, &failed, err, sizeof(err));
	if (!doc) {
		json_object_put(root);
		return jm_usage_error("export: %s", err);
	}
	const char *s = json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PRETTY |
		JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE);
	size_t len = strlen(s);
	char *buf = malloc(len + 2);
	int rc = failed ? JM_EXIT_FAIL : JM_EXIT_OK;
	if (!buf)
		rc = jm_usage_error("export: out of memory");
	else {
		memcpy(buf, s, len);
		buf[len] = '\n';
		if (jm_out_write(out, buf, len + 1, err, sizeof(err)) < 0)
			rc = jm_usage_error("export: %s", err);
		else if (failed)
			fprintf(stderr, "jitmm: export: %d run%s failed (marked in the export)\n", failed,
				failed == 1 ? "" : "s");
	}
	free(buf);
	json_object_put(doc);
	json_object_put(root);
	return rc;
}
