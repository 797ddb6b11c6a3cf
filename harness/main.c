/* jitmm: a benchmarking and diagnostics harness for JIT code memory
 * managers. This file is only the subcommand table and dispatch. */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "../common/version.h"

const struct jm_command jm_commands[] = {
	{"run", cmd_run, "run backends through workloads and write results and a report"},
	{"list", cmd_list, "list backends, workloads or probes"},
	{"compare", cmd_compare, "compare two results files; exit 1 on regression with --fail-on-regression"},
	{"export", cmd_export, "results.json as Bencher (bmf), github-action-benchmark (gab) or LNT JSON"},
	{"merge", cmd_merge, "join the results of sharded runs (--shard I/N) into one file"},
	{"sweep", cmd_sweep, "run one backend over the values of one option and recommend a value"},
	{"report", cmd_report, "regenerate report.md, report.html and plots from results.json"},
	{"justify", cmd_justify, "baseline vs candidate backend: a Markdown table for a pull request"},
	{"validate", cmd_validate, "each model beside the real LLVM class it models: real, model, error"},
	{"trace", cmd_trace, "trace files: stats, validate, from-elf (real objects)"},
	{"record", cmd_record, "record a live process's memory syscalls (eBPF) as a trace with its graphs"},
	{NULL, NULL, NULL},
};

int jm_bad_option(const char *cmd, char **argv)
{
	/* glibc: optopt is the short option (or a long option's val when its
	 * value is missing, 0 when unknown); optind is past a finished word,
	 * still on a short-option cluster that goes on */
	const char *prev = optind > 0 ? argv[optind - 1] : "?", *cur = argv[optind];
	int in_cluster = cur && cur[0] == '-' && cur[1] != '-' && strchr(cur + 1, optopt);
	char word[64];
	if (optopt > 0 && optopt < 128 && (strncmp(prev, "--", 2) || in_cluster))
		snprintf(word, sizeof(word), "-%c", optopt);
	else
		snprintf(word, sizeof(word), "%s", prev);
	return jm_usage_error("%s: '%s': unknown option, or its value is missing "
			      "(see 'jitmm %s --help')", cmd, word, cmd);
}

int jm_split_specs(const char *text, char out[][320], int max)
{
	int n = 0;
	const char *p = text;
	while (*p) {
		size_t len = strcspn(p, ",");
		char tok[320];
		if (len >= sizeof(tok))
			return -1;
		memcpy(tok, p, len);
		tok[len] = 0;
		const char *colon = strchr(tok, ':'), *eq = strchr(tok, '=');
		if (eq && (!colon || eq < colon) && n > 0) {
			size_t l = strlen(out[n - 1]);
			if (l + len + 2 > 320)
				return -1;
			out[n - 1][l] = ',';
			memcpy(out[n - 1] + l + 1, tok, len + 1);
		} else if (len) {
			if (n >= max)
				return -1;
			memcpy(out[n++], tok, len + 1);
		}
		p += len;
		if (*p == ',')
			p++;
	}
	return n;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: jitmm [--version] [--help] <command> [<args>]\n\n"
		"jitmm drives JIT code memory managers (models of LLVM, Julia and\n"
		"tvm-ffi designs) through JIT workloads in isolated child processes\n"
		"and reports VMAs, memory syscalls, page faults, RSS and time.\n\n"
		"commands:\n");
	for (const struct jm_command *c = jm_commands; c->name; c++)
		fprintf(f, "   %-10s %s\n", c->name, c->summary);
	fprintf(f,
		"\nexamples:\n"
		"   jitmm run                              every backend on the default workloads\n"
		"   jitmm run --backend single-pool,per-prot --workload llvm-500 --json x.json\n"
		"   jitmm trace from-elf /usr/lib/x86_64-linux-gnu/libz.a -o z.jmt\n"
		"   jitmm run --workload trace:z.jmt --backend all\n"
		"   jitmm list backends\n"
		"   jitmm compare base/results.json new/results.json --fail-on-regression\n"
		"   jitmm sweep -b codemodel -P block_bits=16..26 -w llvm-500 --out sweep\n\n"
		"'jitmm <command> --help' describes a command; 'man jitmm' all of them.\n"
		"Exit codes: 0 ok, 1 a run failed or a check/regression failed, 2 usage or\n"
		"input error, 130 interrupted (Ctrl-C; finished runs are still written).\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return JM_EXIT_USAGE;
	}
	const char *cmd = argv[1];
	opterr = 0; /* jm_bad_option says it in one line */
	if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
		if (argc > 2 && strcmp(cmd, "help") == 0) {
			char *args[] = {argv[2], "--help", NULL};
			for (const struct jm_command *c = jm_commands; c->name; c++)
				if (!strcmp(c->name, argv[2]))
					return c->fn(2, args);
		}
		usage(stdout);
		return JM_EXIT_OK;
	}
	if (!strcmp(cmd, "--version") || !strcmp(cmd, "version")) {
		printf("jitmm %s (%s)\n", JITMM_VERSION, JITMM_GIT_SHA);
		return JM_EXIT_OK;
	}
	for (const struct jm_command *c = jm_commands; c->name; c++)
		if (!strcmp(c->name, cmd))
			return c->fn(argc - 1, argv + 1);
	fprintf(stderr, "jitmm: '%s' is not a jitmm command. See 'jitmm --help'.\n", cmd);
	return JM_EXIT_USAGE;
}
