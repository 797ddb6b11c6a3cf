#include "export.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diagnostics.h"
#include "names.h"
#include "results.h"
#include "run_total.h"

/* The exported metrics: aggregate name, Bencher measure slug (latency is
 * Bencher's own, in ns), unit, label, LNT metric (docs/lnt-jitmm.yaml). */
static const struct metric {
	const char *metric, *slug, *unit, *label, *lnt;
} metrics[] = {
	{"vmas_added", "vmas-added", "VMAs", "VMAs added", "vmas_added"},
	{"vmas_peak", "vmas-peak", "VMAs", "VMAs peak", "vmas_peak"},
	{"syscalls.mmap.calls", "mmap-calls", "calls", "mmap calls", "mmap_calls"},
	{"syscalls.mprotect.calls", "mprotect-calls", "calls", "mprotect calls", "mprotect_calls"},
	{"syscalls.munmap.calls", "munmap-calls", "calls", "munmap calls", "munmap_calls"},
	{"page_faults_minor", "minor-faults", "faults", "minor faults", "minor_faults"},
	{"rss_added_bytes", "rss-added-bytes", "bytes", "RSS added", "rss_added_bytes"},
	{"va_reserved_peak_bytes", "va-reserved-bytes", "bytes", "VA reserved peak",
	 "va_reserved_bytes"},
	{"bytes_wasted", "wasted-bytes", "bytes", "wasted bytes", "wasted_bytes"},
	{"reach_failures", "reach-failures", "failures", "reach failures", "reach_failures"},
	{"reloc_reach_failures", "reloc-reach-failures", "failures", "relocation reach failures",
	 "reloc_reach_failures"},
	{"wall_ns", "latency", "ns", "wall time", "execution_time"},
};
#define NMETRICS (sizeof(metrics) / sizeof(metrics[0]))

const char *jm_export_metric_names(void)
{
	return "vmas_added, vmas_peak, syscalls.mmap.calls, syscalls.mprotect.calls, "
	       "syscalls.munmap.calls, page_faults_minor, rss_added_bytes, va_reserved_peak_bytes, "
	       "bytes_wasted, reach_failures, reloc_reach_failures, wall_ns (or their dashboard "
	       "names: vmas-added, mprotect_calls, latency, execution_time, ...)";
}

/* --metrics: which of metrics[] to export; -1 with a message naming an
 * unknown one. */
static int select_metrics(const char *list, int *on, char *err, size_t errlen)
{
	for (size_t m = 0; m < NMETRICS; m++)
		on[m] = !list;
	if (!list)
		return 0;
	for (const char *p = list; *p;) {
		size_t n = strcspn(p, ",");
		int hit = 0;
		for (size_t m = 0; m < NMETRICS; m++) {
			const char *names[] = {metrics[m].metric, metrics[m].slug, metrics[m].lnt};
			for (int k = 0; k < 3; k++)
				if (strlen(names[k]) == n && !strncmp(names[k], p, n))
					on[m] = hit = 1;
		}
		if (!hit) {
			snprintf(err, errlen, "--metrics: '%.*s' is not an exported metric (%s)", (int)n,
				 p, jm_export_metric_names());
			return -1;
		}
		p += n + (p[n] == ',');
	}
	return 0;
}

static json_object *aggs_of(json_object *root)
{
	json_object *a = jm_json_path(root, "aggregates");
	if (!a || !json_object_is_type(a, json_type_array) || !json_object_array_length(a)) {
		jm_results_aggregate(root);
		a = jm_json_path(root, "aggregates");
	}
	if (!a || !json_object_is_type(a, json_type_array)) {
		a = json_object_new_array();
		json_object_object_add(root, "aggregates", a);
	}
	return a;
}

/* Every aggregate's name (names.h), unique: configurations that name the
 * same (they differ only in test-only options, or share a label) name all
 * their options, and if that is not enough their place. */
struct names {
	size_t n;
	char (*name)[2 * JM_NAME_MAX];
};

static int cmp_name(const void *a, const void *b, void *nm)
{
	const struct names *x = nm;
	size_t i = *(const size_t *)a, j = *(const size_t *)b;
	int c = strcmp(x->name[i], x->name[j]);
	return c ? c : (i > j) - (i < j);
}

