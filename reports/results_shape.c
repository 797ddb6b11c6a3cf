/* results.json checked against its documented shape: see results_shape.h.
 * The shape is data (struct shape, one per field of docs/json-format.md)
 * walked by one function, so a field the format adds is one line here. */
#include "results_shape.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "../common/numparse.h"
#include "results.h"

enum kind {
	K_ANY,     /* any JSON value (still number- and string-checked) */
	K_OBJECT,
	K_ARRAY,
	K_STRING,
	K_NUMBER,  /* finite, within +-2^53 */
	K_COUNT,   /* an integer >= 0 */
	K_BOOL,
	K_NUMBER_OR_NULL,
	K_STATUS,  /* "ok", "failed" or "interrupted" */
	K_STAT,    /* {median, min, max[, mean, stddev]}: numbers, min <= median
		    * <= max, min <= mean <= max, stddev >= 0 */
};

struct shape;
struct field {
	const char *key; /* "*": every key not listed before it */
	const struct shape *shape;
	int required;
};
struct shape {
	enum kind kind;
	const struct field *fields; /* K_OBJECT: known keys, NULL-terminated */
	const struct shape *elem;   /* K_ARRAY: every element */
};

#define MAX_EXACT 9007199254740992.0 /* 2^53 */

static const struct shape any = {K_ANY, 0, 0}, str = {K_STRING, 0, 0},
			  num = {K_NUMBER, 0, 0}, count = {K_COUNT, 0, 0},
			  boolean = {K_BOOL, 0, 0}, num_or_null = {K_NUMBER_OR_NULL, 0, 0},
			  status = {K_STATUS, 0, 0}, stat = {K_STAT, 0, 0};
static const struct shape str_list = {K_ARRAY, 0, &str}, num_list = {K_ARRAY, 0, &num};
static const struct field any_str[] = {{"*", &str, 0}, {0, 0, 0}},
			  any_num[] = {{"*", &num, 0}, {0, 0, 0}},
			  any_num_list[] = {{"*", &num_list, 0}, {0, 0, 0}},
			  any_stat[] = {{"*", &stat, 0}, {0, 0, 0}};
/* backend options: name -> value as text ("16M", "dual") */
static const struct shape options = {K_OBJECT, any_str, 0};
static const struct shape num_map = {K_OBJECT, any_num, 0};

static const struct field context_fields[] = {
	{"hostname", &str, 0}, {"kernel", &str, 0}, {"arch", &str, 0},
	{"thp_enabled", &str, 0}, {"cpu", &str, 0}, {"jitmm_version", &str, 0},
	{"jitmm_git_sha", &str, 0}, {"date", &str, 0},
	{"page_size", &count, 0}, {"vm_max_map_count", &num, 0},
	{"vm_overcommit_memory", &num, 0}, {"cpus_online", &count, 0}, {"uid", &count, 0},
	{0, 0, 0},
};

static const struct field backend_fields[] = {
	{"name", &str, 0}, {"options", &options, 0}, {"defaults", &options, 0},
	{"test_options", &str_list, 0}, {"available", &boolean, 0}, {"note", &str, 0},
	{"control", &boolean, 0},
	{0, 0, 0},
};
static const struct shape backend = {K_OBJECT, backend_fields, 0};
static const struct field sweep_fields[] = {
	{"backend", &str, 0}, {"param", &str, 0}, {"values", &str_list, 0},
	{"factor", &num, 0}, {0, 0, 0},
};
static const struct field config_fields[] = {
	{"backends", &(const struct shape){K_ARRAY, 0, &backend}, 0},
	{"workloads", &str_list, 0}, {"inject", &str_list, 0},
	{"workload_defaults", &(const struct shape){K_OBJECT, any_str, 0}, 0},
	{"host", &str, 0}, {"host_reason", &str, 0}, {"finished", &str, 0},
	{"repeat", &count, 0}, {"warmup", &count, 0}, {"seed", &count, 0}, {"threads", &count, 0},
	{"timeout_s", &count, 0}, {"max_samples", &count, 0}, {"merged_shards", &count, 0},
	{"probe_requested", &str, 0}, {"probe_used", &str, 0},
	{"probe_fallback_reason", &str, 0}, {"events_file", &str, 0}, {"baseline", &str, 0},
	{"replay", &str, 0}, {"code_model", &str, 0}, {"shard", &str, 0},
	{"verify", &boolean, 0}, {"execute", &boolean, 0}, {"trim_at_end", &boolean, 0},
	{"interrupted", &boolean, 0},
	{"sweep", &(const struct shape){K_OBJECT, sweep_fields, 0}, 0},
	{0, 0, 0},
};

