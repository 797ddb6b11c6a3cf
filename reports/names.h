/* The name of a configuration, one function for every place one is shown:
 * a report's rows, plot legends, compare's rows, justify's header and the
 * dashboards' benchmark names. A name says what differs from the defaults
 * and nothing else, whole values only, so that it is short, stable across
 * runs of one configuration and distinct between configurations:
 *
 *   backend   single-pool, single-pool:granularity=1G, llvm-mapper[patched]
 *             (a label names an LLVM plugin; test-only options left out)
 *   workload  llvm-500, llvm-500:graphs=50,seed=7, synthetic:graphs=20,
 *             trace:workloads/traces/zlib.jmt
 *   run       threads=8,code_model=large (what differs from run's defaults)
 *   config    WORKLOAD/BACKEND, or WORKLOAD/BACKEND/RUN
 *
 * The defaults come from the results themselves (config.backends[].defaults
 * and test_options, config.workload_defaults, written by run and sweep), so
 * a name does not change when a later jitmm changes a default; results
 * without them (older files) name every option and the whole spec. */
#ifndef JITMM_NAMES_H
#define JITMM_NAMES_H

#include <json-c/json.h>
#include <stddef.h>

#define JM_NAME_MAX 400

/* o: a run or an aggregate (backend, backend_options, workload,
 * workload_spec); root: its results file (for the defaults). */
void jm_name_backend(json_object *root, json_object *o, char *buf, size_t len);
void jm_name_workload(json_object *root, json_object *o, char *buf, size_t len);
void jm_name_run_options(json_object *root, char *buf, size_t len);
void jm_name_config(json_object *root, json_object *o, char *buf, size_t len);
/* The backend name from its parts (justify has no results file): options,
 * defaults (NULL: unknown, every option is named) and test_options (may
 * be NULL), as config.backends[] holds them. */
void jm_name_backend_from(const char *backend, json_object *options, json_object *defaults,
			  json_object *test_options, char *buf, size_t len);

#endif
