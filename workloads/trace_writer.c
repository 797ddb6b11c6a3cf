/* The trace writer: the header, then one line per event, in the format
 * trace_reader.c parses (docs/trace-format.md). Output goes to a temporary
 * file renamed into place on success, so a failed run leaves no partial
 * trace. OUT ending in .zst or .xz is written compressed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <lzma.h>
#include <zstd.h>

#include "../allocators/os.h"
#include "../common/atomic_write.h"
#include "trace.h"

/* Compressed output (OUT ending in .zst or .xz): the event lines go to a
 * FILE made with fopencookie whose writes feed the compressor, which
 * writes to the temporary file. */
struct compressor {
	FILE *out;
	int xz;
	ZSTD_CStream *z;
	lzma_stream lz;
	int failed;
	uint8_t buf[64 * 1024];
};

struct jm_trace_writer {
	struct jm_atomic_file af;
	FILE *f;
	int to_stdout;
	struct compressor *c;
};

static int drain_xz(struct compressor *c, lzma_action act)
{
	for (;;) {
		c->lz.next_out = c->buf;
		c->lz.avail_out = sizeof(c->buf);
		lzma_ret r = lzma_code(&c->lz, act);
		size_t n = sizeof(c->buf) - c->lz.avail_out;
		if (n && fwrite(c->buf, 1, n, c->out) != n)
			return -1;
		if (r == LZMA_STREAM_END)
			return 0;
		if (r != LZMA_OK)
			return -1;
		if (act == LZMA_RUN && c->lz.avail_in == 0)
			return 0;
	}
}

static ssize_t cookie_write(void *cookie, const char *data, size_t len)
{
	struct compressor *c = cookie;
	if (c->xz) {
		c->lz.next_in = (const uint8_t *)data;
		c->lz.avail_in = len;
		if (drain_xz(c, LZMA_RUN) < 0)
			goto fail;
		return (ssize_t)len;
	}
	ZSTD_inBuffer in = {data, len, 0};
	while (in.pos < in.size) {
		ZSTD_outBuffer out = {c->buf, sizeof(c->buf), 0};
		size_t r = ZSTD_compressStream2(c->z, &out, &in, ZSTD_e_continue);
		if (ZSTD_isError(r) || fwrite(c->buf, 1, out.pos, c->out) != out.pos)
			goto fail;
	}
	return (ssize_t)len;
fail:
	c->failed = 1;
	return -1;
}

/* end the compressed stream; 0 or -1 */
static int compressor_finish(struct compressor *c)
{
	if (c->failed)
		return -1;
	if (c->xz)
		return drain_xz(c, LZMA_FINISH);
	size_t r;
	do {
		ZSTD_inBuffer in = {NULL, 0, 0};
		ZSTD_outBuffer out = {c->buf, sizeof(c->buf), 0};
		r = ZSTD_compressStream2(c->z, &out, &in, ZSTD_e_end);
		if (ZSTD_isError(r) || fwrite(c->buf, 1, out.pos, c->out) != out.pos)
			return -1;
	} while (r != 0);
	return 0;
}

static void compressor_free(struct compressor *c)
{
	if (!c)
		return;
	if (c->xz)
		lzma_end(&c->lz);
	else
		ZSTD_freeCStream(c->z);
	free(c);
}

static int ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && !strcmp(s + a - b, suffix);
}

