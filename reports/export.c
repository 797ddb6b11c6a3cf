#include "export.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "results.h"
#include "run_total.h"

/* The exported metrics: aggregate name, short slug, unit. */
static const struct {
	const char *metric, *slug, *unit, *label;
} metrics[] = {
	{"vmas_added", "vmas-added", "VMAs", "VMAs added"},
	{"vmas_peak", "vmas-peak", "VMAs", "VMAs peak"},
	{"syscalls.mmap.calls", "mmap-calls", "calls", "mmap calls"},
	{"syscalls.mprotect.calls", "mprotect-calls", "calls", "mprotect calls"},
	{"syscalls.munmap.calls", "munmap-calls", "calls", "munmap calls"},
	{"page_faults_minor", "minor-faults", "faults", "minor faults"},
	{"rss_added_bytes", "rss-added-bytes", "bytes", "RSS added"},
	{"va_reserved_peak_bytes", "va-reserved-bytes", "bytes", "VA reserved peak"},
	{"bytes_wasted", "wasted-bytes", "bytes", "wasted bytes"},
	{"reach_failures", "reach-failures", "failures", "reach failures"},
	{"reloc_reach_failures", "reloc-reach-failures", "failures", "relocation reach failures"},
	{"wall_ns", "latency", "ns", "wall time"},
};
#define NMETRICS (sizeof(metrics) / sizeof(metrics[0]))

/* "llvm-500/single-pool:granularity=16M": stable across runs of the same
 * configuration, distinct for each (workload, backend, options). */
static void bench_name(json_object *a, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", jm_json_str(a, "workload", "?"),
		 jm_json_str(a, "backend", "?"));
	jm_options_append(jm_json_path(a, "backend_options"), ":", buf, len);
}

