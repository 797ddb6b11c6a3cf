/* Seeded synthetic workloads. Each graph is allocated, written and
 * finalized at once (as a JIT links one object at a time); the free policy
 * decides what is deallocated and when:
 *   never     nothing is freed (Julia, llvm-jitlink: code lives forever)
 *   fraction  after each graph, with probability free_fraction, a uniformly
 *             chosen live graph is freed (long-running JIT with eviction)
 *   cycles    the graphs are split into `cycles` load/drop cycles: load a
 *             batch, free all of it, optionally trim (tvm-ffi modules) */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../allocators/os.h"
#include "object_sizes.h"
#include "rng.h"
#include "workload.h"

const struct jm_option_def jm_synthetic_options[] = {
	{"graphs", JM_OPT_UINT, "500", NULL, "number of graphs (objects) linked", 1, 100000000},
	{"seed", JM_OPT_UINT, "1", NULL, "PRNG seed", 0, 0},
	{"sizes", JM_OPT_ENUM, "real", "real|fixed",
	 "real: shapes of real objects (shared/data); fixed: rx/ro/rw/zf below", 0, 0},
	{"scale", JM_OPT_FLOAT, "1", NULL, "multiply real sizes by this", 0, 0},
	{"rx", JM_OPT_SIZE, "4K", NULL, "fixed: code bytes per graph", 0, 1ull << 34},
	{"ro", JM_OPT_SIZE, "0", NULL, "fixed: read-only bytes per graph", 0, 1ull << 34},
	{"rw", JM_OPT_SIZE, "4K", NULL, "fixed: writable bytes per graph", 0, 1ull << 34},
	{"zf", JM_OPT_SIZE, "0", NULL, "fixed: zero-fill bytes per graph", 0, 1ull << 34},
	{"align", JM_OPT_UINT, "16", NULL, "fixed: segment alignment (power of two)", 1, 4096},
	{"stubs", JM_OPT_BOOL, "on", NULL,
	 "real: add the GOT entries (8 B, ro) and call stubs (6 B, rx) a JIT linker adds", 0, 0},
	{"free", JM_OPT_ENUM, "never", "never|fraction|cycles", "free policy", 0, 0},
	{"free_fraction", JM_OPT_FLOAT, "0.5", NULL, "fraction: probability of a free after each graph", 0, 0},
	{"cycles", JM_OPT_UINT, "32", NULL, "cycles: number of load/drop cycles", 1, 1000000},
	{"trim", JM_OPT_BOOL, "on", NULL, "cycles: trim after each drop", 0, 0},
	{"alt_rx", JM_OPT_SIZE, "0", NULL,
	 "fixed: a second code size; each graph gets it with probability alt_fraction "
	 "(a two-size mix, e.g. 3M and 5M against a 4M slab)", 0, 1ull << 34},
	{"alt_fraction", JM_OPT_FLOAT, "0.5", NULL, "fixed: probability of alt_rx", 0, 0},
	{"dylibs", JM_OPT_UINT, "1", NULL, "graphs go round-robin to this many JITDylibs", 1, 65536},
	{"touch", JM_OPT_ENUM, "full", "full|ends",
	 "full: the linker writes all content; ends: only the first and last page "
	 "of each segment (address space without RSS)", 0, 0},
	{0},
};

enum { FREE_NEVER, FREE_FRACTION, FREE_CYCLES };

struct synth {
	struct jm_rng rng;
	uint64_t graphs, made;
	int real, stubs, policy, trim, sparse;
	double scale, fraction;
	int unscaled; /* scale == 1 */
	uint64_t rx, ro, rw, zf, align, dylibs, alt_rx;
	double alt_fraction;
	uint64_t cycles, per_cycle;
	/* pending events produced by the last step, consumed in order */
	struct jm_event queue[4];
	int qhead, qlen;
	/* fraction: live ids (grown with them); cycles: range being dropped */
	uint64_t *live;
	size_t nlive, live_cap;
	uint64_t drop_next, drop_end;
	int dropping;
	uint64_t cycle;
};

