/* inprocess: LLVM jitlink::InProcessMemoryManager, the default per-graph
 * memory manager (llvm/lib/ExecutionEngine/JITLink/JITLinkMemoryManager.cpp).
 *
 * allocate:   one mmap(RW, PRIVATE|ANON) per graph holding the standard
 *             segments followed by the finalize-lifetime segments, each
 *             segment page-aligned, in AllocGroup order (R, RW, RX); the
 *             whole slab is memset to zero up front (touching every page).
 * finalize:   one mprotect per non-empty segment; then the finalize-lifetime
 *             region is munmapped (if there is one).
 * deallocate: munmap of the standard region.
 * abandon:    (free before finalize, IPInFlightAlloc::abandon) the
 *             finalize region and the standard region are released by two
 *             releaseMappedMemory calls, finalize first (a zero-size region
 *             makes none): two munmaps when the graph has finalize-lifetime
 *             segments.
 * llvm=N (14-22): before llvm#81943 (first in LLVM 19) deallocate
 * released the standard segments only when the graph had dealloc actions;
 * the harness's graphs have none, so with llvm <= 18 deallocate makes no
 * syscall and the memory stays mapped, at its final protections, for the
 * life of the process (stat kept_bytes). Measured with the real classes of
 * LLVM 15, 16, 19 and 22 (docs/backends/inprocess.md).
 * Segment alignment above the page size is an error, as in LLVM. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "backend.h"
#include "os.h"

struct inprocess {
	pthread_mutex_t lock; /* guards the stats only; LLVM's is lock-free */
	uint64_t mapped, mapped_peak, live, slabs;
	unsigned llvm;
	uint64_t kept; /* llvm <= 18: standard regions never released */
};

enum { P_BASE, P_STD, P_FIN, P_STATE };
enum { ST_ALLOCATED = 0, ST_FINALIZED = 1 };

static int ip_create(struct jm_backend *b)
{
	struct inprocess *ip = calloc(1, sizeof(*ip));
	if (!ip)
		return jm_backend_error(b, NULL, ENOMEM, "calloc");
	pthread_mutex_init(&ip->lock, NULL);
	ip->llvm = (unsigned)jm_opt_u64(&b->opts, "llvm");
	b->priv = ip;
	return 0;
}

static void account(struct inprocess *ip, int64_t mapped, int64_t live)
{
	pthread_mutex_lock(&ip->lock);
	ip->mapped += (uint64_t)mapped;
	ip->live += (uint64_t)live;
	if (ip->mapped > ip->mapped_peak)
		ip->mapped_peak = ip->mapped;
	if (mapped > 0)
		ip->slabs++;
	pthread_mutex_unlock(&ip->lock);
}

