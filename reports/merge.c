#include "merge.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "results.h"
#include "results_shape.h"

int jm_shard_parse(const char *text, unsigned *i, unsigned *n)
{
	unsigned a, b;
	char tail;
	if (sscanf(text, "%u/%u%c", &a, &b, &tail) != 2 || a < 1 || b < 1 || a > b || b > 100000)
		return -1;
	*i = a;
	*n = b;
	return 0;
}

/* Context that must agree: results from different kernels, page sizes or
 * jitmm versions are different experiments. */
static const char *const context_keys[] = {
	"kernel", "page_size", "arch", "vm_max_map_count", "jitmm_version",
};
/* Configuration that defines the matrix and how it was measured. */
static const char *const config_keys[] = {
	"backends", "workloads", "repeat", "seed", "probe_used", "verify", "execute",
	"trim_at_end", "timeout_s", "inject", "max_samples", "sweep",
};

static const char *plain(json_object *o, char *buf, size_t len)
{
	snprintf(buf, len, "%s", o ? json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN) : "(absent)");
	return buf;
}

static int same(json_object *a, json_object *b, const char *path, const char *na,
		const char *nb, char *err, size_t errlen)
{
	static char x[4096], y[4096];
	plain(jm_json_path(a, path), x, sizeof(x));
	plain(jm_json_path(b, path), y, sizeof(y));
	if (!strcmp(x, y))
		return 1;
	snprintf(err, errlen, "%s and %s conflict in %s: %.200s vs %.200s", na, nb, path, x, y);
	return 0;
}

static int cmp_runs(const void *pa, const void *pb)
{
	json_object *a = *(json_object *const *)pa, *b = *(json_object *const *)pb;
	double x = 0, y = 0;
	jm_json_num(a, "matrix_index", &x);
	jm_json_num(b, "matrix_index", &y);
	return x < y ? -1 : x > y;
}

/* A run's cell: its group and repetition (malloc'd). */
static char *cell_key(json_object *r)
{
	char *group = jm_group_key(r), *key = NULL;
	json_object *rep = jm_json_path(r, "repetition");
	if (asprintf(&key, "%s|%s", group, rep ? json_object_get_string(rep) : "?") < 0)
		abort();
	free(group);
	return key;
}

static int cmp_cells(const void *a, const void *b, void *keys)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	int c = strcmp(((char **)keys)[x], ((char **)keys)[y]);
	return c ? c : (x > y) - (x < y);
}

