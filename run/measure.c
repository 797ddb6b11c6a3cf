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
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#if defined(__x86_64__)
#include <cpuid.h>
#include <x86intrin.h>
#endif

#include "../probes/procfs_sample.h"
#include "../workloads/workload.h"
#include "../linker/contents.h"
#include "context.h"
#include "leakcheck.h"
#include "../linker/reloc.h"
#include "latency.h"
#include "live_table.h"
#include "mem_budget.h"
#include "replay_literal.h"
#include "even_start.h"
#include "run_json.h"
#include "runner.h"

/* Phase marks: the first JM_MARKS_LISTED are listed in the results, the
 * rest counted (a workload may mark every cycle of millions); recorded in
 * a table allocated before the window, turned into JSON after it. */
#define JM_MARKS_LISTED 1024

struct mark {
	char name[sizeof(((struct jm_event *)0)->mark)];
	uint64_t event_index, graphs;
	unsigned thread;
};

struct sample {
	uint64_t t_ns, events, graphs, vmas, rss, va, mapped, live_bytes;
};

/* One replayed stream: its own workload, live table and histograms, so
 * that --threads N streams share nothing but the backend. */
struct stream {
	struct measure *m;
	unsigned idx;
	pthread_t thread;
	struct jm_workload wl;
	int wl_open;
	int drives; /* jm_workload_drives(&wl), asked once */
	struct jm_live_table live;
	int freeing; /* previous event was a free: peak sampling heuristic */
	struct jm_latency lat_alloc, lat_final, lat_free;
	uint64_t events, graphs, frees, trims, finalizes, sys_events, skipped;
	uint64_t bytes_requested, bytes_live_requested;
	uint64_t live_pages_bytes; /* live graphs, page-rounded (the memory guard) */
	uint64_t trim_units, trim_bytes;
	struct jm_linker linker; /* links this stream's graphs to each other */
	/* a driving workload's graphs were allocated by the backend's own
	 * real manager (jm_drive_host.observed): counted, not the backend's */
	int observed;
	char msg[512];
	/* the backend as this stream calls it: m->backend, or with --threads
	 * a copy of its own (the same ops, options and state), so that the
	 * error one thread's failing call records (jm_backend_error writes
	 * err, err_errno, ...) is never another's, nor written while another
	 * thread reads it (issue 11: no race in a backend) */
	struct jm_backend *b;
	struct jm_backend view;
};

/* The first failure of a run. Recording it allocates nothing: at
 * vm.max_map_count even malloc may be unable to map memory (ASan's
 * allocator always maps), so the error object is built after teardown
 * (error_json). */
struct failure {
	int failed, has_graph, err, thread;
	const char *sys;
	char op[16];
	char message[512];
	uint64_t event_index, graph_id, graphs_done;
	long vmas;  /* of the process the failure happened in */
	pid_t pid;  /* that process, if not this one (an executor); else 0 */
};

struct measure {
	const struct jm_run_spec *spec;
	const struct jm_measure_hooks *hooks;
	struct jm_backend backend;
	int backend_open;
	struct stream *st;
	unsigned nst;
	int sampling; /* one stream: sample the time series as it goes */
	struct sample *samples;
	unsigned nsamples, max_samples;
	uint64_t next_sample_at;
	uint64_t t0;
	uint64_t vmas_peak;
	uint64_t sampling_ns; /* time spent sampling inside the window */
	struct jm_literal lit;
	long lit_vmas_first; /* our VMA count after the first replayed sys event */
	long max_map_count;
	int torn_down; /* the window has closed: frees are teardown, not events */
	/* a stream's share of MemAvailable at the start: its live graphs may
	 * not grow past it (UINT64_MAX: unknown, no limit) */
	uint64_t live_budget;
	pthread_mutex_t lock; /* marks, failure (from several streams) */
	struct mark *marks;   /* the first JM_MARKS_LISTED, allocated before the window */
	unsigned nmarks;
	uint64_t marks_omitted;
	struct mark last_omitted;
	struct failure failure;
};

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The clock of the per-operation latencies, read six times per graph: on
 * x86-64 with an invariant TSC (CPUID 0x80000007 EDX bit 8) the TSC itself
 * (a few ns a reading; clock_gettime's vDSO reads it too, and scales it,
 * in ~20), turned into ns when the run is described, at the rate measured
 * between the start of jm_measure and the end of the window; elsewhere
 * CLOCK_MONOTONIC, in ns. */
static int op_clock_is_tsc;

static void op_clock_init(void)
{
#if defined(__x86_64__)
	unsigned a, b, c, d;
	op_clock_is_tsc = __get_cpuid(0x80000007, &a, &b, &c, &d) && (d & (1u << 8));
#endif
}

static uint64_t op_clock(void)
{
#if defined(__x86_64__)
	if (op_clock_is_tsc)
		return __rdtsc();
#endif
	return now_ns();
}

static uint64_t op_elapsed(uint64_t since)
{
	uint64_t t = op_clock();
	return t > since ? t - since : 0;
}

/* CPU time of the process (every thread) in user and kernel mode, in ns */
static void cpu_times(uint64_t *user, uint64_t *sys)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	*user = (uint64_t)ru.ru_utime.tv_sec * 1000000000ull + (uint64_t)ru.ru_utime.tv_usec * 1000u;
	*sys = (uint64_t)ru.ru_stime.tv_sec * 1000000000ull + (uint64_t)ru.ru_stime.tv_usec * 1000u;
}

