/* Malformed results files: every reader (report, compare, export, merge)
 * goes through one validating loader, so each bad file is refused with exit
 * 2, a one-line message naming the JSON path (or file and line), and no
 * output left behind; nothing crashes.
 *
 * The corpus is generated: a valid document that has every field of
 * docs/json-format.md, and for each field, copies with one wrong value put
 * there (a string for a number, NaN, 2^70, invalid UTF-8, ...), plus whole
 * files that are wrong (not JSON, not an object, too large, a FIFO, ...).
 * JITMM_KEEP_MALFORMED=DIR writes the corpus to DIR and keeps it (to try
 * another jitmm on it). */
#include "testutil.h"

#include <dirent.h>
#include <errno.h>
#include <json-c/json.h>
#include <sys/stat.h>

#include "../reports/results.h"
#include "../reports/results_shape.h"

/* Every documented field, with a value of its type. */
static const char base_doc[] =
	"{\"schema_version\": 1, \"generator\": \"jitmm\", \"future_field\": 1,"
	" \"context\": {\"hostname\": \"h\", \"kernel\": \"6.1\", \"arch\": \"x86_64\","
	"  \"page_size\": 4096, \"vm_max_map_count\": 65530, \"vm_overcommit_memory\": 0,"
	"  \"thp_enabled\": \"madvise\", \"cpu\": \"c\", \"cpus_online\": 2,"
	"  \"jitmm_version\": \"0.1\", \"jitmm_git_sha\": \"abc\", \"date\": \"2026-01-01T00:00:00Z\","
	"  \"uid\": 0},"
	" \"config\": {\"backends\": [{\"name\": \"single-pool\", \"options\": {\"granularity\": \"16M\"}}],"
	"  \"workloads\": [\"llvm-500\"], \"repeat\": 1, \"seed\": 0, \"probe_requested\": \"auto\","
	"  \"probe_used\": \"procfs\", \"probe_fallback_reason\": \"\", \"events_file\": \"e\","
	"  \"baseline\": \"single-pool\", \"verify\": false, \"execute\": false, \"trim_at_end\": false,"
	"  \"threads\": 1, \"replay\": \"model\", \"code_model\": \"small\", \"timeout_s\": 600,"
	"  \"inject\": [\"mmap:ENOMEM@3\"], \"max_samples\": 0, \"shard\": \"1/1\", \"merged_shards\": 0,"
	"  \"interrupted\": false,"
	"  \"sweep\": {\"backend\": \"single-pool\", \"param\": \"granularity\", \"values\": [\"16M\"],"
	"   \"factor\": 2}},"
	" \"runs\": [{\"backend\": \"single-pool\", \"backend_options\": {\"granularity\": \"16M\"},"
	"  \"workload\": \"llvm-500\", \"workload_spec\": \"synthetic:graphs=5\", \"repetition\": 0,"
	"  \"matrix_index\": 0, \"status\": \"ok\", \"sweep_value\": \"16M\", \"future_field\": 1,"
	"  \"error\": {\"op\": \"finalize\", \"message\": \"m\", \"syscall\": \"mprotect\", \"errno\": 12,"
	"   \"errno_name\": \"ENOMEM\", \"signal\": 11, \"event_index\": 3, \"graph_id\": 2,"
	"   \"graphs_done\": 2, \"vmas_at_failure\": 65530, \"vm_max_map_count\": 65530,"
	"   \"cause\": \"c\", \"thread\": 0},"
	"  \"metrics\": {\"graphs\": 5, \"events\": 10, \"finalizes\": 5, \"frees\": 0, \"trims\": 0,"
	"   \"vmas_before\": 29, \"vmas_after\": 40, \"vmas_added\": 11, \"vmas_peak\": 40,"
	"   \"vmas_peak_source\": \"procfs-samples\", \"vmas_after_teardown\": 29, \"vmas_leaked\": 0,"
	"   \"vmas_added_other_processes\": 0, \"vmas_per_graph\": 2.2, \"vma_headroom\": 100,"
	"   \"page_faults_minor\": 1, \"page_faults_major\": 0, \"rss_before_bytes\": 1,"
	"   \"rss_after_bytes\": 2, \"rss_added_bytes\": 1, \"rss_peak_bytes\": 2,"
	"   \"va_reserved_bytes\": 1, \"va_reserved_peak_bytes\": 1, \"bytes_requested\": 1,"
	"   \"bytes_live_requested\": 1, \"bytes_mapped\": 1, \"bytes_mapped_peak\": 1,"
	"   \"bytes_wasted\": 0, \"reservations\": 1, \"reach_failures\": 0,"
	"   \"reloc_reach_failures\": 0, \"reach_failures_aarch64\": 0, \"trim_units_released\": 0,"
	"   \"trim_bytes_released\": 0, \"threads\": 1, \"wall_ns\": 1000, \"sampling_ns\": 10,"
	"   \"sys_events_ignored\": 0, \"probe_error\": \"p\", \"future_metric\": 1,"
	"   \"syscalls\": {\"mmap\": {\"calls\": 1, \"errors\": 0, \"bytes\": 4096,"
	"    \"errnos\": {\"ENOMEM\": 0}}},"
	"   \"latency\": {\"allocate\": {\"count\": 1, \"p50_ns\": 1, \"p99_ns\": 1, \"max_ns\": 1,"
	"    \"mean_ns\": 1}},"
	"   \"backend\": {\"slabs\": 1}, \"literal\": {\"sys_events\": 1},"
	"   \"trim_at_end\": {\"ok\": true, \"units_released\": 1, \"bytes_released\": 1,"
	"    \"vmas_released\": 1, \"rss_released_bytes\": 1, \"va_released_bytes\": 1},"
	"   \"probe\": {\"name\": \"ebpf\", \"pid\": 1, \"processes\": 1, \"vmas_after\": 1,"
	"    \"vmas_peak\": 1, \"page_faults\": 1, \"page_faults_whole_process\": 1,"
	"    \"page_faults_minor\": 1, \"page_faults_major\": 0, \"events_recorded\": 1,"
	"    \"events_dropped\": 0, \"syscalls\": {\"mmap\": {\"calls\": 1}},"
	"    \"syscalls_whole_process\": {\"mmap\": {\"calls\": 1}},"
	"    \"syscalls_measured_process\": {\"mmap\": {\"calls\": 1}},"
	"    \"page_faults_by_access\": {\"read\": 1}, \"page_faults_by_prot\": {\"rx\": 1}},"
	"   \"relocations\": {\"code_model\": \"small\", \"arch\": \"x86_64\", \"other_arch\": \"aarch64\","
	"    \"graphs_linked\": 1, \"graphs_plain\": 0, \"graphs_sentinel\": 0, \"data_relocations\": 1,"
	"    \"call_relocations\": 1, \"max_data_distance\": 1, \"max_call_distance\": 1,"
	"    \"first_failures\": [{\"graph_id\": 1, \"relocation\": \"R\", \"kind\": \"call\","
	"     \"distance\": 1, \"min\": 0, \"max\": 2, \"message\": \"m\"}],"
	"    \"first_failures_other\": []}},"
	"  \"series\": {\"graphs\": [1, 2], \"vmas\": [30, 40]},"
	"  \"marks\": [{\"name\": \"m\", \"event_index\": 1, \"graphs\": 1, \"thread\": 0}]}],"
	" \"aggregates\": [{\"backend\": \"single-pool\", \"backend_options\": {\"granularity\": \"16M\"},"
	"  \"workload\": \"llvm-500\", \"workload_spec\": \"synthetic:graphs=5\", \"runs\": 1,"
	"  \"failed\": 0, \"metrics\": {\"vmas_added\": {\"median\": 11, \"min\": 11, \"max\": 11}}}]}";

