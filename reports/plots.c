#include "plots.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../common/atomic_write.h"
#include "by_workload.h"
#include "headline.h"
#include "names.h"
#include "results.h"
#include "run_total.h"

/* Okabe-Ito colours (distinguishable with the common colour-vision
 * deficiencies), each with its own dash pattern and point type so that the
 * lines stay apart in greyscale too. Yellow is last: it is faint on white. */
static const char styles[] =
	"set linetype 1 lc rgb '#0072B2' lw 2.5 dt 1 pt 7 ps 1.3\n"
	"set linetype 2 lc rgb '#D55E00' lw 2.5 dt 2 pt 5 ps 1.3\n"
	"set linetype 3 lc rgb '#009E73' lw 2.5 dt 4 pt 9 ps 1.5\n"
	"set linetype 4 lc rgb '#CC79A7' lw 2.5 dt 5 pt 13 ps 1.5\n"
	"set linetype 5 lc rgb '#E69F00' lw 2.5 dt 3 pt 11 ps 1.5\n"
	"set linetype 6 lc rgb '#56B4E9' lw 2.5 dt (12,4,2,4) pt 3 ps 1.3\n"
	"set linetype 7 lc rgb '#000000' lw 2.5 dt (2,5) pt 2 ps 1.3\n"
	"set linetype 8 lc rgb '#F0E442' lw 2.5 dt (8,3,2,3,2,3) pt 1 ps 1.3\n"
	"set linetype cycle 8\n"
	"set datafile missing '?'\n"
	"set grid lc rgb '#d8d8d8' lw 1\n"
	"set border lw 1.2\n";

/* A string from data (host, backend, workload, option values, ...) as a
 * gnuplot string expression that is text and nothing else. gnuplot runs
 * `command` inside double quotes, so data goes only into single-quoted
 * strings, where nothing is special but the quote itself: no backquote
 * substitution, no @macro, no backslash escapes (gnuplot's "Substitution"
 * help). The quote and the newline are joined in as fixed double-quoted
 * pieces, ."'". and ."\n". ('' inside a string would be a quote, but
 * gnuplot reads a string that starts with it as an empty string); other
 * control characters become '?'. Every place the plots put a string (set
 * title, labels, plot ... title, xtics) takes an expression. Checked by
 * tests/test_report_injection.c and the results fuzz target. */
void jm_gp_string(FILE *f, const char *s)
{
	fputc('\'', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '\'')
			fputs("'.\"'\".'", f);
		else if (c == '\n')
			fputs("'.\"\\n\".'", f);
		else if (c < 0x20 || c == 0x7f)
			fputc('?', f);
		else
			fputc(c, f);
	}
	fputc('\'', f);
}

void jm_dat_text(FILE *f, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		fputc(c < 0x20 || c == 0x7f ? '?' : c, f);
	}
}

void jm_plot_title_string(FILE *f, json_object *root, const char *what)
{
	char t[512];
	snprintf(t, sizeof(t), "%s\nhost %s, kernel %s (%s)", what,
		 jm_json_str(root, "context.hostname", "?"),
		 jm_json_str(root, "context.kernel", "?"),
		 jm_json_str(root, "context.arch", "?"));
	jm_gp_string(f, t);
}

void jm_plot_title(FILE *f, json_object *root, const char *what)
{
	fputs("set title ", f);
	jm_plot_title_string(f, root, what);
	fputs(" font ',14'\n", f);
}

void jm_plot_slug(const char *in, char *out, size_t len)
{
	size_t j = 0;
	for (; *in && j + 1 < len; in++) {
		char c = *in;
		int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			 (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
		out[j++] = ok ? c : '_';
	}
	out[j] = 0;
}

void jm_plot_add(struct jm_plot_list *l, const char *name, const char *title,
		 const char *caption)
{
	if (l->n >= JM_MAX_PLOTS)
		return;
	struct jm_plot *p = &l->p[l->n++];
	snprintf(p->name, sizeof(p->name), "%s", name);
	snprintf(p->title, sizeof(p->title), "%s", title);
	snprintf(p->caption, sizeof(p->caption), "%s", caption);
}

void jm_plot_add_note(struct jm_plot_list *l, const char *text)
{
	if (l->nnotes < 8)
		snprintf(l->notes[l->nnotes++], sizeof(l->notes[0]), "%s", text);
}

/* gnuplot's error: the last non-empty line of its stderr (the message
 * after the echoed command and the caret line), read from the end of the
 * file however much it wrote before. */
static void last_line(int fd, char *out, size_t outlen)
{
	char tail[4096];
	off_t size = lseek(fd, 0, SEEK_END);
	off_t from = size > (off_t)sizeof(tail) - 1 ? size - (off_t)sizeof(tail) + 1 : 0;
	ssize_t n = pread(fd, tail, sizeof(tail) - 1, from);
	tail[n > 0 ? n : 0] = 0;
	char *end = tail + strlen(tail);
	while (end > tail && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' '))
		*--end = 0;
	char *line = strrchr(tail, '\n');
	line = line ? line + 1 : tail;
	while (*line == ' ')
		line++;
	snprintf(out, outlen, "%s", line);
}

