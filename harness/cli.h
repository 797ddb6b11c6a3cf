/* Subcommands: one file each (cmd_NAME.c), one table in main.c, as perf's
 * builtin-*.c. Each returns the process exit code:
 * 0 ok, 1 a run failed / regression / check failed, 2 usage or input error. */
#ifndef JITMM_CLI_H
#define JITMM_CLI_H

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
/* Split "a,b:k=v,c" into items, keeping k=v tokens with the item before. */
int jm_split_specs(const char *text, char out[][320], int max);

#endif