/* Fields whose values are counts (integers >= 0), beyond the type the
 * base value has; unknown fields take any type. */
static const char *const count_paths[] = {
	"schema_version", "context.page_size", "context.cpus_online", "context.uid",
	"config.repeat", "config.seed", "config.threads", "config.timeout_s",
	"config.max_samples", "config.merged_shards", "runs[0].repetition",
	"runs[0].matrix_index", "aggregates[0].runs", "aggregates[0].failed", NULL,
};

static int is_count(const char *path)
{
	for (int i = 0; count_paths[i]; i++)
		if (!strcmp(count_paths[i], path))
			return 1;
	return 0;
}

static int is_unknown(const char *path)
{
	return strstr(path, "future_") != NULL;
}

/* Wrong values by the type the field should have. */
static const char *const not_a_string[] = {
	"1", "true", "null", "{}", "[]", "\"a\\u0000b\"", "\"\xff\xfe\"", "\"\xed\xa0\x80\"",
	"\"\xc0\xaf\"", "\"a\xe2\x82\"", NULL,
};
static const char *const not_a_number[] = {
	"\"1\"", "true", "null", "{}", "[1,2]", "NaN", "Infinity", "-Infinity", "1e400",
	"1180591620717411303424", "-1180591620717411303424", "9007199254740994", "1e300", NULL,
};
static const char *const not_a_count[] = {"-1", "1.5", NULL};
static const char *const not_a_number_or_null[] = {
	"\"1\"", "true", "{}", "[1,2]", "NaN", "Infinity", "1e400", "1180591620717411303424", NULL,
};
static const char *const not_an_object[] = {"1", "\"x\"", "[1,2]", "true", "null", "[]", NULL};
static const char *const not_an_array[] = {"1", "\"x\"", "{}", "true", "null", NULL};
static const char *const not_a_bool[] = {"1", "\"true\"", "null", "{}", NULL};
/* what no field takes, not even an unknown one */
static const char *const never_valid[] = {
	"NaN", "Infinity", "1e400", "1180591620717411303424", "9007199254740994",
	"\"a\\u0000b\"", "\"\xff\"", NULL,
};

