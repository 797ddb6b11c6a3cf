/* --workload trace:FILE: a trace file as a workload source. */
#include <stdio.h>
#include <string.h>

#include "trace.h"
#include "workload.h"

static int trace_next(struct jm_workload *w, struct jm_event *ev)
{
	int rc = jm_trace_read(w->priv, ev);
	if (rc < 0)
		snprintf(w->err, sizeof(w->err), "%.255s", jm_trace_error(w->priv));
	return rc;
}

static void trace_close(struct jm_workload *w)
{
	jm_trace_close(w->priv);
	w->priv = NULL;
}

static const struct jm_workload_ops trace_ops = {
	.kind = "trace",
	.next = trace_next,
	.close = trace_close,
};

int jm_trace_workload_open(const char *path, struct jm_workload *w, char *err,
			   size_t errlen)
{
	struct jm_trace_reader *r = jm_trace_open(path, err, errlen);
	if (!r)
		return -1;
	const struct jm_trace_header *h = jm_trace_header(r);
	w->ops = &trace_ops;
	w->priv = r;
	w->graphs = h->graphs;
	w->max_live = h->max_live;
	const char *base = strrchr(path, '/');
	snprintf(w->name, sizeof(w->name), "trace:%.57s", base ? base + 1 : path);
	snprintf(w->spec, sizeof(w->spec), "trace:%.312s", path);
	return 0;
}
