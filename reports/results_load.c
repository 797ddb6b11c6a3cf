/* The one loader of results.json for every reader (report, compare,
 * export, merge): a regular file of bounded size, read once in pieces;
 * strict JSON; then the documented shape, types, ranges and UTF-8
 * (results_shape.c). Any failure is one line naming the file and the line
 * or the JSON path. */
#include "results.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "results_shape.h"

/* A document fed in pieces (a file is read 1 MiB at a time, so the text
 * and the tree are not in memory together: the tree is ~19 times the
 * compact text, docs/json-format.md). */
struct parser {
	const char *name;
	json_tokener *tok;
	json_object *o;          /* the document, once complete */
	size_t fed;              /* bytes so far */
	long line;               /* line of the next byte */
	int in_string, escaped;  /* what not_json() saw last */
	char *err;
	size_t errlen;
	int failed;
};

static long line_at(const struct parser *p, const char *buf, size_t end)
{
	long line = p->line;
	for (size_t i = 0; i < end; i++)
		line += buf[i] == '\n';
	return line;
}

static int fail(struct parser *p, const char *buf, size_t at, const char *what,
		const char *detail)
{
	snprintf(p->err, p->errlen, "%s:%ld: %s JSON (%s)", p->name, line_at(p, buf, at), what,
		 detail);
	p->failed = 1;
	return -1;
}

/* What json-c's strict mode still lets through and JSON (RFC 8259) does
 * not: a single-quoted key, a raw control character inside a string. */
static int not_json(struct parser *p, const char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)buf[i];
		if (p->escaped)
			p->escaped = 0;
		else if (p->in_string) {
			if (c == '\\')
				p->escaped = 1;
			else if (c == '"')
				p->in_string = 0;
			else if (c < 0x20)
				return fail(p, buf, i, "malformed",
					    "a control character inside a string");
		} else if (c == '"') {
			p->in_string = 1;
		} else if (c == '\'') {
			return fail(p, buf, i, "malformed", "a single quote");
		}
	}
	return 0;
}

static int feed(struct parser *p, const char *buf, size_t len)
{
	if (p->failed)
		return -1;
	p->fed += len;
	if (p->fed > JM_RESULTS_MAX_BYTES) {
		snprintf(p->err, p->errlen, "%s: larger than the %u MiB a results file may have",
			 p->name, JM_RESULTS_MAX_BYTES >> 20);
		p->failed = 1;
		return -1;
	}
	if (not_json(p, buf, len) < 0)
		return -1;
	if (p->o) { /* the document ended in an earlier piece: only space may follow */
		for (size_t i = 0; i < len; i++)
			if (!strchr(" \t\r\n", buf[i]))
				return fail(p, buf, i, "malformed", "data after the document");
		p->line = line_at(p, buf, len);
		return 0;
	}
	p->o = json_tokener_parse_ex(p->tok, buf, (int)len);
	enum json_tokener_error jerr = json_tokener_get_error(p->tok);
	if (jerr != json_tokener_continue && jerr != json_tokener_success)
		return fail(p, buf, json_tokener_get_parse_end(p->tok), "malformed",
			    json_tokener_error_desc(jerr));
	p->line = line_at(p, buf, len);
	return 0;
}

/* The end of input: finish a top-level number, or see that the document
 * is cut short. */
static json_object *finish(struct parser *p)
{
	if (!p->failed && !p->o) {
		p->o = json_tokener_parse_ex(p->tok, "", 1);
		if (json_tokener_get_error(p->tok) != json_tokener_success) {
			snprintf(p->err, p->errlen, "%s:%ld: truncated JSON (%s)", p->name, p->line,
				 json_tokener_error_desc(json_tokener_get_error(p->tok)));
			p->failed = 1;
		}
	}
	json_tokener_free(p->tok);
	if (p->failed || jm_results_check(p->o, p->name, p->err, p->errlen) < 0) {
		json_object_put(p->o);
		return NULL;
	}
	return p->o;
}

static int start(struct parser *p, const char *name, char *err, size_t errlen)
{
	*p = (struct parser){.name = name, .line = 1, .err = err, .errlen = errlen};
	p->tok = json_tokener_new_ex(JM_RESULTS_MAX_DEPTH);
	if (!p->tok) {
		snprintf(err, errlen, "%s: out of memory", name);
		return -1;
	}
	/* strict: no comments, single quotes, trailing commas or data after
	 * the document (json-c's extensions); UTF-8 is checked with the JSON
	 * path by the shape */
	json_tokener_set_flags(p->tok, JSON_TOKENER_STRICT);
	return 0;
}

json_object *jm_results_parse(const char *buf, size_t len, const char *name,
			      char *err, size_t errlen)
{
	struct parser p;
	if (start(&p, name, err, errlen) < 0)
		return NULL;
	feed(&p, buf, len);
	return finish(&p);
}

json_object *jm_results_load(const char *path, char *err, size_t errlen)
{
	/* "-": standard input, a pipe as well as a file (read with the same
	 * bound, piece by piece) */
	int from_stdin = !strcmp(path, "-");
	if (from_stdin)
		path = "stdin";
	/* O_NONBLOCK: a FIFO must not block the open; it is refused below */
	int fd = from_stdin ? dup(0) : open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	struct stat st;
	if (fstat(fd, &st) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		return NULL;
	}
	if (!from_stdin && !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: %s", path,
			 S_ISDIR(st.st_mode) ? "is a directory" : "not a regular file");
		close(fd);
		return NULL;
	}
	if (S_ISREG(st.st_mode) && (uint64_t)st.st_size > JM_RESULTS_MAX_BYTES) {
		snprintf(err, errlen, "%s: %lld bytes is larger than the %u MiB a results "
			 "file may have", path, (long long)st.st_size, JM_RESULTS_MAX_BYTES >> 20);
		close(fd);
		return NULL;
	}
	struct parser p;
	if (start(&p, path, err, errlen) < 0) {
		close(fd);
		return NULL;
	}
	static char chunk[1 << 20];
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			p.failed = 1;
		}
		if (n <= 0 || feed(&p, chunk, (size_t)n) < 0)
			break;
	}
	close(fd);
	return finish(&p);
}
