/* Compare two results files: runs matched by (backend, options, workload)
 * through their aggregates, a table of deltas and ratios, regressions
 * judged against per-metric thresholds. Rules: docs/report-format.md. */
#ifndef JITMM_COMPARE_H
#define JITMM_COMPARE_H

#include <json-c/json.h>
#include <stdio.h>

enum jm_metric_kind {
	JM_KIND_EXACT,    /* deterministic counts: any increase regresses */
	JM_KIND_MEASURED, /* kernel-measured sizes/counts: small margin */
	JM_KIND_TIMING,   /* noisy: margin and enough repetitions */
};

#define JM_CMP_MAX_THRESHOLDS 32

struct jm_cmp_opts {
	struct {
		char metric[96];
		double pct;
	} th[JM_CMP_MAX_THRESHOLDS];
	int nth;
	int min_reps; /* timings are judged only with this many ok runs a side */
};

struct jm_cmp_result {
	int matched, only_base, only_new;
	int regressions, improvements, unchanged, within, not_judged;
};

void jm_cmp_opts_default(struct jm_cmp_opts *o);
/* "METRIC=PCT" (PCT may end in %); -1 with a message on error. */
int jm_cmp_threshold_parse(struct jm_cmp_opts *o, const char *text, char *err,
			   size_t errlen);
/* The default kind and threshold of a metric. */
enum jm_metric_kind jm_metric_kind(const char *metric);
double jm_metric_default_pct(enum jm_metric_kind k);

/* Print the comparison to out. -1 with a message when the inputs cannot be
 * compared (nothing in common). */
int jm_compare(json_object *base, json_object *neu, const struct jm_cmp_opts *o,
	       FILE *out, struct jm_cmp_result *res, char *err, size_t errlen);

#endif
