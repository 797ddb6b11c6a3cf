/* report.html: one self-contained file (styles inline, plots inlined as
 * SVG, no scripts, no network) with the same tables as report.md. */
#ifndef JITMM_HTML_H
#define JITMM_HTML_H

#include <json-c/json.h>
#include <stdio.h>

#include "plots.h"

/* extra_html (may be NULL) is a trusted fragment inserted after the tables
 * (the sweep's recommendation). The plots' SVGs are read from pd's stage. */
int jm_report_html(json_object *root, const char *baseline,
		   const struct jm_plot_list *plots, const struct jm_plot_dir *pd,
		   const char *extra_html, FILE *out, char *err, size_t errlen);
/* Text with &, <, >, " escaped. */
void jm_html_escape(FILE *out, const char *s);

#endif