static FILE *compressed_file(struct jm_trace_writer *w, int xz, char *err, size_t errlen)
{
	struct compressor *c = calloc(1, sizeof(*c));
	if (!c) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->out = w->af.f;
	c->xz = xz;
	if (xz) {
		lzma_stream init = LZMA_STREAM_INIT;
		c->lz = init;
		if (lzma_easy_encoder(&c->lz, 3, LZMA_CHECK_CRC64) != LZMA_OK) {
			free(c);
			snprintf(err, errlen, "cannot start the xz encoder");
			return NULL;
		}
	} else if (!(c->z = ZSTD_createCStream()) ||
		   ZSTD_isError(ZSTD_CCtx_setParameter(c->z, ZSTD_c_compressionLevel, 3))) {
		ZSTD_freeCStream(c->z);
		free(c);
		snprintf(err, errlen, "cannot start the zstd encoder");
		return NULL;
	}
	cookie_io_functions_t io = {.write = cookie_write};
	FILE *f = fopencookie(c, "w", io);
	if (!f) {
		compressor_free(c);
		snprintf(err, errlen, "fopencookie failed");
		return NULL;
	}
	setvbuf(f, NULL, _IOFBF, 64 * 1024);
	w->c = c;
	return f;
}


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
		if (ev->req.section.name[0])
			APPEND(" section=%s:%s%s=%llu", ev->req.section.name,
			       jm_class_name(ev->req.section.cls),
			       ev->req.section.life == JM_FINALIZE ? "/fin" : "",
			       (unsigned long long)ev->req.section.size);
		if (ev->mark[0]) {
			char esc[JM_TRACE_ESCAPED_MAX(sizeof(ev->mark))];
			jm_trace_escape(ev->mark, 1, esc, sizeof(esc));
			APPEND(" name=%s", esc);
		}
		break;
	case JM_EV_FINALIZE:
	case JM_EV_FREE:
		APPEND(" %llu", (unsigned long long)ev->id);
		break;
	case JM_EV_TRIM:
		break;
	case JM_EV_MARK: {
		char esc[JM_TRACE_ESCAPED_MAX(sizeof(ev->mark))];
		jm_trace_escape(ev->mark, 0, esc, sizeof(esc));
		APPEND(" %s", esc);
		break;
	}
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
		if (ends_with(path, ".zst") || ends_with(path, ".xz")) {
			w->f = compressed_file(w, ends_with(path, ".xz"), err, errlen);
			if (!w->f) {
				jm_atomic_abort(&w->af);
				free(w);
				return NULL;
			}
		}
	}
	/* values from command lines and file names: escaped, so that a
	 * newline in them cannot end the header and start events */
	char esc[JM_TRACE_ESCAPED_MAX(sizeof(h->made_by))];
	fprintf(w->f, "%s %d\n", JM_TRACE_MAGIC, JM_TRACE_VERSION);
	jm_trace_escape(h->source, 0, esc, sizeof(esc));
	fprintf(w->f, "source %s\n", esc);
	jm_trace_escape(h->arch, 0, esc, sizeof(esc));
	fprintf(w->f, "arch %s\n", esc);
	fprintf(w->f, "page_size %llu\n", (unsigned long long)h->page_size);
	jm_trace_escape(h->sizes[0] ? h->sizes : "exact", 0, esc, sizeof(esc));
	fprintf(w->f, "sizes %s\n", esc);
	jm_trace_escape(h->made_by, 0, esc, sizeof(esc));
	fprintf(w->f, "made_by %s\n", esc);
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
	char esc[JM_TRACE_MAX_LINE];
	jm_trace_escape(text, 0, esc, sizeof(esc)); /* one line, whatever text holds */
	fprintf(w->f, "# %s\n", esc);
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
		if (w->c) {
			/* flush the lines into the compressor, then end its stream */
			if (fclose(w->f) != 0 || compressor_finish(w->c) < 0) {
				snprintf(err, errlen, "%s: compression or write error", w->af.path);
				compressor_free(w->c);
				jm_atomic_abort(&w->af);
				free(w);
				return -1;
			}
			compressor_free(w->c);
		}
		rc = jm_atomic_commit(&w->af, err, errlen);
	}
	free(w);
	return rc;
}

void jm_trace_writer_abort(struct jm_trace_writer *w)
{
	if (!w)
		return;
	if (w->c) {
		fclose(w->f);
		compressor_free(w->c);
	}
	if (!w->to_stdout)
		jm_atomic_abort(&w->af);
	free(w);
}
