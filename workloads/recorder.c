/* Graph reconstruction from recorded syscalls (docs/recording.md).
 *
 * Pass 1 follows every anonymous private mapping of the recorded process
 * page by page: which protection class each page was last given by an
 * mprotect, which mprotect was the last one into the mapping (its
 * finalize), which munmap released its last page (its free), and the net
 * VMA change (mm->map_count after each call minus before it) of the calls
 * that touched it. A mapping that was mprotected, only ever to r--, rw- or
 * r-x, is a graph.
 * Pass 2 writes every call as a `sys` line and the graph events right
 * after the calls that mark them. The calls are spooled to a temporary
 * file, so memory is proportional to the mappings, not to the recording. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "../allocators/os.h" /* jm_page_size */
#include "../common/syscalls.h"
#include "recorder.h"
#include "trace_input.h"

struct jm_recorder {
	FILE *spool;
	uint32_t tgid;
	uint64_t n;
	int64_t initial_vmas; /* -1: unknown */
	int failed;
};

/* page states in struct mapping.page */
enum { PG_UNPROT = 0, PG_RO = 1, PG_RW = 2, PG_RX = 3, PG_OTHER = 4, PG_GONE = 5 };

struct mapping {
	uint64_t start, npages;
	uint64_t mmap_idx, last_prot_idx, free_idx; /* UINT64_MAX: none */
	uint64_t remaining;     /* pages still mapped */
	uint8_t *page;
	int init_state;         /* the mmap's protection as a page state */
	int graph;              /* was mprotected to r--, rw- or r-x */
	int not_graph;          /* ... and never to anything else */
	int reserved;           /* mmapped PROT_NONE (a reservation) */
	int has_code;           /* some page was made r-x or r-- */
	int open;
	uint64_t cnt[6];        /* pages per state now */
	uint64_t snap[6];       /* pages per state at the last mprotect */
	uint64_t pending_fin[6];/* pages unmapped after it while the rest lived */
	uint64_t mprotects, mmaps, munmaps, madvises;
	uint64_t deinits;       /* rw- mprotects that ended a carved graph */
	uint32_t tid;           /* the thread of its mmap */
	int threads;            /* its mmap and mprotects came from 2+ threads */
	int64_t vmas;
	uint64_t id;
	/* graphs carved out of the mapping: runs of address-contiguous
	 * mprotects (a pool when there are two or more) */
	struct run *runs;
	size_t nruns, capruns;
	long cur;               /* run being extended, -1: none */
};

struct run {
	uint64_t start, end;
	uint64_t first_idx, last_idx, free_idx;
	uint64_t pages[6];      /* per page state (PG_RO, PG_RW, PG_RX) */
	uint64_t id;
};

struct jm_recorder *jm_recorder_new(uint32_t tgid, char *err, size_t errlen)
{
	struct jm_recorder *r = calloc(1, sizeof(*r));
	if (!r || !(r->spool = tmpfile())) {
		snprintf(err, errlen, "cannot create the spool file: %s", strerror(errno));
		free(r);
		return NULL;
	}
	r->tgid = tgid;
	r->initial_vmas = -1;
	return r;
}

void jm_recorder_set_initial_vmas(struct jm_recorder *r, int64_t vmas)
{
	r->initial_vmas = vmas;
}

int jm_recorder_add(struct jm_recorder *r, const struct jm_rec_call *c)
{
	if (fwrite(c, sizeof(*c), 1, r->spool) != 1) {
		r->failed = 1;
		return -1;
	}
	r->n++;
	return 0;
}

void jm_recorder_free(struct jm_recorder *r)
{
	if (!r)
		return;
	if (r->spool)
		fclose(r->spool);
	free(r);
}

static int prot_state(uint64_t prot)
{
	switch (prot & (PROT_READ | PROT_WRITE | PROT_EXEC)) {
	case PROT_READ: return PG_RO;
	case PROT_READ | PROT_WRITE: return PG_RW;
	case PROT_READ | PROT_EXEC: return PG_RX;
	default: return PG_OTHER;
	}
}

struct table {
	struct mapping *m;
	size_t n, cap;
	uint64_t ps;
};

static void table_free(struct table *t)
{
	for (size_t i = 0; i < t->n; i++) {
		free(t->m[i].page);
		free(t->m[i].runs);
	}
	free(t->m);
	t->m = NULL;
	t->n = t->cap = 0;
}

