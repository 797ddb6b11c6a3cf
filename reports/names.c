/* Names of configurations: see names.h. */
#include "names.h"

#include <stdio.h>
#include <string.h>

#include "results.h"

/* Appends "lead k=v" (the first pair after lead, the others after ",")
 * whole or not at all; a pair that does not fit ends the text with
 * ",..." where it fits. *first says whether lead is still due. */
static void add_pair(char *buf, size_t len, const char *lead, int *first, const char *k,
		     const char *v)
{
	size_t used = strlen(buf);
	if (used >= 4 && !strcmp(buf + used - 4, ",..."))
		return; /* already cut */
	int w = snprintf(buf + used, len - used, "%s%s%s%s", *first ? lead : ",", k, *v ? "=" : "",
			 v);
	if (w < 0 || (size_t)w >= len - used) {
		buf[used] = 0;
		if (used + 5 <= len)
			memcpy(buf + used, ",...", 5);
		return;
	}
	*first = 0;
}

static int in_list(json_object *list, const char *s)
{
	size_t n = list && json_object_is_type(list, json_type_array)
		? json_object_array_length(list) : 0;
	for (size_t i = 0; i < n; i++)
		if (!strcmp(json_object_get_string(json_object_array_get_idx(list, i)), s))
			return 1;
	return 0;
}

void jm_name_backend_from(const char *backend, json_object *options, json_object *defaults,
			  json_object *test_options, char *buf, size_t len)
{
	const char *label = "";
	json_object *l;
	if (options && json_object_object_get_ex(options, "label", &l))
		label = json_object_get_string(l);
	snprintf(buf, len, *label ? "%s[%s]" : "%s", backend, label);
	if (!options || !json_object_is_type(options, json_type_object))
		return;
	int first = 1;
	json_object_object_foreach(options, k, v) {
		const char *val = json_object_get_string(v);
		json_object *d;
		if (!strcmp(k, "label") || in_list(test_options, k))
			continue;
		/* a label stands for its plugin (two LLVM builds) */
		if (*label && !strcmp(k, "plugin"))
			continue;
		if (defaults && json_object_object_get_ex(defaults, k, &d) &&
		    !strcmp(json_object_get_string(d), val))
			continue;
		add_pair(buf, len, ":", &first, k, val);
	}
}

/* config.backends[] entry of backend that holds its defaults, or NULL */
static json_object *backend_config(json_object *root, const char *backend)
{
	json_object *bl = jm_json_path(root, "config.backends");
	size_t n = bl && json_object_is_type(bl, json_type_array) ? json_object_array_length(bl) : 0;
	for (size_t i = 0; i < n; i++) {
		json_object *b = json_object_array_get_idx(bl, i);
		if (!strcmp(jm_json_str(b, "name", ""), backend) && jm_json_path(b, "defaults"))
			return b;
	}
	return NULL;
}

void jm_name_backend(json_object *root, json_object *o, char *buf, size_t len)
{
	const char *backend = jm_json_str(o, "backend", "?");
	json_object *b = backend_config(root, backend);
	jm_name_backend_from(backend, jm_json_path(o, "backend_options"),
			     b ? jm_json_path(b, "defaults") : NULL,
			     b ? jm_json_path(b, "test_options") : NULL, buf, len);
}

/* The value of key in a spec "kind:k=v,k=v" (copied to val), or -1. */
static int spec_value(const char *spec, const char *key, char *val, size_t len)
{
	const char *p = strchr(spec, ':');
	size_t kl = strlen(key);
	for (p = p ? p + 1 : spec + strlen(spec); *p;) {
		size_t n = strcspn(p, ",");
		if (n > kl && !strncmp(p, key, kl) && p[kl] == '=') {
			snprintf(val, len, "%.*s", (int)(n - kl - 1), p + kl + 1);
			return 0;
		}
		p += n + (p[n] == ',');
	}
	return -1;
}

void jm_name_workload(json_object *root, json_object *o, char *buf, size_t len)
{
	const char *name = jm_json_str(o, "workload", "?"), *spec = jm_json_str(o, "workload_spec", "");
	json_object *dflt = NULL;
	json_object *defaults = jm_json_path(root, "config.workload_defaults");
	if (defaults && json_object_is_type(defaults, json_type_object))
		json_object_object_get_ex(defaults, name, &dflt);
	/* a trace is its file; without the defaults, the whole spec */
	if (!strncmp(spec, "trace:", 6) || !dflt || !strchr(spec, ':')) {
		snprintf(buf, len, "%s", *spec ? spec : name);
		return;
	}
	const char *base = json_object_get_string(dflt);
	snprintf(buf, len, "%s", name);
	int first = 1;
	for (const char *p = strchr(spec, ':') + 1; *p;) {
		size_t n = strcspn(p, ","), kl = strcspn(p, "=");
		char key[64], val[256], def[256];
		if (kl < n && kl < sizeof(key)) {
			snprintf(key, sizeof(key), "%.*s", (int)kl, p);
			snprintf(val, sizeof(val), "%.*s", (int)(n - kl - 1), p + kl + 1);
			if (spec_value(base, key, def, sizeof(def)) < 0 || strcmp(def, val))
				add_pair(buf, len, ":", &first, key, val);
		}
		p += n + (p[n] == ',');
	}
}

void jm_name_run_options(json_object *root, char *buf, size_t len)
{
	buf[0] = 0;
	int first = 1;
	json_object *c = jm_json_path(root, "config");
	double threads = 1;
	char num[32];
	if (jm_json_num(c, "threads", &threads) == 0 && threads > 1) {
		snprintf(num, sizeof(num), "%.0f", threads);
		add_pair(buf, len, "", &first, "threads", num);
	}
	static const struct {
		const char *key, *plain;
	} texts[] = {{"replay", "model"}, {"code_model", "small"}, {"host", "normal"}};
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		const char *v = jm_json_str(c, texts[i].key, texts[i].plain);
		if (strcmp(v, texts[i].plain))
			add_pair(buf, len, "", &first, texts[i].key, v);
	}
	static const char *const flags[] = {"execute", "verify", "trim_at_end"};
	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		json_object *f = jm_json_path(c, flags[i]);
		if (f && json_object_get_boolean(f))
			add_pair(buf, len, "", &first, flags[i], "");
	}
	json_object *inj = jm_json_path(c, "inject");
	size_t n = inj && json_object_is_type(inj, json_type_array) ? json_object_array_length(inj) : 0;
	for (size_t i = 0; i < n; i++)
		add_pair(buf, len, "", &first, "inject",
			 json_object_get_string(json_object_array_get_idx(inj, i)));
}

void jm_name_config(json_object *root, json_object *o, char *buf, size_t len)
{
	char w[JM_NAME_MAX], b[JM_NAME_MAX], r[JM_NAME_MAX];
	jm_name_workload(root, o, w, sizeof(w));
	jm_name_backend(root, o, b, sizeof(b));
	jm_name_run_options(root, r, sizeof(r));
	snprintf(buf, len, "%s/%s%s%s", w, b, *r ? "/" : "", r);
}
