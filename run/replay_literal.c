#include "replay_literal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "../allocators/os.h"

void jm_literal_init(struct jm_literal *l)
{
	memset(l, 0, sizeof(*l));
	l->first_vmas = l->last_vmas = -1;
}

static int insert(struct jm_literal *l, uint64_t rec, uint64_t len, uint64_t act)
{
	if (l->n == l->cap) {
		size_t nc = l->cap ? l->cap * 2 : 64;
		struct jm_literal_region *nr = realloc(l->r, nc * sizeof(*nr));
		if (!nr)
			return -1;
		l->r = nr;
		l->cap = nc;
	}
	size_t i = 0;
	while (i < l->n && l->r[i].rec < rec)
		i++;
	memmove(&l->r[i + 1], &l->r[i], (l->n - i) * sizeof(*l->r));
	l->r[i] = (struct jm_literal_region){rec, len, act};
	l->n++;
	return 0;
}

/* Forget [rec, rec+len) (after a munmap or before a MAP_FIXED remap). */
static int forget(struct jm_literal *l, uint64_t rec, uint64_t len)
{
	uint64_t end = rec + len;
	for (size_t i = 0; i < l->n;) {
		struct jm_literal_region *g = &l->r[i];
		uint64_t gend = g->rec + g->len;
		if (gend <= rec || g->rec >= end) {
			i++;
			continue;
		}
		if (g->rec < rec && gend > end) { /* a hole in the middle */
			struct jm_literal_region tail = {end, gend - end, g->act + (end - g->rec)};
			g->len = rec - g->rec;
			if (insert(l, tail.rec, tail.len, tail.act) < 0)
				return -1;
			return 0;
		}
		if (g->rec < rec) {
			g->len = rec - g->rec;
			i++;
		} else if (gend > end) {
			g->act += end - g->rec;
			g->len = gend - end;
			g->rec = end;
			i++;
		} else {
			memmove(g, g + 1, (l->n - i - 1) * sizeof(*g));
			l->n--;
		}
	}
	return 0;
}

/* The replayed region containing rec, or NULL. */
static struct jm_literal_region *lookup(struct jm_literal *l, uint64_t rec)
{
	for (size_t i = 0; i < l->n; i++)
		if (rec >= l->r[i].rec && rec < l->r[i].rec + l->r[i].len)
			return &l->r[i];
	return NULL;
}

static int sys_err(char *err, size_t errlen, const char *sys, uint64_t addr, uint64_t len)
{
	snprintf(err, errlen, "literal replay: %s(0x%llx, %llu) failed here: %s "
		 "(it succeeded in the recording)", sys, (unsigned long long)addr,
		 (unsigned long long)len, jm_errno_name(errno));
	return -1;
}

