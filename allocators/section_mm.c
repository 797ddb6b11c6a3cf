/* section-mm: LLVM's SectionMemoryManager, the RuntimeDyld memory manager
 * of MCJIT, lli's rtdyld modes, PostgreSQL's llvmjit and numba
 * (llvm/lib/ExecutionEngine/SectionMemoryManager.cpp, with the default
 * MemoryMapper over llvm/lib/Support/Unix/Memory.inc), driven per segment
 * as RuntimeDyld drives it per section (RuntimeDyld.cpp, loadObjectImpl).
 *
 * Three MemoryGroups (Code, ROData, RWData), each with the blocks it
 * mapped, the sections handed out since the last finalize (PendingMem),
 * its free blocks (FreeMem) and a Near block.
 * allocate:   per segment allocateSection(group, size, align): alignment 0
 *             means 16; RequiredSize = align * (ceil(size / align) + 1).
 *             The first free block of the group with room is used from its
 *             aligned start (one pending block grows over consecutive
 *             sections of a free block: PendingPrefixIndex). Else a new
 *             block: allocateMappedMemory(RequiredSize, &Near, RW) = one
 *             mmap(RW, PRIVATE|ANON) of whole pages with the hint
 *             Near.base + Near.size (page-rounded; a hint, not MAP_FIXED:
 *             the kernel places it elsewhere when that is taken, so the
 *             groups' blocks interleave), retried once without a hint on
 *             failure. Near = the new block (and the Near of every group
 *             that has none yet). Its unused tail becomes a free block if
 *             more than 16 bytes (counted in an `unsigned`, as upstream).
 *             Zero-fill tails are cleared (RuntimeDyld's emitSection).
 *             reserve=on: first reserveAllocationSpace with the graph's
 *             code, ro and rw totals (RuntimeDyldImpl::computeTotalAllocSize):
 *             unless every group already has a free block of
 *             alignTo(size, a) + a bytes (a = max(align, 8)), all free
 *             blocks are dropped and one mmap(RW, no hint) of the three
 *             page-rounded parts becomes each group's free block.
 * finalize:   finalizeMemory: Code's pending blocks mprotect(RX), then
 *             ROData's mprotect(R), each over the pages the block touches
 *             (Memory::protectMappedMemory); those groups' free blocks are
 *             trimmed to whole pages. RWData is never touched: its pending
 *             list only grows. Every graph allocated since the previous
 *             finalize is finalized with it.
 * deallocate: nothing: the manager frees memory only when destroyed.
 * destroy:    munmap of every block (Code, then RWData, then ROData).
 * No locking: SectionMemoryManager is not thread-safe. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "backend.h"
#include "os.h"

enum { CODE, RODATA, RWDATA, NGROUP };

struct block {
	uint64_t base, size;
};

struct free_block {
	struct block free;
	long pending_prefix; /* index into pending, -1: none */
};

struct vec {
	void *v;
	size_t n, cap;
};

struct group {
	struct block near;
	struct vec allocated; /* struct block */
	struct vec pending;   /* struct block */
	struct vec free;      /* struct free_block */
};

struct section_mm {
	struct group g[NGROUP];
	int reserve;
	uint64_t mapped, mapped_peak, live;
};

#define AT(vec, type, i) (((type *)(vec).v)[i])

static int push(struct vec *v, const void *item, size_t size)
{
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 8;
		void *p = realloc(v->v, cap * size);
		if (!p)
			return -1;
		v->v = p;
		v->cap = cap;
	}
	memcpy((char *)v->v + v->n * size, item, size);
	v->n++;
	return 0;
}

static int sm_create(struct jm_backend *b)
{
	struct section_mm *m = calloc(1, sizeof(*m));
	if (!m)
		return jm_backend_error(b, NULL, ENOMEM, "calloc");
	m->reserve = (int)jm_opt_u64(&b->opts, "reserve");
	b->priv = m;
	return 0;
}

/* sys::Memory::allocateMappedMemory(bytes, near, RW): whole pages, the
 * hint just past near, once more without it if the mmap fails. */
