#include "markdown.h"

#include <math.h>
#include <string.h>

#include "results.h"

void jm_ratio_text(double base, double cand, char *buf, size_t len)
{
	if (base == cand)
		snprintf(buf, len, "same");
	else if (cand <= 0)
		snprintf(buf, len, "%s", base > 0 ? "none added" : "same");
	else if (base <= 0)
		snprintf(buf, len, "baseline 0");
	else if (cand < base) {
		double r = base / cand;
		snprintf(buf, len, r >= 10 ? "%.0fx fewer" : "%.1fx fewer", r);
	} else {
		double r = cand / base;
		snprintf(buf, len, r >= 10 ? "%.0fx more" : "%.1fx more", r);
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

static json_object *find_agg(json_object *aggs, const char *workload_spec,
			     const char *backend)
{
	size_t n = json_object_array_length(aggs);
	for (size_t i = 0; i < n; i++) {
		json_object *a = json_object_array_get_idx(aggs, i);
		if (!strcmp(jm_json_str(a, "workload_spec", ""), workload_spec) &&
		    !strcmp(jm_json_str(a, "backend", ""), backend))
			return a;
	}
	return NULL;
}

static void context_sentence(json_object *root, FILE *out)
{
	json_object *c = jm_json_path(root, "context");
	double reps = 0, ps = 0, mmc = 0;
	jm_json_num(root, "config.repeat", &reps);
	jm_json_num(c, "page_size", &ps);
	jm_json_num(c, "vm_max_map_count", &mmc);
	const char *probe = jm_json_str(root, "config.probe_used", "procfs");
	const char *why = jm_json_str(root, "config.probe_fallback_reason", "");
	fprintf(out, "Probe: %s", probe);
	if (*why)
		fprintf(out, " (%s)", why);
	fprintf(out, ". Kernel %s (%s), page size %.0f B, vm.max_map_count %.0f, "
		     "THP %s, overcommit %s; jitmm %s (%s). Each cell is the "
		     "median over %.0f repetition%s, range in brackets.\n",
		jm_json_str(c, "kernel", "?"), jm_json_str(c, "arch", "?"), ps, mmc,
		jm_json_str(c, "thp_enabled", "?"),
		json_object_get_string(jm_json_path(c, "vm_overcommit_memory")),
		jm_json_str(c, "jitmm_version", "?"), jm_json_str(c, "jitmm_git_sha", "?"),
		reps, reps == 1 ? "" : "s");
}

void jm_report_tables(json_object *root, const char *baseline, FILE *out)
{
	json_object *aggs = jm_json_path(root, "aggregates");
	if (!aggs || !json_object_is_type(aggs, json_type_array))
		return;
	size_t n = json_object_array_length(aggs);
	/* one table per workload, in first-seen order */
	for (size_t i = 0; i < n; i++) {
		json_object *a = json_object_array_get_idx(aggs, i);
		const char *ws = jm_json_str(a, "workload_spec", "");
		int seen = 0;
		for (size_t j = 0; j < i; j++)
			if (!strcmp(jm_json_str(json_object_array_get_idx(aggs, j), "workload_spec", ""), ws))
				seen = 1;
		if (seen)
			continue;
		json_object *base = find_agg(aggs, ws, baseline);
		double base_vmas = base ? med(base, "vmas_added") : NAN;
		fprintf(out, "### %s\n\n", jm_json_str(a, "workload", "?"));
		fprintf(out, "`%s`, %.0f graphs\n\n", ws, med(a, "graphs"));
		fprintf(out, "| backend | status | VMAs added (count) | vs %s | VMAs peak | mmap (calls) | "
			     "mprotect (calls) | munmap (calls) | minor faults | RSS added | VA reserved | "
			     "wasted (mapped - live) | reach failures | wall (ms) |\n",
			base ? baseline : "baseline");
		fprintf(out, "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n");
		for (size_t j = i; j < n; j++) {
			json_object *b = json_object_array_get_idx(aggs, j);
			if (strcmp(jm_json_str(b, "workload_spec", ""), ws))
				continue;
			double runs = 0, failed = 0;
			jm_json_num(b, "runs", &runs);
			jm_json_num(b, "failed", &failed);
			char status[32], vm[64], ratio[32], peak[32], mm[32], mp[32], mu[32],
				fl[32], rss[32], va[32], waste[32], reach[32], wall[32];
			if (failed == 0)
				snprintf(status, sizeof(status), "ok");
			else
				snprintf(status, sizeof(status), "%.0f/%.0f failed", failed, runs);
			double v, lo, hi;
			if (jm_agg_metric(b, "vmas_added", &v, &lo, &hi) == 0) {
				if (lo == hi)
					snprintf(vm, sizeof(vm), "%.0f", v);
				else
					snprintf(vm, sizeof(vm), "%.0f [%.0f-%.0f]", v, lo, hi);
				if (base && !strcmp(jm_json_str(b, "backend", ""), baseline))
					snprintf(ratio, sizeof(ratio), "baseline");
				else if (!isnan(base_vmas))
					jm_ratio_text(base_vmas, v, ratio, sizeof(ratio));
				else
					snprintf(ratio, sizeof(ratio), "-");
			} else {
				snprintf(vm, sizeof(vm), "-");
				snprintf(ratio, sizeof(ratio), "-");
			}
			count_cell(peak, sizeof(peak), med(b, "vmas_peak"));
			count_cell(mm, sizeof(mm), med(b, "syscalls.mmap.calls"));
			count_cell(mp, sizeof(mp), med(b, "syscalls.mprotect.calls"));
			count_cell(mu, sizeof(mu), med(b, "syscalls.munmap.calls"));
			count_cell(fl, sizeof(fl), med(b, "page_faults_minor"));
			count_cell(reach, sizeof(reach), med(b, "reach_failures"));
			double x = med(b, "rss_added_bytes");
			if (isnan(x)) snprintf(rss, sizeof(rss), "-"); else jm_bytes_text(x, rss, sizeof(rss));
			x = med(b, "va_reserved_peak_bytes");
			if (isnan(x)) snprintf(va, sizeof(va), "-"); else jm_bytes_text(x, va, sizeof(va));
			x = med(b, "bytes_wasted");
			if (isnan(x)) snprintf(waste, sizeof(waste), "-"); else jm_bytes_text(x, waste, sizeof(waste));
			x = med(b, "wall_ns");
			if (isnan(x)) snprintf(wall, sizeof(wall), "-"); else snprintf(wall, sizeof(wall), "%.2f", x / 1e6);
			fprintf(out, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
				jm_json_str(b, "backend", "?"), status, vm, ratio, peak, mm, mp, mu,
				fl, rss, va, waste, reach, wall);
		}
		fprintf(out, "\n");
	}
	context_sentence(root, out);
}

static void failures(json_object *root, FILE *out)
{
	json_object *runs = jm_json_path(root, "runs");
	size_t n = runs ? json_object_array_length(runs) : 0;
	int any = 0;
	for (size_t i = 0; i < n; i++) {
		json_object *r = json_object_array_get_idx(runs, i);
		if (!strcmp(jm_json_str(r, "status", "ok"), "ok"))
			continue;
		if (!any)
			fprintf(out, "\n## Failed runs\n\n");
		any = 1;
		fprintf(out, "- %s on %s (repetition %s): %s during %s: %s\n",
			jm_json_str(r, "backend", "?"), jm_json_str(r, "workload", "?"),
			json_object_get_string(jm_json_path(r, "repetition")),
			jm_json_str(r, "status", "?"), jm_json_str(r, "error.op", "?"),
			jm_json_str(r, "error.message", "?"));
	}
}

void jm_report_markdown(json_object *root, const char *baseline, FILE *out)
{
	json_object *c = jm_json_path(root, "context");
	fprintf(out, "# jitmm report\n\n");
	fprintf(out, "Host %s, kernel %s, %s, generated %s.\n\n",
		jm_json_str(c, "hostname", "?"), jm_json_str(c, "kernel", "?"),
		jm_json_str(c, "cpu", "?"), jm_json_str(c, "date", "?"));
	fprintf(out, "## Results per workload\n\n");
	jm_report_tables(root, baseline, out);
	failures(root, out);
	jm_report_diagnostics(root, out);
	fprintf(out, "\nColumns: VMAs added = VMAs after the workload minus before "
		     "(the backend's mappings still live); VMAs peak = the highest VMA "
		     "count of the process during the run; syscalls are counted by the "
		     "os layer inside the measured window; RSS added = resident bytes "
		     "after minus before; VA reserved = peak address space the backend "
		     "held; wasted = bytes the backend had mapped beyond the live "
		     "requested bytes. Field definitions: docs/json-format.md.\n");
}