static void names_build(json_object *root, json_object *aggs, struct names *nm)
{
	nm->n = json_object_array_length(aggs);
	nm->name = calloc(nm->n ? nm->n : 1, sizeof(*nm->name));
	size_t *order = malloc((nm->n ? nm->n : 1) * sizeof(size_t));
	if (!nm->name || !order)
		abort();
	for (size_t i = 0; i < nm->n; i++) {
		jm_name_config(root, json_object_array_get_idx(aggs, i), nm->name[i],
			       sizeof(nm->name[i]));
		order[i] = i;
	}
	for (int pass = 0; pass < 2; pass++) {
		qsort_r(order, nm->n, sizeof(size_t), cmp_name, nm);
		int changed = 0;
		for (size_t k = 0; k < nm->n;) {
			size_t e = k + 1;
			while (e < nm->n && !strcmp(nm->name[order[e]], nm->name[order[k]]))
				e++;
			for (size_t q = k; e - k > 1 && q < e; q++) {
				char *s = nm->name[order[q]];
				size_t used = strlen(s);
				if (pass == 0)
					jm_options_append(jm_json_path(json_object_array_get_idx(aggs, order[q]),
								       "backend_options"),
							  " ", s, sizeof(nm->name[0]));
				else
					snprintf(s + used, sizeof(nm->name[0]) - used, " #%zu", q - k + 1);
				changed = 1;
			}
			k = e;
		}
		if (!changed)
			break;
	}
	free(order);
}

static void names_free(struct names *nm)
{
	free(nm->name);
}

static double count_of(json_object *a, const char *key)
{
	double v = 0;
	jm_json_num(a, key, &v);
	return v;
}

static json_object *export_bmf(json_object *aggs, const struct names *nm, const int *on)
{
	json_object *out = json_object_new_object();
	for (size_t i = 0; i < nm->n; i++) {
		json_object *a = json_object_array_get_idx(aggs, i), *b = json_object_new_object();
		for (size_t m = 0; m < NMETRICS; m++) {
			double v, lo, hi;
			if (!on[m] || jm_total_agg(a, metrics[m].metric, &v, &lo, &hi) < 0)
				continue;
			json_object *e = json_object_new_object();
			json_object_object_add(e, "value", jm_json_number(v));
			json_object_object_add(e, "lower_value", jm_json_number(lo));
			json_object_object_add(e, "upper_value", jm_json_number(hi));
			json_object_object_add(b, metrics[m].slug, e);
		}
		/* a failed run is a measure of its own, 0 when none failed, so
		 * a threshold on it catches the first one */
		json_object *f = json_object_new_object();
		json_object_object_add(f, "value", jm_json_number(count_of(a, "failed")));
		json_object_object_add(b, "failed-runs", f);
		json_object_object_add(out, nm->name[i], b);
	}
	return out;
}

static json_object *gab_entry(const char *name, const char *unit, double v, const char *range,
			      const char *extra)
{
	json_object *e = json_object_new_object();
	json_object_object_add(e, "name", json_object_new_string(name));
	json_object_object_add(e, "unit", json_object_new_string(unit));
	json_object_object_add(e, "value", jm_json_number(v));
	if (range)
		json_object_object_add(e, "range", json_object_new_string(range));
	if (extra)
		json_object_object_add(e, "extra", json_object_new_string(extra));
	return e;
}

static json_object *export_gab(json_object *aggs, const struct names *nm, const int *on)
{
	json_object *out = json_object_new_array();
	for (size_t i = 0; i < nm->n; i++) {
		json_object *a = json_object_array_get_idx(aggs, i);
		char full[2 * JM_NAME_MAX + 64], range[64], extra[200];
		double runs = count_of(a, "runs"), failed = count_of(a, "failed");
		for (size_t m = 0; m < NMETRICS; m++) {
			double v, lo, hi, mean, sd;
			if (!on[m] || jm_total_agg(a, metrics[m].metric, &v, &lo, &hi) < 0)
				continue;
			snprintf(full, sizeof(full), "%s - %s", nm->name[i], metrics[m].label);
			/* the standard deviation where the aggregate has it */
			if (jm_agg_spread(a, metrics[m].metric, &mean, &sd) == 0 &&
			    jm_total_executor(a, metrics[m].metric) == 0)
				snprintf(range, sizeof(range), "± %.6g", sd);
			else
				snprintf(range, sizeof(range), "± %.6g", (hi - lo) / 2);
			snprintf(extra, sizeof(extra), "median of %.0f ok runs of %.0f; min %.17g, max %.17g",
				 runs - failed, runs, lo, hi);
			json_object_array_add(out, gab_entry(full, metrics[m].unit, v, range, extra));
		}
		snprintf(full, sizeof(full), "%s - failed runs", nm->name[i]);
		snprintf(extra, sizeof(extra), "%.0f of %.0f runs failed", failed, runs);
		json_object_array_add(out, gab_entry(full, "runs", failed, NULL, extra));
	}
	return out;
}

