#include "syscalls.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char *const sys_names[JM_NSYS] = {
	[JM_SYS_MMAP] = "mmap",
	[JM_SYS_MUNMAP] = "munmap",
	[JM_SYS_MPROTECT] = "mprotect",
	[JM_SYS_MADVISE] = "madvise",
	[JM_SYS_MEMFD_CREATE] = "memfd_create",
	[JM_SYS_FTRUNCATE] = "ftruncate",
	[JM_SYS_PWRITE] = "pwrite64",
};

const char *jm_sys_name(enum jm_sys s)
{
	return (unsigned)s < JM_NSYS ? sys_names[s] : "?";
}

int jm_sys_parse(const char *name, enum jm_sys *out)
{
	for (int i = 0; i < JM_NSYS; i++)
		if (!strcmp(name, sys_names[i])) {
			*out = (enum jm_sys)i;
			return 0;
		}
	if (!strcmp(name, "pwrite")) {
		*out = JM_SYS_PWRITE;
		return 0;
	}
	return -1;
}

void jm_os_diff(const struct jm_os_counters *a, const struct jm_os_counters *b,
		struct jm_os_counters *out)
{
	memset(out, 0, sizeof(*out));
	for (int s = 0; s < JM_NSYS; s++) {
		const struct jm_sys_count *ca = &a->sys[s], *cb = &b->sys[s];
		struct jm_sys_count *co = &out->sys[s];
		co->calls = cb->calls - ca->calls;
		co->errors = cb->errors - ca->errors;
		co->bytes = cb->bytes - ca->bytes;
		int n = 0;
		for (int i = 0; i < JM_OS_MAX_ERRNOS && cb->by_errno[i].err; i++) {
			uint64_t before = 0;
			for (int j = 0; j < JM_OS_MAX_ERRNOS; j++)
				if (ca->by_errno[j].err == cb->by_errno[i].err)
					before = ca->by_errno[j].count;
			if (cb->by_errno[i].count > before) {
				co->by_errno[n].err = cb->by_errno[i].err;
				co->by_errno[n].count = cb->by_errno[i].count - before;
				n++;
			}
		}
	}
}

uint64_t jm_os_total_calls(const struct jm_os_counters *c)
{
	uint64_t t = 0;
	for (int s = 0; s < JM_NSYS; s++)
		t += c->sys[s].calls;
	return t;
}

static const struct {
	const char *name;
	int value;
} errnos[] = {
	{"ENOMEM", ENOMEM}, {"EACCES", EACCES}, {"EPERM", EPERM},
	{"EINVAL", EINVAL}, {"EAGAIN", EAGAIN}, {"EEXIST", EEXIST},
	{"EBADF", EBADF},   {"ENOSPC", ENOSPC}, {"EFAULT", EFAULT},
	{"EIO", EIO},       {"EMFILE", EMFILE}, {"ENFILE", ENFILE},
	{"EFBIG", EFBIG},   {"ENODEV", ENODEV}, {"EOVERFLOW", EOVERFLOW},
	{"ESRCH", ESRCH},
};

const char *jm_errno_name(int err)
{
	for (size_t i = 0; i < sizeof(errnos) / sizeof(errnos[0]); i++)
		if (errnos[i].value == err)
			return errnos[i].name;
	return "E?";
}

int jm_errno_parse(const char *name)
{
	for (size_t i = 0; i < sizeof(errnos) / sizeof(errnos[0]); i++)
		if (!strcmp(errnos[i].name, name))
			return errnos[i].value;
	char *end;
	long v = strtol(name, &end, 10);
	if (*name && !*end && v > 0 && v < 4096)
		return (int)v;
	return 0;
}

const char *jm_probe_sys_name(enum jm_probe_sys s)
{
	static const char *const names[JM_PROBE_NSYS] = {
		"mmap", "munmap", "mprotect", "mremap", "madvise", "brk",
		"memfd_create", "ftruncate", "pwrite64",
	};
	return (unsigned)s < JM_PROBE_NSYS ? names[s] : "?";
}