struct bad {
	char file[64];
	char want[512]; /* in the message */
};

static struct bad *bads;
static size_t nbads, capbads;
static char corpus[4096];

static void add_bad(const char *text, size_t len, const char *want)
{
	if (nbads == capbads) {
		capbads = capbads ? capbads * 2 : 1024;
		bads = realloc(bads, capbads * sizeof(*bads));
		assert_non_null(bads);
	}
	struct bad *b = &bads[nbads];
	snprintf(b->file, sizeof(b->file), "bad-%04zu.json", nbads);
	snprintf(b->want, sizeof(b->want), "%s", want);
	char path[4200];
	snprintf(path, sizeof(path), "%s/%s", corpus, b->file);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	fclose(f);
	nbads++;
}

#define PLACEHOLDER "\"@@wrong@@\""

/* The base document with the value at (parent, key or index) replaced by
 * the raw text wrong. */
static void mutate(json_object *parent, const char *key, size_t idx, const char *wrong,
		   const char *path, json_object *root)
{
	json_object *saved;
	if (key) {
		json_object_object_get_ex(parent, key, &saved);
		json_object_get(saved);
		json_object_object_add(parent, key, json_object_new_string("@@wrong@@"));
	} else {
		saved = json_object_get(json_object_array_get_idx(parent, idx));
		json_object_array_put_idx(parent, idx, json_object_new_string("@@wrong@@"));
	}
	const char *doc = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN);
	const char *at = strstr(doc, PLACEHOLDER);
	assert_non_null(at);
	char *text = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&text, &len);
	fprintf(m, "%.*s%s%s", (int)(at - doc), doc, wrong, at + strlen(PLACEHOLDER));
	fclose(m);
	char want[512];
	snprintf(want, sizeof(want), ": %s: ", path);
	add_bad(text, len, want);
	free(text);
	if (key)
		json_object_object_add(parent, key, saved);
	else
		json_object_array_put_idx(parent, idx, saved);
}

static void mutate_all(json_object *parent, const char *key, size_t idx,
		       const char *const *wrong, const char *path, json_object *root)
{
	for (int i = 0; wrong[i]; i++)
		mutate(parent, key, idx, wrong[i], path, root);
}

/* Every value of the base document, each replaced by the wrong values of
 * its type. */
