/* The MapperJITLinkMemoryManager pool: see mapper_pool.h. */
#include "mapper_pool.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "os.h"

void jm_mapper_init(struct jm_mapper *m)
{
	memset(m, 0, sizeof(*m));
	pthread_mutex_init(&m->lock, NULL);
}

int jm_mapper_release(struct jm_backend *b, struct jm_mapper *m)
{
	int rc = 0;
	for (size_t i = 0; i < m->nres; i++) {
		uint64_t len = m->res[i].end - m->res[i].start;
		if (jm_os_munmap((void *)(uintptr_t)m->res[i].start, len) < 0 && !rc)
			rc = jm_backend_error(b, "munmap", errno,
				"releasing the reservation at %#llx (%llu bytes); its mapping "
				"is leaked", (unsigned long long)m->res[i].start,
				(unsigned long long)len);
	}
	free(m->res);
	m->res = NULL;
	m->nres = m->capres = 0;
	pthread_mutex_destroy(&m->lock);
	return rc;
}

void jm_mapper_pool_init(struct jm_mapper_pool *p)
{
	jm_freeset_init(&p->free);
	p->reservations = p->reserved = 0;
}

void jm_mapper_pool_release(struct jm_mapper_pool *p)
{
	jm_freeset_release(&p->free);
}

int jm_mapper_unit(struct jm_backend *b, const char *name, uint64_t *out)
{
	*out = jm_opt_u64(&b->opts, name);
	if (*out % jm_page_size())
		return jm_backend_error(b, NULL, EINVAL,
			"%s must be a multiple of the page size", name);
	return 0;
}

int jm_mapper_graph_size(struct jm_backend *b, const struct jm_graph_req *req,
			 uint64_t *total)
{
	const uint64_t ps = jm_page_size();
	uint64_t t = 0;
	for (uint32_t i = 0; i < req->nseg; i++) {
		if (req->seg[i].align > ps)
			return jm_backend_error(b, NULL, EINVAL,
				"segment alignment %u exceeds page size",
				req->seg[i].align);
		t += jm_align_up(req->seg[i].content + req->seg[i].zero_fill, ps);
	}
	if (!t)
		return jm_backend_error(b, NULL, EINVAL, "empty graph");
	*total = t;
	return 0;
}

