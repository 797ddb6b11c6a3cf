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

/* Numeric leaves of metrics as (path, value) pairs, in the object's
 * order, and sorted by path (ties in that order) for lookups. */
struct flat {
	char (*key)[128];
	double *val;
	size_t *sorted;
	size_t n, cap;
};

static void flat_add(struct flat *f, const char *key, double v)
{
	if (f->n == f->cap) {
		f->cap = f->cap ? f->cap * 2 : 128;
		f->key = realloc(f->key, f->cap * sizeof(*f->key));
		f->val = realloc(f->val, f->cap * sizeof(*f->val));
		if (!f->key || !f->val)
			abort();
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

static int cmp_flat(const void *a, const void *b, void *f)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	int c = strcmp(((const struct flat *)f)->key[x], ((const struct flat *)f)->key[y]);
	return c ? c : (x > y) - (x < y);
}

static void flat_sort(struct flat *f)
{
	f->sorted = malloc((f->n ? f->n : 1) * sizeof(size_t));
	if (!f->sorted)
		abort();
	for (size_t i = 0; i < f->n; i++)
		f->sorted[i] = i;
	qsort_r(f->sorted, f->n, sizeof(size_t), cmp_flat, f);
}

/* the value of the first pair with this path, or -1 */
static int flat_find(const struct flat *f, const char *key, double *v)
{
	size_t lo = 0, hi = f->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(f->key[f->sorted[mid]], key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == f->n || strcmp(f->key[f->sorted[lo]], key))
		return -1;
	*v = f->val[f->sorted[lo]];
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

json_object *jm_json_number(double v)
{
	if (v == floor(v) && fabs(v) < 9e15)
		return json_object_new_int64((int64_t)v);
	/* the shortest text that reads back as v (json-c writes 17 digits:
	 * 0.1 as 0.10000000000000001) */
	char text[32];
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(text, sizeof(text), "%.*g", prec, v);
		if (strtod(text, NULL) == v)
			break;
	}
	return json_object_new_double_s(v, text);
}

char *jm_group_key(json_object *o)
{
	json_object *opts = jm_json_path(o, "backend_options");
	char *key = NULL;
	if (asprintf(&key, "%s|%s|%s", jm_json_str(o, "backend", "?"),
		     opts ? json_object_to_json_string_ext(opts, JSON_C_TO_STRING_PLAIN) : "{}",
		     jm_json_str(o, "workload_spec", "?")) < 0)
		abort();
	return key;
}

/* FNV-1a over the key's bytes */
static size_t key_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
	return (size_t)(h ^ h >> 32);
}

/* the slot holding key's group (its first entry + 1), or the empty slot
 * where it would go */
static size_t key_slot(const struct jm_group_index *ix, const char *key)
{
	size_t mask = ix->nslots - 1;
	for (size_t j = key_hash(key) & mask;; j = (j + 1) & mask)
		if (!ix->slot[j] || !strcmp(ix->key[ix->slot[j] - 1], key))
			return j;
}

void jm_group_index_build(json_object *arr, struct jm_group_index *ix)
{
	memset(ix, 0, sizeof(*ix));
	ix->n = arr && json_object_is_type(arr, json_type_array) ? json_object_array_length(arr) : 0;
	ix->nslots = 16;
	while (ix->nslots < 2 * ix->n)
		ix->nslots *= 2;
	size_t cap = ix->n ? ix->n : 1;
	ix->key = calloc(cap, sizeof(*ix->key));
	ix->order = malloc(cap * sizeof(*ix->order));
	ix->group = malloc(cap * sizeof(*ix->group));
	ix->start = calloc(cap + 1, sizeof(*ix->start));
	ix->slot = calloc(ix->nslots, sizeof(*ix->slot));
	size_t *fill = malloc(cap * sizeof(*fill));
	if (!ix->key || !ix->order || !ix->group || !ix->start || !ix->slot || !fill)
		abort();
	/* a group per new key, numbered in order of first entry; start[g + 1]
	 * counts group g's entries, then the sums make the offsets */
	for (size_t i = 0; i < ix->n; i++) {
		ix->key[i] = jm_group_key(json_object_array_get_idx(arr, i));
		size_t j = key_slot(ix, ix->key[i]);
		if (!ix->slot[j]) {
			ix->slot[j] = i + 1;
			ix->group[i] = ix->ngroups++;
		} else {
			ix->group[i] = ix->group[ix->slot[j] - 1];
		}
		ix->start[ix->group[i] + 1]++;
	}
	for (size_t g = 0; g < ix->ngroups; g++) {
		ix->start[g + 1] += ix->start[g];
		fill[g] = ix->start[g];
	}
	/* entries into their group's range, in array order */
	for (size_t i = 0; i < ix->n; i++)
		ix->order[fill[ix->group[i]]++] = i;
	free(fill);
}

size_t jm_group_index_lower(const struct jm_group_index *ix, const char *key)
{
	size_t j = key_slot(ix, key);
	return ix->slot[j] ? ix->start[ix->group[ix->slot[j] - 1]] : ix->n;
}

int jm_group_index_match(const struct jm_group_index *ix, size_t pos, const char *key)
{
	return pos < ix->n && !strcmp(ix->key[ix->order[pos]], key);
}

void jm_group_index_free(struct jm_group_index *ix)
{
	for (size_t i = 0; i < ix->n; i++)
		free(ix->key[i]);
	free(ix->key);
	free(ix->order);
	free(ix->group);
	free(ix->start);
	free(ix->slot);
	memset(ix, 0, sizeof(*ix));
}

