/* Byte streams for the trace reader: plain files, xz and zstd, chosen by
 * the file's magic bytes (not its name), decompressed as they are read. */
#ifndef JITMM_TRACE_INPUT_H
#define JITMM_TRACE_INPUT_H

#include <stddef.h>
#include <sys/types.h>

struct jm_input;

/* NULL with a message in err */
struct jm_input *jm_input_open(const char *path, char *err, size_t errlen);
/* bytes read, 0 at end, -1 on error (message in err) */
ssize_t jm_input_read(struct jm_input *in, void *buf, size_t len, char *err,
		      size_t errlen);
const char *jm_input_kind(const struct jm_input *in); /* "plain", "xz", "zstd" */
void jm_input_close(struct jm_input *in);

#endif
