/* The headline table a patch review wants, per workload, from a results
 * model: VMAs added (median and range), ratio to a baseline backend,
 * syscalls, faults, memory and time, with units and the context. */
#ifndef JITMM_MARKDOWN_H
#define JITMM_MARKDOWN_H

#include <json-c/json.h>
#include <stdio.h>

/* Write the tables (one per workload) and the context sentence. */
void jm_report_tables(json_object *root, const char *baseline, FILE *out);
/* Write a complete report.md. */
void jm_report_markdown(json_object *root, const char *baseline, FILE *out);
/* The diagnostic sections (reports/diagnostics.c): why runs failed (the
 * syscall, errno, VMA count), leaked mappings, relocation reach. */
void jm_report_diagnostics(json_object *root, FILE *out);
/* "57x fewer", "2.0x more", "same" for candidate vs baseline counts. */
void jm_ratio_text(double baseline, double candidate, char *buf, size_t len);
/* Human units: 1536 -> "1.5 KiB". */
void jm_bytes_text(double bytes, char *buf, size_t len);

#endif