/* The next free queue slot, its common fields set: events are built in
 * place, never copied (jm_workload_next_ref hands out the slot). */
static struct jm_event *emit(struct synth *s, enum jm_event_type type, uint64_t id)
{
	struct jm_event *ev = &s->queue[(s->qhead + s->qlen) % 4];
	s->qlen++;
	ev->type = type;
	ev->id = id;
	ev->t_ns = 0;
	ev->tid = 0;
	ev->mark[0] = 0;
	return ev;
}

static uint64_t scaled(const struct synth *s, uint64_t v)
{
	return s->unscaled ? v : (uint64_t)((double)v * s->scale + 0.5);
}

/* The graph is built straight into the event (only the fields a request
 * has: no clearing of the whole struct) and is normalized by construction:
 * ro, rw, rx, each present only when not empty, all standard lifetime (the
 * AllocGroup order of jm_graph_normalize). */
static void make_graph(struct synth *s, uint64_t id, struct jm_graph_req *req)
{
	req->id = id;
	req->dylib = s->dylibs > 1 ? (uint32_t)(id % s->dylibs) : 0;
	memset(&req->section, 0, sizeof(req->section));
	uint64_t rx, ro, rw, zf, align;
	if (s->real) {
		const struct jm_object_size *o =
			&jm_object_sizes[jm_rng_below(&s->rng, jm_object_sizes_count)];
		/* the next draw is most likely the next graph's shape: its table
		 * entry is fetched while this graph is written (a peek: the
		 * sequence of draws is unchanged) */
		struct jm_rng peek = s->rng;
		__builtin_prefetch(&jm_object_sizes[jm_rng_below(&peek, jm_object_sizes_count)]);
		rx = scaled(s, o->rx);
		ro = scaled(s, o->ro);
		rw = scaled(s, o->rw);
		zf = scaled(s, o->zf);
		if (s->stubs) {
			rx += (uint64_t)o->stubs * 6;
			ro += ((uint64_t)o->got + o->stubs) * 8;
		}
		align = o->maxalign ? o->maxalign : 1;
		if (align > 4096)
			align = 4096;
	} else {
		rx = s->rx, ro = s->ro, rw = s->rw, zf = s->zf, align = s->align;
		if (s->alt_rx && jm_rng_double(&s->rng) < s->alt_fraction)
			rx = s->alt_rx;
	}
	uint32_t n = 0;
	if (ro)
		req->seg[n++] = (struct jm_segment_req){JM_RO, JM_STANDARD, ro, 0, (uint32_t)align};
	if (rw || zf)
		req->seg[n++] = (struct jm_segment_req){JM_RW, JM_STANDARD, rw, zf, (uint32_t)align};
	if (rx)
		req->seg[n++] = (struct jm_segment_req){JM_RX, JM_STANDARD, rx, 0, (uint32_t)align};
	req->nseg = n;
	req->flags = s->sparse ? JM_GRAPH_SPARSE : 0;
}

static void link_one(struct synth *s)
{
	make_graph(s, s->made, &emit(s, JM_EV_ALLOC, s->made)->req);
	emit(s, JM_EV_FINALIZE, s->made);
	s->made++;
}

/* Produce the next batch of events into the queue; 0 at end, -1 out of
 * memory. */
