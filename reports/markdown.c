#include "markdown.h"

#include <math.h>
#include <string.h>

#include "diagnostics.h"
#include "results.h"
#include "summary.h"

const char jm_report_columns_text[] =
	"Columns: VMAs added = VMAs after the workload minus before "
	"(the backend's mappings still live); VMAs peak = the highest VMA "
	"count of the process during the run; syscalls are counted by the "
	"os layer inside the measured window; RSS added = resident bytes "
	"after minus before; VA reserved = peak address space the backend "
	"held; wasted = bytes the backend had mapped beyond the live "
	"requested bytes; reach failures = allocations placed out of "
	"relocation reach; wall = the measured window. Field definitions: "
	"docs/json-format.md, report files: docs/report-format.md.";

/* Out-of-process backends (shm-mapper): the table counts the controller;
 * say what the executor process added, from metrics.backend.executor_*. */
static double med(json_object *agg, const char *metric)
{
	double m = NAN;
	jm_agg_metric(agg, metric, &m, NULL, NULL);
	return m;
}

static void executor_notes(const struct jm_hl_table *t, FILE *out)
{
	int any = 0;
	for (int j = 0; j < t->nrows; j++) {
		json_object *b = t->agg[j];
		double v = med(b, "vmas_added_other_processes");
		if (isnan(v) || v <= 0)
			continue;
		fprintf(out, "- %s runs code in a separate executor process: the row counts both "
			     "processes (the executor's part after the +); the executor added %.0f "
			     "VMAs and made %.0f mmap, %.0f mprotect, %.0f munmap calls.\n",
			t->name[j], v, med(b, "backend.executor_mmap_calls"),
			med(b, "backend.executor_mprotect_calls"),
			med(b, "backend.executor_munmap_calls"));
		any = 1;
	}
	if (any)
		fprintf(out, "\n");
}

void jm_report_tables(json_object *root, const char *baseline, FILE *out)
{
	struct jm_headline h;
	jm_headline_build(root, baseline, &h);
	for (int i = 0; i < h.ntables; i++) {
		struct jm_hl_table *t = &h.t[i];
		fprintf(out, "### %s\n\n", t->workload);
		if (isnan(t->graphs))
			fprintf(out, "`%s` (no run completed)\n\n", t->workload_spec);
		else
			fprintf(out, "`%s`, %.0f graphs\n\n", t->workload_spec, t->graphs);
		fputc('|', out);
		for (int c = 0; c < JM_HL_COLS; c++)
			fprintf(out, " %s |", h.head[c]);
		fputs("\n|---|---|", out);
		for (int c = 2; c < JM_HL_COLS; c++)
			fputs("--:|", out);
		fputc('\n', out);
		for (int r = 0; r < t->nrows; r++) {
			fprintf(out, "| %s |", t->name[r]);
			for (int c = 1; c < JM_HL_COLS; c++)
				fprintf(out, " %s |", t->cell[r][c]);
			fputc('\n', out);
		}
		fprintf(out, "\n");
		executor_notes(t, out);
	}
	fprintf(out, "%s\n", h.context);
	jm_headline_free(&h);
}

/* What trim gave back, for runs made with --trim-at-end (medians). */
void jm_report_trim(json_object *root, FILE *out)
{
	json_object *aggs = jm_json_path(root, "aggregates");
	size_t n = aggs ? json_object_array_length(aggs) : 0;
	int any = 0;
	for (size_t i = 0; i < n; i++) {
		json_object *a = json_object_array_get_idx(aggs, i);
		double vm = med(a, "trim_at_end.vmas_released");
		if (isnan(vm))
			continue;
		if (!any)
			fprintf(out, "\n## What a final trim gave back\n\n"
				     "| workload | backend | units released (count) | VMAs released (count) | "
				     "RSS released (bytes) | VA released (bytes) |\n"
				     "|---|---|--:|--:|--:|--:|\n");
		any = 1;
		char rss[32], va[32];
		jm_bytes_text(med(a, "trim_at_end.rss_released_bytes"), rss, sizeof(rss));
		jm_bytes_text(med(a, "trim_at_end.va_released_bytes"), va, sizeof(va));
		char b[JM_NAME_MAX], w[JM_NAME_MAX];
		jm_name_backend(root, a, b, sizeof(b));
		jm_name_workload(root, a, w, sizeof(w));
		fprintf(out, "| %s | %s | %.0f | %.0f | %s | %s |\n", w, b,
			med(a, "trim_at_end.units_released"), vm, rss, va);
	}
}

void jm_report_markdown_ex(json_object *root, const char *baseline,
			   const char *plots_md, FILE *out)
{
	json_object *c = jm_json_path(root, "context");
	fprintf(out, "# jitmm report\n\n");
	fprintf(out, "Host %s, kernel %s, %s, generated %s.\n\n",
		jm_json_str(c, "hostname", "?"), jm_json_str(c, "kernel", "?"),
		jm_json_str(c, "cpu", "?"), jm_json_str(c, "date", "?"));
	jm_report_summary(root, baseline, out);
	fprintf(out, "## Results per workload\n\n");
	jm_report_tables(root, baseline, out);
	jm_report_diagnostics(root, out);
	jm_report_trim(root, out);
	fprintf(out, "\n%s\n", jm_report_columns_text);
	if (plots_md && *plots_md)
		fprintf(out, "\n## Plots\n\n%s", plots_md);
}

void jm_report_markdown(json_object *root, const char *baseline, FILE *out)
{
	jm_report_markdown_ex(root, baseline, NULL, out);
}