static int do_mmap(struct jm_literal *l, const struct jm_sys_event *s, uint64_t len,
		   char *err, size_t errlen)
{
	uint64_t rec = (uint64_t)s->ret;
	/* anonymous only: a recording's file mappings have no file here */
	int flags = (s->flags & (MAP_SHARED | MAP_PRIVATE | MAP_NORESERVE)) | MAP_ANONYMOUS;
	if (!(flags & (MAP_SHARED | MAP_PRIVATE)))
		flags |= MAP_PRIVATE;
	struct jm_literal_region *g = lookup(l, rec);
	void *p;
	if ((s->flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) && g &&
	    rec + len <= g->rec + g->len) {
		/* a remap inside a replayed reservation: the same place in ours */
		uint64_t act = g->act + (rec - g->rec);
		p = jm_os_mmap((void *)act, len, s->prot, flags | MAP_FIXED, -1, 0);
		if (p == MAP_FAILED)
			return sys_err(err, errlen, "mmap", rec, len);
		l->replayed++;
		/* it stays one tracked region: addresses translate the same way */
		return 0;
	}
	/* the recorded place (shifted like the mappings before it); if taken,
	 * the same place 64 GiB further down, up to 16 times (empty address
	 * space, so no accidental merge with a neighbour), then anywhere */
	p = MAP_FAILED;
	for (int k = 0; k <= 16 && p == MAP_FAILED; k++) {
		uint64_t hint = rec + (uint64_t)l->delta - ((uint64_t)k << 36);
		if (hint > rec + (uint64_t)l->delta) /* wrapped below zero */
			break;
		p = jm_os_mmap((void *)hint, len, s->prot, flags | MAP_FIXED_NOREPLACE, -1, 0);
		if (p != MAP_FAILED && (uint64_t)p != hint) {
			jm_os_munmap(p, len); /* old kernels treat the flag as a hint */
			p = MAP_FAILED;
		}
	}
	if (p == MAP_FAILED) {
		p = jm_os_mmap(NULL, len, s->prot, flags, -1, 0);
		if (p == MAP_FAILED)
			return sys_err(err, errlen, "mmap", rec, len);
	}
	if ((uint64_t)p != rec + (uint64_t)l->delta) {
		l->moved++;
		if (!l->have_delta)
			l->delta = (int64_t)((uint64_t)p - rec);
	}
	l->have_delta = 1;
	l->replayed++;
	if (forget(l, rec, len) < 0 || insert(l, rec, len, (uint64_t)p) < 0) {
		snprintf(err, errlen, "literal replay: out of memory");
		return -1;
	}
	return 0;
}

int jm_literal_apply(struct jm_literal *l, const struct jm_sys_event *s, char *err,
		     size_t errlen)
{
	if (s->vmas >= 0) {
		if (l->first_vmas < 0)
			l->first_vmas = s->vmas;
		l->last_vmas = s->vmas;
	}
	if (s->ret < 0 && s->sys != JM_SYS_MMAP) {
		l->failed_recorded++;
		return 0;
	}
	if (s->sys == JM_SYS_MMAP && (s->ret < 0 || (uint64_t)s->ret >= (uint64_t)-4096)) {
		l->failed_recorded++;
		return 0;
	}
	uint64_t page = jm_page_size();
	uint64_t len = jm_align_up(s->len, page);
	if (!len)
		return 0;
	if (s->sys == JM_SYS_MMAP)
		return do_mmap(l, s, len, err, errlen);
	/* munmap/mprotect/madvise: apply to each replayed piece of the range */
	uint64_t start = s->addr, end = s->addr + len, covered = 0;
	for (size_t i = 0; i < l->n; i++) {
		struct jm_literal_region *g = &l->r[i];
		uint64_t lo = g->rec > start ? g->rec : start;
		uint64_t hi = g->rec + g->len < end ? g->rec + g->len : end;
		if (lo >= hi)
			continue;
		void *act = (void *)(g->act + (lo - g->rec));
		int rc = 0;
		const char *name = jm_sys_name((enum jm_sys)s->sys);
		if (s->sys == JM_SYS_MPROTECT)
			rc = jm_os_mprotect(act, hi - lo, s->prot);
		else if (s->sys == JM_SYS_MADVISE)
			rc = jm_os_madvise(act, hi - lo, s->flags);
		else if (s->sys == JM_SYS_MUNMAP)
			rc = jm_os_munmap(act, hi - lo);
		if (rc < 0)
			return sys_err(err, errlen, name, lo, hi - lo);
		l->replayed++;
		covered += hi - lo;
	}
	if (covered < len)
		l->untracked++;
	if (s->sys == JM_SYS_MUNMAP && forget(l, start, len) < 0) {
		snprintf(err, errlen, "literal replay: out of memory");
		return -1;
	}
	return 0;
}

void jm_literal_release(struct jm_literal *l)
{
	for (size_t i = 0; i < l->n; i++)
		jm_os_munmap((void *)l->r[i].act, l->r[i].len);
	free(l->r);
	l->r = NULL;
	l->n = l->cap = 0;
}
