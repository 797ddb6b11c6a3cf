/* The measured part of a run: drive one backend through one workload's
 * event stream inside a window, and describe what happened as JSON.
 *
 * Everything the harness needs is allocated before the window opens (live
 * table, samples, histograms) so that the window's syscalls are the
 * backend's; the harness's own content writes are inside it, as a JIT
 * linker's would be. After the window, every live allocation is
 * deallocated and the backend destroyed, and the VMA count is compared with
 * the count before the run to catch leaked mappings. */
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../probes/procfs_sample.h"
#include "../workloads/workload.h"
#include "contents.h"
#include "context.h"
#include "leakcheck.h"
#include "reloc.h"
#include "latency.h"
#include "live_table.h"
#include "runner.h"

struct sample {
	uint64_t t_ns, events, graphs, vmas, rss, va, mapped, live_bytes;
};

struct measure {
	const struct jm_run_spec *spec;
	const struct jm_measure_hooks *hooks;
	struct jm_backend backend;
	int backend_open;
	struct jm_workload wl;
	struct jm_live_table live;
	struct sample *samples;
	unsigned nsamples, max_samples;
	uint64_t next_sample_at;
	int freeing; /* previous event was a free: peak sampling heuristic */
	struct jm_latency lat_alloc, lat_final, lat_free;
	uint64_t t0, events, graphs, frees, trims, finalizes;
	uint64_t bytes_requested, bytes_live_requested;
	uint64_t vmas_peak;
	uint64_t trim_units, trim_bytes;
	struct jm_linker linker;
	long max_map_count;
	struct failure {
		int failed, has_graph, err;
		const char *sys;
		char op[16];
		char message[512];
		uint64_t event_index, graph_id, graphs_done;
		long vmas;
	} failure;
	json_object *marks;
	char msg[512];
};

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void take_sample(struct measure *m)
{
	if (m->nsamples >= m->max_samples)
		m->nsamples = m->max_samples - 1; /* keep overwriting the last */
	struct sample *s = &m->samples[m->nsamples++];
	struct jm_backend_stats st = {0};
	if (m->backend_open)
		m->backend.ops->stats(&m->backend, &st);
	long v = jm_vma_count(0);
	s->t_ns = now_ns() - m->t0;
	s->events = m->events;
	s->graphs = m->graphs;
	s->vmas = v < 0 ? 0 : (uint64_t)v;
	s->rss = jm_rss_statm(0);
	s->va = st.va_reserved;
	s->mapped = st.bytes_mapped;
	s->live_bytes = m->bytes_live_requested;
	if (s->vmas > m->vmas_peak)
		m->vmas_peak = s->vmas;
}

static void maybe_sample(struct measure *m)
{
	if (m->graphs < m->next_sample_at || m->nsamples + 1 >= m->max_samples)
		return;
	take_sample(m);
	uint64_t next = m->next_sample_at + m->next_sample_at / 16;
	m->next_sample_at = next > m->next_sample_at ? next : m->next_sample_at + 1;
}

/* Record a failure. Nothing is allocated here: at vm.max_map_count even
 * malloc may be unable to map memory (ASan's allocator always maps), so the
 * error object is built after teardown (error_json). */
static void fail(struct measure *m, const char *op, const struct jm_event *ev)
{
	struct failure *f = &m->failure;
	f->failed = 1;
	f->vmas = jm_vma_count(0);
	snprintf(f->op, sizeof(f->op), "%s", op);
	snprintf(f->message, sizeof(f->message), "%s",
		 m->backend.err[0] ? m->backend.err : m->msg);
	f->sys = m->backend.err_sys;
	f->err = m->backend.err_errno;
	f->event_index = m->events;
	f->has_graph = ev != NULL;
	f->graph_id = ev ? ev->id : 0;
	f->graphs_done = m->graphs;
}

