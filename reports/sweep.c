#include "sweep.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/numparse.h"
#include "by_workload.h"
#include "headline.h"
#include "html.h"
#include "results.h"

static int parse_num(const char *s, int is_size, uint64_t *v)
{
	return is_size ? jm_parse_size(s, v) : jm_parse_u64(s, v);
}

static void num_text(uint64_t v, int is_size, char *buf, size_t len)
{
	if (is_size)
		jm_format_size(v, buf, len);
	else
		snprintf(buf, len, "%llu", (unsigned long long)v);
}

int jm_sweep_values(const char *spec, int is_size, char out[][32], int max,
		    char *err, size_t errlen)
{
	const char *dots = strstr(spec, "..");
	if (!dots) {
		int n = 0;
		const char *p = spec;
		while (*p) {
			size_t l = strcspn(p, ",");
			if (l == 0 || l >= 32) {
				snprintf(err, errlen, "'%s': empty or too long value in the list", spec);
				return -1;
			}
			if (n == max) {
				snprintf(err, errlen, "'%s': more than %d values", spec, max);
				return -1;
			}
			memcpy(out[n], p, l);
			out[n++][l] = 0;
			p += l + (p[l] == ',');
		}
		if (!n)
			snprintf(err, errlen, "no values");
		return n ? n : -1;
	}
	char a[64], b[64];
	const char *star = strchr(dots + 2, '*');
	size_t la = (size_t)(dots - spec), lb = star ? (size_t)(star - dots - 2) : strlen(dots + 2);
	if (la == 0 || la >= sizeof(a) || lb == 0 || lb >= sizeof(b)) {
		snprintf(err, errlen, "'%s' is not START..END[*FACTOR]", spec);
		return -1;
	}
	memcpy(a, spec, la);
	a[la] = 0;
	memcpy(b, dots + 2, lb);
	b[lb] = 0;
	uint64_t lo, hi, f = 0;
	if (parse_num(a, is_size, &lo) < 0 || parse_num(b, is_size, &hi) < 0) {
		snprintf(err, errlen, "'%s': '%s' or '%s' is not a %s", spec, a, b,
			 is_size ? "size (e.g. 4M)" : "number");
		return -1;
	}
	if (star && (jm_parse_u64(star + 1, &f) < 0 || f < 2)) {
		snprintf(err, errlen, "'%s': factor '%s' is not an integer >= 2", spec, star + 1);
		return -1;
	}
	if (lo > hi) {
		snprintf(err, errlen, "'%s': start is above end", spec);
		return -1;
	}
	int n = 0;
	for (uint64_t v = lo; v <= hi; v = f ? v * f : v + 1) {
		if (n == max) {
			snprintf(err, errlen, "'%s': more than %d values", spec, max);
			return -1;
		}
		num_text(v, is_size, out[n++], 32);
		if ((f && v > UINT64_MAX / f) || (!f && v == UINT64_MAX) || (f && v == 0))
			break;
	}
	return n;
}

static double med(json_object *a, const char *m, double def)
{
	double v;
	return jm_agg_metric(a, m, &v, NULL, NULL) == 0 ? v : def;
}

static double maxv(json_object *a, const char *m, double def)
{
	double v, lo, hi;
	return jm_agg_metric(a, m, &v, &lo, &hi) == 0 ? hi : def;
}

/* placements out of reach (the backend's count) plus relocations the
 * harness could not resolve; results without the backend count are
 * treated as failing, as before */
static double reach_any(json_object *a)
{
	return maxv(a, "reach_failures", 1) + maxv(a, "reloc_reach_failures", 0);
}

static const char *value_of(json_object *agg, const char *param, char *buf, size_t len)
{
	char p[128];
	snprintf(p, sizeof(p), "backend_options.%s", param);
	json_object *v = jm_json_path(agg, p);
	snprintf(buf, len, "%s", v ? json_object_get_string(v) : "?");
	return buf;
}

