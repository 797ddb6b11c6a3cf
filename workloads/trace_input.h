/* Byte streams for the trace reader: plain files, xz and zstd, chosen by
 * the file's magic bytes (not its name), decompressed as they are read. */
#ifndef JITMM_TRACE_INPUT_H
#define JITMM_TRACE_INPUT_H

#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

/* Decoder memory limits (a hostile header must not make us allocate
 * gigabytes): xz dictionaries up to 256 MiB (xz -9 uses 64 MiB), zstd
 * windows up to 2^27 = 128 MiB (zstd's own default limit; --long=27). */
#define JM_INPUT_XZ_MEMLIMIT (256ull << 20)
#define JM_INPUT_XZ_MEMLIMIT_TEXT "256 MiB"
#define JM_INPUT_ZSTD_WINDOWLOG 27

struct jm_input;

/* NULL with a message in err */
struct jm_input *jm_input_open(const char *path, char *err, size_t errlen);
/* The same on an open stream (taken over: closed by jm_input_close), named
 * path in messages; the fuzz target reads from fmemopen'd buffers. */
struct jm_input *jm_input_open_file(FILE *f, const char *path, char *err, size_t errlen);
/* bytes read, 0 at end, -1 on error (message in err) */
ssize_t jm_input_read(struct jm_input *in, void *buf, size_t len, char *err,
		      size_t errlen);
void jm_input_close(struct jm_input *in);

#endif
