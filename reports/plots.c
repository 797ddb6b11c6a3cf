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
#include "diagnostics.h"
#include "names.h"
#include "results.h"
#include "run_total.h"

/* 16 line types, each its own colour, point type and dash pattern, so
 * that 15 backends (jitmm list backends) and more stay apart, in greyscale
 * too: the Okabe-Ito colours (distinguishable with the common colour-vision
 * deficiencies; yellow last of them, faint on white), then Paul Tol's
 * "muted" set, with open point types where the first eight have filled
 * ones. Bars of the second eight are hatched (BAR_FILL). */
static const char styles[] =
	"set linetype 1 lc rgb '#0072B2' lw 2.5 dt 1 pt 7 ps 1.3\n"
	"set linetype 2 lc rgb '#D55E00' lw 2.5 dt 2 pt 5 ps 1.3\n"
	"set linetype 3 lc rgb '#009E73' lw 2.5 dt 4 pt 9 ps 1.5\n"
	"set linetype 4 lc rgb '#CC79A7' lw 2.5 dt 5 pt 13 ps 1.5\n"
	"set linetype 5 lc rgb '#E69F00' lw 2.5 dt 3 pt 11 ps 1.5\n"
	"set linetype 6 lc rgb '#56B4E9' lw 2.5 dt (12,4,2,4) pt 15 ps 1.5\n"
	"set linetype 7 lc rgb '#000000' lw 2.5 dt (2,5) pt 2 ps 1.3\n"
	"set linetype 8 lc rgb '#F0E442' lw 2.5 dt (8,3,2,3,2,3) pt 1 ps 1.3\n"
	"set linetype 9 lc rgb '#332288' lw 2.5 dt (16,6) pt 6 ps 1.3\n"
	"set linetype 10 lc rgb '#117733' lw 2.5 dt (4,4) pt 4 ps 1.3\n"
	"set linetype 11 lc rgb '#882255' lw 2.5 dt (10,3,3,3) pt 8 ps 1.5\n"
	"set linetype 12 lc rgb '#999933' lw 2.5 dt (20,4,4,4) pt 12 ps 1.5\n"
	"set linetype 13 lc rgb '#AA4499' lw 2.5 dt (6,2) pt 10 ps 1.5\n"
	"set linetype 14 lc rgb '#44AA99' lw 2.5 dt (2,3,8,3) pt 14 ps 1.5\n"
	"set linetype 15 lc rgb '#661100' lw 2.5 dt (14,3,3,3,3,3) pt 3 ps 1.5\n"
	"set linetype 16 lc rgb '#6699CC' lw 2.5 dt (3,6) pt 1 ps 1.5\n"
	"set linetype cycle 16\n"
	"set datafile missing '?'\n"
	"set grid lc rgb '#d8d8d8' lw 1\n"
	"set border lw 1.2\n";

/* the fill of bar series i: solid for the first eight, hatched after */
static void bar_fill(FILE *b, int i)
{
	if (i % 16 < 8)
		fputs(" fs solid 0.85 border rgb '#333333'", b);
	else
		fprintf(b, " fs pattern %d border rgb '#333333'", 1 + (i % 8) % 7);
}

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
	json_object *failed[JM_WL_MAX_AGGS]; /* no ok run: the first failed one */
	char title[JM_NAME_MAX];             /* the workload's name, names.h */
};

/* The first run with status ok among the runs of agg's group. */
static json_object *first_run(json_object *runs, const struct jm_group_index *rx,
			      json_object *agg, int ok)
{
	char *key = jm_group_key(agg);
	json_object *found = NULL;
	for (size_t r = jm_group_index_lower(rx, key); !found && jm_group_index_match(rx, r, key); r++) {
		json_object *run = json_object_array_get_idx(runs, rx->order[r]);
		if ((strcmp(jm_json_str(run, "status", ""), "ok") == 0) == ok)
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
		for (int i = 0; i < w[k].n; i++) {
			g[k].first_ok[i] = first_run(runs, &rx, w[k].agg[i], 1);
			g[k].failed[i] = g[k].first_ok[i] ? NULL : first_run(runs, &rx, w[k].agg[i], 0);
		}
	}
	jm_group_index_free(&rx);
	for (int k = 0; k < ng; k++) {
		jm_name_workload(root, g[k].w.agg[0], g[k].title, sizeof(g[k].title));
		for (int i = 0; i < g[k].w.n; i++)
			jm_name_backend(root, g[k].w.agg[i], g[k].label[i], sizeof(g[k].label[i]));
	}
	return ng;
}

