/* gnuplot plots for a results model. Every plot is NAME.dat (the numbers),
 * NAME.gp (the script; `cd plots && gnuplot NAME.gp` regenerates it) and
 * NAME.png + NAME.svg, made by running gnuplot as a child process in a
 * private directory (struct jm_plot_dir). */
#ifndef JITMM_PLOTS_H
#define JITMM_PLOTS_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdio.h>

#define JM_MAX_PLOTS 64

struct jm_plot {
	char name[96];     /* file base name inside plots/ */
	char title[480];
	char caption[900];
};

struct jm_plot_list {
	struct jm_plot p[JM_MAX_PLOTS];
	int n;
	char notes[8][600]; /* plots that could not be drawn, and why */
	int nnotes;
};

/* Where plots are made: the report's private staging directory
 * (common/atomic_write.h), whose files report_dir.c moves into DIR/plots
 * once everything was drawn. */
struct jm_stage;
struct jm_plot_dir {
	const struct jm_stage *stage;
	const char *display;   /* DIR/plots, for messages */
	int (*stop)(void);     /* polled while gnuplot runs: nonzero kills it
				* and the plot fails (NULL: never) */
};

/* gnuplot on PATH (or a renderer set by jm_plot_set_renderer)? */
int jm_gnuplot_available(void);

/* The report's plots for every workload in root: VMAs vs graphs, bars
 * normalised to the baseline, RSS/VA over the run, faults by class. */
int jm_plots_report(json_object *root, const char *baseline, const struct jm_plot_dir *dir,
		    struct jm_plot_list *out, char *err, size_t errlen);

/* Write NAME.dat and NAME.gp into the stage and render NAME.png and
 * NAME.svg there. body is gnuplot commands drawing the figure from the
 * file named by the gnuplot variable `datafile`; every string from data
 * in it must come from jm_gp_string. 0, or -1 with gnuplot's last error
 * line. */
int jm_plot_render(const struct jm_plot_dir *dir, const char *name, const char *dat,
		   const char *body, int width, int height, char *err,
		   size_t errlen);
/* What turns NAME.gp into NAME.png and NAME.svg in dir's stage: gnuplot,
 * unless the results fuzz target (tests/fuzz/fuzz_results.c) sets a
 * stand-in that checks the script and writes placeholder images, so that
 * every input reaches the plot writers at fuzzing speed. NULL: gnuplot. */
typedef int (*jm_plot_renderer)(const struct jm_plot_dir *dir, const char *name,
				char *err, size_t errlen);
void jm_plot_set_renderer(jm_plot_renderer r);

/* Helpers for building plot scripts. */
/* s as a gnuplot string expression that is only text: single-quoted,
 * quotes and newlines joined in as ."'". and ."\n". (plots.c says why) */
void jm_gp_string(FILE *f, const char *s);
/* s in a .dat file (a comment or a last column): control characters
 * become '?', so data cannot start a new line */
void jm_dat_text(FILE *f, const char *s);
void jm_plot_title(FILE *f, json_object *root, const char *what);
/* the same title (with host and kernel) as a quoted gnuplot string */
void jm_plot_title_string(FILE *f, json_object *root, const char *what);
void jm_plot_slug(const char *in, char *out, size_t len);
void jm_plot_add(struct jm_plot_list *l, const char *name, const char *title,
		 const char *caption);
/* a plot that could not be drawn, and why (listed under the plots) */
void jm_plot_add_note(struct jm_plot_list *l, const char *text);
/* Markdown list of the plots (image links relative to the report). */
void jm_plots_markdown(const struct jm_plot_list *l, FILE *out);

#endif