void jm_sweep_recommend(json_object *const *aggs, int n, const char *param,
			double factor, struct jm_sweep_pick *pick)
{
	pick->index = -1;
	pick->value[0] = 0;
	double best_vmas = INFINITY;
	int eligible = 0;
	for (int i = 0; i < n; i++) {
		double failed = 1;
		jm_json_num(aggs[i], "failed", &failed);
		if (failed == 0 && reach_any(aggs[i]) == 0) {
			eligible++;
			double v = med(aggs[i], "vmas_added", INFINITY);
			best_vmas = v < best_vmas ? v : best_vmas;
		}
	}
	if (!eligible) {
		snprintf(pick->why, sizeof(pick->why),
			 "no recommendation: no value ran without failed runs and reach failures");
		return;
	}
	double va_best = INFINITY, waste_best = INFINITY, vm_best = INFINITY;
	for (int i = 0; i < n; i++) {
		double failed = 1;
		jm_json_num(aggs[i], "failed", &failed);
		if (failed != 0 || reach_any(aggs[i]) != 0 ||
		    med(aggs[i], "vmas_added", INFINITY) > factor * best_vmas)
			continue;
		double va = med(aggs[i], "va_reserved_peak_bytes", INFINITY);
		double waste = med(aggs[i], "bytes_wasted", INFINITY);
		double vm = med(aggs[i], "vmas_added", INFINITY);
		if (va < va_best || (va == va_best && (waste < waste_best ||
						       (waste == waste_best && vm < vm_best)))) {
			va_best = va;
			waste_best = waste;
			vm_best = vm;
			pick->index = i;
		}
	}
	char vt[64], va[32], wt[32];
	value_of(aggs[pick->index], param, vt, sizeof(vt));
	snprintf(pick->value, sizeof(pick->value), "%s", vt);
	jm_bytes_text(va_best, va, sizeof(va));
	jm_bytes_text(waste_best, wt, sizeof(wt));
	snprintf(pick->why, sizeof(pick->why),
		 "%s=%s: among the %d of %d values with every run ok and zero reach failures, "
		 "those with VMAs added within %gx of the best (%.0f, so at most %.0f) were "
		 "ranked by VA reserved, then wasted bytes, then VMAs added, then value order; %s=%s reserves "
		 "%s and wastes %s with %.0f VMAs added.",
		 param, vt, eligible, n, factor, best_vmas, factor * best_vmas, param, vt, va, wt,
		 med(aggs[pick->index], "vmas_added", NAN));
}

/* The workloads of a sweep, each with its aggregates in value order. */
_Static_assert(JM_WL_MAX_AGGS >= JM_SWEEP_MAX_VALUES, "a group holds every value");

static double factor_of(json_object *root)
{
	double f = 2;
	jm_json_num(root, "config.sweep.factor", &f);
	return f;
}

static void cell_bytes(double v, char *buf, size_t len)
{
	if (isnan(v))
		snprintf(buf, len, "-");
	else
		jm_bytes_text(v, buf, len);
}