static int map_block(struct jm_backend *b, struct section_mm *m, uint64_t bytes,
		     const struct block *near, struct block *out)
{
	const uint64_t ps = jm_page_size();
	uint64_t start = near ? near->base + near->size : 0;
	uint64_t len = jm_align_up(bytes, ps);
	if (start % ps)
		start += ps - start % ps;
	void *p = jm_os_mmap((void *)(uintptr_t)start, len, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED && near)
		p = jm_os_mmap(NULL, len, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return jm_backend_error(b, "mmap", errno, "mapping a %llu-byte block",
					(unsigned long long)len);
	*out = (struct block){(uint64_t)(uintptr_t)p, len};
	m->mapped += len;
	if (m->mapped > m->mapped_peak)
		m->mapped_peak = m->mapped;
	return 0;
}

/* SectionMemoryManager::allocateSection; 0 and *addr, or -1 */
static int allocate_section(struct jm_backend *b, struct section_mm *m, int group,
			    uint64_t size, uint64_t align, uint64_t *addr)
{
	struct group *g = &m->g[group];
	if (!align)
		align = 16;
	uint64_t required = align * ((size + align - 1) / align + 1);
	for (size_t i = 0; i < g->free.n; i++) {
		struct free_block *fb = &AT(g->free, struct free_block, i);
		if (fb->free.size < required)
			continue;
		uint64_t a = jm_align_up(fb->free.base, align);
		uint64_t end = fb->free.base + fb->free.size;
		if (fb->pending_prefix < 0) {
			struct block pb = {a, size};
			if (push(&g->pending, &pb, sizeof(pb)) < 0)
				return jm_backend_error(b, NULL, ENOMEM, "pending list");
			fb->pending_prefix = (long)g->pending.n - 1;
		} else {
			struct block *pb = &AT(g->pending, struct block, fb->pending_prefix);
			pb->size = a + size - pb->base;
		}
		fb->free = (struct block){a + size, end - a - size};
		*addr = a;
		return 0;
	}
	struct block mb;
	if (map_block(b, m, required, &g->near, &mb) < 0)
		return -1;
	g->near = mb;
	for (int k = 0; k < NGROUP; k++)
		if (!m->g[k].near.base)
			m->g[k].near = mb;
	uint64_t a = jm_align_up(mb.base, align);
	struct block pb = {a, size};
	uint32_t free_size = (uint32_t)(mb.base + mb.size - a - size); /* unsigned */
	struct free_block fb = {{a + size, free_size}, -1};
	if (push(&g->allocated, &mb, sizeof(mb)) < 0 ||
	    push(&g->pending, &pb, sizeof(pb)) < 0 ||
	    (free_size > 16 && push(&g->free, &fb, sizeof(fb)) < 0))
		return jm_backend_error(b, NULL, ENOMEM, "block lists");
	*addr = a;
	return 0;
}

static int group_of(enum jm_prot_class cls)
{
	return cls == JM_RX ? CODE : cls == JM_RO ? RODATA : RWDATA;
}

/* SectionMemoryManager::reserveAllocationSpace with RuntimeDyld's totals */
static int reserve_space(struct jm_backend *b, struct section_mm *m,
			 const struct jm_graph_req *req)
{
	uint64_t size[NGROUP] = {0}, align[NGROUP] = {1, 1, 1}, need[NGROUP];
	for (uint32_t i = 0; i < req->nseg; i++) {
		int k = group_of(req->seg[i].cls);
		if (req->seg[i].align > align[k])
			align[k] = req->seg[i].align;
	}
	for (uint32_t i = 0; i < req->nseg; i++) {
		int k = group_of(req->seg[i].cls);
		size[k] += jm_align_up(req->seg[i].content + req->seg[i].zero_fill, align[k]);
	}
	if (!size[CODE] && !size[RODATA] && !size[RWDATA])
		return 0;
	int have_space = 1;
	for (int k = 0; k < NGROUP; k++) {
		uint64_t a = align[k] > 8 ? align[k] : 8; /* StubAlign */
		need[k] = jm_align_up(size[k], a) + a;
		int found = 0;
		for (size_t i = 0; i < m->g[k].free.n && !found; i++)
			found = AT(m->g[k].free, struct free_block, i).free.size >= need[k];
		have_space &= found;
	}
	if (have_space)
		return 0;
	uint64_t total = 0;
	for (int k = 0; k < NGROUP; k++) {
		m->g[k].free.n = 0;
		need[k] = jm_align_up(need[k], jm_page_size());
		total += need[k];
	}
	struct block mb;
	if (map_block(b, m, total, NULL, &mb) < 0) {
		/* upstream returns without an error; the sections map their own */
		b->err[0] = 0;
		b->err_errno = 0;
		b->err_sys = NULL;
		return 0;
	}
	if (push(&m->g[CODE].allocated, &mb, sizeof(mb)) < 0)
		return jm_backend_error(b, NULL, ENOMEM, "block lists");
	uint64_t addr = mb.base;
	for (int k = 0; k < NGROUP; k++) {
		if (!size[k])
			continue;
		struct free_block fb = {{addr, need[k]}, -1};
		if (push(&m->g[k].free, &fb, sizeof(fb)) < 0)
			return jm_backend_error(b, NULL, ENOMEM, "block lists");
		addr += need[k];
	}
	return 0;
}

static int sm_allocate(struct jm_backend *b, const struct jm_graph_req *req,
		       struct jm_alloc *out)
{
	struct section_mm *m = b->priv;
	if (m->reserve && reserve_space(b, m, req) < 0)
		return -1;
	jm_alloc_init(out, req);
	for (uint32_t i = 0; i < req->nseg; i++) {
		const struct jm_segment_req *s = &req->seg[i];
		uint64_t size = s->content + s->zero_fill, addr = 0;
		if (allocate_section(b, m, group_of(s->cls), size, s->align, &addr) < 0)
			return -1;
		memset((char *)(uintptr_t)addr + s->content, 0, s->zero_fill);
		out->seg[i].write = out->seg[i].exec = (void *)(uintptr_t)addr;
		m->live += size;
	}
	return 0;
}

/* applyMemoryGroupPermissions */
static int protect_group(struct jm_backend *b, struct group *g, int prot)
{
	const uint64_t ps = jm_page_size();
	for (size_t i = 0; i < g->pending.n; i++) {
		struct block *pb = &AT(g->pending, struct block, i);
		if (!pb->base || !pb->size)
			continue;
		uint64_t start = jm_align_down(pb->base, ps);
		uint64_t end = jm_align_up(pb->base + pb->size, ps);
		/* sys::Memory::protectMappedMemory; the pages were RW until now
		 * (a free block is trimmed to whole pages below) */
		if (jm_os_llvm_protect((void *)(uintptr_t)start, end - start, prot, 0) < 0)
			return jm_backend_error(b, "mprotect", errno, "protecting a section");
	}
	g->pending.n = 0;
	size_t kept = 0;
	for (size_t i = 0; i < g->free.n; i++) {
		struct free_block fb = AT(g->free, struct free_block, i);
		uint64_t overlap = (ps - fb.free.base % ps) % ps;
		uint64_t trimmed = fb.free.size - overlap;
		trimmed -= trimmed % ps;
		fb.free = (struct block){fb.free.base + overlap, trimmed};
		fb.pending_prefix = -1;
		if (trimmed)
			AT(g->free, struct free_block, kept++) = fb;
	}
	g->free.n = kept;
	return 0;
}

static int sm_finalize(struct jm_backend *b, struct jm_alloc *a)
{
	(void)a; /* finalizeMemory covers every section pending */
	struct section_mm *m = b->priv;
	if (protect_group(b, &m->g[CODE], PROT_READ | PROT_EXEC) < 0 ||
	    protect_group(b, &m->g[RODATA], PROT_READ) < 0)
		return -1;
	return 0; /* instruction cache: nothing to do on x86-64 */
}

static int sm_deallocate(struct jm_backend *b, struct jm_alloc *a)
{
	struct section_mm *m = b->priv;
	for (uint32_t i = 0; i < a->nseg; i++)
		m->live -= a->seg[i].size;
	return 0; /* memory stays with the manager until it is destroyed */
}

static void sm_stats(struct jm_backend *b, struct jm_backend_stats *out)
{
	struct section_mm *m = b->priv;
	out->va_reserved = out->bytes_mapped = m->mapped;
	out->va_reserved_peak = out->bytes_mapped_peak = m->mapped_peak;
	out->bytes_live = m->live;
	out->reservations = m->g[CODE].allocated.n + m->g[RODATA].allocated.n +
			    m->g[RWDATA].allocated.n;
	static const char *const names[NGROUP] = {"code_free_blocks", "rodata_free_blocks",
						   "rwdata_free_blocks"};
	out->nextra = NGROUP;
	for (int k = 0; k < NGROUP; k++) {
		out->extra[k].name = names[k];
		out->extra[k].value = m->g[k].free.n;
	}
}

static void sm_destroy(struct jm_backend *b)
{
	struct section_mm *m = b->priv;
	if (!m)
		return;
	static const int order[NGROUP] = {CODE, RWDATA, RODATA};
	for (int o = 0; o < NGROUP; o++) {
		struct group *g = &m->g[order[o]];
		for (size_t i = 0; i < g->allocated.n; i++) {
			struct block *mb = &AT(g->allocated, struct block, i);
			jm_os_munmap((void *)(uintptr_t)mb->base, mb->size);
		}
	}
	for (int k = 0; k < NGROUP; k++) {
		free(m->g[k].allocated.v);
		free(m->g[k].pending.v);
		free(m->g[k].free.v);
	}
	free(m);
}

const struct jm_backend_ops jm_backend_section_mm = {
	.name = "section-mm",
	.description = "LLVM SectionMemoryManager (RuntimeDyld/MCJIT): Code, ROData "
		       "and RWData blocks mapped near each other, mprotect of pending "
		       "sections at finalize, nothing freed before destroy",
	.models = "llvm/lib/ExecutionEngine/SectionMemoryManager.cpp, "
		  "Support/Unix/Memory.inc; real: llvm-section",
	.caps = 0,
	.options = (const struct jm_option_def[]){
		{"reserve", JM_OPT_BOOL, "off", NULL,
		 "reserveAllocationSpace per graph (SectionMemoryManager(nullptr, "
		 "true), llvm#71968)", 0, 0},
		{0},
	},
	.create = sm_create,
	.allocate = sm_allocate,
	.finalize = sm_finalize,
	.deallocate = sm_deallocate,
	.trim = jm_backend_trim_none, /* nothing can be given back */
	.stats = sm_stats,
	.destroy = sm_destroy,
};