static json_object *error_json(const struct measure *m)
{
	const struct failure *f = &m->failure;
	json_object *e = json_object_new_object();
	json_object_object_add(e, "op", json_object_new_string(f->op));
	json_object_object_add(e, "message", json_object_new_string(f->message));
	if (f->sys)
		json_object_object_add(e, "syscall", json_object_new_string(f->sys));
	if (f->err) {
		json_object_object_add(e, "errno", json_object_new_int(f->err));
		json_object_object_add(e, "errno_name", json_object_new_string(
			jm_errno_name(f->err)));
	}
	json_object_object_add(e, "event_index", json_object_new_int64((int64_t)f->event_index));
	if (f->has_graph)
		json_object_object_add(e, "graph_id", json_object_new_int64((int64_t)f->graph_id));
	json_object_object_add(e, "graphs_done", json_object_new_int64((int64_t)f->graphs_done));
	json_object_object_add(e, "vmas_at_failure", json_object_new_int64(f->vmas));
	json_object_object_add(e, "vm_max_map_count", json_object_new_int64(m->max_map_count));
	/* mprotect splitting one VMA needs up to two more: within that of the
	 * limit, ENOMEM means the map count, not a lack of memory */
	if (f->err == ENOMEM && m->max_map_count > 0 && f->vmas >= m->max_map_count - 2)
		json_object_object_add(e, "cause", json_object_new_string(
			"the process reached vm.max_map_count VMAs"));
	return e;
}

static int do_event(struct measure *m, const struct jm_event *ev)
{
	struct jm_backend *b = &m->backend;
	uint64_t t;
	switch (ev->type) {
	case JM_EV_ALLOC: {
		if (m->freeing && m->nsamples + 1 < m->max_samples)
			take_sample(m);
		m->freeing = 0;
		struct jm_alloc *a = jm_live_insert(&m->live, ev->id);
		if (!a) {
			snprintf(m->msg, sizeof(m->msg),
				 "graph %llu allocated twice (or out of memory)",
				 (unsigned long long)ev->id);
			fail(m, "allocate", ev);
			return -1;
		}
		t = now_ns();
		if (b->ops->allocate(b, &ev->req, a) < 0) {
			jm_live_remove(&m->live, ev->id);
			fail(m, "allocate", ev);
			return -1;
		}
		jm_latency_record(&m->lat_alloc, now_ns() - t);
		a->id = ev->id;
		a->link.flags = ev->req.flags;
		jm_contents_write_linked(&m->linker, a);
		uint64_t bytes = jm_graph_bytes(&ev->req);
		m->bytes_requested += bytes;
		m->bytes_live_requested += bytes;
		m->graphs++;
		maybe_sample(m);
		if (m->hooks && m->hooks->progress && !(m->graphs & 1023))
			m->hooks->progress(m->hooks->ctx, m->graphs);
		return 0;
	}
	case JM_EV_FINALIZE: {
		struct jm_alloc *a = jm_live_find(&m->live, ev->id);
		if (!a) {
			snprintf(m->msg, sizeof(m->msg),
				 "finalize of unknown graph %llu",
				 (unsigned long long)ev->id);
			fail(m, "finalize", ev);
			return -1;
		}
		t = now_ns();
		if (b->ops->finalize(b, a) < 0) {
			fail(m, "finalize", ev);
			return -1;
		}
		jm_latency_record(&m->lat_final, now_ns() - t);
		m->finalizes++;
		/* a trace may free the callee between allocate and finalize */
		if (a->link.callee && !jm_live_find(&m->live, a->link.callee_id))
			a->link.flags |= JM_LINK_CALLEE_GONE;
		/* null's heap memory is not executable: read it back only */
		int exec = m->spec->execute && !(b->ops->caps & JM_CAP_NO_PROTECT);
		if ((m->spec->verify || m->spec->execute) &&
		    jm_contents_check_linked(&m->linker, a, exec, m->msg,
					     sizeof(m->msg)) < 0) {
			b->err[0] = 0;
			fail(m, exec ? "execute" : "verify", ev);
			return -1;
		}
		jm_link_finalized(&m->linker, a);
		return 0;
	}
	case JM_EV_FREE: {
		struct jm_alloc *a = jm_live_find(&m->live, ev->id);
		if (!a) {
			snprintf(m->msg, sizeof(m->msg), "free of unknown graph %llu",
				 (unsigned long long)ev->id);
			fail(m, "deallocate", ev);
			return -1;
		}
		uint64_t bytes = 0;
		for (uint32_t i = 0; i < a->nseg; i++)
			bytes += a->seg[i].size;
		if (!m->freeing && m->nsamples + 1 < m->max_samples)
			take_sample(m); /* the peak is just before a drop */
		m->freeing = 1;
		jm_link_forget(&m->linker, ev->id);
		t = now_ns();
		if (b->ops->deallocate(b, a) < 0) {
			fail(m, "deallocate", ev);
			return -1;
		}
		jm_latency_record(&m->lat_free, now_ns() - t);
		jm_live_remove(&m->live, ev->id);
		m->bytes_live_requested -= bytes;
		m->frees++;
		return 0;
	}
	case JM_EV_TRIM: {
		struct jm_trim_result r = {0};
		if (b->ops->trim(b, &r) < 0) {
			fail(m, "trim", ev);
			return -1;
		}
		m->trims++;
		m->trim_units += r.units_released;
		m->trim_bytes += r.bytes_released;
		if (m->nsamples + 1 < m->max_samples)
			take_sample(m);
		return 0;
	}
	case JM_EV_MARK: {
		json_object *mk = json_object_new_object();
		json_object_object_add(mk, "name", json_object_new_string(ev->mark));
		json_object_object_add(mk, "event_index", json_object_new_int64((int64_t)m->events));
		json_object_object_add(mk, "graphs", json_object_new_int64((int64_t)m->graphs));
		json_object_array_add(m->marks, mk);
		return 0;
	}
	}
	return 0;
}

