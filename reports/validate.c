/* jitmm validate's tables: see validate.h. */
#include "validate.h"

#include <math.h>
#include <string.h>

#include "headline.h"
#include "results.h"
#include "run_total.h"

/* A metric as validate reads it: the run's total (an executor's part
 * included, run_total.h), less minus. */
static const struct metric {
	const char *title;
	const char *name;
	const char *minus;
	int measured; /* the kernel's counts and sizes: tol_measured */
	int bytes;
} metrics[] = {
	{"VMAs added", "vmas_added", NULL, 0, 0},
	{"VMAs peak", "vmas_peak", "vmas_before", 0, 0},
	{"mmap", "syscalls.mmap.calls", NULL, 0, 0},
	{"mprotect", "syscalls.mprotect.calls", NULL, 0, 0},
	{"munmap", "syscalls.munmap.calls", NULL, 0, 0},
	{"minor faults", "page_faults_minor", NULL, 1, 0},
	{"RSS added", "rss_added_bytes", NULL, 1, 1},
	{"VA reserved", "va_reserved_peak_bytes", NULL, 0, 1},
};
#define NMETRICS (sizeof(metrics) / sizeof(metrics[0]))

static double value(json_object *agg, const struct metric *m)
{
	double v = 0, x;
	jm_total_agg(agg, m->name, &v, NULL, NULL);
	if (m->minus && jm_agg_metric(agg, m->minus, &x, NULL, NULL) == 0)
		v -= x;
	return v;
}

/* The aggregate of backend on workload_spec with an ok run, or NULL. */
static json_object *find(json_object *aggs, const char *backend, const char *ws)
{
	size_t n = json_object_array_length(aggs);
	for (size_t i = 0; i < n; i++) {
		json_object *a = json_object_array_get_idx(aggs, i);
		double runs = 0, failed = 0;
		jm_json_num(a, "runs", &runs);
		jm_json_num(a, "failed", &failed);
		if (!strcmp(jm_json_str(a, "backend", ""), backend) &&
		    !strcmp(jm_json_str(a, "workload_spec", ""), ws) && runs > failed)
			return a;
	}
	return NULL;
}

/* What the real side ran: "LLVM 22.1.8, plugin PATH" from a run's
 * backend_info. */
static void real_text(json_object *root, const char *real, char *buf, size_t len)
{
	snprintf(buf, len, "no run of it completed");
	json_object *runs = jm_json_path(root, "runs");
	size_t n = runs && json_object_is_type(runs, json_type_array)
		? json_object_array_length(runs) : 0;
	for (size_t i = 0; i < n; i++) {
		json_object *r = json_object_array_get_idx(runs, i);
		if (strcmp(jm_json_str(r, "backend", ""), real) ||
		    !jm_json_path(r, "backend_info.llvm_version"))
			continue;
		snprintf(buf, len, "LLVM %s, plugin %s",
			 jm_json_str(r, "backend_info.llvm_version", "?"),
			 jm_json_str(r, "backend_info.llvm_plugin", "?"));
		return;
	}
}

static void number(const struct metric *m, double v, char *buf, size_t len)
{
	if (m->bytes)
		jm_bytes_text(v, buf, len);
	else
		snprintf(buf, len, "%.0f", v);
}

/* (model - real) / real in percent; 0 when equal, infinite from 0. */
static double error_pct(double real, double model)
{
	if (real == model)
		return 0;
	if (real == 0)
		return model > 0 ? INFINITY : -INFINITY;
	return (model - real) / fabs(real) * 100;
}