static int ip_allocate(struct jm_backend *b, const struct jm_graph_req *req,
		       struct jm_alloc *out)
{
	struct inprocess *ip = b->priv;
	const uint64_t ps = jm_page_size();
	uint64_t std = 0, fin = 0;
	for (uint32_t i = 0; i < req->nseg; i++) {
		const struct jm_segment_req *s = &req->seg[i];
		if (s->align > ps)
			return jm_backend_error(b, NULL, EINVAL,
				"segment alignment %u exceeds page size", s->align);
		uint64_t sz = jm_align_up(s->content + s->zero_fill, ps);
		if (s->life == JM_FINALIZE)
			fin += sz;
		else
			std += sz;
	}
	uint64_t total = std + fin;
	if (total == 0)
		return jm_backend_error(b, NULL, EINVAL, "empty graph");
	char *base = jm_os_mmap(NULL, total, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (base == MAP_FAILED)
		return jm_backend_error(b, "mmap", errno,
					"reserving %lu-byte slab",
					(unsigned long)total);
	memset(base, 0, total);
	char *next_std = base, *next_fin = base + std;
	jm_alloc_init(out, req);
	for (uint32_t i = 0; i < req->nseg; i++) {
		char **next = req->seg[i].life == JM_FINALIZE ? &next_fin : &next_std;
		out->seg[i].write = out->seg[i].exec = *next;
		*next += jm_align_up(out->seg[i].size, ps);
	}
	out->priv_u[P_BASE] = (uint64_t)(uintptr_t)base;
	out->priv_u[P_STD] = std;
	out->priv_u[P_FIN] = fin;
	out->priv_u[P_STATE] = ST_ALLOCATED;
	account(ip, (int64_t)total, (int64_t)total);
	return 0;
}

static int ip_finalize(struct jm_backend *b, struct jm_alloc *a)
{
	struct inprocess *ip = b->priv;
	const uint64_t ps = jm_page_size();
	for (uint32_t i = 0; i < a->nseg; i++) {
		struct jm_segment_alloc *s = &a->seg[i];
		/* sys::Memory::protectMappedMemory */
		if (jm_os_llvm_protect(s->exec, jm_align_up(s->size, ps),
				       jm_class_prot(s->cls), 0) < 0)
			return jm_backend_error(b, "mprotect", errno,
						"protecting segment %u", i);
	}
	uint64_t fin = a->priv_u[P_FIN];
	if (fin) {
		char *fbase = (char *)(uintptr_t)a->priv_u[P_BASE] + a->priv_u[P_STD];
		if (jm_os_munmap(fbase, fin) < 0)
			return jm_backend_error(b, "munmap", errno,
						"releasing finalize segments");
		account(ip, -(int64_t)fin, -(int64_t)fin);
		for (uint32_t i = 0; i < a->nseg; i++)
			if ((char *)a->seg[i].exec >= fbase)
				a->seg[i].exec = a->seg[i].write = NULL;
	}
	a->priv_u[P_STATE] = ST_FINALIZED;
	return 0;
}

/* sys::Memory::releaseMappedMemory: nothing for an empty block */
static int release(struct jm_backend *b, char *base, uint64_t len)
{
	if (len && jm_os_munmap(base, len) < 0)
		return jm_backend_error(b, "munmap", errno, "releasing slab");
	return 0;
}

static int ip_deallocate(struct jm_backend *b, struct jm_alloc *a)
{
	struct inprocess *ip = b->priv;
	char *base = (char *)(uintptr_t)a->priv_u[P_BASE];
	uint64_t std = a->priv_u[P_STD], fin = a->priv_u[P_FIN];
	if (a->priv_u[P_STATE] != ST_FINALIZED) {
		/* abandon: FinalizationSegments, then StandardSegments */
		if (release(b, base + std, fin) < 0 || release(b, base, std) < 0)
			return -1;
		account(ip, -(int64_t)(std + fin), -(int64_t)(std + fin));
		return 0;
	}
	if (ip->llvm <= 18) {
		/* no dealloc actions: the standard segments are kept */
		account(ip, 0, -(int64_t)std);
		pthread_mutex_lock(&ip->lock);
		ip->kept += std;
		pthread_mutex_unlock(&ip->lock);
		return 0;
	}
	if (release(b, base, std) < 0)
		return -1;
	account(ip, -(int64_t)std, -(int64_t)std);
	return 0;
}

static void ip_stats(struct jm_backend *b, struct jm_backend_stats *out)
{
	struct inprocess *ip = b->priv;
	pthread_mutex_lock(&ip->lock);
	out->va_reserved = out->bytes_mapped = ip->mapped;
	out->va_reserved_peak = out->bytes_mapped_peak = ip->mapped_peak;
	out->bytes_live = ip->live;
	out->reservations = ip->slabs;
	out->nextra = 1;
	out->extra[0].name = "kept_bytes";
	out->extra[0].value = ip->kept;
	pthread_mutex_unlock(&ip->lock);
}

static void ip_destroy(struct jm_backend *b)
{
	struct inprocess *ip = b->priv;
	if (!ip)
		return;
	pthread_mutex_destroy(&ip->lock);
	free(ip);
}

const struct jm_backend_ops jm_backend_inprocess = {
	.name = "inprocess",
	.description = "LLVM InProcessMemoryManager: one RW mmap per graph, "
		       "mprotect per segment, munmap on free",
	.models = "llvm/lib/ExecutionEngine/JITLink/JITLinkMemoryManager.cpp "
		  "(InProcessMemoryManager)",
	.caps = JM_CAP_FREES | JM_CAP_THREAD_SAFE,
	.options = (const struct jm_option_def[]){
		{"llvm", JM_OPT_UINT, "22", NULL,
		 "LLVM release whose behaviour to model: <= 18 keeps a freed "
		 "graph's standard segments mapped (before llvm#81943)", 14, 22},
		{0},
	},
	.create = ip_create,
	.allocate = ip_allocate,
	.finalize = ip_finalize,
	.deallocate = ip_deallocate,
	.trim = jm_backend_trim_none, /* nothing cached to give back */
	.stats = ip_stats,
	.destroy = ip_destroy,
};
