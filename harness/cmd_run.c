/* jitmm run: the matrix backends x workloads x repetitions, each run in its
 * own child; results.json, report.md and a table on stdout. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../allocators/backend.h"
#include "../allocators/os.h"
#include "../probes/ebpf.h"
#include "../probes/probe.h"
#include "../common/atomic_write.h"
#include "../reports/markdown.h"
#include "../reports/merge.h"
#include "../reports/report_dir.h"
#include "../reports/results.h"
#include "../reports/results_shape.h"
#include "../workloads/workload.h"
#include "../linker/arch.h"
#include "cli.h"
#include "../run/context.h"
#include "../run/progress.h"
#include "../run/run_cell.h"
#include "../run/runner.h"

#define MAX_BACKENDS 64
#define MAX_WORKLOADS 32
/* run's default workloads: the report a newcomer sees first has synthetic
 * shapes, a long-running JIT that frees and reuses (churn) and real
 * objects (the shipped sqlite3 trace; `make run`, well under a minute) */
#define RUN_WORKLOADS "llvm-500,page-pairs,churn"
#define RUN_TRACE "workloads/traces/sqlite3.jmt"

static void run_usage(FILE *f)
{
	fprintf(f,
		"usage: jitmm run [options]\n\n"
		"Runs every (backend, workload, repetition) in its own child process and\n"
		"prints the comparison table on stdout (Markdown). With --out, writes\n"
		"DIR/results.json, DIR/report.md, DIR/report.html and DIR/plots/ (gnuplot);\n"
		"with --json, writes the results there ('-': on stdout, instead of the table).\n\n"
		"  -b, --backend LIST     backends, comma separated, each NAME[:key=value,...];\n"
		"                         'all' = every backend that can run here (default: all;\n"
		"                         'jitmm list backends' says why one cannot)\n"
		"  -w, --workload SPEC    preset name, PRESET:key=value,... or synthetic:key=value,...;\n"
		"                         trace:FILE; jitlink:FILE[:FILE...][,key=value...] (LLVM's\n"
		"                         JIT linker on real objects: docs/jitlink.md);\n"
		"                         comma separated or repeated (default: " RUN_WORKLOADS ",\n"
		"                         and trace:" RUN_TRACE " when run from the\n"
		"                         jitmm tree: synthetic shapes, churn that frees and\n"
		"                         reuses, real sqlite3 objects)\n"
		"  -r, --repeat N         repetitions of each run (default 3: a median, a range\n"
		"                         and a spread to judge it by)\n"
		"      --warmup N         runs of each (backend, workload) before its\n"
		"                         repetitions, results dropped (default 1)\n"
		"  -p, --probe NAME       auto|ebpf|procfs (default auto: ebpf if it loads)\n"
		"      --events FILE      save the probe's per-syscall event stream (ebpf;\n"
		"                         format in docs/events-format.md)\n"
		"      --fault-classes    ebpf: also split page faults by the protection of\n"
		"                         the faulting VMA (rx/ro/rw/other; ~5 us per fault)\n"
		"  -o, --out DIR          write DIR/results.json, report.md, report.html, plots/\n"
		"  -j, --json FILE        write the results JSON to FILE ('-': stdout)\n"
		"      --pretty           indent the JSON (default: compact)\n"
		"  -s, --seed N           override every workload's seed\n"
		"      --baseline NAME    backend the ratios are relative to, one of those run\n"
		"                         (default single-pool)\n"
		"      --verify           read every segment back after finalize\n"
		"      --execute          also call every graph's code after finalize (linked\n"
		"                         code: RIP-relative loads, calls into earlier graphs)\n"
		"      --host MODE        auto (default): detect as LLVM does whether this\n"
		"                         host refuses exec mprotects (PaX MPROTECT,\n"
		"                         SELinux deny_execmem); hardened: model one (the\n"
		"                         LLVM-based backends change protections to or from\n"
		"                         exec with memfd + write + mmap(MAP_FIXED));\n"
		"                         normal: plain mprotect\n"
		"      --code-model M     small (32-bit PC-relative relocations, default) or\n"
		"                         large (64-bit absolute addresses: no data/call reach limit)\n"
		"      --trim-at-end      trim after the last event and report what it freed\n"
		"      --timeout S        kill a run after S seconds (default 600, 0 = none)\n"
		"      --inject SPEC      fail the Nth call of a syscall: SYSCALL:ERRNO@N\n"
		"                         (e.g. mmap:ENOMEM@3); repeatable\n"
		"  -t, --threads N        replay N independent streams of each workload\n"
		"                         concurrently against one backend instance (each\n"
		"                         stream its own seed: seed+i); thread-safe backends only\n"
		"      --replay MODE      model (default): graph events drive the backend;\n"
		"                         literal: a trace's raw sys events are replayed as\n"
		"                         recorded (mmap/mprotect/munmap/madvise), graphs skipped\n"
		"      --shard I/N        run only matrix cells k with k %% N == I-1 (1-based I),\n"
		"                         for spreading a matrix over machines; join the\n"
		"                         pieces with 'jitmm merge'\n"
		"      --max-samples N    time-series points per run (default 400)\n"
		"  -q, --quiet            no progress on stderr\n\n"
		"examples:\n"
		"  jitmm run --out out\n"
		"  jitmm run --backend single-pool --workload llvm-500 --json x.json\n"
		"  jitmm run -b single-pool:granularity=1G,inprocess -w page-pairs:graphs=2000 -r 5\n"
		"  jitmm run -b all -w synthetic:graphs=1000,free=cycles,cycles=10 --execute\n"
		"  jitmm run -b all -w trace:workloads/traces/zlib.jmt\n"
		"  jitmm run -b single-pool,inprocess -w churn --threads 8\n"
		"  jitmm run -b inprocess,single-pool -w llvm-500 --host hardened\n"
		"  jitmm run -b null -w trace:rec.jmt --replay literal --json lit.json\n"
		"  sudo jitmm run --probe ebpf -b single-pool -w llvm-500 --events ev.txt\n\n"
		"Exit codes: 0 every run ok, 1 a run failed, 2 usage or input error,\n"
		"130 interrupted (finished runs and their report are still written).\n");
}

