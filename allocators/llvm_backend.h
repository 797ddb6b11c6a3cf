/* The llvm-* backends: jitmm's backend ops over the real LLVM memory
 * managers of the plugin (llvm/jitmm_llvm.h). Each is one file naming its
 * kind and options (llvm_inprocess.c, llvm_mapper.c, llvm_shm.c,
 * llvm_section.c); everything else is here.
 *
 * The plugin is loaded in the measured child only (prepare, before the
 * window); the parent checks the file without loading it (available).
 * LLVM's memory syscalls go through the os layer (llvm_imports.h), so
 * metrics.syscalls, the fault injector and the stats below see them as
 * they see a model's: va_reserved and bytes_mapped are the bytes LLVM
 * mapped minus those it unmapped since create (peaks sampled after each
 * operation), reservations its successful mmaps, bytes_live the live
 * graphs' segments rounded to pages as JITLink lays them out. */
#ifndef JITMM_LLVM_BACKEND_H
#define JITMM_LLVM_BACKEND_H

#include "backend.h"

/* The options every llvm-* backend has, first in its table. */
#define JM_LLVM_BACKEND_OPTIONS                                                  \
	{"plugin", JM_OPT_TEXT, "default", NULL,                                 \
	 "the jitmm LLVM plugin to load (default: $JITMM_LLVM_PLUGIN, else "     \
	 "build/llvm/jitmm-llvm.so beside jitmm, else the installed one)", 0, 0}, \
	{"label", JM_OPT_NAME, "", NULL,                                         \
	 "a name that keeps this plugin's runs apart in reports (e.g. patched)", \
	 0, 0}

/* The plugin's manager of the kind the backend's name gives (llvm-KIND),
 * with its options but plugin and label ("granularity=1073741824"): the
 * one prepare made before the window when there is one. */
int jm_llvm_backend_create(struct jm_backend *b);

int jm_llvm_backend_allocate(struct jm_backend *b, const struct jm_graph_req *req,
			     struct jm_alloc *out);
int jm_llvm_backend_finalize(struct jm_backend *b, struct jm_alloc *a);
/* deallocate, or abandon when a was never finalized */
int jm_llvm_backend_deallocate(struct jm_backend *b, struct jm_alloc *a);
void jm_llvm_backend_stats(struct jm_backend *b, struct jm_backend_stats *out);
void jm_llvm_backend_destroy(struct jm_backend *b);
int jm_llvm_backend_available(const struct jm_optvals *opts, char *note, size_t len);
/* Load the plugin and make the manager (llvm-shm: fork and connect the
 * executor), before the window. */
int jm_llvm_backend_prepare(const struct jm_backend_ops *self, const struct jm_optvals *opts,
			    char *err, size_t len);
int jm_llvm_backend_describe(struct jm_backend *b, struct jm_backend_fact *out, int max);
/* for a manager in another process (llvm-shm) */
pid_t jm_llvm_backend_exec_pid(struct jm_backend *b);
int jm_llvm_backend_read_exec(struct jm_backend *b, const void *exec, void *buf,
			      size_t len);
int jm_llvm_backend_execute(struct jm_backend *b, const void *exec, uint32_t *ret);

/* The ops every llvm-* backend shares, for its designated initializer. */
#define JM_LLVM_BACKEND_OPS                                \
	.create = jm_llvm_backend_create,                  \
	.allocate = jm_llvm_backend_allocate,              \
	.finalize = jm_llvm_backend_finalize,              \
	.deallocate = jm_llvm_backend_deallocate,          \
	.trim = jm_backend_trim_none,                      \
	.stats = jm_llvm_backend_stats,                    \
	.destroy = jm_llvm_backend_destroy,                \
	.available = jm_llvm_backend_available,            \
	.prepare = jm_llvm_backend_prepare,                \
	.describe = jm_llvm_backend_describe

#endif
