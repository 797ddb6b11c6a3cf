/* Dashboard exports of a results model: Bencher Metric Format (bmf),
 * github-action-benchmark customSmallerIsBetter (gab), LNT's JSON report
 * format version 2 for the jitmm test suite (lnt, schema in
 * docs/lnt-jitmm.yaml) and Google Benchmark's JSON (gbench: what
 * github-action-benchmark's 'googlecpp' and Bencher's 'cpp_google' adapter
 * read). Every configuration has a unique, stable name (names.h), every
 * count is the run's total (run_total.h), and failed runs are in every
 * format. Mappings: docs/report-format.md. */
#ifndef JITMM_EXPORT_H
#define JITMM_EXPORT_H

#include <json-c/json.h>
#include <stddef.h>

struct jm_export_opts {
	const char *format;   /* bmf, gab, lnt, gbench */
	const char *metrics;  /* comma-separated metric names or slugs; NULL: all */
	const char *order;    /* lnt: the run's order (llvm_project_revision) */
	const char *machine;  /* lnt: the machine's name (default: the host name) */
};

/* A new JSON document, or NULL with a message (an unknown format or
 * metric). *failed_runs: how many runs of root failed (they are in the
 * export; export exits 1 for them). */
json_object *jm_export(json_object *root, const struct jm_export_opts *o, int *failed_runs,
		       char *err, size_t errlen);
/* The metric names --metrics accepts, for messages and --help. */
const char *jm_export_metric_names(void);

#endif
