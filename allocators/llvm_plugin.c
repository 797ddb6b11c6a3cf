#include "llvm_plugin.h"

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef JITMM_LIBDIR
#define JITMM_LIBDIR "/usr/local/lib/jitmm"
#endif

static int is_file(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

const char *jm_llvm_plugin_default_path(char *buf, size_t len)
{
	const char *env = getenv("JITMM_LLVM_PLUGIN");
	if (env && *env) {
		snprintf(buf, len, "%s", env);
		return buf;
	}
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = 0;
		char *slash = strrchr(exe, '/');
		if (slash) {
			*slash = 0;
			snprintf(buf, len, "%s/build/llvm/jitmm-llvm.so", exe);
			if (is_file(buf))
				return buf;
		}
	}
	snprintf(buf, len, "%s/jitmm-llvm.so", JITMM_LIBDIR);
	return buf;
}

const struct jm_llvm_plugin *jm_llvm_plugin_load(const char *path, char *err,
						 size_t errlen)
{
	static char loaded_path[PATH_MAX];
	static const struct jm_llvm_plugin *loaded;
	char def[PATH_MAX];
	if (!path || !*path)
		path = jm_llvm_plugin_default_path(def, sizeof(def));
	if (loaded) {
		if (!strcmp(path, loaded_path))
			return loaded;
		snprintf(err, errlen, "plugin %s: this process already loaded %s "
			 "(one plugin per run)", path, loaded_path);
		return NULL;
	}
	struct stat st;
	if (stat(path, &st) < 0) {
		snprintf(err, errlen, "LLVM plugin %s: %s (build it with `make` on a "
			 "machine with llvm-22-dev, or `make llvm-plugin LLVM_CONFIG=...`)",
			 path, strerror(errno));
		return NULL;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "LLVM plugin %s: not a regular file", path);
		return NULL;
	}
	void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		const char *e = dlerror();
		snprintf(err, errlen, "LLVM plugin %s: not loadable: %s", path,
			 e ? e : "?");
		return NULL;
	}
	jm_llvm_entry_fn entry = (jm_llvm_entry_fn)(uintptr_t)dlsym(h, JM_LLVM_ENTRY);
	if (!entry) {
		snprintf(err, errlen, "LLVM plugin %s: not a jitmm plugin (no %s)",
			 path, JM_LLVM_ENTRY);
		dlclose(h);
		return NULL;
	}
	const struct jm_llvm_plugin *p = entry(JM_LLVM_ABI_VERSION);
	if (!p || p->abi_version != JM_LLVM_ABI_VERSION ||
	    p->size < sizeof(struct jm_llvm_plugin)) {
		snprintf(err, errlen, "LLVM plugin %s: built for another jitmm "
			 "(plugin ABI %u, this jitmm %u): rebuild it",
			 path, p ? p->abi_version : 0u, JM_LLVM_ABI_VERSION);
		dlclose(h);
		return NULL;
	}
	snprintf(loaded_path, sizeof(loaded_path), "%s", path);
	loaded = p; /* kept loaded for the life of the run */
	return p;
}

struct jm_llvm_mm *jm_llvm_backend_mm(struct jm_backend *b)
{
	(void)b; /* no llvm-* backend is registered yet */
	return NULL;
}