enum { OPT_BASELINE = 256, OPT_VERIFY, OPT_EXECUTE, OPT_TRIM, OPT_TIMEOUT,
       OPT_INJECT, OPT_MAX_SAMPLES, OPT_REPLAY, OPT_SHARD, OPT_CODE_MODEL, OPT_EVENTS,
       OPT_FAULT_CLASSES, OPT_HOST, OPT_PRETTY, OPT_WARMUP };

static json_object *str_array(char items[][320], int n)
{
	json_object *a = json_object_new_array();
	for (int i = 0; i < n; i++)
		json_object_array_add(a, json_object_new_string(items[i]));
	return a;
}

/* 'all' leaves out the backends that cannot run here (an llvm-* backend
 * without its plugin): say which and why, once, rather than let a table
 * silently lack rows. */
static void note_unavailable(void)
{
	for (size_t i = 0; jm_backends[i]; i++) {
		char why[600];
		if (jm_backend_available(jm_backends[i], "", why, sizeof(why)) < 0)
			fprintf(stderr, "jitmm: run: 'all' leaves out %s: %s\n",
				jm_backends[i]->name, why);
	}
}

int cmd_run(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"backend", required_argument, 0, 'b'},
		{"workload", required_argument, 0, 'w'},
		{"repeat", required_argument, 0, 'r'},
		{"probe", required_argument, 0, 'p'},
		{"out", required_argument, 0, 'o'},
		{"json", required_argument, 0, 'j'},
		{"seed", required_argument, 0, 's'},
		{"quiet", no_argument, 0, 'q'},
		{"help", no_argument, 0, 'h'},
		{"baseline", required_argument, 0, OPT_BASELINE},
		{"verify", no_argument, 0, OPT_VERIFY},
		{"execute", no_argument, 0, OPT_EXECUTE},
		{"trim-at-end", no_argument, 0, OPT_TRIM},
		{"timeout", required_argument, 0, OPT_TIMEOUT},
		{"inject", required_argument, 0, OPT_INJECT},
		{"max-samples", required_argument, 0, OPT_MAX_SAMPLES},
		{"threads", required_argument, 0, 't'},
		{"replay", required_argument, 0, OPT_REPLAY},
		{"shard", required_argument, 0, OPT_SHARD},
		{"code-model", required_argument, 0, OPT_CODE_MODEL},
		{"events", required_argument, 0, OPT_EVENTS},
		{"fault-classes", no_argument, 0, OPT_FAULT_CLASSES},
		{"host", required_argument, 0, OPT_HOST},
		{"pretty", no_argument, 0, OPT_PRETTY},
		{"warmup", required_argument, 0, OPT_WARMUP},
		{0, 0, 0, 0},
	};
	static struct jm_backend_spec backends[MAX_BACKENDS];
	static char workloads[MAX_WORKLOADS][320];
	char backend_text[1024] = "";
	int nworkloads = 0, quiet = 0, baseline_given = 0;
	uint64_t repeat = 3, warmup = 1, seed = 0, timeout = 600, max_samples = 0;
	const char *probe_name = "auto", *out_dir = NULL, *json_path = NULL;
	const char *baseline = "single-pool";
	const char *shard_text = NULL;
	unsigned shard_i = 0, shard_n = 0;
	const char *events_path = NULL;
	int fault_classes = 0, pretty = 0;
	const char *host_opt = "auto";
	struct jm_run_spec base = {0};
	char err[512];

	optind = 1;
	int c;
	while ((c = getopt_long(argc, argv, "b:w:r:p:o:j:s:t:qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'b':
			if (strlen(backend_text) + strlen(optarg) + 2 > sizeof(backend_text))
				return jm_usage_error("run: --backend: list too long");
			if (backend_text[0])
				strcat(backend_text, ",");
			strcat(backend_text, optarg);
			break;
		case 'w': {
			int n = jm_split_specs(optarg, workloads + nworkloads,
					       MAX_WORKLOADS - nworkloads);
			if (n < 0)
				return jm_usage_error("run: --workload: too many or too long");
			nworkloads += n;
			break;
		}
		case 'r':
			if (jm_parse_u64(optarg, &repeat) < 0 || repeat < 1 || repeat > 10000)
				return jm_usage_error("run: --repeat: '%s' is not a count in [1, 10000]", optarg);
			break;
		case 'p': probe_name = optarg; break;
		case 'o': out_dir = optarg; break;
		case 'j': json_path = optarg; break;
		case 's':
			if (jm_parse_u64(optarg, &seed) < 0 || seed == 0)
				return jm_usage_error("run: --seed: '%s' is not a positive integer", optarg);
			break;
		case 'q': quiet = 1; break;
		case 't': {
			uint64_t n;
			if (jm_parse_u64(optarg, &n) < 0 || n < 1 || n > 256)
				return jm_usage_error("run: --threads: '%s' is not a count in [1, 256]", optarg);
			base.threads = (unsigned)n;
			break;
		}
		case OPT_REPLAY:
			if (!strcmp(optarg, "literal"))
				base.replay_literal = 1;
			else if (strcmp(optarg, "model"))
				return jm_usage_error("run: --replay: '%s' is not model or literal", optarg);
			break;
		case 'h': run_usage(stdout); return JM_EXIT_OK;
		case OPT_BASELINE: baseline = optarg; baseline_given = 1; break;
		case OPT_VERIFY: base.verify = 1; break;
		case OPT_EXECUTE: base.execute = 1; break;
		case OPT_TRIM: base.trim_at_end = 1; break;
		case OPT_CODE_MODEL: {
			enum jm_code_model cm;
			if (jm_code_model_parse(optarg, &cm) < 0)
				return jm_usage_error("run: --code-model: '%s' is not small or large", optarg);
			base.code_model = (int)cm;
			break;
		}
		case OPT_TIMEOUT:
			if (jm_parse_u64(optarg, &timeout) < 0 || timeout > 86400 * 7)
				return jm_usage_error("run: --timeout: '%s' is not seconds", optarg);
			break;
		case OPT_EVENTS: events_path = optarg; break;
		case OPT_FAULT_CLASSES: fault_classes = 1; break;
		case OPT_PRETTY: pretty = 1; break;
		case OPT_WARMUP:
			if (jm_parse_u64(optarg, &warmup) < 0 || warmup > 100)
				return jm_usage_error("run: --warmup: '%s' is not a count in [0, 100]", optarg);
			break;
		case OPT_HOST:
			if (strcmp(optarg, "auto") && strcmp(optarg, "normal") &&
			    strcmp(optarg, "hardened"))
				return jm_usage_error("run: --host: '%s' is not auto, normal or hardened", optarg);
			host_opt = optarg;
			break;
		case OPT_MAX_SAMPLES:
			if (jm_parse_u64(optarg, &max_samples) < 0 || max_samples < 2 || max_samples > 100000)
				return jm_usage_error("run: --max-samples: '%s' is not in [2, 100000]", optarg);
			break;
		case OPT_SHARD:
			if (jm_shard_parse(optarg, &shard_i, &shard_n) < 0)
				return jm_usage_error("run: --shard: '%s' is not I/N with 1 <= I <= N", optarg);
			shard_text = optarg;
			break;
		case OPT_INJECT:
			if (base.ninject >= JM_MAX_INJECT)
				return jm_usage_error("run: --inject: at most %d", JM_MAX_INJECT);
			if (jm_os_inject_parse(optarg, &base.inject[base.ninject].sys,
					       &base.inject[base.ninject].err,
					       &base.inject[base.ninject].nth) < 0)
				return jm_usage_error("run: --inject: '%s' is not SYSCALL:ERRNO@N "
						      "(e.g. mmap:ENOMEM@3)", optarg);
			base.ninject++;
			break;
		default: return jm_bad_option("run", argv);
		}
	}
	if (optind < argc)
		return jm_usage_error("run: unexpected argument '%s'", argv[optind]);
	/* it is kept in results.json, which must pass its own loader */
	if (events_path && jm_text_check(events_path, "--events", err, sizeof(err)) < 0)
		return jm_usage_error("run: %s", err);
	int nbackends = jm_backend_spec_parse(backend_text[0] ? backend_text : "all",
					      backends, MAX_BACKENDS, err, sizeof(err));
	if (nbackends < 0)
		return jm_usage_error("run: --backend: %s", err);
	if (!quiet && (!backend_text[0] || strstr(backend_text, "all")))
		note_unavailable();
	if (base.threads > 1) {
		if (base.replay_literal)
			return jm_usage_error("run: --replay literal replays one stream: drop --threads");
		/* 'all' with --threads: the thread-safe backends; named ones are
		 * refused below */
		if (!backend_text[0] || !strcmp(backend_text, "all")) {
			int kept = 0;
			char skipped[512] = "";
			for (int i = 0; i < nbackends; i++) {
				if (backends[i].ops->caps & JM_CAP_THREAD_SAFE) {
					backends[kept++] = backends[i];
					continue;
				}
				strncat(skipped, skipped[0] ? ", " : "",
					sizeof(skipped) - strlen(skipped) - 1);
				strncat(skipped, backends[i].ops->name,
					sizeof(skipped) - strlen(skipped) - 1);
			}
			if (skipped[0])
				fprintf(stderr, "jitmm: run: --threads %u: skipping backends that "
					"are not thread-safe: %s\n", base.threads, skipped);
			nbackends = kept;
		}
		for (int i = 0; i < nbackends; i++)
			if (!(backends[i].ops->caps & JM_CAP_THREAD_SAFE))
				return jm_usage_error("run: --threads %u: backend %s is not thread-safe "
						      "(JM_CAP_THREAD_SAFE); choose thread-safe backends "
						      "('jitmm list backends' shows them)",
						      base.threads, backends[i].ops->name);
		for (int i = 0; i < nbackends; i++)
			if (base.execute && (backends[i].ops->caps & JM_CAP_EXEC_RACE))
				fprintf(stderr, "jitmm: run: --threads %u --execute: %s keeps its "
					"original's commit race; its code can become writable and "
					"the run crash (docs/replay.md)\n", base.threads,
					backends[i].ops->name);
	}
	/* a mistyped --baseline would silently leave every ratio empty */
	int baseline_run = 0;
	for (int i = 0; i < nbackends; i++)
		baseline_run |= !strcmp(backends[i].ops->name, baseline);
	if (baseline_given && !baseline_run)
		return jm_usage_error("run: --baseline: '%s' is not one of the backends run", baseline);
	if (!nworkloads) {
		nworkloads = jm_split_specs(RUN_WORKLOADS, workloads, MAX_WORKLOADS);
		if (access(RUN_TRACE, R_OK) == 0)
			snprintf(workloads[nworkloads++], sizeof(workloads[0]), "trace:%s", RUN_TRACE);
	}
	/* open each workload once here so that a bad spec (or a trace's bad
	 * header) is a usage error before any run starts; a trace's events
	 * are read by the runs only (the matrix stops at a malformed line) */
	uint64_t wl_graphs[MAX_WORKLOADS];
	for (int i = 0; i < nworkloads; i++) {
		struct jm_workload w;
		if (jm_workload_open(workloads[i], seed, &w, err, sizeof(err)) < 0)
			return jm_usage_error("run: --workload: %s", err);
		wl_graphs[i] = w.graphs;
		jm_workload_close(&w);
	}
	/* every results file jitmm writes can be read back (results_shape.h) */
	if ((uint64_t)nbackends * (uint64_t)nworkloads * repeat > JM_RESULTS_MAX_RUNS)
		return jm_usage_error("run: %llu runs (backends x workloads x repeat): more than "
				      "the %d a results file may hold",
				      (unsigned long long)nbackends * (unsigned long long)nworkloads *
					      (unsigned long long)repeat, JM_RESULTS_MAX_RUNS);
	if (out_dir && jm_mkdirs(out_dir, err, sizeof(err)) < 0)
		return jm_usage_error("run: --out: %s", err);
	/* before the matrix runs, not after */
	if (json_path && jm_out_check(json_path, err, sizeof(err)) < 0)
		return jm_usage_error("run: --json: %s", err);

	/* the os layer's host mode, inherited by every measured child */
	char host_why[160] = "forced by --host";
	enum jm_host host = !strcmp(host_opt, "hardened") ? JM_HOST_HARDENED :
		!strcmp(host_opt, "normal") ? JM_HOST_NORMAL :
		jm_os_host_detect(host_why, sizeof(host_why));
	jm_os_set_host(host);
	struct jm_probe probe;
	char why_not[256], perr[300];
	if (jm_cell_probe("run", probe_name, quiet, &probe, why_not, sizeof(why_not)))
		return JM_EXIT_USAGE;
	if (fault_classes) {
		if (strcmp(probe.ops->name, "ebpf")) {
			if (probe.ops->close)
				probe.ops->close(&probe);
			return jm_usage_error("run: --fault-classes: needs the ebpf probe (%s)",
					      why_not[0] ? why_not : "probe is procfs");
		}
		probe.flags |= JM_PROBE_FAULT_CLASSES;
	}
	if (events_path) {
		if (strcmp(probe.ops->name, "ebpf")) {
			if (probe.ops->close)
				probe.ops->close(&probe);
			return jm_usage_error("run: --events: needs the ebpf probe (%s)",
					      why_not[0] ? why_not : "probe is procfs");
		}
		if (jm_ebpf_events_open(&probe, events_path, perr, sizeof(perr)) < 0) {
			probe.ops->close(&probe);
			return jm_usage_error("run: --events: %s", perr);
		}
	}

	progress_init(quiet);
	progress_catch_signals();

	json_object *config = json_object_new_object();
	json_object *bl = json_object_new_array();
	for (int i = 0; i < nbackends; i++) {
		json_object *b = jm_config_backend(&backends[i]);
		if (backends[i].ops->available) { /* the LLVM plugin, as read here */
			char note[600];
			int ok = jm_backend_available(backends[i].ops, backends[i].optspec, note,
						      sizeof(note)) == 0;
			json_object_object_add(b, "available", json_object_new_boolean(ok));
			json_object_object_add(b, "note", json_object_new_string(note));
		}
		json_object_array_add(bl, b);
	}
	json_object_object_add(config, "backends", bl);
	json_object_object_add(config, "workloads", str_array(workloads, nworkloads));
	json_object_object_add(config, "workload_defaults",
			       jm_config_workload_defaults((const char (*)[320])workloads, nworkloads));
	json_object_object_add(config, "repeat", json_object_new_int64((int64_t)repeat));
	json_object_object_add(config, "warmup", json_object_new_int64((int64_t)warmup));
	json_object_object_add(config, "seed", json_object_new_int64((int64_t)seed));
	json_object_object_add(config, "probe_requested", json_object_new_string(probe_name));
	json_object_object_add(config, "probe_used", json_object_new_string(probe.ops->name));
	json_object_object_add(config, "probe_fallback_reason", json_object_new_string(why_not));
	if (events_path)
		json_object_object_add(config, "events_file", json_object_new_string(events_path));
	json_object_object_add(config, "baseline", json_object_new_string(baseline));
	json_object_object_add(config, "verify", json_object_new_boolean(base.verify));
	json_object_object_add(config, "execute", json_object_new_boolean(base.execute));
	json_object_object_add(config, "trim_at_end", json_object_new_boolean(base.trim_at_end));
	json_object_object_add(config, "threads", json_object_new_int((int)(base.threads ? base.threads : 1)));
	json_object_object_add(config, "replay", json_object_new_string(base.replay_literal ? "literal" : "model"));
	json_object_object_add(config, "code_model", json_object_new_string(
		jm_code_model_name((enum jm_code_model)base.code_model)));
	json_object_object_add(config, "timeout_s", json_object_new_int64((int64_t)timeout));
	json_object *inj = json_object_new_array();
	for (int i = 0; i < base.ninject; i++) {
		char s[64];
		snprintf(s, sizeof(s), "%s:%s@%llu", jm_sys_name(base.inject[i].sys),
			 jm_errno_name(base.inject[i].err),
			 (unsigned long long)base.inject[i].nth);
		json_object_array_add(inj, json_object_new_string(s));
	}
	json_object_object_add(config, "inject", inj);
	json_object_object_add(config, "host", json_object_new_string(jm_host_name(host)));
	json_object_object_add(config, "host_reason", json_object_new_string(host_why));
	json_object_object_add(config, "max_samples", json_object_new_int64((int64_t)max_samples));
	if (shard_text)
		json_object_object_add(config, "shard", json_object_new_string(shard_text));
	json_object *root = jm_results_new(jm_context_json(), config);

	const char *labels[MAX_BACKENDS];
	static char names[MAX_BACKENDS][64];
	for (int b = 0; b < nbackends; b++)
		labels[b] = jm_backend_spec_name(&backends[b], names[b], sizeof(names[b]));
	base.seed = seed;
	base.timeout_s = (unsigned)timeout;
	base.max_samples = (unsigned)max_samples;
	struct jm_matrix mx = {
		.base = &base, .backends = backends, .labels = labels,
		.nbackends = nbackends, .workloads = (const char (*)[320])workloads,
		.graphs = wl_graphs, .nworkloads = nworkloads, .repeat = repeat,
		.warmup = (unsigned)warmup, .shard_i = shard_i, .shard_n = shard_n, .quiet = quiet,
		.input_error_stops = "run",
	};
	int any_failed = jm_matrix_run(&mx, &probe, root);
	if (probe.ops->close)
		probe.ops->close(&probe);
	if (any_failed == JM_EXIT_USAGE) { /* a malformed trace: no results */
		json_object_put(root);
		return JM_EXIT_USAGE;
	}
	int interrupted = progress_interrupted();
	json_object_object_add(config, "interrupted", json_object_new_boolean(interrupted));
	json_object_object_add(config, "finished", jm_config_now());
	jm_results_aggregate(root);

	int rc = 0;
	if (jm_out_results(root, json_path, out_dir, pretty, err, sizeof(err)) < 0) {
		fprintf(stderr, "jitmm: run: %s\n", err);
		rc = JM_EXIT_USAGE;
	}
	if (out_dir) {
		/* an interrupt from here on does not stop the report (gnuplot
		 * runs in its own process group): it is written whole, and
		 * jitmm exits 130 */
		if (rc == 0 && jm_report_write_dir(root, out_dir, baseline, NULL, err,
						   sizeof(err)) < 0) {
			fprintf(stderr, "jitmm: %s\n", err);
			rc = JM_EXIT_USAGE;
		}
	}
	/* stdout is data: the table, unless the results JSON went there */
	if (!json_path || !jm_out_is_stdout(json_path))
		jm_report_tables(root, baseline, stdout);
	if (out_dir && !quiet && rc == 0)
		fprintf(stderr, "jitmm: wrote %s/results.json, report.md, report.html and plots/\n",
			out_dir);
	json_object_put(root);
	if (interrupted || progress_interrupted())
		return JM_EXIT_INTERRUPTED;
	if (rc)
		return rc;
	return any_failed ? JM_EXIT_FAIL : JM_EXIT_OK;
}
