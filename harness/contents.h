/* What the harness writes into each allocation, acting as the JIT linker,
 * and how it checks the result after finalize: rx segments start with a
 * function returning a value derived from the graph id (the rest is trap
 * bytes); ro and rw segments hold a per-graph byte pattern; zero-fill
 * tails must read as zero. */
#ifndef JITMM_CONTENTS_H
#define JITMM_CONTENTS_H

#include <stddef.h>
#include <stdint.h>

#include "../allocators/backend.h"
#include "../allocators/graph.h"

uint32_t jm_contents_value(uint64_t id);
/* Write every segment's content through its write address. */
void jm_contents_write(const struct jm_alloc *a);
/* Read every segment back through its execution address (segments whose
 * exec is NULL, released by the backend, are skipped). With execute, call
 * the function at the start of each rx segment. 0 if all is well, else -1
 * and a message. */
int jm_contents_check(const struct jm_alloc *a, int execute, char *err,
		      size_t errlen);
/* The same check for any backend: when the backend's exec addresses live in
 * another process (ops->read_exec / ops->execute), the bytes are read and
 * the code is called through the backend, in that process; otherwise this
 * is jm_contents_check. */
int jm_contents_check_backend(struct jm_backend *b, const struct jm_alloc *a,
			      int execute, char *err, size_t errlen);

#endif
