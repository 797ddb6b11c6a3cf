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

/* Stream variant: open a FILE on a temp file, then commit or abort. The
 * directory is opened once and the temporary created, renamed and removed
 * through that descriptor, so that the file lands in the directory that
 * was checked even if a component of its path is swapped for a link
 * meanwhile. */
struct jm_atomic_file {
	FILE *f;
	int dirfd, have_dir;
	char tmp[300];   /* the temporary's name in the directory */
	char base[256];  /* the file's name in the directory (NAME_MAX) */
	char path[4096]; /* as given, for messages */
};
int jm_atomic_open(struct jm_atomic_file *af, const char *path, char *err,
		   size_t errlen);
int jm_atomic_commit(struct jm_atomic_file *af, char *err, size_t errlen);
void jm_atomic_abort(struct jm_atomic_file *af);
/* Whether jm_atomic_open(path) can succeed: the directory exists and is
 * writable, and path is not a directory, device or FIFO (rename would
 * replace it). For checking an output path before a long run. */
int jm_atomic_check(const char *path, char *err, size_t errlen);
/* mkdir -p; 0 or -1 with a message. DIR itself must not be a symbolic
 * link (an output directory planted as a link would send every file
 * elsewhere); the directories above it may be. */
int jm_mkdirs(const char *dir, char *err, size_t errlen);

/* DIR opened as a directory, never through a link (O_NOFOLLOW); -1 with a
 * message. */
int jm_dir_open(const char *dir, char *err, size_t errlen);
/* DIR/NAME (display: DIR, for messages) created 0755 if missing and opened
 * the same way. */
int jm_subdir_open(int dirfd, const char *display, const char *name, char *err,
		   size_t errlen);

/* A private staging directory inside an output directory, for files a
 * child writes without these precautions (gnuplot creates its images with
 * a plain open(O_CREAT|O_TRUNC), following links): created 0700 under a
 * random name (.jitmm-stage-HEX), so nobody else can plant anything in it,
 * and used through its descriptor. Each file is then moved into place by
 * jm_stage_commit (a regular file only, given mode 0644 less the umask,
 * synced, renamed: renameat replaces a link at the destination and never
 * follows it), or the whole directory is removed. */
struct jm_stage {
	int fd, parent;        /* the stage, and the directory it is in */
	char name[40];         /* the stage's name in parent */
	char display[4096];    /* parent's path, for messages */
	unsigned mode;         /* 0644 less the umask */
};
int jm_stage_open(struct jm_stage *s, int parent, const char *display, char *err,
		  size_t errlen);
/* A new file NAME in the stage (O_CREAT|O_EXCL|O_NOFOLLOW) with data. */
int jm_stage_write(const struct jm_stage *s, const char *name, const void *data,
		   size_t len, char *err, size_t errlen);
/* Whether NAME may be replaced in destfd: absent, a regular file or a
 * link (replaced, not followed); a directory, FIFO or device is not. */
int jm_stage_check_dest(int destfd, const char *display, const char *name, char *err,
			size_t errlen);
int jm_stage_commit(const struct jm_stage *s, const char *name, int destfd,
		    const char *display, char *err, size_t errlen);
/* Removes what is left in the stage and the stage itself. */
void jm_stage_remove(struct jm_stage *s);
/* The stages in parent that no live jitmm holds (jm_stage_open keeps an
 * flock on its stage until it is removed, or the process dies: a report
 * killed with SIGKILL leaves its stage behind) and that belong to this
 * user: removed, at most 16 a call. Returns how many. */
int jm_stage_sweep(int parent);

#endif
