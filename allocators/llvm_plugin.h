/* Finding and loading jitmm's LLVM plugin (llvm/jitmm_llvm.h) — in the
 * measured child only: the parent never maps libLLVM, so each run can load
 * a plugin built from a different LLVM tree. */
#ifndef JITMM_LLVM_PLUGIN_H
#define JITMM_LLVM_PLUGIN_H

#include <stddef.h>

#include "../llvm/jitmm_llvm.h"

/* The plugin jitmm uses when none is named: $JITMM_LLVM_PLUGIN, else
 * build/llvm/jitmm-llvm.so beside the jitmm binary, else the installed
 * one (PREFIX/lib/jitmm/jitmm-llvm.so). Writes the path into buf. */
const char *jm_llvm_plugin_default_path(char *buf, size_t len);

/* dlopen path (NULL: the default) and return its table, checked against
 * this jitmm's JM_LLVM_ABI_VERSION; NULL with a one-line reason in err
 * (missing file, not a plugin, another ABI version, a missing entry).
 * Loads at most one plugin per process: a second, different path fails.
 * LLVM's memory syscalls are bound to the os layer (llvm_imports.h). */
const struct jm_llvm_plugin *jm_llvm_plugin_load(const char *path, char *err,
						 size_t errlen);

/* Without loading it (the parent's check): path is a regular file, an ELF
 * shared object for this machine that exports JM_LLVM_ENTRY. 0 with the
 * LLVM version it names (JM_LLVM_VERSION_SYMBOL, "?" if none) in version,
 * or -1 with a one-line reason in err. */
int jm_llvm_plugin_check(const char *path, char *version, size_t vlen, char *err,
			 size_t errlen);

/* The real LLVM manager behind b when b is an llvm-* backend (for the
 * jitlink: workload to link with it directly), NULL for any other backend. */
struct jm_backend;
struct jm_llvm_mm *jm_llvm_backend_mm(struct jm_backend *b);

#endif
