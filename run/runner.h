/* The runner: every (backend, workload, repetition) runs in its own forked
 * child, so that the address space, the VMA count and the counters belong
 * to that run alone and a crashing backend cannot take the harness down.
 * The child measures (measure.c) and reports a JSON run object over a pipe;
 * at its ready point and at the edges of its measurement window it stops
 * and waits for the parent, which lets parent-side probes snapshot. */
#ifndef JITMM_RUNNER_H
#define JITMM_RUNNER_H

#include <json-c/json.h>
#include <stdint.h>

#include "../allocators/backend.h"
#include "../allocators/os.h"
#include "../probes/probe.h"

#define JM_MAX_INJECT 8

struct jm_run_spec {
	struct jm_backend_spec backend;
	char workload[320];
	uint64_t seed;        /* 0: the workload's own */
	unsigned repetition;  /* 0-based */
	int execute;          /* call every rx function after finalize */
	int verify;           /* read contents back after finalize */
	int trim_at_end;      /* trim after the last event, report what it gave */
	int code_model;       /* enum jm_code_model (linker/arch.h) */
	unsigned timeout_s;   /* 0: none */
	unsigned max_samples; /* time-series points, 0: default */
	unsigned threads;     /* concurrent streams against one backend; 0/1: one */
	int replay_literal;   /* replay the trace's raw sys events, not its graphs */
	int even_start;       /* holes reserved, heap grown first (even_start.h) */
	int ninject;
	struct {
		enum jm_sys sys;
		int err;
		uint64_t nth;
	} inject[JM_MAX_INJECT];
};

/* Called by the measuring code at its synchronisation points. */
struct jm_measure_hooks {
	void *ctx;
	void (*ready)(void *ctx);
	void (*window_begin)(void *ctx);
	void (*window_end)(void *ctx);
	void (*progress)(void *ctx, uint64_t graphs_done);
};

/* Measure one run in the calling process. Returns the run's "status",
 * "error" (if failed) and "metrics"/"series"/"marks" in a new object. */
json_object *jm_measure(const struct jm_run_spec *spec,
			const struct jm_measure_hooks *hooks);

/* Fork a child, measure in it, return the complete run object (backend,
 * options, workload, repetition, status, metrics, probe). Never NULL except
 * on allocation failure. */
json_object *jm_run_one(const struct jm_run_spec *spec, struct jm_probe *probe);

/* The fully resolved option values of a backend spec as a JSON object. */
json_object *jm_backend_options_json(const struct jm_backend_spec *b);

#endif
