#include "merge.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "results.h"

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

static void cell_key(json_object *r, char *buf, size_t len)
{
	char o[1024];
	plain(jm_json_path(r, "backend_options"), o, sizeof(o));
	json_object *rep = jm_json_path(r, "repetition");
	snprintf(buf, len, "%s|%s|%s|%s", jm_json_str(r, "backend", "?"), o,
		 jm_json_str(r, "workload_spec", "?"), rep ? json_object_get_string(rep) : "?");
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

	/* every run once, no cell twice */
	size_t total = 0;
	for (int f = 0; f < n; f++)
		total += json_object_array_length(jm_json_path(in[f], "runs"));
	json_object **runs = calloc(total ? total : 1, sizeof(*runs));
	char (*keys)[1400] = calloc(total ? total : 1, sizeof(*keys));
	size_t m = 0;
	for (int f = 0; f < n; f++) {
		json_object *rs = jm_json_path(in[f], "runs");
		for (size_t i = 0; i < json_object_array_length(rs); i++) {
			json_object *r = json_object_array_get_idx(rs, i);
			cell_key(r, keys[m], sizeof(keys[0]));
			for (size_t j = 0; j < m; j++)
				if (!strcmp(keys[j], keys[m])) {
					snprintf(err, errlen, "%s: run %s of %s repetition %s is in another "
							      "input too (overlapping shards?)", names[f],
						 jm_json_str(r, "backend", "?"), jm_json_str(r, "workload_spec", "?"),
						 json_object_get_string(jm_json_path(r, "repetition")));
					free(runs);
					free(keys);
					return NULL;
				}
			runs[m++] = r;
		}
	}
	free(keys);
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
