/* The quotable summary: see summary.h. */
#include "summary.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "headline.h"
#include "diagnostics.h"
#include "names.h"
#include "results.h"
#include "run_total.h"

/* The memory syscalls a backend makes, summed (each the run's total). */
static const char *const syscall_metrics[] = {
	"syscalls.mmap.calls", "syscalls.mprotect.calls", "syscalls.munmap.calls",
	"syscalls.madvise.calls",
};

double jm_summary_value(json_object *agg, const char *what)
{
	double v = NAN, x;
	if (!strcmp(what, "syscalls")) {
		for (size_t i = 0; i < sizeof(syscall_metrics) / sizeof(syscall_metrics[0]); i++)
			if (jm_total_agg(agg, syscall_metrics[i], &x, NULL, NULL) == 0)
				v = isnan(v) ? x : v + x;
		return v;
	}
	if (!strcmp(what, "reach")) {
		/* the harness's relocations and a backend's own placements */
		double a = NAN, b = NAN;
		jm_total_agg(agg, "reloc_reach_failures", &a, NULL, NULL);
		jm_total_agg(agg, "reach_failures", &b, NULL, NULL);
		return isnan(a) ? b : isnan(b) ? a : a + b;
	}
	jm_total_agg(agg, what, &v, NULL, NULL);
	return v;
}

/* a control (null) is not a memory manager: it never wins */
static int is_control(json_object *root, json_object *agg)
{
	json_object *bl = jm_json_path(root, "config.backends");
	size_t n = bl && json_object_is_type(bl, json_type_array) ? json_object_array_length(bl) : 0;
	const char *b = jm_json_str(agg, "backend", "");
	for (size_t i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(bl, i), *c;
		if (!strcmp(jm_json_str(e, "name", ""), b) && json_object_object_get_ex(e, "control", &c))
			return json_object_get_boolean(c);
	}
	return 0;
}

static int ok_runs(json_object *agg)
{
	double runs = 0, failed = 0;
	jm_json_num(agg, "runs", &runs);
	jm_json_num(agg, "failed", &failed);
	return (int)(runs - failed);
}

static void amount(const char *what, double v, char *buf, size_t len)
{
	if (!strcmp(what, "rss_added_bytes") || !strcmp(what, "va_reserved_peak_bytes"))
		jm_bytes_text(v, buf, len);
	else
		snprintf(buf, len, "%.0f", v);
}

/* "243x fewer VMAs", "same memory syscalls", "3.0x the address space
 * (48.0 MiB)", "4.0x less RSS (1.9 MiB)", "no VMAs"; within 5% is the
 * same, as in the tables (jm_ratio_text). */
static void relation(const char *what, const char *noun, double base, double cand, char *buf,
		     size_t len)
{
	char r[64], amt[32];
	int bytes = !strcmp(what, "rss_added_bytes") || !strcmp(what, "va_reserved_peak_bytes");
	amount(what, cand, amt, sizeof(amt));
	jm_ratio_text(base, cand, r, sizeof(r));
	double x = cand > base ? cand / base : base / cand;
	const char *fmt = x >= 10 ? "%.0fx %s %s (%s)" : "%.1fx %s %s (%s)";
	if (!strcmp(r, "same"))
		snprintf(buf, len, "same %s", noun);
	else if (cand <= 0)
		snprintf(buf, len, "no %s", noun);
	else if (base <= 0)
		snprintf(buf, len, "%s %s where the baseline has none", amt, noun);
	else if (bytes)
		snprintf(buf, len, fmt, x, cand > base ? "the" : "less", noun, amt);
	else
		snprintf(buf, len, "%s %s", r, noun);
}

static const struct {
	const char *what, *title, *noun;
} dims[] = {
	{"vmas_added", "Fewest VMAs added", "VMAs"},
	{"syscalls", "Fewest memory syscalls (mmap, mprotect, munmap, madvise)", "memory syscalls"},
	{"rss_added_bytes", "Least RSS added", "RSS"},
	{"va_reserved_peak_bytes", "Least address space reserved", "address space"},
};
#define NDIMS (sizeof(dims) / sizeof(dims[0]))

/* The names of the aggregates (of w's n) that reach the least value of
 * dim, ties together: "per-prot and julia-blocks", at most three named. */
static double winners(json_object *root, json_object *const *agg, int n, const char *what,
		      char *names, size_t len, int *first)
{
	double best = NAN;
	*first = -1;
	for (int i = 0; i < n; i++) {
		double v = jm_summary_value(agg[i], what);
		if (is_control(root, agg[i]) || !ok_runs(agg[i]) || isnan(v))
			continue;
		if (isnan(best) || v < best) {
			best = v;
			*first = i;
		}
	}
	names[0] = 0;
	int k = 0, more = 0;
	for (int i = 0; i < n && !isnan(best); i++) {
		if (is_control(root, agg[i]) || !ok_runs(agg[i]) || jm_summary_value(agg[i], what) != best)
			continue;
		if (k == 3) {
			more++;
			continue;
		}
		char nm[JM_NAME_MAX];
		jm_name_backend(root, agg[i], nm, sizeof(nm));
		size_t used = strlen(names);
		/* "a", "a and b", "a, b and c" */
		int last = 1;
		for (int j = i + 1; j < n && last; j++)
			last = is_control(root, agg[j]) || !ok_runs(agg[j]) ||
			       jm_summary_value(agg[j], what) != best;
		snprintf(names + used, len - used, "%s%s", !k ? "" : last && k < 3 ? " and " : ", ",
			 nm);
		k++;
	}
	if (more) {
		size_t used = strlen(names);
		snprintf(names + used, len - used, " and %d more", more);
	}
	return best;
}

