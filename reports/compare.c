#include "compare.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "headline.h"
#include "names.h"
#include "results.h"
#include "run_total.h"

/* The metrics compared by default, in table order. */
static const char *const default_metrics[] = {
	"vmas_added", "vmas_peak", "vmas_leaked",
	"syscalls.mmap.calls", "syscalls.mprotect.calls", "syscalls.munmap.calls",
	"syscalls.madvise.calls", "syscalls.memfd_create.calls",
	"syscalls.ftruncate.calls", "syscalls.pwrite64.calls",
	"reach_failures", "reloc_reach_failures", "reach_failures_aarch64",
	"va_reserved_peak_bytes", "bytes_mapped_peak", "bytes_wasted",
	"page_faults_minor", "rss_added_bytes",
	"wall_ns", "latency.allocate.p50_ns", "latency.finalize.p50_ns",
};
#define NDEFAULT (sizeof(default_metrics) / sizeof(default_metrics[0]))

enum jm_metric_kind jm_metric_kind(const char *m)
{
	size_t l = strlen(m);
	if (l > 3 && !strcmp(m + l - 3, "_ns"))
		return JM_KIND_TIMING;
	/* the kernel decides these (page-fault batching, THP, readahead) */
	if (!strcmp(m, "page_faults_minor") || !strcmp(m, "page_faults_major") ||
	    !strncmp(m, "rss_", 4) || !strncmp(m, "probe.", 6))
		return JM_KIND_MEASURED;
	return JM_KIND_EXACT;
}

double jm_metric_default_pct(enum jm_metric_kind k)
{
	return k == JM_KIND_EXACT ? 0 : k == JM_KIND_MEASURED ? 5 : 10;
}

void jm_cmp_opts_default(struct jm_cmp_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->min_reps = 3;
}

int jm_cmp_threshold_parse(struct jm_cmp_opts *o, const char *text, char *err,
			   size_t errlen)
{
	const char *eq = strchr(text, '=');
	if (!eq || eq == text || (size_t)(eq - text) >= sizeof(o->th[0].metric)) {
		snprintf(err, errlen, "'%s' is not METRIC=PCT (e.g. wall_ns=15)", text);
		return -1;
	}
	char *end;
	double pct = strtod(eq + 1, &end);
	if (end == eq + 1 || (*end && strcmp(end, "%")) || !(pct >= 0) || pct > 1e6) {
		snprintf(err, errlen, "'%s': '%s' is not a percentage >= 0", text, eq + 1);
		return -1;
	}
	if (o->nth >= JM_CMP_MAX_THRESHOLDS) {
		snprintf(err, errlen, "at most %d thresholds", JM_CMP_MAX_THRESHOLDS);
		return -1;
	}
	snprintf(o->th[o->nth].metric, sizeof(o->th[0].metric), "%.*s", (int)(eq - text), text);
	o->th[o->nth++].pct = pct;
	return 0;
}

static int threshold_of(const struct jm_cmp_opts *o, const char *m, double *pct)
{
	for (int i = o->nth - 1; i >= 0; i--)
		if (!strcmp(o->th[i].metric, m)) {
			*pct = o->th[i].pct;
			return 1;
		}
	*pct = jm_metric_default_pct(jm_metric_kind(m));
	return 0;
}

/* "aggregates", computed from the runs if the file has none */
static void aggregates(json_object *root)
{
	json_object *a = jm_json_path(root, "aggregates");
	if (!a || !json_object_is_type(a, json_type_array) || !json_object_array_length(a))
		jm_results_aggregate(root);
}

/* The first entry of aggs (indexed by ix) with this group key, or NULL. */
static json_object *find(json_object *aggs, const struct jm_group_index *ix, const char *key)
{
	size_t pos = jm_group_index_lower(ix, key);
	return jm_group_index_match(ix, pos, key) ? json_object_array_get_idx(aggs, ix->order[pos])
						   : NULL;
}

static double ok_runs(json_object *agg)
{
	double runs = 0, failed = 0;
	jm_json_num(agg, "runs", &runs);
	jm_json_num(agg, "failed", &failed);
	return runs - failed;
}

