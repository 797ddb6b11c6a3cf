/* Reading json-c trees: "a.b.c" paths into nested objects, numbers and
 * strings with a default. */
#ifndef JITMM_JSON_UTIL_H
#define JITMM_JSON_UTIL_H

#include <json-c/json.h>

json_object *jm_json_path(json_object *o, const char *path);
int jm_json_num(json_object *o, const char *path, double *out);
const char *jm_json_str(json_object *o, const char *path, const char *def);

#endif
