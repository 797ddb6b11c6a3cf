/* The trace writer: the header, then one line per event, in the format
 * trace_reader.c parses (docs/trace-format.md). Output goes to a temporary
 * file renamed into place on success, so a failed run leaves no partial
 * trace. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "../allocators/os.h"
#include "../reports/atomic_write.h"
#include "trace.h"

struct jm_trace_writer {
	struct jm_atomic_file af;
	FILE *f;
	int to_stdout;
};


const char *jm_prot_text(int prot, char buf[4])
{
	buf[0] = prot & PROT_READ ? 'r' : '-';
	buf[1] = prot & PROT_WRITE ? 'w' : '-';
	buf[2] = prot & PROT_EXEC ? 'x' : '-';
	buf[3] = 0;
	return buf;
}

#define APPEND(...)                                                          \
	do {                                                                 \
		int k_ = snprintf(buf + n, n < len ? len - n : 0, __VA_ARGS__); \
		n += k_ > 0 ? (size_t)k_ : 0;                                \
	} while (0)

size_t jm_trace_format(const struct jm_event *ev, char *buf, size_t len)
{
	size_t n = 0;
	APPEND("%s", jm_event_type_name(ev->type));
	if (ev->t_ns)
		APPEND(" t=%llu", (unsigned long long)ev->t_ns);
	if (ev->tid)
		APPEND(" tid=%u", ev->tid);
	switch (ev->type) {
	case JM_EV_ALLOC:
		APPEND(" %llu", (unsigned long long)ev->id);
		if (ev->req.dylib)
			APPEND(" dylib=%u", ev->req.dylib);
		for (uint32_t i = 0; i < ev->req.nseg; i++) {
			const struct jm_segment_req *s = &ev->req.seg[i];
			APPEND(" %s%s=%llu", jm_class_name(s->cls),
			       s->life == JM_FINALIZE ? "/fin" : "",
			       (unsigned long long)s->content);
			if (s->zero_fill)
				APPEND("+%llu", (unsigned long long)s->zero_fill);
			if (s->align > 1)
				APPEND("@%u", s->align);
		}
		if (ev->mark[0])
			APPEND(" name=%s", ev->mark);
		break;
	case JM_EV_FINALIZE:
	case JM_EV_FREE:
		APPEND(" %llu", (unsigned long long)ev->id);
		break;
	case JM_EV_TRIM:
		break;
	case JM_EV_MARK:
		APPEND(" %s", ev->mark);
		break;
	case JM_EV_SYS: {
		const struct jm_sys_event *s = &ev->sys;
		char pb[4];
		APPEND(" %s addr=0x%llx len=%llu", jm_sys_name((enum jm_sys)s->sys),
		       (unsigned long long)s->addr, (unsigned long long)s->len);
		if (s->sys == JM_SYS_MMAP || s->sys == JM_SYS_MPROTECT)
			APPEND(" prot=%s", jm_prot_text(s->prot, pb));
		if (s->sys == JM_SYS_MMAP)
			APPEND(" flags=0x%x", (unsigned)s->flags);
		if (s->sys == JM_SYS_MADVISE) {
			const char *a = jm_advice_name(s->flags);
			if (a)
				APPEND(" advice=%s", a);
			else
				APPEND(" advice=%d", s->flags);
		}
		if (s->ret < 0)
			APPEND(" ret=%lld", (long long)s->ret);
		else
			APPEND(" ret=0x%llx", (unsigned long long)s->ret);
		if (s->vmas >= 0)
			APPEND(" vmas=%lld", (long long)s->vmas);
		break;
	}
	}
	return n;
}

struct jm_trace_writer *jm_trace_writer_open(const char *path,
					     const struct jm_trace_header *h,
					     char *err, size_t errlen)
{
	struct jm_trace_writer *w = calloc(1, sizeof(*w));
	if (!w) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (!strcmp(path, "-")) {
		w->f = stdout;
		w->to_stdout = 1;
	} else {
		if (jm_atomic_open(&w->af, path, err, errlen) < 0) {
			free(w);
			return NULL;
		}
		w->f = w->af.f;
	}
	fprintf(w->f, "%s %d\n", JM_TRACE_MAGIC, JM_TRACE_VERSION);
	fprintf(w->f, "source %s\n", h->source);
	fprintf(w->f, "arch %s\n", h->arch);
	fprintf(w->f, "page_size %llu\n", (unsigned long long)h->page_size);
	fprintf(w->f, "sizes %s\n", h->sizes[0] ? h->sizes : "exact");
	fprintf(w->f, "made_by %s\n", h->made_by);
	if (h->graphs)
		fprintf(w->f, "graphs %llu\n", (unsigned long long)h->graphs);
	if (h->max_live)
		fprintf(w->f, "max_live %llu\n", (unsigned long long)h->max_live);
	return w;
}

int jm_trace_write(struct jm_trace_writer *w, const struct jm_event *ev)
{
	char line[JM_TRACE_MAX_LINE];
	size_t n = jm_trace_format(ev, line, sizeof(line) - 1);
	if (n >= sizeof(line) - 1)
		return -1;
	line[n++] = '\n';
	return fwrite(line, 1, n, w->f) == n ? 0 : -1;
}

void jm_trace_write_comment(struct jm_trace_writer *w, const char *text)
{
	fprintf(w->f, "# %s\n", text);
}

int jm_trace_writer_close(struct jm_trace_writer *w, char *err, size_t errlen)
{
	int rc = 0;
	if (w->to_stdout) {
		if (fflush(stdout) != 0) {
			snprintf(err, errlen, "write error on stdout");
			rc = -1;
		}
	} else {
		rc = jm_atomic_commit(&w->af, err, errlen);
	}
	free(w);
	return rc;
}

void jm_trace_writer_abort(struct jm_trace_writer *w)
{
	if (!w)
		return;
	if (!w->to_stdout)
		jm_atomic_abort(&w->af);
	free(w);
}