static void num_text(const char *m, double v, char *buf, size_t len)
{
	size_t l = strlen(m);
	if (l > 6 && !strcmp(m + l - 6, "_bytes"))
		jm_bytes_text(v, buf, len);
	else if (!strcmp(m, "bytes_wasted"))
		jm_bytes_text(v, buf, len);
	else if (l > 3 && !strcmp(m + l - 3, "_ns"))
		snprintf(buf, len, fabs(v) >= 1e6 ? "%.3f ms" : "%.2f us",
			 fabs(v) >= 1e6 ? v / 1e6 : v / 1e3);
	else
		snprintf(buf, len, "%.0f", v);
}

/* what one comparison prints: names from root (names.h) */
struct cmp {
	json_object *root;
	FILE *out;
};

static void row(const struct cmp *c, json_object *a, const char *metric, double b, double n,
		const char *verdict)
{
	char wl[JM_NAME_MAX], be[JM_NAME_MAX], bt[48], nt[48], dt[48], rt[32];
	jm_name_workload(c->root, a, wl, sizeof(wl));
	jm_name_backend(c->root, a, be, sizeof(be));
	num_text(metric, b, bt, sizeof(bt));
	num_text(metric, n, nt, sizeof(nt));
	num_text(metric, fabs(n - b), dt + 1, sizeof(dt) - 1);
	dt[0] = n >= b ? '+' : '-';
	if (b != 0)
		snprintf(rt, sizeof(rt), "%.3fx", n / b);
	else
		snprintf(rt, sizeof(rt), "%s", n == 0 ? "1.000x" : "new");
	fprintf(c->out, "| %s | %s | %s | %s | %s | %s | %s | %s |\n", wl, be, metric, bt, nt, dt,
		rt, verdict);
}

static void judge(const struct cmp *c, json_object *ba, json_object *na, const char *m,
		  const struct jm_cmp_opts *o, struct jm_cmp_result *res)
{
	double b, n, bmin, bmax, nmin, nmax;
	if (jm_total_agg(ba, m, &b, &bmin, &bmax) < 0 || jm_total_agg(na, m, &n, &nmin, &nmax) < 0)
		return;
	double pct;
	int explicit_th = threshold_of(o, m, &pct);
	(void)explicit_th;
	enum jm_metric_kind k = jm_metric_kind(m);
	char verdict[128];
	if (k == JM_KIND_TIMING && (ok_runs(ba) < o->min_reps || ok_runs(na) < o->min_reps)) {
		if (b == n)
			return;
		snprintf(verdict, sizeof(verdict), "not judged: %.0f and %.0f repetitions, needs %d",
			 ok_runs(ba), ok_runs(na), o->min_reps);
		res->not_judged++;
		row(c, na, m, b, n, verdict);
		return;
	}
	double limit = b * (1 + pct / 100), floor_ = b * (1 - pct / 100);
	/* a timing moved only if the ranges over repetitions do not overlap
	 * as well: one slow repetition is noise, all of them is a change */
	int apart_up = k != JM_KIND_TIMING || nmin > bmax;
	int apart_down = k != JM_KIND_TIMING || nmax < bmin;
	if (n > b && n > limit && apart_up) {
		snprintf(verdict, sizeof(verdict), "**REGRESSION** (> %g%%)", pct);
		res->regressions++;
	} else if (n < b && n < floor_ && apart_down) {
		snprintf(verdict, sizeof(verdict), "improvement");
		res->improvements++;
	} else if (n != b) {
		snprintf(verdict, sizeof(verdict), k == JM_KIND_TIMING ? "within %g%% or ranges overlap"
								      : "within %g%%", pct);
		res->within++;
	} else {
		res->unchanged++;
		return;
	}
	row(c, na, m, b, n, verdict);
}

