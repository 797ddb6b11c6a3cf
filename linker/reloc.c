#include "reloc.h"

#include "../allocators/backend.h"

#include <stdio.h>
#include <string.h>


void jm_linker_init(struct jm_linker *L, enum jm_code_model cm)
{
	memset(L, 0, sizeof(*L));
	L->cm = cm;
}

int jm_link_code_segment(const struct jm_alloc *a)
{
	for (uint32_t i = 0; i < a->nseg; i++)
		if (a->seg[i].cls == JM_RX && a->seg[i].life == JM_STANDARD &&
		    a->seg[i].content)
			return (int)i;
	return -1;
}

/* The data segments the code loads from: the graph's own rw, then ro
 * (standard lifetime: finalize-lifetime memory may be gone after
 * finalize), when they hold at least the 4 bytes loaded. */
static int data_targets(const struct jm_alloc *a, uint32_t *idx)
{
	static const enum jm_prot_class order[] = {JM_RW, JM_RO};
	int n = 0;
	for (unsigned k = 0; k < 2 && n < JM_LINK_MAX_DATA; k++)
		for (uint32_t i = 0; i < a->nseg; i++) {
			const struct jm_segment_alloc *s = &a->seg[i];
			if (s->cls == order[k] && s->life == JM_STANDARD &&
			    s->size >= 4) {
				idx[n++] = i;
				break;
			}
		}
	return n;
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

/* Emit one linked function at buf (code offset off in the segment whose
 * execution address is exec) and resolve its fixups. Returns its size, 0
 * if it does not fit; *bad is set if a relocation is out of range. With
 * st, reach statistics are recorded. */
static size_t emit_resolved(uint8_t *buf, size_t len, uint64_t exec, size_t off,
			    enum jm_code_model cm, uint64_t graph, uint64_t callee,
			    const uint64_t *data, int ndata, int *bad,
			    struct jm_link_stats *st)
{
	struct jm_fixup fx[JM_LINK_MAX_FIXUPS];
	int nfx = 0;
	size_t n = jm_arch_emit_linked(buf + off, len - off, cm, callee != 0,
				       ndata, fx, &nfx);
	if (!n)
		return 0;
	for (int i = 0; i < nfx; i++) {
		const struct jm_fixup *f = &fx[i];
		uint64_t P = exec + off + f->off;
		uint64_t S = f->target ? data[f->target - 1] : callee;
		const struct jm_reach_rule *host = &jm_reach_host()->rule[cm][f->kind];
		const struct jm_reach_rule *other = &jm_reach_other()->rule[cm][f->kind];
		int64_t d, dother;
		int ok = jm_reach_fits(host, P, S, f->width == 4 ? f->addend : 0, &d);
		/* the other architecture's fixups are PC-relative to the
		 * instruction, without x86's -4 */
		int ok_other = jm_reach_fits(other, P, S, 0, &dother);
		if (st) {
			uint64_t raw = S > P ? S - P : P - S;
			if (raw > st->max_distance[f->kind])
				st->max_distance[f->kind] = raw;
			st->relocs[f->kind]++;
			if (!ok) {
				st->reach_failures++;
				record(st->first, &st->nfirst, graph, f, host, P, S, d);
			}
			if (!ok_other) {
				st->reach_failures_other++;
				record(st->first_other, &st->nfirst_other, graph, f,
				       other, P, S, dother);
			}
		}
		if (!ok) {
			*bad = 1;
			continue; /* never write a displacement that does not fit */
		}
		if (f->width == 4) {
			int32_t v = (int32_t)d;
			memcpy(buf + off + f->off, &v, 4);
		} else {
			memcpy(buf + off + f->off, &S, 8);
		}
	}
	return n;
}

/* Build the code segment's code into buf; sets a->link state and value
 * (from a->link.callee*). Returns the code size. */
static size_t build(struct jm_alloc *a, enum jm_code_model cm, uint8_t *buf,
		    size_t len, struct jm_link_stats *st)
{
	int ci = jm_link_code_segment(a);
	if (ci < 0) {
		a->link.state = JM_LINK_NONE;
		return 0;
	}
	const struct jm_segment_alloc *code = &a->seg[ci];
	uint64_t exec = (uint64_t)(uintptr_t)code->exec;
	size_t room = code->content < len ? (size_t)code->content : len;
	uint32_t idx[JM_LINK_MAX_DATA];
	uint64_t data[JM_LINK_MAX_DATA];
	uint32_t sum = 0;
	int nd = data_targets(a, idx);
	for (int i = 0; i < nd; i++) {
		data[i] = (uint64_t)(uintptr_t)a->seg[idx[i]].exec;
		sum += jm_contents_data_word(a, idx[i]);
	}
	/* both functions must fit before either is resolved (and counted) */
	size_t e = jm_arch_emit_linked(NULL, 0, cm, a->link.callee != 0, nd, NULL, NULL);
	size_t leaf = jm_align_up(e, 16);
	size_t l = jm_arch_emit_linked(NULL, 0, cm, 0, nd, NULL, NULL);
	int bad = 0;
	if (e && l && leaf + l <= room) {
		emit_resolved(buf, room, exec, 0, cm, a->id, a->link.callee,
			      data, nd, &bad, st);
		emit_resolved(buf, room, exec, leaf, cm, a->id, 0, data, nd,
			      &bad, st);
	} else {
		e = l = 0;
	}
	if (!e || !l) {
		/* too small for linked code (or no emitter on this host) */
		a->link.state = JM_LINK_PLAIN;
		a->link.value = jm_contents_value(a->id);
		return jm_arch_emit_return_imm(buf, room, a->link.value);
	}
	if (bad) {
		a->link.state = JM_LINK_SENTINEL;
		a->link.value = JM_LINK_SENTINEL_VALUE;
		return jm_arch_emit_return_imm(buf, room, JM_LINK_SENTINEL_VALUE);
	}
	a->link.state = JM_LINK_LINKED;
	a->link.value = (a->link.callee ? a->link.callee_value : 0) + sum;
	/* the gap between entry and leaf traps */
	memset(buf + e, jm_arch_trap_byte(), leaf - e);
	return leaf + l;
}

void jm_link_write_code(struct jm_linker *L, struct jm_alloc *a)
{
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
	uint8_t buf[128];
	size_t n = build(a, L ? L->cm : JM_CM_SMALL, buf, sizeof(buf),
			 L ? &L->st : NULL);
	memcpy(a->seg[ci].write, buf, n);
	if (L)
		L->st.graphs[a->link.state]++;
}

size_t jm_link_expected_code(const struct jm_alloc *a, enum jm_code_model cm,
			     uint8_t *buf, size_t len)
{
	struct jm_alloc copy = *a;
	return build(&copy, cm, buf, len, NULL);
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
	uint32_t idx[JM_LINK_MAX_DATA];
	int nd = data_targets(a, idx);
	size_t e = jm_arch_emit_linked(NULL, 0, cm, a->link.callee != 0, nd, NULL, NULL);
	return (uint64_t)(uintptr_t)a->seg[jm_link_code_segment(a)].exec +
	       jm_align_up(e, 16);
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
	L->callee_addr = leaf_addr(a, L->cm);
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