static void take_sample(struct measure *m)
{
	uint64_t t_in = now_ns();
	if (m->nsamples >= m->max_samples)
		m->nsamples = m->max_samples - 1; /* keep overwriting the last */
	struct sample *s = &m->samples[m->nsamples++];
	struct jm_backend_stats st = {0};
	if (m->backend_open)
		m->backend.ops->stats(&m->backend, &st);
	long v = jm_vma_count(0);
	s->t_ns = now_ns() - m->t0;
	s->events = s->graphs = s->live_bytes = 0;
	for (unsigned i = 0; i < m->nst; i++) {
		s->events += m->st[i].events;
		s->graphs += m->st[i].graphs;
		s->live_bytes += m->st[i].bytes_live_requested;
	}
	s->vmas = v < 0 ? 0 : (uint64_t)v;
	s->rss = jm_rss_statm(0);
	s->va = st.va_reserved;
	s->mapped = st.bytes_mapped;
	if (s->vmas > m->vmas_peak)
		m->vmas_peak = s->vmas;
	/* reading /proc/self/maps costs time in proportion to the VMAs: keep
	 * it out of the run's wall time */
	m->sampling_ns += now_ns() - t_in;
}

static void maybe_sample(struct measure *m, struct stream *x)
{
	if (!m->sampling || x->graphs < m->next_sample_at ||
	    m->nsamples + 1 >= m->max_samples)
		return;
	take_sample(m);
	uint64_t next = m->next_sample_at + m->next_sample_at / 16;
	m->next_sample_at = next > m->next_sample_at ? next : m->next_sample_at + 1;
}

/* a sample at a phase edge (before a drop, after a trim) */
static void edge_sample(struct measure *m)
{
	if (m->sampling && m->nsamples + 1 < m->max_samples)
		take_sample(m);
}