/* The open mappings overlapping [a, a+len): calls fn on each with the page
 * range that overlaps. Returns the first mapping touched or NULL. */
typedef void (*overlap_fn)(struct mapping *m, uint64_t p0, uint64_t p1, void *ctx);
static struct mapping *each_overlap(struct table *t, uint64_t a, uint64_t len, overlap_fn fn,
				    void *ctx)
{
	struct mapping *first = NULL;
	uint64_t end = a + len;
	for (size_t i = 0; i < t->n; i++) {
		struct mapping *m = &t->m[i];
		if (!m->open)
			continue;
		uint64_t ms = m->start, me = m->start + m->npages * t->ps;
		if (end <= ms || a >= me)
			continue;
		uint64_t lo = a > ms ? a : ms, hi = end < me ? end : me;
		uint64_t p0 = (lo - ms) / t->ps, p1 = (hi - ms + t->ps - 1) / t->ps;
		if (!first)
			first = m;
		fn(m, p0, p1, ctx);
	}
	return first;
}

struct unmap_ctx {
	uint64_t idx;
};

static void do_unmap(struct mapping *m, uint64_t p0, uint64_t p1, void *ctx)
{
	struct unmap_ctx *u = ctx;
	uint64_t fin[6] = {0};
	for (uint64_t p = p0; p < p1; p++) {
		if (m->page[p] == PG_GONE)
			continue;
		fin[m->page[p]]++;
		m->cnt[m->page[p]]--;
		m->cnt[PG_GONE]++;
		m->page[p] = PG_GONE;
		m->remaining--;
	}
	if (m->remaining == 0) {
		m->open = 0;
		m->free_idx = u->idx;
	} else if (m->mprotects) {
		for (int s = 0; s < PG_GONE; s++)
			m->pending_fin[s] += fin[s];
	}
}

struct prot_ctx {
	int state;
	int reopens; /* an rw- mprotect over r-- or r-x pages */
	uint64_t idx;
	uint64_t addr, len, ps; /* the call's range, page-rounded */
	int oom;
};

/* Carving graphs out of one mapping (pools, e.g. LLVM's
 * MapperJITLinkMemoryManager): an mprotect that starts where the previous
 * one into this mapping ended extends the current graph; any other starts
 * a new one, except an rw- mprotect that covers exactly a graph's span, or
 * makes r-- or r-x pages writable, which is a deallocation (the mapper
 * makes freed memory rw- again). */
static void carve(struct mapping *m, struct prot_ctx *pc)
{
	uint64_t a = pc->addr, e = pc->addr + pc->len;
	if (pc->state == PG_RW) {
		for (size_t i = 0; i < m->nruns; i++) {
			struct run *r = &m->runs[i];
			/* not the rw- page(s) the current graph just got */
			int only_rw = !r->pages[PG_RO] && !r->pages[PG_RX];
			if (r->start == a && r->end == e && r->free_idx == UINT64_MAX &&
			    !((long)i == m->cur && only_rw)) {
				r->free_idx = pc->idx;
				m->deinits++;
				m->cur = -1;
				return;
			}
		}
		/* making finalized pages writable again frees what lies there
		 * (runs of two graphs merged by contiguity included): a JIT
		 * never makes its finalized code or data writable otherwise */
		if (pc->reopens) {
			for (size_t i = 0; i < m->nruns; i++) {
				struct run *r = &m->runs[i];
				if (r->start >= a && r->end <= e && r->free_idx == UINT64_MAX)
					r->free_idx = pc->idx;
			}
			m->deinits++;
			m->cur = -1;
			return;
		}
	}
	if (m->cur >= 0 && m->runs[m->cur].end == a) {
		struct run *r = &m->runs[m->cur];
		r->end = e;
		r->last_idx = pc->idx;
		r->pages[pc->state] += pc->len / pc->ps;
		return;
	}
	if (m->nruns == m->capruns) {
		size_t cap = m->capruns ? m->capruns * 2 : 4;
		struct run *n = realloc(m->runs, cap * sizeof(*n));
		if (!n) {
			pc->oom = 1;
			return;
		}
		m->runs = n;
		m->capruns = cap;
	}
	struct run *r = &m->runs[m->nruns];
	memset(r, 0, sizeof(*r));
	r->start = a;
	r->end = e;
	r->first_idx = r->last_idx = pc->idx;
	r->free_idx = UINT64_MAX;
	r->pages[pc->state] = pc->len / pc->ps;
	m->cur = (long)m->nruns++;
}

