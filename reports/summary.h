/* The summary a reviewer quotes, at the top of report.md, report.html and
 * the PR-width report: for each workload, which backend adds the fewest
 * VMAs and what that costs against the baseline ("per-prot: 243x fewer
 * VMAs than single-pool, same mprotect calls, 3.0x the address space"),
 * which makes the fewest memory syscalls, adds the least RSS, reserves the
 * least address space, whether any code fell out of relocation reach, and
 * which runs failed and why. Every number is the run's total over its
 * processes (run_total.h); controls (null: no protections, the harness's
 * own cost) never win. Format: docs/report-format.md. */
#ifndef JITMM_SUMMARY_H
#define JITMM_SUMMARY_H

#include <json-c/json.h>
#include <stdio.h>

/* "## Summary" and a "### WORKLOAD" list per workload (Markdown). */
void jm_report_summary(json_object *root, const char *baseline, FILE *out);
/* One workload's part: "### NAME" and its list, from its n aggregates. */
void jm_summary_workload(json_object *root, json_object *const *agg, int n, const char *name,
			 const char *baseline, FILE *out);
/* An aggregate's value in one of the summary's terms: a metric's run
 * total, "syscalls" (mmap + mprotect + munmap + madvise) or "reach"
 * (relocations and placements out of reach); NaN if not measured. */
double jm_summary_value(json_object *agg, const char *what);

#endif
