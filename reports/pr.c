/* The PR-width report: see pr.h. */
#include "pr.h"

#include <math.h>
#include <string.h>

#include "headline.h"
#include "results.h"
#include "run_total.h"
#include "summary.h"

static void count_text(double v, char *buf, size_t len)
{
	if (isnan(v))
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%.0f", v);
}

static void bytes_text(double v, char *buf, size_t len)
{
	if (isnan(v))
		snprintf(buf, len, "-");
	else
		jm_bytes_text(v, buf, len);
}

static void table(const struct jm_hl_table *t, const char *baseline, FILE *out)
{
	json_object *base = NULL;
	for (int r = 0; r < t->nrows && !base; r++)
		if (!strcmp(jm_json_str(t->agg[r], "backend", ""), baseline))
			base = t->agg[r];
	fprintf(out, "| backend | VMAs | vs %s | syscalls | RSS | VA |\n|---|--:|--:|--:|--:|--:|\n",
		baseline);
	for (int r = 0; r < t->nrows; r++) {
		json_object *a = t->agg[r];
		double runs = 0, failed = 0;
		jm_json_num(a, "runs", &runs);
		jm_json_num(a, "failed", &failed);
		char vmas[32], ratio[48], sys[32], rss[32], va[32];
		if (failed >= runs && runs > 0) {
			fprintf(out, "| %s | failed (%.0f/%.0f) | | | | |\n", t->name[r], failed, runs);
			continue;
		}
		double v = jm_summary_value(a, "vmas_added"), b = NAN;
		count_text(v, vmas, sizeof(vmas));
		if (failed > 0) {
			size_t l = strlen(vmas);
			snprintf(vmas + l, sizeof(vmas) - l, " (%.0f/%.0f failed)", failed, runs);
		}
		if (base == a)
			snprintf(ratio, sizeof(ratio), "baseline");
		else if (base && !isnan(b = jm_summary_value(base, "vmas_added")) && !isnan(v))
			jm_ratio_text(b, v, ratio, sizeof(ratio));
		else
			snprintf(ratio, sizeof(ratio), "-");
		count_text(jm_summary_value(a, "syscalls"), sys, sizeof(sys));
		bytes_text(jm_summary_value(a, "rss_added_bytes"), rss, sizeof(rss));
		bytes_text(jm_summary_value(a, "va_reserved_peak_bytes"), va, sizeof(va));
		fprintf(out, "| %s | %s | %s | %s | %s | %s |\n", t->name[r], vmas, ratio, sys, rss, va);
	}
	fputc('\n', out);
}

void jm_report_pr(json_object *root, const char *baseline, FILE *out)
{
	struct jm_headline h;
	jm_headline_build(root, baseline, &h);
	fprintf(out, "## jitmm: JIT memory managers, each the median of its runs\n\n");
	for (int t = 0; t < h.ntables; t++) {
		jm_summary_workload(root, h.t[t].agg, h.t[t].nrows, h.t[t].workload, baseline, out);
		table(&h.t[t], baseline, out);
	}
	fprintf(out, "VMAs: VMAs added by the run; syscalls: mmap + mprotect + munmap + madvise; "
		     "RSS: resident bytes added; VA: peak address space reserved. An executor "
		     "process's work is counted (shm-mapper, llvm-shm).\n\n"
		     "<details><summary>Context</summary>\n\n%s\n\n</details>\n", h.context);
	jm_headline_free(&h);
}
