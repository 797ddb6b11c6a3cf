/* jitmm list backends|workloads|probes */
#include <stdio.h>
#include <string.h>

#include "../allocators/backend.h"
#include "../probes/probe.h"
#include "../workloads/workload.h"
#include "cli.h"

static void list_usage(FILE *f)
{
	fprintf(f,
		"usage: jitmm list backends|workloads|probes\n\n"
		"  backends    every backend with what it models, its capabilities\n"
		"              and its options with defaults (--backend NAME:key=value);\n"
		"              for the llvm-* backends, the LLVM plugin they would load\n"
		"              and its LLVM version, or why they cannot run here\n"
		"  workloads   the workload presets and the synthetic generator's options\n"
		"  probes      the probes and whether each can run here\n\n"
		"examples:\n"
		"  jitmm list backends\n"
		"  jitmm list workloads\n\n"
		"Exit codes: 0 ok, 2 usage error.\n");
}

static void print_options(const struct jm_option_def *o, const char *indent)
{
	for (; o && o->name; o++) {
		char def[64];
		snprintf(def, sizeof(def), "%s", o->def);
		printf("%s%-16s default %-8s %s%s%s%s\n", indent, o->name, def, o->help,
		       o->choices ? " (" : "", o->choices ? o->choices : "",
		       o->choices ? ")" : "");
	}
}

static const char *caps_text(unsigned caps, char *buf, size_t len)
{
	static const struct { unsigned bit; const char *name; } names[] = {
		{JM_CAP_FREES, "frees"}, {JM_CAP_DUAL_MAPPED, "dual-mapped"},
		{JM_CAP_CODE_MODEL, "code-model-aware"},
		{JM_CAP_OUT_OF_PROCESS, "out-of-process"},
		{JM_CAP_NO_PROTECT, "no-protections"}, {JM_CAP_TRIM, "trims"},
		{JM_CAP_THREAD_SAFE, "thread-safe"},
		{JM_CAP_EXEC_RACE, "concurrent-exec-race"},
	};
	buf[0] = 0;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (caps & names[i].bit) {
			if (buf[0])
				strncat(buf, ", ", len - strlen(buf) - 1);
			strncat(buf, names[i].name, len - strlen(buf) - 1);
		}
	return buf[0] ? buf : "none";
}

int cmd_list(int argc, char **argv)
{
	if (argc < 2) {
		list_usage(stderr);
		return JM_EXIT_USAGE;
	}
	const char *what = argv[1];
	if (!strcmp(what, "--help") || !strcmp(what, "-h")) {
		list_usage(stdout);
		return JM_EXIT_OK;
	}
	if (!strcmp(what, "backends")) {
		for (size_t i = 0; jm_backends[i]; i++) {
			const struct jm_backend_ops *b = jm_backends[i];
			char caps[200];
			printf("%-14s %s\n", b->name, b->description);
			printf("%-14s models: %s\n", "", b->models);
			printf("%-14s capabilities: %s\n", "", caps_text(b->caps, caps, sizeof(caps)));
			/* the llvm-* backends' plugin, read from its file (never loaded here) */
			char note[600];
			if (b->available) {
				int ok = jm_backend_available(b, "", note, sizeof(note)) == 0;
				printf("%-14s %s%s\n", "", ok ? "available: " : "unavailable: ", note);
			}
			print_options(b->options, "                 ");
		}
		return JM_EXIT_OK;
	}
	if (!strcmp(what, "workloads")) {
		for (const struct jm_preset *p = jm_presets; p->name; p++) {
			printf("%-20s %s\n", p->name, p->description);
			printf("%-20s = synthetic:%s\n", "", p->spec);
		}
		printf("%-20s a trace file (docs/trace-format.md; .xz and .zst read directly),\n"
		       "%-20s e.g. trace:workloads/traces/zlib.jmt (real zlib objects)\n",
		       "trace:FILE", "");
		printf("\n%s", jm_jitlink_help);
		printf("\nsynthetic:key=value,... (or PRESET:key=value,... to override) options:\n");
		print_options(jm_synthetic_options, "  ");
		return JM_EXIT_OK;
	}
	if (!strcmp(what, "probes")) {
		for (size_t i = 0; jm_probes[i]; i++) {
			char why[256] = "";
			int ok = !jm_probes[i]->available || jm_probes[i]->available(why, sizeof(why)) == 0;
			printf("%-8s %s\n%-8s %s%s\n", jm_probes[i]->name, jm_probes[i]->description,
			       "", ok ? "available" : "unavailable: ", ok ? "" : why);
		}
		printf("auto     the first available of the above, in this order\n");
		return JM_EXIT_OK;
	}
	return jm_usage_error("list: unknown list '%s' (backends, workloads, probes)", what);
}