json_object *jm_merge(json_object *const *in, const char *const *names, int n,
		      char *err, size_t errlen, char *note, size_t notelen)
{
	note[0] = 0;
	if (n < 1) {
		snprintf(err, errlen, "nothing to merge");
		return NULL;
	}
	unsigned shard_n = 0;
	char *seen_shard = NULL;
	for (int f = 0; f < n; f++) {
		char p[64];
		for (size_t k = 0; k < sizeof(context_keys) / sizeof(context_keys[0]); k++) {
			snprintf(p, sizeof(p), "context.%s", context_keys[k]);
			if (f && !same(in[0], in[f], p, names[0], names[f], err, errlen))
				goto fail;
		}
		for (size_t k = 0; k < sizeof(config_keys) / sizeof(config_keys[0]); k++) {
			snprintf(p, sizeof(p), "config.%s", config_keys[k]);
			if (f && !same(in[0], in[f], p, names[0], names[f], err, errlen))
				goto fail;
		}
		const char *sh = jm_json_str(in[f], "config.shard", "");
		unsigned si = 0, sn = 0;
		if (*sh && jm_shard_parse(sh, &si, &sn) < 0) {
			snprintf(err, errlen, "%s: config.shard '%s' is not I/N", names[f], sh);
			goto fail;
		}
		if (f == 0) {
			shard_n = sn;
			seen_shard = calloc(sn + 1, 1);
		} else if (sn != shard_n) {
			snprintf(err, errlen, "%s and %s conflict in config.shard: %s of %u vs %u shards",
				 names[0], names[f], *sh ? sh : "unsharded", shard_n, sn);
			goto fail;
		}
		if (sn) {
			if (seen_shard[si]) {
				snprintf(err, errlen, "%s: shard %u/%u given twice", names[f], si, sn);
				goto fail;
			}
			seen_shard[si] = 1;
		}
	}
	if (shard_n) {
		size_t used = 0;
		for (unsigned s = 1; s <= shard_n; s++)
			if (!seen_shard[s] && used < notelen)
				used += (size_t)snprintf(note + used, notelen - used, "%sshard %u/%u is missing",
							 used ? ", " : "", s, shard_n);
		if (used && used < notelen)
			snprintf(note + used, notelen - used, ": the merged matrix is incomplete");
	}
	free(seen_shard);
	seen_shard = NULL;

	/* every run once, no cell twice: sorted by cell, a cell given twice
	 * is two neighbours; the message names the first run, in input
	 * order, whose cell came before */
	size_t total = 0;
	for (int f = 0; f < n; f++)
		total += json_object_array_length(jm_json_path(in[f], "runs"));
	if (total > JM_RESULTS_MAX_RUNS) {
		snprintf(err, errlen, "the inputs hold %zu runs, more than the %d a results file may "
			 "have", total, JM_RESULTS_MAX_RUNS);
		return NULL;
	}
	json_object **runs = calloc(total ? total : 1, sizeof(*runs));
	char **keys = calloc(total ? total : 1, sizeof(*keys));
	int *file = calloc(total ? total : 1, sizeof(*file));
	size_t *order = calloc(total ? total : 1, sizeof(*order));
	if (!runs || !keys || !file || !order)
		abort();
	size_t m = 0;
	for (int f = 0; f < n; f++) {
		json_object *rs = jm_json_path(in[f], "runs");
		for (size_t i = 0; i < json_object_array_length(rs); i++) {
			runs[m] = json_object_array_get_idx(rs, i);
			keys[m] = cell_key(runs[m]);
			file[m] = f;
			order[m] = m;
			m++;
		}
	}
	qsort_r(order, m, sizeof(*order), cmp_cells, keys);
	size_t dup = m;
	for (size_t i = 1; i < m; i++)
		if (!strcmp(keys[order[i]], keys[order[i - 1]]) && order[i] < dup)
			dup = order[i];
	for (size_t i = 0; i < m; i++)
		free(keys[i]);
	free(keys);
	free(order);
	if (dup < m) {
		json_object *r = runs[dup];
		snprintf(err, errlen, "%s: run %s of %s repetition %s is in another "
				      "input too (overlapping shards?)", names[file[dup]],
			 jm_json_str(r, "backend", "?"), jm_json_str(r, "workload_spec", "?"),
			 json_object_get_string(jm_json_path(r, "repetition")));
		free(runs);
		free(file);
		return NULL;
	}
	free(file);
	qsort(runs, m, sizeof(*runs), cmp_runs);

	json_object *config = NULL;
	json_object_deep_copy(jm_json_path(in[0], "config"), &config, NULL);
	if (!config)
		config = json_object_new_object();
	json_object_object_del(config, "shard");
	json_object_object_add(config, "merged_shards", json_object_new_int((int)shard_n));
	int interrupted = 0;
	for (int f = 0; f < n; f++) {
		json_object *v = jm_json_path(in[f], "config.interrupted");
		interrupted |= v && json_object_get_boolean(v);
	}
	json_object_object_add(config, "interrupted", json_object_new_boolean(interrupted));
	json_object *context = NULL;
	json_object_deep_copy(jm_json_path(in[0], "context"), &context, NULL);
	if (!context) /* an input without one: an empty object, not null */
		context = json_object_new_object();
	json_object *root = jm_results_new(context, config);
	for (size_t i = 0; i < m; i++)
		jm_results_add_run(root, json_object_get(runs[i]));
	free(runs);
	jm_results_aggregate(root);
	return root;
fail:
	free(seen_shard);
	return NULL;
}
