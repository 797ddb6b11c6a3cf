/* The one loader of results.json for every reader (report, compare,
 * export, merge): a regular file of bounded size, read once; strict JSON;
 * then the documented shape, types, ranges and UTF-8 (results_shape.c). Any failure is one
 * line naming the file and the line or the JSON path. */
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

static long line_of(const char *buf, size_t end)
{
	long line = 1;
	for (size_t i = 0; i < end; i++)
		line += buf[i] == '\n';
	return line;
}

/* What json-c's strict mode still lets through and JSON (RFC 8259) does
 * not: a single-quoted key, a raw control character inside a string.
 * Returns the offset of the first, or len. */
static size_t not_json_at(const char *buf, size_t len, const char **what)
{
	int in_string = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)buf[i];
		if (in_string) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_string = 0;
			else if (c < 0x20) {
				*what = "a control character inside a string";
				return i;
			}
		} else if (c == '"') {
			in_string = 1;
		} else if (c == '\'') {
			*what = "a single quote";
			return i;
		}
	}
	return len;
}

json_object *jm_results_parse(const char *buf, size_t len, const char *name,
			      char *err, size_t errlen)
{
	if (len > JM_RESULTS_MAX_BYTES) {
		snprintf(err, errlen, "%s: %zu bytes is larger than the %u MiB a results "
			 "file may have", name, len, JM_RESULTS_MAX_BYTES >> 20);
		return NULL;
	}
	const char *what = NULL;
	size_t bad = not_json_at(buf, len, &what);
	if (bad < len) {
		snprintf(err, errlen, "%s:%ld: malformed JSON (%s)", name, line_of(buf, bad), what);
		return NULL;
	}
	json_tokener *tok = json_tokener_new_ex(JM_RESULTS_MAX_DEPTH);
	if (!tok) {
		snprintf(err, errlen, "%s: out of memory", name);
		return NULL;
	}
	/* strict: no comments, single quotes, trailing commas or data after
	 * the document (json-c's extensions); UTF-8 is checked with the JSON
	 * path by the shape */
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	json_object *o = json_tokener_parse_ex(tok, buf, (int)len);
	enum json_tokener_error jerr = json_tokener_get_error(tok);
	size_t end = json_tokener_get_parse_end(tok);
	int ended_early = jerr == json_tokener_continue;
	if (ended_early) {
		/* the whole buffer was consumed: make the tokener finish a
		 * top-level number or see that the document is cut short */
		o = json_tokener_parse_ex(tok, "", 1);
		jerr = json_tokener_get_error(tok);
		end = len;
	}
	json_tokener_free(tok);
	if (!o || jerr != json_tokener_success) {
		snprintf(err, errlen, "%s:%ld: %s JSON (%s)", name, line_of(buf, end < len ? end : len),
			 ended_early ? "truncated" : "malformed", json_tokener_error_desc(jerr));
		json_object_put(o);
		return NULL;
	}
	if (jm_results_check(o, name, err, errlen) < 0) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

json_object *jm_results_load(const char *path, char *err, size_t errlen)
{
	/* O_NONBLOCK: a FIFO must not block the open; it is refused below */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
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
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: %s", path,
			 S_ISDIR(st.st_mode) ? "is a directory" : "not a regular file");
		close(fd);
		return NULL;
	}
	if ((uint64_t)st.st_size > JM_RESULTS_MAX_BYTES) {
		snprintf(err, errlen, "%s: %lld bytes is larger than the %u MiB a results "
			 "file may have", path, (long long)st.st_size, JM_RESULTS_MAX_BYTES >> 20);
		close(fd);
		return NULL;
	}
	/* one byte more than the size: a file that grew is noticed */
	size_t cap = (size_t)st.st_size + 1, len = 0;
	char *buf = malloc(cap);
	if (!buf) {
		snprintf(err, errlen, "%s: out of memory", path);
		close(fd);
		return NULL;
	}
	while (len < cap) {
		ssize_t n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			free(buf);
			close(fd);
			return NULL;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (len == cap) {
		snprintf(err, errlen, "%s: changed while it was read", path);
		free(buf);
		return NULL;
	}
	json_object *o = jm_results_parse(buf, len, path, err, errlen);
	free(buf);
	return o;
}
