#include "html.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include "../common/atomic_write.h"
#include "diagnostics.h"
#include "headline.h"
#include "markdown.h"
#include "results.h"
#include "summary.h"

void jm_html_escape(FILE *out, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': fputs("&amp;", out); break;
		case '<': fputs("&lt;", out); break;
		case '>': fputs("&gt;", out); break;
		case '"': fputs("&quot;", out); break;
		default: fputc(*s, out);
		}
	}
}

/* An SVG gnuplot drew in the stage, at most 64 MiB. */
static char *slurp_svg(const struct jm_plot_dir *pd, const char *name, char *err,
		       size_t errlen)
{
	char file[160];
	snprintf(file, sizeof(file), "%s.svg", name);
	int fd = openat(pd->stage->fd, file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	FILE *f = fd >= 0 ? fdopen(fd, "rb") : NULL;
	if (!f) {
		snprintf(err, errlen, "%s/%s: %s", pd->display, file, strerror(errno));
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	char *buf = NULL;
	size_t len = 0, cap = 0, n;
	char chunk[65536];
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (len + n + 1 > cap) {
			cap = (len + n + 1) * 2;
			char *nb = cap <= (64u << 20) ? realloc(buf, cap) : NULL;
			if (!nb) {
				snprintf(err, errlen, "%s/%s: larger than 64 MiB", pd->display, file);
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = nb;
		}
		memcpy(buf + len, chunk, n);
		len += n;
	}
	fclose(f);
	if (!buf)
		buf = calloc(1, 1);
	if (buf)
		buf[len] = 0;
	return buf;
}

/* Several gnuplot SVGs in one document would share element ids
 * (gnuplot_canvas, gpPt0, ...); prefix them per figure so every reference
 * resolves inside its own figure. */
static void inline_svg(FILE *out, const char *svg, int fig)
{
	const char *p = strstr(svg, "<svg");
	if (!p)
		return;
	char pre[16];
	snprintf(pre, sizeof(pre), "f%d_", fig);
	while (*p) {
		static const char *const pats[] = {"id='", "id=\"", "href='#", "href=\"#", "url(#"};
		int hit = 0;
		for (size_t i = 0; i < sizeof(pats) / sizeof(pats[0]); i++) {
			size_t l = strlen(pats[i]);
			if (!strncmp(p, pats[i], l) && (p == svg || p[-1] == ' ' || p[-1] == ':' ||
							 p[-1] == '\n' || pats[i][0] == 'u')) {
				fwrite(p, 1, l, out);
				fputs(pre, out);
				p += l;
				hit = 1;
				break;
			}
		}
		if (!hit)
			fputc(*p++, out);
	}
}

/* Inline Markdown of the section writers: **bold** and `code`, the rest
 * escaped. */
static void inline_md(FILE *out, const char *s)
{
	int bold = 0, code = 0;
	char one[2] = {0, 0};
	for (; *s; s++) {
		if (!code && s[0] == '*' && s[1] == '*') {
			fputs(bold ? "</strong>" : "<strong>", out);
			bold = !bold;
			s++;
		} else if (*s == '`') {
			fputs(code ? "</code>" : "<code>", out);
			code = !code;
		} else {
			one[0] = *s;
			jm_html_escape(out, one);
		}
	}
	if (code)
		fputs("</code>", out);
	if (bold)
		fputs("</strong>", out);
}

/* Render the Markdown that the section writers produce (## and ###
 * headings, pipe tables, "- " lists, paragraphs) as HTML, so report.md
 * and report.html say the same thing from one source. */
static void md_to_html(char *md, FILE *out)
{
	if (!md || !*md)
		return;
	enum { NONE, TABLE, LIST } in = NONE;
	int header = 0;
	char *save = NULL;
	for (char *line = strtok_r(md, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		int is_table = line[0] == '|';
		const char *item = !strncmp(line, "- ", 2) ? line + 2
				 : !strncmp(line, "  - ", 4) ? line + 4 : NULL;
		if (in == TABLE && !is_table)
			fputs("</table>\n", out);
		if (in == LIST && !item)
			fputs("</ul>\n", out);
		if (is_table) {
			if (strstr(line, "|---"))
				continue;
			if (in != TABLE) {
				fputs("<table>\n", out);
				header = 1;
			}
			in = TABLE;
			fputs("<tr>", out);
			char *cell = line + 1, *bar;
			while ((bar = strchr(cell, '|'))) {
				*bar = 0;
				while (*cell == ' ')
					cell++;
				size_t l = strlen(cell);
				while (l && cell[l - 1] == ' ')
					cell[--l] = 0;
				fputs(header ? "<th>" : "<td>", out);
				inline_md(out, cell);
				fputs(header ? "</th>" : "</td>", out);
				cell = bar + 1;
			}
			fputs("</tr>\n", out);
			header = 0;
			continue;
		}
		if (item) {
			if (in != LIST)
				fputs("<ul>\n", out);
			in = LIST;
			fputs("<li>", out);
			inline_md(out, item);
			fputs("</li>\n", out);
			continue;
		}
		in = NONE;
		const char *tag = !strncmp(line, "### ", 4) ? "h3" : !strncmp(line, "## ", 3) ? "h2" : "p";
		const char *text = line + (tag[1] == '3' ? 4 : tag[1] == '2' ? 3 : 0);
		if (!*line)
			continue;
		fprintf(out, "<%s>", tag);
		inline_md(out, text);
		fprintf(out, "</%s>\n", tag);
	}
	if (in == TABLE)
		fputs("</table>\n", out);
	if (in == LIST)
		fputs("</ul>\n", out);
}

/* A section writer's Markdown, rendered. */
static void section_html(void (*write)(json_object *, FILE *), json_object *root, FILE *out)
{
	char *md = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&md, &len);
	if (!f)
		return;
	write(root, f);
	fclose(f);
	md_to_html(md, out);
	free(md);
}

static const char css[] =
	"body{font-family:'DejaVu Sans',Arial,sans-serif;margin:2em auto;max-width:1300px;"
	"color:#111;line-height:1.4}"
	"table{border-collapse:collapse;margin:0.5em 0 1.5em;font-size:0.9em}"
	"th,td{border:1px solid #bbb;padding:0.25em 0.5em}th{background:#eef2f7}"
	"td.n{text-align:right;font-variant-numeric:tabular-nums}"
	"figure{margin:1em 0 2em}figure svg{max-width:100%;height:auto}"
	"figcaption{font-size:0.9em;color:#333}code{background:#f3f3f3;padding:0 0.2em}"
	".rec{border-left:4px solid #0072B2;padding:0.3em 1em;background:#f4f8fc}"
	".summary{border-left:6px solid #009E73;padding:0.2em 1.2em;background:#eef8f3}";

int jm_report_html(json_object *root, const char *baseline,
		   const struct jm_plot_list *plots, const struct jm_plot_dir *pd,
		   const char *extra_html, FILE *out, char *err, size_t errlen)
{
	json_object *c = jm_json_path(root, "context");
	struct jm_headline h;
	jm_headline_build(root, baseline, &h);
	fprintf(out, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n"
		     "<title>jitmm report: ");
	jm_html_escape(out, jm_json_str(c, "hostname", "?"));
	fprintf(out, "</title>\n<style>%s</style>\n</head>\n<body>\n<h1>jitmm report</h1>\n<p>", css);
	fputs("Host ", out);
	jm_html_escape(out, jm_json_str(c, "hostname", "?"));
	fputs(", kernel ", out);
	jm_html_escape(out, jm_json_str(c, "kernel", "?"));
	fputs(", ", out);
	jm_html_escape(out, jm_json_str(c, "cpu", "?"));
	fputs(", generated ", out);
	jm_html_escape(out, jm_json_str(c, "date", "?"));
	fputs(".</p>\n", out);
	/* the summary first: what a reviewer quotes */
	char *sm = NULL;
	size_t sml = 0;
	FILE *sf = open_memstream(&sm, &sml);
	if (sf) {
		jm_report_summary(root, baseline, sf);
		fclose(sf);
		fputs("<div class=\"summary\" id=\"summary\">\n", out);
		md_to_html(sm, out);
		fputs("</div>\n", out);
		free(sm);
	}
	fputs("<h2>Results per workload</h2>\n", out);
	for (int i = 0; i < h.ntables; i++) {
		struct jm_hl_table *t = &h.t[i];
		fputs("<h3>", out);
		jm_html_escape(out, t->workload);
		fputs("</h3>\n<p><code>", out);
		jm_html_escape(out, t->workload_spec);
		if (isnan(t->graphs))
			fprintf(out, "</code> (no run completed)</p>\n<table>\n<thead><tr>");
		else
			fprintf(out, "</code>, %.0f graphs</p>\n<table>\n<thead><tr>", t->graphs);
		for (int k = 0; k < JM_HL_COLS; k++) {
			fputs("<th>", out);
			jm_html_escape(out, h.head[k]);
			fputs("</th>", out);
		}
		fputs("</tr></thead>\n<tbody>\n", out);
		for (int r = 0; r < t->nrows; r++) {
			fputs("<tr>", out);
			for (int k = 0; k < JM_HL_COLS; k++) {
				fputs(k >= 2 ? "<td class=\"n\">" : "<td>", out);
				jm_html_escape(out, k ? t->cell[r][k] : t->name[r]);
				fputs("</td>", out);
			}
			fputs("</tr>\n", out);
		}
		fputs("</tbody>\n</table>\n", out);
	}
	fputs("<p>", out);
	jm_html_escape(out, h.context);
	fputs("</p>\n", out);
	jm_headline_free(&h);

	/* why runs failed, leaks, reach, trim: the Markdown sections' text */
	section_html(jm_report_diagnostics, root, out);
	section_html(jm_report_trim, root, out);
	fputs("<p>", out);
	jm_html_escape(out, jm_report_columns_text);
	fputs("</p>\n", out);
	if (extra_html)
		fputs(extra_html, out);

	if (plots && (plots->n || plots->nnotes)) {
		fputs("<h2>Plots</h2>\n", out);
		for (int i = 0; i < plots->n; i++) {
			const struct jm_plot *p = &plots->p[i];
			char *svg = slurp_svg(pd, p->name, err, errlen);
			if (!svg)
				return -1;
			fprintf(out, "<figure id=\"%s\">\n", p->name);
			inline_svg(out, svg, i);
			free(svg);
			fputs("\n<figcaption><b>", out);
			jm_html_escape(out, p->title);
			fputs(".</b> ", out);
			jm_html_escape(out, p->caption);
			fprintf(out, " Files: <a href=\"plots/%s.png\">PNG</a>, "
				     "<a href=\"plots/%s.svg\">SVG</a>, <a href=\"plots/%s.dat\">data</a>, "
				     "<a href=\"plots/%s.gp\">gnuplot script</a>.</figcaption>\n</figure>\n",
				p->name, p->name, p->name, p->name);
		}
		if (plots->nnotes) {
			fputs("<ul>\n", out);
			for (int i = 0; i < plots->nnotes; i++) {
				fputs("<li>", out);
				jm_html_escape(out, plots->notes[i]);
				fputs("</li>\n", out);
			}
			fputs("</ul>\n", out);
		}
	}
	fputs("</body>\n</html>\n", out);
	return 0;
}