static void walk(json_object *parent, const char *key, size_t idx, json_object *v,
		 const char *path, json_object *root)
{
	if (is_unknown(path)) {
		mutate_all(parent, key, idx, never_valid, path, root);
		return;
	}
	switch (json_object_get_type(v)) {
	case json_type_string:
		mutate_all(parent, key, idx, not_a_string, path, root);
		break;
	case json_type_int:
	case json_type_double:
		if (strcmp(path, "runs[0].metrics.vma_headroom")) /* number or null */
			mutate_all(parent, key, idx, not_a_number, path, root);
		else
			mutate_all(parent, key, idx, not_a_number_or_null, path, root);
		if (is_count(path))
			mutate_all(parent, key, idx, not_a_count, path, root);
		break;
	case json_type_boolean:
		mutate_all(parent, key, idx, not_a_bool, path, root);
		break;
	case json_type_object: {
		if (parent)
			mutate_all(parent, key, idx, not_an_object, path, root);
		json_object_object_foreach(v, k, x) {
			char p[512];
			snprintf(p, sizeof(p), "%s%s%s", path, *path ? "." : "", k);
			walk(v, k, 0, x, p, root);
		}
		break;
	}
	case json_type_array:
		mutate_all(parent, key, idx, not_an_array, path, root);
		for (size_t i = 0; i < json_object_array_length(v); i++) {
			char p[512];
			snprintf(p, sizeof(p), "%s[%zu]", path, i);
			walk(v, NULL, i, json_object_array_get_idx(v, i), p, root);
		}
		break;
	default:
		break;
	}
}

static void add_text(const char *text, const char *want)
{
	add_bad(text, strlen(text), want);
}

/* Whole documents that are wrong, and what their message says. */
static void whole_files(void)
{
	add_text("", ":1: truncated JSON");
	add_text("[1, 2]", "not a jitmm results file");
	add_text("{}", "no schema_version");
	add_text("{\"schema_version\": 2, \"runs\": []}", ": schema_version: 2 is not supported");
	add_text("{\"schema_version\": \"1\", \"runs\": []}", ": schema_version: \"1\" is not supported");
	add_text("{\"schema_version\": 1.5, \"runs\": []}", ": schema_version: 1.5 is not supported");
	add_text("{\"schema_version\": 1}", ": runs: missing");
	add_text("{\"schema_version\": 1, \"runs\": [{}]}", ": runs[0].status: missing");
	add_text("{\"schema_version\": 1, \"runs\": [{\"status\": \"maybe\"}]}", ": runs[0].status: expected");
	add_text("{\"schema_version\": 1, \"runs\": [], \"aggregates\": \"x\"}", ": aggregates: expected an array");
	add_text("{\"schema_version\": 1, \"runs\": [], \"aggregates\": [{\"metrics\": [1, 2]}]}",
		 ": aggregates[0].metrics: expected an object");
	add_text("{\"schema_version\": 1, \"runs\": [], \"aggregates\": [{\"metrics\": {\"x\": 1}}]}",
		 ": aggregates[0].metrics.x: expected an object {median, min, max}");
	add_text("{\"schema_version\": 1, \"runs\": [], \"aggregates\": [{\"metrics\": {\"x\": "
		 "{\"median\": 1, \"min\": 1}}}]}", ": aggregates[0].metrics.x.max: expected a number");
	add_text("{\"schema_version\": 1, \"runs\": [], \"aggregates\": [{\"metrics\": {\"x\": "
		 "{\"median\": 1, \"min\": 2, \"max\": 3}}}]}", ": aggregates[0].metrics.x: min 2");
	add_text("{\"schema_version\": 1, \"runs\": [], \"aggregates\": [{\"runs\": 1, \"failed\": 2}]}",
		 ": aggregates[0].failed: 2 failed of 1 runs");
	add_text("{\"schema_version\": 1, \"runs\": [], \"\xff\": 1}", ": ?: the key is not valid UTF-8");
	add_text("{\"schema_version\": 1, \"runs\": [ }", ":1: malformed JSON");
	add_text("{\"schema_version\": 1, \"runs\": []} {}", ":1: malformed JSON");
	add_text("{\"schema_version\": 1, \"runs\": [], /* c */ \"x\": 1}", ":1: malformed JSON");
	add_text("{'schema_version': 1, 'runs': []}", ":1: malformed JSON (a single quote)");
	add_text("{\"schema_version\": 1,\n \"runs\": [], \"x\": \"a\nb\"}",
		 ":2: malformed JSON (a control character inside a string)");
	add_text("{\"schema_version\": 1, \"runs\": [1,]}", ":1: malformed JSON");
	add_text("{\"schema_version\": 1, \"runs\": [], \"x\": 01}", ":1: malformed JSON");
	add_text("{\"schema_version\": 1, \"runs\": [], \"x\": \"a", "truncated JSON");
	/* nested deeper than JM_RESULTS_MAX_DEPTH */
	char deep[300] = "{\"schema_version\": 1, \"runs\": [], \"x\": ";
	for (int i = 0; i < 70; i++)
		strcat(deep, "[");
	add_text(deep, ":1: malformed JSON");
	/* more runs than JM_RESULTS_MAX_RUNS */
	char *many = NULL;
	size_t ml = 0;
	FILE *m = open_memstream(&many, &ml);
	fputs("{\"schema_version\": 1, \"runs\": [", m);
	for (int i = 0; i <= JM_RESULTS_MAX_RUNS; i++)
		fputs(i ? ",{\"status\":\"ok\"}" : "{\"status\":\"ok\"}", m);
	fputs("]}", m);
	fclose(m);
	add_bad(many, ml, ": runs: 100001 runs, more than");
	free(many);
}

