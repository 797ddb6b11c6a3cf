/* jitmm report: regenerate report.md, report.html and plots/ from a saved
 * results.json. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../reports/pr.h"
#include "../reports/report_dir.h"
#include "../reports/results.h"
#include "../run/progress.h"
#include "cli.h"

static void report_usage(FILE *f)
{
	fprintf(f,
		"usage: jitmm report RESULTS.json [-o DIR] [--baseline NAME]\n"
		"       jitmm report --format pr RESULTS.json [-o FILE]\n\n"
		"Writes DIR/report.md, DIR/report.html (self-contained: inline SVG, no\n"
		"scripts) and DIR/plots/ (PNG + SVG made by gnuplot, each with its .dat\n"
		"and .gp) from a results file written by 'jitmm run' ('-': stdin). Both\n"
		"open on a summary to quote: per workload, who adds the fewest VMAs and\n"
		"what it costs, the fewest syscalls, least RSS and address space, reach,\n"
		"failures and why. --format pr prints the summary and six-column tables\n"
		"that fit a pull request comment, on stdout (or FILE).\n\n"
		"  -o, --out DIR        output directory (default: the directory of a run's\n"
		"                       DIR/results.json; NAME-report/ beside any other\n"
		"                       NAME.json; required when RESULTS.json is '-', stdin)\n"
		"  -b, --baseline NAME  backend the ratios are relative to (default: the\n"
		"                       run's --baseline, else single-pool)\n"
		"  -f, --format FMT     dir (default: the files above) or pr\n\n"
		"examples:\n"
		"  jitmm report out/results.json\n"
		"  jitmm report --format pr out/results.json > comment.md\n"
		"  jitmm report ci/results.json -o /tmp/review --baseline inprocess\n\n"
		"The report is written whole or not at all; DIR must not be a symbolic link.\n\n"
		"Exit codes: 0 ok, 2 usage error, unreadable or malformed results, or a\n"
		"report that could not be written (nothing written), 130 interrupted\n"
		"(nothing written).\n");
}

/* A run's DIR/results.json: DIR (regenerating a run's report); any other
 * NAME.json: NAME-report beside it, so that `merge ... -o all.json &&
 * jitmm report all.json` does not fill the current directory. */
static void default_dir(const char *in, char *dir, size_t len)
{
	const char *base = strrchr(in, '/');
	base = base ? base + 1 : in;
	if (!strcmp(base, "results.json")) {
		if (base == in)
			snprintf(dir, len, ".");
		else
			snprintf(dir, len, "%.*s", (int)(base - in - 1 > 0 ? base - in - 1 : 1), in);
		return;
	}
	size_t l = strlen(in);
	if (l > 5 && !strcmp(in + l - 5, ".json"))
		l -= 5;
	snprintf(dir, len, "%.*s-report", (int)l, in);
}

int cmd_report(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"out", required_argument, 0, 'o'},
		{"baseline", required_argument, 0, 'b'},
		{"format", required_argument, 0, 'f'},
		{"help", no_argument, 0, 'h'},
		{0, 0, 0, 0},
	};
	const char *out = NULL, *baseline = NULL, *format = "dir";
	optind = 1;
	int c;
	while ((c = getopt_long(argc, argv, "o:b:f:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'o': out = optarg; break;
		case 'b': baseline = optarg; break;
		case 'f':
			if (strcmp(optarg, "dir") && strcmp(optarg, "pr"))
				return jm_usage_error("report: --format: '%s' is not dir or pr", optarg);
			format = optarg;
			break;
		case 'h': report_usage(stdout); return JM_EXIT_OK;
		default: return jm_bad_option("report", argv);
		}
	}
	if (optind != argc - 1)
		return jm_usage_error("report: want one RESULTS.json (see 'jitmm report --help')");
	const char *in = argv[optind];
	char err[1024], dir[4096];
	json_object *root = jm_results_load(in, err, sizeof(err));
	if (!root)
		return jm_usage_error("report: %s", err);
	if (baseline) { /* a mistyped one would silently leave every ratio empty */
		json_object *runs = jm_json_path(root, "runs");
		int found = 0;
		for (size_t i = 0; i < json_object_array_length(runs); i++)
			found |= !strcmp(jm_json_str(json_object_array_get_idx(runs, i),
						     "backend", ""), baseline);
		if (!found) {
			json_object_put(root);
			return jm_usage_error("report: --baseline: %s has no runs of backend '%s'",
					      in, baseline);
		}
	} else {
		baseline = jm_json_str(root, "config.baseline", "single-pool");
	}
	if (!strcmp(format, "pr")) {
		char *text = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&text, &len);
		int rc = JM_EXIT_OK;
		if (!f)
			rc = jm_usage_error("report: out of memory");
		else {
			jm_report_pr(root, baseline, f);
			fclose(f);
			if (jm_out_write(out, text, len, err, sizeof(err)) < 0)
				rc = jm_usage_error("report: %s", err);
		}
		free(text);
		json_object_put(root);
		return rc;
	}
	if (!out && !strcmp(in, "-")) {
		json_object_put(root);
		return jm_usage_error("report: results from stdin: say where the report goes (-o DIR)");
	}
	if (!out) {
		default_dir(in, dir, sizeof(dir));
		out = dir;
	}
	/* Ctrl-C stops the report; the files already made are removed */
	progress_catch_signals();
	int rc = jm_report_write_dir(root, out, baseline, progress_interrupted, err, sizeof(err));
	if (rc == JM_REPORT_STOPPED) {
		fprintf(stderr, "jitmm: report: %s\n", err);
		rc = JM_EXIT_INTERRUPTED;
	} else if (rc < 0)
		rc = jm_usage_error("report: %s", err);
	else
		fprintf(stderr, "jitmm: wrote %s/report.md, %s/report.html and %s/plots/\n",
			out, out, out);
	json_object_put(root);
	return rc;
}