static const struct field error_fields[] = {
	{"op", &str, 0}, {"message", &str, 0}, {"syscall", &str, 0},
	{"errno_name", &str, 0}, {"cause", &str, 0},
	{"errno", &num, 0}, {"signal", &num, 0}, {"event_index", &num, 0},
	{"graph_id", &num, 0}, {"graphs_done", &num, 0}, {"vmas_at_failure", &num, 0},
	{"vm_max_map_count", &num, 0}, {"thread", &num, 0},
	{0, 0, 0},
};

/* metrics.syscalls.NAME (and the probe's) */
static const struct field syscall_fields[] = {
	{"calls", &num, 0}, {"errors", &num, 0}, {"bytes", &num, 0},
	{"errnos", &num_map, 0}, {0, 0, 0},
};
static const struct field any_syscall[] = {
	{"*", &(const struct shape){K_OBJECT, syscall_fields, 0}, 0}, {0, 0, 0},
};
static const struct shape syscalls = {K_OBJECT, any_syscall, 0};

static const struct field probe_fields[] = {
	{"name", &str, 0},
	{"syscalls", &syscalls, 0}, {"syscalls_whole_process", &syscalls, 0},
	{"syscalls_measured_process", &syscalls, 0},
	{"page_faults_by_access", &num_map, 0}, {"page_faults_by_prot", &num_map, 0},
	{"pid", &num, 0}, {"processes", &num, 0}, {"vmas_after", &num, 0},
	{"vmas_peak", &num, 0}, {"page_faults", &num, 0},
	{"page_faults_whole_process", &num, 0}, {"page_faults_minor", &num, 0},
	{"page_faults_major", &num, 0}, {"events_recorded", &num, 0},
	{"events_dropped", &num, 0},
	{0, 0, 0},
};

static const struct field reach_failure_fields[] = {
	{"message", &str, 0}, {"relocation", &str, 0}, {"kind", &str, 0},
	{"graph_id", &num, 0}, {"distance", &num, 0}, {"min", &num, 0}, {"max", &num, 0},
	{0, 0, 0},
};
static const struct shape reach_failures = {
	K_ARRAY, 0, &(const struct shape){K_OBJECT, reach_failure_fields, 0},
};
static const struct field relocation_fields[] = {
	{"code_model", &str, 0}, {"arch", &str, 0}, {"other_arch", &str, 0},
	{"first_failures", &reach_failures, 0}, {"first_failures_other", &reach_failures, 0},
	{"graphs_linked", &num, 0}, {"graphs_plain", &num, 0}, {"graphs_sentinel", &num, 0},
	{"data_relocations", &num, 0}, {"call_relocations", &num, 0},
	{"max_data_distance", &num, 0}, {"max_call_distance", &num, 0},
	{0, 0, 0},
};

static const struct field trim_fields[] = {
	{"ok", &boolean, 0}, {"units_released", &num, 0}, {"bytes_released", &num, 0},
	{"vmas_released", &num, 0}, {"rss_released_bytes", &num, 0},
	{"va_released_bytes", &num, 0}, {0, 0, 0},
};

