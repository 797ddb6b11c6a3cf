/* striped: llvm#216484 "[JITLink] Stripe InProcessMemoryManager allocations
 * by permission" (open). Design decisions and measurements:
 * docs/backends/striped.md.
 *
 * Slabs of slab_size bytes are divided into chunks of chunk_size bytes. A
 * chunk serves one AllocGroup (protection x lifetime) only, so segments of
 * the same permission are neighbours and their mappings coalesce:
 *     |R-X|R-X|R-X|......free......|R--|RW-|R--|R--|RW-|
 * Chunks for executable groups are claimed from the bottom of the slab,
 * chunks for every other group from the top (read-only and read-write data
 * stripe among themselves in the upper part). All segments of one graph
 * come from one slab, so the slab size bounds intra-graph distance.
 *
 * reservation: one mmap(RW) per slab, as InProcessMemoryManager's slab
 *              (no PROT_NONE + commit: that would add a mprotect per chunk
 *              and a '---' VMA in the middle of every slab).
 * allocate:    per segment (page-aligned), first fit within the chunks its
 *              group already owns in the slab; else claim the lowest (rx)
 *              or highest (others) run of free chunks. The graph's pages
 *              are zeroed (reused memory may hold old contents).
 * finalize:    one mprotect per segment, RW and finalize-lifetime ones too
 *              (InProcessMemoryManager's applyProtections, which the PR
 *              changes: it protects every segment). Then finalize-lifetime
 *              segments go back to their chunks (InProcessMemoryManager
 *              munmaps its finalize region here), a non-RW one after an
 *              mprotect(RW) so that the next graph can write there.
 * deallocate:  one mprotect(RW) per non-RW segment, then the segments go
 *              back to their chunks; a slab with nothing live is munmapped
 *              (InProcessMemoryManager munmaps on free).
 * Chunks:      "each chunk of a slab is only ever handed out to a single
 *              AllocGroup" (the PR text): a chunk claimed by a group stays
 *              that group's, even when nothing in it is live, until its
 *              slab is unmapped.
 * Segment alignment above the page size is an error, as in LLVM. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "backend.h"
#include "freeset.h"
#include "os.h"
#include "reach.h"

#define NGROUPS (JM_NCLASS * JM_NLIFETIME)
#define CHUNK_FREE 0xff

struct slab {
	struct slab *next;
	uint64_t base, size;
	uint32_t nchunks, used;
	uint64_t live;
	uint8_t *ck; /* per chunk: CHUNK_FREE or the AllocGroup it serves */
	struct jm_freeset fs[NGROUPS]; /* free bytes of each group's chunks */
};

struct striped {
	pthread_mutex_t lock;
	uint64_t slab_size, chunk;
	struct slab *slabs;
	uint64_t nslabs, slabs_made, slabs_unmapped, reserved, reserved_peak, live;
	struct jm_reach reach;
};

enum { P_STATE };
enum { ST_ALLOCATED = 0, ST_FINALIZED = 1 };

static unsigned group_of(enum jm_prot_class c, enum jm_lifetime l)
{
	return (unsigned)l * JM_NCLASS + (unsigned)c;
}

static int from_bottom(unsigned g)
{
	return g % JM_NCLASS == JM_RX;
}

static uint64_t seg_bytes(const struct jm_segment_alloc *s)
{
	return jm_align_up(s->size, jm_page_size());
}

static int st_create(struct jm_backend *b)
{
	uint64_t ps = jm_page_size();
	uint64_t slab = jm_opt_u64(&b->opts, "slab_size");
	uint64_t chunk = jm_opt_u64(&b->opts, "chunk_size");
	if (chunk % ps)
		return jm_backend_error(b, NULL, EINVAL,
			"chunk_size must be a multiple of the page size (%lu)",
			(unsigned long)ps);
	if (slab % chunk)
		return jm_backend_error(b, NULL, EINVAL,
			"slab_size must be a multiple of chunk_size");
	if (slab / chunk > (1u << 24))
		return jm_backend_error(b, NULL, EINVAL,
			"slab_size / chunk_size exceeds 16M chunks");
	struct striped *st = calloc(1, sizeof(*st));
	if (!st)
		return jm_backend_error(b, NULL, ENOMEM, "calloc");
	pthread_mutex_init(&st->lock, NULL);
	st->slab_size = slab;
	st->chunk = chunk;
	jm_reach_init(&st->reach);
	b->priv = st;
	return 0;
}

