/* jitmm validate's judgement: each model beside the real LLVM class it
 * models, from a results tree (reports read results only). Per pair and
 * workload, per metric: the real value, the model's and the error
 * (model - real) / real. Format: docs/jitmm.1 (validate). */
#ifndef JITMM_VALIDATE_H
#define JITMM_VALIDATE_H

#include <json-c/json.h>
#include <stdio.h>

struct jm_validate_pair {
	const char *name;  /* "inprocess" */
	const char *model; /* backend names in the results */
	const char *real;
};

struct jm_validate_opts {
	double tol_count;    /* %: VMAs, syscalls, VA reserved */
	double tol_measured; /* %: kernel-measured minor faults and RSS, */
	double floor_pages;  /* or this many pages (faults, RSS), if more */
	double page_size;
};

struct jm_validate_result {
	int cells;   /* (pair, workload, metric) compared */
	int over;    /* of them, error above its tolerance */
	int missing; /* (pair, workload) without an ok run of both sides */
};

/* Print one Markdown table per pair (rows: workloads in first-seen order,
 * columns: the metrics) and a summary, from root's aggregates (computed if
 * absent). */
void jm_validate_print(json_object *root, const struct jm_validate_pair *pairs, int npairs,
		       const struct jm_validate_opts *o, FILE *out,
		       struct jm_validate_result *res);

#endif