static void fail(struct measure *m, struct stream *x, const char *op,
		 const struct jm_event *ev)
{
	long vmas = jm_vma_count(0);
	pthread_mutex_lock(&m->lock);
	struct failure *f = &m->failure;
	if (!f->failed) { /* the first failure is the one to report */
		snprintf(f->op, sizeof(f->op), "%s", op);
		const struct jm_backend *be = x->b;
		snprintf(f->message, sizeof(f->message), "%s", be->err[0] ? be->err : x->msg);
		f->sys = be->err_sys;
		f->err = be->err_errno;
		f->event_index = x->events;
		f->has_graph = ev != NULL;
		f->graph_id = ev ? ev->id : 0;
		f->graphs_done = x->graphs;
		f->thread = (int)x->idx;
		/* a failure in another process (shm-mapper's executor) is
		 * reported with that process's VMA count */
		f->pid = be->err[0] ? be->err_pid : 0;
		f->vmas = f->pid > 0 ? be->err_vmas : vmas;
		__atomic_store_n(&f->failed, 1, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&m->lock);
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
	if (f->pid > 0) /* vmas_at_failure is that process's */
		json_object_object_add(e, "pid", json_object_new_int(f->pid));
	json_object_object_add(e, "vm_max_map_count", json_object_new_int64(m->max_map_count));
	/* mprotect splitting one VMA needs up to two more: within that of the
	 * limit, ENOMEM means the map count, not a lack of memory */
	if (f->err == ENOMEM && m->max_map_count > 0 && f->vmas >= m->max_map_count - 2) {
		char cause[128];
		if (f->pid > 0)
			snprintf(cause, sizeof(cause), "the executor process (pid %d) reached "
				 "vm.max_map_count VMAs", (int)f->pid);
		else
			snprintf(cause, sizeof(cause), "the process reached vm.max_map_count VMAs");
		json_object_object_add(e, "cause", json_object_new_string(cause));
	}
	if (m->nst > 1)
		json_object_object_add(e, "thread", json_object_new_int(f->thread));
	return e;
}

/* A failure after the window (trim-at-end, teardown, destroy), recorded
 * like one inside it if the run has not failed yet: b->err holds the
 * message. */
static void fail_after(struct measure *m, const char *op)
{
	snprintf(m->st[0].msg, sizeof(m->st[0].msg), "%s", m->backend.err);
	fail(m, &m->st[0], op, NULL);
}

/* munmap calls that failed between a and b (the os layer's count, which
 * sees every munmap of this process): the first errno in *err. */
static uint64_t munmap_errors(const struct jm_os_counters *a, const struct jm_os_counters *b,
			      int *err)
{
	struct jm_os_counters d;
	jm_os_diff(a, b, &d);
	const struct jm_sys_count *c = &d.sys[JM_SYS_MUNMAP];
	*err = 0;
	for (int i = 0; i < JM_OS_MAX_ERRNOS && !*err; i++)
		if (c->by_errno[i].count)
			*err = c->by_errno[i].err;
	return c->errors;
}

static int failed(struct measure *m)
{
	return __atomic_load_n(&m->failure.failed, __ATOMIC_ACQUIRE);
}

/* --replay literal: the recording's syscalls, not its graphs */
static int do_literal(struct measure *m, struct stream *x, const struct jm_event *ev)
{
	if (ev->type != JM_EV_SYS) {
		x->skipped++;
		return 0;
	}
	x->sys_events++;
	if (jm_literal_apply(&m->lit, &ev->sys, x->msg, sizeof(x->msg)) < 0) {
		x->b->err[0] = 0;
		fail(m, x, "literal", ev);
		return -1;
	}
	if (x->sys_events == 1)
		m->lit_vmas_first = jm_vma_count(0);
	if (m->lit.replayed % 256 == 1)
		maybe_sample(m, x);
	return 0;
}

static int do_event(struct measure *m, struct stream *x, const struct jm_event *ev)
{
	if (m->spec->replay_literal && ev->type != JM_EV_MARK)
		return do_literal(m, x, ev);
	struct jm_backend *b = x->b;
	uint64_t t;
	switch (ev->type) {
	case JM_EV_ALLOC: {
		if (x->freeing)
			edge_sample(m);
		x->freeing = 0;
		/* before the graph touches memory: within the run's share of
		 * what was available (a trace's sizes are known only here) */
		uint64_t pages = jm_graph_pages_bytes(&ev->req);
		if (jm_sat_add(x->live_pages_bytes, pages) > m->live_budget) {
			char have[32], limit[32];
			jm_mem_text(jm_sat_add(x->live_pages_bytes, pages), have, sizeof(have));
			jm_mem_text(m->live_budget, limit, sizeof(limit));
			snprintf(x->msg, sizeof(x->msg),
				 "the live graphs would take %s, more than the %s of memory "
				 "available to %s at the start (MemAvailable): stopped before "
				 "the OOM killer would", have, limit,
				 m->nst > 1 ? "each stream" : "the run");
			b->err[0] = 0;
			fail(m, x, "workload", ev);
			return -1;
		}
		struct jm_alloc *a = jm_live_insert(&x->live, ev->id);
		if (!a) {
			snprintf(x->msg, sizeof(x->msg),
				 "graph %llu allocated twice (or out of memory)",
				 (unsigned long long)ev->id);
			fail(m, x, "allocate", ev);
			return -1;
		}
		t = op_clock();
		if (b->ops->allocate(b, &ev->req, a) < 0) {
			jm_live_remove(&x->live, ev->id);
			fail(m, x, "allocate", ev);
			return -1;
		}
		jm_latency_record(&x->lat_alloc, op_elapsed(t));
		a->id = ev->id;
		a->link.flags = ev->req.flags;
		/* a driving workload's own linker writes its contents */
		if (!x->drives)
			jm_contents_write_linked(&x->linker, a);
		uint64_t bytes = jm_graph_bytes(&ev->req);
		x->bytes_requested += bytes;
		x->bytes_live_requested += bytes;
		x->live_pages_bytes += pages;
		x->graphs++;
		maybe_sample(m, x);
		if (m->sampling && m->hooks && m->hooks->progress && !(x->graphs & 1023))
			m->hooks->progress(m->hooks->ctx, x->graphs);
		return 0;
	}
	case JM_EV_FINALIZE: {
		struct jm_alloc *a = jm_live_find(&x->live, ev->id);
		if (!a) {
			snprintf(x->msg, sizeof(x->msg),
				 "finalize of unknown graph %llu",
				 (unsigned long long)ev->id);
			fail(m, x, "finalize", ev);
			return -1;
		}
		t = op_clock();
		if (b->ops->finalize(b, a) < 0) {
			fail(m, x, "finalize", ev);
			return -1;
		}
		jm_latency_record(&x->lat_final, op_elapsed(t));
		x->finalizes++;
		/* a trace may free the callee between allocate and finalize (the
		 * linker's callee is live: it forgets one that is freed) */
		if (a->link.callee &&
		    !(x->linker.have_callee && x->linker.callee_id == a->link.callee_id) &&
		    !jm_live_find(&x->live, a->link.callee_id))
			a->link.flags |= JM_LINK_CALLEE_GONE;
		/* null's heap memory is not executable: read it back only */
		if (x->drives)
			return 0; /* not the harness's code: nothing of its own to check */
		int exec = m->spec->execute && !(b->ops->caps & JM_CAP_NO_PROTECT);
		if ((m->spec->verify || m->spec->execute) &&
		    jm_contents_check_full(&x->linker, b, a, exec, x->msg,
					     sizeof(x->msg)) < 0) {
			b->err[0] = 0;
			fail(m, x, exec ? "execute" : "verify", ev);
			return -1;
		}
		jm_link_finalized(&x->linker, a);
		return 0;
	}
	case JM_EV_FREE: {
		size_t at;
		struct jm_alloc *a = jm_live_find_at(&x->live, ev->id, &at);
		if (!a) {
			snprintf(x->msg, sizeof(x->msg), "free of unknown graph %llu",
				 (unsigned long long)ev->id);
			fail(m, x, "deallocate", ev);
			return -1;
		}
		uint64_t bytes = 0;
		for (uint32_t i = 0; i < a->nseg; i++)
			bytes += a->seg[i].size;
		x->live_pages_bytes -= jm_alloc_pages_bytes(a);
		if (!x->freeing)
			edge_sample(m); /* the peak is just before a drop */
		x->freeing = 1;
		jm_link_forget(&x->linker, ev->id);
		t = op_clock();
		if (b->ops->deallocate(b, a) < 0) {
			/* consumed even so (backend.h): teardown must not free it
			 * again (striped freed its slab twice: issue 11) */
			jm_live_remove_at(&x->live, at);
			fail(m, x, "deallocate", ev);
			return -1;
		}
		jm_latency_record(&x->lat_free, op_elapsed(t));
		jm_live_remove_at(&x->live, at);
		x->bytes_live_requested -= bytes;
		x->frees++;
		return 0;
	}
	case JM_EV_TRIM: {
		struct jm_trim_result r = {0};
		if (b->ops->trim(b, &r) < 0) {
			fail(m, x, "trim", ev);
			return -1;
		}
		x->trims++;
		x->trim_units += r.units_released;
		x->trim_bytes += r.bytes_released;
		edge_sample(m);
		return 0;
	}
	case JM_EV_SYS:
		/* raw syscalls of a recording: only --replay literal uses them */
		x->sys_events++;
		return 0;
	case JM_EV_MARK: {
		pthread_mutex_lock(&m->lock);
		struct mark *mk = m->nmarks < JM_MARKS_LISTED ? &m->marks[m->nmarks++]
							       : &m->last_omitted;
		if (mk == &m->last_omitted)
			m->marks_omitted++;
		memcpy(mk->name, ev->mark, sizeof(mk->name));
		mk->name[sizeof(mk->name) - 1] = 0;
		mk->event_index = x->events;
		mk->graphs = x->graphs;
		mk->thread = x->idx;
		pthread_mutex_unlock(&m->lock);
		return 0;
	}
	}
	return 0;
}

static json_object *mark_json(const struct measure *m, const struct mark *mk)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "name", json_object_new_string(mk->name));
	json_object_object_add(o, "event_index", json_object_new_int64((int64_t)mk->event_index));
	json_object_object_add(o, "graphs", json_object_new_int64((int64_t)mk->graphs));
	if (m->nst > 1)
		json_object_object_add(o, "thread", json_object_new_int((int)mk->thread));
	return o;
}