static void plot_label(FILE *f, const char *s)
{
	fputs(" title ", f);
	jm_gp_string(f, s);
}

/* The title of a workload's plot: what, for which workload, on which host. */
static void workload_title(FILE *b, json_object *root, const struct wl_group *g, const char *what)
{
	char t[JM_NAME_MAX + 200];
	snprintf(t, sizeof(t), "%s: %s", g->title, what);
	jm_plot_title(b, root, t);
}

/* The series drawn for aggregate i: its first ok run, else its first
 * failed one (up to where it failed). */
static json_object *series_run(const struct wl_group *g, int i)
{
	return g->first_ok[i] ? g->first_ok[i] : g->failed[i];
}

/* The plot clauses of series 0..n-1 of g as lines: x column 1, y col. */
static void plot_lines(FILE *b, const struct wl_group *g, int n, int col)
{
	for (int i = 0; i < n; i++) {
		char label[JM_NAME_MAX + 16];
		snprintf(label, sizeof(label), "%s%s", g->label[i], g->failed[i] ? " (failed)" : "");
		fprintf(b, "%s datafile index %d using 1:%d with linespoints lt %d pi -8",
			i ? ", \\\n    " : " ", i, col, i + 1);
		plot_label(b, label);
	}
}

/* VMAs added (the process's count less its count before the run) against
 * graphs processed, log-log; a failed run is drawn up to its failure,
 * which is marked and labelled with why. vm.max_map_count is a dashed
 * line where the counts come near it, else a note: the axis follows the
 * data. */
