#include "justify.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "compare.h"
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

/* A side's median of metric m, NaN when it has none (no run succeeded, or
 * the runs did not count reach); what the cell says then. */
static double side_value(const struct jm_justify_side *sd, int m, char *why, size_t len)
{
	why[0] = 0;
	if (!sd->ok) {
		snprintf(why, len, "failed (%d/%d runs)", sd->runs - sd->ok, sd->runs);
		return NAN;
	}
	if (m == JM_JUSTIFY_REACH && sd->untracked) {
		snprintf(why, len, "n/a");
		return NAN;
	}
	return median(sd->v[m], sd->ok);
}

static void value_text(int m, double v, char *buf, size_t len)
{
	if (m == JM_JUSTIFY_RSS)
		snprintf(buf, len, "%.1f", v / 1048576.0);
	else
		snprintf(buf, len, "%.0f", v);
}

/* Worse beyond what compare calls noise for the metric (exact counts: any
 * increase; kernel-measured RSS: 5%, and more than 8 pages, as validate's
 * floor: a few faulted pages more on a small workload are not a finding). */
static int regressed(int m, double base, double cand)
{
	double pct = jm_metric_default_pct(jm_metric_kind(metrics[m].metric));
	if (m == JM_JUSTIFY_RSS && cand - base <= 8 * 4096)
		return 0;
	return cand > base && cand > base * (1 + pct / 100);
}

/* " (2/3 runs ok)" after a cell whose side had failed runs */
static void partial_note(const struct jm_justify_row *row, char *buf, size_t len)
{
	for (int s = 0; s < 2; s++) {
		const struct jm_justify_side *sd = &row->side[s];
		size_t used = strlen(buf);
		if (sd->ok < sd->runs)
			snprintf(buf + used, len - used, " (%s %d/%d runs ok)", s ? "candidate" : "baseline",
				 sd->ok, sd->runs);
	}
}

/* One cell: "1217 → 5 (243.4x fewer, -99.6%)", "1216, unchanged",
 * "**1246 → 2205 (1.8x more, +77.0%), worse**", "failed (1/3 runs)".
 * Returns 1 if it changed, 2 if it regressed, 0 if not, -1 if not
 * comparable. */
static int cell_text(const struct jm_justify_row *row, int m, char *buf, size_t len)
{
	char why[2][64], b[32], c[32], red[64];
	double v[2];
	for (int s = 0; s < 2; s++)
		v[s] = side_value(&row->side[s], m, why[s], sizeof(why[s]));
	if (isnan(v[0]) || isnan(v[1])) {
		if (isnan(v[0]) && isnan(v[1]) && !strcmp(why[0], why[1]))
			snprintf(buf, len, "%s", why[0]);
		else {
			if (!isnan(v[0]))
				value_text(m, v[0], why[0], sizeof(why[0]));
			if (!isnan(v[1]))
				value_text(m, v[1], why[1], sizeof(why[1]));
			snprintf(buf, len, "%s → %s", why[0], why[1]);
		}
		return -1;
	}
	value_text(m, v[0], b, sizeof(b));
	value_text(m, v[1], c, sizeof(c));
	if (v[0] == v[1]) {
		snprintf(buf, len, "%s, unchanged", b);
		partial_note(row, buf, len);
		return row->side[0].ok < row->side[0].runs || row->side[1].ok < row->side[1].runs;
	}
	jm_justify_reduction(v[0], v[1], red, sizeof(red));
	/* "110.5x fewer (-99.1%)" inside parentheses reads "110.5x fewer, -99.1%" */
	char *paren = strstr(red, " (");
	if (paren && red[strlen(red) - 1] == ')') {
		red[strlen(red) - 1] = 0;
		paren[0] = ',';
		paren[1] = ' ';
	}
	int worse = regressed(m, v[0], v[1]);
	snprintf(buf, len, "%s%s → %s (%s)%s", worse ? "**" : "", b, c, red, worse ? ", worse**" : "");
	partial_note(row, buf, len);
	return worse ? 2 : 1;
}

/* Any context value as text (numbers too). */
static const char *ctx(json_object *c, const char *key)
{
	json_object *v = jm_json_path(c, key);
	return v ? json_object_get_string(v) : "?";
}

void jm_justify_markdown(const struct jm_justify *j, FILE *f)
{
	fprintf(f, "## %s vs %s\n\n", j->name[1], j->name[0]);
	fprintf(f, "Baseline `%s`, candidate `%s`. Each cell: baseline → candidate, the median "
		"of %d repetition%s%s, every run in its own process; counts include an executor "
		"process's. **worse**: the candidate regresses (a count by any amount, RSS by "
		"more than 5%% and 8 pages).\n\n",
		j->name[0], j->name[1], j->repeat, j->repeat == 1 ? "" : "s",
		j->warmup ? " after a warm-up run (dropped)" : "");
	/* a column every row leaves unchanged says nothing: named below */
	int shown[JM_JUSTIFY_NMETRIC], worse = 0, untracked = 0;
	char (*cells)[JM_JUSTIFY_NMETRIC][160] = calloc((size_t)(j->nrows ? j->nrows : 1),
							 sizeof(*cells));
	if (!cells)
		abort();
	for (int m = 0; m < JM_JUSTIFY_NMETRIC; m++) {
		shown[m] = 0;
		for (int r = 0; r < j->nrows; r++) {
			int k = cell_text(&j->rows[r], m, cells[r][m], sizeof(cells[r][m]));
			shown[m] |= k != 0;
			worse |= k == 2;
			untracked |= m == JM_JUSTIFY_REACH && !strcmp(cells[r][m], "n/a");
		}
	}
	fputs("| workload |", f);
	for (int m = 0; m < JM_JUSTIFY_NMETRIC; m++)
		if (shown[m])
			fprintf(f, " %s (%s) |", metrics[m].title, metrics[m].unit);
	fputs("\n|---|", f);
	for (int m = 0; m < JM_JUSTIFY_NMETRIC; m++)
		if (shown[m])
			fputs("--:|", f);
	fputc('\n', f);
	for (int r = 0; r < j->nrows; r++) {
		fprintf(f, "| %s |", j->rows[r].workload);
		for (int m = 0; m < JM_JUSTIFY_NMETRIC; m++)
			if (shown[m])
				fprintf(f, " %s |", cells[r][m]);
		fputc('\n', f);
	}
	int first = 1;
	for (int m = 0; m < JM_JUSTIFY_NMETRIC; m++)
		if (!shown[m]) {
			fprintf(f, "%s%s", first ? "\nUnchanged on every workload: " : ", ",
				metrics[m].title);
			first = 0;
		}
	if (!first)
		fputs(".\n", f);
	/* the regressions, named, so that they are not missed in the table */
	first = 1;
	for (int r = 0; r < j->nrows; r++)
		for (int m = 0; m < JM_JUSTIFY_NMETRIC; m++) {
			char tmp[160];
			if (cell_text(&j->rows[r], m, tmp, sizeof(tmp)) != 2)
				continue;
			fprintf(f, "%s%s on %s", first ? "\n**Regressions**: " : ", ", metrics[m].title,
				j->rows[r].workload);
			first = 0;
		}
	if (!first)
		fputs(".\n", f);
	else if (!worse)
		fputs("\nNo regression on these workloads.\n", f);
	free(cells);
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