static void do_prot(struct mapping *m, uint64_t p0, uint64_t p1, void *ctx)
{
	struct prot_ctx *pc = ctx;
	pc->addr = m->start + p0 * pc->ps;
	pc->len = (p1 - p0) * pc->ps;
	pc->reopens = 0;
	for (uint64_t p = p0; p < p1; p++)
		if (pc->state == PG_RW && (m->page[p] == PG_RO || m->page[p] == PG_RX))
			pc->reopens = 1;
	for (uint64_t p = p0; p < p1; p++)
		if (m->page[p] != PG_GONE) {
			m->cnt[m->page[p]]--;
			m->cnt[pc->state]++;
			m->page[p] = (uint8_t)pc->state;
		}
	/* LLVM protects every segment, rw ones too; thread stacks and malloc
	 * heaps get --- guard pages, which no JIT segment has */
	if (pc->state == PG_OTHER)
		m->not_graph = 1;
	else
		m->graph = 1;
	if (pc->state == PG_RO || pc->state == PG_RX)
		m->has_code = 1;
	m->last_prot_idx = pc->idx;
	memcpy(m->snap, m->cnt, sizeof(m->snap));
	/* pages unmapped before this call were not finalize segments */
	memset(m->pending_fin, 0, sizeof(m->pending_fin));
	if (pc->state != PG_OTHER)
		carve(m, pc);
}

static void noop(struct mapping *m, uint64_t p0, uint64_t p1, void *ctx)
{
	(void)m, (void)p0, (void)p1, (void)ctx;
}

static int is_anon_private(const struct jm_rec_call *c)
{
	return (c->flags & MAP_ANONYMOUS) && (c->flags & MAP_TYPE) == MAP_PRIVATE;
}

static void count_peak(struct table *t, struct mapping *hit, int64_t dv,
		       const uint8_t *is_graph, size_t nknown, int64_t *running,
		       struct jm_rec_summary *sum)
{
	size_t i = (size_t)(hit - t->m);
	if (!is_graph || i >= nknown || !is_graph[i])
		return;
	*running += dv;
	if (*running > sum->jit_vmas_peak)
		sum->jit_vmas_peak = *running;
}

static int read_call(FILE *f, struct jm_rec_call *c)
{
	return fread(c, sizeof(*c), 1, f) == 1;
}

/* Pass 1. With is_graph (the verdicts of an earlier pass 1, by mapping
 * index: mappings are created in the same order), it also follows the
 * running net VMA count of the graph mappings for its peak. */