/* "2026-12-01T20:37:01Z" -> "2026-12-01T20:37:01" (ISO 8601, UTC: LNT
 * stores times without a zone) and the order "20261201203701". */
static void lnt_time(const char *date, char *iso, size_t len, char *order, size_t olen)
{
	snprintf(iso, len, "%.19s", date);
	size_t k = 0;
	for (const char *p = iso; *p && k + 1 < olen; p++)
		if (*p >= '0' && *p <= '9')
			order[k++] = *p;
	order[k] = 0;
}

static json_object *lnt_samples(json_object *runs, const struct jm_group_index *rx, size_t from,
				const char *key, const struct metric *m)
{
	json_object *samples = json_object_new_array();
	for (size_t r = from; jm_group_index_match(rx, r, key); r++) {
		json_object *x = json_object_array_get_idx(runs, rx->order[r]);
		double v;
		if (strcmp(jm_json_str(x, "status", ""), "ok") || jm_total_run(x, m->metric, &v) < 0)
			continue;
		json_object_array_add(samples, jm_json_number(!strcmp(m->metric, "wall_ns") ? v / 1e9 : v));
	}
	return samples;
}

/* LNT report format 2 for the jitmm test suite (docs/lnt-jitmm.yaml): one
 * test per configuration, one sample per repetition, the ok runs first
 * and the failed ones after them, so that execution_status (0 pass, 1
 * fail: lnt.testing's PASS and FAIL) lines up with the other metrics'
 * samples (LNT pairs the i-th values of every metric into one sample). */
