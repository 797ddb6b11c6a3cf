/* Subcommands: one file each (cmd_NAME.c), one table in main.c, as perf's
 * builtin-*.c. Each returns the process exit code:
 * 0 ok, 1 a run failed / regression / check failed, 2 usage or input error. */
#ifndef JITMM_CLI_H
#define JITMM_CLI_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdio.h>

#include "../common/exit_codes.h"

struct jm_command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};

extern const struct jm_command jm_commands[];

int cmd_run(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_merge(int argc, char **argv);
int cmd_sweep(int argc, char **argv);
int cmd_justify(int argc, char **argv);
int cmd_validate(int argc, char **argv);
int cmd_trace(int argc, char **argv);
int cmd_record(int argc, char **argv);

/* getopt returned '?' (an unknown option or one without its value): one
 * line naming it and CMD's --help; returns JM_EXIT_USAGE */
int jm_bad_option(const char *cmd, char **argv);
/* A command's output file (-o/--out FILE, --json FILE): "-" (or NULL) is
 * standard output, anything else a file written atomically
 * (common/atomic_write.h), checked before a long run with jm_out_check. */
int jm_out_is_stdout(const char *path);
int jm_out_check(const char *path, char *err, size_t errlen);
int jm_out_write(const char *path, const char *text, size_t len, char *err, size_t errlen);
/* A results model to json_path (may be NULL or "-") and DIR/results.json
 * (out_dir may be NULL): compact, or indented with pretty. */
int jm_out_results(json_object *root, const char *json_path, const char *out_dir, int pretty,
		   char *err, size_t errlen);
/* What run and sweep record in results.json's config beside what they
 * ran, so that reports name a configuration by what differs from the
 * defaults (reports/names.h) without knowing backends or workloads:
 * {name, options, defaults, test_options} of a backend spec, and each
 * preset's (or synthetic's) own spec by name (traces have none). */
struct jm_backend_spec;
json_object *jm_config_backend(const struct jm_backend_spec *b);
json_object *jm_config_workload_defaults(const char (*workloads)[320], int n);
/* Now as ISO 8601 UTC, as context.date: config.finished, when the matrix
 * ended (LNT's end_time). */
json_object *jm_config_now(void);
/* Split "a,b:k=v,c" into items, keeping k=v tokens with the item before. */
int jm_split_specs(const char *text, char out[][320], int max);

#endif