static int analyse(struct jm_recorder *r, struct table *t, struct jm_rec_summary *sum,
		   const uint8_t *is_graph, size_t nknown, char *err, size_t errlen)
{
	int64_t running = 0;
	rewind(r->spool);
	struct jm_rec_call c;
	uint64_t idx = 0;
	int64_t prev_vmas = r->initial_vmas;
	for (; read_call(r->spool, &c); idx++) {
		if (c.tgid != r->tgid)
			continue;
		int64_t dv = prev_vmas < 0 ? 0 : (int64_t)c.map_count - prev_vmas;
		prev_vmas = c.map_count;
		if (c.ret < 0 && c.ret > -4096)
			continue; /* failed: nothing changed */
		struct mapping *hit = NULL;
		struct unmap_ctx u = {idx};
		switch (c.sys) {
		case JM_PSYS_MMAP: {
			uint64_t len = (c.len + t->ps - 1) / t->ps * t->ps;
			hit = each_overlap(t, (uint64_t)c.ret, len, do_unmap, &u); /* MAP_FIXED */
			if (hit) {
				hit->vmas += dv;
				count_peak(t, hit, dv, is_graph, nknown, &running, sum);
				hit = NULL;
				dv = 0;
			}
			if (!is_anon_private(&c) || len == 0)
				break;
			if (t->n == t->cap) {
				size_t cap = t->cap ? t->cap * 2 : 64;
				struct mapping *m = realloc(t->m, cap * sizeof(*m));
				if (!m)
					goto oom;
				t->m = m;
				t->cap = cap;
			}
			struct mapping *m = &t->m[t->n];
			memset(m, 0, sizeof(*m));
			m->start = (uint64_t)c.ret;
			m->npages = len / t->ps;
			m->page = malloc(m->npages);
			if (!m->page)
				goto oom;
			t->n++;
			m->init_state = prot_state(c.prot);
			m->reserved = (c.prot & (PROT_READ | PROT_WRITE | PROT_EXEC)) == 0;
			memset(m->page, PG_UNPROT, m->npages);
			m->cnt[PG_UNPROT] = m->npages;
			m->remaining = m->npages;
			m->mmap_idx = idx;
			m->last_prot_idx = m->free_idx = UINT64_MAX;
			m->open = 1;
			m->mmaps = 1;
			m->tid = c.tid;
			m->vmas = dv;
			m->cur = -1;
			hit = m;
			break;
		}
		case JM_PSYS_MUNMAP:
			hit = each_overlap(t, c.addr, c.len, do_unmap, &u);
			if (hit)
				hit->munmaps++, hit->vmas += dv;
			break;
		case JM_PSYS_MPROTECT: {
			struct prot_ctx pc = {.state = prot_state(c.prot), .idx = idx, .ps = t->ps};
			hit = each_overlap(t, c.addr, c.len, do_prot, &pc);
			if (pc.oom)
				goto oom;
			if (hit)
				hit->mprotects++, hit->vmas += dv, hit->threads |= hit->tid != c.tid;
			break;
		}
		case JM_PSYS_MADVISE:
			hit = each_overlap(t, c.addr, c.len, noop, NULL);
			if (hit)
				hit->madvises++, hit->vmas += dv;
			break;
		case JM_PSYS_MREMAP:
			/* moved or resized: the mapping is no longer followed */
			hit = each_overlap(t, c.addr, 1, do_unmap, &u);
			if (hit)
				hit->vmas += dv;
			break;
		default:
			break;
		}
		if (hit && c.sys != JM_PSYS_MMAP)
			count_peak(t, hit, dv, is_graph, nknown, &running, sum);
		else if (hit)
			count_peak(t, hit, hit->vmas, is_graph, nknown, &running, sum);
	}
	if (ferror(r->spool)) {
		snprintf(err, errlen, "reading the spool file: %s", strerror(errno));
		return -1;
	}
	return 0;
oom:
	snprintf(err, errlen, "out of memory reconstructing graphs");
	return -1;
}

/* A graph's segments from its pages at the finalize point. */
static void graph_req(const struct mapping *m, uint64_t ps, struct jm_graph_req *req)
{
	static const enum jm_prot_class cls_of[] = {
		[PG_RO] = JM_RO, [PG_RW] = JM_RW, [PG_RX] = JM_RX};
	memset(req, 0, sizeof(*req));
	req->id = m->id;
	uint64_t std[6], fin[6];
	for (int s = 0; s < 6; s++) {
		fin[s] = m->pending_fin[s];
		std[s] = m->snap[s] > fin[s] ? m->snap[s] - fin[s] : 0;
	}
	/* pages never protected keep the mmap's protection */
	int is = m->init_state == PG_OTHER ? PG_RW : m->init_state;
	std[is] += std[PG_UNPROT];
	fin[is] += fin[PG_UNPROT];
	/* pages with other protections (rwx, ---) are counted as rw */
	std[PG_RW] += std[PG_OTHER];
	fin[PG_RW] += fin[PG_OTHER];
	for (int s = PG_RO; s <= PG_RX; s++) {
		if (std[s])
			req->seg[req->nseg++] = (struct jm_segment_req){
				cls_of[s], JM_STANDARD, std[s] * ps, 0, 1};
		if (fin[s])
			req->seg[req->nseg++] = (struct jm_segment_req){
				cls_of[s], JM_FINALIZE, fin[s] * ps, 0, 1};
	}
	jm_graph_normalize(req);
}

/* Graph events in event order: (call index, kind, mapping, run). */
enum { MK_ALLOC_BEFORE, MK_ALLOC, MK_FINALIZE, MK_FREE };
struct mark {
	uint64_t idx;
	int kind; /* MK_*: the order within one call */
	size_t map;
	long run; /* -1: the whole mapping is the graph */
};

static int cmp_mark(const void *a, const void *b)
{
	const struct mark *x = a, *y = b;
	if (x->idx != y->idx)
		return x->idx < y->idx ? -1 : 1;
	if (x->kind != y->kind)
		return x->kind - y->kind;
	if (x->map != y->map)
		return x->map < y->map ? -1 : 1;
	return x->run < y->run ? -1 : x->run > y->run;
}