/* Files that are not regular files or too large. */
static void special_files(void)
{
	char p[4200];
	snprintf(p, sizeof(p), "%s/fifo.json", corpus);
	assert_int_equal(mkfifo(p, 0600), 0);
	snprintf(bads[nbads].file, sizeof(bads[0].file), "fifo.json");
	snprintf(bads[nbads++].want, sizeof(bads[0].want), "fifo.json: not a regular file");
	snprintf(p, sizeof(p), "%s/dir.json", corpus);
	assert_int_equal(mkdir(p, 0700), 0);
	snprintf(bads[nbads].file, sizeof(bads[0].file), "dir.json");
	snprintf(bads[nbads++].want, sizeof(bads[0].want), "dir.json: is a directory");
	/* `report /dev/zero` read 1 GiB */
	snprintf(p, sizeof(p), "%s/zero.json", corpus);
	assert_int_equal(symlink("/dev/zero", p), 0);
	snprintf(bads[nbads].file, sizeof(bads[0].file), "zero.json");
	snprintf(bads[nbads++].want, sizeof(bads[0].want), "zero.json: not a regular file");
	/* sparse: no disk used */
	snprintf(p, sizeof(p), "%s/huge.json", corpus);
	int fd = open(p, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)JM_RESULTS_MAX_BYTES + 1), 0);
	close(fd);
	snprintf(bads[nbads].file, sizeof(bads[0].file), "huge.json");
	snprintf(bads[nbads++].want, sizeof(bads[0].want), "MiB a results file may have");
}

