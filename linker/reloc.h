/* The harness as a JIT linker: it writes real x86-64 code into each
 * graph's code segment and applies the relocations itself, as JITLink
 * does. The code segment holds two functions (shapes in arch.h):
 *   entry  calls the leaf of an earlier, still live graph (a 32-bit
 *          relative call, R_X86_64_PLT32 without a stub) and adds the
 *          values it loads RIP-relative (R_X86_64_PC32) from the graph's
 *          own rw and ro segments;
 *   leaf   the loads only; later graphs call it.
 * A displacement that does not fit is a reach failure, reported as
 * JITLink does ("relocation target out of range"). No wrong displacement
 * is ever written: the graph's entry becomes a function returning
 * JM_LINK_SENTINEL_VALUE, it has no leaf, and no later graph calls it. Every
 * distance is also checked against the other architecture's limits
 * (AArch64 on x86-64): "would fail on AArch64". docs/relocations.md. */
#ifndef JITMM_RELOC_H
#define JITMM_RELOC_H

#include <stddef.h>
#include <stdint.h>

#include "../allocators/graph.h"
#include "arch.h"
#include "data_values.h"

#define JM_LINK_SENTINEL_VALUE 0xdead10ccu
#define JM_LINK_MAX_REPORTED 4
/* a->link.flags bit (above the JM_GRAPH_* bits): the graph's callee was
 * freed between linking and finalize (a trace can do that), so its entry
 * must not be called; its leaf still is. */
#define JM_LINK_CALLEE_GONE (1u << 31)

enum jm_link_state {
	JM_LINK_NONE = 0,     /* no code segment */
	JM_LINK_PLAIN = 1,    /* code segment too small (or no emitter):
				 mov eax, imm; ret */
	JM_LINK_LINKED = 2,   /* entry + leaf, relocations applied */
	JM_LINK_SENTINEL = 3, /* a relocation did not fit: sentinel function */
};

struct jm_reach_failure {
	uint64_t graph;
	enum jm_reloc_kind kind;
	const char *reloc;
	uint64_t fixup, target; /* P and S (execution addresses) */
	int64_t distance, min, max;
};

struct jm_link_stats {
	uint64_t graphs[4];         /* by enum jm_link_state */
	uint64_t relocs[JM_NRELOC]; /* relocations resolved (host) */
	uint64_t reach_failures;    /* host arch, this code model */
	uint64_t reach_failures_other; /* jm_reach_other(), same model */
	uint64_t max_distance[JM_NRELOC]; /* largest |S - P| seen, bytes */
	int nfirst, nfirst_other;
	struct jm_reach_failure first[JM_LINK_MAX_REPORTED];
	struct jm_reach_failure first_other[JM_LINK_MAX_REPORTED];
};

struct jm_linker {
	enum jm_code_model cm;
	/* the leaf the next graph calls: the last finalized, still live,
	 * linked graph */
	int have_callee;
	uint64_t callee_id, callee_addr;
	uint32_t callee_value;
	struct jm_link_stats st;
	/* what every graph needs, looked up once (jm_linker_init): the code
	 * templates of cm by [call][data loads], the reach rules of cm */
	const struct jm_code_template *tpl[2][JM_LINK_MAX_DATA + 1];
	const struct jm_reach_rule *host, *other;
	/* the last graph written and its leaf's address, for its finalize */
	const struct jm_alloc *last;
	uint64_t last_id, last_leaf;
};

void jm_linker_init(struct jm_linker *L, enum jm_code_model cm);
/* Write the code segment of a (the first standard-lifetime rx segment)
 * through its write address, with relocations resolved against the
 * execution addresses, over the content's trap fill (contents.c writes it
 * first: the code templates' trap padding lands on it). L may be NULL: no
 * calls, small code model, no statistics. Records what it wrote in
 * a->link. */
void jm_link_write_code(struct jm_linker *L, struct jm_alloc *a);
/* Index of a's code segment, or -1. */
int jm_link_code_segment(const struct jm_alloc *a);
/* Re-emit what jm_link_write_code wrote (from a->link) into buf (len >=
 * code size); returns the code size. */
size_t jm_link_expected_code(const struct jm_alloc *a, enum jm_code_model cm,
			     uint8_t *buf, size_t len);
/* Call a's entry (and leaf) at their execution addresses and check the
 * values; through backend b when it is out of process (b may be NULL).
 * 0 ok, -1 with a message. */
struct jm_backend;
int jm_link_execute_via(struct jm_backend *b, const struct jm_alloc *a,
			enum jm_code_model cm, char *err, size_t errlen);
/* Call the function at execution address addr (int (*)(void)), here or
 * through b's execute op. 0 and *out, or -1 with a message. */
int jm_call_exec(struct jm_backend *b, uint64_t addr, uint32_t *out, char *err,
		 size_t errlen);
/* a was finalized: its leaf becomes the next graph's callee. */
void jm_link_finalized(struct jm_linker *L, const struct jm_alloc *a);
/* Graph id is being freed: stop calling into it. */
void jm_link_forget(struct jm_linker *L, uint64_t id);
/* "relocation target out of range: ..." */
void jm_reach_failure_text(const struct jm_reach_failure *f, char *buf,
			   size_t len);



#endif