static int sys_of(uint32_t psys, enum jm_sys *out)
{
	switch (psys) {
	case JM_PSYS_MMAP: *out = JM_SYS_MMAP; return 0;
	case JM_PSYS_MUNMAP: *out = JM_SYS_MUNMAP; return 0;
	case JM_PSYS_MPROTECT: *out = JM_SYS_MPROTECT; return 0;
	case JM_PSYS_MADVISE: *out = JM_SYS_MADVISE; return 0;
	default: return -1;
	}
}

/* A reservation (malloc's arenas are PROT_NONE ones too, committed rw-)
 * must also hold code or read-only data to count. */
static int is_graph_mapping(const struct mapping *m)
{
	return m->graph && !m->not_graph && (!m->reserved || m->has_code);
}

static int is_pool(const struct mapping *m)
{
	return m->nruns >= 2;
}

static void run_req(const struct run *r, uint64_t ps, struct jm_graph_req *req)
{
	static const enum jm_prot_class cls_of[] = {
		[PG_RO] = JM_RO, [PG_RW] = JM_RW, [PG_RX] = JM_RX};
	memset(req, 0, sizeof(*req));
	req->id = r->id;
	for (int s = PG_RO; s <= PG_RX; s++)
		if (r->pages[s])
			req->seg[req->nseg++] = (struct jm_segment_req){
				cls_of[s], JM_STANDARD, r->pages[s] * ps, 0, 1};
	jm_graph_normalize(req);
}

/* Number the graphs and list their events; fills the counts of sum. */
static struct mark *plan(struct table *t, struct jm_rec_summary *sum, size_t *nmarks)
{
	size_t cap = 1;
	for (size_t i = 0; i < t->n; i++)
		cap += 3 * (t->m[i].nruns > 1 ? t->m[i].nruns : 1);
	struct mark *marks = calloc(cap, sizeof(*marks));
	if (!marks)
		return NULL;
	size_t nm = 0;
	for (size_t i = 0; i < t->n; i++) {
		struct mapping *m = &t->m[i];
		if (!is_graph_mapping(m))
			continue;
		sum->jit_mmaps += m->mmaps;
		sum->jit_mprotects += m->mprotects;
		sum->jit_fin_mprotects += m->mprotects - m->deinits;
		sum->jit_munmaps += m->munmaps;
		sum->jit_madvises += m->madvises;
		sum->jit_vmas += m->vmas;
		if (is_pool(m) && m->threads)
			sum->pools_threaded++;
		if (!is_pool(m)) {
			m->id = sum->graphs++;
			marks[nm++] = (struct mark){m->mmap_idx, MK_ALLOC, i, -1};
			marks[nm++] = (struct mark){m->last_prot_idx, MK_FINALIZE, i, -1};
			sum->finalizes++;
			if (m->free_idx != UINT64_MAX) {
				marks[nm++] = (struct mark){m->free_idx, MK_FREE, i, -1};
				sum->frees++;
			}
			continue;
		}
		sum->pools++;
		for (size_t k = 0; k < m->nruns; k++) {
			struct run *r = &m->runs[k];
			r->id = sum->graphs++;
			marks[nm++] = (struct mark){r->first_idx, MK_ALLOC_BEFORE, i, (long)k};
			marks[nm++] = (struct mark){r->last_idx, MK_FINALIZE, i, (long)k};
			sum->finalizes++;
			/* given back, or gone with the reservation */
			uint64_t f = r->free_idx != UINT64_MAX ? r->free_idx : m->free_idx;
			if (f != UINT64_MAX) {
				marks[nm++] = (struct mark){f, MK_FREE, i, (long)k};
				sum->frees++;
			}
		}
	}
	qsort(marks, nm, sizeof(*marks), cmp_mark);
	uint64_t live = 0;
	for (size_t i = 0; i < nm; i++) {
		if ((marks[i].kind == MK_ALLOC || marks[i].kind == MK_ALLOC_BEFORE) &&
		    ++live > sum->max_live)
			sum->max_live = live;
		if (marks[i].kind == MK_FREE)
			live--;
	}
	*nmarks = nm;
	return marks;
}

