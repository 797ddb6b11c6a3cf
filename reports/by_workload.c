/* Aggregates grouped by workload: see by_workload.h. */
#include "by_workload.h"

#include <string.h>

#include "results.h"

int jm_aggregates_by_workload(json_object *root, struct jm_wl_aggs *g, int max)
{
	json_object *aggs = jm_json_path(root, "aggregates");
	size_t n = aggs ? json_object_array_length(aggs) : 0;
	int ng = 0;
	for (size_t i = 0; i < n; i++) {
		json_object *a = json_object_array_get_idx(aggs, i);
		const char *ws = jm_json_str(a, "workload_spec", "");
		int k = 0;
		while (k < ng && strcmp(g[k].spec, ws))
			k++;
		if (k == ng) {
			if (ng == max)
				continue;
			g[ng].spec = ws;
			g[ng].name = jm_json_str(a, "workload", "?");
			g[ng].n = 0;
			ng++;
		}
		if (g[k].n < JM_WL_MAX_AGGS)
			g[k].agg[g[k].n++] = a;
	}
	return ng;
}