static void print_pair(json_object *root, json_object *aggs, const struct jm_validate_pair *p,
		       const struct jm_validate_opts *o, FILE *out, struct jm_validate_result *res)
{
	char real[600];
	real_text(root, p->real, real, sizeof(real));
	fprintf(out, "### %s: real `%s` (%s) vs model `%s`\n\n", p->name, p->real, real,
		p->model);
	fprintf(out, "| workload |");
	for (size_t k = 0; k < NMETRICS; k++)
		fprintf(out, " %s |", metrics[k].title);
	fprintf(out, "\n|---|");
	for (size_t k = 0; k < NMETRICS; k++)
		fprintf(out, "--:|");
	fprintf(out, "\n");
	size_t n = json_object_array_length(aggs);
	for (size_t i = 0; i < n; i++) {
		json_object *a = json_object_array_get_idx(aggs, i);
		const char *b = jm_json_str(a, "backend", ""), *ws = jm_json_str(a, "workload_spec", "");
		if (strcmp(b, p->model) && strcmp(b, p->real))
			continue;
		/* each workload once, where either side first appears */
		int seen = 0;
		for (size_t j = 0; j < i && !seen; j++) {
			json_object *e = json_object_array_get_idx(aggs, j);
			const char *eb = jm_json_str(e, "backend", "");
			seen = (!strcmp(eb, p->model) || !strcmp(eb, p->real)) &&
			       !strcmp(jm_json_str(e, "workload_spec", ""), ws);
		}
		if (seen)
			continue;
		fprintf(out, "| %s |", jm_json_str(a, "workload", "?"));
		json_object *ar = find(aggs, p->real, ws), *am = find(aggs, p->model, ws);
		if (!ar || !am) {
			res->missing++;
			for (size_t k = 0; k < NMETRICS; k++)
				fprintf(out, " %s failed |", !ar ? "real" : "model");
			fprintf(out, "\n");
			continue;
		}
		for (size_t k = 0; k < NMETRICS; k++) {
			const struct metric *m = &metrics[k];
			double vr = value(ar, m), vm = value(am, m), e = error_pct(vr, vm);
			double tol = m->measured ? o->tol_measured : o->tol_count;
			double floor = !m->measured ? 0
				: m->bytes ? o->floor_pages * o->page_size : o->floor_pages;
			int over = !(fabs(e) <= tol) && !(fabs(vm - vr) <= floor);
			char tr[32], tm[32];
			number(m, vr, tr, sizeof(tr));
			number(m, vm, tm, sizeof(tm));
			res->cells++;
			res->over += over;
			fprintf(out, " %s%s / %s (%+.1f%%)%s |", over ? "**" : "", tr, tm, e,
				over ? "**" : "");
		}
		fprintf(out, "\n");
	}
	fprintf(out, "\n");
}

void jm_validate_print(json_object *root, const struct jm_validate_pair *pairs, int npairs,
		       const struct jm_validate_opts *o, FILE *out,
		       struct jm_validate_result *res)
{
	memset(res, 0, sizeof(*res));
	json_object *aggs = jm_json_path(root, "aggregates");
	if (!aggs || !json_object_is_type(aggs, json_type_array) ||
	    !json_object_array_length(aggs)) {
		jm_results_aggregate(root);
		aggs = jm_json_path(root, "aggregates");
	}
	fprintf(out, "## Models vs the real LLVM classes\n\n"
		"Each cell: real / model (error = (model - real) / real); **bold** beyond "
		"the tolerance: %g%% for counts (VMAs, syscalls, VA reserved); for the "
		"kernel-measured minor faults and RSS %g%% or %g pages, whichever is "
		"more. VMAs, mmap, mprotect and munmap include an executor process's; "
		"VMAs peak is the measured process's alone, above its count before the "
		"run.\n\n", o->tol_count,
		o->tol_measured, o->floor_pages);
	for (int i = 0; i < npairs; i++)
		print_pair(root, aggs, &pairs[i], o, out, res);
	fprintf(out, "%d of %d comparisons within tolerance", res->cells - res->over,
		res->cells);
	if (res->missing)
		fprintf(out, "; %d (pair, workload) without a completed run of both", res->missing);
	fprintf(out, ".\n");
}
