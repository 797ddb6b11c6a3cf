/* results.json: the versioned model every report, compare, export and
 * merge reads. Format: docs/json-format.md. */
#ifndef JITMM_RESULTS_H
#define JITMM_RESULTS_H

#include <json-c/json.h>

#include "../common/json_util.h"

#define JM_SCHEMA_VERSION 1

json_object *jm_results_new(json_object *context, json_object *config);
void jm_results_add_run(json_object *root, json_object *run);
/* (Re)compute "aggregates" from "runs": per (backend, options, workload),
 * median/min/max/mean/stddev of every numeric metric over the runs that
 * are ok. */
void jm_results_aggregate(json_object *root);

/* The group of a run or aggregate, "backend|options|workload_spec"
 * (malloc'd): runs with one key make one aggregate. */
char *jm_group_key(json_object *o);
/* An array's entries grouped by key through a hash table, the groups in
 * the order of their first entry and each group's entries in array order,
 * so that readers find a group in O(1) expected instead of comparing every
 * pair (which took minutes on 20,000 runs): the entries with key K are
 * order[jm_group_index_lower(K)] on while jm_group_index_match; group g is
 * order[start[g] .. start[g + 1]). */
struct jm_group_index {
	size_t n;
	char **key;    /* key of entry i */
	size_t *order; /* entry indexes, grouped */
	size_t *group; /* group of entry i */
	size_t ngroups;
	size_t *start; /* ngroups + 1 offsets into order */
	size_t *slot;  /* hash table: a group's first entry + 1, 0 empty */
	size_t nslots; /* a power of two, at least 2n */
};
void jm_group_index_build(json_object *arr, struct jm_group_index *ix);
size_t jm_group_index_lower(const struct jm_group_index *ix, const char *key);
int jm_group_index_match(const struct jm_group_index *ix, size_t pos, const char *key);
void jm_group_index_free(struct jm_group_index *ix);
/* results.json as text ending in a newline (malloc'd, *len bytes):
 * compact, as jitmm writes it unless told --pretty (indented). */
char *jm_results_text(json_object *root, int pretty, size_t *len);
/* The compact text written atomically to path. */
int jm_results_write(json_object *root, const char *path, char *err,
		     size_t errlen);
/* Inputs are bounded: size and nesting depth (counts: results_shape.h).
 * Loaded, a file takes about 18 times its size in memory as jitmm writes
 * it (compact) and 8 times indented (json-c's objects), so at most about
 * 4.5 GiB; one run of 20,000 graphs is ~35 KB of results (measured in
 * docs/json-format.md). */
#define JM_RESULTS_MAX_BYTES (256u << 20)
#define JM_RESULTS_MAX_DEPTH 64

/* The one loader every reader uses (results_load.c): a regular file of at
 * most JM_RESULTS_MAX_BYTES ("-": standard input, a pipe too, with the same
 * bound), strict JSON, every field of the documented shape checked
 * (results_shape.h). NULL with a one-line message naming the file (or
 * "stdin") and the line or JSON path. */
json_object *jm_results_load(const char *path, char *err, size_t errlen);
/* The same from memory (name is used in messages): what the fuzz target
 * tests/fuzz/fuzz_results.c drives. */
json_object *jm_results_parse(const char *buf, size_t len, const char *name,
			      char *err, size_t errlen);

/* jm_json_path, jm_json_num, jm_json_str: common/json_util.h */
/* Appends option object o as "k=v,k=v" to the text in buf, the first pair
 * preceded by lead (e.g. "", " ", ":"). Stops at the first pair that does
 * not fit (buf stays terminated); appends nothing unless o is an object. */
void jm_options_append(json_object *o, const char *lead, char *buf, size_t len);

/* A number for JSON: an integer as one, anything else in the fewest
 * digits that read back as the same double. */
json_object *jm_json_number(double v);

/* Aggregate lookup: metric median/min/max of one aggregate entry. */
int jm_agg_metric(json_object *agg, const char *metric, double *median,
		  double *min, double *max);
/* Its mean and sample standard deviation (aggregates from before they
 * were recorded have none: -1). */
int jm_agg_spread(json_object *agg, const char *metric, double *mean, double *stddev);

#endif
