/* What run and sweep record about their configuration: see cli.h. */
#include <string.h>
#include <time.h>

#include "../allocators/backend.h"
#include "../allocators/options.h"
#include "../run/runner.h"
#include "../workloads/workload.h"
#include "cli.h"

json_object *jm_config_backend(const struct jm_backend_spec *b)
{
	json_object *o = json_object_new_object(), *defaults = json_object_new_object(),
		    *tests = json_object_new_array();
	json_object_object_add(o, "name", json_object_new_string(b->ops->name));
	json_object_object_add(o, "options", jm_backend_options_json(b));
	struct jm_optvals v;
	char err[200];
	if (jm_opts_parse(b->ops->options, "", &v, err, sizeof(err)) == 0)
		for (int i = 0; i < v.n; i++) {
			json_object_object_add(defaults, v.defs[i].name,
					       json_object_new_string(v.text[i]));
			if (v.defs[i].test_only)
				json_object_array_add(tests, json_object_new_string(v.defs[i].name));
		}
	json_object_object_add(o, "defaults", defaults);
	/* no protections, heap memory: the harness's own cost, a control
	 * that reports never count as a winner */
	if (b->ops->caps & JM_CAP_NO_PROTECT)
		json_object_object_add(o, "control", json_object_new_boolean(1));
	if (json_object_array_length(tests))
		json_object_object_add(o, "test_options", tests);
	else
		json_object_put(tests);
	return o;
}

json_object *jm_config_workload_defaults(const char (*workloads)[320], int n)
{
	json_object *o = json_object_new_object();
	for (int i = 0; i < n; i++) {
		struct jm_workload w;
		char err[300], name[64];
		/* the name alone: a preset or synthetic as it comes, seed 1 */
		size_t nl = strcspn(workloads[i], ":");
		if (nl >= sizeof(name) || !strncmp(workloads[i], "trace:", 6))
			continue;
		memcpy(name, workloads[i], nl);
		name[nl] = 0;
		if (json_object_object_get_ex(o, name, NULL) ||
		    jm_workload_open(name, 0, &w, err, sizeof(err)) < 0)
			continue;
		json_object_object_add(o, w.name, json_object_new_string(w.spec));
		jm_workload_close(&w);
	}
	return o;
}

json_object *jm_config_now(void)
{
	char buf[32];
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return json_object_new_string(buf);
}