static json_object *syscalls_json(const struct jm_os_counters *c)
{
	json_object *o = json_object_new_object();
	for (int s = 0; s < JM_NSYS; s++) {
		json_object *e = json_object_new_object();
		json_object_object_add(e, "calls", json_object_new_int64((int64_t)c->sys[s].calls));
		json_object_object_add(e, "errors", json_object_new_int64((int64_t)c->sys[s].errors));
		json_object_object_add(e, "bytes", json_object_new_int64((int64_t)c->sys[s].bytes));
		json_object *er = json_object_new_object();
		for (int i = 0; i < JM_OS_MAX_ERRNOS && c->sys[s].by_errno[i].err; i++)
			json_object_object_add(er, jm_errno_name(c->sys[s].by_errno[i].err),
				json_object_new_int64((int64_t)c->sys[s].by_errno[i].count));
		json_object_object_add(e, "errnos", er);
		json_object_object_add(o, jm_sys_name((enum jm_sys)s), e);
	}
	return o;
}

static json_object *latency_json(const struct jm_latency *h)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "count", json_object_new_int64((int64_t)h->count));
	json_object_object_add(o, "p50_ns", json_object_new_int64((int64_t)jm_latency_quantile(h, 0.50)));
	json_object_object_add(o, "p99_ns", json_object_new_int64((int64_t)jm_latency_quantile(h, 0.99)));
	json_object_object_add(o, "max_ns", json_object_new_int64((int64_t)h->max));
	json_object_object_add(o, "mean_ns", json_object_new_int64(
		h->count ? (int64_t)(h->sum / h->count) : 0));
	return o;
}

static json_object *series_json(const struct measure *m)
{
	static const char *const names[] = {"t_ns", "events", "graphs", "vmas",
		"rss_bytes", "va_reserved_bytes", "bytes_mapped", "bytes_live"};
	json_object *o = json_object_new_object();
	for (unsigned k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
		json_object *a = json_object_new_array_ext((int)m->nsamples);
		for (unsigned i = 0; i < m->nsamples; i++) {
			const uint64_t *f = &m->samples[i].t_ns;
			json_object_array_add(a, json_object_new_int64((int64_t)f[k]));
		}
		json_object_object_add(o, names[k], a);
	}
	return o;
}

#define ADD(obj, key, v) json_object_object_add(obj, key, json_object_new_int64((int64_t)(v)))

