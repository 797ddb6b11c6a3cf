/* The report's diagnostic sections: what a failed run ran into, which
 * backends left mappings behind, and which relocations did not reach.
 * Nothing is printed for a section with nothing to say. */
#include <stdio.h>
#include <string.h>

#include "diagnostics.h"
#include "names.h"
#include "results.h"

static const char *rep(json_object *r)
{
	return json_object_get_string(jm_json_path(r, "repetition"));
}

/* "BACKEND on WORKLOAD" by their names (names.h) */
static void who(json_object *root, json_object *r, char *buf, size_t len)
{
	char b[JM_NAME_MAX], w[JM_NAME_MAX];
	jm_name_backend(root, r, b, sizeof(b));
	jm_name_workload(root, r, w, sizeof(w));
	snprintf(buf, len, "%s on %s", b, w);
}

void jm_failure_why(json_object *r, char *buf, size_t len)
{
	const char *sys = jm_json_str(r, "error.syscall", NULL);
	double g, v, lim;
	int n;
	if (sys)
		n = snprintf(buf, len, "%s failed with %s", sys, jm_json_str(r, "error.errno_name", "?"));
	else
		n = snprintf(buf, len, "%s", jm_json_str(r, "error.message", "no message"));
	if (n >= 0 && (size_t)n < len && jm_json_num(r, "error.graph_id", &g) == 0)
		n += snprintf(buf + n, len - (size_t)n, " at graph %.0f", g);
	if (n >= 0 && (size_t)n < len && jm_json_num(r, "error.vmas_at_failure", &v) == 0) {
		n += snprintf(buf + n, len - (size_t)n, " with %.0f VMAs", v);
		if (n >= 0 && (size_t)n < len && jm_json_num(r, "error.vm_max_map_count", &lim) == 0)
			n += snprintf(buf + n, len - (size_t)n, " (vm.max_map_count %.0f)", lim);
	}
	const char *cause = jm_json_str(r, "error.cause", NULL);
	if (cause && n >= 0 && (size_t)n < len)
		snprintf(buf + n, len - (size_t)n, ": %s", cause);
}

static void failure_details(json_object *root, json_object *runs, FILE *out)
{
	size_t n = json_object_array_length(runs);
	int any = 0;
	for (size_t i = 0; i < n; i++) {
		json_object *r = json_object_array_get_idx(runs, i);
		if (!strcmp(jm_json_str(r, "status", "ok"), "ok"))
			continue;
		if (!any)
			fprintf(out, "\n## Why runs failed\n\n");
		any = 1;
		char w[2 * JM_NAME_MAX + 8], why[1024];
		who(root, r, w, sizeof(w));
		jm_failure_why(r, why, sizeof(why));
		fprintf(out, "- %s (repetition %s, %s during %s): %s\n", w, rep(r),
			jm_json_str(r, "status", "?"), jm_json_str(r, "error.op", "?"), why);
	}
}

static void leaks(json_object *root, json_object *runs, FILE *out)
{
	size_t n = json_object_array_length(runs);
	int any = 0;
	for (size_t i = 0; i < n; i++) {
		json_object *r = json_object_array_get_idx(runs, i);
		double leaked, before, after;
		if (jm_json_num(r, "metrics.vmas_leaked", &leaked) < 0 || leaked <= 0)
			continue;
		if (!any)
			fprintf(out, "\n## Leaked mappings\n\n"
				     "VMAs still present after the backend was destroyed "
				     "(count after teardown minus count before the run):\n\n");
		any = 1;
		jm_json_num(r, "metrics.vmas_before", &before);
		jm_json_num(r, "metrics.vmas_after_teardown", &after);
		char w[2 * JM_NAME_MAX + 8];
		who(root, r, w, sizeof(w));
		fprintf(out, "- %s (repetition %s): %.0f VMAs leaked (%.0f before, %.0f after "
			     "teardown)\n", w, rep(r), leaked, before, after);
	}
}

static void reach(json_object *root, json_object *runs, FILE *out)
{
	size_t n = json_object_array_length(runs);
	int any = 0;
	for (size_t i = 0; i < n; i++) {
		json_object *r = json_object_array_get_idx(runs, i);
		double host = 0, other = 0;
		jm_json_num(r, "metrics.reloc_reach_failures", &host);
		jm_json_num(r, "metrics.reach_failures_aarch64", &other);
		if (host <= 0 && other <= 0)
			continue;
		if (!any)
			fprintf(out, "\n## Relocation reach\n\n");
		any = 1;
		char w[2 * JM_NAME_MAX + 8];
		who(root, r, w, sizeof(w));
		fprintf(out, "- %s (repetition %s, %s code model): %.0f relocations "
			     "out of range on %s, %.0f would fail on %s\n",
			w, rep(r), jm_json_str(r, "metrics.relocations.code_model", "?"), host,
			jm_json_str(r, "metrics.relocations.arch", "?"), other,
			jm_json_str(r, "metrics.relocations.other_arch", "?"));
		const char *lists[] = {"metrics.relocations.first_failures",
				       "metrics.relocations.first_failures_other"};
		for (int k = 0; k < 2; k++) {
			json_object *a = jm_json_path(r, lists[k]);
			size_t m = a && json_object_is_type(a, json_type_array)
					   ? json_object_array_length(a) : 0;
			for (size_t j = 0; j < m && j < 2; j++)
				fprintf(out, "  - %s`%s`\n", k ? "(would fail) " : "",
					jm_json_str(json_object_array_get_idx(a, j),
						    "message", "?"));
		}
	}
}

void jm_report_diagnostics(json_object *root, FILE *out)
{
	json_object *runs = jm_json_path(root, "runs");
	if (!runs || !json_object_is_type(runs, json_type_array))
		return;
	failure_details(root, runs, out);
	leaks(root, runs, out);
	reach(root, runs, out);
}