int jm_compare(json_object *base, json_object *neu, const struct jm_cmp_opts *o,
	       FILE *out, struct jm_cmp_result *res, char *err, size_t errlen)
{
	memset(res, 0, sizeof(*res));
	/* both computed before either is held: with base == neu the second
	 * computation would replace the first array */
	aggregates(base);
	aggregates(neu);
	json_object *ba = jm_json_path(base, "aggregates"), *na = jm_json_path(neu, "aggregates");
	struct jm_group_index bx, nx;
	jm_group_index_build(ba, &bx);
	jm_group_index_build(na, &nx);
	size_t nb = bx.n, nn = nx.n;
	for (size_t i = 0; i < nn; i++)
		if (find(ba, &bx, nx.key[i]))
			res->matched++;
	if (!res->matched) {
		snprintf(err, errlen, "no (backend, options, workload) in common: the files "
				      "ran different matrices");
		jm_group_index_free(&bx);
		jm_group_index_free(&nx);
		return -1;
	}
	struct cmp c = {neu, out};
	fprintf(out, "| workload | backend | metric | base | new | delta | ratio | verdict |\n"
		     "|---|---|---|--:|--:|--:|--:|---|\n");
	for (size_t i = 0; i < nn; i++) {
		json_object *n = json_object_array_get_idx(na, i);
		json_object *b = find(ba, &bx, nx.key[i]);
		if (!b)
			continue;
		/* more failed runs is a regression whatever the metrics say */
		double bf = 0, nf = 0;
		jm_json_num(b, "failed", &bf);
		jm_json_num(n, "failed", &nf);
		if (nf > bf) {
			row(&c, n, "failed runs", bf, nf, "**REGRESSION** (runs failed)");
			res->regressions++;
		}
		for (size_t m = 0; m < NDEFAULT; m++)
			judge(&c, b, n, default_metrics[m], o, res);
		for (int t = 0; t < o->nth; t++) {
			int dflt = 0;
			for (size_t m = 0; m < NDEFAULT; m++)
				dflt |= !strcmp(default_metrics[m], o->th[t].metric);
			int dup = 0;
			for (int u = 0; u < t; u++)
				dup |= !strcmp(o->th[u].metric, o->th[t].metric);
			if (!dflt && !dup)
				judge(&c, b, n, o->th[t].metric, o, res);
		}
	}
	fprintf(out, "\n%d matched (backend, options, workload); %d regression%s, %d improvement%s, "
		     "%d changed within threshold, %d not judged, %d metric%s unchanged.\n",
		res->matched, res->regressions, res->regressions == 1 ? "" : "s",
		res->improvements, res->improvements == 1 ? "" : "s", res->within,
		res->not_judged, res->unchanged, res->unchanged == 1 ? "" : "s");
	for (size_t i = 0; i < nb; i++) {
		json_object *b = json_object_array_get_idx(ba, i);
		if (!find(na, &nx, bx.key[i])) {
			if (!res->only_base++)
				fprintf(out, "\nOnly in BASE (not compared):\n");
			char name[JM_NAME_MAX];
			jm_name_config(base, b, name, sizeof(name));
			fprintf(out, "- %s\n", name);
		}
	}
	for (size_t i = 0; i < nn; i++) {
		json_object *n = json_object_array_get_idx(na, i);
		if (!find(ba, &bx, nx.key[i])) {
			if (!res->only_new++)
				fprintf(out, "\nOnly in NEW (not compared):\n");
			char name[JM_NAME_MAX];
			jm_name_config(neu, n, name, sizeof(name));
			fprintf(out, "- %s\n", name);
		}
	}
	fprintf(out, "\nThresholds: counts (VMAs, syscalls, reach failures, VA and mapped bytes) "
		     "regress on any increase; page faults and RSS beyond 5%%; timings (*_ns) beyond "
		     "10%% with disjoint min-max ranges, and only with at least %d repetitions on both sides", o->min_reps);
	for (int t = 0; t < o->nth; t++)
		fprintf(out, "%s%s=%g%%", t ? ", " : "; overridden: ", o->th[t].metric, o->th[t].pct);
	fprintf(out, ".\n");
	jm_group_index_free(&bx);
	jm_group_index_free(&nx);
	return 0;
}
