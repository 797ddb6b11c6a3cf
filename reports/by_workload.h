/* The aggregates of a results file grouped by workload, for the report
 * sections and plots that show one table or figure per workload. */
#ifndef JITMM_BY_WORKLOAD_H
#define JITMM_BY_WORKLOAD_H

#include <json-c/json.h>

#define JM_WL_MAX_AGGS 64

struct jm_wl_aggs {
	const char *spec, *name; /* workload_spec, workload */
	json_object *agg[JM_WL_MAX_AGGS]; /* in results order */
	int n;
};

/* Groups root's aggregates by workload_spec, in order of first
 * appearance: at most max groups (aggregates of further workloads are
 * left out) of at most JM_WL_MAX_AGGS each. Returns the group count. */
int jm_aggregates_by_workload(json_object *root, struct jm_wl_aggs *g, int max);

#endif
