/* jitmm trace from-jitlink (jitlink_trace.h): the jitlink: workload driven
 * by a backend outside any measured run, its events kept and written as a
 * trace once the link is done (so that the header states graphs and
 * max_live). */
#include "jitlink_trace.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../allocators/os.h"
#include "../common/exit_codes.h"
#include "trace.h"
#include "workload.h"

/* a link of more graphs than this is refused rather than buffered */
#define MAX_EVENTS (4u << 20)

struct tracer {
	struct jm_backend b;
	/* graph ids are the plugin's, dense from 0 */
	struct jm_alloc *alloc;
	uint8_t *live;
	size_t cap;
	struct jm_event *ev;
	size_t nev, capev;
	int teardown;
	char err[300];
};

static int keep(struct tracer *t, const struct jm_event *ev)
{
	if (t->nev == t->capev) {
		size_t cap = t->capev ? t->capev * 2 : 1024;
		struct jm_event *n = cap <= MAX_EVENTS ? realloc(t->ev, cap * sizeof(*n)) : NULL;
		if (!n) {
			snprintf(t->err, sizeof(t->err), "more than %u events (or out of memory)",
				 MAX_EVENTS);
			return -1;
		}
		t->ev = n;
		t->capev = cap;
	}
	t->ev[t->nev++] = *ev;
	return 0;
}

static struct jm_alloc *slot(struct tracer *t, uint64_t id)
{
	if (id >= MAX_EVENTS)
		return NULL;
	if (id >= t->cap) {
		size_t cap = t->cap ? t->cap : 256;
		while (cap <= id)
			cap *= 2;
		struct jm_alloc *a = realloc(t->alloc, cap * sizeof(*a));
		if (a)
			t->alloc = a;
		uint8_t *l = a ? realloc(t->live, cap) : NULL;
		if (!l)
			return NULL;
		memset(l + t->cap, 0, cap - t->cap);
		t->live = l;
		t->cap = cap;
	}
	return &t->alloc[id];
}

static int backend_failed(struct tracer *t, const char *op)
{
	snprintf(t->err, sizeof(t->err), "backend %s: %s: %s", t->b.ops->name, op, t->b.err);
	return -1;
}

static int on_event(void *ctx, const struct jm_event *ev, struct jm_alloc **out)
{
	struct tracer *t = ctx;
	if (ev->type == JM_EV_TRIM) {
		struct jm_trim_result r;
		if (t->b.ops->trim(&t->b, &r) < 0)
			return backend_failed(t, "trim");
		return t->teardown ? 0 : keep(t, ev);
	}
	struct jm_alloc *a = slot(t, ev->id);
	if (!a) {
		snprintf(t->err, sizeof(t->err), "graph id %llu out of range",
			 (unsigned long long)ev->id);
		return -1;
	}
	int live = t->live[ev->id];
	if (live == (ev->type == JM_EV_ALLOC)) {
		snprintf(t->err, sizeof(t->err), "graph %llu: %s %s", (unsigned long long)ev->id,
			 jm_event_type_name(ev->type), live ? "while live" : "of no live graph");
		return -1;
	}
	switch (ev->type) {
	case JM_EV_ALLOC:
		if (t->b.ops->allocate(&t->b, &ev->req, a) < 0)
			return backend_failed(t, "allocate");
		t->live[ev->id] = 1;
		*out = a;
		break;
	case JM_EV_FINALIZE:
		if (t->b.ops->finalize(&t->b, a) < 0)
			return backend_failed(t, "finalize");
		break;
	case JM_EV_FREE:
		if (t->b.ops->deallocate(&t->b, a) < 0)
			return backend_failed(t, "deallocate");
		t->live[ev->id] = 0;
		break;
	default:
		return 0;
	}
	return t->teardown ? 0 : keep(t, ev);
}

static int on_observed(void *ctx, const struct jm_event *ev)
{
	struct tracer *t = ctx;
	return t->teardown ? 0 : keep(t, ev);
}

