/* The report for a pull request comment (jitmm report --format pr): the
 * summary of each workload and a table of six columns that fits a ~780 px
 * GitHub comment (backend, VMAs added, ratio, memory syscalls, RSS added,
 * VA reserved), every count the run's total; no plots (a comment cannot
 * link to local files); the context folded into <details>. */
#ifndef JITMM_PR_H
#define JITMM_PR_H

#include <json-c/json.h>
#include <stdio.h>

void jm_report_pr(json_object *root, const char *baseline, FILE *out);

#endif