/* "per-prot: 243x fewer VMAs than single-pool, same memory syscalls, same
 * RSS, 3.0x the address space (48.0 MiB)" */
static void cost_line(json_object *root, json_object *w, json_object *base, const char *bname,
		      FILE *out)
{
	char nm[JM_NAME_MAX], rel[160];
	jm_name_backend(root, w, nm, sizeof(nm));
	fprintf(out, "- **%s**:", nm);
	for (size_t d = 0; d < NDIMS; d++) {
		double b = jm_summary_value(base, dims[d].what), c = jm_summary_value(w, dims[d].what);
		if (isnan(b) || isnan(c))
			continue;
		relation(dims[d].what, dims[d].noun, b, c, rel, sizeof(rel));
		fprintf(out, "%s %s", d ? "," : "", rel);
		if (!d)
			fprintf(out, " %s %s", strncmp(rel, "same", 4) ? "than" : "as", bname);
	}
	fputs(".\n", out);
}

/* The first run of agg's group that did not succeed. */
static json_object *first_failed_run(json_object *root, json_object *agg)
{
	json_object *runs = jm_json_path(root, "runs"), *found = NULL;
	size_t n = runs && json_object_is_type(runs, json_type_array) ? json_object_array_length(runs) : 0;
	char *key = jm_group_key(agg);
	for (size_t i = 0; i < n && !found; i++) {
		json_object *r = json_object_array_get_idx(runs, i);
		if (!strcmp(jm_json_str(r, "status", "ok"), "ok"))
			continue;
		char *k = jm_group_key(r);
		if (!strcmp(k, key))
			found = r;
		free(k);
	}
	free(key);
	return found;
}

void jm_summary_workload(json_object *root, json_object *const *agg, int n, const char *name,
			 const char *baseline, FILE *out)
{
	json_object *base = NULL;
	for (int i = 0; i < n && !base; i++)
		if (!strcmp(jm_json_str(agg[i], "backend", ""), baseline) && ok_runs(agg[i]))
			base = agg[i];
	char bname[JM_NAME_MAX] = "";
	if (base)
		jm_name_backend(root, base, bname, sizeof(bname));
	double graphs = NAN;
	for (int i = 0; i < n && isnan(graphs); i++)
		jm_agg_metric(agg[i], "graphs", &graphs, NULL, NULL);
	fprintf(out, "### %s\n\n", name);
	if (!isnan(graphs))
		fprintf(out, "%.0f graphs; baseline %s.\n\n", graphs, base ? bname : "not run");
	/* each dimension's winners against the baseline; what the VMA
	 * winners cost in the others */
	char names[4 * JM_NAME_MAX], amt[32], bamt[32];
	int first;
	for (size_t d = 0; d < NDIMS; d++) {
		double best = winners(root, agg, n, dims[d].what, names, sizeof(names), &first);
		if (first < 0)
			continue;
		amount(dims[d].what, best, amt, sizeof(amt));
		fprintf(out, "- %s: %s, %s", dims[d].title, names, amt);
		if (base && jm_summary_value(base, dims[d].what) == best)
			fprintf(out, " (the baseline%s)", agg[first] == base ? "" : " too");
		else if (base && !isnan(jm_summary_value(base, dims[d].what))) {
			amount(dims[d].what, jm_summary_value(base, dims[d].what), bamt, sizeof(bamt));
			fprintf(out, " (%s: %s)", bname, bamt);
		}
		fputs(".\n", out);
		if (d == 0 && base && agg[first] != base)
			for (int i = 0, shown = 0; i < n && shown < 2; i++)
				if (!is_control(root, agg[i]) && ok_runs(agg[i]) &&
				    jm_summary_value(agg[i], "vmas_added") == best) {
					fputs("  ", out);
					cost_line(root, agg[i], base, bname, out);
					shown++;
				}
	}
	/* reach: only who failed it, else that none did */
	int out_of_reach = 0, measured = 0;
	for (int i = 0; i < n; i++) {
		double v = jm_summary_value(agg[i], "reach");
		if (!ok_runs(agg[i]) || isnan(v))
			continue;
		measured = 1;
		if (v > 0) {
			char nm[JM_NAME_MAX];
			jm_name_backend(root, agg[i], nm, sizeof(nm));
			fprintf(out, "%s%s (%.0f)", out_of_reach ? ", " : "- Out of relocation reach: ",
				nm, v);
			out_of_reach = 1;
		}
	}
	if (out_of_reach)
		fputs(" graphs with code out of reach of its data or callee.\n", out);
	else if (measured)
		fputs("- Relocation reach: every backend kept code within reach of its data and "
		      "callees.\n", out);
	/* failures, and why (the first failed run's reason) */
	for (int i = 0; i < n; i++) {
		double runs = 0, failed = 0;
		jm_json_num(agg[i], "runs", &runs);
		jm_json_num(agg[i], "failed", &failed);
		if (failed <= 0)
			continue;
		char nm[JM_NAME_MAX], why[1024] = "";
		jm_name_backend(root, agg[i], nm, sizeof(nm));
		json_object *r = first_failed_run(root, agg[i]);
		if (r)
			jm_failure_why(r, why, sizeof(why));
		fprintf(out, "- **%s failed** %.0f of %.0f runs%s%s.\n", nm, failed, runs,
			*why ? ": " : "", why);
	}
	fputc('\n', out);
}

void jm_report_summary(json_object *root, const char *baseline, FILE *out)
{
	struct jm_headline h;
	jm_headline_build(root, baseline, &h);
	if (h.ntables)
		fprintf(out, "## Summary\n\n");
	for (int t = 0; t < h.ntables; t++)
		jm_summary_workload(root, h.t[t].agg, h.t[t].nrows, h.t[t].workload, baseline, out);
	jm_headline_free(&h);
}