int jm_mapper_reserve(struct jm_backend *b, struct jm_mapper *m,
		      struct jm_mapper_pool *p, uint64_t len, const char *what)
{
	/* room to record it first: a failed realloc costs no syscall */
	if (m->nres == m->capres) {
		size_t cap = m->capres ? m->capres * 2 : 8;
		struct jm_range *r = realloc(m->res, cap * sizeof(*r));
		if (!r)
			return jm_backend_error(b, NULL, ENOMEM, "realloc");
		m->res = r;
		m->capres = cap;
	}
	void *addr = jm_os_mmap(NULL, len, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (addr == MAP_FAILED)
		return jm_backend_error(b, "mmap", errno, "reserving %lu%s",
					(unsigned long)len, what);
	uint64_t a = (uint64_t)(uintptr_t)addr;
	if (jm_freeset_insert(&p->free, a, a + len) < 0) {
		jm_os_munmap(addr, len);
		return jm_backend_error(b, NULL, ENOMEM, "free ranges");
	}
	m->res[m->nres++] = (struct jm_range){a, a + len};
	m->reserved += len;
	if (m->reserved > m->reserved_peak)
		m->reserved_peak = m->reserved;
	p->reservations++;
	p->reserved += len;
	return 0;
}

int jm_mapper_fit(struct jm_mapper *m, struct jm_mapper_pool *p, uint64_t len,
		  uint64_t *start)
{
	if (jm_freeset_first_fit(&p->free, len, start) < 0)
		return -1;
	m->live += len;
	return 0;
}

int jm_mapper_grow(struct jm_backend *b, struct jm_mapper *m,
		   struct jm_mapper_pool *p, uint64_t len, uint64_t unit,
		   const char *what, uint64_t *start)
{
	if (jm_mapper_reserve(b, m, p, jm_align_up(len, unit), what) < 0)
		return -1;
	if (jm_mapper_fit(m, p, len, start) < 0)
		return jm_backend_error(b, NULL, ENOMEM,
			"no fit for %lu bytes in a fresh reservation",
			(unsigned long)len);
	return 0;
}

int jm_mapper_take(struct jm_backend *b, struct jm_mapper *m,
		   struct jm_mapper_pool *p, uint64_t len, uint64_t unit,
		   const char *what, uint64_t *start)
{
	if (jm_mapper_fit(m, p, len, start) == 0)
		return 0;
	return jm_mapper_grow(b, m, p, len, unit, what, start);
}

int jm_mapper_give_back(struct jm_mapper *m, struct jm_mapper_pool *p,
			uint64_t start, uint64_t len)
{
	m->live -= len;
	return jm_freeset_insert(&p->free, start, start + len);
}

void jm_mapper_abandon(struct jm_mapper *m, uint64_t len)
{
	m->live -= len;
	m->abandoned += len;
}

static size_t res_index(const struct jm_mapper *m, uint64_t start)
{
	size_t i = 0;
	while (i < m->nres && m->res[i].start != start)
		i++;
	return i;
}

int jm_mapper_is_base(const struct jm_mapper *m, uint64_t start)
{
	return res_index(m, start) < m->nres;
}

int jm_mapper_unreserve(struct jm_backend *b, struct jm_mapper *m,
			uint64_t start)
{
	size_t i = res_index(m, start);
	if (i == m->nres)
		return jm_backend_error(b, NULL, EINVAL,
			"no reservation at 0x%llx", (unsigned long long)start);
	struct jm_range r = m->res[i];
	if (jm_os_munmap((void *)(uintptr_t)r.start, r.end - r.start) < 0)
		return jm_backend_error(b, "munmap", errno, "releasing a reservation");
	m->res[i] = m->res[--m->nres];
	m->reserved -= r.end - r.start;
	return 0;
}

void jm_mapper_layout(struct jm_alloc *out, uint64_t start)
{
	const uint64_t ps = jm_page_size();
	for (uint32_t i = 0; i < out->nseg; i++) {
		out->seg[i].write = out->seg[i].exec = (void *)(uintptr_t)start;
		start += jm_align_up(out->seg[i].size, ps);
	}
}

int jm_mapper_finalize(struct jm_backend *b, struct jm_alloc *a)
{
	for (uint32_t i = 0; i < a->nseg; i++) {
		struct jm_segment_alloc *s = &a->seg[i];
		memset((char *)s->write + s->content, 0, s->size - s->content);
		if (jm_os_llvm_protect(s->exec, jm_align_up(s->size, jm_page_size()),
				       jm_class_prot(s->cls), 0) < 0)
			return jm_backend_error(b, "mprotect", errno,
						"protecting segment %u", i);
	}
	a->priv_u[JM_MAPPER_P_STATE] = 1;
	return 0;
}

int jm_mapper_has_exec(const struct jm_alloc *a)
{
	for (uint32_t i = 0; i < a->nseg; i++)
		if (a->seg[i].cls == JM_RX)
			return 1;
	return 0;
}

int jm_mapper_reset(struct jm_backend *b, uint64_t start, uint64_t len,
		    int from_exec)
{
	if (jm_os_llvm_protect((void *)(uintptr_t)start, len,
			       PROT_READ | PROT_WRITE, from_exec) < 0)
		return jm_backend_error(b, "mprotect", errno,
					"resetting protections");
	return 0;
}

void jm_mapper_stats(const struct jm_mapper *m, struct jm_backend_stats *out)
{
	out->va_reserved = out->bytes_mapped = m->reserved;
	out->va_reserved_peak = out->bytes_mapped_peak = m->reserved_peak;
	out->bytes_live = m->live;
	out->reservations = m->nres;
}
