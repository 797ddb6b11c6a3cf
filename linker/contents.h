/* What the harness writes into each allocation, acting as the JIT linker,
 * and how it checks the result after finalize: the code segment (the first
 * standard rx segment) gets linked code (reloc.h); other rx segments start
 * with a function returning a value derived from the graph id; the rest of
 * rx is trap bytes; ro and rw segments start with a 32-bit word the code
 * loads and are a per-graph byte pattern after it; zero-fill tails must
 * read as zero. Graphs flagged JM_GRAPH_SPARSE get only the first and last
 * page of each segment's content written (and checked). */
#ifndef JITMM_CONTENTS_H
#define JITMM_CONTENTS_H

#include <stddef.h>
#include <stdint.h>

#include "../allocators/graph.h"
#include "arch.h"
#include "data_values.h"

struct jm_linker;

/* Write every segment's content through its write address; L links the
 * code (may be NULL: no cross-graph calls, small code model). */
void jm_contents_write_linked(struct jm_linker *L, struct jm_alloc *a);
/* Read every segment back through its execution address (segments whose
 * exec is NULL, released by the backend, are skipped). With execute, call
 * the functions of each rx segment and check what they return. 0 if all
 * is well, else -1 and a message. */
int jm_contents_check_linked(const struct jm_linker *L, const struct jm_alloc *a,
			     int execute, char *err, size_t errlen);

/* The same, reading and calling through backend b when b has read_exec /
 * execute ops (an out-of-process executor); b may be NULL. */
struct jm_backend;
int jm_contents_check_full(const struct jm_linker *L, struct jm_backend *b,
			   const struct jm_alloc *a, int execute, char *err,
			   size_t errlen);
int jm_contents_check_backend(struct jm_backend *b, const struct jm_alloc *a,
			      int execute, char *err, size_t errlen);

/* The same with no linker (L = NULL). */
void jm_contents_write(struct jm_alloc *a);
int jm_contents_check(const struct jm_alloc *a, int execute, char *err,
		      size_t errlen);

#endif