/* One aggregate from the runs at order[from..to) of the index (one group,
 * in array order). */
static json_object *aggregate_group(json_object *runs, const struct jm_group_index *ix,
				    size_t from, size_t to)
{
	json_object *first = json_object_array_get_idx(runs, ix->order[from]);
	struct flat *per = calloc(to - from, sizeof(*per));
	if (!per)
		abort();
	size_t nper = 0, failed = 0;
	for (size_t j = from; j < to; j++) {
		json_object *r = json_object_array_get_idx(runs, ix->order[j]), *mt;
		if (strcmp(jm_json_str(r, "status", ""), "ok") ||
		    !json_object_object_get_ex(r, "metrics", &mt) ||
		    !json_object_is_type(mt, json_type_object)) {
			failed++;
			continue;
		}
		flatten(mt, "", &per[nper]);
		flat_sort(&per[nper]);
		nper++;
	}
	json_object *agg = json_object_new_object();
	json_object_object_add(agg, "backend", json_object_new_string(jm_json_str(first, "backend", "?")));
	json_object *opts = jm_json_path(first, "backend_options");
	json_object_object_add(agg, "backend_options", opts ? json_object_get(opts) : json_object_new_object());
	json_object_object_add(agg, "workload", json_object_new_string(jm_json_str(first, "workload", "?")));
	json_object_object_add(agg, "workload_spec", json_object_new_string(jm_json_str(first, "workload_spec", "?")));
	json_object_object_add(agg, "runs", json_object_new_int64((int64_t)(to - from)));
	json_object_object_add(agg, "failed", json_object_new_int64((int64_t)failed));
	json_object *ms = json_object_new_object();
	if (nper) {
		double *vals = malloc(nper * sizeof(double));
		if (!vals)
			abort();
		for (size_t k = 0; k < per[0].n; k++) {
			const char *key = per[0].key[k];
			/* a path twice (a key "a.b" beside an object a with
			 * b): once, with the first values */
			if (json_object_object_get_ex(ms, key, NULL))
				continue;
			size_t m = 0;
			for (size_t r = 0; r < nper; r++)
				if (flat_find(&per[r], key, &vals[m]) == 0)
					m++;
			qsort(vals, m, sizeof(double), cmp_double);
			double med = m % 2 ? vals[m / 2] : (vals[m / 2 - 1] + vals[m / 2]) / 2;
			/* mean and sample standard deviation (n - 1), for the
			 * coefficient of variation beside median and range */
			double sum = 0, sq = 0;
			for (size_t r = 0; r < m; r++)
				sum += vals[r];
			double mean = sum / (double)m;
			for (size_t r = 0; r < m; r++)
				sq += (vals[r] - mean) * (vals[r] - mean);
			double sd = m > 1 ? sqrt(sq / (double)(m - 1)) : 0;
			/* the mean of values in [min, max] is too, but for rounding */
			mean = mean < vals[0] ? vals[0] : mean > vals[m - 1] ? vals[m - 1] : mean;
			json_object *e = json_object_new_object();
			json_object_object_add(e, "median", jm_json_number(med));
			json_object_object_add(e, "min", jm_json_number(vals[0]));
			json_object_object_add(e, "max", jm_json_number(vals[m - 1]));
			json_object_object_add(e, "mean", jm_json_number(mean));
			json_object_object_add(e, "stddev", jm_json_number(sd));
			json_object_object_add(ms, key, e);
		}
		free(vals);
	}
	json_object_object_add(agg, "metrics", ms);
	for (size_t r = 0; r < nper; r++) {
		free(per[r].key);
		free(per[r].val);
		free(per[r].sorted);
	}
	free(per);
	return agg;
}

void jm_results_aggregate(json_object *root)
{
	json_object *runs;
	if (!json_object_object_get_ex(root, "runs", &runs) ||
	    !json_object_is_type(runs, json_type_array))
		return;
	/* the index's groups are in order of their first run */
	struct jm_group_index ix;
	jm_group_index_build(runs, &ix);
	json_object *aggs = json_object_new_array_ext((int)ix.ngroups);
	for (size_t g = 0; g < ix.ngroups; g++)
		json_object_array_add(aggs, aggregate_group(runs, &ix, ix.start[g], ix.start[g + 1]));
	jm_group_index_free(&ix);
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

char *jm_results_text(json_object *root, int pretty, size_t *len)
{
	const char *s = json_object_to_json_string_ext(root, JSON_C_TO_STRING_NOSLASHESCAPE |
		(pretty ? JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED : JSON_C_TO_STRING_PLAIN));
	size_t n = strlen(s);
	char *buf = malloc(n + 2);
	if (!buf)
		return NULL;
	memcpy(buf, s, n);
	buf[n] = '\n';
	buf[n + 1] = 0;
	*len = n + 1;
	return buf;
}

int jm_agg_spread(json_object *agg, const char *metric, double *mean, double *stddev)
{
	json_object *ms, *e;
	if (!json_object_object_get_ex(agg, "metrics", &ms) ||
	    !json_object_object_get_ex(ms, metric, &e) || jm_json_num(e, "mean", mean) < 0 ||
	    jm_json_num(e, "stddev", stddev) < 0)
		return -1;
	return 0;
}

int jm_results_write(json_object *root, const char *path, char *err,
		     size_t errlen)
{
	size_t len;
	char *buf = jm_results_text(root, 0, &len);
	if (!buf) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	int rc = jm_write_atomic(path, buf, len, err, errlen);
	free(buf);
	return rc;
}
