/* Everything a run leaves in its output directory besides results.json:
 * report.md, report.html and plots/ (PNG + SVG + .dat + .gp). Used by
 * `run --out`, `report` and `sweep`. */
#ifndef JITMM_REPORT_DIR_H
#define JITMM_REPORT_DIR_H

#include <json-c/json.h>
#include <stddef.h>

#include "plots.h"

struct jm_report_extra {
	const char *markdown; /* section appended to report.md (may be NULL) */
	const char *html;     /* trusted fragment for report.html (may be NULL) */
	/* called after the standard plots to add more (the sweep's) */
	int (*add_plots)(void *ctx, json_object *root, const char *plotdir,
			 struct jm_plot_list *plots, char *err, size_t errlen);
	void *ctx;
};

/* 0, or -1 with a one-line message; files are replaced atomically. */
int jm_report_write_dir(json_object *root, const char *dir, const char *baseline,
			const struct jm_report_extra *extra, char *err, size_t errlen);

#endif
