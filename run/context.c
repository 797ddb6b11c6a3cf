#include "context.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "../allocators/os.h"
#include "../linker/arch.h"
#include "../common/version.h"

void jm_read_line(const char *path, char *buf, size_t len)
{
	buf[0] = 0;
	FILE *f = fopen(path, "r");
	if (!f)
		return;
	if (fgets(buf, (int)len, f))
		buf[strcspn(buf, "\n")] = 0;
	fclose(f);
}

long jm_max_map_count(void)
{
	char buf[64];
	jm_read_line("/proc/sys/vm/max_map_count", buf, sizeof(buf));
	return buf[0] ? strtol(buf, NULL, 10) : -1;
}

/* "always [madvise] never" -> "madvise" */
static void bracketed(const char *s, char *out, size_t len)
{
	const char *a = strchr(s, '['), *b = a ? strchr(a, ']') : NULL;
	if (a && b)
		snprintf(out, len, "%.*s", (int)(b - a - 1), a + 1);
	else
		snprintf(out, len, "%s", s);
}

static void cpu_model(char *out, size_t len)
{
	out[0] = 0;
	FILE *f = fopen("/proc/cpuinfo", "r");
	if (!f)
		return;
	char line[512];
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "model name", 10)) {
			char *c = strchr(line, ':');
			if (c) {
				c++;
				while (*c == ' ')
					c++;
				c[strcspn(c, "\n")] = 0;
				snprintf(out, len, "%s", c);
			}
			break;
		}
	}
	fclose(f);
}

json_object *jm_context_json(void)
{
	json_object *c = json_object_new_object();
	struct utsname u;
	uname(&u);
	char buf[256], tmp[256];
	json_object_object_add(c, "hostname", json_object_new_string(u.nodename));
	json_object_object_add(c, "kernel", json_object_new_string(u.release));
	json_object_object_add(c, "arch", json_object_new_string(jm_arch_name()));
	json_object_object_add(c, "page_size", json_object_new_int64((int64_t)jm_page_size()));
	json_object_object_add(c, "vm_max_map_count", json_object_new_int64(jm_max_map_count()));
	jm_read_line("/proc/sys/vm/overcommit_memory", buf, sizeof(buf));
	json_object_object_add(c, "vm_overcommit_memory", json_object_new_int(atoi(buf)));
	jm_read_line("/sys/kernel/mm/transparent_hugepage/enabled", tmp, sizeof(tmp));
	bracketed(tmp, buf, sizeof(buf));
	json_object_object_add(c, "thp_enabled", json_object_new_string(buf));
	cpu_model(buf, sizeof(buf));
	json_object_object_add(c, "cpu", json_object_new_string(buf));
	json_object_object_add(c, "cpus_online", json_object_new_int((int)sysconf(_SC_NPROCESSORS_ONLN)));
	json_object_object_add(c, "jitmm_version", json_object_new_string(JITMM_VERSION));
	json_object_object_add(c, "jitmm_git_sha", json_object_new_string(JITMM_GIT_SHA));
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	json_object_object_add(c, "date", json_object_new_string(buf));
	json_object_object_add(c, "uid", json_object_new_int((int)getuid()));
	return c;
}
