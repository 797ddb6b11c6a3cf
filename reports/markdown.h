/* The headline table a patch review wants, per workload, from a results
 * model: VMAs added (median and range), ratio to a baseline backend,
 * syscalls, faults, memory and time, with units and the context. */
#ifndef JITMM_MARKDOWN_H
#define JITMM_MARKDOWN_H

#include <json-c/json.h>
#include <stdio.h>

#include "headline.h"

/* Write the tables (one per workload) and the context sentence. */
void jm_report_tables(json_object *root, const char *baseline, FILE *out);
/* Write a complete report.md. plots_md (may be NULL) is inserted as the
 * "Plots" section. */
void jm_report_markdown(json_object *root, const char *baseline, FILE *out);
void jm_report_markdown_ex(json_object *root, const char *baseline,
			   const char *plots_md, FILE *out);
/* "What a final trim gave back" table, if any run used --trim-at-end. */
void jm_report_trim(json_object *root, FILE *out);
/* The paragraph that defines the columns. */
extern const char jm_report_columns_text[];

#endif