static int write_mark(struct jm_trace_writer *w, const struct table *t, const struct mark *mk)
{
	const struct mapping *m = &t->m[mk->map];
	const struct run *r = mk->run >= 0 ? &m->runs[mk->run] : NULL;
	struct jm_event ev = {.id = r ? r->id : m->id};
	switch (mk->kind) {
	case MK_ALLOC_BEFORE:
	case MK_ALLOC:
		ev.type = JM_EV_ALLOC;
		if (r)
			run_req(r, t->ps, &ev.req);
		else
			graph_req(m, t->ps, &ev.req);
		if (ev.req.nseg == 0)
			return 0; /* cannot happen: a graph has pages */
		break;
	case MK_FINALIZE: ev.type = JM_EV_FINALIZE; break;
	default: ev.type = JM_EV_FREE; break;
	}
	return jm_trace_write(w, &ev);
}

int jm_recorder_write(struct jm_recorder *r, const char *path, struct jm_trace_header *h,
		      struct jm_rec_summary *sum, char *err, size_t errlen)
{
	memset(sum, 0, sizeof(*sum));
	if (r->failed || fflush(r->spool) != 0) {
		snprintf(err, errlen, "writing the spool file failed (disk full?)");
		return -1;
	}
	struct table t = {.ps = h->page_size ? h->page_size : jm_page_size()};
	struct mark *marks = NULL;
	uint8_t *verdict = NULL;
	struct jm_trace_writer *w = NULL;
	int rc = -1;
	/* pass 1 twice: first to tell which mappings are graphs, then to
	 * follow their running VMA count for its peak */
	struct jm_rec_summary scratch = {0};
	if (analyse(r, &t, &scratch, NULL, 0, err, errlen) < 0)
		goto out;
	size_t nknown = t.n;
	verdict = calloc(nknown + 1, 1);
	if (!verdict) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < nknown; i++)
		verdict[i] = (uint8_t)is_graph_mapping(&t.m[i]);
	table_free(&t);
	if (analyse(r, &t, sum, verdict, nknown, err, errlen) < 0)
		goto out;
	size_t nm = 0;
	if (!(marks = plan(&t, sum, &nm))) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	snprintf(h->sizes, sizeof(h->sizes), "page");
	h->graphs = sum->graphs;
	h->max_live = sum->max_live;
	if (!(w = jm_trace_writer_open(path, h, err, errlen)))
		goto out;

	/* counts for the summary lines, known before pass 2 writes */
	rewind(r->spool);
	struct jm_rec_call c;
	uint64_t first_t = UINT64_MAX;
	while (read_call(r->spool, &c)) {
		sum->calls++;
		enum jm_sys s;
		if (c.tgid != r->tgid)
			sum->other_procs++;
		else if (sys_of(c.sys, &s) == 0)
			sum->sys_lines++;
		else
			sum->comments++;
		if (c.t_ns < first_t)
			first_t = c.t_ns;
	}
	char line[512];
	snprintf(line, sizeof(line),
		 "recorded: %llu calls, %llu as sys lines, %llu as comments (no sys "
		 "event for them), %llu of other processes not written",
		 (unsigned long long)sum->calls, (unsigned long long)sum->sys_lines,
		 (unsigned long long)sum->comments, (unsigned long long)sum->other_procs);
	jm_trace_write_comment(w, line);
	snprintf(line, sizeof(line),
		 "jit: graphs=%llu finalizes=%llu frees=%llu mmaps=%llu mprotects=%llu "
		 "munmaps=%llu madvises=%llu vmas=%lld pools=%llu fin_mprotects=%llu "
		 "vmas_peak=%lld",
		 (unsigned long long)sum->graphs, (unsigned long long)sum->finalizes,
		 (unsigned long long)sum->frees, (unsigned long long)sum->jit_mmaps,
		 (unsigned long long)sum->jit_mprotects, (unsigned long long)sum->jit_munmaps,
		 (unsigned long long)sum->jit_madvises, (long long)sum->jit_vmas,
		 (unsigned long long)sum->pools, (unsigned long long)sum->jit_fin_mprotects,
		 (long long)sum->jit_vmas_peak);
	jm_trace_write_comment(w, line);
	if (sum->pools_threaded) {
		snprintf(line, sizeof(line),
			 "warning: %llu pool(s) protected by more than one thread: graphs carved "
			 "by contiguity may be split or merged", (unsigned long long)sum->pools_threaded);
		jm_trace_write_comment(w, line);
	}

	/* pass 2 */
	rewind(r->spool);
	size_t mi = 0;
	for (uint64_t idx = 0; read_call(r->spool, &c); idx++) {
		if (c.tgid != r->tgid)
			continue;
		for (; mi < nm && marks[mi].idx == idx && marks[mi].kind == MK_ALLOC_BEFORE; mi++)
			if (write_mark(w, &t, &marks[mi]) < 0)
				goto write_failed;
		enum jm_sys s;
		if (sys_of(c.sys, &s) == 0) {
			struct jm_event ev = {.type = JM_EV_SYS, .tid = c.tid,
					      .t_ns = c.t_ns - first_t};
			ev.sys.sys = s;
			ev.sys.addr = c.addr;
			ev.sys.len = c.len;
			ev.sys.prot = (int)c.prot;
			ev.sys.flags = (int)(s == JM_SYS_MADVISE ? c.prot : c.flags);
			ev.sys.ret = c.ret;
			ev.sys.vmas = c.map_count;
			if (jm_trace_write(w, &ev) < 0)
				goto write_failed;
		} else {
			snprintf(line, sizeof(line),
				 "t=%llu tid=%u %s addr=0x%llx len=%llu flags=0x%llx ret=%lld vmas=%u",
				 (unsigned long long)(c.t_ns - first_t), c.tid,
				 jm_probe_sys_name((enum jm_probe_sys)c.sys),
				 (unsigned long long)c.addr, (unsigned long long)c.len,
				 (unsigned long long)c.flags, (long long)c.ret, c.map_count);
			jm_trace_write_comment(w, line);
		}
		for (; mi < nm && marks[mi].idx == idx; mi++)
			if (write_mark(w, &t, &marks[mi]) < 0)
				goto write_failed;
	}
	rc = jm_trace_writer_close(w, err, errlen);
	w = NULL;
	goto out;
