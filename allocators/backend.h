/* The backend ops interface. Every memory-manager model is one file under
 * allocators/ that fills a struct jm_backend_ops with designated
 * initializers and is listed once in registry.c (fio's ioengine pattern).
 *
 * Call protocol (what a JIT linker does per LinkGraph):
 *   allocate(req) -> alloc      memory reserved, writable at seg[i].write
 *   <harness writes contents through seg[i].write>
 *   finalize(alloc)             zero-fill, protections, icache: code runs
 *                               at seg[i].exec afterwards
 *   deallocate(alloc)           memory returned to the backend
 * deallocate consumes the allocation even when it fails (as LLVM's
 * deallocate releases the FinalizedAlloc before it reports an error): the
 * caller must not pass it again. destroy returns nothing but may record a
 * failure (a failed munmap: a leaked mapping) with jm_backend_error();
 * jm_backend_close() returns it.
 * All memory syscalls go through the os layer (os.h). */
#ifndef JITMM_BACKEND_H
#define JITMM_BACKEND_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "graph.h"
#include "options.h"

enum jm_backend_cap {
	JM_CAP_FREES = 1u << 0,        /* deallocate returns memory for reuse */
	JM_CAP_DUAL_MAPPED = 1u << 1,  /* write and exec addresses differ */
	JM_CAP_CODE_MODEL = 1u << 2,   /* keeps code within relocation reach */
	JM_CAP_OUT_OF_PROCESS = 1u << 3, /* executor is another process */
	JM_CAP_NO_PROTECT = 1u << 4,   /* applies no protections (null) */
	JM_CAP_TRIM = 1u << 5,         /* trim() can give memory back */
	JM_CAP_THREAD_SAFE = 1u << 6,  /* callable from several threads */
	/* thread-safe as its original, which has a race that can leave a
	 * finalized code segment writable under concurrency (slab-pool) */
	JM_CAP_EXEC_RACE = 1u << 7,
};

struct jm_backend_stats {
	uint64_t va_reserved;      /* bytes of address space held now */
	uint64_t va_reserved_peak;
	uint64_t bytes_mapped;     /* bytes accessible (not PROT_NONE) now */
	uint64_t bytes_mapped_peak;
	uint64_t bytes_live;       /* bytes of live allocations, as laid out */
	uint64_t reservations;     /* reservations/slabs/blocks made */
	uint64_t reach_failures;   /* placements out of the code model's reach */
	/* VMAs the backend added in other processes (an out-of-process
	 * executor); the harness counts only its own process's VMAs */
	uint64_t vmas_other_processes;
	/* that process's VMA count now (its own vm.max_map_count applies);
	 * 0 if there is none */
	uint64_t vmas_other_process_now;
	/* backend-specific counters, reported under metrics.backend */
	int nextra;
	struct {
		const char *name;
		uint64_t value;
	} extra[8];
};

/* A fact about what a backend runs, for the run's results (describe). */
struct jm_backend_fact {
	const char *name;
	char value[256];
};

struct jm_trim_result {
	uint64_t units_released; /* slabs/reservations given back */
	uint64_t bytes_released;
};

struct jm_backend;

struct jm_backend_ops {
	const char *name;
	const char *description;
	const char *models; /* the real code it models, for docs and --help */
	unsigned caps;
	const struct jm_option_def *options; /* NULL-name terminated */

