#include "reloc.h"

#include "../allocators/backend.h"

#include <stdio.h>
#include <string.h>


/* The templates and rules of code model cm (all build and layout_of need) */
static void linker_shapes(struct jm_linker *L, enum jm_code_model cm)
{
	L->cm = cm;
	for (int call = 0; call < 2; call++)
		for (int nd = 0; nd <= JM_LINK_MAX_DATA; nd++)
			L->tpl[call][nd] = jm_arch_linked_template(cm, call, nd);
	L->host = jm_reach_host()->rule[cm];
	L->other = jm_reach_other()->rule[cm];
}

void jm_linker_init(struct jm_linker *L, enum jm_code_model cm)
{
	memset(L, 0, sizeof(*L));
	linker_shapes(L, cm);
}

int jm_link_code_segment(const struct jm_alloc *a)
{
	for (uint32_t i = 0; i < a->nseg; i++)
		if (a->seg[i].cls == JM_RX && a->seg[i].life == JM_STANDARD &&
		    a->seg[i].content)
			return (int)i;
	return -1;
}

static void record(struct jm_reach_failure *arr, int *n, uint64_t graph,
		   const struct jm_fixup *f, const struct jm_reach_rule *r,
		   uint64_t P, uint64_t S, int64_t d)
{
	if (*n >= JM_LINK_MAX_REPORTED)
		return;
	arr[(*n)++] = (struct jm_reach_failure){
		.graph = graph, .kind = f->kind, .reloc = r->reloc,
		.fixup = P, .target = S, .distance = d,
		.min = r->min, .max = r->max,
	};
}

/* How a graph's code is laid out: its code segment, the data it loads
 * (the graph's own rw, then ro: standard lifetime, since finalize-lifetime
 * memory may be gone after finalize, and holding the 4 bytes loaded), the
 * templates of its entry and leaf (the leaf 16-aligned after the entry). */
struct layout {
	int ci, nd;
	uint64_t exec;                 /* the code segment's execution address */
	uint64_t data[JM_LINK_MAX_DATA];
	uint32_t idx[JM_LINK_MAX_DATA];
	const struct jm_code_template *entry, *leaf;
	size_t leaf_off;
};

/* One pass over the segments; -1 if a has no code segment. */
static int layout_of(const struct jm_alloc *a, const struct jm_linker *L,
		     struct layout *lo)
{
	int ci = -1, rw = -1, ro = -1;
	for (uint32_t i = 0; i < a->nseg; i++) {
		const struct jm_segment_alloc *s = &a->seg[i];
		if (s->life != JM_STANDARD)
			continue;
		if (s->cls == JM_RX) {
			if (ci < 0 && s->content)
				ci = (int)i;
		} else if (s->size >= 4) {
			int *first = s->cls == JM_RW ? &rw : &ro;
			if (*first < 0)
				*first = (int)i;
		}
	}
	lo->ci = ci;
	if (ci < 0)
		return -1;
	lo->exec = (uint64_t)(uintptr_t)a->seg[ci].exec;
	lo->nd = 0;
	if (rw >= 0)
		lo->idx[lo->nd++] = (uint32_t)rw;
	if (ro >= 0)
		lo->idx[lo->nd++] = (uint32_t)ro;
	for (int i = 0; i < lo->nd; i++)
		lo->data[i] = (uint64_t)(uintptr_t)a->seg[lo->idx[i]].exec;
	lo->entry = L->tpl[a->link.callee != 0][lo->nd];
	lo->leaf = L->tpl[0][lo->nd];
	lo->leaf_off = jm_align_up(lo->entry->size, 16);
	return 0;
}

/* Resolve the fixups of the function of template t at code offset off:
 * their values into v (in t's fixup order); 0 if one does not fit. With
 * st, every fixup is counted and its reach recorded. */
static int resolve(const struct jm_code_template *t, const struct layout *lo, size_t off,
		   const struct jm_linker *L, uint64_t graph, uint64_t callee, uint64_t *v,
		   struct jm_link_stats *st)
{
	const struct jm_reach_rule *host = L->host, *other = L->other;
	int fits = 1;
	for (int i = 0; i < t->nfx; i++) {
		const struct jm_fixup *f = &t->fx[i];
		uint64_t P = lo->exec + off + f->off;
		uint64_t S = f->target ? lo->data[f->target - 1] : callee;
		int64_t d, dother;
		int ok = jm_reach_fits(&host[f->kind], P, S, f->width == 4 ? f->addend : 0, &d);
		/* the other architecture's fixups are PC-relative to the
		 * instruction, without x86's -4 */
		int ok_other = jm_reach_fits(&other[f->kind], P, S, 0, &dother);
		if (st) {
			uint64_t raw = S > P ? S - P : P - S;
			if (raw > st->max_distance[f->kind])
				st->max_distance[f->kind] = raw;
			st->relocs[f->kind]++;
			if (!ok) {
				st->reach_failures++;
				record(st->first, &st->nfirst, graph, f, &host[f->kind], P, S, d);
			}
			if (!ok_other) {
				st->reach_failures_other++;
				record(st->first_other, &st->nfirst_other, graph, f,
				       &other[f->kind], P, S, dother);
			}
		}
		fits &= ok;
		v[i] = f->width == 4 ? (uint64_t)(uint32_t)(int32_t)d : S;
	}
	return fits;
}

