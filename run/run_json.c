/* Shared pieces of the run JSON: see run_json.h. */
#include "run_json.h"

json_object *jm_syscalls_json(const struct jm_sys_count *c, int n,
			      const char *(*name)(int s))
{
	json_object *o = json_object_new_object();
	for (int s = 0; s < n; s++) {
		json_object *e = json_object_new_object();
		json_object_object_add(e, "calls", json_object_new_int64((int64_t)c[s].calls));
		json_object_object_add(e, "errors", json_object_new_int64((int64_t)c[s].errors));
		json_object_object_add(e, "bytes", json_object_new_int64((int64_t)c[s].bytes));
		json_object *er = json_object_new_object();
		for (int i = 0; i < JM_OS_MAX_ERRNOS && c[s].by_errno[i].err; i++)
			json_object_object_add(er, jm_errno_name(c[s].by_errno[i].err),
				json_object_new_int64((int64_t)c[s].by_errno[i].count));
		json_object_object_add(e, "errnos", er);
		json_object_object_add(o, name(s), e);
	}
	return o;
}

json_object *jm_failed_run_json(const char *op, const char *msg)
{
	json_object *run = json_object_new_object();
	json_object_object_add(run, "status", json_object_new_string("failed"));
	json_object *e = json_object_new_object();
	json_object_object_add(e, "op", json_object_new_string(op));
	json_object_object_add(e, "message", json_object_new_string(msg));
	json_object_object_add(run, "error", e);
	return run;
}
