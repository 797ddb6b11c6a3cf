/* The core model: what a JIT linker asks a memory manager for (a graph
 * request, one per LinkGraph) and what the manager hands back (an
 * allocation: a write and an execution address per segment). */
#ifndef JITMM_GRAPH_H
#define JITMM_GRAPH_H

#include <stddef.h>
#include <stdint.h>

enum jm_prot_class { JM_RO = 0, JM_RW = 1, JM_RX = 2, JM_NCLASS = 3 };
enum jm_lifetime { JM_STANDARD = 0, JM_FINALIZE = 1, JM_NLIFETIME = 2 };

/* At most one segment per (class, lifetime) pair, as JITLink's AllocGroups. */
#define JM_MAX_SEGS (JM_NCLASS * JM_NLIFETIME)

struct jm_segment_req {
	enum jm_prot_class cls;
	enum jm_lifetime life;
	uint64_t content;   /* bytes written by the linker */
	uint64_t zero_fill; /* bytes after the content that must read as zero */
	uint32_t align;     /* power of two, >= 1 */
};

/* jm_graph_req.flags */
enum {
	/* The linker writes only the first and last page of each segment's
	 * content (the middle is left as the backend hands it out and is not
	 * checked): lets workloads reserve GiBs of address space without
	 * touching it (reach-stress). */
	JM_GRAPH_SPARSE = 1u << 0,
};

/* A section-name hint (trace: section=NAME:CLASS[/LIFE]=SIZE): the last
 * size content bytes of the graph's (cls, life) segment are one section
 * called name. Backends that treat sections by name read it (slab-pool:
 * .nv_fatbin goes outside the slab); the others see only the segment. */
#define JM_SECTION_NAME_MAX 23
struct jm_section_hint {
	char name[JM_SECTION_NAME_MAX + 1]; /* "" = no hint */
	enum jm_prot_class cls;
	enum jm_lifetime life;
	uint64_t size;
};

struct jm_graph_req {
	uint64_t id;
	uint32_t dylib; /* JITDylib id; 0 when the workload has only one */
	uint32_t nseg;
	uint32_t flags; /* JM_GRAPH_* */
	/* Sorted in AllocGroup order (jm_seg_order): R, RW, RX, then the
	 * finalize-lifetime groups in the same order. */
	struct jm_segment_req seg[JM_MAX_SEGS];
	struct jm_section_hint section;
};

struct jm_segment_alloc {
	void *write;   /* where the linker writes the contents */
	void *exec;    /* where the contents live at run time */
	uint64_t size;    /* content + zero_fill, as requested (not rounded) */
	uint64_t content; /* the part the linker writes; the rest is zero */
	enum jm_prot_class cls;
	enum jm_lifetime life;
};


/* An allocation may hold one segment more than a request: a backend that
 * places a hinted section on its own (slab-pool's .nv_fatbin) appends it. */
#define JM_MAX_ALLOC_SEGS (JM_MAX_SEGS + 1)

struct jm_alloc {
	uint64_t id;
	uint32_t nseg;
	struct jm_segment_alloc seg[JM_MAX_ALLOC_SEGS];
	void *priv; /* the backend's own per-allocation state */
	uint64_t priv_u[4];
	/* The harness's (the JIT linker's) record of what it wrote: see
	 * linker/reloc.h. Backends never touch it. */
	struct {
		uint32_t flags;     /* JM_GRAPH_* of the request */
		uint32_t state;     /* enum jm_link_state */
		uint32_t value;     /* what the rx entry function returns */
		uint32_t callee_value;
		uint64_t callee;    /* exec address of the called function, 0: none */
		uint64_t callee_id; /* the graph it belongs to */
	} link;
};

/* Copy class, lifetime and sizes of each requested segment into out (the
 * addresses are left for the backend to fill). */
void jm_alloc_init(struct jm_alloc *out, const struct jm_graph_req *req);

/* LLVM's AllocGroup key: MemProt (R=1, W=2, X=4) | lifetime << 3. Ascending
 * key order is the segment order every LLVM layout uses. */
unsigned jm_seg_order_key(enum jm_prot_class cls, enum jm_lifetime life);
/* Sort req->seg by jm_seg_order_key and drop empty segments. */
void jm_graph_normalize(struct jm_graph_req *req);
uint64_t jm_graph_bytes(const struct jm_graph_req *req);
/* PROT_* value for a protection class. */
int jm_class_prot(enum jm_prot_class cls);
const char *jm_class_name(enum jm_prot_class cls);
int jm_class_parse(const char *s, enum jm_prot_class *out);

static inline uint64_t jm_align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}
static inline uint64_t jm_align_down(uint64_t v, uint64_t a)
{
	return v & ~(a - 1);
}
static inline int jm_is_pow2(uint64_t v) { return v && !(v & (v - 1)); }

#endif