void jm_sweep_sections(json_object *root, struct jm_sweep_report *out)
{
	size_t ml = 0, hl = 0;
	FILE *m = open_memstream(&out->markdown, &ml), *h = open_memstream(&out->html, &hl);
	const char *param = jm_json_str(root, "config.sweep.param", "?");
	const char *backend = jm_json_str(root, "config.sweep.backend", "?");
	double factor = factor_of(root);
	static struct jm_wl_aggs w[16];
	int nw = jm_aggregates_by_workload(root, w, 16);
	fprintf(m, "## Sweep: %s %s\n\n", backend, param);
	fprintf(h, "<h2>Sweep: ");
	jm_html_escape(h, backend);
	fputc(' ', h);
	jm_html_escape(h, param);
	fprintf(h, "</h2>\n");
	for (int k = 0; k < nw; k++) {
		struct jm_sweep_pick pick;
		jm_sweep_recommend(w[k].agg, w[k].n, param, factor, &pick);
		fprintf(m, "### %s\n\n`%s`\n\n| %s | status | VMAs added (count) | VA reserved peak (bytes) | "
			   "wasted (bytes) | reach failures (count) | mmap (calls) | mprotect (calls) | "
			   "minor faults (count) | RSS added (bytes) | wall (ms) |\n"
			   "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n", w[k].name, w[k].spec, param);
		fprintf(h, "<h3>");
		jm_html_escape(h, w[k].name);
		fprintf(h, "</h3>\n<table>\n<thead><tr><th>");
		jm_html_escape(h, param);
		fprintf(h, "</th><th>status</th><th>VMAs added (count)</th><th>VA reserved peak (bytes)</th>"
			   "<th>wasted (bytes)</th><th>reach failures (count)</th><th>mmap (calls)</th>"
			   "<th>mprotect (calls)</th><th>minor faults (count)</th><th>RSS added (bytes)</th>"
			   "<th>wall (ms)</th></tr></thead>\n<tbody>\n");
		for (int i = 0; i < w[k].n; i++) {
			json_object *a = w[k].agg[i];
			char v[64], st[32], va[32], wa[32], rs[32];
			double runs = 0, failed = 0;
			jm_json_num(a, "runs", &runs);
			jm_json_num(a, "failed", &failed);
			value_of(a, param, v, sizeof(v));
			if (failed)
				snprintf(st, sizeof(st), "%.0f/%.0f failed", failed, runs);
			else
				snprintf(st, sizeof(st), "%s", i == pick.index ? "ok, recommended" : "ok");
			cell_bytes(med(a, "va_reserved_peak_bytes", NAN), va, sizeof(va));
			cell_bytes(med(a, "bytes_wasted", NAN), wa, sizeof(wa));
			cell_bytes(med(a, "rss_added_bytes", NAN), rs, sizeof(rs));
			char cells[8][32];
			const char *cm[] = {"vmas_added", "reach_failures", "syscalls.mmap.calls",
					    "syscalls.mprotect.calls", "page_faults_minor"};
			for (int c = 0; c < 5; c++) {
				double x = med(a, cm[c], NAN);
				if (isnan(x))
					snprintf(cells[c], sizeof(cells[c]), "-");
				else
					snprintf(cells[c], sizeof(cells[c]), "%.0f", x);
			}
			double wall = med(a, "wall_ns", NAN);
			if (isnan(wall))
				snprintf(cells[5], sizeof(cells[5]), "-");
			else
				snprintf(cells[5], sizeof(cells[5]), "%.2f", wall / 1e6);
			const char *row[11] = {v, st, cells[0], va, wa, cells[1], cells[2], cells[3],
					       cells[4], rs, cells[5]};
			fputc('|', m);
			fputs("<tr>", h);
			for (int c = 0; c < 11; c++) {
				fprintf(m, " %s%s%s |", i == pick.index && c == 0 ? "**" : "", row[c],
					i == pick.index && c == 0 ? "**" : "");
				fputs(c >= 2 ? "<td class=\"n\">" : "<td>", h);
				jm_html_escape(h, row[c]);
				fputs("</td>", h);
			}
			fputs("\n", m);
			fputs("</tr>\n", h);
		}
		fputs("</tbody>\n</table>\n", h);
		fprintf(m, "\n**Recommendation for %s:** %s\n\n", w[k].name, pick.why);
		fputs("<p class=\"rec\"><b>Recommendation for ", h);
		jm_html_escape(h, w[k].name);
		fputs(":</b> ", h);
		jm_html_escape(h, pick.why);
		fputs("</p>\n", h);
	}
	fprintf(m, "Rule: among values whose runs all succeeded with zero reach failures, keep "
		   "those whose median VMAs added is at most %gx the smallest such median; of "
		   "those, recommend the smallest median VA reservation, then the smallest median "
		   "waste, then the fewest VMAs added, then the first value. --factor changes %g.\n", factor, factor);
	fprintf(h, "<p>Rule: among values whose runs all succeeded with zero reach failures, keep "
		   "those whose median VMAs added is at most %gx the smallest such median; of "
		   "those, recommend the smallest median VA reservation, then the smallest median "
		   "waste, then the fewest VMAs added, then the first value. --factor changes %g.</p>\n", factor, factor);
	fclose(m);
	fclose(h);
}

void jm_sweep_report_free(struct jm_sweep_report *r)
{
	free(r->markdown);
	free(r->html);
	r->markdown = r->html = NULL;
}

static const struct {
	const char *metric, *label;
	double scale;
} panels[] = {
	{"vmas_added", "VMAs added (count)", 1},
	{"va_reserved_peak_bytes", "VA reserved peak (MiB)", 1048576},
	{"bytes_wasted", "wasted (MiB)", 1048576},
	{"reach_failures", "reach failures (count)", 1},
	{"syscalls.mmap.calls", "mmap (calls)", 1},
	{"syscalls.mprotect.calls", "mprotect (calls)", 1},
	{"page_faults_minor", "minor faults (count)", 1},
	{"rss_added_bytes", "RSS added (MiB)", 1048576},
	{"wall_ns", "wall (ms)", 1e6},
};
#define NPANELS (sizeof(panels) / sizeof(panels[0]))