static int write_trace(struct tracer *t, const char *args, const char *out, const char *made_by)
{
	struct jm_trace_header h = {0};
	snprintf(h.source, sizeof(h.source), "jitlink:%.240s", args);
	snprintf(h.arch, sizeof(h.arch), "x86_64");
	snprintf(h.sizes, sizeof(h.sizes), "exact");
	snprintf(h.made_by, sizeof(h.made_by), "%s", made_by);
	h.page_size = jm_page_size();
	uint64_t live = 0;
	for (size_t i = 0; i < t->nev; i++) {
		if (t->ev[i].type == JM_EV_ALLOC && ++live > h.max_live)
			h.max_live = live;
		live -= t->ev[i].type == JM_EV_FREE;
		h.graphs += t->ev[i].type == JM_EV_ALLOC;
	}
	char err[600];
	struct jm_trace_writer *w = jm_trace_writer_open(out, &h, err, sizeof(err));
	if (!w) {
		fprintf(stderr, "jitmm: trace from-jitlink: %s\n", err);
		return JM_EXIT_USAGE;
	}
	for (size_t i = 0; i < t->nev; i++)
		if (jm_trace_write(w, &t->ev[i]) < 0) {
			jm_trace_writer_abort(w);
			fprintf(stderr, "jitmm: trace from-jitlink: %s: write error\n", out);
			return JM_EXIT_FAIL;
		}
	if (jm_trace_writer_close(w, err, sizeof(err)) < 0) {
		fprintf(stderr, "jitmm: trace from-jitlink: %s\n", err);
		return JM_EXIT_FAIL;
	}
	if (strcmp(out, "-"))
		fprintf(stderr, "jitmm: wrote %s: %llu graphs\n", out, (unsigned long long)h.graphs);
	return JM_EXIT_OK;
}

/* In the child: the link, then the trace. */
static int child(const char *args, const struct jm_backend_spec *bs, const char *out,
		 const char *made_by)
{
	static struct tracer t;
	struct jm_workload w;
	char err[600];
	if (jm_jitlink_workload_open(args, &w, err, sizeof(err)) < 0) {
		fprintf(stderr, "jitmm: trace from-jitlink: %s\n", err);
		return JM_EXIT_USAGE;
	}
	if (jm_backend_open(bs->ops, bs->optspec, &t.b, err, sizeof(err)) < 0) {
		fprintf(stderr, "jitmm: trace from-jitlink: backend %s: %s\n", bs->ops->name, err);
		jm_workload_close(&w);
		return JM_EXIT_USAGE;
	}
	unsigned caps = bs->ops->caps;
	struct jm_drive_host host = {
		.ctx = &t, .event = on_event, .observed = on_observed, .backend = &t.b,
		.out_of_process = !!(caps & JM_CAP_OUT_OF_PROCESS),
		.can_execute = !(caps & (JM_CAP_OUT_OF_PROCESS | JM_CAP_NO_PROTECT)),
	};
	int rc = JM_EXIT_OK;
	if (w.ops->prepare(&w, &host) < 0 || w.ops->drive(&w) < 0) {
		fprintf(stderr, "jitmm: trace from-jitlink: %s%s%s\n", w.err,
			t.err[0] ? "; " : "", t.err);
		rc = JM_EXIT_FAIL;
	}
	t.teardown = 1;
	if (w.ops->release(&w) < 0 && rc == JM_EXIT_OK) {
		fprintf(stderr, "jitmm: trace from-jitlink: %s\n", w.err);
		rc = JM_EXIT_FAIL;
	}
	jm_workload_close(&w);
	for (size_t id = 0; id < t.cap; id++)
		if (t.live[id])
			t.b.ops->deallocate(&t.b, &t.alloc[id]);
	jm_backend_close(&t.b);
	if (rc == JM_EXIT_OK)
		rc = write_trace(&t, args, out, made_by);
	free(t.ev);
	free(t.alloc);
	free(t.live);
	return rc;
}

int jm_jitlink_trace(const char *args, const struct jm_backend_spec *b, const char *out,
		     const char *made_by)
{
	/* the spec and the files are checked here, before the child */
	struct jm_workload w;
	char err[600];
	if (jm_jitlink_workload_open(args, &w, err, sizeof(err)) < 0) {
		fprintf(stderr, "jitmm: trace from-jitlink: %s\n", err);
		return JM_EXIT_USAGE;
	}
	jm_workload_close(&w);
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		fprintf(stderr, "jitmm: trace from-jitlink: fork: %s\n", strerror(errno));
		return JM_EXIT_FAIL;
	}
	if (pid == 0) {
		int rc = child(args, b, out, made_by);
		fflush(NULL);
		_exit(rc);
	}
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			fprintf(stderr, "jitmm: trace from-jitlink: waitpid: %s\n", strerror(errno));
			return JM_EXIT_FAIL;
		}
	if (WIFSIGNALED(status)) {
		fprintf(stderr, "jitmm: trace from-jitlink: the link was killed by signal %d "
			"(with backend %s)\n", WTERMSIG(status), b->ops->name);
		return JM_EXIT_FAIL;
	}
	return WEXITSTATUS(status);
}