	int (*create)(struct jm_backend *b);
	int (*allocate)(struct jm_backend *b, const struct jm_graph_req *req,
			struct jm_alloc *out);
	int (*finalize)(struct jm_backend *b, struct jm_alloc *a);
	int (*deallocate)(struct jm_backend *b, struct jm_alloc *a);
	int (*trim)(struct jm_backend *b, struct jm_trim_result *out);
	void (*stats)(struct jm_backend *b, struct jm_backend_stats *out);
	void (*destroy)(struct jm_backend *b);
	/* Optional: the protection a finalized segment of this class really
	 * gets (Julia's codemodel puts read-only data in r-x memory). NULL:
	 * jm_class_prot(cls). -1: the backend applies none (null). */
	int (*effective_prot)(const struct jm_backend *b, enum jm_prot_class cls);
	/* Optional, for backends whose execution addresses live in another
	 * process (shm-mapper); NULL: exec addresses are in this process.
	 * exec_pid: the process the exec addresses belong to (0 = this one).
	 * read_exec: copy len bytes at exec into buf, read through the
	 * execution mapping. execute: call the function at exec, store its
	 * return value. Both return 0, or -1 with jm_backend_error(). */
	pid_t (*exec_pid)(struct jm_backend *b);
	int (*read_exec)(struct jm_backend *b, const void *exec, void *buf, size_t len);
	int (*execute)(struct jm_backend *b, const void *exec, uint32_t *ret);
	/* Optional, for a backend that needs what a process loads before it
	 * JITs anything (the LLVM plugin of the llvm-* backends).
	 * available: can it run here? Asked in the parent, which must load
	 * nothing for it: 0 (what it found in note, may be ""), or -1 (why
	 * not in note). prepare: in the measured child before the
	 * measurement window opens, set up what a JIT process has set up
	 * before it JITs (load the plugin, connect an executor); create
	 * finds it ready: 0, or -1 with the reason in err. describe: what it
	 * runs, as facts for the run's results (backend_info); returns how
	 * many it wrote. */
	int (*available)(const struct jm_optvals *opts, char *note, size_t len);
	int (*prepare)(const struct jm_backend_ops *self, const struct jm_optvals *opts,
		       char *err, size_t len);
	int (*describe)(struct jm_backend *b, struct jm_backend_fact *out, int max);
};

/* ops->available, or 0 (with note "") for a backend without one. */
int jm_backend_available(const struct jm_backend_ops *ops, const char *optspec,
			 char *note, size_t len);

/* The protection finalized segments of cls have under backend b. */
int jm_backend_effective_prot(const struct jm_backend *b, enum jm_prot_class cls);

/* An open backend. With --threads every stream calls the ops through a
 * copy of its own made after create (run/measure.c: the err fields below
 * are per stream), so a thread-safe backend keeps everything it changes
 * after create behind priv, never in this struct's own fields. */
struct jm_backend {
	const struct jm_backend_ops *ops;
	struct jm_optvals opts;
	void *priv;
	/* Last error: "mmap: ENOMEM (Cannot allocate memory)" etc. Set by the
	 * backend with jm_backend_error() whenever an op returns -1. */
	char err[256];
	int err_errno;
	const char *err_sys; /* syscall that failed, if one did */
	/* where it failed, if not in this process (an executor): its pid and
	 * its VMA count right after the failure (-1 unknown). Reset by
	 * jm_backend_error(); the backend sets them after it. */
	pid_t err_pid;
	long err_vmas;
};

/* Registry */
extern const struct jm_backend_ops *const jm_backends[];
const struct jm_backend_ops *jm_backend_find(const char *name);
size_t jm_backend_count(void);

/* Lifecycle helpers that wrap the ops (and check the protocol). */
int jm_backend_open(const struct jm_backend_ops *ops, const char *optspec,
		    struct jm_backend *b, char *err, size_t errlen);
/* Destroy b. -1 if destroy recorded a failure (message in b->err). */
int jm_backend_close(struct jm_backend *b);

/* The trim op of a backend that holds nothing it could give back:
 * reports zero units and bytes released. */
int jm_backend_trim_none(struct jm_backend *b, struct jm_trim_result *out);

/* Record a failure: printf-style message; errnum (0 if none) and the name of
 * the failing syscall (NULL if none). Always returns -1. */
int jm_backend_error(struct jm_backend *b, const char *sys, int errnum,
		     const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* A backend spec as given on the command line: "name:key=value,...". */
struct jm_backend_spec {
	const struct jm_backend_ops *ops;
	char optspec[256]; /* the key=value part as given */
};

/* How a spec is named to people: its backend's name, and its label option
 * when it has one ("llvm-mapper[patched]"), so that two plugins of one
 * backend stay apart in progress lines and justify's tables. */
const char *jm_backend_spec_name(const struct jm_backend_spec *s, char *buf, size_t len);

/* Parse "--backend" text into specs. "all" expands to every backend
 * available here (jm_backend_available).
 * Tokens after a backend that contain '=' are that backend's options:
 * "single-pool:granularity=1G,per-prot" is two backends. Returns the count
 * or -1 with a message. */
int jm_backend_spec_parse(const char *text, struct jm_backend_spec *out,
			  int max, char *err, size_t errlen);

#endif
