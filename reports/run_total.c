/* A run's total over its processes: see run_total.h. */
#include "run_total.h"

#include <stdio.h>
#include <string.h>

#include "results.h"

/* The metrics an executor process has a part of, and where that part is
 * (allocators/shm_mapper.c and llvm_shm.c report their executor's counts
 * as backend.executor_*; run/measure.c the VMAs it added). */
static const struct {
	const char *metric, *executor;
} parts[] = {
	{"vmas_added", "vmas_added_other_processes"},
	{"syscalls.mmap.calls", "backend.executor_mmap_calls"},
	{"syscalls.mprotect.calls", "backend.executor_mprotect_calls"},
	{"syscalls.munmap.calls", "backend.executor_munmap_calls"},
	{"syscalls.memfd_create.calls", "backend.executor_memfd_create_calls"},
	{"syscalls.ftruncate.calls", "backend.executor_ftruncate_calls"},
};

static const char *executor_part(const char *metric)
{
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
		if (!strcmp(parts[i].metric, metric))
			return parts[i].executor;
	return NULL;
}

int jm_total_agg(json_object *agg, const char *metric, double *median, double *min,
		 double *max)
{
	double v[3], x[3] = {0, 0, 0};
	if (jm_agg_metric(agg, metric, &v[0], &v[1], &v[2]) < 0)
		return -1;
	const char *ex = executor_part(metric);
	if (ex && jm_agg_metric(agg, ex, &x[0], &x[1], &x[2]) == 0)
		for (int i = 0; i < 3; i++)
			v[i] += x[i];
	if (median)
		*median = v[0];
	if (min)
		*min = v[1];
	if (max)
		*max = v[2];
	return 0;
}

double jm_total_executor(json_object *agg, const char *metric)
{
	const char *ex = executor_part(metric);
	double x = 0;
	if (!ex || jm_agg_metric(agg, ex, &x, NULL, NULL) < 0)
		return 0;
	return x;
}

int jm_total_run(json_object *run, const char *metric, double *v)
{
	char path[160];
	snprintf(path, sizeof(path), "metrics.%s", metric);
	if (jm_json_num(run, path, v) < 0)
		return -1;
	const char *ex = executor_part(metric);
	double x;
	if (ex) {
		snprintf(path, sizeof(path), "metrics.%s", ex);
		if (jm_json_num(run, path, &x) == 0)
			*v += x;
	}
	return 0;
}
