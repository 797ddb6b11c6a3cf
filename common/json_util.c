#include "json_util.h"

#include <stdio.h>
#include <string.h>

json_object *jm_json_path(json_object *o, const char *path)
{
	char buf[256];
	snprintf(buf, sizeof(buf), "%s", path);
	char *save = NULL;
	for (char *k = strtok_r(buf, ".", &save); k && o; k = strtok_r(NULL, ".", &save)) {
		json_object *next;
		if (!json_object_is_type(o, json_type_object) ||
		    !json_object_object_get_ex(o, k, &next))
			return NULL;
		o = next;
	}
	return o;
}

int jm_json_num(json_object *o, const char *path, double *out)
{
	json_object *v = jm_json_path(o, path);
	if (!v || !(json_object_is_type(v, json_type_int) ||
		    json_object_is_type(v, json_type_double)))
		return -1;
	*out = json_object_get_double(v);
	return 0;
}

const char *jm_json_str(json_object *o, const char *path, const char *def)
{
	json_object *v = jm_json_path(o, path);
	return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : def;
}
