/* A run's total of a metric: what the measured process did plus what its
 * executor process did. shm-mapper and llvm-shm run the JIT'd code in a
 * second process (LLVM's SharedMemoryMapper with an executor): its
 * mappings and memory syscalls are in metrics.vmas_added_other_processes
 * and metrics.backend.executor_*, not in the measured process's counts.
 * Every reader that puts backends side by side takes its numbers from
 * here (the report's tables and summary, the bars plot, compare, export,
 * justify, validate), so an out-of-process backend is never credited with
 * the work it moved elsewhere. */
#ifndef JITMM_RUN_TOTAL_H
#define JITMM_RUN_TOTAL_H

#include <json-c/json.h>

/* Aggregate agg's metric (an aggregate metric name, e.g.
 * "syscalls.mprotect.calls") for both processes: the measured process's
 * median, min and max plus the executor part's. Both parts are exact
 * counts that a deterministic workload repeats exactly, so the sum of the
 * medians is the median of the sums; where they vary, the summed min and
 * max still bound the total. Any pointer may be NULL. -1 if agg has no
 * such metric. */
int jm_total_agg(json_object *agg, const char *metric, double *median, double *min,
		 double *max);
/* The executor's part of agg's metric (its median), 0 when there is none. */
double jm_total_executor(json_object *agg, const char *metric);
/* One run's total (metric as above, read under run.metrics). -1 if absent. */
int jm_total_run(json_object *run, const char *metric, double *v);

#endif
