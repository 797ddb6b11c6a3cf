#include "justify.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "results.h"
#include "run_total.h"

static const struct {
	const char *title, *metric, *unit;
} metrics[JM_JUSTIFY_NMETRIC] = {
	/* the run's totals: an executor process's part included (run_total.h) */
	[JM_JUSTIFY_VMAS] = {"VMAs added", "vmas_added", "count"},
	[JM_JUSTIFY_MPROTECT] = {"mprotect calls", "syscalls.mprotect.calls", "calls"},
	[JM_JUSTIFY_RSS] = {"RSS added", "rss_added_bytes", "MiB"},
	/* the harness's own linking (linker/reloc.h): graphs whose code could
	 * not reach its data or callee with 32-bit PC-relative relocations */
	[JM_JUSTIFY_REACH] = {"reach failures", "reloc_reach_failures",
			      "graphs with a relocation out of +-2 GiB"},
};

void jm_justify_add_run(struct jm_justify *j, struct jm_justify_row *r, int s,
			json_object *run)
{
	struct jm_justify_side *sd = &r->side[s];
	if (!j->llvm[s][0] && jm_json_path(run, "backend_info.llvm_version"))
		snprintf(j->llvm[s], sizeof(j->llvm[s]), "LLVM %s, plugin %s",
			 jm_json_str(run, "backend_info.llvm_version", "?"),
			 jm_json_str(run, "backend_info.llvm_plugin", "?"));
	sd->runs++;
	if (strcmp(jm_json_str(run, "status", "failed"), "ok"))
		return;
	if (sd->ok >= JM_JUSTIFY_MAX_REPEAT)
		return;
	for (int m = 0; m < JM_JUSTIFY_NMETRIC; m++) {
		double v = 0;
		jm_total_run(run, metrics[m].metric, &v);
		sd->v[m][sd->ok] = v;
	}
	/* results from before the harness linked code have no reach count */
	double t;
	if (jm_total_run(run, metrics[JM_JUSTIFY_REACH].metric, &t) < 0)
		sd->untracked = 1;
	sd->ok++;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(const double *v, int n)
{
	double tmp[JM_JUSTIFY_MAX_REPEAT];
	memcpy(tmp, v, (size_t)n * sizeof(double));
	qsort(tmp, (size_t)n, sizeof(double), cmp_double);
	return n % 2 ? tmp[n / 2] : (tmp[n / 2 - 1] + tmp[n / 2]) / 2;
}

void jm_justify_reduction(double base, double cand, char *buf, size_t len)
{
	if (base == cand) {
		snprintf(buf, len, "none");
	} else if (base > 0 && cand <= 0) {
		snprintf(buf, len, "-100%%");
	} else if (base <= 0) {
		/* nothing to reduce from: report the change itself */
		snprintf(buf, len, "%+.4g (from %.4g)", cand - base, base);
	} else {
		double pct = 100.0 * (cand - base) / base;
		double ratio = cand < base ? base / cand : cand / base;
		if (ratio >= 1.1) /* a factor reads better than a percentage */
			snprintf(buf, len, "%.1fx %s (%+.1f%%)", ratio,
				 cand < base ? "fewer" : "more", pct);
		else if (fabs(pct) >= 0.1)
			snprintf(buf, len, "%+.1f%%", pct);
		else
			snprintf(buf, len, "%+.4g (%s0.1%%)", cand - base,
				 cand < base ? ">-" : "<+");
	}
}

static void cell(const struct jm_justify_side *sd, int m, double *val,
		 char *buf, size_t len)
{
	*val = NAN;
	if (!sd->ok) {
		snprintf(buf, len, "failed (%d/%d runs)", sd->runs - sd->ok, sd->runs);
		return;
	}
	if (m == JM_JUSTIFY_REACH && sd->untracked) {
		snprintf(buf, len, "n/a");
		return;
	}
	*val = median(sd->v[m], sd->ok);
	char note[48] = "";
	if (sd->ok < sd->runs)
		snprintf(note, sizeof(note), " (%d/%d runs ok)", sd->ok, sd->runs);
	if (m == JM_JUSTIFY_RSS)
		snprintf(buf, len, "%.1f MiB%s", *val / 1048576.0, note);
	else
		snprintf(buf, len, "%.0f%s", *val, note);
}

/* Any context value as text (numbers too). */
static const char *ctx(json_object *c, const char *key)
{
	json_object *v = jm_json_path(c, key);
	return v ? json_object_get_string(v) : "?";
}

void jm_justify_markdown(const struct jm_justify *j, FILE *f)
{
	char opt[2][512];
	for (int s = 0; s < 2; s++) {
		opt[s][0] = 0;
		jm_options_append(j->options[s], "", opt[s], sizeof(opt[s]));
	}
	fprintf(f, "## %s vs %s\n\n", j->name[1], j->name[0]);
	fprintf(f, "Baseline `%s`%s%s%s, candidate `%s`%s%s%s. Each cell is the median of "
		"%d repetition%s, every run in its own process; reduction is baseline / "
		"candidate.\n",
		j->name[0], opt[0][0] ? " (" : "", opt[0], opt[0][0] ? ")" : "",
		j->name[1], opt[1][0] ? " (" : "", opt[1], opt[1][0] ? ")" : "",
		j->repeat, j->repeat == 1 ? "" : "s");
	int untracked = 0;
	for (int m = 0; m < JM_JUSTIFY_NMETRIC; m++) {
		fprintf(f, "\n### %s (%s)\n\n", metrics[m].title, metrics[m].unit);
		fprintf(f, "| workload | %s (baseline) | %s (candidate) | reduction |\n",
			j->name[0], j->name[1]);
		fprintf(f, "|---|--:|--:|--:|\n");
		for (int r = 0; r < j->nrows; r++) {
			const struct jm_justify_row *row = &j->rows[r];
			char c[2][96], red[64];
			double v[2];
			for (int s = 0; s < 2; s++) {
				cell(&row->side[s], m, &v[s], c[s], sizeof(c[s]));
				if (m == JM_JUSTIFY_REACH && row->side[s].ok && row->side[s].untracked)
					untracked = 1;
			}
			if (isnan(v[0]) || isnan(v[1]))
				snprintf(red, sizeof(red), "-");
			else
				jm_justify_reduction(v[0], v[1], red, sizeof(red));
			fprintf(f, "| %s | %s | %s | %s |\n", row->workload, c[0], c[1], red);
		}
	}
	if (untracked)
		fprintf(f, "\nn/a: these runs did not count relocation reach.\n");
	json_object *c = j->context;
	fprintf(f, "\nContext: Linux %s (%s), page size %s B, vm.max_map_count %s, "
		"THP %s, overcommit %s, %s x%s; jitmm %s (%s); probe %s; %s.\n",
		ctx(c, "kernel"), ctx(c, "arch"),
		ctx(c, "page_size"), ctx(c, "vm_max_map_count"),
		ctx(c, "thp_enabled"), ctx(c, "vm_overcommit_memory"),
		ctx(c, "cpu"), ctx(c, "cpus_online"),
		ctx(c, "jitmm_version"), ctx(c, "jitmm_git_sha"),
		j->probe ? j->probe : "?", ctx(c, "date"));
	for (int s = 0; s < 2; s++)
		if (j->llvm[s][0])
			fprintf(f, "%s `%s` ran %s.\n", s ? "Candidate" : "Baseline", j->name[s],
				j->llvm[s]);
	fprintf(f, "\nReproduce:\n\n```\n%s\n```\n", j->command);
}

void jm_shell_quote(const char *arg, char *buf, size_t len)
{
	int plain = arg[0] != 0;
	for (const char *p = arg; *p; p++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			    "0123456789_.,:=/+@%-", *p))
			plain = 0;
	if (plain) {
		snprintf(buf, len, "%s", arg);
		return;
	}
	size_t o = 0;
	if (len < 3) {
		buf[0] = 0;
		return;
	}
	buf[o++] = '\'';
	for (const char *p = arg; *p && o + 5 < len; p++) {
		if (*p == '\'') {
			memcpy(buf + o, "'\\''", 4);
			o += 4;
		} else {
			buf[o++] = *p;
		}
	}
	buf[o++] = '\'';
	buf[o] = 0;
}