write_failed:
	snprintf(err, errlen, "%s: write error", path);
out:
	if (w)
		jm_trace_writer_abort(w);
	free(marks);
	free(verdict);
	table_free(&t);
	return rc;
}

static int parse_u64(const char *text, const char *key, uint64_t *out)
{
	char pat[40];
	snprintf(pat, sizeof(pat), " %s=", key);
	const char *p = strstr(text, pat);
	if (!p)
		return -1;
	char *end;
	long long v = strtoll(p + strlen(pat), &end, 10);
	if (end == p + strlen(pat))
		return -1;
	*out = (uint64_t)v;
	return 0;
}

int jm_recording_summary(const char *path, struct jm_rec_summary *sum, char *err,
			 size_t errlen)
{
	memset(sum, 0, sizeof(*sum));
	struct jm_input *in = jm_input_open(path, err, errlen);
	if (!in)
		return -1;
	/* the summary is among the first lines (after the header) */
	static const char key[] = "\n# jit:";
	char buf[8192];
	size_t have = 0;
	ssize_t got;
	while (have < sizeof(buf) - 1 &&
	       (got = jm_input_read(in, buf + have, sizeof(buf) - 1 - have, err, errlen)) > 0)
		have += (size_t)got;
	jm_input_close(in);
	buf[have] = 0;
	char *p = strstr(buf, key);
	if (!p) {
		snprintf(err, errlen, "%s: no '# jit:' line (not written by jitmm record?)", path);
		return -1;
	}
	p += sizeof(key) - 2; /* keep the space before the first key */
	p[strcspn(p, "\n")] = 0;
	uint64_t v[11];
	static const char *const keys[] = {"graphs", "finalizes", "frees", "mmaps",
					   "mprotects", "munmaps", "madvises", "vmas",
					   "pools", "fin_mprotects", "vmas_peak"};
	for (int i = 0; i < 11; i++)
		if (parse_u64(p, keys[i], &v[i]) < 0) {
			snprintf(err, errlen, "%s: '# jit:' line has no %s=", path, keys[i]);
			return -1;
		}
	sum->graphs = v[0], sum->finalizes = v[1], sum->frees = v[2], sum->jit_mmaps = v[3];
	sum->jit_mprotects = v[4], sum->jit_munmaps = v[5], sum->jit_madvises = v[6];
	sum->jit_vmas = (int64_t)v[7], sum->pools = v[8], sum->jit_fin_mprotects = v[9];
	sum->jit_vmas_peak = (int64_t)v[10];
	return 0;
}
