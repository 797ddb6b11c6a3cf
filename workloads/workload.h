/* Workload sources: anything that yields a stream of events (synthetic
 * generators, trace files, ELF objects). The runner pulls events one at a
 * time, so memory stays proportional to live allocations. A driving
 * workload (jitlink:, whose real JIT linker calls its memory manager)
 * instead calls the run back with each event (struct jm_drive_host). */
#ifndef JITMM_WORKLOAD_H
#define JITMM_WORKLOAD_H

#include <stddef.h>
#include <stdint.h>

#include "../allocators/graph.h"
#include "../allocators/options.h"

enum jm_event_type {
	JM_EV_ALLOC,    /* allocate req (contents written by the harness) */
	JM_EV_FINALIZE, /* finalize graph id */
	JM_EV_FREE,     /* deallocate graph id */
	JM_EV_TRIM,     /* ask the backend to give free memory back */
	JM_EV_MARK,     /* a named phase boundary */
	JM_EV_SYS,      /* a raw memory syscall from a recording (traces) */
};

/* A raw syscall as a recorder saw it (docs/trace-format.md). Replayed only
 * by --replay literal; the model replay ignores it. */
struct jm_sys_event {
	int sys;        /* enum jm_sys (allocators/os.h) */
	uint64_t addr;  /* address argument (mmap: the hint, 0 if none) */
	uint64_t len;
	int prot;       /* mmap/mprotect: PROT_* */
	int flags;      /* mmap: MAP_*; madvise: the advice */
	int64_t ret;    /* mmap: the address; others 0; -errno on failure */
	int64_t vmas;   /* VMA count after the call, -1 if unknown */
};

struct jm_event {
	enum jm_event_type type;
	uint64_t id;
	uint64_t t_ns;  /* 0 if unknown */
	uint32_t tid;   /* 0 if unknown */
	struct jm_graph_req req; /* JM_EV_ALLOC */
	char mark[48];           /* JM_EV_MARK; JM_EV_ALLOC: optional name */
	struct jm_sys_event sys; /* JM_EV_SYS */
};

struct jm_workload;
struct jm_backend;

/* What a driving workload calls for each graph event, instead of being
 * pulled: the run does for it what it does for a pulled event (the same
 * accounting), except writing contents, which the workload's own linker
 * does. */
struct jm_drive_host {
	void *ctx;
	/* Carry ev out on the backend. JM_EV_ALLOC: *out is the allocation
	 * (write/exec per segment, in the request's normalized order) until
	 * the graph's JM_EV_FREE. 0, or -1: the run failed (the host keeps
	 * the reason). */
	int (*event)(void *ctx, const struct jm_event *ev, struct jm_alloc **out);
	/* ev was carried out by the backend's own real manager (an llvm-*
	 * backend the linker uses directly): count it only. */
	int (*observed)(void *ctx, const struct jm_event *ev);
	/* the run's backend (jm_llvm_backend_mm); opened before drive */
	struct jm_backend *backend;
	/* the backend's exec addresses are in another process (its caps) */
	int out_of_process;
	/* code placed by the backend can be called here (not out of process,
	 * protections applied) */
	int can_execute;
};

struct jm_workload_ops {
	const char *kind; /* "synthetic", "trace", ... */
	/* One of the two. next: 1 *ev filled; 0 end of stream; -1 error
	 * (message in w->err). next_ref: the same, with *ev pointing at the
	 * source's own event, valid until the next call (no copy of it). */
	int (*next)(struct jm_workload *w, struct jm_event *ev);
	int (*next_ref)(struct jm_workload *w, const struct jm_event **ev);
	void (*close)(struct jm_workload *w);
	/* Driving workloads (next and next_ref NULL): prepare in the measured child
	 * before the window (load what the work needs; no graph yet), drive
	 * inside it (every graph event through host), release after it and
	 * before the backend is destroyed (free what is still allocated,
	 * through host). 0, or -1 with w->err. */
	int (*prepare)(struct jm_workload *w, const struct jm_drive_host *host);
	int (*drive)(struct jm_workload *w);
	int (*release)(struct jm_workload *w);
};

struct jm_workload {
	const struct jm_workload_ops *ops;
	void *priv;
	char name[64];      /* preset name or kind */
	char spec[320];     /* fully resolved spec, reproducible */
	uint64_t graphs;    /* number of ALLOC events, if known (else 0) */
	uint64_t max_live;  /* upper bound on live graphs, if known (else 0) */
	/* estimated peak of the live graphs' bytes (segments page-rounded),
	 * what a run touches at most; 0 if not known before the run (traces) */
	uint64_t peak_bytes;
	char err[256];
	struct jm_event event; /* jm_workload_next_ref's, for a source with next */
};

/* Open a workload from a spec: a preset name ("llvm-500"),
 * "synthetic:key=value,..." or "preset-name:key=value,..." (overrides).
 * seed (if nonzero) overrides the spec's seed. On error writes a one-line
 * message and returns -1. */
int jm_workload_open(const char *spec, uint64_t seed, struct jm_workload *w,
		     char *err, size_t errlen);
/* Pulled workloads only (jm_workload_drives(w) == 0). */
int jm_workload_next(struct jm_workload *w, struct jm_event *ev);
/* The next event without copying it: *ev is valid until the next call. The
 * replay loop's way (an event is ~350 bytes). */
int jm_workload_next_ref(struct jm_workload *w, const struct jm_event **ev);
void jm_workload_close(struct jm_workload *w);

struct jm_preset {
	const char *name;
	const char *description;
	const char *spec; /* synthetic options */
};
extern const struct jm_preset jm_presets[];
const struct jm_preset *jm_preset_find(const char *name);

/* synthetic generator */
extern const struct jm_option_def jm_synthetic_options[];
int jm_synthetic_open(const struct jm_optvals *opts, struct jm_workload *w,
		      char *err, size_t errlen);

const char *jm_event_type_name(enum jm_event_type t);

/* The workloads justify and validate run unless told otherwise: these
 * presets, then the real traces shipped with jitmm when run from its tree
 * (JM_DEFAULT_TRACES, as trace:FILE). Fills out and returns the count. */
#define JM_DEFAULT_WORKLOADS "llvm-500,julia-linalg-light,julia-linalg-sweep,page-pairs,tvm-load-drop"
#define JM_DEFAULT_TRACES "workloads/traces/{zlib,sqlite3}.jmt"
int jm_default_workloads(char out[][320], int max);

/* trace files (workloads/trace_workload.c): spec "trace:FILE" */
int jm_trace_workload_open(const char *path, struct jm_workload *w, char *err,
			   size_t errlen);

/* LLVM's JIT linker on real objects (workloads/jitlink.c, docs/jitlink.md):
 * spec "jitlink:FILE[:FILE...][,key=value...]"; a driving workload. Opening
 * checks the spec and the files only: the LLVM plugin is loaded by prepare,
 * in the measured child. */
int jm_jitlink_workload_open(const char *args, struct jm_workload *w, char *err,
			     size_t errlen);
/* The options of jitlink:, for `jitmm list workloads` and --help. */
extern const char jm_jitlink_help[];
/* A driving workload (its events come through jm_drive_host)? */
int jm_workload_drives(const struct jm_workload *w);

#endif
