#include "headline.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "results.h"
#include "run_total.h"

void jm_ratio_text(double base, double cand, char *buf, size_t len)
{
	/* within 5% either way is noise for a headline ratio (as main's) */
	if (base == cand || (base > 0 && cand > 0 && cand / base < 1.05 && base / cand < 1.05))
		snprintf(buf, len, "same");
	else if (cand <= 0)
		snprintf(buf, len, "%s", base > 0 ? "none added" : "same");
	else if (base <= 0)
		snprintf(buf, len, "baseline 0");
	else {
		int fewer = cand < base;
		double r = fewer ? base / cand : cand / base;
		/* enough digits that a 0.1% difference does not print "1.0x" */
		const char *fmt = r >= 10 ? "%.0fx %s" : r >= 1.1 ? "%.1fx %s" : "%.3fx %s";
		snprintf(buf, len, fmt, r, fewer ? "fewer" : "more");
	}
}

void jm_bytes_text(double b, char *buf, size_t len)
{
	const char *u[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	int i = 0;
	double neg = b < 0 ? -1 : 1;
	b = fabs(b);
	while (b >= 1024 && i < 4) {
		b /= 1024;
		i++;
	}
	if (i == 0)
		snprintf(buf, len, "%.0f %s", neg * b, u[i]);
	else
		snprintf(buf, len, "%.1f %s", neg * b, u[i]);
}

static double med(json_object *agg, const char *metric)
{
	double m = NAN;
	jm_agg_metric(agg, metric, &m, NULL, NULL);
	return m;
}

static void count_cell(char *buf, size_t len, double v)
{
	if (isnan(v))
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%.0f", v);
}

static void bytes_cell(char *buf, size_t len, double v)
{
	if (isnan(v))
		snprintf(buf, len, "-");
	else
		jm_bytes_text(v, buf, len);
}

/* metric over both processes (run_total.h): the measured process's count,
 * an executor's part beside it, the range when the repetitions differ */
static void total_cell(json_object *b, const char *metric, char *buf, size_t len)
{
	double v, lo, hi;
	if (jm_total_agg(b, metric, &v, &lo, &hi) < 0) {
		snprintf(buf, len, "-");
		return;
	}
	double ex = jm_total_executor(b, metric);
	if (ex > 0)
		snprintf(buf, len, "%.0f (+%.0f executor)", v - ex, ex);
	else if (lo == hi)
		snprintf(buf, len, "%.0f", v);
	else
		snprintf(buf, len, "%.0f [%.0f-%.0f]", v, lo, hi);
}

static void context_sentence(json_object *root, char *buf, size_t len)
{
	json_object *c = jm_json_path(root, "context");
	double reps = 0, ps = 0, mmc = 0, warm = 0;
	jm_json_num(root, "config.repeat", &reps);
	jm_json_num(root, "config.warmup", &warm);
	jm_json_num(c, "page_size", &ps);
	jm_json_num(c, "vm_max_map_count", &mmc);
	const char *probe = jm_json_str(root, "config.probe_used", "procfs");
	const char *why = jm_json_str(root, "config.probe_fallback_reason", "");
	json_object *oc = jm_json_path(c, "vm_overcommit_memory");
	snprintf(buf, len,
		 "Probe: %s%s%s%s. Kernel %s (%s), page size %.0f B, vm.max_map_count %.0f, "
		 "THP %s, overcommit %s; jitmm %s (%s). Each cell is the "
		 "median over %.0f repetition%s%s, range in brackets; ±: the coefficient of "
		 "variation (standard deviation / mean).",
		 probe, *why ? " (" : "", why, *why ? ")" : "",
		 jm_json_str(c, "kernel", "?"), jm_json_str(c, "arch", "?"), ps, mmc,
		 jm_json_str(c, "thp_enabled", "?"), oc ? json_object_get_string(oc) : "?",
		 jm_json_str(c, "jitmm_version", "?"), jm_json_str(c, "jitmm_git_sha", "?"),
		 reps, reps == 1 ? "" : "s",
		 warm == 1 ? " after a warm-up run (dropped)"
			   : warm > 1 ? " after warm-up runs (dropped)" : "");
	/* the real LLVM classes the llvm-* runs loaded (run.backend_info) */
	json_object *runs = jm_json_path(root, "runs");
	size_t n = runs && json_object_is_type(runs, json_type_array)
		? json_object_array_length(runs) : 0;
	for (size_t i = 0; i < n; i++) {
		json_object *r = json_object_array_get_idx(runs, i);
		char one[600];
		if (!jm_json_path(r, "backend_info.llvm_version"))
			continue;
		snprintf(one, sizeof(one), " LLVM %s (plugin %s)",
			 jm_json_str(r, "backend_info.llvm_version", "?"),
			 jm_json_str(r, "backend_info.llvm_plugin", "?"));
		if (strstr(buf, one))
			continue;
		size_t used = strlen(buf);
		snprintf(buf + used, len - used, "%s.", one);
	}
}

static void fill_row(json_object *b, json_object *base, char (*cell)[JM_HL_CELL])
{
	double runs = 0, failed = 0, v, lo, hi;
	jm_json_num(b, "runs", &runs);
	jm_json_num(b, "failed", &failed);
	if (failed == 0)
		snprintf(cell[1], JM_HL_CELL, "ok");
	else
		snprintf(cell[1], JM_HL_CELL, "%.0f/%.0f failed", failed, runs);
	double base_vmas = NAN;
	if (base)
		jm_total_agg(base, "vmas_added", &base_vmas, NULL, NULL);
	/* an out-of-process backend's mappings live in its executor: count
	 * them too, or the ratio would flatter it */
	if (jm_total_agg(b, "vmas_added", &v, &lo, &hi) == 0) {
		total_cell(b, "vmas_added", cell[2], JM_HL_CELL);
		if (base == b)
			snprintf(cell[3], JM_HL_CELL, "baseline");
		else if (!isnan(base_vmas))
			jm_ratio_text(base_vmas, v, cell[3], JM_HL_CELL);
		else
			snprintf(cell[3], JM_HL_CELL, "-");
	} else {
		snprintf(cell[2], JM_HL_CELL, "-");
		snprintf(cell[3], JM_HL_CELL, "-");
	}
	count_cell(cell[4], JM_HL_CELL, med(b, "vmas_peak"));
	total_cell(b, "syscalls.mmap.calls", cell[5], JM_HL_CELL);
	total_cell(b, "syscalls.mprotect.calls", cell[6], JM_HL_CELL);
	total_cell(b, "syscalls.munmap.calls", cell[7], JM_HL_CELL);
	count_cell(cell[8], JM_HL_CELL, med(b, "page_faults_minor"));
	bytes_cell(cell[9], JM_HL_CELL, med(b, "rss_added_bytes"));
	bytes_cell(cell[10], JM_HL_CELL, med(b, "va_reserved_peak_bytes"));
	bytes_cell(cell[11], JM_HL_CELL, med(b, "bytes_wasted"));
	/* relocations the harness could not resolve (linker/reloc.h); a
	 * backend that counts its own out-of-reach placements adds them */
	double reloc = med(b, "reloc_reach_failures"), placed = med(b, "reach_failures");
	if (isnan(reloc))
		count_cell(cell[12], JM_HL_CELL, placed);
	else if (!isnan(placed) && placed > 0)
		snprintf(cell[12], JM_HL_CELL, "%.0f (+%.0f placement)", reloc, placed);
	else
		count_cell(cell[12], JM_HL_CELL, reloc);
	jm_wall_text(b, cell[13], JM_HL_CELL);
}

void jm_wall_text(json_object *agg, char *buf, size_t len)
{
	double v, lo, hi, mean, sd;
	if (jm_agg_metric(agg, "wall_ns", &v, &lo, &hi) < 0) {
		snprintf(buf, len, "-");
		return;
	}
	int n = snprintf(buf, len, "%.2f", v / 1e6);
	if (lo != hi && n > 0 && (size_t)n < len)
		n += snprintf(buf + n, len - (size_t)n, " [%.2f-%.2f]", lo / 1e6, hi / 1e6);
	if (jm_agg_spread(agg, "wall_ns", &mean, &sd) == 0 && sd > 0 && mean > 0 && n > 0 &&
	    (size_t)n < len)
		snprintf(buf + n, len - (size_t)n, " ±%.0f%%", 100 * sd / mean);
}

/* An aggregate's place in the tables: sorted by workload, then by
 * backend, in n log n (comparing every pair took minutes on 100,000
 * aggregates). */
struct entry {
	const char *ws, *backend; /* backend NULL: none given */
	size_t i;                 /* in "aggregates" */
};

static int by_workload(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	int c = strcmp(x->ws, y->ws);
	return c ? c : (x->i > y->i) - (x->i < y->i);
}

struct span {
	size_t from, to; /* a workload's entries */
	size_t first;    /* its first aggregate's index */
};

static int by_first(const void *a, const void *b)
{
	const struct span *x = a, *y = b;
	return (x->first > y->first) - (x->first < y->first);
}

/* One table: the entries e[0..m) of one workload, in results order. */
static void fill_table(json_object *root, json_object *aggs, const struct entry *e, size_t m,
		       const char *baseline, struct jm_hl_table *t)
{
	json_object *a = json_object_array_get_idx(aggs, e[0].i);
	jm_name_workload(root, a, t->workload, sizeof(t->workload));
	snprintf(t->workload_spec, sizeof(t->workload_spec), "%s", e[0].ws);
	t->graphs = med(a, "graphs");
	t->cell = calloc(m, sizeof(*t->cell));
	t->name = calloc(m, sizeof(*t->name));
	t->agg = calloc(m, sizeof(*t->agg));
	if (!t->cell || !t->name || !t->agg)
		abort();
	json_object *base = NULL;
	for (size_t k = 0; k < m && !base; k++)
		if (e[k].backend && !strcmp(e[k].backend, baseline))
			base = json_object_array_get_idx(aggs, e[k].i);
	for (size_t k = 0; k < m; k++) {
		json_object *b = json_object_array_get_idx(aggs, e[k].i);
		t->agg[t->nrows] = b;
		fill_row(b, base, t->cell[t->nrows]);
		jm_name_backend(root, b, t->name[t->nrows], sizeof(t->name[0]));
		/* the first backend's runs may all have failed */
		if (isnan(t->graphs))
			t->graphs = med(b, "graphs");
		t->nrows++;
	}
}

void jm_headline_build(json_object *root, const char *baseline,
		       struct jm_headline *h)
{
	memset(h, 0, sizeof(*h));
	static const char *const heads[JM_HL_COLS] = {
		"backend", "status", "VMAs added (count)", "vs baseline (VMAs added)",
		"VMAs peak (count)", "mmap (calls)", "mprotect (calls)", "munmap (calls)",
		"minor faults (count)", "RSS added (bytes)", "VA reserved peak (bytes)",
		"wasted, mapped - live (bytes)", "reach failures (count)",
		"wall (ms) [range] ±CV",
	};
	for (int i = 0; i < JM_HL_COLS; i++)
		snprintf(h->head[i], sizeof(h->head[i]), "%s", heads[i]);
	snprintf(h->head[3], sizeof(h->head[3]), "vs %s (VMAs added)", baseline);
	context_sentence(root, h->context, sizeof(h->context));
	json_object *aggs = jm_json_path(root, "aggregates");
	if (!aggs || !json_object_is_type(aggs, json_type_array))
		return;
	size_t n = json_object_array_length(aggs), nspans = 0;
	struct entry *e = malloc((n ? n : 1) * sizeof(*e));
	struct span *sp = malloc((n ? n : 1) * sizeof(*sp));
	if (!e || !sp)
		abort();
	for (size_t i = 0; i < n; i++) {
		json_object *a = json_object_array_get_idx(aggs, i);
		e[i] = (struct entry){jm_json_str(a, "workload_spec", ""),
				      jm_json_str(a, "backend", NULL), i};
	}
	qsort(e, n, sizeof(*e), by_workload);
	for (size_t i = 0; i < n;) {
		size_t j = i + 1;
		while (j < n && !strcmp(e[j].ws, e[i].ws))
			j++;
		sp[nspans++] = (struct span){i, j, e[i].i};
		i = j;
	}
	/* tables in the order their workloads first appear */
	qsort(sp, nspans, sizeof(*sp), by_first);
	h->t = calloc(nspans ? nspans : 1, sizeof(*h->t));
	if (!h->t)
		abort();
	for (size_t k = 0; k < nspans; k++)
		fill_table(root, aggs, e + sp[k].from, sp[k].to - sp[k].from, baseline,
			   &h->t[h->ntables++]);
	free(e);
	free(sp);
}

void jm_headline_free(struct jm_headline *h)
{
	for (int i = 0; i < h->ntables; i++) {
		free(h->t[i].cell);
		free(h->t[i].name);
		free(h->t[i].agg);
	}
	free(h->t);
	h->t = NULL;
	h->ntables = 0;
}