static int step(struct synth *s)
{
	switch (s->policy) {
	case FREE_NEVER:
		if (s->made >= s->graphs)
			return 0;
		link_one(s);
		return 1;
	case FREE_FRACTION:
		if (s->made >= s->graphs)
			return 0;
		if (s->nlive == s->live_cap) {
			size_t cap = s->live_cap ? s->live_cap * 2 : 1024;
			uint64_t *l = realloc(s->live, cap * sizeof(*l));
			if (!l)
				return -1;
			s->live = l;
			s->live_cap = cap;
		}
		s->live[s->nlive++] = s->made;
		link_one(s);
		if (jm_rng_double(&s->rng) < s->fraction) {
			size_t k = jm_rng_below(&s->rng, s->nlive);
			emit(s, JM_EV_FREE, s->live[k]);
			s->live[k] = s->live[--s->nlive];
		}
		return 1;
	case FREE_CYCLES:
		if (s->dropping) {
			if (s->drop_next < s->drop_end) {
				emit(s, JM_EV_FREE, s->drop_next++);
				return 1;
			}
			s->dropping = 0;
			s->cycle++;
			if (s->trim) {
				emit(s, JM_EV_TRIM, 0);
				return 1;
			}
		}
		if (s->made >= s->graphs)
			return 0;
		if (s->made == s->drop_end) {
			struct jm_event *m = emit(s, JM_EV_MARK, 0);
			snprintf(m->mark, sizeof(m->mark), "load %llu",
				 (unsigned long long)s->cycle);
		}
		link_one(s);
		if (s->made - s->drop_end == s->per_cycle || s->made == s->graphs) {
			struct jm_event *m = emit(s, JM_EV_MARK, 0);
			snprintf(m->mark, sizeof(m->mark), "drop %llu",
				 (unsigned long long)s->cycle);
			s->dropping = 1;
			s->drop_next = s->drop_end;
			s->drop_end = s->made;
		}
		return 1;
	}
	return 0;
}

/* The slot handed out stays intact until the next call: the steps it
 * takes refill the queue from the slot after it. */
static int synth_next(struct jm_workload *w, const struct jm_event **ev)
{
	struct synth *s = w->priv;
	while (s->qlen == 0) {
		int rc = step(s);
		if (rc < 0)
			snprintf(w->err, sizeof(w->err), "out of memory for the live graph ids");
		if (rc <= 0)
			return rc;
	}
	*ev = &s->queue[s->qhead];
	s->qhead = (s->qhead + 1) % 4;
	s->qlen--;
	return 1;
}

static void synth_close(struct jm_workload *w)
{
	struct synth *s = w->priv;
	if (s)
		free(s->live);
	free(s);
	w->priv = NULL;
}

/* The fixed sizes' bound, which scale must respect too */
#define MAX_SEGMENT (1ull << 34)

/* The largest segment of any real object (before stubs): scale times it
 * must stay within MAX_SEGMENT. */
static uint64_t largest_real_segment(void)
{
	uint64_t m = 1;
	for (size_t i = 0; i < jm_object_sizes_count; i++) {
		const struct jm_object_size *o = &jm_object_sizes[i];
		uint64_t v[4] = {o->rx, o->ro, o->rw, o->zf};
		for (int k = 0; k < 4; k++)
			if (v[k] > m)
				m = v[k];
	}
	return m;
}

/* Bytes a graph's segments take, page-rounded, on average over what the
 * generator draws (real: every shape equally likely; fixed: rx or alt_rx
 * by alt_fraction). */
static double mean_graph_bytes(struct synth *s)
{
	const double ps = (double)jm_page_size();
#define PAGES(x) ((double)jm_align_up((uint64_t)(x), (uint64_t)ps))
	if (!s->real) {
		double rx = PAGES(s->rx);
		if (s->alt_rx)
			rx = (1 - s->alt_fraction) * rx + s->alt_fraction * PAGES(s->alt_rx);
		return rx + PAGES(s->ro) + PAGES(s->rw + s->zf);
	}
	double sum = 0;
	for (size_t i = 0; i < jm_object_sizes_count; i++) {
		const struct jm_object_size *o = &jm_object_sizes[i];
		uint64_t rx = scaled(s, o->rx), ro = scaled(s, o->ro);
		if (s->stubs) {
			rx += (uint64_t)o->stubs * 6;
			ro += ((uint64_t)o->got + o->stubs) * 8;
		}
		sum += PAGES(rx) + PAGES(ro) + PAGES(scaled(s, o->rw) + scaled(s, o->zf));
	}
#undef PAGES
	return sum / (double)jm_object_sizes_count;
}

