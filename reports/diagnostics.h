/* The report's diagnostic sections and why a run failed, one line, as
 * every place that says it (report, summary, plots, exports, console). */
#ifndef JITMM_DIAGNOSTICS_H
#define JITMM_DIAGNOSTICS_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdio.h>

/* Why runs failed (the syscall, errno, VMA count), leaked mappings,
 * relocation reach; nothing for a section with nothing to say. */
void jm_report_diagnostics(json_object *root, FILE *out);
/* Why one failed run failed: "mprotect failed with ENOMEM at graph 21817
 * with 65530 VMAs (vm.max_map_count 65530): the process reached
 * vm.max_map_count VMAs", or its message where no syscall failed. */
void jm_failure_why(json_object *run, char *buf, size_t len);

#endif
