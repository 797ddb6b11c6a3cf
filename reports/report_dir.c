#include "report_dir.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/atomic_write.h"
#include "html.h"
#include "markdown.h"
#include "results.h"
#include "sweep.h"

/* What a sweep adds to the standard report. */
struct extra {
	const char *markdown; /* section appended to report.md */
	const char *html;     /* trusted fragment for report.html */
};

static int stage_stream(const struct jm_stage *st, const char *name, char *text, size_t len,
			char *err, size_t errlen)
{
	int rc = text ? jm_stage_write(st, name, text, len, err, errlen) : -1;
	if (!text)
		snprintf(err, errlen, "out of memory");
	free(text);
	return rc;
}

/* Every file of the report, made in the stage. */
static int make(json_object *root, const char *baseline, const struct extra *x,
		const struct jm_plot_dir *pd, struct jm_plot_list *plots, char *err,
		size_t errlen)
{
	if (jm_plots_report(root, baseline, pd, plots, err, errlen) < 0)
		return -1;
	if (x && jm_sweep_plots(root, pd, plots, err, errlen) < 0)
		return -1;
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	if (!f) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	jm_report_markdown_ex(root, baseline, NULL, f);
	if (x && x->markdown)
		fprintf(f, "\n%s", x->markdown);
	if (plots->n || plots->nnotes) {
		fprintf(f, "\n## Plots\n\n");
		jm_plots_markdown(plots, f);
	}
	fclose(f);
	if (stage_stream(pd->stage, "report.md", text, len, err, errlen) < 0)
		return -1;
	text = NULL;
	len = 0;
	f = open_memstream(&text, &len);
	if (!f) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	int rc = jm_report_html(root, baseline, plots, pd, x ? x->html : NULL, f, err, errlen);
	fclose(f);
	if (rc < 0) {
		free(text);
		return -1;
	}
	return stage_stream(pd->stage, "report.html", text, len, err, errlen);
}

/* Move the stage's files into DIR/plots and DIR: every destination is
 * checked first (a directory in the way fails before anything moved),
 * report.md last. */
static int commit(const struct jm_stage *st, int dfd, const char *dir,
		  const struct jm_plot_list *plots, char *err, size_t errlen)
{
	static const char *const ext[] = {"png", "svg", "dat", "gp"};
	static const char *const top[] = {"report.html", "report.md"};
	char pdisplay[4200];
	snprintf(pdisplay, sizeof(pdisplay), "%s/plots", dir);
	int pfd = -1;
	if (plots->n && (pfd = jm_subdir_open(dfd, dir, "plots", err, errlen)) < 0)
		return -1;
	int rc = 0;
	for (int pass = 0; pass < 2 && rc == 0; pass++) {
		for (int i = 0; i < plots->n && rc == 0; i++)
			for (size_t e = 0; e < sizeof(ext) / sizeof(ext[0]) && rc == 0; e++) {
				char name[160];
				snprintf(name, sizeof(name), "%s.%s", plots->p[i].name, ext[e]);
				rc = pass ? jm_stage_commit(st, name, pfd, pdisplay, err, errlen)
					  : jm_stage_check_dest(pfd, pdisplay, name, err, errlen);
			}
		for (size_t t = 0; t < sizeof(top) / sizeof(top[0]) && rc == 0; t++)
			rc = pass ? jm_stage_commit(st, top[t], dfd, dir, err, errlen)
				  : jm_stage_check_dest(dfd, dir, top[t], err, errlen);
	}
	if (pfd >= 0)
		close(pfd);
	return rc;
}

/* A file jitmm's plots are named like: KIND-N-SLUG.{png,svg,dat,gp}. */
static int plot_file_name(const char *name)
{
	size_t k = strspn(name, "abcdefghijklmnopqrstuvwxyz");
	if (!k || name[k] != '-')
		return 0;
	const char *p = name + k + 1;
	size_t d = strspn(p, "0123456789");
	if (!d || p[d] != '-')
		return 0;
	const char *dot = strrchr(p, '.');
	return dot && (!strcmp(dot, ".png") || !strcmp(dot, ".svg") || !strcmp(dot, ".dat") ||
		       !strcmp(dot, ".gp"));
}

/* After a report replaced an earlier one in DIR: the earlier plots that
 * this one did not draw (another workload, a plot with nothing to show
 * now) would otherwise stay beside it, unlinked from report.md, and be
 * taken for this run's. Only files named as jitmm names its plots. */
static void remove_stale_plots(int dfd, const struct jm_plot_list *plots)
{
	int pfd = openat(dfd, "plots", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (pfd < 0)
		return;
	DIR *d = fdopendir(pfd);
	if (!d) {
		close(pfd);
		return;
	}
	for (struct dirent *e; (e = readdir(d));) {
		if (!plot_file_name(e->d_name))
			continue;
		size_t base = (size_t)(strrchr(e->d_name, '.') - e->d_name);
		int current = 0;
		for (int i = 0; i < plots->n && !current; i++)
			current = strlen(plots->p[i].name) == base &&
				  !strncmp(plots->p[i].name, e->d_name, base);
		struct stat st;
		if (!current && fstatat(pfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    (S_ISREG(st.st_mode) || S_ISLNK(st.st_mode)))
			unlinkat(pfd, e->d_name, 0);
	}
	closedir(d);
}

int jm_report_write_dir(json_object *root, const char *dir, const char *baseline,
			int (*stop)(void), char *err, size_t errlen)
{
	/* a sweep's results carry their own section and plot, also when the
	 * report is regenerated (`jitmm report`) or the file was merged */
	struct jm_sweep_report sr = {0};
	struct extra sx, *x = NULL;
	if (jm_json_path(root, "config.sweep")) {
		jm_sweep_sections(root, &sr);
		sx = (struct extra){sr.markdown, sr.html};
		x = &sx;
	}
	int rc = -1, dfd = -1;
	struct jm_stage st = {.fd = -1};
	static struct jm_plot_list plots;
	char pdisplay[4200];
	snprintf(pdisplay, sizeof(pdisplay), "%s/plots", dir);
	struct jm_plot_dir pd = {&st, pdisplay, stop};
	if (jm_mkdirs(dir, err, errlen) < 0 || (dfd = jm_dir_open(dir, err, errlen)) < 0)
		goto out;
	jm_stage_sweep(dfd); /* what a killed report left */
	if (jm_stage_open(&st, dfd, dir, err, errlen) < 0)
		goto out;
	rc = make(root, baseline, x, &pd, &plots, err, errlen);
	if (stop && stop()) {
		snprintf(err, errlen, "interrupted: %s/report.md not written", dir);
		rc = JM_REPORT_STOPPED;
	} else if (rc == 0) {
		rc = commit(&st, dfd, dir, &plots, err, errlen);
		if (rc == 0)
			remove_stale_plots(dfd, &plots);
	}
out:
	jm_stage_remove(&st);
	if (dfd >= 0)
		close(dfd);
	jm_sweep_report_free(&sr);
	return rc;
}