/* Live graphs at the peak: all (never), the expected count when each
 * graph frees one with probability f (fraction), one cycle (cycles). */
static double peak_live(const struct synth *s)
{
	switch (s->policy) {
	case FREE_FRACTION: {
		double live = (double)s->graphs * (1 - s->fraction);
		return live < 1 ? 1 : live;
	}
	case FREE_CYCLES:
		return (double)s->per_cycle;
	}
	return (double)s->graphs;
}

static const struct jm_workload_ops synth_ops = {
	.kind = "synthetic",
	.next_ref = synth_next,
	.close = synth_close,
};

int jm_synthetic_open(const struct jm_optvals *o, struct jm_workload *w,
		      char *err, size_t errlen)
{
	struct synth *s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	s->graphs = jm_opt_u64(o, "graphs");
	jm_rng_seed(&s->rng, jm_opt_u64(o, "seed"));
	s->real = jm_opt_u64(o, "sizes") == 0;
	s->scale = jm_opt_f(o, "scale");
	s->unscaled = s->scale == 1.0;
	s->rx = jm_opt_u64(o, "rx");
	s->ro = jm_opt_u64(o, "ro");
	s->rw = jm_opt_u64(o, "rw");
	s->zf = jm_opt_u64(o, "zf");
	s->align = jm_opt_u64(o, "align");
	s->stubs = (int)jm_opt_u64(o, "stubs");
	s->policy = (int)jm_opt_u64(o, "free");
	s->fraction = jm_opt_f(o, "free_fraction");
	s->cycles = jm_opt_u64(o, "cycles");
	s->trim = (int)jm_opt_u64(o, "trim");
	s->dylibs = jm_opt_u64(o, "dylibs");
	s->alt_rx = jm_opt_u64(o, "alt_rx");
	s->alt_fraction = jm_opt_f(o, "alt_fraction");
	if (s->alt_fraction > 1) {
		snprintf(err, errlen, "option alt_fraction: must be in [0, 1]");
		free(s);
		return -1;
	}
	/* scale multiplies real sizes: bounded like the fixed sizes, so that
	 * no segment overflows (scale=1e308 wrapped to a tiny run: issue 11) */
	double max_scale = (double)MAX_SEGMENT / (double)largest_real_segment();
	if (s->real && (s->scale <= 0 || s->scale > max_scale)) {
		snprintf(err, errlen, "option scale: %g is out of range (0, %.6g]: the largest "
			 "real object's segment (%llu bytes) times scale must stay within 16G",
			 s->scale, max_scale, (unsigned long long)largest_real_segment());
		free(s);
		return -1;
	}
	s->sparse = jm_opt_u64(o, "touch") == 1;
	if (!jm_is_pow2(s->align)) {
		snprintf(err, errlen, "option align: %llu is not a power of two",
			 (unsigned long long)s->align);
		free(s);
		return -1;
	}
	if (!s->real && s->rx + s->ro + s->rw + s->zf == 0) {
		snprintf(err, errlen, "fixed sizes: every segment is empty");
		free(s);
		return -1;
	}
	if (s->fraction > 1) {
		snprintf(err, errlen, "option free_fraction: must be in [0, 1]");
		free(s);
		return -1;
	}
	s->per_cycle = (s->graphs + s->cycles - 1) / s->cycles;
	w->ops = &synth_ops;
	w->priv = s;
	w->graphs = s->graphs;
	w->max_live = s->policy == FREE_CYCLES ? s->per_cycle : s->graphs;
	double peak = peak_live(s) * mean_graph_bytes(s);
	w->peak_bytes = peak >= 1.8e19 ? UINT64_MAX : (uint64_t)peak;
	return 0;
}
