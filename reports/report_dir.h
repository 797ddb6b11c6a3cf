/* Everything a run leaves in its output directory besides results.json:
 * report.md, report.html and plots/ (PNG + SVG + .dat + .gp). Used by
 * `run --out`, `report` and `sweep`. */
#ifndef JITMM_REPORT_DIR_H
#define JITMM_REPORT_DIR_H

#include <json-c/json.h>
#include <stddef.h>

/* jm_report_write_dir's result when stop() asked it to stop */
#define JM_REPORT_STOPPED 1

/* Writes the report into DIR, whole or not at all: every file is made in
 * a private directory inside DIR (gnuplot draws there) and moved into
 * place only when all of them were made; on an error or a stop nothing in
 * DIR changes. DIR itself must not be a symbolic link. A sweep's results
 * (config.sweep) add the sweep's section and plot. stop (may be NULL) is
 * polled between plots and while gnuplot runs. 0, -1 with a one-line
 * message, or JM_REPORT_STOPPED. */
int jm_report_write_dir(json_object *root, const char *dir, const char *baseline,
			int (*stop)(void), char *err, size_t errlen);

#endif
