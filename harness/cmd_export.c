/* jitmm export: results.json in a dashboard's own format, on stdout. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/atomic_write.h"
#include "../reports/export.h"
#include "../reports/results.h"
#include "cli.h"

static void export_usage(FILE *f)
{
	fprintf(f,
		"usage: jitmm export --format bmf|gab|lnt RESULTS.json [-o FILE]\n\n"
		"Converts a results file for a dashboard; JSON on stdout (or FILE).\n"
		"  bmf   Bencher Metric Format: {benchmark: {measure: {value, lower_value,\n"
		"        upper_value}}}, e.g. 'bencher run --adapter json'\n"
		"  gab   github-action-benchmark 'customSmallerIsBetter': [{name, unit, value,\n"
		"        range, extra}]\n"
		"  lnt   LNT report format version 2 ('lnt submit')\n"
		"Each benchmark is WORKLOAD/BACKEND:OPTIONS; values are medians over the\n"
		"ok repetitions (LNT: one sample per repetition).\n\n"
		"  -f, --format FMT   bmf, gab or lnt\n"
		"  -o, --out FILE     write FILE instead of stdout\n\n"
		"examples:\n"
		"  jitmm export --format bmf out/results.json > bmf.json\n"
		"  jitmm export -f gab out/results.json -o gab.json\n\n"
		"Exit codes: 0 ok, 2 usage error or unusable input.\n");
}

int cmd_export(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"format", required_argument, 0, 'f'},
		{"out", required_argument, 0, 'o'},
		{"help", no_argument, 0, 'h'},
		{0, 0, 0, 0},
	};
	const char *format = NULL, *out = NULL;
	optind = 1;
	int c;
	while ((c = getopt_long(argc, argv, "f:o:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'f': format = optarg; break;
		case 'o': out = optarg; break;
		case 'h': export_usage(stdout); return JM_EXIT_OK;
		default: return jm_bad_option("export", argv);
		}
	}
	if (!format || optind != argc - 1)
		return jm_usage_error("export: want --format FMT and one RESULTS.json "
				      "(see 'jitmm export --help')");
	char err[1024];
	if (strcmp(format, "bmf") && strcmp(format, "gab") && strcmp(format, "lnt"))
		return jm_usage_error("export: --format: '%s' is not bmf, gab or lnt", format);
	json_object *root = jm_results_load(argv[optind], err, sizeof(err));
	if (!root)
		return jm_usage_error("export: %s", err);
	json_object *doc = jm_export(root, format, err, sizeof(err));
	const char *s = json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PRETTY |
		JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE);
	int rc = JM_EXIT_OK;
	size_t len = strlen(s);
	char *buf = malloc(len + 2);
	if (!buf || (memcpy(buf, s, len), buf[len] = '\n',
		     jm_out_write(out, buf, len + 1, err, sizeof(err)) < 0))
		rc = jm_usage_error("export: %s", buf ? err : "out of memory");
	free(buf);
	json_object_put(doc);
	json_object_put(root);
	return rc;
}