static json_object *num(double v)
{
	if (v == (double)(long long)v && v < 9e15 && v > -9e15)
		return json_object_new_int64((long long)v);
	return json_object_new_double(v);
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

static json_object *export_bmf(json_object *root)
{
	json_object *out = json_object_new_object(), *aggs = aggs_of(root);
	size_t n = json_object_array_length(aggs);
	for (size_t i = 0; i < n; i++) {
		json_object *a = json_object_array_get_idx(aggs, i), *b = json_object_new_object();
		char name[512];
		bench_name(a, name, sizeof(name));
		for (size_t m = 0; m < NMETRICS; m++) {
			double v, lo, hi;
			if (jm_total_agg(a, metrics[m].metric, &v, &lo, &hi) < 0)
				continue;
			json_object *e = json_object_new_object();
			json_object_object_add(e, "value", num(v));
			json_object_object_add(e, "lower_value", num(lo));
			json_object_object_add(e, "upper_value", num(hi));
			json_object_object_add(b, metrics[m].slug, e);
		}
		json_object_object_add(out, name, b);
	}
	return out;
}

static json_object *export_gab(json_object *root)
{
	json_object *out = json_object_new_array(), *aggs = aggs_of(root);
	size_t n = json_object_array_length(aggs);
	for (size_t i = 0; i < n; i++) {
		json_object *a = json_object_array_get_idx(aggs, i);
		char name[512], full[700], range[64], extra[160];
		bench_name(a, name, sizeof(name));
		double runs = 0, failed = 0;
		jm_json_num(a, "runs", &runs);
		jm_json_num(a, "failed", &failed);
		for (size_t m = 0; m < NMETRICS; m++) {
			double v, lo, hi;
			if (jm_total_agg(a, metrics[m].metric, &v, &lo, &hi) < 0)
				continue;
			json_object *e = json_object_new_object();
			snprintf(full, sizeof(full), "%s - %s", name, metrics[m].label);
			snprintf(range, sizeof(range), "± %g", (hi - lo) / 2);
			snprintf(extra, sizeof(extra), "median of %.0f ok runs; min %.17g, max %.17g",
				 runs - failed, lo, hi);
			json_object_object_add(e, "name", json_object_new_string(full));
			json_object_object_add(e, "unit", json_object_new_string(metrics[m].unit));
			json_object_object_add(e, "value", num(v));
			json_object_object_add(e, "range", json_object_new_string(range));
			json_object_object_add(e, "extra", json_object_new_string(extra));
			json_object_array_add(out, e);
		}
	}
	return out;
}

/* LNT report format 2: one test per (workload, backend, options), one
 * sample per ok repetition; execution_time in seconds is LNT's own metric,
 * the others need a test suite that declares them. */
static json_object *export_lnt(json_object *root)
{
	json_object *out = json_object_new_object(), *machine = json_object_new_object(),
		    *run = json_object_new_object(), *tests = json_object_new_array();
	json_object_object_add(out, "format_version", json_object_new_string("2"));
	json_object_object_add(machine, "name", json_object_new_string(jm_json_str(root, "context.hostname", "unknown")));
	static const char *const mk[] = {"kernel", "arch", "cpu", "page_size", "vm_max_map_count"};
	for (size_t i = 0; i < sizeof(mk) / sizeof(mk[0]); i++) {
		char p[64];
		snprintf(p, sizeof(p), "context.%s", mk[i]);
		json_object *v = jm_json_path(root, p);
		if (v)
			json_object_object_add(machine, mk[i], json_object_new_string(json_object_get_string(v)));
	}
	char t[64];
	snprintf(t, sizeof(t), "%s", jm_json_str(root, "context.date", "1970-01-01T00:00:00Z"));
	/* LNT wants "YYYY-MM-DD HH:MM:SS" */
	char *T = strchr(t, 'T'), *Z = strchr(t, 'Z');
	if (T)
		*T = ' ';
	if (Z)
		*Z = 0;
	json_object_object_add(run, "start_time", json_object_new_string(t));
	json_object_object_add(run, "end_time", json_object_new_string(t));
	json_object_object_add(run, "llvm_project_revision",
			       json_object_new_string(jm_json_str(root, "context.jitmm_git_sha", "unknown")));
	json_object_object_add(run, "jitmm_version",
			       json_object_new_string(jm_json_str(root, "context.jitmm_version", "unknown")));
	json_object_object_add(out, "machine", machine);
	json_object_object_add(out, "run", run);

	json_object *aggs = aggs_of(root), *runs = jm_json_path(root, "runs");
	struct jm_group_index rx;
	jm_group_index_build(runs, &rx);
	size_t n = json_object_array_length(aggs);
	for (size_t i = 0; i < n; i++) {
		json_object *a = json_object_array_get_idx(aggs, i), *test = json_object_new_object();
		char name[512], full[600];
		bench_name(a, name, sizeof(name));
		snprintf(full, sizeof(full), "jitmm/%s", name);
		json_object_object_add(test, "name", json_object_new_string(full));
		/* the aggregate's runs, in results order */
		char *key = jm_group_key(a);
		size_t from = jm_group_index_lower(&rx, key);
		for (size_t m = 0; m < NMETRICS; m++) {
			json_object *samples = json_object_new_array();
			for (size_t r = from; jm_group_index_match(&rx, r, key); r++) {
				json_object *x = json_object_array_get_idx(runs, rx.order[r]);
				double v;
				if (strcmp(jm_json_str(x, "status", ""), "ok") ||
				    jm_total_run(x, metrics[m].metric, &v) < 0)
					continue;
				json_object_array_add(samples, !strcmp(metrics[m].metric, "wall_ns")
								       ? json_object_new_double(v / 1e9) : num(v));
			}
			const char *lkey = !strcmp(metrics[m].metric, "wall_ns") ? "execution_time"
										   : metrics[m].slug;
			char lk[64];
			snprintf(lk, sizeof(lk), "%s", lkey);
			for (char *p = lk; *p; p++)
				if (*p == '-')
					*p = '_';
			if (json_object_array_length(samples))
				json_object_object_add(test, lk, samples);
			else
				json_object_put(samples);
		}
		free(key);
		json_object_array_add(tests, test);
	}
	jm_group_index_free(&rx);
	json_object_object_add(out, "tests", tests);
	return out;
}

json_object *jm_export(json_object *root, const char *format, char *err, size_t errlen)
{
	if (!strcmp(format, "bmf"))
		return export_bmf(root);
	if (!strcmp(format, "gab"))
		return export_gab(root);
	if (!strcmp(format, "lnt"))
		return export_lnt(root);
	snprintf(err, errlen, "unknown format '%s' (bmf, gab or lnt)", format);
	return NULL;
}