static int setup(void **state)
{
	(void)state;
	const char *keep = getenv("JITMM_KEEP_MALFORMED");
	if (keep) {
		snprintf(corpus, sizeof(corpus), "%s", keep);
		if (mkdir(corpus, 0755) < 0 && errno != EEXIST)
			return -1;
	} else {
		snprintf(corpus, sizeof(corpus), "/tmp/jitmm-malformed-XXXXXX");
		if (!mkdtemp(corpus))
			return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	if (!getenv("JITMM_KEEP_MALFORMED"))
		tu_rmtree(corpus);
	free(bads);
	return 0;
}

/* The base document is valid (else every mutation would prove nothing). */
static void test_base_is_valid(void **state)
{
	(void)state;
	char err[1024];
	json_object *o = jm_results_parse(base_doc, strlen(base_doc), "base", err, sizeof(err));
	if (!o)
		fail_msg("%s", err);
	json_object_put(o);
}

static void test_generate(void **state)
{
	(void)state;
	json_object *root = json_tokener_parse(base_doc);
	assert_non_null(root);
	walk(NULL, NULL, 0, root, "", root);
	json_object_put(root);
	whole_files();
	special_files();
	printf("# %zu malformed results files in %s\n", nbads, corpus);
	assert_true(nbads > 500);
}

/* In process: the loader refuses each with the expected message, on one
 * line. */
static void test_loader_refuses_each(void **state)
{
	(void)state;
	size_t refused = 0;
	for (size_t i = 0; i < nbads; i++) {
		char path[4200], err[1024] = "";
		snprintf(path, sizeof(path), "%s/%s", corpus, bads[i].file);
		json_object *o = jm_results_load(path, err, sizeof(err));
		if (o) {
			json_object_put(o);
			fail_msg("%s was accepted (want \"%s\")", bads[i].file, bads[i].want);
		}
		if (!strstr(err, bads[i].want))
			fail_msg("%s: message \"%s\" lacks \"%s\"", bads[i].file, err, bads[i].want);
		if (strchr(err, '\n'))
			fail_msg("%s: message is not one line: %s", bads[i].file, err);
		refused++;
	}
	assert_int_equal(refused, nbads);
}

/* The commands, each file through one of them in turn (report, compare,
 * export, merge: the loader is shared, every command sees a quarter): exit
 * 2 with the message, nothing on stdout, nothing written. Under ASan
 * (make test SAN=1), where forking the test costs ~90 ms, one file in 16
 * (the loader has seen every one above). */
static void test_commands_refuse_each(void **state)
{
	(void)state;
	char out[4200], good[4200], outfile[4300];
	snprintf(out, sizeof(out), "%s/out", corpus);
	snprintf(outfile, sizeof(outfile), "%s/x.json", out);
	snprintf(good, sizeof(good), "%s/good.json", corpus);
	FILE *g = fopen(good, "w");
	assert_non_null(g);
	fputs(base_doc, g);
	fclose(g);
	size_t refused = 0, crashed = 0, tried = 0, step = TU_SANITIZED ? 16 : 1;
	for (size_t i = 0; i < nbads; i += step) {
		char in[4200];
		snprintf(in, sizeof(in), "%s/%s", corpus, bads[i].file);
		char *report[] = {"report", in, "-o", out, NULL};
		char *compare[] = {"compare", good, in, NULL};
		char *export[] = {"export", "-f", "lnt", in, "-o", outfile, NULL};
		char *merge[] = {"merge", good, in, "-o", outfile, NULL};
		char **cmds[] = {report, compare, export, merge};
		char **cmd = cmds[tried++ % 4], *o = NULL, *e = NULL;
		int rc = tu_run_jitmm(cmd, &o, &e);
		crashed += rc > 128;
		if (rc != 2 || !strstr(e, bads[i].want) || *o || tu_dir_entries(out) >= 0)
			fail_msg("jitmm %s %s: exit %d, stdout %.80s, stderr %.300s "
				 "(want exit 2, \"%s\", nothing written)", cmd[0],
				 bads[i].file, rc, o, e, bads[i].want);
		refused += rc == 2;
		free(o);
		free(e);
	}
	printf("# %zu malformed files run: %zu refused with exit 2, %zu crashed\n", tried, refused,
	       crashed);
	assert_int_equal(crashed, 0);
}

/* run and sweep refuse a matrix whose results file the loader would
 * refuse (more than JM_RESULTS_MAX_RUNS runs), before any run. */
static void test_matrix_bound(void **state)
{
	(void)state;
	char json[4200];
	snprintf(json, sizeof(json), "%s/matrix.json", corpus);
	/* 2 backends x 6 workloads x 10000 */
	char *const run[] = {"run", "-q", "-b", "single-pool,inprocess", "-w",
			     "llvm-500,page-pairs,llvm-500:graphs=1,llvm-500:graphs=2,"
			     "llvm-500:graphs=3,llvm-500:graphs=4", "-r", "10000", "--json", json, NULL};
	/* 7 values x 2 workloads x 10000 */
	char *const sweep[] = {"sweep", "-q", "-b", "single-pool", "-P", "granularity=1M..64M*2",
			       "-w", "llvm-500,page-pairs", "-r", "10000", "--json", json, NULL};
	char *const *cmds[] = {run, sweep};
	for (int i = 0; i < 2; i++) {
		char *o = NULL, *e = NULL;
		int rc = tu_run_jitmm((char **)cmds[i], &o, &e);
		if (rc != 2 || !strstr(e, "more than the 100000 a results file may hold") || *o)
			fail_msg("%s: exit %d: %s", cmds[i][0], rc, e);
		free(o);
		free(e);
		assert_int_not_equal(access(json, F_OK), 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_base_is_valid),
		cmocka_unit_test(test_generate),
		cmocka_unit_test(test_loader_refuses_each),
		cmocka_unit_test(test_commands_refuse_each),
		cmocka_unit_test(test_matrix_bound),
	};
	return cmocka_run_group_tests_name("malformed results", tests, setup, teardown);
}