static const struct field latency_fields[] = {
	{"count", &num, 0}, {"p50_ns", &num, 0}, {"p99_ns", &num, 0},
	{"max_ns", &num, 0}, {"mean_ns", &num, 0}, {0, 0, 0},
};
static const struct field any_latency[] = {
	{"*", &(const struct shape){K_OBJECT, latency_fields, 0}, 0}, {0, 0, 0},
};

static const struct field metric_fields[] = {
	{"graphs", &num, 0}, {"events", &num, 0}, {"finalizes", &num, 0},
	{"frees", &num, 0}, {"trims", &num, 0},
	{"vmas_before", &num, 0}, {"vmas_after", &num, 0}, {"vmas_added", &num, 0},
	{"vmas_peak", &num, 0}, {"vmas_after_teardown", &num, 0}, {"vmas_leaked", &num, 0},
	{"vmas_added_other_processes", &num, 0}, {"vmas_per_graph", &num, 0},
	{"vma_headroom", &num_or_null, 0},
	{"page_faults_minor", &num, 0}, {"page_faults_major", &num, 0},
	{"rss_before_bytes", &num, 0}, {"rss_after_bytes", &num, 0},
	{"rss_added_bytes", &num, 0}, {"rss_peak_bytes", &num, 0},
	{"va_reserved_bytes", &num, 0}, {"va_reserved_peak_bytes", &num, 0},
	{"bytes_requested", &num, 0}, {"bytes_live_requested", &num, 0},
	{"bytes_mapped", &num, 0}, {"bytes_mapped_peak", &num, 0}, {"bytes_wasted", &num, 0},
	{"reservations", &num, 0}, {"reach_failures", &num, 0},
	{"reloc_reach_failures", &num, 0}, {"reach_failures_aarch64", &num, 0},
	{"trim_units_released", &num, 0}, {"trim_bytes_released", &num, 0},
	{"threads", &num, 0}, {"wall_ns", &num, 0}, {"sampling_ns", &num, 0},
	{"sys_events_ignored", &num, 0},
	{"vmas_peak_source", &str, 0}, {"probe_error", &str, 0},
	{"syscalls", &syscalls, 0},
	{"latency", &(const struct shape){K_OBJECT, any_latency, 0}, 0},
	{"backend", &num_map, 0}, {"literal", &num_map, 0},
	{"trim_at_end", &(const struct shape){K_OBJECT, trim_fields, 0}, 0},
	{"probe", &(const struct shape){K_OBJECT, probe_fields, 0}, 0},
	{"relocations", &(const struct shape){K_OBJECT, relocation_fields, 0}, 0},
	{0, 0, 0},
};

static const struct field mark_fields[] = {
	{"name", &str, 0}, {"event_index", &num, 0}, {"graphs", &num, 0},
	{"thread", &num, 0}, {0, 0, 0},
};
static const struct field run_fields[] = {
	{"status", &status, 1},
	{"backend", &str, 0}, {"workload", &str, 0}, {"workload_spec", &str, 0},
	{"sweep_value", &str, 0}, {"backend_options", &options, 0},
	{"repetition", &count, 0}, {"matrix_index", &count, 0},
	{"error", &(const struct shape){K_OBJECT, error_fields, 0}, 0},
	{"metrics", &(const struct shape){K_OBJECT, metric_fields, 0}, 0},
	{"series", &(const struct shape){K_OBJECT, any_num_list, 0}, 0},
	{"marks", &(const struct shape){K_ARRAY, 0,
		&(const struct shape){K_OBJECT, mark_fields, 0}}, 0},
	{0, 0, 0},
};

static const struct field aggregate_fields[] = {
	{"backend", &str, 0}, {"workload", &str, 0}, {"workload_spec", &str, 0},
	{"backend_options", &options, 0}, {"runs", &count, 0}, {"failed", &count, 0},
	{"metrics", &(const struct shape){K_OBJECT, any_stat, 0}, 0},
	{0, 0, 0},
};

