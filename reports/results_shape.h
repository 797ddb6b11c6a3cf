/* The shape of results.json (docs/json-format.md) and the check every
 * reader's tree passes before anything reads it: each documented field has
 * its type, every number is finite and within +-2^53 (what a double holds
 * exactly), every string is UTF-8 without NUL, aggregates are ordered
 * (min <= median <= max, failed <= runs). Fields the format does not name
 * are kept, with the same number and string checks. */
#ifndef JITMM_RESULTS_SHAPE_H
#define JITMM_RESULTS_SHAPE_H

#include <json-c/json.h>
#include <stddef.h>

/* Counts bounded before readers walk them (aggregation and compare sort
 * and match runs and aggregates). */
#define JM_RESULTS_MAX_RUNS 100000
#define JM_RESULTS_MAX_AGGREGATES 100000

/* 0, or -1 with "NAME: JSON.PATH: what is wrong" (one line), e.g.
 * "results.json: runs[3].metrics.vmas_added: expected a number, got a
 * string". */
int jm_results_check(json_object *root, const char *name, char *err, size_t errlen);

#endif
