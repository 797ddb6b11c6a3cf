#include "procfs_sample.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static int open_proc(pid_t pid, const char *file)
{
	char path[64];
	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	else
		snprintf(path, sizeof(path), "/proc/self/%s", file);
	return open(path, O_RDONLY | O_CLOEXEC);
}

long jm_vma_count(pid_t pid)
{
	int fd = open_proc(pid, "maps");
	if (fd < 0)
		return -1;
	/* Count newlines; a line naming [vsyscall] is subtracted. The buffer
	 * lives on the stack so sampling allocates nothing. */
	char buf[65536];
	long lines = 0, vsyscall = 0;
	char tail[16] = "";
	ssize_t n;
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < n; i++)
			if (buf[i] == '\n')
				lines++;
		/* [vsyscall] is the last line; look for it in the final
		 * chunk (plus the tail of the previous one) */
		char window[sizeof(tail) + sizeof(buf) + 1];
		size_t tl = strlen(tail);
		size_t take = n > 64 ? 64 : (size_t)n;
		memcpy(window, tail, tl);
		memcpy(window + tl, buf + n - take, take);
		window[tl + take] = 0;
		vsyscall = strstr(window, "[vsyscall]") != NULL;
		size_t keep = take < sizeof(tail) - 1 ? take : sizeof(tail) - 1;
		memcpy(tail, buf + n - keep, keep);
		tail[keep] = 0;
	}
	close(fd);
	if (n < 0)
		return -1;
	return lines - vsyscall;
}

static ssize_t read_small(pid_t pid, const char *file, char *buf, size_t len)
{
	int fd = open_proc(pid, file);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, len - 1);
	close(fd);
	if (n >= 0)
		buf[n] = 0;
	return n;
}

uint64_t jm_rss_statm(pid_t pid)
{
	char buf[256];
	if (read_small(pid, "statm", buf, sizeof(buf)) <= 0)
		return 0;
	unsigned long size, resident;
	if (sscanf(buf, "%lu %lu", &size, &resident) != 2)
		return 0;
	return (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE);
}

uint64_t jm_rss_rollup(pid_t pid)
{
	char buf[4096];
	if (read_small(pid, "smaps_rollup", buf, sizeof(buf)) <= 0)
		return jm_rss_statm(pid);
	const char *p = strstr(buf, "\nRss:");
	if (!p)
		return jm_rss_statm(pid);
	return strtoull(p + 5, NULL, 10) * 1024;
}

void jm_faults_self(uint64_t *minor, uint64_t *major)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	*minor = (uint64_t)ru.ru_minflt;
	*major = (uint64_t)ru.ru_majflt;
}