static void slab_free(struct slab *s)
{
	for (int g = 0; g < NGROUPS; g++)
		jm_freeset_release(&s->fs[g]);
	free(s->ck);
	free(s);
}

static struct slab *slab_new(struct jm_backend *b, struct striped *st,
			     uint64_t size)
{
	struct slab *s = calloc(1, sizeof(*s));
	if (s)
		s->ck = calloc(size / st->chunk, sizeof(*s->ck));
	if (!s || !s->ck) {
		free(s);
		jm_backend_error(b, NULL, ENOMEM, "calloc");
		return NULL;
	}
	void *p = jm_os_mmap(NULL, size, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		jm_backend_error(b, "mmap", errno, "reserving %lu-byte slab",
				 (unsigned long)size);
		free(s->ck);
		free(s);
		return NULL;
	}
	s->base = (uint64_t)(uintptr_t)p;
	s->size = size;
	s->nchunks = (uint32_t)(size / st->chunk);
	for (uint32_t i = 0; i < s->nchunks; i++)
		s->ck[i] = CHUNK_FREE;
	for (int g = 0; g < NGROUPS; g++)
		jm_freeset_init(&s->fs[g]);
	s->next = st->slabs;
	st->slabs = s;
	st->nslabs++;
	st->slabs_made++;
	st->reserved += size;
	if (st->reserved > st->reserved_peak)
		st->reserved_peak = st->reserved;
	return s;
}

/* Claim n consecutive free chunks for group g: the lowest run for rx, the
 * highest for everything else. Returns the first chunk index or -1. */
static int64_t claim(struct striped *st, struct slab *s, unsigned g, uint32_t n)
{
	if (s->nchunks - s->used < n)
		return -1;
	int64_t first = -1;
	uint32_t run = 0;
	if (from_bottom(g)) {
		for (uint32_t i = 0; i < s->nchunks; i++) {
			run = s->ck[i] == CHUNK_FREE ? run + 1 : 0;
			if (run == n) {
				first = (int64_t)i - n + 1;
				break;
			}
		}
	} else {
		for (uint32_t i = s->nchunks; i-- > 0;) {
			run = s->ck[i] == CHUNK_FREE ? run + 1 : 0;
			if (run == n) {
				first = i;
				break;
			}
		}
	}
	if (first < 0)
		return -1;
	uint64_t lo = s->base + (uint64_t)first * st->chunk;
	if (jm_freeset_insert(&s->fs[g], lo, lo + (uint64_t)n * st->chunk) < 0)
		return -1;
	for (uint32_t i = 0; i < n; i++)
		s->ck[first + i] = (uint8_t)g;
	s->used += n;
	return first;
}

static int place(struct striped *st, struct slab *s, unsigned g, uint64_t len,
		 int may_claim, uint64_t *addr)
{
	if (jm_freeset_first_fit(&s->fs[g], len, addr) < 0) {
		if (!may_claim)
			return -1;
		uint32_t n = (uint32_t)((len + st->chunk - 1) / st->chunk);
		if (claim(st, s, g, n) < 0 ||
		    jm_freeset_first_fit(&s->fs[g], len, addr) < 0)
			return -1;
	}
	s->live += len;
	return 0;
}

static void unplace(struct striped *st, struct slab *s,
		    const struct jm_segment_alloc *seg)
{
	uint64_t a = (uint64_t)(uintptr_t)seg->exec, len = seg_bytes(seg);
	unsigned g = group_of(seg->cls, seg->life);
	jm_freeset_insert(&s->fs[g], a, a + len);
	s->live -= len;
	st->live -= len;
}

/* Place every segment of out in s, or none of them. may_claim 0: only in
 * free space of chunks the groups already own. */
static int place_all(struct striped *st, struct slab *s, struct jm_alloc *out,
		     int may_claim)
{
	for (uint32_t i = 0; i < out->nseg; i++) {
		uint64_t a;
		if (place(st, s, group_of(out->seg[i].cls, out->seg[i].life),
			  seg_bytes(&out->seg[i]), may_claim, &a) < 0) {
			while (i-- > 0)
				unplace(st, s, &out->seg[i]);
			return -1;
		}
		out->seg[i].write = out->seg[i].exec = (void *)(uintptr_t)a;
		st->live += seg_bytes(&out->seg[i]);
	}
	return 0;
}

