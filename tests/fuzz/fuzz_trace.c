/* The trace reader (workloads/trace_reader.c + trace_input.c) on arbitrary
 * bytes: plain text, and xz or zstd when the bytes start with their magic
 * (the fuzzer finds those from the compressed seeds). The bytes go through
 * fmemopen into jm_trace_open_file, the same path a file takes after
 * fopen. Every event is drained; every error must be one line starting
 * with "NAME:LINE: ". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../workloads/trace.h"
#include "fuzz.h"

#define NAME "fuzz.trace"

/* "fuzz.trace:N: message" (or, before any line was read, "fuzz.trace: ...") */
static void check_msg(const char *err, int need_line)
{
	size_t n = strlen(NAME);
	if (!err[0] || strchr(err, '\n') || strncmp(err, NAME, n) || err[n] != ':')
		abort();
	if (need_line) {
		const char *p = err + n + 1;
		if (*p < '0' || *p > '9')
			abort();
		p += strspn(p, "0123456789");
		if (p[0] != ':' || p[1] != ' ' || !p[2])
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t empty[1];
	/* fmemopen wants a non-empty buffer; an empty input is a 0-byte read */
	FILE *f = fmemopen((void *)(size ? data : empty), size ? size : 1, "rb");
	if (!f)
		abort();
	if (!size)
		fgetc(f);
	char err[600] = "";
	struct jm_trace_reader *r = jm_trace_open_file(f, NAME, err, sizeof(err));
	if (!r) {
		/* decoder start-up errors have no line yet */
		check_msg(err, strstr(err, "cannot start") == NULL);
		return 0;
	}
	const struct jm_trace_header *h = jm_trace_header(r);
	if (h->version != JM_TRACE_VERSION || !h->page_size || h->max_live > JM_TRACE_MAX_LIVE)
		abort();
	struct jm_event ev;
	int rc;
	uint64_t events = 0;
	while ((rc = jm_trace_read(r, &ev)) > 0) {
		events++;
		if (ev.type == JM_EV_ALLOC) {
			if (ev.req.nseg == 0 || ev.req.nseg > JM_MAX_SEGS)
				abort();
			for (unsigned i = 0; i < ev.req.nseg; i++)
				if (ev.req.seg[i].content > JM_TRACE_MAX_SIZE ||
				    ev.req.seg[i].zero_fill > JM_TRACE_MAX_SIZE ||
				    ev.req.seg[i].align > JM_TRACE_MAX_ALIGN)
					abort();
		}
		if (strlen(ev.mark) > JM_TRACE_MAX_NAME)
			abort();
		if (jm_trace_live(r) > events)
			abort();
	}
	if (rc < 0) {
		check_msg(jm_trace_error(r), 1);
		/* an error sticks */
		if (jm_trace_read(r, &ev) != -1)
			abort();
	}
	jm_trace_close(r);
	return 0;
}
