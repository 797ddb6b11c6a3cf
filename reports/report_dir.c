#include "report_dir.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/atomic_write.h"
#include "html.h"
#include "markdown.h"
#include "results.h"
#include "sweep.h"

static int write_dir(json_object *root, const char *dir, const char *baseline,
		     const struct jm_report_extra *extra, char *err, size_t errlen);

int jm_report_write_dir(json_object *root, const char *dir, const char *baseline,
			const struct jm_report_extra *extra, char *err, size_t errlen)
{
	/* a sweep's results carry their own section and plot, also when the
	 * report is regenerated (`jitmm report`) or the file was merged */
	if (!extra && jm_json_path(root, "config.sweep")) {
		struct jm_sweep_report sr = {0};
		jm_sweep_sections(root, &sr);
		struct jm_report_extra sx = {sr.markdown, sr.html, jm_sweep_plots, NULL};
		int rc = write_dir(root, dir, baseline, &sx, err, errlen);
		jm_sweep_report_free(&sr);
		return rc;
	}
	return write_dir(root, dir, baseline, extra, err, errlen);
}

static int write_dir(json_object *root, const char *dir, const char *baseline,
		     const struct jm_report_extra *extra, char *err, size_t errlen)
{
	char plotdir[4096], path[4096];
	if (jm_mkdirs(dir, err, errlen) < 0)
		return -1;
	snprintf(plotdir, sizeof(plotdir), "%s/plots", dir);
	static struct jm_plot_list plots;
	if (jm_plots_report(root, baseline, plotdir, &plots, err, errlen) < 0)
		return -1;
	if (extra && extra->add_plots &&
	    extra->add_plots(extra->ctx, root, plotdir, &plots, err, errlen) < 0)
		return -1;

	struct jm_atomic_file af;
	snprintf(path, sizeof(path), "%s/report.md", dir);
	if (jm_atomic_open(&af, path, err, errlen) < 0)
		return -1;
	jm_report_markdown_ex(root, baseline, NULL, af.f);
	if (extra && extra->markdown)
		fprintf(af.f, "\n%s", extra->markdown);
	if (plots.n || plots.nnotes) {
		fprintf(af.f, "\n## Plots\n\n");
		jm_plots_markdown(&plots, af.f);
	}
	if (jm_atomic_commit(&af, err, errlen) < 0)
		return -1;

	snprintf(path, sizeof(path), "%s/report.html", dir);
	if (jm_atomic_open(&af, path, err, errlen) < 0)
		return -1;
	if (jm_report_html(root, baseline, &plots, plotdir, extra ? extra->html : NULL,
			   af.f, err, errlen) < 0) {
		jm_atomic_abort(&af);
		return -1;
	}
	return jm_atomic_commit(&af, err, errlen);
}