static json_object *reach_list(const struct jm_reach_failure *f, int n)
{
	json_object *a = json_object_new_array();
	for (int i = 0; i < n; i++) {
		char text[300];
		jm_reach_failure_text(&f[i], text, sizeof(text));
		json_object *o = json_object_new_object();
		ADD(o, "graph_id", f[i].graph);
		json_object_object_add(o, "relocation", json_object_new_string(f[i].reloc));
		json_object_object_add(o, "kind", json_object_new_string(
			f[i].kind == JM_RELOC_CALL ? "call" : "data"));
		ADD(o, "distance", f[i].distance);
		ADD(o, "min", f[i].min);
		ADD(o, "max", f[i].max);
		json_object_object_add(o, "message", json_object_new_string(text));
		json_object_array_add(a, o);
	}
	return a;
}

/* What the harness's own linking saw (reloc.h; docs/relocations.md). */
static void add_reloc_metrics(json_object *mt, const struct jm_linker *L)
{
	const struct jm_link_stats *st = &L->st;
	ADD(mt, "reloc_reach_failures", st->reach_failures);
	ADD(mt, "reach_failures_aarch64", st->reach_failures_other);
	json_object *r = json_object_new_object();
	json_object_object_add(r, "code_model", json_object_new_string(jm_code_model_name(L->cm)));
	json_object_object_add(r, "arch", json_object_new_string(jm_reach_host()->arch));
	json_object_object_add(r, "other_arch", json_object_new_string(jm_reach_other()->arch));
	ADD(r, "graphs_linked", st->graphs[JM_LINK_LINKED]);
	ADD(r, "graphs_plain", st->graphs[JM_LINK_PLAIN]);
	ADD(r, "graphs_sentinel", st->graphs[JM_LINK_SENTINEL]);
	ADD(r, "data_relocations", st->relocs[JM_RELOC_DATA]);
	ADD(r, "call_relocations", st->relocs[JM_RELOC_CALL]);
	ADD(r, "max_data_distance", st->max_distance[JM_RELOC_DATA]);
	ADD(r, "max_call_distance", st->max_distance[JM_RELOC_CALL]);
	json_object_object_add(r, "first_failures", reach_list(st->first, st->nfirst));
	json_object_object_add(r, "first_failures_other",
			       reach_list(st->first_other, st->nfirst_other));
	json_object_object_add(mt, "relocations", r);
}

/* vma_headroom: graphs of this run's average shape that still fit before
 * vm.max_map_count, at the VMAs per live graph this run added. null when
 * the run added no VMAs per graph (the bound is elsewhere). */
static void add_headroom(json_object *mt, long limit, long before, long after,
			 uint64_t live)
{
	double per = live && after > before ? (double)(after - before) / (double)live : 0;
	json_object_object_add(mt, "vmas_per_graph", json_object_new_double(per));
	if (limit <= 0 || per <= 0) {
		json_object_object_add(mt, "vma_headroom", NULL);
		return;
	}
	double room = (double)(limit - after) / per;
	ADD(mt, "vma_headroom", room > 0 ? (int64_t)room : 0);
}

