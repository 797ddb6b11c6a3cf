/* jitmm merge: join the results of `run --shard I/N` pieces. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "../reports/merge.h"
#include "../reports/results.h"
#include "cli.h"

#define MAX_INPUTS 1024

static void merge_usage(FILE *f)
{
	fprintf(f,
		"usage: jitmm merge A.json B.json ... -o ALL.json [--pretty]\n\n"
		"Joins results files written by 'jitmm run --shard I/N' (or 'sweep --shard')\n"
		"into one, runs in matrix order, aggregates recomputed. Refuses inputs whose\n"
		"context (kernel, page size, arch, vm.max_map_count, jitmm version) or\n"
		"configuration (backends, workloads, repeat, seed, probe, ...) differ, shard\n"
		"counts that differ, and runs present twice. A missing shard is reported on\n"
		"stderr; the merge is still written.\n\n"
		"  -o, --out FILE   the merged results file (required; '-': stdout)\n"
		"      --pretty     indent the JSON (default: compact)\n\n"
		"examples:\n"
		"  for i in 1 2 3; do jitmm run --shard $i/3 --json s$i.json; done\n"
		"  jitmm merge s1.json s2.json s3.json -o all.json && jitmm report all.json\n"
		"  (the report goes to all-report/; 'jitmm report all.json -o DIR' chooses)\n\n"
		"Exit codes: 0 ok, 2 usage error, unreadable input or conflicting inputs.\n");
}

int cmd_merge(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"out", required_argument, 0, 'o'},
		{"pretty", no_argument, 0, 'P'},
		{"help", no_argument, 0, 'h'},
		{0, 0, 0, 0},
	};
	const char *out = NULL;
	int pretty = 0;
	optind = 1;
	int c;
	while ((c = getopt_long(argc, argv, "o:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'o': out = optarg; break;
		case 'P': pretty = 1; break;
		case 'h': merge_usage(stdout); return JM_EXIT_OK;
		default: return jm_bad_option("merge", argv);
		}
	}
	int n = argc - optind;
	if (!out || n < 1)
		return jm_usage_error("merge: want A.json ... and -o ALL.json (see 'jitmm merge --help')");
	if (n > MAX_INPUTS)
		return jm_usage_error("merge: at most %d inputs", MAX_INPUTS);
	static json_object *in[MAX_INPUTS];
	static const char *names[MAX_INPUTS];
	char err[1024], note[1024];
	int rc = JM_EXIT_OK, loaded = 0;
	for (int i = 0; i < n; i++) {
		names[i] = argv[optind + i];
		in[i] = jm_results_load(names[i], err, sizeof(err));
		if (!in[i]) {
			rc = jm_usage_error("merge: %s", err);
			goto out;
		}
		loaded++;
	}
	json_object *root = jm_merge(in, names, n, err, sizeof(err), note, sizeof(note));
	if (!root) {
		rc = jm_usage_error("merge: %s", err);
		goto out;
	}
	if (*note)
		fprintf(stderr, "jitmm: merge: note: %s\n", note);
	if (jm_out_results(root, out, NULL, pretty, err, sizeof(err)) < 0)
		rc = jm_usage_error("merge: %s", err);
	else
		fprintf(stderr, "jitmm: merged %d file%s (%zu runs) into %s\n", n, n == 1 ? "" : "s",
			json_object_array_length(jm_json_path(root, "runs")),
			jm_out_is_stdout(out) ? "stdout" : out);
	json_object_put(root);
out:
	for (int i = 0; i < loaded; i++)
		json_object_put(in[i]);
	return rc;
}