/* run.marks, and run.marks_omitted when there were more than listed */
static void add_marks(json_object *run, const struct measure *m)
{
	json_object *a = json_object_new_array_ext((int)m->nmarks);
	for (unsigned i = 0; i < m->nmarks; i++)
		json_object_array_add(a, mark_json(m, &m->marks[i]));
	json_object_object_add(run, "marks", a);
	if (!m->marks_omitted)
		return;
	json_object *o = json_object_new_object();
	json_object_object_add(o, "count", json_object_new_int64((int64_t)m->marks_omitted));
	json_object_object_add(o, "last", mark_json(m, &m->last_omitted));
	json_object_object_add(run, "marks_omitted", o);
}

static const char *os_sys_name(int s)
{
	return jm_sys_name((enum jm_sys)s);
}

/* h in op_clock units; ns_per_tick turns them into ns */
static json_object *latency_json(const struct jm_latency *h, double ns_per_tick)
{
#define NS(v) json_object_new_int64((int64_t)((double)(v) * ns_per_tick + 0.5))
	json_object *o = json_object_new_object();
	json_object_object_add(o, "count", json_object_new_int64((int64_t)h->count));
	json_object_object_add(o, "p50_ns", NS(jm_latency_quantile(h, 0.50)));
	json_object_object_add(o, "p99_ns", NS(jm_latency_quantile(h, 0.99)));
	json_object_object_add(o, "max_ns", NS(h->max));
	json_object_object_add(o, "mean_ns", NS(h->count ? h->sum / h->count : 0));
#undef NS
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
 * the run added no VMAs per graph (the bound is elsewhere). A backend with
 * another process (shm-mapper's executor) adds its VMAs there, under that
 * process's own limit: the figures are that process's when it adds more
 * per graph (issue 11: the controller's handful gave a headroom of 1.4e9
 * to a run that had failed at the executor's limit). */
static void add_headroom(json_object *mt, long limit, long before, long after,
			 uint64_t live, const struct jm_backend_stats *st)
{
	if (st->vmas_other_processes > (uint64_t)(after > before ? after - before : 0)) {
		after = (long)st->vmas_other_process_now;
		before = after - (long)st->vmas_other_processes;
	}
	double per = live && after > before ? (double)(after - before) / (double)live : 0;
	json_object_object_add(mt, "vmas_per_graph", json_object_new_double(per));
	if (limit <= 0 || per <= 0) {
		json_object_object_add(mt, "vma_headroom", NULL);
		return;
	}
	double room = (double)(limit - after) / per;
	ADD(mt, "vma_headroom", room > 0 ? (int64_t)room : 0);
}

/* --threads: every stream links its own graphs; the run reports them all */
static void link_stats_merge(struct jm_link_stats *into, const struct jm_link_stats *from)
{
	for (int k = 0; k < 4; k++)
		into->graphs[k] += from->graphs[k];
	for (int k = 0; k < JM_NRELOC; k++) {
		into->relocs[k] += from->relocs[k];
		if (from->max_distance[k] > into->max_distance[k])
			into->max_distance[k] = from->max_distance[k];
	}
	into->reach_failures += from->reach_failures;
	into->reach_failures_other += from->reach_failures_other;
	for (int k = 0; k < from->nfirst && into->nfirst < JM_LINK_MAX_REPORTED; k++)
		into->first[into->nfirst++] = from->first[k];
	for (int k = 0; k < from->nfirst_other && into->nfirst_other < JM_LINK_MAX_REPORTED; k++)
		into->first_other[into->nfirst_other++] = from->first_other[k];
}

/* The seed of stream i: the workload's own seed (or --seed) plus i, so
 * that the streams of a synthetic workload differ; traces ignore it. */
static uint64_t stream_seed(const struct jm_run_spec *spec, const struct jm_workload *first,
			    unsigned i)
{
	if (i == 0)
		return spec->seed;
	uint64_t base = spec->seed;
	const char *p = strstr(first->spec, "seed=");
	if (!base && p)
		base = strtoull(p + 5, NULL, 10);
	return (base ? base : 1) + i;
}

/* jm_drive_host.event: a driving workload's event, as a pulled one */
static int drive_event(void *ctx, const struct jm_event *ev, struct jm_alloc **out)
{
	struct stream *x = ctx;
	struct measure *m = x->m;
	if (m->torn_down) {
		/* the workload's teardown, after the window: freed, not counted
		 * (as the leftovers of a pulled workload) */
		struct jm_alloc *a = ev->type == JM_EV_FREE ? jm_live_find(&x->live, ev->id) : NULL;
		if (a) {
			if (m->backend.ops->deallocate(&m->backend, a) < 0)
				fail_after(m, "deallocate");
			jm_live_remove(&x->live, ev->id);
		}
		return ev->type == JM_EV_FREE ? 0 : -1;
	}
	if (!m->backend_open) {
		snprintf(x->msg, sizeof(x->msg), "the workload made a graph event before the "
			 "window (its prepare step must not allocate)");
		return -1;
	}
	if (do_event(m, x, ev) < 0)
		return -1;
	x->events++;
	if (out)
		*out = ev->type == JM_EV_ALLOC ? jm_live_find(&x->live, ev->id) : NULL;
	return 0;
}

/* jm_drive_host.observed: the backend's own manager did it; count it */
static int drive_observed(void *ctx, const struct jm_event *ev)
{
	struct stream *x = ctx;
	x->observed = 1;
	struct jm_alloc *a = jm_live_find(&x->live, ev->id);
	if (x->m->torn_down) {
		if (a && ev->type == JM_EV_FREE)
			jm_live_remove(&x->live, ev->id);
		return 0;
	}
	switch (ev->type) {
	case JM_EV_ALLOC:
		if (!(a = jm_live_insert(&x->live, ev->id))) {
			snprintf(x->msg, sizeof(x->msg), "graph %llu allocated twice (or out of "
				 "memory)", (unsigned long long)ev->id);
			x->b->err[0] = 0;
			fail(x->m, x, "allocate", ev);
			return -1;
		}
		jm_alloc_init(a, &ev->req);
		x->bytes_requested += jm_graph_bytes(&ev->req);
		x->bytes_live_requested += jm_graph_bytes(&ev->req);
		x->graphs++;
		maybe_sample(x->m, x);
		break;
	case JM_EV_FINALIZE:
		x->finalizes++;
		break;
	case JM_EV_FREE:
		if (a) {
			for (uint32_t i = 0; i < a->nseg; i++)
				x->bytes_live_requested -= a->seg[i].size;
			jm_live_remove(&x->live, ev->id);
		}
		x->frees++;
		break;
	default:
		break;
	}
	x->events++;
	return 0;
}

static void run_stream(struct measure *m, struct stream *x)
{
	const struct jm_event *ev;
	int r = 0;
	if (x->drives) {
		if (x->wl.ops->drive(&x->wl) < 0 && !failed(m)) {
			snprintf(x->msg, sizeof(x->msg), "%s", x->wl.err);
			x->b->err[0] = 0;
			fail(m, x, "workload", NULL);
		}
		return;
	}
	while (!failed(m) && (r = jm_workload_next_ref(&x->wl, &ev)) > 0) {
		if (do_event(m, x, ev) < 0)
			return;
		x->events++;
	}
	if (!failed(m) && r < 0) {
		/* the workload's input is malformed (a trace's FILE:LINE): an
		 * input error, which stops `run` (run_cell.c), not a failed run */
		snprintf(x->msg, sizeof(x->msg), "%s", x->wl.err);
		fail(m, x, "input", NULL);
	}
}

/* --threads: the streams' threads are created before the window opens and
 * exit after it closes, so neither their stacks' mmap nor glibc's madvise
 * of a dying thread's stack falls inside it. They wait at the gate until
 * the backend exists (gate = 1 run, -1 give up), count themselves done,
 * and wait for the window to close (gate = 2) before they return. */
static pthread_mutex_t gate_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cond = PTHREAD_COND_INITIALIZER;
static int gate;
static unsigned streams_done;

static void open_gate(int go)
{
	pthread_mutex_lock(&gate_lock);
	gate = go;
	pthread_cond_broadcast(&gate_cond);
	pthread_mutex_unlock(&gate_lock);
}

static void wait_streams_done(unsigned n)
{
	pthread_mutex_lock(&gate_lock);
	while (streams_done < n)
		pthread_cond_wait(&gate_cond, &gate_lock);
	pthread_mutex_unlock(&gate_lock);
}

static void *stream_thread(void *arg)
{
	struct stream *x = arg;
	pthread_mutex_lock(&gate_lock);
	while (gate == 0)
		pthread_cond_wait(&gate_cond, &gate_lock);
	int go = gate;
	pthread_mutex_unlock(&gate_lock);
	if (go > 0) {
		/* the backend is open (the gate opened): a view of it of our own */
		x->view = x->m->backend;
		x->view.err[0] = 0;
		x->b = &x->view;
		run_stream(x->m, x);
		x->b = &x->m->backend; /* after the window, errors are the run's */
	}
	pthread_mutex_lock(&gate_lock);
	streams_done++;
	pthread_cond_broadcast(&gate_cond);
	while (gate == 1)
		pthread_cond_wait(&gate_cond, &gate_lock);
	pthread_mutex_unlock(&gate_lock);
	return NULL;
}

static void free_streams(struct measure *m)
{
	for (unsigned i = 0; i < m->nst; i++) {
		if (m->st[i].wl_open)
			jm_workload_close(&m->st[i].wl);
		jm_live_release(&m->st[i].live);
	}
	free(m->st);
}

/* A run that never started: free what was set up, report why. */
static json_object *abandon(struct measure *m, const char *why)
{
	free_streams(m);
	free(m->samples);
	free(m->marks);
	pthread_mutex_destroy(&m->lock);
	free(m);
	return jm_failed_run_json("workload", why);
}

/* What the run will touch at its peak, per stream: the live-graph table
 * (pre-faulted below) and the workload's live graphs (its estimate; a
 * trace states none and is held to the budget as it goes). Refused when
 * the streams together need more than MemAvailable; otherwise each stream
 * gets its share as the live graphs' budget. 0 or -1 with the message. */
static int mem_check(struct measure *m, char *err, size_t errlen)
{
	const struct jm_workload *w = &m->st[0].wl;
	uint64_t table = jm_live_table_bytes(w->max_live ? w->max_live : 65536);
	uint64_t need = jm_sat_mul(jm_sat_add(table, w->peak_bytes), m->nst);
	uint64_t avail = jm_mem_available();
	m->live_budget = avail ? avail / m->nst : UINT64_MAX;
	if (!avail || need <= avail)
		return 0;
	char n[32], a[32], t[32], g[32];
	jm_mem_text(need, n, sizeof(n));
	jm_mem_text(avail, a, sizeof(a));
	jm_mem_text(table, t, sizeof(t));
	jm_mem_text(w->peak_bytes, g, sizeof(g));
	snprintf(err, errlen, "%.200s needs about %s (%u stream%s of: live graphs %s at the peak, "
		 "their table %s), more than the %s available (MemAvailable): refused before "
		 "it started", w->spec, n, m->nst, m->nst == 1 ? "" : "s", g, t, a);
	return -1;
}

/* The child's first brk makes a heap VMA of its own: the part of the heap
 * inherited from the parent does not merge with it (a forked anon_vma).
 * Growing the heap once here, by the M_TOP_PAD set above, keeps that VMA
 * and its syscall out of the window, where it would count as the
 * backend's; later growth extends the child's own VMA. */
static void grow_heap_now(void)
{
	void *volatile p = malloc(1 << 20);
	free(p);
}

json_object *jm_measure(const struct jm_run_spec *spec,
			const struct jm_measure_hooks *hooks)
{
	/* Keep glibc from mmapping/brk-trimming behind the backend's back in
	 * the window: big thresholds make malloc grow the heap with brk only. */
	mallopt(M_MMAP_THRESHOLD, 32 << 20);
	mallopt(M_TOP_PAD, 64 << 20);
	mallopt(M_TRIM_THRESHOLD, 512 << 20);
	/* --threads: no per-thread malloc arenas (each is a mapping) */
	mallopt(M_ARENA_MAX, 1);
	grow_heap_now();

	op_clock_init();
	uint64_t clock_t0 = now_ns(), clock_c0 = op_clock();
	char err[512];
	unsigned nst = spec->threads > 1 ? spec->threads : 1;
	if (nst > 1 && !(spec->backend.ops->caps & JM_CAP_THREAD_SAFE)) {
		snprintf(err, sizeof(err), "backend %s is not thread-safe: --threads %u refused",
			 spec->backend.ops->name, nst);
		return jm_failed_run_json("create", err);
	}
	if (nst > 1 && spec->replay_literal)
		return jm_failed_run_json("create", "--replay literal replays one stream: no --threads");
	struct measure *m = calloc(1, sizeof(*m));
	m->st = calloc(nst, sizeof(*m->st));
	m->nst = nst;
	m->sampling = nst == 1;
	m->spec = spec;
	m->hooks = hooks;
	pthread_mutex_init(&m->lock, NULL);
	jm_literal_init(&m->lit);
	m->marks = calloc(JM_MARKS_LISTED, sizeof(*m->marks));
	m->max_samples = spec->max_samples ? spec->max_samples : 400;
	m->samples = calloc(m->max_samples, sizeof(*m->samples));
	m->next_sample_at = 1;
	m->max_map_count = jm_max_map_count();
	for (unsigned i = 0; i < nst; i++) {
		struct stream *x = &m->st[i];
		x->m = m;
		x->b = &m->backend;
		x->idx = i;
		if (jm_workload_open(spec->workload, stream_seed(spec, &m->st[0].wl, i), &x->wl,
				     err, sizeof(err)) < 0)
			return abandon(m, err);
		x->wl_open = 1;
		x->drives = jm_workload_drives(&x->wl);
	}
	/* before anything big is allocated or touched: the run's estimate
	 * against the memory available */
	if (mem_check(m, err, sizeof(err)) < 0)
		return abandon(m, err);
	for (unsigned i = 0; i < nst; i++) {
		struct stream *x = &m->st[i];
		jm_linker_init(&x->linker, (enum jm_code_model)spec->code_model);
		/* sized (and its pages touched) for the graphs the workload
		 * says it keeps live, up to a bound; beyond, it grows */
		if (jm_live_init(&x->live, x->wl.max_live ? x->wl.max_live : 4096) < 0) {
			snprintf(err, sizeof(err), "no memory for a table of %llu live graphs",
				 (unsigned long long)x->wl.max_live);
			return abandon(m, err);
		}
	}
	/* touched now: their first writes are not the backend's page faults */
	memset(m->samples, 0, m->max_samples * sizeof(*m->samples));
	/* a driving workload prepares before the window (the LLVM plugin, the
	 * inputs, the session); its events come back through drive_event */
	if (jm_workload_drives(&m->st[0].wl)) {
		struct jm_drive_host host = {
			.ctx = &m->st[0], .event = drive_event, .observed = drive_observed,
			.backend = &m->backend,
			.out_of_process = !!(spec->backend.ops->caps & JM_CAP_OUT_OF_PROCESS),
			.can_execute = !(spec->backend.ops->caps &
					 (JM_CAP_OUT_OF_PROCESS | JM_CAP_NO_PROTECT)),
		};
		if (nst > 1)
			snprintf(err, sizeof(err), "workload %s drives the backend itself: no "
				 "--threads (its threads=N option sets the linker's)", spec->workload);
		if (nst > 1 || m->st[0].wl.ops->prepare(&m->st[0].wl, &host) < 0) {
			if (nst == 1)
				snprintf(err, sizeof(err), "%s", m->st[0].wl.err);
			return abandon(m, err);
		}
	}
	memset(m->marks, 0, JM_MARKS_LISTED * sizeof(*m->marks));
	unsigned started = 0;
	if (nst > 1) {
		gate = 0;
		streams_done = 0;
		for (; started < nst; started++)
			if (pthread_create(&m->st[started].thread, NULL, stream_thread,
					   &m->st[started]) != 0)
				break;
	}
	if (hooks && hooks->ready)
		hooks->ready(hooks->ctx);
	/* what the backend needs set up (the LLVM plugin, an executor process,
	 * which a parent-side probe follows from here), outside the window
	 * and before any injected failure */
	const struct jm_backend_ops *bops = spec->backend.ops;
	char prep_err[512] = "";
	if (bops->prepare) {
		struct jm_optvals pv;
		if (jm_opts_parse(bops->options, spec->backend.optspec, &pv, prep_err,
				  sizeof(prep_err)) == 0)
			bops->prepare(bops, &pv, prep_err, sizeof(prep_err));
		else if (!prep_err[0])
			snprintf(prep_err, sizeof(prep_err), "bad options");
	}
	if (spec->even_start)
		jm_even_start();
	for (int i = 0; i < spec->ninject; i++)
		jm_os_inject(spec->inject[i].sys, spec->inject[i].err, spec->inject[i].nth);
	long vmas_before = jm_vma_count(0);
	long mapped_before = jm_vma_count_no_heap();
	uint64_t rss_before = jm_rss_rollup(0);
	struct jm_os_counters os0, os1, osd;
	uint64_t minflt0, majflt0, minflt1, majflt1;
	if (hooks && hooks->window_begin)
		hooks->window_begin(hooks->ctx);
	jm_os_snapshot(&os0);
	jm_faults_self(&minflt0, &majflt0);
	uint64_t user0, sys0, user1, sys1;
	cpu_times(&user0, &sys0);
	m->t0 = now_ns();

	char berr[300];
	if (prep_err[0]) {
		snprintf(m->st[0].msg, sizeof(m->st[0].msg), "backend %s: %.480s", bops->name,
			 prep_err);
		fail(m, &m->st[0], "create", NULL);
	} else if (jm_backend_open(spec->backend.ops, spec->backend.optspec, &m->backend,
				   berr, sizeof(berr)) < 0) {
		snprintf(m->st[0].msg, sizeof(m->st[0].msg), "%s", berr);
		fail(m, &m->st[0], "create", NULL);
	} else if (nst == 1) {
		m->backend_open = 1;
		run_stream(m, &m->st[0]);
	} else if (started < nst) {
		m->backend_open = 1;
		snprintf(m->st[started].msg, sizeof(m->st[started].msg),
			 "pthread_create failed for stream %u", started);
		m->backend.err[0] = 0;
		fail(m, &m->st[started], "threads", NULL);
	} else {
		m->backend_open = 1;
	}
	if (nst > 1) {
		open_gate(m->backend_open && started == nst ? 1 : -1);
		wait_streams_done(started);
	}
	uint64_t wall = now_ns() - m->t0 - m->sampling_ns;
	cpu_times(&user1, &sys1);
	uint64_t clock_c1 = op_clock(), clock_t1 = now_ns();
	double ns_per_tick = clock_c1 > clock_c0 ?
		(double)(clock_t1 - clock_t0) / (double)(clock_c1 - clock_c0) : 1.0;
	take_sample(m);
	struct jm_backend_stats st = {0};
	struct jm_backend_fact facts[8];
	int nfacts = 0;
	if (m->backend_open) {
		m->backend.ops->stats(&m->backend, &st);
		if (bops->describe)
			nfacts = bops->describe(&m->backend, facts, 8);
	}
	long vmas_after = jm_vma_count(0);
	uint64_t rss_after = jm_rss_rollup(0);
	jm_faults_self(&minflt1, &majflt1);
	jm_os_snapshot(&os1);
	if (hooks && hooks->window_end)
		hooks->window_end(hooks->ctx);
	jm_os_diff(&os0, &os1, &osd);
	if (nst > 1) {
		open_gate(2);
		for (unsigned i = 0; i < started; i++)
			pthread_join(m->st[i].thread, NULL);
	}

	/* after the window: optional trim, then teardown and the leak check */
	json_object *trim = NULL;
	if (m->backend_open && spec->trim_at_end && !m->failure.failed) {
		struct jm_trim_result r = {0};
		struct jm_backend_stats st2 = {0};
		int rc = m->backend.ops->trim(&m->backend, &r);
		if (rc < 0)
			fail_after(m, "trim");
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
	m->torn_down = 1;
	/* teardown: a failure here is the run's too (a failed munmap is a
	 * leaked mapping, never an ok run) */
	if (m->backend_open) {
		for (unsigned i = 0; i < nst; i++) {
			struct stream *x = &m->st[i];
			/* a driving workload frees what it holds first (JITLink's
			 * session teardown), through drive_event */
			if (jm_workload_drives(&x->wl) && x->wl.ops->release(&x->wl) < 0 &&
			    !m->failure.failed) {
				snprintf(x->msg, sizeof(x->msg), "%s", x->wl.err);
				m->backend.err[0] = 0;
				fail(m, x, "teardown", NULL);
			}
			size_t pos = 0;
			struct jm_alloc *a;
			while (!x->observed && (a = jm_live_next(&x->live, &pos)))
				if (m->backend.ops->deallocate(&m->backend, a) < 0)
					fail_after(m, "deallocate");
		}
		if (jm_backend_close(&m->backend) < 0)
			fail_after(m, "destroy");
	}
	/* what a backend did not report: every munmap of the run is counted by
	 * the os layer, and one that failed left a mapping behind */
	struct jm_os_counters os2;
	jm_os_snapshot(&os2);
	int unmap_err;
	uint64_t unmap_failed = munmap_errors(&os0, &os2, &unmap_err);
	if (unmap_failed && !m->failure.failed) {
		jm_backend_error(&m->backend, "munmap", unmap_err,
			"%llu munmap call%s failed without the backend reporting it; "
			"the mapping%s stay%s leaked", (unsigned long long)unmap_failed,
			unmap_failed == 1 ? "" : "s", unmap_failed == 1 ? "" : "s",
			unmap_failed == 1 ? "s" : "");
		fail_after(m, "munmap");
	}
	struct jm_literal lit = m->lit;
	jm_literal_release(&m->lit);
	long vmas_destroyed = jm_vma_count(0);
	long mapped_destroyed = jm_vma_count_no_heap();

	/* totals over the streams */
	struct stream tot = {0};
	for (unsigned i = 0; i < nst; i++) {
		const struct stream *x = &m->st[i];
		tot.graphs += x->graphs;
		tot.events += x->events;
		tot.finalizes += x->finalizes;
		tot.frees += x->frees;
		tot.trims += x->trims;
		tot.sys_events += x->sys_events;
		tot.skipped += x->skipped;
		tot.bytes_requested += x->bytes_requested;
		tot.bytes_live_requested += x->bytes_live_requested;
		tot.trim_units += x->trim_units;
		tot.trim_bytes += x->trim_bytes;
		jm_latency_merge(&tot.lat_alloc, &x->lat_alloc);
		jm_latency_merge(&tot.lat_final, &x->lat_final);
		jm_latency_merge(&tot.lat_free, &x->lat_free);
	}

	json_object *run = json_object_new_object();
	json_object_object_add(run, "status", json_object_new_string(
		m->failure.failed ? "failed" : "ok"));
	if (m->failure.failed)
		json_object_object_add(run, "error", error_json(m));
	json_object *mt = json_object_new_object();
	ADD(mt, "graphs", tot.graphs);
	ADD(mt, "events", tot.events);
	ADD(mt, "finalizes", tot.finalizes);
	ADD(mt, "frees", tot.frees);
	ADD(mt, "trims", tot.trims);
	ADD(mt, "vmas_before", vmas_before);
	ADD(mt, "vmas_after", vmas_after);
	ADD(mt, "vmas_added", vmas_after - vmas_before);
	ADD(mt, "vmas_peak", m->vmas_peak > (uint64_t)vmas_after ? m->vmas_peak : (uint64_t)vmas_after);
	json_object_object_add(mt, "vmas_peak_source", json_object_new_string("procfs-samples"));
	ADD(mt, "vmas_after_teardown", vmas_destroyed);
	/* not counting the brk heap: see leakcheck.h */
	ADD(mt, "vmas_leaked", mapped_destroyed > mapped_before ? mapped_destroyed - mapped_before : 0);
	json_object_object_add(mt, "syscalls", jm_syscalls_json(osd.sys, JM_NSYS, os_sys_name));
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
	ADD(mt, "bytes_requested", tot.bytes_requested);
	ADD(mt, "bytes_live_requested", tot.bytes_live_requested);
	ADD(mt, "bytes_mapped", st.bytes_mapped);
	ADD(mt, "bytes_mapped_peak", st.bytes_mapped_peak);
	ADD(mt, "bytes_wasted", st.bytes_mapped > tot.bytes_live_requested
			? st.bytes_mapped - tot.bytes_live_requested : 0);
	ADD(mt, "reservations", st.reservations);
	ADD(mt, "reach_failures", st.reach_failures);
	ADD(mt, "vmas_added_other_processes", st.vmas_other_processes);
	for (unsigned i = 1; i < nst; i++)
		link_stats_merge(&m->st[0].linker.st, &m->st[i].linker.st);
	add_reloc_metrics(mt, &m->st[0].linker);
	add_headroom(mt, m->max_map_count, vmas_before, vmas_after, tot.graphs - tot.frees, &st);
	ADD(mt, "trim_units_released", tot.trim_units);
	ADD(mt, "trim_bytes_released", tot.trim_bytes);
	ADD(mt, "wall_ns", wall);
	ADD(mt, "sampling_ns", m->sampling_ns);
	ADD(mt, "cpu_user_ns", user1 - user0);
	ADD(mt, "cpu_system_ns", sys1 - sys0);
	json_object *lat = json_object_new_object();
	json_object_object_add(lat, "allocate", latency_json(&tot.lat_alloc, ns_per_tick));
	json_object_object_add(lat, "finalize", latency_json(&tot.lat_final, ns_per_tick));
	json_object_object_add(lat, "deallocate", latency_json(&tot.lat_free, ns_per_tick));
	json_object_object_add(mt, "latency", lat);
	ADD(mt, "threads", nst);
	if (nst > 1) {
		/* per stream; "latency" above is all streams merged */
		json_object *per = json_object_new_array();
		for (unsigned i = 0; i < nst; i++) {
			const struct stream *x = &m->st[i];
			json_object *t = json_object_new_object();
			ADD(t, "thread", i);
			ADD(t, "graphs", x->graphs);
			ADD(t, "events", x->events);
			ADD(t, "frees", x->frees);
			json_object_object_add(t, "workload_spec", json_object_new_string(x->wl.spec));
			json_object_object_add(t, "allocate", latency_json(&x->lat_alloc, ns_per_tick));
			json_object_object_add(t, "finalize", latency_json(&x->lat_final, ns_per_tick));
			json_object_object_add(t, "deallocate", latency_json(&x->lat_free, ns_per_tick));
			json_object_array_add(per, t);
		}
		json_object_object_add(mt, "latency_threads", per);
	}
	if (tot.sys_events && !spec->replay_literal)
		ADD(mt, "sys_events_ignored", tot.sys_events);
	if (spec->replay_literal) {
		json_object *l = json_object_new_object();
		ADD(l, "sys_events", tot.sys_events);
		ADD(l, "syscalls_replayed", lit.replayed);
		ADD(l, "mmaps_moved", lit.moved);
		ADD(l, "failed_in_recording", lit.failed_recorded);
		ADD(l, "untracked_ranges", lit.untracked);
		ADD(l, "graph_events_skipped", tot.skipped);
		/* VMA growth from after the first sys event to the end: the
		 * recording's (its vmas= fields) and this replay's */
		if (lit.first_vmas >= 0)
			ADD(l, "recorded_vmas_delta", lit.last_vmas - lit.first_vmas);
		if (m->lit_vmas_first > 0)
			ADD(l, "replayed_vmas_delta", vmas_after - m->lit_vmas_first);
		json_object_object_add(mt, "literal", l);
	}
	json_object *bx = json_object_new_object();
	for (int i = 0; i < st.nextra; i++)
		ADD(bx, st.extra[i].name, st.extra[i].value);
	json_object_object_add(mt, "backend", bx);
	if (trim)
		json_object_object_add(mt, "trim_at_end", trim);
	json_object_object_add(run, "metrics", mt);
	if (nfacts > 0) {
		json_object *info = json_object_new_object();
		for (int i = 0; i < nfacts; i++)
			json_object_object_add(info, facts[i].name,
					       json_object_new_string(facts[i].value));
		json_object_object_add(run, "backend_info", info);
	}
	json_object_object_add(run, "series", series_json(m));
	add_marks(run, m);
	json_object_object_add(run, "workload_spec", json_object_new_string(m->st[0].wl.spec));

	free_streams(m);
	pthread_mutex_destroy(&m->lock);
	free(m->samples);
	free(m->marks);
	free(m);
	return run;
}
