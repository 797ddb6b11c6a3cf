#include "results.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/atomic_write.h"

json_object *jm_results_new(json_object *context, json_object *config)
{
	json_object *root = json_object_new_object();
	json_object_object_add(root, "schema_version", json_object_new_int(JM_SCHEMA_VERSION));
	json_object_object_add(root, "generator", json_object_new_string("jitmm"));
	json_object_object_add(root, "context", context);
	json_object_object_add(root, "config", config);
	json_object_object_add(root, "runs", json_object_new_array());
	json_object_object_add(root, "aggregates", json_object_new_array());
	return root;
}

void jm_results_add_run(json_object *root, json_object *run)
{
	json_object *runs;
	if (json_object_object_get_ex(root, "runs", &runs))
		json_object_array_add(runs, run);
}

void jm_options_append(json_object *o, const char *lead, char *buf, size_t len)
{
	size_t used = strnlen(buf, len);
	int first = 1;
	if (!o || !json_object_is_type(o, json_type_object))
		return;
	json_object_object_foreach(o, k, v) {
		if (used + 2 >= len) /* no room for more than a separator */
			break;
		int w = snprintf(buf + used, len - used, "%s%s=%s", first ? lead : ",", k,
				 json_object_get_string(v));
		if (w < 0 || (size_t)w >= len - used)
			break; /* truncated: buf holds what fitted */
		used += (size_t)w;
		first = 0;
	}
}

/* Flatten numeric leaves of metrics into (path, value) pairs. */
struct flat {
	char (*key)[128];
	double *val;
	size_t n, cap;
};

static void flat_add(struct flat *f, const char *key, double v)
{
	if (f->n == f->cap) {
		f->cap = f->cap ? f->cap * 2 : 128;
		f->key = realloc(f->key, f->cap * sizeof(*f->key));
		f->val = realloc(f->val, f->cap * sizeof(*f->val));
	}
	snprintf(f->key[f->n], sizeof(f->key[0]), "%s", key);
	f->val[f->n++] = v;
}

static void flatten(json_object *o, const char *prefix, struct flat *f)
{
	json_object_object_foreach(o, k, v) {
		char key[128];
		snprintf(key, sizeof(key), "%s%s%s", prefix, *prefix ? "." : "", k);
		if (json_object_is_type(v, json_type_object))
			flatten(v, key, f);
		else if (json_object_is_type(v, json_type_int) ||
			 json_object_is_type(v, json_type_double))
			flat_add(f, key, json_object_get_double(v));
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static json_object *num(double v)
{
	if (v == floor(v) && fabs(v) < 9e15)
		return json_object_new_int64((int64_t)v);
	return json_object_new_double(v);
}

static const char *group_key(json_object *run, char *buf, size_t len)
{
	json_object *opts = jm_json_path(run, "backend_options");
	snprintf(buf, len, "%s|%s|%s", jm_json_str(run, "backend", "?"),
		 opts ? json_object_to_json_string_ext(opts, JSON_C_TO_STRING_PLAIN) : "{}",
		 jm_json_str(run, "workload_spec", "?"));
	return buf;
}

void jm_results_aggregate(json_object *root)
{
	json_object *runs;
	if (!json_object_object_get_ex(root, "runs", &runs))
		return;
	json_object *aggs = json_object_new_array();
	size_t n = json_object_array_length(runs);
	char *done = calloc(n ? n : 1, 1);
	for (size_t i = 0; i < n; i++) {
		if (done[i])
			continue;
		json_object *first = json_object_array_get_idx(runs, i);
		char ka[1024], kb[1024];
		group_key(first, ka, sizeof(ka));
		struct flat *per = NULL;
		size_t nper = 0, total = 0, failed = 0;
		for (size_t j = i; j < n; j++) {
			json_object *r = json_object_array_get_idx(runs, j);
			if (done[j] || strcmp(group_key(r, kb, sizeof(kb)), ka))
				continue;
			done[j] = 1;
			total++;
			json_object *mt;
			if (strcmp(jm_json_str(r, "status", ""), "ok") ||
			    !json_object_object_get_ex(r, "metrics", &mt)) {
				failed++;
				continue;
			}
			per = realloc(per, (nper + 1) * sizeof(*per));
			memset(&per[nper], 0, sizeof(per[0]));
			flatten(mt, "", &per[nper]);
			nper++;
		}
		json_object *agg = json_object_new_object();
		json_object_object_add(agg, "backend", json_object_new_string(jm_json_str(first, "backend", "?")));
		json_object *opts = jm_json_path(first, "backend_options");
		json_object_object_add(agg, "backend_options", opts ? json_object_get(opts) : json_object_new_object());
		json_object_object_add(agg, "workload", json_object_new_string(jm_json_str(first, "workload", "?")));
		json_object_object_add(agg, "workload_spec", json_object_new_string(jm_json_str(first, "workload_spec", "?")));
		json_object_object_add(agg, "runs", json_object_new_int((int)total));
		json_object_object_add(agg, "failed", json_object_new_int((int)failed));
		json_object *ms = json_object_new_object();
		if (nper) {
			double *vals = malloc(nper * sizeof(double));
			for (size_t k = 0; k < per[0].n; k++) {
				size_t m = 0;
				for (size_t r = 0; r < nper; r++)
					for (size_t q = 0; q < per[r].n; q++)
						if (!strcmp(per[r].key[q], per[0].key[k])) {
							vals[m++] = per[r].val[q];
							break;
						}
				qsort(vals, m, sizeof(double), cmp_double);
				double med = m % 2 ? vals[m / 2] : (vals[m / 2 - 1] + vals[m / 2]) / 2;
				json_object *e = json_object_new_object();
				json_object_object_add(e, "median", num(med));
				json_object_object_add(e, "min", num(vals[0]));
				json_object_object_add(e, "max", num(vals[m - 1]));
				json_object_object_add(ms, per[0].key[k], e);
			}
			free(vals);
		}
		json_object_object_add(agg, "metrics", ms);
		json_object_array_add(aggs, agg);
		for (size_t r = 0; r < nper; r++) {
			free(per[r].key);
			free(per[r].val);
		}
		free(per);
	}
	free(done);
	json_object_object_add(root, "aggregates", aggs);
}

int jm_agg_metric(json_object *agg, const char *metric, double *median,
		  double *min, double *max)
{
	json_object *ms, *e;
	if (!json_object_object_get_ex(agg, "metrics", &ms) ||
	    !json_object_object_get_ex(ms, metric, &e))
		return -1;
	double a = 0, b = 0, c = 0;
	if (jm_json_num(e, "median", &a) < 0)
		return -1;
	jm_json_num(e, "min", &b);
	jm_json_num(e, "max", &c);
	if (median) *median = a;
	if (min) *min = b;
	if (max) *max = c;
	return 0;
}

int jm_results_write(json_object *root, const char *path, char *err,
		     size_t errlen)
{
	const char *s = json_object_to_json_string_ext(root,
		JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE);
	size_t len = strlen(s);
	char *buf = malloc(len + 2);
	if (!buf) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	memcpy(buf, s, len);
	buf[len] = '\n';
	int rc = jm_write_atomic(path, buf, len + 1, err, errlen);
	free(buf);
	return rc;
}
