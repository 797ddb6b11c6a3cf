#include "trace_input.h"

#include <errno.h>
#include <lzma.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>
#include <zstd_errors.h>

enum kind { PLAIN, XZ, ZSTD };

#define INBUF (64 * 1024)

struct jm_input {
	enum kind kind;
	FILE *f;
	int in_eof, done;
	lzma_stream xz;
	ZSTD_DStream *zd;
	ZSTD_inBuffer zin;
	size_t zret; /* last ZSTD_decompressStream result: 0 = frame complete */
	uint8_t in[INBUF];
	size_t in_len;
};

struct jm_input *jm_input_open(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	return jm_input_open_file(f, path, err, errlen);
}

struct jm_input *jm_input_open_file(FILE *f, const char *path, char *err, size_t errlen)
{
	struct jm_input *in = calloc(1, sizeof(*in));
	if (!in) {
		fclose(f);
		snprintf(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	in->f = f;
	/* sniff the magic: the first bytes are kept as input for any kind */
	in->in_len = fread(in->in, 1, INBUF, f);
	if (ferror(f)) {
		snprintf(err, errlen, "%s: read error: %s", path, strerror(errno));
		jm_input_close(in);
		return NULL;
	}
	in->in_eof = in->in_len < INBUF;
	static const uint8_t xz_magic[6] = {0xFD, '7', 'z', 'X', 'Z', 0};
	static const uint8_t zstd_magic[4] = {0x28, 0xB5, 0x2F, 0xFD};
	if (in->in_len >= 6 && !memcmp(in->in, xz_magic, 6)) {
		in->kind = XZ;
		lzma_stream init = LZMA_STREAM_INIT;
		in->xz = init;
		/* the stream header states the dictionary size, and liblzma
		 * allocates it up front: cap what a hostile header can ask for.
		 * LZMA_CONCATENATED: every stream of the file is read (as xz -d
		 * does), stream padding is allowed, and anything else after a
		 * stream is an error, not silently dropped (issue 11) */
		if (lzma_stream_decoder(&in->xz, JM_INPUT_XZ_MEMLIMIT, LZMA_CONCATENATED) !=
		    LZMA_OK) {
			snprintf(err, errlen, "%s: cannot start the xz decoder", path);
			jm_input_close(in);
			return NULL;
		}
		in->xz.next_in = in->in;
		in->xz.avail_in = in->in_len;
	} else if (in->in_len >= 4 && !memcmp(in->in, zstd_magic, 4)) {
		in->kind = ZSTD;
		in->zd = ZSTD_createDStream();
		if (!in->zd) {
			snprintf(err, errlen, "%s: cannot start the zstd decoder", path);
			jm_input_close(in);
			return NULL;
		}
		/* the frame header states the window size: cap it likewise */
		if (ZSTD_isError(ZSTD_DCtx_setParameter(in->zd, ZSTD_d_windowLogMax,
							JM_INPUT_ZSTD_WINDOWLOG))) {
			snprintf(err, errlen, "%s: cannot start the zstd decoder", path);
			jm_input_close(in);
			return NULL;
		}
		in->zin = (ZSTD_inBuffer){in->in, in->in_len, 0};
	}
	return in;
}

static int refill(struct jm_input *in, char *err, size_t errlen)
{
	in->in_len = fread(in->in, 1, INBUF, in->f);
	if (ferror(in->f)) {
		snprintf(err, errlen, "read error: %s", strerror(errno));
		return -1;
	}
	if (in->in_len < INBUF)
		in->in_eof = 1;
	return 0;
}

static ssize_t read_xz(struct jm_input *in, void *buf, size_t len, char *err,
		       size_t errlen)
{
	in->xz.next_out = buf;
	in->xz.avail_out = len;
	while (in->xz.avail_out == len && !in->done) {
		if (in->xz.avail_in == 0 && !in->in_eof) {
			if (refill(in, err, errlen) < 0)
				return -1;
			in->xz.next_in = in->in;
			in->xz.avail_in = in->in_len;
		}
		lzma_ret r = lzma_code(&in->xz, in->xz.avail_in || !in->in_eof
						   ? LZMA_RUN : LZMA_FINISH);
		if (r == LZMA_STREAM_END) {
			in->done = 1;
		} else if (r != LZMA_OK) {
			snprintf(err, errlen, "xz: %s",
				 r == LZMA_DATA_ERROR ? "corrupt data" :
				 r == LZMA_BUF_ERROR ? "truncated stream" :
				 /* the magic was sniffed: this is past the first stream */
				 r == LZMA_FORMAT_ERROR ? "trailing data after the last stream "
				 "(not another xz stream)" :
				 r == LZMA_MEM_ERROR ? "out of memory" :
				 r == LZMA_MEMLIMIT_ERROR ? "the stream needs more than the "
				 "decoder limit of " JM_INPUT_XZ_MEMLIMIT_TEXT :
				 r == LZMA_OPTIONS_ERROR ? "unsupported options" : "decoder error");
			return -1;
		}
	}
	return (ssize_t)(len - in->xz.avail_out);
}

static ssize_t read_zstd(struct jm_input *in, void *buf, size_t len, char *err,
			 size_t errlen)
{
	ZSTD_outBuffer out = {buf, len, 0};
	while (out.pos == 0) {
		if (in->zin.pos == in->zin.size) {
			if (in->in_eof) {
				if (in->zret != 0) {
					snprintf(err, errlen, "zstd: truncated stream");
					return -1;
				}
				return 0;
			}
			if (refill(in, err, errlen) < 0)
				return -1;
			in->zin = (ZSTD_inBuffer){in->in, in->in_len, 0};
			continue;
		}
		size_t r = ZSTD_decompressStream(in->zd, &out, &in->zin);
		if (ZSTD_isError(r)) {
			if (ZSTD_getErrorCode(r) == ZSTD_error_frameParameter_windowTooLarge)
				snprintf(err, errlen, "zstd: the frame's window is larger than "
					 "the decoder limit of %u MiB",
					 (1u << JM_INPUT_ZSTD_WINDOWLOG) >> 20);
			else
				snprintf(err, errlen, "zstd: %s", ZSTD_getErrorName(r));
			return -1;
		}
		in->zret = r;
	}
	return (ssize_t)out.pos;
}

ssize_t jm_input_read(struct jm_input *in, void *buf, size_t len, char *err,
		      size_t errlen)
{
	switch (in->kind) {
	case XZ:
		return read_xz(in, buf, len, err, errlen);
	case ZSTD:
		return read_zstd(in, buf, len, err, errlen);
	case PLAIN:
		break;
	}
	/* plain: hand out the sniffed bytes first */
	if (in->in_len) {
		size_t n = in->in_len < len ? in->in_len : len;
		memcpy(buf, in->in, n);
		memmove(in->in, in->in + n, in->in_len - n);
		in->in_len -= n;
		return (ssize_t)n;
	}
	size_t n = fread(buf, 1, len, in->f);
	if (ferror(in->f)) {
		snprintf(err, errlen, "read error: %s", strerror(errno));
		return -1;
	}
	return (ssize_t)n;
}

void jm_input_close(struct jm_input *in)
{
	if (!in)
		return;
	if (in->kind == XZ)
		lzma_end(&in->xz);
	if (in->zd)
		ZSTD_freeDStream(in->zd);
	if (in->f)
		fclose(in->f);
	free(in);
}