static json_object *export_lnt(json_object *root, json_object *aggs, const struct names *nm,
			       const int *on, const struct jm_export_opts *o)
{
	json_object *out = json_object_new_object(), *machine = json_object_new_object(),
		    *run = json_object_new_object(), *tests = json_object_new_array();
	json_object_object_add(out, "format_version", json_object_new_string("2"));
	json_object_object_add(machine, "name",
			       json_object_new_string(o->machine ? o->machine
							  : jm_json_str(root, "context.hostname", "unknown")));
	char os[300];
	snprintf(os, sizeof(os), "Linux %s", jm_json_str(root, "context.kernel", "?"));
	json_object_object_add(machine, "hardware",
			       json_object_new_string(jm_json_str(root, "context.cpu", "unknown")));
	json_object_object_add(machine, "os", json_object_new_string(os));
	static const char *const mk[] = {"arch", "page_size", "vm_max_map_count", "cpus_online",
					 "thp_enabled"};
	for (size_t i = 0; i < sizeof(mk) / sizeof(mk[0]); i++) {
		char p[64];
		snprintf(p, sizeof(p), "context.%s", mk[i]);
		json_object *v = jm_json_path(root, p);
		if (v)
			json_object_object_add(machine, mk[i], json_object_new_string(json_object_get_string(v)));
	}
	char start[32], end[32], order[32], unused[32];
	lnt_time(jm_json_str(root, "context.date", "1970-01-01T00:00:00Z"), start, sizeof(start),
		 order, sizeof(order));
	lnt_time(jm_json_str(root, "config.finished", jm_json_str(root, "context.date",
								   "1970-01-01T00:00:00Z")),
		 end, sizeof(end), unused, sizeof(unused));
	json_object_object_add(run, "start_time", json_object_new_string(start));
	json_object_object_add(run, "end_time", json_object_new_string(end));
	/* LNT orders runs by this field's numbers (convert_revision): the
	 * revision under test, else the start time as YYYYMMDDhhmmss, so that
	 * every run is a new, later order (the git sha was a meaningless
	 * tuple, and a second run of one build a rejected duplicate) */
	json_object_object_add(run, "llvm_project_revision",
			       json_object_new_string(o->order ? o->order : order));
	static const char *const rk[] = {"jitmm_version", "jitmm_git_sha"};
	for (size_t i = 0; i < 2; i++) {
		char p[64];
		snprintf(p, sizeof(p), "context.%s", rk[i]);
		json_object_object_add(run, rk[i], json_object_new_string(jm_json_str(root, p, "unknown")));
	}
	json_object_object_add(run, "probe",
			       json_object_new_string(jm_json_str(root, "config.probe_used", "unknown")));
	json_object_object_add(out, "machine", machine);
	json_object_object_add(out, "run", run);

	json_object *runs = jm_json_path(root, "runs");
	struct jm_group_index rx;
	jm_group_index_build(runs, &rx);
	for (size_t i = 0; i < nm->n; i++) {
		json_object *a = json_object_array_get_idx(aggs, i), *test = json_object_new_object();
		char full[2 * JM_NAME_MAX + 16];
		snprintf(full, sizeof(full), "jitmm/%s", nm->name[i]);
		json_object_object_add(test, "name", json_object_new_string(full));
		char *key = jm_group_key(a);
		size_t from = jm_group_index_lower(&rx, key);
		size_t ok = 0, bad = 0;
		for (size_t r = from; jm_group_index_match(&rx, r, key); r++) {
			if (strcmp(jm_json_str(json_object_array_get_idx(runs, rx.order[r]), "status", ""),
				   "ok"))
				bad++;
			else
				ok++;
		}
		for (size_t m = 0; m < NMETRICS; m++) {
			if (!on[m])
				continue;
			json_object *samples = lnt_samples(runs, &rx, from, key, &metrics[m]);
			if (json_object_array_length(samples))
				json_object_object_add(test, metrics[m].lnt, samples);
			else
				json_object_put(samples);
		}
		if (bad) {
			json_object *st = json_object_new_array();
			for (size_t k = 0; k < ok + bad; k++)
				json_object_array_add(st, json_object_new_int(k < ok ? 0 : 1));
			json_object_object_add(test, "execution_status", st);
		}
		free(key);
		json_object_array_add(tests, test);
	}
	jm_group_index_free(&rx);
	json_object_object_add(out, "tests", tests);
	return out;
}

/* Google Benchmark's JSON (its json_reporter.cc): a context and one
 * aggregate entry ("median") per configuration, real_time the wall time
 * in ns, the other metrics as user counters; a configuration whose runs
 * all failed has error_occurred and error_message, as a benchmark that
 * called SkipWithError. */
