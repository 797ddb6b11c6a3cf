/* Dashboard exports of a results model: Bencher Metric Format (bmf),
 * github-action-benchmark customSmallerIsBetter (gab) and LNT's JSON
 * report format version 2 (lnt). Mappings: docs/report-format.md. */
#ifndef JITMM_EXPORT_H
#define JITMM_EXPORT_H

#include <json-c/json.h>

/* A new JSON document in the given format ("bmf", "gab", "lnt"); NULL with
 * a message for an unknown format. */
json_object *jm_export(json_object *root, const char *format, char *err,
		       size_t errlen);

#endif
