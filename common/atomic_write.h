/* Output files are written to a temporary file in the same directory and
 * renamed into place, so a reader never sees a partial file; the temporary
 * is created with O_EXCL|O_NOFOLLOW, so a symlink planted in the output
 * directory is never followed. */
#ifndef JITMM_ATOMIC_WRITE_H
#define JITMM_ATOMIC_WRITE_H

#include <stddef.h>
#include <stdio.h>

int jm_write_atomic(const char *path, const void *data, size_t len, char *err,
		    size_t errlen);

/* Stream variant: open a FILE on a temp file, then commit or abort. */
struct jm_atomic_file {
	FILE *f;
	char tmp[4096];
	char path[4096];
};
int jm_atomic_open(struct jm_atomic_file *af, const char *path, char *err,
		   size_t errlen);
int jm_atomic_commit(struct jm_atomic_file *af, char *err, size_t errlen);
void jm_atomic_abort(struct jm_atomic_file *af);
/* Whether jm_atomic_open(path) can succeed: the directory exists and is
 * writable, and path is not a directory, device or FIFO (rename would
 * replace it). For checking an output path before a long run. */
int jm_atomic_check(const char *path, char *err, size_t errlen);
/* mkdir -p; 0 or -1 with a message */
int jm_mkdirs(const char *dir, char *err, size_t errlen);

#endif
