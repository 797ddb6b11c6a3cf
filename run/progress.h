/* Progress on stderr, only when stderr is a terminal and not --quiet:
 * "[3/12] single-pool on llvm-500: 1024/5000 graphs, 4 s, all runs 2 min"
 * (the ETA of this run, then of the whole matrix; no escape codes when
 * TERM=dumb). Also the
 * SIGINT/SIGTERM flag the runner checks to stop cleanly. */
#ifndef JITMM_PROGRESS_H
#define JITMM_PROGRESS_H

#include <stdint.h>

void progress_init(int quiet);
int progress_enabled(void);
void progress_run_start(unsigned index, unsigned total, const char *backend,
			const char *workload, uint64_t graphs);
void progress_graphs(uint64_t done);
void progress_run_end(void);
/* install SIGINT/SIGTERM handlers that set the flag */
void progress_catch_signals(void);
int progress_interrupted(void);

#endif
