#include "atomic_write.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int jm_atomic_check(const char *path, char *err, size_t errlen)
{
	/* rename() would replace a device or FIFO (as root: /dev/full, the
	 * /dev/stdout symlink) by a regular file: refuse */
	struct stat st;
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: %s", path,
			 S_ISDIR(st.st_mode) ? "is a directory" : "not a regular file");
		return -1;
	}
	/* /dev/stdout -> /proc/self/fd/1: even when fd 1 is a regular file,
	 * rename would replace the /dev/stdout link itself */
	char target[16] = "";
	if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode) &&
	    readlink(path, target, sizeof(target) - 1) > 0 &&
	    strncmp(target, "/proc/", 6) == 0) {
		snprintf(err, errlen, "%s: a link into /proc, not a file", path);
		return -1;
	}
	/* create (and remove) a file next to it: access(W_OK) says yes to
	 * root where creating fails (sysfs, some network file systems) */
	char probe[4096];
	if (snprintf(probe, sizeof(probe), "%s.tmp.%d.check", path, (int)getpid()) >=
	    (int)sizeof(probe)) {
		snprintf(err, errlen, "%s: path too long", path);
		return -1;
	}
	int fd = open(probe, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0 && errno != EEXIST) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fd >= 0) {
		close(fd);
		unlink(probe);
	}
	return 0;
}

int jm_atomic_open(struct jm_atomic_file *af, const char *path, char *err,
		   size_t errlen)
{
	memset(af, 0, sizeof(*af));
	if (strlen(path) + 32 >= sizeof(af->tmp)) {
		snprintf(err, errlen, "%s: path too long", path);
		return -1;
	}
	snprintf(af->path, sizeof(af->path), "%s", path);
	if (jm_atomic_check(path, err, errlen) < 0)
		return -1;
	for (int attempt = 0; attempt < 100; attempt++) {
		snprintf(af->tmp, sizeof(af->tmp), "%s.tmp.%d.%d", path,
			 (int)getpid(), attempt);
		int fd = open(af->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			      0644);
		if (fd < 0 && errno == EEXIST)
			continue;
		if (fd < 0) {
			/* name the file the user asked for, not our temporary */
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			return -1;
		}
		af->f = fdopen(fd, "w");
		if (!af->f) {
			close(fd);
			unlink(af->tmp);
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			return -1;
		}
		return 0;
	}
	snprintf(err, errlen, "%s: cannot create a temporary file", path);
	return -1;
}

int jm_atomic_commit(struct jm_atomic_file *af, char *err, size_t errlen)
{
	int bad = ferror(af->f);
	if (fflush(af->f) != 0 || fsync(fileno(af->f)) != 0)
		bad = 1;
	if (fclose(af->f) != 0)
		bad = 1;
	af->f = NULL;
	/* rename() replaces a symlink at the destination itself, never its
	 * target */
	if (bad || rename(af->tmp, af->path) != 0) {
		snprintf(err, errlen, "%s: %s", af->path,
			 bad ? "write failed" : strerror(errno));
		unlink(af->tmp);
		return -1;
	}
	return 0;
}

void jm_atomic_abort(struct jm_atomic_file *af)
{
	if (af->f)
		fclose(af->f);
	af->f = NULL;
	if (af->tmp[0])
		unlink(af->tmp);
}

int jm_write_atomic(const char *path, const void *data, size_t len, char *err,
		    size_t errlen)
{
	struct jm_atomic_file af;
	if (jm_atomic_open(&af, path, err, errlen) < 0)
		return -1;
	if (len && fwrite(data, 1, len, af.f) != len) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		jm_atomic_abort(&af);
		return -1;
	}
	return jm_atomic_commit(&af, err, errlen);
}

int jm_mkdirs(const char *dir, char *err, size_t errlen)
{
	char buf[4096];
	if (snprintf(buf, sizeof(buf), "%s", dir) >= (int)sizeof(buf)) {
		snprintf(err, errlen, "%s: path too long", dir);
		return -1;
	}
	for (char *p = buf + 1; ; p++) {
		if (*p == '/' || *p == 0) {
			char c = *p;
			*p = 0;
			if (mkdir(buf, 0755) < 0 && errno != EEXIST) {
				snprintf(err, errlen, "%s: %s", buf, strerror(errno));
				return -1;
			}
			struct stat st;
			if (stat(buf, &st) < 0 || !S_ISDIR(st.st_mode)) {
				snprintf(err, errlen, "%s: not a directory", buf);
				return -1;
			}
			*p = c;
			if (!c)
				break;
		}
	}
	return 0;
}
