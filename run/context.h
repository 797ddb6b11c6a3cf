/* The machine context every results file carries, so that numbers can be
 * compared and pasted into a review with what produced them. */
#ifndef JITMM_CONTEXT_H
#define JITMM_CONTEXT_H

#include <json-c/json.h>

json_object *jm_context_json(void);
/* Read a small sysfs/procfs file's first line; "" if absent. */
void jm_read_line(const char *path, char *buf, size_t len);
long jm_max_map_count(void);

#endif
