#include "atomic_write.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
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

/* path's directory opened (links above the file are followed, as a
 * path would be) and the file's name in it; -1 with a message */
static int open_parent(struct jm_atomic_file *af, const char *path, char *err, size_t errlen)
{
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	if (!*base) {
		snprintf(err, errlen, "%s: is a directory", path);
		return -1;
	}
	if (strlen(base) >= sizeof(af->base)) {
		snprintf(err, errlen, "%s: %s", path, strerror(ENAMETOOLONG));
		return -1;
	}
	snprintf(af->base, sizeof(af->base), "%s", base);
	char dir[4096];
	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	af->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (af->dirfd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	af->have_dir = 1;
	return 0;
}

static void close_parent(struct jm_atomic_file *af)
{
	if (af->have_dir)
		close(af->dirfd);
	af->have_dir = 0;
	af->dirfd = -1;
}

int jm_atomic_open(struct jm_atomic_file *af, const char *path, char *err,
		   size_t errlen)
{
	memset(af, 0, sizeof(*af));
	af->dirfd = -1;
	if (strlen(path) + 32 >= sizeof(af->path)) {
		snprintf(err, errlen, "%s: path too long", path);
		return -1;
	}
	snprintf(af->path, sizeof(af->path), "%s", path);
	if (jm_atomic_check(path, err, errlen) < 0 || open_parent(af, path, err, errlen) < 0)
		return -1;
	for (int attempt = 0; attempt < 100; attempt++) {
		snprintf(af->tmp, sizeof(af->tmp), "%s.tmp.%d.%d", af->base, (int)getpid(),
			 attempt);
		int fd = openat(af->dirfd, af->tmp,
				O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (fd < 0 && errno == EEXIST)
			continue;
		if (fd < 0) {
			/* name the file the user asked for, not our temporary */
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			af->tmp[0] = 0;
			close_parent(af);
			return -1;
		}
		af->f = fdopen(fd, "w");
		if (!af->f) {
			close(fd);
			unlinkat(af->dirfd, af->tmp, 0);
			af->tmp[0] = 0;
			close_parent(af);
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			return -1;
		}
		return 0;
	}
	af->tmp[0] = 0;
	close_parent(af);
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
	/* renameat replaces a symlink at the destination itself, never its
	 * target */
	int rc = 0;
	if (bad || renameat(af->dirfd, af->tmp, af->dirfd, af->base) != 0) {
		snprintf(err, errlen, "%s: %s", af->path,
			 bad ? "write failed" : strerror(errno));
		unlinkat(af->dirfd, af->tmp, 0);
		rc = -1;
	}
	af->tmp[0] = 0;
	close_parent(af);
	return rc;
}

void jm_atomic_abort(struct jm_atomic_file *af)
{
	if (af->f)
		fclose(af->f);
	af->f = NULL;
	if (af->tmp[0] && af->have_dir)
		unlinkat(af->dirfd, af->tmp, 0);
	af->tmp[0] = 0;
	close_parent(af);
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

/* dir into buf without its trailing slashes: "out/" names out itself,
 * and O_NOFOLLOW applies to the last component only ("out/" would resolve
 * it). -1 with a message if it does not fit. */
static int trim_dir(const char *dir, char buf[4096], char *err, size_t errlen)
{
	if (snprintf(buf, 4096, "%s", dir) >= 4096) {
		snprintf(err, errlen, "%s: path too long", dir);
		return -1;
	}
	size_t len = strlen(buf);
	while (len > 1 && buf[len - 1] == '/')
		buf[--len] = 0;
	return 0;
}

int jm_mkdirs(const char *dir, char *err, size_t errlen)
{
	char buf[4096];
	if (trim_dir(dir, buf, err, errlen) < 0)
		return -1;
	for (char *p = buf + 1; ; p++) {
		if (*p == '/' || *p == 0) {
			char c = *p;
			*p = 0;
			if (mkdir(buf, 0755) < 0 && errno != EEXIST) {
				snprintf(err, errlen, "%s: %s", buf, strerror(errno));
				return -1;
			}
			struct stat st;
			if (!c && lstat(buf, &st) == 0 && S_ISLNK(st.st_mode)) {
				snprintf(err, errlen, "%s: is a symbolic link; give the directory "
					 "it points to", buf);
				return -1;
			}
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

static int opendir_nofollow(int at, const char *path, const char *display, char *err,
			    size_t errlen)
{
	int fd = openat(at, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		/* a link gives ELOOP or ENOTDIR: say which it was */
		int e = errno;
		struct stat st;
		int link = fstatat(at, path, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode);
		snprintf(err, errlen, "%s: %s", display,
			 link ? "is a symbolic link, not a directory" : strerror(e));
	}
	return fd;
}

int jm_dir_open(const char *dir, char *err, size_t errlen)
{
	char buf[4096];
	if (trim_dir(dir, buf, err, errlen) < 0)
		return -1;
	return opendir_nofollow(AT_FDCWD, buf, dir, err, errlen);
}

int jm_subdir_open(int dirfd, const char *display, const char *name, char *err,
		   size_t errlen)
{
	char shown[4200];
	snprintf(shown, sizeof(shown), "%s/%s", display, name);
	if (mkdirat(dirfd, name, 0755) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "%s: %s", shown, strerror(errno));
		return -1;
	}
	return opendir_nofollow(dirfd, name, shown, err, errlen);
}

/* 16 hex digits from getrandom, or from the clock and pid where it fails */
static void random_hex(char *buf, size_t len)
{
	unsigned long long r;
	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r)) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		r = (unsigned long long)ts.tv_nsec * 6364136223846793005ull ^
		    ((unsigned long long)getpid() << 32) ^ (unsigned long long)ts.tv_sec;
	}
	snprintf(buf, len, "%016llx", r);
}

int jm_stage_open(struct jm_stage *s, int parent, const char *display, char *err,
		  size_t errlen)
{
	memset(s, 0, sizeof(*s));
	s->fd = -1;
	s->parent = parent;
	snprintf(s->display, sizeof(s->display), "%s", display);
	mode_t um = umask(0);
	umask(um);
	s->mode = 0644 & ~um;
	for (int attempt = 0; attempt < 100; attempt++) {
		char hex[20];
		random_hex(hex, sizeof(hex));
		snprintf(s->name, sizeof(s->name), ".jitmm-stage-%s", hex);
		if (mkdirat(parent, s->name, 0700) == 0) {
			s->fd = opendir_nofollow(parent, s->name, display, err, errlen);
			if (s->fd < 0) {
				unlinkat(parent, s->name, AT_REMOVEDIR);
				s->name[0] = 0;
				return -1;
			}
			/* held while the stage lives (until its descriptor is
			 * closed, by jm_stage_remove or by the kernel at exit):
			 * a stage nobody holds is a killed report's (jm_stage_sweep) */
			flock(s->fd, LOCK_EX | LOCK_NB);
			return 0;
		}
		if (errno != EEXIST)
			break;
	}
	snprintf(err, errlen, "%s: cannot create a private directory: %s", display,
		 strerror(errno));
	s->name[0] = 0;
	return -1;
}

int jm_stage_write(const struct jm_stage *s, const char *name, const void *data,
		   size_t len, char *err, size_t errlen)
{
	int fd = openat(s->fd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0) {
		snprintf(err, errlen, "%s/%s: %s", s->display, name, strerror(errno));
		return -1;
	}
	const char *p = data;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(err, errlen, "%s/%s: %s", s->display, name,
				 n < 0 ? strerror(errno) : "write failed");
			close(fd);
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	if (close(fd) < 0) {
		snprintf(err, errlen, "%s/%s: %s", s->display, name, strerror(errno));
		return -1;
	}
	return 0;
}

int jm_stage_check_dest(int destfd, const char *display, const char *name, char *err,
			size_t errlen)
{
	struct stat st;
	if (fstatat(destfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s/%s: %s", display, name, strerror(errno));
		return -1;
	}
	if (S_ISREG(st.st_mode) || S_ISLNK(st.st_mode))
		return 0;
	snprintf(err, errlen, "%s/%s: %s", display, name,
		 S_ISDIR(st.st_mode) ? "is a directory" : "not a regular file");
	return -1;
}

int jm_stage_commit(const struct jm_stage *s, const char *name, int destfd,
		    const char *display, char *err, size_t errlen)
{
	/* what a child left here must be a plain file it wrote, not a link
	 * or a FIFO it made */
	int fd = openat(s->fd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s/%s: %s", display, name,
			 fd < 0 ? strerror(errno) : "not a regular file");
		if (fd >= 0)
			close(fd);
		return -1;
	}
	int bad = fchmod(fd, s->mode) < 0 || fsync(fd) < 0;
	close(fd);
	if (bad || renameat(s->fd, name, destfd, name) < 0) {
		snprintf(err, errlen, "%s/%s: %s", display, name, strerror(errno));
		return -1;
	}
	return 0;
}

/* ".jitmm-stage-" and 16 hex digits, as jm_stage_open names them */
static int stage_name(const char *n)
{
	static const char prefix[] = ".jitmm-stage-";
	if (strncmp(n, prefix, sizeof(prefix) - 1) != 0)
		return 0;
	n += sizeof(prefix) - 1;
	size_t k = 0;
	for (; n[k]; k++)
		if (!((n[k] >= '0' && n[k] <= '9') || (n[k] >= 'a' && n[k] <= 'f')))
			return 0;
	return k == 16;
}

int jm_stage_sweep(int parent)
{
	int fd = dup(parent);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	rewinddir(d);
	char stale[16][30];
	int n = 0, removed = 0;
	for (struct dirent *de; n < 16 && (de = readdir(d));)
		if (stage_name(de->d_name))
			memcpy(stale[n++], de->d_name, 30); /* 29 and the NUL */
	closedir(d);
	for (int i = 0; i < n; i++) {
		struct jm_stage s = {.parent = parent};
		char e[8];
		s.fd = opendir_nofollow(parent, stale[i], "", e, sizeof(e));
		struct stat st;
		/* ours (this user's), and nobody holds it: a report killed
		 * before it finished */
		if (s.fd < 0 || fstat(s.fd, &st) != 0 || st.st_uid != geteuid() ||
		    flock(s.fd, LOCK_EX | LOCK_NB) != 0) {
			if (s.fd >= 0)
				close(s.fd);
			continue;
		}
		memcpy(s.name, stale[i], 30);
		jm_stage_remove(&s);
		removed++;
	}
	return removed;
}

void jm_stage_remove(struct jm_stage *s)
{
	if (s->fd >= 0) {
		int fd = dup(s->fd);
		DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
		if (d) {
			for (struct dirent *de; (de = readdir(d));)
				if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
					unlinkat(s->fd, de->d_name, 0);
			closedir(d);
		} else if (fd >= 0) {
			close(fd);
		}
		close(s->fd);
		s->fd = -1;
	}
	if (s->name[0])
		unlinkat(s->parent, s->name, AT_REMOVEDIR);
	s->name[0] = 0;
}
