/* gnuplot plots for a results model. Every plot is NAME.dat (the numbers),
 * NAME.gp (the script; `cd plots && gnuplot NAME.gp` regenerates it) and
 * NAME.png + NAME.svg, made by running gnuplot as a child process. */
#ifndef JITMM_PLOTS_H
#define JITMM_PLOTS_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdio.h>

#define JM_MAX_PLOTS 64

struct jm_plot {
	char name[96];     /* file base name inside plots/ */
	char title[192];
	char caption[512];
};

struct jm_plot_list {
	struct jm_plot p[JM_MAX_PLOTS];
	int n;
	char notes[8][320]; /* plots that could not be drawn, and why */
	int nnotes;
};

/* gnuplot on PATH? */
int jm_gnuplot_available(void);

/* The report's plots for every workload in root: VMAs vs graphs, bars
 * normalised to the baseline, RSS/VA over the run, faults by class. */
int jm_plots_report(json_object *root, const char *baseline, const char *plotdir,
		    struct jm_plot_list *out, char *err, size_t errlen);

/* Write dir/name.dat and dir/name.gp and render name.png and name.svg.
 * body is gnuplot commands drawing the figure from the file named by the
 * gnuplot variable `datafile`. 0, or -1 with gnuplot's first error line. */
int jm_plot_render(const char *dir, const char *name, const char *dat,
		   const char *body, int width, int height, char *err,
		   size_t errlen);

/* Helpers for building plot scripts. */
void jm_gp_string(FILE *f, const char *s); /* "..." with escapes */
void jm_plot_title(FILE *f, json_object *root, const char *what);
/* the same title (with host and kernel) as a quoted gnuplot string */
void jm_plot_title_string(FILE *f, json_object *root, const char *what);
void jm_plot_slug(const char *in, char *out, size_t len);
void jm_plot_add(struct jm_plot_list *l, const char *name, const char *title,
		 const char *caption);
/* Markdown list of the plots (image links relative to the report). */
void jm_plots_markdown(const struct jm_plot_list *l, FILE *out);

#endif