static void unlink_slab(struct striped *st, struct slab *s)
{
	for (struct slab **p = &st->slabs; *p; p = &(*p)->next)
		if (*p == s) {
			*p = s->next;
			break;
		}
	st->nslabs--;
	st->slabs_unmapped++;
	st->reserved -= s->size;
}

static int st_allocate(struct jm_backend *b, const struct jm_graph_req *req,
		       struct jm_alloc *out)
{
	struct striped *st = b->priv;
	const uint64_t ps = jm_page_size();
	uint64_t need = 0; /* what a fresh slab must hold: whole chunks per segment */
	for (uint32_t i = 0; i < req->nseg; i++) {
		const struct jm_segment_req *s = &req->seg[i];
		if (s->align > ps)
			return jm_backend_error(b, NULL, EINVAL,
				"segment alignment %u exceeds page size", s->align);
		need += jm_align_up(jm_align_up(s->content + s->zero_fill, ps), st->chunk);
	}
	if (!need)
		return jm_backend_error(b, NULL, EINVAL, "empty graph");
	jm_alloc_init(out, req);
	pthread_mutex_lock(&st->lock);
	/* first the holes in chunks already striped for these groups, in every
	 * slab; only then new chunks: otherwise under churn holes left in one
	 * slab stay open (each one splits a stripe) while another slab grows */
	struct slab *s = NULL;
	for (int may_claim = 0; may_claim < 2 && !s; may_claim++)
		for (s = st->slabs; s; s = s->next)
			if (place_all(st, s, out, may_claim) == 0)
				break;
	if (!s) {
		/* a graph bigger than a slab gets a slab of its own size */
		s = slab_new(b, st, need > st->slab_size ? need : st->slab_size);
		if (!s || place_all(st, s, out, 1) < 0) {
			if (s && !s->live) {
				unlink_slab(st, s);
				jm_os_munmap((void *)(uintptr_t)s->base, s->size);
				slab_free(s);
			}
			pthread_mutex_unlock(&st->lock);
			return s ? jm_backend_error(b, NULL, ENOMEM,
						    "graph does not fit a fresh slab") : -1;
		}
	}
	int rf = jm_reach_note(&st->reach, req->dylib, out);
	pthread_mutex_unlock(&st->lock);
	if (rf < 0)
		return jm_backend_error(b, NULL, ENOMEM, "reach table");
	for (uint32_t i = 0; i < out->nseg; i++)
		memset(out->seg[i].write, 0, seg_bytes(&out->seg[i]));
	out->priv = s;
	out->priv_u[P_STATE] = ST_ALLOCATED;
	return 0;
}

static int st_finalize(struct jm_backend *b, struct jm_alloc *a)
{
	struct striped *st = b->priv;
	struct slab *s = a->priv;
	for (uint32_t i = 0; i < a->nseg; i++) {
		struct jm_segment_alloc *sg = &a->seg[i];
		if (jm_os_llvm_protect(sg->exec, seg_bytes(sg), jm_class_prot(sg->cls), 0) < 0)
			return jm_backend_error(b, "mprotect", errno,
						"protecting segment %u", i);
	}
	for (uint32_t i = 0; i < a->nseg; i++) {
		struct jm_segment_alloc *sg = &a->seg[i];
		if (sg->life != JM_FINALIZE || sg->cls == JM_RW)
			continue;
		if (jm_os_llvm_protect(sg->exec, seg_bytes(sg), PROT_READ | PROT_WRITE,
				       sg->cls == JM_RX) < 0)
			return jm_backend_error(b, "mprotect", errno,
						"resetting finalize segment %u", i);
	}
	pthread_mutex_lock(&st->lock);
	for (uint32_t i = 0; i < a->nseg; i++) {
		struct jm_segment_alloc *sg = &a->seg[i];
		if (sg->life == JM_FINALIZE && sg->exec) {
			unplace(st, s, sg);
			sg->exec = sg->write = NULL;
		}
	}
	pthread_mutex_unlock(&st->lock);
	a->priv_u[P_STATE] = ST_FINALIZED;
	return 0;
}