/* gnuplot NAME.gp in the stage: it writes NAME.png and NAME.svg there. It
 * runs in its own process group, so the terminal's Ctrl-C (sent to
 * jitmm's group) does not kill it halfway; jitmm decides (d->stop) and
 * kills it. PR_SET_PDEATHSIG: it does not outlive a killed jitmm. */
static int gnuplot_render(const struct jm_plot_dir *d, const char *name, char *err,
			  size_t errlen)
{
	if (d->stop && d->stop()) {
		snprintf(err, errlen, "interrupted");
		return -1;
	}
	char errfile[] = "/tmp/jitmm-gnuplot-XXXXXX", script[128];
	int efd = mkstemp(errfile);
	if (efd < 0) {
		snprintf(err, errlen, "mkstemp: %s", strerror(errno));
		return -1;
	}
	unlink(errfile);
	snprintf(script, sizeof(script), "%s.gp", name);
	pid_t parent = getpid();
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		close(efd);
		snprintf(err, errlen, "fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		setpgid(0, 0);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(126);
		int nul = open("/dev/null", O_RDWR);
		if (nul >= 0) {
			dup2(nul, 0);
			dup2(nul, 1);
		}
		dup2(efd, 2);
		if (fchdir(d->stage->fd) < 0)
			_exit(126);
		execlp("gnuplot", "gnuplot", script, (char *)NULL);
		_exit(127);
	}
	setpgid(pid, pid); /* also here: no window where it is in our group */
	int st = 0, stopped = 0;
	while (waitpid(pid, &st, 0) < 0) {
		if (errno != EINTR)
			break;
		if (!stopped && d->stop && d->stop()) {
			kill(-pid, SIGKILL);
			stopped = 1;
		}
	}
	int rc = 0;
	if (stopped || (d->stop && d->stop())) {
		snprintf(err, errlen, "interrupted");
		rc = -1;
	} else if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		char line[4096];
		last_line(efd, line, sizeof(line));
		if (WIFEXITED(st) && WEXITSTATUS(st) == 127)
			snprintf(err, errlen, "gnuplot not found (install gnuplot-nox: scripts/install-deps)");
		else if (WIFSIGNALED(st))
			snprintf(err, errlen, "gnuplot %s/%s: killed by signal %d", d->display, script,
				 WTERMSIG(st));
		else
			snprintf(err, errlen, "gnuplot %s/%s: %s", d->display, script,
				 *line ? line : "failed");
		rc = -1;
	}
	close(efd);
	return rc;
}

static jm_plot_renderer renderer = gnuplot_render;

void jm_plot_set_renderer(jm_plot_renderer r)
{
	renderer = r ? r : gnuplot_render;
}

