/* The one results loader (report, compare, export, merge read through it)
 * and everything that reads its trees: the whole report as `jitmm report`
 * writes it (Markdown, HTML, every plot's .dat and .gp, a sweep's section),
 * compare, the three exports, merge and aggregation (whose trees must pass
 * the loader's check themselves). gnuplot is replaced by
 * a renderer that checks each script (tests/gp_check.h: no data outside a
 * single-quoted string) and writes placeholder images, so inputs run at
 * fuzzing speed; a script that fails the check aborts (a finding). */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../common/atomic_write.h"
#include "../../reports/compare.h"
#include "../../reports/export.h"
#include "../../reports/pr.h"
#include "../../reports/markdown.h"
#include "../../reports/merge.h"
#include "../../reports/plots.h"
#include "../../reports/report_dir.h"
#include "../../reports/results.h"
#include "../../reports/results_shape.h"
#include "../gp_check.h"
#include "fuzz.h"

static int check_and_draw(const struct jm_plot_dir *d, const char *name, char *err,
			  size_t errlen)
{
	char file[160];
	snprintf(file, sizeof(file), "%s.gp", name);
	FILE *f = fdopen(openat(d->stage->fd, file, O_RDONLY), "r");
	if (!f)
		abort();
	static char gp[1 << 22];
	size_t n = fread(gp, 1, sizeof(gp) - 1, f);
	gp[n] = 0;
	fclose(f);
	const char *why = gp_check_script(gp);
	if (why) {
		fprintf(stderr, "%s: %s\n", file, why);
		abort();
	}
	static const char svg[] = "<svg xmlns=\"http://www.w3.org/2000/svg\" id='gnuplot_canvas'>"
				  "<g id=\"gpPt0\"/></svg>\n";
	snprintf(file, sizeof(file), "%s.svg", name);
	if (jm_stage_write(d->stage, file, svg, sizeof(svg) - 1, err, errlen) < 0)
		return -1;
	snprintf(file, sizeof(file), "%s.png", name);
	return jm_stage_write(d->stage, file, "\x89PNG\r\n\x1a\n", 8, err, errlen);
}

/* empties the report directory for the next input */
static void clean(const char *dir)
{
	char p[4200];
	snprintf(p, sizeof(p), "%s/plots", dir);
	DIR *d = opendir(p);
	if (d) {
		int fd = dirfd(d);
		for (struct dirent *e; (e = readdir(d));)
			if (e->d_name[0] != '.')
				unlinkat(fd, e->d_name, 0);
		closedir(d);
		rmdir(p);
	}
	static const char *const top[] = {"report.md", "report.html"};
	for (int i = 0; i < 2; i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, top[i]);
		unlink(p);
	}
}

static char dir[] = "/tmp/jitmm-fuzz-results-XXXXXX";

static void remove_dir(void)
{
	clean(dir);
	rmdir(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *sink;
	if (!sink) {
		sink = fopen("/dev/null", "w");
		if (!sink || !mkdtemp(dir))
			abort();
		atexit(remove_dir);
		jm_plot_set_renderer(check_and_draw);
	}
	char err[1024];
	json_object *o = jm_results_parse((const char *)data, size, "fuzz", err, sizeof(err));
	if (!o) {
		/* the message is one line */
		if (!err[0] || strchr(err, '\n'))
			abort();
		return 0;
	}
	const char *baseline = jm_json_str(o, "config.baseline", "single-pool");
	if (jm_report_write_dir(o, dir, baseline, NULL, err, sizeof(err)) < 0 && strchr(err, '\n'))
		abort();
	clean(dir);
	struct jm_cmp_opts opts;
	struct jm_cmp_result res;
	jm_cmp_opts_default(&opts);
	jm_compare(o, o, &opts, sink, &res, err, sizeof(err));
	static const char *const formats[] = {"bmf", "gab", "lnt", "gbench"};
	for (int i = 0; i < 4; i++) {
		struct jm_export_opts eo = {.format = formats[i]};
		int failed;
		json_object *x = jm_export(o, &eo, &failed, err, sizeof(err));
		if (x)
			fputs(json_object_to_json_string(x), sink);
		json_object_put(x);
	}
	jm_report_pr(o, baseline, sink);
	const char *name = "fuzz";
	char note[256];
	/* what merge and aggregation make is itself a valid results file (no
	 * NaN, no invalid UTF-8 written) */
	json_object *m = jm_merge(&o, &name, 1, err, sizeof(err), note, sizeof(note));
	if (m && jm_results_check(m, "merged", err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		abort();
	}
	json_object_put(m);
	jm_results_aggregate(o);
	if (jm_results_check(o, "aggregated", err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		abort();
	}
	jm_report_markdown(o, baseline, sink);
	json_object_put(o);
	return 0;
}