static int plot_vmas(json_object *root, struct wl_group *g, int wi, const struct jm_plot_dir *dir,
		     struct jm_plot_list *out, char *err, size_t errlen)
{
	char *dat = NULL, *body = NULL, name[96], slug[64];
	size_t dl = 0, bl = 0;
	double mmc = 0, ymax = 1, xmax = 1;
	jm_json_num(root, "context.vm_max_map_count", &mmc);
	FILE *d = open_memstream(&dat, &dl), *b = open_memstream(&body, &bl);
	int any = 0, nfailed = 0;
	fprintf(d, "# VMAs added (VMAs of the process less its count before the run) against\n"
		   "# graphs processed, one block per backend (its first successful\n"
		   "# repetition, else its first failed one); columns: graphs vmas_added\n");
	workload_title(b, root, g, "VMAs added against graphs processed");
	for (int i = 0; i < g->w.n; i++) {
		json_object *run = series_run(g, i);
		size_t n = run ? series_len(run, "graphs") : 0;
		double before = 0, lx = 0, ly = 0;
		jm_json_num(run, "metrics.vmas_before", &before);
		if (!jm_json_path(run, "metrics.vmas_before") && n)
			series_at(run, "vmas", 0, &before);
		fprintf(d, "%s# ", i ? "\n\n" : "");
		jm_dat_text(d, g->label[i]);
		fputc('\n', d);
		int pts = 0;
		for (size_t k = 0; k < n; k++) {
			double x, y;
			if (series_at(run, "graphs", k, &x) < 0 || series_at(run, "vmas", k, &y) < 0)
				continue;
			y -= before;
			if (x <= 0 || y <= 0) /* no point on a log scale */
				continue;
			fprintf(d, "%.0f %.0f\n", x, y);
			ymax = y > ymax ? y : ymax;
			xmax = x > xmax ? x : xmax;
			lx = x;
			ly = y;
			pts++;
		}
		if (!pts)
			fprintf(d, "? ?\n");
		any |= pts > 0;
		if (g->failed[i] && pts) {
			/* where it failed, and why in short: "single-pool: mprotect
			 * ENOMEM at graph 21817, 65530 VMAs"; labels of several
			 * failures step down so that they do not overlap */
			char text[JM_NAME_MAX + 200];
			double gid, vm;
			json_object *f = g->failed[i];
			int n2 = snprintf(text, sizeof(text), "%s failed: %.60s", g->label[i],
					  jm_json_str(f, "error.syscall", NULL)
						  ? jm_json_str(f, "error.syscall", "?")
						  : jm_json_str(f, "error.message", "?"));
			if (jm_json_path(f, "error.errno_name") && n2 > 0 && (size_t)n2 < sizeof(text))
				n2 += snprintf(text + n2, sizeof(text) - (size_t)n2, " %s",
					       jm_json_str(f, "error.errno_name", "?"));
			if (jm_json_num(f, "error.graph_id", &gid) == 0 && n2 > 0 && (size_t)n2 < sizeof(text))
				n2 += snprintf(text + n2, sizeof(text) - (size_t)n2, " at graph %.0f", gid);
			if (jm_json_num(f, "error.vmas_at_failure", &vm) == 0 && n2 > 0 &&
			    (size_t)n2 < sizeof(text))
				snprintf(text + n2, sizeof(text) - (size_t)n2, ", %.0f VMAs", vm);
			fprintf(b, "set label %d ", 10 + i);
			jm_gp_string(b, text);
			fprintf(b, " at %.0f,%.0f right offset -1,%g font ',11' point lt %d pt 2 ps 3 lw 3\n",
				lx, ly, -1.5 - 1.3 * nfailed++, i + 1);
		}
	}
	fclose(d);
	fprintf(b, "set logscale xy\nset xlabel 'graphs processed (count, log scale)'\n"
		   "set ylabel 'VMAs added (count, log scale)'\n"
		   "set key top left box opaque\nset format y '%%.0f'\nset format x '%%.0f'\n"
		   "set yrange [1:%g]\n", ymax * 3);
	if (mmc > 0 && ymax * 3 >= mmc)
		fprintf(b, "mmc = %.0f\nset yrange [1:%g]\n"
			   "set arrow 1 from graph 0, first mmc to graph 1, first mmc nohead dt 2 lw 2.5 lc rgb '#444444'\n"
			   "set label 1 sprintf('vm.max_map_count = %%.0f', mmc) at graph 0.98, first mmc "
			   "right offset 0,-1 font ',11'\n", mmc, mmc * 2);
	else if (mmc > 0)
		fprintf(b, "set label 1 sprintf('vm.max_map_count = %%.0f: %%.0fx the highest count here', "
			   "%.0f, %g) at graph 0.98, graph 0.04 right font ',11' tc rgb '#444444'\n",
			mmc, mmc / ymax);
	fputs("plot", b);
	plot_lines(b, g, g->w.n, 2);
	fputc('\n', b);
	fclose(b);
	int rc = 0;
	jm_plot_slug(g->w.name, slug, sizeof(slug));
	snprintf(name, sizeof(name), "vmas-%d-%s", wi + 1, slug);
	if (any) {
		rc = jm_plot_render(dir, name, dat, body, 1100, 720, err, errlen);
		if (rc == 0) {
			char title[480], cap[900];
			snprintf(title, sizeof(title), "VMAs added vs graphs processed, %s", g->title);
			snprintf(cap, sizeof(cap),
				 "VMAs each backend added to the process (log-log) as it processes the "
				 "graphs of %s; a failed run is drawn to its failure, marked x. "
				 "vm.max_map_count (%.0f) is where mmap and mprotect start failing with "
				 "ENOMEM. An executor process's VMAs (shm-mapper, llvm-shm) are in the "
				 "tables, not here.", g->w.spec, mmc);
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

/* Each metric relative to the baseline, as bars from parity (1x) up or
 * down on a log scale (boxxyerror from 1 to the ratio), min-max error
 * bars; a metric no backend has a ratio for (0 everywhere) is left out
 * rather than drawn as an empty group. */
static int plot_bars(json_object *root, struct wl_group *g, int wi, const char *baseline,
		     const struct jm_plot_dir *dir, struct jm_plot_list *out, char *err, size_t errlen)
{
	json_object *base = NULL;
	for (int i = 0; i < g->w.n && !base; i++)
		if (!strcmp(jm_json_str(g->w.agg[i], "backend", ""), baseline))
			base = g->w.agg[i];
	char note[600];
	if (!base) {
		snprintf(note, sizeof(note), "Normalised bars for %s: baseline backend %s was not run.",
			 g->title, baseline);
		jm_plot_add_note(out, note);
		return 0;
	}
	/* the metrics with a ratio for some backend, and their x positions */
	int pos[NBAR], ngroups = 0;
	for (size_t m = 0; m < NBAR; m++) {
		double v, bv;
		pos[m] = -1;
		for (int i = 0; i < g->w.n && pos[m] < 0; i++)
			if (jm_total_agg(g->w.agg[i], bar_metrics[m].metric, &v, NULL, NULL) == 0 &&
			    jm_total_agg(base, bar_metrics[m].metric, &bv, NULL, NULL) == 0 && v > 0 &&
			    bv > 0)
				pos[m] = ngroups++;
	}
	if (!ngroups) {
		snprintf(note, sizeof(note), "Normalised bars for %s: no metric has a value and a "
			 "baseline value above 0.", g->title);
		jm_plot_add_note(out, note);
		return 0;
	}
	char *dat = NULL, *body = NULL, name[96], slug[64];
	size_t dl = 0, bl = 0;
	FILE *d = open_memstream(&dat, &dl), *b = open_memstream(&body, &bl);
	double lo_all = 1, hi_all = 1, w = 0.8 / g->w.n;
	fputs("# median/min/max of each metric (both processes' totals) divided by the ", d);
	jm_dat_text(d, baseline);
	fputs(" median;\n# '?' where the value or the baseline is 0 (no bar on a log scale)\n"
	      "# columns: x ratio_median ratio_min ratio_max metric\n", d);
	for (int i = 0; i < g->w.n; i++) {
		fprintf(d, "%s# ", i ? "\n\n" : "");
		jm_dat_text(d, g->label[i]);
		fputc('\n', d);
		for (size_t m = 0; m < NBAR; m++) {
			if (pos[m] < 0)
				continue;
			double x = pos[m] + (i - (g->w.n - 1) / 2.0) * w, v, lo, hi, bv;
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
		}
	}
	fclose(d);
	char what[160];
	snprintf(what, sizeof(what), "each metric relative to %s (median, min-max bars)", baseline);
	workload_title(b, root, g, what);
	char ylabel[160];
	snprintf(ylabel, sizeof(ylabel), "median / %s median (log scale; 1x = parity)", baseline);
	fprintf(b, "set logscale y\nset yrange [%g:%g]\nset xrange [-0.6:%g]\nset ylabel ",
		lo_all / 3, hi_all * 3, ngroups - 0.4);
	jm_gp_string(b, ylabel);
	fprintf(b, "\nset format y '%%gx'\nhw = %g\n"
		   "set grid noxtics ytics\nset key outside right top box\n"
		   "set arrow 1 from graph 0, first 1 to graph 1, first 1 nohead dt 2 lw 2 lc rgb '#444444'\n"
		   "set xtics nomirror font ',11' (", w * 0.95 / 2);
	for (size_t m = 0, k = 0; m < NBAR; m++) {
		if (pos[m] < 0)
			continue;
		fputs(k++ ? ", " : "", b);
		jm_gp_string(b, bar_metrics[m].label);
		fprintf(b, " %d", pos[m]);
	}
	fputs(")\nplot", b);
	for (int i = 0; i < g->w.n; i++) {
		/* a bar from 1 to the ratio: up for more, down for fewer */
		fprintf(b, "%s datafile index %d using 1:2:($1-hw):($1+hw):($2<1?$2:1):($2>1?$2:1) "
			   "with boxxyerror lt %d dt 1", i ? ", \\\n    " : " ", i, i + 1);
		bar_fill(b, i);
		plot_label(b, g->label[i]);
		fprintf(b, ", \\\n    datafile index %d using 1:2:3:4 with yerrorbars lc rgb '#000000' "
			   "lw 1.5 dt 1 ps 0 notitle", i);
	}
	fputc('\n', b);
	fclose(b);
	jm_plot_slug(g->w.name, slug, sizeof(slug));
	snprintf(name, sizeof(name), "bars-%d-%s", wi + 1, slug);
	int rc = jm_plot_render(dir, name, dat, body, 1200, 720, err, errlen);
	if (rc == 0) {
		char title[480], cap[900];
		snprintf(title, sizeof(title), "Metrics relative to %s, %s", baseline, g->title);
		snprintf(cap, sizeof(cap),
			 "Each metric's median divided by %s's (log scale): a bar rises from "
			 "parity (1x, dashed) for more, falls for less; error bars span min to max "
			 "over the repetitions. Counts include an executor process's. No bar where "
			 "the value or the baseline is 0; a metric 0 everywhere is left out.",
			 baseline);
		jm_plot_add(out, name, title, cap);
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
	int any = 0, any_va = 0, va_pts[JM_WL_MAX_AGGS];
	fprintf(d, "# RSS and VA reserved over the run, one block per backend (first\n"
		   "# successful repetition, else its first failed one); columns: graphs\n"
		   "# rss_MiB va_reserved_MiB ('?': none reserved, no point on a log scale)\n");
	for (int i = 0; i < g->w.n; i++) {
		json_object *run = series_run(g, i);
		size_t n = run ? series_len(run, "graphs") : 0;
		fprintf(d, "%s# ", i ? "\n\n" : "");
		jm_dat_text(d, g->label[i]);
		fputc('\n', d);
		int pts = 0;
		va_pts[i] = 0;
		for (size_t k = 0; k < n; k++) {
			double x, r, v;
			if (series_at(run, "graphs", k, &x) < 0 || series_at(run, "rss_bytes", k, &r) < 0 ||
			    series_at(run, "va_reserved_bytes", k, &v) < 0)
				continue;
			if (v > 0)
				fprintf(d, "%.0f %.4f %.4f\n", x, r / 1048576.0, v / 1048576.0);
			else
				fprintf(d, "%.0f %.4f ?\n", x, r / 1048576.0);
			pts++;
			va_pts[i] += v > 0;
		}
		if (!pts)
			fprintf(d, "? ? ?\n");
		any |= pts > 0;
		any_va |= va_pts[i] > 0;
	}
	fclose(d);
	fprintf(b, "set multiplot layout %d,1\n", any_va ? 2 : 1);
	workload_title(b, root, g, "resident memory over the run");
	fputs("set xlabel 'graphs processed (count)'\nset ylabel 'RSS of the process (MiB)'\n"
	      "set key outside right top box\nset offsets 0, 0, graph 0.08, 0\n"
	      "set yrange [0:*]\nplot", b);
	plot_lines(b, g, g->w.n, 2);
	/* VA spans 4 KiB to 1 GiB between backends: a log scale shows both;
	 * a backend that reserves nothing (null) has no line there */
	if (any_va) {
		fputs("\nset title 'Address space reserved by the backend (log scale)' font ',14'\n"
		      "set ylabel 'VA reserved (MiB, log scale)'\nset logscale y\nset yrange [*:*]\n"
		      "set offsets 0, 0, 0, 0\nplot", b);
		int first = 1;
		for (int i = 0; i < g->w.n; i++) {
			if (!va_pts[i])
				continue;
			fprintf(b, "%s datafile index %d using 1:3 with linespoints lt %d pi -8",
				first ? " " : ", \\\n    ", i, i + 1);
			plot_label(b, g->label[i]);
			first = 0;
		}
	}
	fputs("\nunset multiplot\n", b);
	fclose(b);
	int rc = 0;
	jm_plot_slug(g->w.name, slug, sizeof(slug));
	snprintf(name, sizeof(name), "memory-%d-%s", wi + 1, slug);
	if (any) {
		rc = jm_plot_render(dir, name, dat, body, 1100, 900, err, errlen);
		if (rc == 0) {
			char title[480];
			snprintf(title, sizeof(title), "RSS and VA reserved over the run, %s", g->title);
			jm_plot_add(out, name, title,
				    "Top: resident set of the whole process; bottom: address space the "
				    "backend holds reserved (log scale), both against graphs processed.");
		}
	}
	free(dat);
	free(body);
	return rc;
}

/* what the eBPF probe writes with --fault-classes (run/runner.c) */
#define FBC "probe.page_faults_by_prot."

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
			char note[600];
			snprintf(note, sizeof(note),
				 "Faults by protection class: not measured (probe %s; `jitmm run "
				 "--probe ebpf --fault-classes` measures them).",
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
	workload_title(b, root, g, "page faults by protection class");
	fprintf(b, "set ylabel 'page faults (count)'\nset yrange [0:*]\nset xrange [-0.6:%g]\n"
		   "set boxwidth %g absolute\n"
		   "set key outside right top box\nset xtics nomirror (", nc - 0.4, w * 0.95);
	for (int c = 0; c < nc; c++) {
		fprintf(b, "%s", c ? ", " : "");
		jm_gp_string(b, classes[c]);
		fprintf(b, " %d", c);
	}
	fputs(")\nplot", b);
	for (int i = 0; i < g->w.n; i++) {
		fprintf(b, "%s datafile index %d using 1:2 with boxes lt %d dt 1", i ? ", \\\n    " : " ",
			i, i + 1);
		bar_fill(b, i);
		plot_label(b, g->label[i]);
		fprintf(b, ", \\\n    datafile index %d using 1:2:3:4 with yerrorbars lc rgb '#000000' "
			   "lw 1.5 dt 1 ps 0 notitle", i);
	}
	fputc('\n', b);
	fclose(b);
	jm_plot_slug(g->w.name, slug, sizeof(slug));
	snprintf(name, sizeof(name), "faults-%d-%s", wi + 1, slug);
	int rc = jm_plot_render(dir, name, dat, body, 1100, 700, err, errlen);
	if (rc == 0) {
		char title[480];
		snprintf(title, sizeof(title), "Faults by protection class, %s", g->title);
		jm_plot_add(out, name, title,
			    "Page faults split by the protection of the faulting mapping "
			    "(median, error bars min to max; eBPF probe, --fault-classes).");
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