int jm_plot_render(const struct jm_plot_dir *d, const char *name, const char *dat,
		   const char *body, int width, int height, char *err, size_t errlen)
{
	/* the name becomes file names and a quoted string in the script: the
	 * writers pass slugs (jm_plot_slug), anything else is a bug */
	if (!*name || name[0] == '.' || strspn(name, "abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != strlen(name) || strlen(name) > 100) {
		snprintf(err, errlen, "plot name '%.100s' is not a file name", name);
		return -1;
	}
	char file[160];
	snprintf(file, sizeof(file), "%s.dat", name);
	if (jm_stage_write(d->stage, file, dat, strlen(dat), err, errlen) < 0)
		return -1;
	char *gp = NULL;
	size_t gplen = 0;
	FILE *f = open_memstream(&gp, &gplen);
	if (!f) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	fprintf(f, "# jitmm plot %s; regenerate with: gnuplot %s.gp (in this directory)\n"
		   "# writes %s.png and %s.svg; data in %s.dat\n",
		name, name, name, name, name);
	fprintf(f, "if (!exists(\"outbase\")) outbase = '%s'\n", name);
	fprintf(f, "datafile = '%s.dat'\n%s", name, styles);
	fprintf(f, "set terminal pngcairo noenhanced size %d,%d font 'DejaVu Sans,12' "
		   "background rgb '#ffffff'\nset output outbase.'.png'\n%s\nset output\n",
		width, height, body);
	fprintf(f, "set terminal svg noenhanced size %d,%d font 'DejaVu Sans,12' "
		   "background rgb '#ffffff'\nset output outbase.'.svg'\n%s\nset output\n",
		width, height, body);
	fclose(f);
	snprintf(file, sizeof(file), "%s.gp", name);
	int rc = jm_stage_write(d->stage, file, gp, gplen, err, errlen);
	free(gp);
	return rc < 0 ? -1 : renderer(d, name, err, errlen);
}

/* ---- the report's plots ---- */

static int series_at(json_object *run, const char *name, size_t i, double *v)
{
	char path[96];
	snprintf(path, sizeof(path), "series.%s", name);
	json_object *a = jm_json_path(run, path);
	if (!a || !json_object_is_type(a, json_type_array) || i >= json_object_array_length(a))
		return -1;
	*v = json_object_get_double(json_object_array_get_idx(a, i));
	return 0;
}

static size_t series_len(json_object *run, const char *name)
{
	char path[96];
	snprintf(path, sizeof(path), "series.%s", name);
	json_object *a = jm_json_path(run, path);
	return a && json_object_is_type(a, json_type_array) ? json_object_array_length(a) : 0;
}

#define MAX_GROUPS 16 /* workloads plotted */

/* A workload's aggregates with their legend labels and, for each, the
 * first ok run of its group: its time series is drawn. */
struct wl_group {
	struct jm_wl_aggs w;
	char label[JM_WL_MAX_AGGS][JM_NAME_MAX]; /* names.h */
	json_object *first_ok[JM_WL_MAX_AGGS];
};

/* The first run with status ok among the runs of agg's group. */
static json_object *first_ok_run(json_object *runs, const struct jm_group_index *rx,
				 json_object *agg)
{
	char *key = jm_group_key(agg);
	json_object *found = NULL;
	for (size_t r = jm_group_index_lower(rx, key); !found && jm_group_index_match(rx, r, key); r++) {
		json_object *run = json_object_array_get_idx(runs, rx->order[r]);
		if (!strcmp(jm_json_str(run, "status", ""), "ok"))
			found = run;
	}
	free(key);
	return found;
}

/* Aggregates per workload, each labelled by its name (names.h). */
static int group_workloads(json_object *root, struct wl_group *g)
{
	static struct jm_wl_aggs w[MAX_GROUPS];
	int ng = jm_aggregates_by_workload(root, w, MAX_GROUPS);
	json_object *runs = jm_json_path(root, "runs");
	struct jm_group_index rx;
	jm_group_index_build(runs, &rx);
	for (int k = 0; k < ng; k++) {
		g[k].w = w[k];
		for (int i = 0; i < w[k].n; i++)
			g[k].first_ok[i] = first_ok_run(runs, &rx, w[k].agg[i]);
	}
	jm_group_index_free(&rx);
	for (int k = 0; k < ng; k++)
		for (int i = 0; i < g[k].w.n; i++)
			jm_name_backend(root, g[k].w.agg[i], g[k].label[i], sizeof(g[k].label[i]));
	return ng;
}

static void plot_label(FILE *f, const char *s)
{
	fputs(" title ", f);
	jm_gp_string(f, s);
}

/* The plot clauses of series 0..n-1 of g as lines: x column 1, y col. */
static void plot_lines(FILE *b, const struct wl_group *g, int n, int col)
{
	for (int i = 0; i < n; i++) {
		fprintf(b, "%s datafile index %d using 1:%d with linespoints lt %d pi -8",
			i ? ", \\\n    " : " ", i, col, i + 1);
		plot_label(b, g->label[i]);
	}
}

/* The plot clauses of every series of g as boxes (1:2) with error bars
 * (1:2:3:4: x, median, min, max). */
static void plot_boxes_with_errors(FILE *b, const struct wl_group *g)
{
	for (int i = 0; i < g->w.n; i++) {
		fprintf(b, "%s datafile index %d using 1:2 with boxes lt %d dt 1", i ? ", \\\n    " : " ", i, i + 1);
		plot_label(b, g->label[i]);
		fprintf(b, ", \\\n    datafile index %d using 1:2:3:4 with yerrorbars lc rgb '#000000' "
			   "lw 1.5 dt 1 ps 0 notitle", i);
	}
}

static int plot_vmas(json_object *root, struct wl_group *g, int wi, const struct jm_plot_dir *dir,
		     struct jm_plot_list *out, char *err, size_t errlen)
{
	char *dat = NULL, *body = NULL, name[96], slug[64];
	size_t dl = 0, bl = 0;
	double mmc = 0, ymax = 1;
	jm_json_num(root, "context.vm_max_map_count", &mmc);
	FILE *d = open_memstream(&dat, &dl), *b = open_memstream(&body, &bl);
	int blocks = 0, any = 0;
	fprintf(d, "# VMAs of the process against graphs processed, one block per backend\n"
		   "# (its first successful repetition); columns: graphs vmas\n");
	for (int i = 0; i < g->w.n; i++) {
		json_object *run = g->first_ok[i];
		size_t n = run ? series_len(run, "graphs") : 0;
		fprintf(d, "%s# ", blocks ? "\n\n" : "");
		jm_dat_text(d, g->label[i]);
		fputc('\n', d);
		int pts = 0;
		for (size_t k = 0; k < n; k++) {
			double x, y;
			if (series_at(run, "graphs", k, &x) < 0 || series_at(run, "vmas", k, &y) < 0 ||
			    x <= 0 || y <= 0)
				continue;
			fprintf(d, "%.0f %.0f\n", x, y);
			ymax = y > ymax ? y : ymax;
			pts++;
		}
		if (!pts)
			fprintf(d, "? ?\n");
		any |= pts > 0;
		blocks++;
	}
	fclose(d);
	jm_plot_title(b, root, "VMA count against graphs processed");
	fprintf(b, "set logscale xy\nset xlabel 'graphs processed (count, log scale)'\n"
		   "set ylabel 'VMAs in the process (count, log scale)'\n"
		   "set key top left box opaque\nset format y '%%.0f'\nset format x '%%.0f'\n");
	if (mmc > 0) {
		fprintf(b, "mmc = %.0f\nset yrange [*:%g]\n"
			   "set arrow 1 from graph 0, first mmc to graph 1, first mmc nohead dt 2 lw 2.5 lc rgb '#444444'\n"
			   "set label 1 sprintf('vm.max_map_count = %%.0f', mmc) at graph 0.98, first mmc "
			   "right offset 0,-1 font ',11'\n", mmc, (mmc > ymax ? mmc : ymax) * 2);
	}
	fputs("plot", b);
	plot_lines(b, g, blocks, 2);
	fputc('\n', b);
	fclose(b);
	int rc = 0;
	jm_plot_slug(g->w.name, slug, sizeof(slug));
	snprintf(name, sizeof(name), "vmas-%d-%s", wi + 1, slug);
	if (any) {
		rc = jm_plot_render(dir, name, dat, body, 1100, 720, err, errlen);
		if (rc == 0) {
			char title[192], cap[512];
			snprintf(title, sizeof(title), "VMAs vs graphs processed, %s", g->w.name);
			snprintf(cap, sizeof(cap),
				 "VMA count of the whole process (log-log) as each backend processes the "
				 "graphs of %s; the dashed line is vm.max_map_count (%.0f), where mmap "
				 "and mprotect start failing with ENOMEM.", g->w.spec, mmc);
			jm_plot_add(out, name, title, cap);
		}
	}
	free(dat);
	free(body);
	return rc;
}

static const struct {
	const char *metric, *label;
} bar_metrics[] = {
	{"vmas_added", "VMAs added"},
	{"syscalls.mmap.calls", "mmap"},
	{"syscalls.mprotect.calls", "mprotect"},
	{"syscalls.munmap.calls", "munmap"},
	{"page_faults_minor", "minor faults"},
	{"rss_added_bytes", "RSS added"},
	{"va_reserved_peak_bytes", "VA reserved"},
	{"bytes_wasted", "wasted"},
	{"wall_ns", "wall time"},
};
#define NBAR (sizeof(bar_metrics) / sizeof(bar_metrics[0]))

static int plot_bars(json_object *root, struct wl_group *g, int wi, const char *baseline,
		     const struct jm_plot_dir *dir, struct jm_plot_list *out, char *err, size_t errlen)
{
	json_object *base = NULL;
	for (int i = 0; i < g->w.n && !base; i++)
		if (!strcmp(jm_json_str(g->w.agg[i], "backend", ""), baseline))
			base = g->w.agg[i];
	char note[320];
	if (!base) {
		snprintf(note, sizeof(note), "Normalised bars for %s: baseline backend %s was not run.",
			 g->w.name, baseline);
		jm_plot_add_note(out, note);
		return 0;
	}
	char *dat = NULL, *body = NULL, name[96], slug[64];
	size_t dl = 0, bl = 0;
	FILE *d = open_memstream(&dat, &dl), *b = open_memstream(&body, &bl);
	double lo_all = 1, hi_all = 1, w = 0.8 / g->w.n;
	int any = 0;
	fputs("# median/min/max of each metric divided by the ", d);
	jm_dat_text(d, baseline);
	fputs(" median;\n# '?' where the value or the baseline is 0 (no bar on a log scale)\n"
	      "# columns: x ratio_median ratio_min ratio_max metric\n", d);
	for (int i = 0; i < g->w.n; i++) {
		fprintf(d, "%s# ", i ? "\n\n" : "");
		jm_dat_text(d, g->label[i]);
		fputc('\n', d);
		for (size_t m = 0; m < NBAR; m++) {
			double x = (double)m + (i - (g->w.n - 1) / 2.0) * w, v, lo, hi, bv;
			if (jm_total_agg(g->w.agg[i], bar_metrics[m].metric, &v, &lo, &hi) < 0 ||
			    jm_total_agg(base, bar_metrics[m].metric, &bv, NULL, NULL) < 0 ||
			    bv <= 0 || v <= 0) {
				fprintf(d, "%.4f ? ? ? %s\n", x, bar_metrics[m].metric);
				continue;
			}
			double r = v / bv, rl = (lo > 0 ? lo : v) / bv, rh = hi / bv;
			fprintf(d, "%.4f %.6g %.6g %.6g %s\n", x, r, rl, rh, bar_metrics[m].metric);
			lo_all = rl < lo_all ? rl : lo_all;
			hi_all = rh > hi_all ? rh : hi_all;
			any = 1;
		}
	}
	fclose(d);
	char what[160];
	snprintf(what, sizeof(what), "%s: each metric relative to %s (median, min-max bars)",
		 g->w.name, baseline);
	jm_plot_title(b, root, what);
	char ylabel[160];
	snprintf(ylabel, sizeof(ylabel), "median / %s median (log scale)", baseline);
	fprintf(b, "set logscale y\nset yrange [%g:%g]\nset xrange [-0.6:%g]\nset ylabel ",
		lo_all / 3, hi_all * 3, NBAR - 0.4);
	jm_gp_string(b, ylabel);
	fprintf(b, "\nset style fill solid 0.85 border rgb '#333333'\nset boxwidth %g absolute\n"
		   "set grid noxtics ytics\nset key outside right top box\n"
		   "set arrow 1 from graph 0, first 1 to graph 1, first 1 nohead dt 2 lw 2 lc rgb '#444444'\n"
		   "set xtics nomirror font ',11' (", w * 0.95);
	for (size_t m = 0; m < NBAR; m++) {
		fputs(m ? ", " : "", b);
		jm_gp_string(b, bar_metrics[m].label);
		fprintf(b, " %zu", m);
	}
	fputs(")\nplot", b);
	plot_boxes_with_errors(b, g);
	fputc('\n', b);
	fclose(b);
	int rc = 0;
	jm_plot_slug(g->w.name, slug, sizeof(slug));
	snprintf(name, sizeof(name), "bars-%d-%s", wi + 1, slug);
	if (any) {
		rc = jm_plot_render(dir, name, dat, body, 1200, 720, err, errlen);
		if (rc == 0) {
			char title[192], cap[512];
			snprintf(title, sizeof(title), "Metrics relative to %s, %s", baseline, g->w.name);
			snprintf(cap, sizeof(cap),
				 "Each metric's median divided by %s's median (log scale; the dashed "
				 "line is parity), error bars span min to max over the repetitions. "
				 "No bar where the value or the baseline is 0.", baseline);
			jm_plot_add(out, name, title, cap);
		}
	}
	free(dat);
	free(body);
	return rc;
}

static int plot_memory(json_object *root, struct wl_group *g, int wi, const struct jm_plot_dir *dir,
		       struct jm_plot_list *out, char *err, size_t errlen)
{
	char *dat = NULL, *body = NULL, name[96], slug[64];
	size_t dl = 0, bl = 0;
	FILE *d = open_memstream(&dat, &dl), *b = open_memstream(&body, &bl);
	int any = 0;
	fprintf(d, "# RSS and VA reserved over the run, one block per backend (first\n"
		   "# successful repetition); columns: graphs rss_MiB va_reserved_MiB\n");
	for (int i = 0; i < g->w.n; i++) {
		json_object *run = g->first_ok[i];
		size_t n = run ? series_len(run, "graphs") : 0;
		fprintf(d, "%s# ", i ? "\n\n" : "");
		jm_dat_text(d, g->label[i]);
		fputc('\n', d);
		int pts = 0;
		for (size_t k = 0; k < n; k++) {
			double x, r, v;
			if (series_at(run, "graphs", k, &x) < 0 || series_at(run, "rss_bytes", k, &r) < 0 ||
			    series_at(run, "va_reserved_bytes", k, &v) < 0)
				continue;
			fprintf(d, "%.0f %.4f %.4f\n", x, r / 1048576.0, v / 1048576.0);
			pts++;
		}
		if (!pts)
			fprintf(d, "? ? ?\n");
		any |= pts > 0;
	}
	fclose(d);
	fputs("set multiplot layout 2,1\n", b);
	jm_plot_title(b, root, "Resident memory over the run");
	fputs("set xlabel 'graphs processed (count)'\nset ylabel 'RSS of the process (MiB)'\n"
	      "set key outside right top box\nset offsets 0, 0, graph 0.08, 0\n"
	      "set yrange [0:*]\nplot", b);
	plot_lines(b, g, g->w.n, 2);
	fputs("\nset title 'Address space reserved by the backend' font ',14'\n"
	      "set ylabel 'VA reserved (MiB)'\nplot", b);
	plot_lines(b, g, g->w.n, 3);
	fputs("\nunset multiplot\n", b);
	fclose(b);
	int rc = 0;
	jm_plot_slug(g->w.name, slug, sizeof(slug));
	snprintf(name, sizeof(name), "memory-%d-%s", wi + 1, slug);
	if (any) {
		rc = jm_plot_render(dir, name, dat, body, 1100, 900, err, errlen);
		if (rc == 0) {
			char title[192];
			snprintf(title, sizeof(title), "RSS and VA reserved over the run, %s", g->w.name);
			jm_plot_add(out, name, title,
				    "Top: resident set of the whole process; bottom: address space the "
				    "backend holds reserved, both against graphs processed.");
		}
	}
	free(dat);
	free(body);
	return rc;
}

#define FBC "probe.faults_by_class."

static int plot_faults(json_object *root, struct wl_group *g, int wi, const struct jm_plot_dir *dir,
		       struct jm_plot_list *out, char *err, size_t errlen)
{
	char classes[16][64];
	int nc = 0;
	for (int i = 0; i < g->w.n; i++) {
		json_object *ms = jm_json_path(g->w.agg[i], "metrics");
		if (!ms)
			continue;
		json_object_object_foreach(ms, k, v) {
			(void)v;
			if (strncmp(k, FBC, strlen(FBC)) || nc == 16)
				continue;
			const char *c = k + strlen(FBC);
			int seen = 0;
			for (int j = 0; j < nc; j++)
				seen |= !strcmp(classes[j], c);
			if (!seen)
				snprintf(classes[nc++], sizeof(classes[0]), "%s", c);
		}
	}
	if (!nc) {
		if (wi == 0) {
			char note[320];
			snprintf(note, sizeof(note),
				 "Faults by protection class: not measured (probe %s has no "
				 "metrics.probe.faults_by_class; the eBPF probe provides it).",
				 jm_json_str(root, "config.probe_used", "?"));
			jm_plot_add_note(out, note);
		}
		return 0;
	}
	char *dat = NULL, *body = NULL, name[96], slug[64];
	size_t dl = 0, bl = 0;
	FILE *d = open_memstream(&dat, &dl), *b = open_memstream(&body, &bl);
	double w = 0.8 / g->w.n;
	fprintf(d, "# page faults by protection class of the faulting VMA (median, min, max)\n"
		   "# columns: x median min max class\n");
	for (int i = 0; i < g->w.n; i++) {
		fprintf(d, "%s# ", i ? "\n\n" : "");
		jm_dat_text(d, g->label[i]);
		fputc('\n', d);
		for (int c = 0; c < nc; c++) {
			char key[128];
			double v, lo, hi, x = c + (i - (g->w.n - 1) / 2.0) * w;
			snprintf(key, sizeof(key), FBC "%.63s", classes[c]);
			if (jm_agg_metric(g->w.agg[i], key, &v, &lo, &hi) < 0)
				fprintf(d, "%.4f ? ? ? ", x);
			else
				fprintf(d, "%.4f %g %g %g ", x, v, lo, hi);
			jm_dat_text(d, classes[c]);
			fputc('\n', d);
		}
	}
	fclose(d);
	jm_plot_title(b, root, "Page faults by protection class");
	fprintf(b, "set ylabel 'page faults (count)'\nset yrange [0:*]\nset xrange [-0.6:%g]\n"
		   "set style fill solid 0.85 border rgb '#333333'\nset boxwidth %g absolute\n"
		   "set key outside right top box\nset xtics nomirror (", nc - 0.4, w * 0.95);
	for (int c = 0; c < nc; c++) {
		fprintf(b, "%s", c ? ", " : "");
		jm_gp_string(b, classes[c]);
		fprintf(b, " %d", c);
	}
	fputs(")\nplot", b);
	plot_boxes_with_errors(b, g);
	fputc('\n', b);
	fclose(b);
	jm_plot_slug(g->w.name, slug, sizeof(slug));
	snprintf(name, sizeof(name), "faults-%d-%s", wi + 1, slug);
	int rc = jm_plot_render(dir, name, dat, body, 1100, 700, err, errlen);
	if (rc == 0) {
		char title[192];
		snprintf(title, sizeof(title), "Faults by protection class, %s", g->w.name);
		jm_plot_add(out, name, title,
			    "Page faults split by the protection of the faulting mapping "
			    "(median, error bars min to max).");
	}
	free(dat);
	free(body);
	return rc;
}

int jm_gnuplot_available(void)
{
	if (renderer != gnuplot_render)
		return 1;
	const char *path = getenv("PATH");
	char dir[4096];
	while (path && *path) {
		size_t l = strcspn(path, ":");
		snprintf(dir, sizeof(dir), "%.*s/gnuplot", (int)l, l ? path : ".");
		if (access(dir, X_OK) == 0)
			return 1;
		path += l + (path[l] == ':');
	}
	return 0;
}

int jm_plots_report(json_object *root, const char *baseline, const struct jm_plot_dir *dir,
		    struct jm_plot_list *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	/* without gnuplot the tables are still worth writing */
	if (!jm_gnuplot_available()) {
		jm_plot_add_note(out, "No plots: gnuplot is not installed (scripts/install-deps installs gnuplot-nox).");
		return 0;
	}
	static struct wl_group g[MAX_GROUPS];
	int ng = group_workloads(root, g);
	for (int i = 0; i < ng; i++) {
		if (plot_vmas(root, &g[i], i, dir, out, err, errlen) < 0 ||
		    plot_bars(root, &g[i], i, baseline, dir, out, err, errlen) < 0 ||
		    plot_memory(root, &g[i], i, dir, out, err, errlen) < 0 ||
		    plot_faults(root, &g[i], i, dir, out, err, errlen) < 0)
			return -1;
	}
	return 0;
}

void jm_plots_markdown(const struct jm_plot_list *l, FILE *out)
{
	for (int i = 0; i < l->n; i++) {
		const struct jm_plot *p = &l->p[i];
		fprintf(out, "### %s\n\n![%s](plots/%s.png)\n\n%s ([SVG](plots/%s.svg), data "
			     "`plots/%s.dat`, script `plots/%s.gp`)\n\n",
			p->title, p->title, p->name, p->caption, p->name, p->name, p->name);
	}
	for (int i = 0; i < l->nnotes; i++)
		fprintf(out, "- %s\n", l->notes[i]);
	if (l->nnotes)
		fputc('\n', out);
}