static json_object *export_gbench(json_object *root, json_object *aggs, const struct names *nm,
				  const int *on)
{
	json_object *out = json_object_new_object(), *ctx = json_object_new_object(),
		    *list = json_object_new_array();
	double cpus = 0, threads = 1;
	jm_json_num(root, "context.cpus_online", &cpus);
	jm_json_num(root, "config.threads", &threads);
	json_object_object_add(ctx, "date", json_object_new_string(jm_json_str(root, "context.date", "")));
	json_object_object_add(ctx, "host_name",
			       json_object_new_string(jm_json_str(root, "context.hostname", "")));
	json_object_object_add(ctx, "executable", json_object_new_string("jitmm"));
	json_object_object_add(ctx, "num_cpus", jm_json_number(cpus));
	json_object_object_add(ctx, "mhz_per_cpu", json_object_new_int(0));
	json_object_object_add(ctx, "caches", json_object_new_array());
	json_object_object_add(ctx, "load_avg", json_object_new_array());
	json_object_object_add(ctx, "library_build_type", json_object_new_string("release"));
	json_object_object_add(ctx, "json_schema_version", json_object_new_int(1));
	json_object_object_add(ctx, "jitmm_version",
			       json_object_new_string(jm_json_str(root, "context.jitmm_version", "")));
	json_object_object_add(ctx, "kernel", json_object_new_string(jm_json_str(root, "context.kernel", "")));
	json_object_object_add(out, "context", ctx);
	json_object *runs = jm_json_path(root, "runs");
	for (size_t i = 0; i < nm->n; i++) {
		json_object *a = json_object_array_get_idx(aggs, i), *b = json_object_new_object();
		double runs_n = count_of(a, "runs"), failed = count_of(a, "failed");
		double wall = 0, cu = 0, cs = 0;
		int have = jm_agg_metric(a, "wall_ns", &wall, NULL, NULL) == 0;
		jm_agg_metric(a, "cpu_user_ns", &cu, NULL, NULL);
		jm_agg_metric(a, "cpu_system_ns", &cs, NULL, NULL);
		json_object_object_add(b, "name", json_object_new_string(nm->name[i]));
		json_object_object_add(b, "family_index", json_object_new_int64((int64_t)i));
		json_object_object_add(b, "per_family_instance_index", json_object_new_int(0));
		json_object_object_add(b, "run_name", json_object_new_string(nm->name[i]));
		json_object_object_add(b, "run_type", json_object_new_string("aggregate"));
		json_object_object_add(b, "repetitions", jm_json_number(runs_n));
		json_object_object_add(b, "threads", jm_json_number(threads));
		json_object_object_add(b, "aggregate_name", json_object_new_string("median"));
		json_object_object_add(b, "aggregate_unit", json_object_new_string("time"));
		if (!have) {
			/* why, from the first failed run of the configuration */
			char why[1024] = "every run failed";
			char *key = jm_group_key(a);
			size_t n = runs ? json_object_array_length(runs) : 0;
			for (size_t r = 0; r < n; r++) {
				json_object *x = json_object_array_get_idx(runs, r);
				char *k = jm_group_key(x);
				int match = !strcmp(k, key) && strcmp(jm_json_str(x, "status", "ok"), "ok");
				free(k);
				if (match) {
					jm_failure_why(x, why, sizeof(why));
					break;
				}
			}
			free(key);
			json_object_object_add(b, "error_occurred", json_object_new_boolean(1));
			json_object_object_add(b, "error_message", json_object_new_string(why));
		}
		json_object_object_add(b, "iterations", json_object_new_int(1));
		json_object_object_add(b, "real_time", jm_json_number(wall));
		json_object_object_add(b, "cpu_time", jm_json_number(cu + cs > 0 ? cu + cs : wall));
		json_object_object_add(b, "time_unit", json_object_new_string("ns"));
		for (size_t m = 0; m < NMETRICS; m++) {
			double v;
			if (on[m] && strcmp(metrics[m].metric, "wall_ns") &&
			    jm_total_agg(a, metrics[m].metric, &v, NULL, NULL) == 0)
				json_object_object_add(b, metrics[m].lnt, jm_json_number(v));
		}
		json_object_object_add(b, "failed_runs", jm_json_number(failed));
		json_object_array_add(list, b);
	}
	json_object_object_add(out, "benchmarks", list);
	return out;
}

json_object *jm_export(json_object *root, const struct jm_export_opts *o, int *failed_runs,
		       char *err, size_t errlen)
{
	int on[NMETRICS];
	if (select_metrics(o->metrics, on, err, errlen) < 0)
		return NULL;
	const char *f = o->format;
	if (strcmp(f, "bmf") && strcmp(f, "gab") && strcmp(f, "lnt") && strcmp(f, "gbench")) {
		snprintf(err, errlen, "unknown format '%s' (bmf, gab, lnt or gbench)", f);
		return NULL;
	}
	json_object *aggs = aggs_of(root);
	struct names nm;
	names_build(root, aggs, &nm);
	*failed_runs = 0;
	for (size_t i = 0; i < nm.n; i++)
		*failed_runs += (int)count_of(json_object_array_get_idx(aggs, i), "failed");
	json_object *doc = !strcmp(f, "bmf") ? export_bmf(aggs, &nm, on)
			 : !strcmp(f, "gab") ? export_gab(aggs, &nm, on)
			 : !strcmp(f, "lnt") ? export_lnt(root, aggs, &nm, on, o)
					     : export_gbench(root, aggs, &nm, on);
	names_free(&nm);
	return doc;
}