static int st_deallocate(struct jm_backend *b, struct jm_alloc *a)
{
	struct striped *st = b->priv;
	struct slab *s = a->priv;
	uint64_t bytes = 0;
	for (uint32_t i = 0; i < a->nseg; i++)
		if (a->seg[i].exec)
			bytes += seg_bytes(&a->seg[i]);
	pthread_mutex_lock(&st->lock);
	int last = s->live == bytes; /* the slab empties: unmap, no mprotects */
	if (last) {
		unlink_slab(st, s);
		st->live -= bytes;
	}
	pthread_mutex_unlock(&st->lock);
	if (last) {
		int rc = jm_os_munmap((void *)(uintptr_t)s->base, s->size);
		slab_free(s);
		return rc < 0 ? jm_backend_error(b, "munmap", errno, "releasing slab") : 0;
	}
	if (a->priv_u[P_STATE] == ST_FINALIZED)
		for (uint32_t i = 0; i < a->nseg; i++) {
			struct jm_segment_alloc *sg = &a->seg[i];
			if (!sg->exec || sg->cls == JM_RW)
				continue;
			if (jm_os_llvm_protect(sg->exec, seg_bytes(sg), PROT_READ | PROT_WRITE,
					       sg->cls == JM_RX) < 0)
				return jm_backend_error(b, "mprotect", errno,
							"resetting protections");
		}
	pthread_mutex_lock(&st->lock);
	for (uint32_t i = 0; i < a->nseg; i++)
		if (a->seg[i].exec)
			unplace(st, s, &a->seg[i]);
	last = s->live == 0; /* another thread freed the rest meanwhile */
	if (last)
		unlink_slab(st, s);
	pthread_mutex_unlock(&st->lock);
	if (last) {
		int rc = jm_os_munmap((void *)(uintptr_t)s->base, s->size);
		slab_free(s);
		if (rc < 0)
			return jm_backend_error(b, "munmap", errno, "releasing slab");
	}
	return 0;
}

static void st_stats(struct jm_backend *b, struct jm_backend_stats *out)
{
	struct striped *st = b->priv;
	pthread_mutex_lock(&st->lock);
	out->va_reserved = out->bytes_mapped = st->reserved;
	out->va_reserved_peak = out->bytes_mapped_peak = st->reserved_peak;
	out->bytes_live = st->live;
	out->reservations = st->slabs_made;
	out->reach_failures = st->reach.failures;
	uint64_t chunks = 0;
	for (struct slab *s = st->slabs; s; s = s->next)
		chunks += s->used;
	out->nextra = 4;
	out->extra[0].name = "slabs_live";
	out->extra[0].value = st->nslabs;
	out->extra[1].name = "slabs_unmapped";
	out->extra[1].value = st->slabs_unmapped;
	out->extra[2].name = "chunks_in_use";
	out->extra[2].value = chunks;
	out->extra[3].name = "reach_tracked";
	out->extra[3].value = 1;
	pthread_mutex_unlock(&st->lock);
}

static void st_destroy(struct jm_backend *b)
{
	struct striped *st = b->priv;
	if (!st)
		return;
	int failed = 0;
	for (struct slab *s = st->slabs, *n; s; s = n) {
		n = s->next;
		if (jm_os_munmap((void *)(uintptr_t)s->base, s->size) < 0 && !failed++)
			jm_backend_error(b, "munmap", errno, "releasing slab at %#llx; its "
					 "mapping is leaked", (unsigned long long)s->base);
		slab_free(s);
	}
	jm_reach_release(&st->reach);
	pthread_mutex_destroy(&st->lock);
	free(st);
}

const struct jm_backend_ops jm_backend_striped = {
	.name = "striped",
	.description = "llvm#216484 (open): InProcessMemoryManager slabs striped "
		       "by permission at chunk granularity, rx from the bottom",
	.models = "llvm#216484 \"[JITLink] Stripe InProcessMemoryManager "
		  "allocations by permission\" (JITLinkMemoryManager.cpp)",
	.caps = JM_CAP_FREES | JM_CAP_THREAD_SAFE,
	.options = (const struct jm_option_def[]){
		{"slab_size", JM_OPT_SIZE, "64M", NULL,
		 "slab reservation; bounds intra-graph distance", 4096, 1ull << 40},
		{"chunk_size", JM_OPT_SIZE, "256K", NULL,
		 "stripe unit: each chunk serves one AllocGroup", 4096, 1ull << 32},
		{0},
	},
	.create = st_create,
	.allocate = st_allocate,
	.finalize = st_finalize,
	.deallocate = st_deallocate,
	.trim = jm_backend_trim_none, /* empty slabs are unmapped at once */
	.stats = st_stats,
	.destroy = st_destroy,
};
