/* The patch-justification table (jitmm justify): baseline vs candidate on
 * a set of workloads, median over repetitions, one compact Markdown table
 * (a row per workload, a column per metric that changed anywhere, each
 * cell "baseline → candidate (reduction)", regressions in bold and named
 * below), then the machine context and the command that reproduces it.
 * Format: docs/justify.md. */
#ifndef JITMM_JUSTIFY_H
#define JITMM_JUSTIFY_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdio.h>

enum jm_justify_metric {
	JM_JUSTIFY_VMAS,     /* metrics.vmas_added */
	JM_JUSTIFY_MPROTECT, /* metrics.syscalls.mprotect.calls */
	JM_JUSTIFY_RSS,      /* metrics.rss_added_bytes */
	JM_JUSTIFY_REACH,    /* metrics.reach_failures (if the backend tracks it) */
	JM_JUSTIFY_NMETRIC
};

#define JM_JUSTIFY_MAX_REPEAT 100

/* One backend's runs of one workload. */
struct jm_justify_side {
	int runs, ok;
	int untracked; /* reach: the backend does not report it */
	double v[JM_JUSTIFY_NMETRIC][JM_JUSTIFY_MAX_REPEAT];
};

struct jm_justify_row {
	char workload[320];
	struct jm_justify_side side[2]; /* 0 baseline, 1 candidate */
};

struct jm_justify {
	char name[2][400];      /* names.h: backend, label, non-default options */
	int repeat, warmup;
	int nrows;
	struct jm_justify_row *rows;
	json_object *context;   /* jm_context_json() (borrowed) */
	const char *probe;
	const char *command;    /* the reproducing command line */
	/* an llvm-* side's real LLVM: "LLVM 22.1.8, plugin PATH" ("" if none) */
	char llvm[2][600];
};

/* Add one run object (from jm_run_one) to side s of row r (and what LLVM
 * it ran, from its backend_info, to j). */
void jm_justify_add_run(struct jm_justify *j, struct jm_justify_row *r, int s,
			json_object *run);
/* "110.5x fewer (-99.1%)", "1.2x more (+20.0%)", "none", "-100%". */
void jm_justify_reduction(double base, double cand, char *buf, size_t len);
void jm_justify_markdown(const struct jm_justify *j, FILE *f);
/* Quote one argument for a POSIX shell only if it needs it. */
void jm_shell_quote(const char *arg, char *buf, size_t len);

#endif