json_object *jm_measure(const struct jm_run_spec *spec,
			const struct jm_measure_hooks *hooks)
{
	/* Keep glibc from mmapping/brk-trimming behind the backend's back in
	 * the window: big thresholds make malloc grow the heap with brk only. */
	mallopt(M_MMAP_THRESHOLD, 32 << 20);
	mallopt(M_TOP_PAD, 64 << 20);
	mallopt(M_TRIM_THRESHOLD, 512 << 20);

	struct measure *m = calloc(1, sizeof(*m));
	json_object *run = json_object_new_object();
	char err[512];
	m->spec = spec;
	m->hooks = hooks;
	m->marks = json_object_new_array();
	m->max_samples = spec->max_samples ? spec->max_samples : 400;
	m->samples = calloc(m->max_samples, sizeof(*m->samples));
	m->next_sample_at = 1;
	jm_linker_init(&m->linker, (enum jm_code_model)spec->code_model);
	m->max_map_count = jm_max_map_count();
	if (jm_workload_open(spec->workload, spec->seed, &m->wl, err, sizeof(err)) < 0) {
		json_object_object_add(run, "status", json_object_new_string("failed"));
		json_object *e = json_object_new_object();
		json_object_object_add(e, "op", json_object_new_string("workload"));
		json_object_object_add(e, "message", json_object_new_string(err));
		json_object_object_add(run, "error", e);
		free(m->samples);
		json_object_put(m->marks);
		free(m);
		return run;
	}
	jm_live_init(&m->live, m->wl.max_live ? m->wl.max_live : 65536);
	/* pre-fault the harness's own tables so their first touches are not
	 * counted as the backend's faults */
	memset(m->live.slot, 0, m->live.cap * sizeof(*m->live.slot));
	memset(m->samples, 0, m->max_samples * sizeof(*m->samples));
	for (int i = 0; i < spec->ninject; i++)
		jm_os_inject(spec->inject[i].sys, spec->inject[i].err, spec->inject[i].nth);

	if (hooks && hooks->ready)
		hooks->ready(hooks->ctx);
	long vmas_before = jm_vma_count(0);
	long mapped_before = jm_vma_count_no_heap();
	uint64_t rss_before = jm_rss_rollup(0);
	struct jm_os_counters os0, os1, osd;
	uint64_t minflt0, majflt0, minflt1, majflt1;
	if (hooks && hooks->window_begin)
		hooks->window_begin(hooks->ctx);
	jm_os_snapshot(&os0);
	jm_faults_self(&minflt0, &majflt0);
	m->t0 = now_ns();

	char berr[300];
	struct jm_event ev;
	if (jm_backend_open(spec->backend.ops, spec->backend.optspec, &m->backend,
			    berr, sizeof(berr)) < 0) {
		snprintf(m->msg, sizeof(m->msg), "%s", berr);
		fail(m, "create", NULL);
	} else {
		m->backend_open = 1;
		int r;
		while ((r = jm_workload_next(&m->wl, &ev)) > 0) {
			if (do_event(m, &ev) < 0)
				break;
			m->events++;
		}
		if (r < 0) {
			snprintf(m->msg, sizeof(m->msg), "%s", m->wl.err);
			m->backend.err[0] = 0;
			fail(m, "workload", NULL);
		}
	}
	uint64_t wall = now_ns() - m->t0;
	take_sample(m);
	struct jm_backend_stats st = {0};
	if (m->backend_open)
		m->backend.ops->stats(&m->backend, &st);
	long vmas_after = jm_vma_count(0);
	uint64_t rss_after = jm_rss_rollup(0);
	jm_faults_self(&minflt1, &majflt1);
	jm_os_snapshot(&os1);
	if (hooks && hooks->window_end)
		hooks->window_end(hooks->ctx);
	jm_os_diff(&os0, &os1, &osd);

	/* after the window: optional trim, then teardown and the leak check */
	json_object *trim = NULL;
	if (m->backend_open && spec->trim_at_end && !m->failure.failed) {
		struct jm_trim_result r = {0};
		struct jm_backend_stats st2 = {0};
		int rc = m->backend.ops->trim(&m->backend, &r);
		m->backend.ops->stats(&m->backend, &st2);
		long v2 = jm_vma_count(0);
		uint64_t rss2 = jm_rss_rollup(0);
		trim = json_object_new_object();
		json_object_object_add(trim, "ok", json_object_new_boolean(rc == 0));
		ADD(trim, "units_released", r.units_released);
		ADD(trim, "bytes_released", r.bytes_released);
		ADD(trim, "vmas_released", vmas_after - v2);
		ADD(trim, "rss_released_bytes", (int64_t)rss_after - (int64_t)rss2);
		ADD(trim, "va_released_bytes", (int64_t)st.va_reserved - (int64_t)st2.va_reserved);
	}
	if (m->backend_open) {
		size_t pos = 0;
		struct jm_alloc *a;
		while ((a = jm_live_next(&m->live, &pos)))
			m->backend.ops->deallocate(&m->backend, a);
		jm_backend_close(&m->backend);
	}
	long vmas_destroyed = jm_vma_count(0);
	long mapped_destroyed = jm_vma_count_no_heap();

	json_object_object_add(run, "status", json_object_new_string(
		m->failure.failed ? "failed" : "ok"));
	if (m->failure.failed)
		json_object_object_add(run, "error", error_json(m));
	json_object *mt = json_object_new_object();
	ADD(mt, "graphs", m->graphs);
	ADD(mt, "events", m->events);
	ADD(mt, "finalizes", m->finalizes);
	ADD(mt, "frees", m->frees);
	ADD(mt, "trims", m->trims);
	ADD(mt, "vmas_before", vmas_before);
	ADD(mt, "vmas_after", vmas_after);
	ADD(mt, "vmas_added", vmas_after - vmas_before);
	ADD(mt, "vmas_peak", m->vmas_peak > (uint64_t)vmas_after ? m->vmas_peak : (uint64_t)vmas_after);
	json_object_object_add(mt, "vmas_peak_source", json_object_new_string("procfs-samples"));
	ADD(mt, "vmas_after_teardown", vmas_destroyed);
	/* not counting the brk heap: see leakcheck.h */
	ADD(mt, "vmas_leaked", mapped_destroyed > mapped_before ? mapped_destroyed - mapped_before : 0);
	json_object_object_add(mt, "syscalls", syscalls_json(&osd));
	ADD(mt, "page_faults_minor", minflt1 - minflt0);
	ADD(mt, "page_faults_major", majflt1 - majflt0);
	uint64_t rss_peak = rss_after;
	for (unsigned i = 0; i < m->nsamples; i++)
		if (m->samples[i].rss > rss_peak)
			rss_peak = m->samples[i].rss;
	ADD(mt, "rss_before_bytes", rss_before);
	ADD(mt, "rss_after_bytes", rss_after);
	ADD(mt, "rss_added_bytes", (int64_t)rss_after - (int64_t)rss_before);
	ADD(mt, "rss_peak_bytes", rss_peak);
	ADD(mt, "va_reserved_bytes", st.va_reserved);
	ADD(mt, "va_reserved_peak_bytes", st.va_reserved_peak);
	ADD(mt, "bytes_requested", m->bytes_requested);
	ADD(mt, "bytes_live_requested", m->bytes_live_requested);
	ADD(mt, "bytes_mapped", st.bytes_mapped);
	ADD(mt, "bytes_mapped_peak", st.bytes_mapped_peak);
	ADD(mt, "bytes_wasted", st.bytes_mapped > m->bytes_live_requested
			? st.bytes_mapped - m->bytes_live_requested : 0);
	ADD(mt, "reservations", st.reservations);
	ADD(mt, "reach_failures", st.reach_failures);
	add_reloc_metrics(mt, &m->linker);
	add_headroom(mt, m->max_map_count, vmas_before, vmas_after, m->graphs - m->frees);
	ADD(mt, "trim_units_released", m->trim_units);
	ADD(mt, "trim_bytes_released", m->trim_bytes);
	ADD(mt, "wall_ns", wall);
	json_object *lat = json_object_new_object();
	json_object_object_add(lat, "allocate", latency_json(&m->lat_alloc));
	json_object_object_add(lat, "finalize", latency_json(&m->lat_final));
	json_object_object_add(lat, "deallocate", latency_json(&m->lat_free));
	json_object_object_add(mt, "latency", lat);
	json_object *bx = json_object_new_object();
	for (int i = 0; i < st.nextra; i++)
		ADD(bx, st.extra[i].name, st.extra[i].value);
	json_object_object_add(mt, "backend", bx);
	if (trim)
		json_object_object_add(mt, "trim_at_end", trim);
	json_object_object_add(run, "metrics", mt);
	json_object_object_add(run, "series", series_json(m));
	json_object_object_add(run, "marks", m->marks);
	json_object_object_add(run, "workload_spec", json_object_new_string(m->wl.spec));

	jm_workload_close(&m->wl);
	jm_live_release(&m->live);
	free(m->samples);
	free(m);
	return run;
}