static const struct shape run = {K_OBJECT, run_fields, 0};
static const struct shape aggregate = {K_OBJECT, aggregate_fields, 0};
static const struct field root_fields[] = {
	{"schema_version", &count, 1},
	{"generator", &str, 0},
	{"context", &(const struct shape){K_OBJECT, context_fields, 0}, 0},
	{"config", &(const struct shape){K_OBJECT, config_fields, 0}, 0},
	{"runs", &(const struct shape){K_ARRAY, 0, &run}, 1},
	{"aggregates", &(const struct shape){K_ARRAY, 0, &aggregate}, 0},
	{0, 0, 0},
};
static const struct shape root_shape = {K_OBJECT, root_fields, 0};

/* ---- the walk ---- */

struct walk {
	const char *name;
	char *err;
	size_t errlen;
	char path[1024];
	size_t len;
};

static int fail(struct walk *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct walk *w, const char *fmt, ...)
{
	char what[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (w->len)
		snprintf(w->err, w->errlen, "%s: %s: %s", w->name, w->path, what);
	else
		snprintf(w->err, w->errlen, "%s: %s", w->name, what);
	return -1;
}

/* Appends ".key" (or "key" at the top) to the path, at most 64 bytes of
 * the key with control characters (and every byte of a key that is not
 * UTF-8) shown as '?', so the message stays one line of text; returns the
 * length to restore. */
static size_t push_key(struct walk *w, const char *key)
{
	size_t old = w->len;
	if (w->len + 72 >= sizeof(w->path))
		return old;
	if (w->len)
		w->path[w->len++] = '.';
	size_t klen = strlen(key), i = 0;
	int utf8 = jm_utf8_valid_prefix((const unsigned char *)key, klen) == klen;
	for (; key[i] && i < 64; i++) {
		unsigned char c = (unsigned char)key[i];
		w->path[w->len++] = c < 0x20 || c == 0x7f || (c >= 0x80 && !utf8) ? '?' : (char)c;
	}
	if (key[i]) {
		memcpy(w->path + w->len, "...", 3);
		w->len += 3;
	}
	w->path[w->len] = 0;
	return old;
}

static size_t push_index(struct walk *w, size_t i)
{
	size_t old = w->len;
	int n = snprintf(w->path + w->len, sizeof(w->path) - w->len, "[%zu]", i);
	if (n > 0 && (size_t)n < sizeof(w->path) - w->len)
		w->len += (size_t)n;
	else
		w->path[w->len] = 0;
	return old;
}

static void pop(struct walk *w, size_t len)
{
	w->len = len;
	w->path[len] = 0;
}

static int check_text(struct walk *w, const char *s, size_t len, const char *what)
{
	if (strlen(s) != len)
		return fail(w, "%s holds a NUL character (\\u0000) at byte %zu", what, strlen(s));
	size_t ok = jm_utf8_valid_prefix((const unsigned char *)s, len);
	if (ok != len)
		return fail(w, "%s is not valid UTF-8 (byte %zu)", what, ok);
	return 0;
}

static const char *type_text(json_object *o)
{
	switch (json_object_get_type(o)) {
	case json_type_null: return "null";
	case json_type_boolean: return "a boolean";
	case json_type_double:
	case json_type_int: return "a number";
	case json_type_object: return "an object";
	case json_type_array: return "an array";
	case json_type_string: return "a string";
	}
	return "an unknown type";
}

static const char *const expected_text[] = {
	[K_ANY] = "a value", [K_OBJECT] = "an object", [K_ARRAY] = "an array",
	[K_STRING] = "a string", [K_NUMBER] = "a number",
	[K_COUNT] = "a count (an integer >= 0)", [K_BOOL] = "true or false",
	[K_NUMBER_OR_NULL] = "a number or null",
	[K_STATUS] = "\"ok\", \"failed\" or \"interrupted\"",
	[K_STAT] = "an object {median, min, max}",
};

static int is_number(json_object *o)
{
	return json_object_is_type(o, json_type_int) || json_object_is_type(o, json_type_double);
}

/* Every number: finite and within +-2^53. json-c reads NaN and Infinity,
 * and clamps an integer too large for 64 bits to INT64/UINT64 limits. */
static int check_number(struct walk *w, json_object *o)
{
	if (json_object_is_type(o, json_type_int)) {
		int64_t v = json_object_get_int64(o);
		if (v == INT64_MAX) /* maybe a clamped uint64 */
			return fail(w, "%llu is outside +-2^53",
				    (unsigned long long)json_object_get_uint64(o));
		if (v > (int64_t)MAX_EXACT || v < -(int64_t)MAX_EXACT)
			return fail(w, "%lld is outside +-2^53", (long long)v);
		return 0;
	}
	double d = json_object_get_double(o);
	if (!isfinite(d))
		return fail(w, "%s is not a finite number", isnan(d) ? "NaN" : "Infinity");
	if (fabs(d) > MAX_EXACT)
		return fail(w, "%g is outside +-2^53", d);
	return 0;
}

static int walk(struct walk *w, json_object *o, const struct shape *s);

static const struct shape *field_shape(const struct field *f, const char *key)
{
	for (; f && f->key; f++)
		if (!strcmp(f->key, key) || !strcmp(f->key, "*"))
			return f->shape;
	return &any;
}

static int walk_object(struct walk *w, json_object *o, const struct shape *s)
{
	const struct field *fields = s ? s->fields : NULL;
	json_object_object_foreach(o, key, v) {
		size_t at = push_key(w, key);
		if (check_text(w, key, strlen(key), "the key") < 0 ||
		    walk(w, v, field_shape(fields, key)) < 0)
			return -1;
		pop(w, at);
	}
	for (const struct field *f = fields; f && f->key; f++) {
		json_object *x;
		if (f->required && !json_object_object_get_ex(o, f->key, &x)) {
			size_t at = push_key(w, f->key);
			fail(w, "missing (%s expected)", expected_text[f->shape->kind]);
			pop(w, at);
			return -1;
		}
	}
	return 0;
}

static int check_stat(struct walk *w, json_object *o)
{
	static const char *const keys[] = {"min", "median", "max"};
	double v[3];
	for (int k = 0; k < 3; k++) {
		json_object *x = NULL;
		int has = json_object_object_get_ex(o, keys[k], &x);
		if (!has || !is_number(x)) {
			size_t at = push_key(w, keys[k]);
			fail(w, "expected a number, got %s", has ? type_text(x) : "nothing");
			pop(w, at);
			return -1;
		}
		v[k] = json_object_get_double(x);
	}
	if (!(v[0] <= v[1] && v[1] <= v[2]))
		return fail(w, "min %g, median %g, max %g are not in order", v[0], v[1], v[2]);
	/* the spread, where recorded: a mean within the range, stddev >= 0 */
	json_object *x;
	if (json_object_object_get_ex(o, "mean", &x) &&
	    (!is_number(x) || !(json_object_get_double(x) >= v[0] &&
				json_object_get_double(x) <= v[2])))
		return fail(w, "mean is not a number within [min, max]");
	if (json_object_object_get_ex(o, "stddev", &x) &&
	    (!is_number(x) || !(json_object_get_double(x) >= 0)))
		return fail(w, "stddev is not a number >= 0");
	return 0;
}

static int walk(struct walk *w, json_object *o, const struct shape *s)
{
	enum kind k = s->kind;
	int ok;
	switch (k) {
	case K_ANY: ok = 1; break;
	case K_OBJECT: case K_STAT: ok = json_object_is_type(o, json_type_object); break;
	case K_ARRAY: ok = json_object_is_type(o, json_type_array); break;
	case K_STRING: case K_STATUS: ok = json_object_is_type(o, json_type_string); break;
	case K_NUMBER: case K_COUNT: ok = is_number(o); break;
	case K_BOOL: ok = json_object_is_type(o, json_type_boolean); break;
	case K_NUMBER_OR_NULL: ok = !o || is_number(o); break;
	default: ok = 0;
	}
	if (!ok)
		return fail(w, "expected %s, got %s", expected_text[k], type_text(o));
	switch (json_object_get_type(o)) {
	case json_type_string: {
		const char *t = json_object_get_string(o);
		if (check_text(w, t, (size_t)json_object_get_string_len(o), "the text") < 0)
			return -1;
		if (k == K_STATUS && strcmp(t, "ok") && strcmp(t, "failed") && strcmp(t, "interrupted"))
			return fail(w, "expected %s, got another string", expected_text[k]);
		return 0;
	}
	case json_type_int:
	case json_type_double: {
		if (check_number(w, o) < 0)
			return -1;
		double d = json_object_get_double(o);
		if (k == K_COUNT && (d < 0 || d != floor(d)))
			return fail(w, "expected %s, got %g", expected_text[k], d);
		return 0;
	}
	case json_type_object:
		if (walk_object(w, o, k == K_OBJECT ? s : NULL) < 0)
			return -1;
		return k == K_STAT ? check_stat(w, o) : 0;
	case json_type_array: {
		size_t n = json_object_array_length(o);
		for (size_t i = 0; i < n; i++) {
			size_t at = push_index(w, i);
			if (walk(w, json_object_array_get_idx(o, i), s->elem ? s->elem : &any) < 0)
				return -1;
			pop(w, at);
		}
		return 0;
	}
	default:
		return 0;
	}
}

/* What the shape cannot say: counts bounded, failed runs within runs. */
static int check_counts(struct walk *w, json_object *root)
{
	json_object *runs = jm_json_path(root, "runs"), *aggs = jm_json_path(root, "aggregates");
	if (json_object_array_length(runs) > JM_RESULTS_MAX_RUNS) {
		push_key(w, "runs");
		return fail(w, "%zu runs, more than the %d a results file may have",
			    json_object_array_length(runs), JM_RESULTS_MAX_RUNS);
	}
	size_t n = aggs ? json_object_array_length(aggs) : 0;
	if (n > JM_RESULTS_MAX_AGGREGATES) {
		push_key(w, "aggregates");
		return fail(w, "%zu aggregates, more than the %d a results file may have", n,
			    JM_RESULTS_MAX_AGGREGATES);
	}
	for (size_t i = 0; i < n; i++) {
		json_object *a = json_object_array_get_idx(aggs, i);
		double r, f;
		if (jm_json_num(a, "runs", &r) == 0 && jm_json_num(a, "failed", &f) == 0 && f > r) {
			push_key(w, "aggregates");
			push_index(w, i);
			push_key(w, "failed");
			return fail(w, "%.0f failed of %.0f runs", f, r);
		}
	}
	return 0;
}

int jm_results_check(json_object *root, const char *name, char *err, size_t errlen)
{
	struct walk w = {.name = name, .err = err, .errlen = errlen};
	if (!json_object_is_type(root, json_type_object))
		return fail(&w, "not a jitmm results file (expected an object, got %s)",
			    type_text(root));
	json_object *v;
	if (!json_object_object_get_ex(root, "schema_version", &v))
		return fail(&w, "not a jitmm results file (no schema_version)");
	if (!json_object_is_type(v, json_type_int) ||
	    json_object_get_int64(v) != JM_SCHEMA_VERSION) {
		push_key(&w, "schema_version");
		return fail(&w, "%s is not supported (this jitmm reads %d)",
			    json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN),
			    JM_SCHEMA_VERSION);
	}
	if (walk(&w, root, &root_shape) < 0)
		return -1;
	return check_counts(&w, root);
}
