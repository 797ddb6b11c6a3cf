/* Relocatable ELF objects (.o, and the members of .a archives) measured
 * as a JIT linker would lay them out: one graph per object. The columns
 * match shared/data/elf-segment-sizes.csv (see its README). */
#ifndef JITMM_ELF_INGEST_H
#define JITMM_ELF_INGEST_H

#include <stddef.h>
#include <stdint.h>

#include "../allocators/graph.h"

struct jm_elf_object {
	char name[128];     /* member name (archives) or file name */
	uint64_t rx, ro, rw, zf, tls; /* section bytes, aligned within each group */
	uint32_t align_rx, align_ro, align_rw; /* largest alignment per group */
	uint32_t nsec, maxalign;
	uint32_t got;       /* unique GOT-relative targets (+ stub targets) */
	uint32_t stubs;     /* unique undefined PLT32 targets */
	uint64_t nrel, nundef;
	uint64_t size;      /* bytes of the object (its file or archive member) */
	uint32_t has_dwarf; /* has .debug_* sections */
	uint32_t pad;
	uint64_t dropped;   /* allocatable bytes left out by dedup */
};

/* Input limits (docs/trace-format.md, "ELF input"): anything beyond them is
 * an error "FILE[(member)]: ...". The largest archive Debian 12 ships in
 * /usr/lib/x86_64-linux-gnu is well under the file limit; the largest
 * single object we measured is a few MiB. */
#define JM_ELF_MAX_FILE (1024ull << 20)  /* whole file (object or archive) */
#define JM_ELF_MAX_OBJECT (256ull << 20) /* one object or archive member */
#define JM_ELF_MAX_MEMBERS 100000u       /* objects per archive */

/* Called once per object in file order; return -1 to stop. */
typedef int (*jm_elf_visit)(void *ctx, const struct jm_elf_object *o);

/* Measure every object in path (an ELF .o or an ar archive of them).
 * Returns the number of objects, or -1 with "path[(member)]: message". */
long jm_elf_ingest(const char *path, jm_elf_visit visit, void *ctx, char *err,
		   size_t errlen);

/* The same, leaving out what earlier objects of the link (the same d,
 * over all its inputs in order) already provide: COMDAT groups and
 * weak-only sections (elf_dedup.h). */
struct jm_elf_dedup;
long jm_elf_ingest_dedup(const char *path, struct jm_elf_dedup *d, jm_elf_visit visit,
			 void *ctx, char *err, size_t errlen);

/* The same on an image in memory (an object or an archive; libelf's
 * elf_memory), named name in messages. buf is only read. */
long jm_elf_ingest_mem(const void *buf, size_t len, const char *name, jm_elf_visit visit,
		       void *ctx, char *err, size_t errlen);

/* The graph a JIT linker would request for o: ro (+ 8 B per GOT entry),
 * rw (+ zero-fill), rx (+ 6 B per call stub). */
void jm_elf_graph(const struct jm_elf_object *o, uint64_t id,
		  struct jm_graph_req *req);

/* The graph LLVM 14's JITLink requests for o (measured with Debian's
 * llvm-jitlink-14, docs/fidelity.md): its ELFLinkGraphBuilder gives every
 * non-executable section Read|Write, so read-only data joins the rw
 * segment; only the synthesized GOT is read-only (ro = 8 B per entry). */
void jm_elf_graph_llvm14(const struct jm_elf_object *o, uint64_t id,
			 struct jm_graph_req *req);

#endif