/* Lay down template t at dst (room bytes up to the end of what may be
 * written) and patch its fixups with v. A whole template when it fits: its
 * trap bytes after the function land on the content's own trap fill, or
 * under the leaf written next. */
static void put(uint8_t *dst, size_t room, const struct jm_code_template *t,
		const uint64_t *v)
{
	if (room >= JM_LINK_TEMPLATE_BYTES)
		memcpy(dst, t->code, JM_LINK_TEMPLATE_BYTES);
	else
		memcpy(dst, t->code, t->size);
	for (int i = 0; i < t->nfx; i++) {
		if (t->fx[i].width == 4) {
			uint32_t w = (uint32_t)v[i];
			memcpy(dst + t->fx[i].off, &w, 4);
		} else {
			memcpy(dst + t->fx[i].off, &v[i], 8);
		}
	}
}

/* Write the code segment's code at buf (room bytes, after the content's
 * trap fill); sets a->link state and value (from a->link.callee*) and lo.
 * Returns the code size. */
static size_t build(struct jm_alloc *a, const struct jm_linker *L, struct layout *lo,
		    uint8_t *buf, size_t len, struct jm_link_stats *st)
{
	if (layout_of(a, L, lo) < 0) {
		a->link.state = JM_LINK_NONE;
		return 0;
	}
	const struct jm_segment_alloc *code = &a->seg[lo->ci];
	size_t room = code->content < len ? (size_t)code->content : len;
	size_t e = lo->entry->size, l = lo->leaf->size;
	if (!e || !l || lo->leaf_off + l > room) {
		/* too small for linked code (or no emitter on this host) */
		a->link.state = JM_LINK_PLAIN;
		a->link.value = jm_contents_value(a->id);
		return jm_arch_emit_return_imm(buf, room, a->link.value);
	}
	/* both functions are resolved (and counted) before either is written:
	 * no wrong displacement is ever written */
	uint64_t ve[JM_LINK_MAX_FIXUPS], vl[JM_LINK_MAX_FIXUPS];
	int fits = resolve(lo->entry, lo, 0, L, a->id, a->link.callee, ve, st);
	fits &= resolve(lo->leaf, lo, lo->leaf_off, L, a->id, 0, vl, st);
	if (!fits) {
		a->link.state = JM_LINK_SENTINEL;
		a->link.value = JM_LINK_SENTINEL_VALUE;
		return jm_arch_emit_return_imm(buf, room, JM_LINK_SENTINEL_VALUE);
	}
	uint32_t sum = 0;
	for (int i = 0; i < lo->nd; i++)
		sum += jm_contents_data_word(a, lo->idx[i]);
	a->link.state = JM_LINK_LINKED;
	a->link.value = (a->link.callee ? a->link.callee_value : 0) + sum;
	put(buf, room, lo->entry, ve);
	if (room < JM_LINK_TEMPLATE_BYTES) /* the gap between entry and leaf traps */
		memset(buf + e, jm_arch_trap_byte(), lo->leaf_off - e);
	put(buf + lo->leaf_off, room - lo->leaf_off, lo->leaf, vl);
	return lo->leaf_off + l;
}

void jm_link_write_code(struct jm_linker *L, struct jm_alloc *a)
{
	struct jm_linker plain;
	if (!L)
		linker_shapes(&plain, JM_CM_SMALL);
	a->link.callee = 0;
	a->link.callee_value = 0;
	a->link.callee_id = 0;
	a->link.flags &= ~JM_LINK_CALLEE_GONE;
	if (L && L->have_callee) {
		a->link.callee = L->callee_addr;
		a->link.callee_value = L->callee_value;
		a->link.callee_id = L->callee_id;
	}
	int ci = jm_link_code_segment(a);
	if (ci < 0) {
		a->link.state = JM_LINK_NONE;
		return;
	}
	/* straight into place */
	struct layout lo;
	build(a, L ? L : &plain, &lo, a->seg[ci].write, SIZE_MAX, L ? &L->st : NULL);
	if (!L)
		return;
	L->st.graphs[a->link.state]++;
	L->last = a;
	L->last_id = a->id;
	L->last_leaf = lo.exec + lo.leaf_off;
}

