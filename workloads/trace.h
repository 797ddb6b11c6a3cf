/* jitmm traces (docs/trace-format.md): a versioned, line-oriented text
 * format, read as a stream (plain, .xz or .zst, detected by magic bytes)
 * so that memory is proportional to the live graphs, not to the trace. */
#ifndef JITMM_TRACE_H
#define JITMM_TRACE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "workload.h"

#define JM_TRACE_MAGIC "jitmm-trace"
#define JM_TRACE_VERSION 1
/* Input limits: anything beyond them is an error naming the line. */
#define JM_TRACE_MAX_LINE 4096
#define JM_TRACE_MAX_SIZE (1ull << 40)  /* bytes per segment */
#define JM_TRACE_MAX_ALIGN (1ull << 30)
#define JM_TRACE_MAX_NAME 47            /* fits jm_event.mark */
/* header max_live: the replayer pre-sizes its live table from it (4 slots
 * of 336 B per graph, rounded up to a power of two: 2.8 GB at the limit),
 * so a hostile value must not reach it unchecked */
#define JM_TRACE_MAX_LIVE (1ull << 20)

struct jm_trace_header {
	unsigned version;
	char source[256];    /* what the events describe */
	char arch[32];       /* x86_64, aarch64, ... */
	char made_by[512];   /* the command that made the trace */
	char sizes[16];      /* "exact" (from objects) or "page" (recordings) */
	uint64_t page_size;
	uint64_t max_live;   /* bound on live graphs, 0 = not stated */
	uint64_t graphs;     /* alloc events, 0 = not stated */
};

struct jm_trace_reader;

/* Open and read the header. NULL with "FILE:LINE: message" in err. */
struct jm_trace_reader *jm_trace_open(const char *path, char *err, size_t errlen);
/* The same on an open stream (taken over: closed by jm_trace_close), named
 * name in messages: the entry point of tests/fuzz/fuzz_trace.c. */
struct jm_trace_reader *jm_trace_open_file(FILE *f, const char *name, char *err,
					   size_t errlen);
/* 1: *ev filled; 0: end; -1: error (jm_trace_error). Checks the graph
 * protocol too: an id is allocated once while live, finalized at most
 * once, freed only while live. */
int jm_trace_read(struct jm_trace_reader *r, struct jm_event *ev);
const char *jm_trace_error(const struct jm_trace_reader *r);
const struct jm_trace_header *jm_trace_header(const struct jm_trace_reader *r);
uint64_t jm_trace_lineno(const struct jm_trace_reader *r);
uint64_t jm_trace_live(const struct jm_trace_reader *r);
uint64_t jm_trace_peak_live(const struct jm_trace_reader *r);
void jm_trace_close(struct jm_trace_reader *r);

/* Writer: to a temporary file renamed into place on close ("-" = stdout). */
struct jm_trace_writer;
struct jm_trace_writer *jm_trace_writer_open(const char *path,
					     const struct jm_trace_header *h,
					     char *err, size_t errlen);
int jm_trace_write(struct jm_trace_writer *w, const struct jm_event *ev);
void jm_trace_write_comment(struct jm_trace_writer *w, const char *text);
/* Commit (0) or report the write error (-1). Frees w either way. */
int jm_trace_writer_close(struct jm_trace_writer *w, char *err, size_t errlen);
void jm_trace_writer_abort(struct jm_trace_writer *w);
/* Format one event line (no newline) into buf; returns its length. */
size_t jm_trace_format(const struct jm_event *ev, char *buf, size_t len);

/* Free text in a trace (header values, names, comments) is escaped:
 * backslash as \\, newline \n, CR \r, tab \t, other control bytes
 * \xHH, and a space as \x20 when escape_spaces (a name= token) or at
 * either end (the reader trims them). Writes at most outlen - 1 bytes and a
 * NUL; returns the full length (as snprintf). */
size_t jm_trace_escape(const char *raw, int escape_spaces, char *out, size_t outlen);
/* The reverse: 0, or -1 with why ("byte N: unknown escape '\q' ...") for a
 * bad escape, \x00, a raw control byte other than tab, or a result that
 * does not fit outlen (NUL included). */
int jm_trace_unescape(const char *text, char *out, size_t outlen, char *why, size_t whylen);
/* The longest escaped form of n bytes of text */
#define JM_TRACE_ESCAPED_MAX(n) ((n) * 4 + 1)

/* MADV_* name ("dontneed"), NULL if unknown */
const char *jm_advice_name(int advice);
/* "r-x" for PROT_READ|PROT_EXEC */
const char *jm_prot_text(int prot, char buf[4]);

#endif