int jm_sweep_plots(json_object *root, const struct jm_plot_dir *dir,
		   struct jm_plot_list *plots, char *err, size_t errlen)
{
	if (!jm_gnuplot_available())
		return 0; /* jm_plots_report has noted it */
	const char *param = jm_json_str(root, "config.sweep.param", "?");
	static struct jm_wl_aggs w[16];
	int nw = jm_aggregates_by_workload(root, w, 16);
	for (int k = 0; k < nw; k++) {
		struct jm_sweep_pick pick;
		jm_sweep_recommend(w[k].agg, w[k].n, param, factor_of(root), &pick);
		char *dat = NULL, *body = NULL, name[96], slug[64], v[64];
		size_t dl = 0, bl = 0;
		int points[NPANELS] = {0}, any = 0;
		FILE *d = open_memstream(&dat, &dl), *b = open_memstream(&body, &bl);
		fputs("# sweep of ", d);
		jm_dat_text(d, param);
		fputs(" on ", d);
		jm_dat_text(d, w[k].spec);
		fputs(": one block per metric; columns:\n# value_index median min max value\n", d);
		for (size_t p = 0; p < NPANELS; p++) {
			fprintf(d, "%s# %s\n", p ? "\n\n" : "", panels[p].metric);
			for (int i = 0; i < w[k].n; i++) {
				double x, lo, hi;
				value_of(w[k].agg[i], param, v, sizeof(v));
				if (jm_agg_metric(w[k].agg[i], panels[p].metric, &x, &lo, &hi) < 0) {
					fprintf(d, "%d ? ? ? ", i);
				} else {
					fprintf(d, "%d %.6g %.6g %.6g ", i, x / panels[p].scale,
						lo / panels[p].scale, hi / panels[p].scale);
					points[p]++;
				}
				jm_dat_text(d, v);
				fputc('\n', d);
			}
			any |= points[p] > 0;
		}
		fclose(d);
		if (!any) {
			/* no value has a measured run: gnuplot has nothing to draw */
			char note[320];
			snprintf(note, sizeof(note), "Sweep plot for %s: no run of any value "
				 "succeeded, nothing to draw.", w[k].name);
			jm_plot_add_note(plots, note);
			fclose(b);
			free(dat);
			free(body);
			continue;
		}
		char what[192];
		snprintf(what, sizeof(what), "Sweep of %s %s on %s", jm_json_str(root, "config.sweep.backend", "?"),
			 param, w[k].name);
		fputs("set multiplot layout 3,3 margins 0.07,0.98,0.1,0.88 spacing 0.07,0.12 title ", b);
		jm_plot_title_string(b, root, what);
		fputs(" font ',14'\n", b);
		fputs("set xtics nomirror font ',9' rotate by 45 right (", b);
		for (int i = 0; i < w[k].n; i++) {
			value_of(w[k].agg[i], param, v, sizeof(v));
			fprintf(b, "%s", i ? ", " : "");
			jm_gp_string(b, v);
			fprintf(b, " %d", i);
		}
		fprintf(b, ")\nset xrange [-0.5:%g]\nset yrange [0:*]\nset offsets 0,0,graph 0.15,0\n"
			   "unset key\n", w[k].n - 0.5);
		fputs("set xlabel ", b);
		jm_gp_string(b, param);
		fputc('\n', b);
		if (pick.index >= 0)
			fprintf(b, "set arrow 1 from first %d, graph 0 to first %d, graph 1 nohead dt 2 lw 2 "
				   "lc rgb '#009E73'\n", pick.index, pick.index);
		for (size_t p = 0; p < NPANELS; p++) {
			fputs("set title ", b);
			jm_gp_string(b, panels[p].label);
			fputs(" font ',11' offset 0,-0.6\n", b);
			if (points[p])
				fprintf(b, "plot datafile index %zu using 1:2 with linespoints lt 1, "
					   "datafile index %zu using 1:2:3:4 with yerrorbars lt 1 ps 0\n", p, p);
			else /* a panel without points would fail the whole figure */
				fputs("set label 1 'not measured' at graph 0.5, graph 0.5 center\n"
				      "plot [][0:1] NaN notitle\nunset label 1\n", b);
		}
		fputs("unset multiplot\n", b);
		fclose(b);
		jm_plot_slug(w[k].name, slug, sizeof(slug));
		snprintf(name, sizeof(name), "sweep-%d-%s", k + 1, slug);
		int rc = jm_plot_render(dir, name, dat, body, 1300, 1000, err, errlen);
		free(dat);
		free(body);
		if (rc < 0)
			return -1;
		char title[192], cap[512];
		snprintf(title, sizeof(title), "Every metric against %s, %s", param, w[k].name);
		snprintf(cap, sizeof(cap), "Median per value with min-max error bars; the dashed "
			 "green line marks the recommended value (%s).", pick.index >= 0 ? pick.value : "none");
		jm_plot_add(plots, name, title, cap);
	}
	return 0;
}