size_t jm_link_expected_code(const struct jm_alloc *a, enum jm_code_model cm,
			     uint8_t *buf, size_t len)
{
	struct jm_alloc copy = *a;
	struct jm_linker L;
	struct layout lo;
	linker_shapes(&L, cm);
	return build(&copy, &L, &lo, buf, len, NULL);
}

int jm_call_exec(struct jm_backend *b, uint64_t addr, uint32_t *out, char *err,
		 size_t errlen)
{
	if (b && b->ops->execute) {
		/* the code lives in another process: the backend calls it there */
		if (b->ops->execute(b, (const void *)(uintptr_t)addr, out) < 0) {
			snprintf(err, errlen, "calling %#llx through the backend: %s",
				 (unsigned long long)addr, b->err);
			return -1;
		}
		return 0;
	}
	uint32_t (*fn)(void);
	void *p = (void *)(uintptr_t)addr;
	memcpy(&fn, &p, sizeof(fn));
	*out = fn();
	return 0;
}

static uint64_t leaf_addr(const struct jm_alloc *a, enum jm_code_model cm)
{
	struct jm_linker L;
	struct layout lo;
	linker_shapes(&L, cm);
	layout_of(a, &L, &lo);
	return lo.exec + lo.leaf_off;
}

int jm_link_execute_via(struct jm_backend *b, const struct jm_alloc *a,
			enum jm_code_model cm, char *err, size_t errlen)
{
	int ci = jm_link_code_segment(a);
	if (ci < 0 || !a->seg[ci].exec)
		return 0;
	if (a->link.state == JM_LINK_PLAIN &&
	    a->seg[ci].content < jm_arch_return_imm_size())
		return 0; /* not even room for mov eax, imm; ret: all traps */
	uint64_t entry = (uint64_t)(uintptr_t)a->seg[ci].exec;
	int call_entry = !(a->link.flags & JM_LINK_CALLEE_GONE) ||
			 a->link.state != JM_LINK_LINKED;
	uint32_t got = a->link.value;
	if (call_entry && jm_call_exec(b, entry, &got, err, errlen) < 0)
		return -1;
	if (got != a->link.value) {
		snprintf(err, errlen,
			 "graph %llu: code at %#llx returned %#x, expected %#x%s",
			 (unsigned long long)a->id, (unsigned long long)entry, got,
			 a->link.value,
			 a->link.state == JM_LINK_LINKED
				 ? " (loads through its relocations and the call chain)"
				 : "");
		return -1;
	}
	if (a->link.state == JM_LINK_LINKED) {
		uint64_t leaf = leaf_addr(a, cm);
		uint32_t want = a->link.value - (a->link.callee ? a->link.callee_value : 0);
		if (jm_call_exec(b, leaf, &got, err, errlen) < 0)
			return -1;
		if (got != want) {
			snprintf(err, errlen,
				 "graph %llu: leaf at %#llx returned %#x, expected %#x",
				 (unsigned long long)a->id, (unsigned long long)leaf,
				 got, want);
			return -1;
		}
	}
	return 0;
}

void jm_link_finalized(struct jm_linker *L, const struct jm_alloc *a)
{
	if (!L || a->link.state != JM_LINK_LINKED)
		return;
	L->have_callee = 1;
	L->callee_id = a->id;
	/* the graph just written (a JIT finalizes what it just linked) */
	L->callee_addr = L->last == a && L->last_id == a->id ? L->last_leaf
							       : leaf_addr(a, L->cm);
	L->callee_value = a->link.value - (a->link.callee ? a->link.callee_value : 0);
}

void jm_link_forget(struct jm_linker *L, uint64_t id)
{
	if (L && L->have_callee && L->callee_id == id)
		L->have_callee = 0;
}

void jm_reach_failure_text(const struct jm_reach_failure *f, char *buf,
			   size_t len)
{
	snprintf(buf, len,
		 "graph %llu: relocation target out of range: %s %s fixup at %#llx "
		 "to %#llx: distance %lld not in [%lld, %lld]",
		 (unsigned long long)f->graph, f->reloc,
		 f->kind == JM_RELOC_CALL ? "call" : "data",
		 (unsigned long long)f->fixup, (unsigned long long)f->target,
		 (long long)f->distance, (long long)f->min, (long long)f->max);
}
