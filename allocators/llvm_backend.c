/* The llvm-* backends' shared ops: see llvm_backend.h. */
#include "llvm_backend.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llvm_plugin.h"
#include "os.h"
#include "shm_mapper.h"

struct llvm_backend {
	const struct jm_llvm_plugin *p;
	struct jm_llvm_mm *mm;
	char path[PATH_MAX];
	int page_layout; /* JITLink managers lay segments out in whole pages */
	/* InProcessMemoryManager releases finalize-lifetime segments at finalize
	 * (IPInFlightAlloc::finalize); the mapper keeps them (a FIXME upstream) */
	int drops_finalize_segs;
	pthread_mutex_t lock; /* live bytes and peaks (several streams) */
	struct jm_os_counters base; /* the os layer's counts at create */
	uint64_t live, va_peak;
};

/* The plugin's last stats: the extras' names point here, and are read
 * after the backend is destroyed (one backend per measured process). */
static struct jm_llvm_mm_stats last;

enum { P_STATE, P_LIVE };
enum { ST_ALLOCATED, ST_FINALIZED };

/* The plugin the options name: "default" is llvm_plugin.c's default. */
static const char *plugin_path(const struct jm_optvals *o, char *buf, size_t len)
{
	const char *p = jm_opt_str(o, "plugin");
	if (!strcmp(p, "default"))
		return jm_llvm_plugin_default_path(buf, len);
	snprintf(buf, len, "%s", p);
	return buf;
}

int jm_llvm_backend_available(const struct jm_optvals *opts, char *note, size_t len)
{
	char path[PATH_MAX], version[64], err[512];
	plugin_path(opts, path, sizeof(path));
	if (jm_llvm_plugin_check(path, version, sizeof(version), err, sizeof(err)) < 0) {
		snprintf(note, len, "%s", err);
		return -1;
	}
	snprintf(note, len, "plugin %s (LLVM %s)", path, version);
	return 0;
}

static const struct jm_llvm_plugin *load(const struct jm_optvals *opts, char *path,
					 size_t plen, char *err, size_t len)
{
	const struct jm_llvm_plugin *p =
		jm_llvm_plugin_load(plugin_path(opts, path, plen), err, len);
	if (p && !p->mm_create) {
		snprintf(err, len, "LLVM plugin %.400s has no memory managers", path);
		return NULL;
	}
	return p;
}

/* The manager's kind is the backend's name without "llvm-"; its options
 * every option of the backend but plugin and label, as numbers. */
static const char *kind_of(const struct jm_backend_ops *ops)
{
	return ops->name + strlen("llvm-");
}

static void plugin_options(const struct jm_optvals *o, char *buf, size_t len)
{
	size_t used = 0;
	buf[0] = 0;
	for (int i = 0; i < o->n && used < len; i++) {
		const char *name = o->defs[i].name;
		if (!strcmp(name, "plugin") || !strcmp(name, "label"))
			continue;
		used += (size_t)snprintf(buf + used, len - used, "%s%s=%llu", used ? "," : "",
					 name, (unsigned long long)o->u[i]);
	}
}

/* ---- what an llvm-shm executor (a fork of this process) reports ---- */

static void host_counters(uint64_t calls[JM_LLVM_NSYS])
{
	static const enum jm_sys order[JM_LLVM_NSYS] = {
		[JM_LLVM_SYS_MMAP] = JM_SYS_MMAP,
		[JM_LLVM_SYS_MUNMAP] = JM_SYS_MUNMAP,
		[JM_LLVM_SYS_MPROTECT] = JM_SYS_MPROTECT,
		[JM_LLVM_SYS_MADVISE] = JM_SYS_MADVISE,
		[JM_LLVM_SYS_MEMFD_CREATE] = JM_SYS_MEMFD_CREATE,
		[JM_LLVM_SYS_FTRUNCATE] = JM_SYS_FTRUNCATE,
	};
	struct jm_os_counters c;
	jm_os_snapshot(&c);
	for (int i = 0; i < JM_LLVM_NSYS; i++)
		calls[i] = c.sys[order[i]].calls;
}

static const struct jm_llvm_mm_host host = {
	.counters_reset = jm_os_reset,
	.counters = host_counters,
	.vma_count = jm_exec_vma_count,
};

/* ---- making the manager: before the window, or at create ---- */

/* The manager prepare made, for create to take (one per process). */
static struct {
	const struct jm_backend_ops *ops;
	char options[256], path[PATH_MAX];
	struct jm_llvm_mm *mm;
} prepared;

static struct jm_llvm_mm *make_manager(const struct jm_backend_ops *ops,
				       const struct jm_optvals *opts,
				       const struct jm_llvm_plugin **p, char *path,
				       size_t plen, char *err, size_t len)
{
	char options[256];
	plugin_options(opts, options, sizeof(options));
	*p = load(opts, path, plen, err, len);
	if (!*p)
		return NULL;
	if (prepared.mm && prepared.ops == ops && !strcmp(prepared.options, options) &&
	    !strcmp(prepared.path, path)) {
		struct jm_llvm_mm *mm = prepared.mm;
		prepared.mm = NULL;
		return mm;
	}
	return (*p)->mm_create(kind_of(ops), options, &host, err, len);
}

int jm_llvm_backend_prepare(const struct jm_backend_ops *self, const struct jm_optvals *opts,
			    char *err, size_t len)
{
	const struct jm_llvm_plugin *p;
	char path[PATH_MAX];
	struct jm_llvm_mm *mm = make_manager(self, opts, &p, path, sizeof(path), err, len);
	if (!mm)
		return -1;
	if (prepared.mm) /* another one's, never taken */
		p->mm_destroy(prepared.mm);
	prepared.ops = self;
	plugin_options(opts, prepared.options, sizeof(prepared.options));
	snprintf(prepared.path, sizeof(prepared.path), "%s", path);
	prepared.mm = mm;
	return 0;
}

int jm_llvm_backend_create(struct jm_backend *b)
{
	struct llvm_backend *l = calloc(1, sizeof(*l));
	if (!l)
		return jm_backend_error(b, NULL, ENOMEM, "calloc");
	char err[512];
	l->mm = make_manager(b->ops, &b->opts, &l->p, l->path, sizeof(l->path), err,
			     sizeof(err));
	if (!l->mm) {
		free(l);
		return jm_backend_error(b, NULL, 0, "%s", err);
	}
	jm_os_snapshot(&l->base);
	l->page_layout = strcmp(kind_of(b->ops), "section") != 0;
	l->drops_finalize_segs = !strcmp(kind_of(b->ops), "inprocess");
	pthread_mutex_init(&l->lock, NULL);
	b->priv = l;
	return 0;
}

/* Bytes LLVM has mapped and not unmapped since create. */
static uint64_t va_now(const struct llvm_backend *l)
{
	struct jm_os_counters c;
	jm_os_snapshot(&c);
	uint64_t mapped = c.sys[JM_SYS_MMAP].bytes - l->base.sys[JM_SYS_MMAP].bytes;
	uint64_t unmapped = c.sys[JM_SYS_MUNMAP].bytes - l->base.sys[JM_SYS_MUNMAP].bytes;
	return mapped > unmapped ? mapped - unmapped : 0;
}

static void note_peak(struct llvm_backend *l)
{
	uint64_t va = va_now(l);
	pthread_mutex_lock(&l->lock);
	if (va > l->va_peak)
		l->va_peak = va;
	pthread_mutex_unlock(&l->lock);
}

/* A plugin call failed with LLVM's message msg: name the memory syscall
 * that failed during it, and its errno, from the os layer's error counts
 * (LLVM's messages are strerror's text, which is all it keeps). */
static int llvm_error(struct jm_backend *b, const struct jm_os_counters *before,
		      const char *msg)
{
	struct jm_os_counters now;
	jm_os_snapshot(&now);
	for (int s = 0; s < JM_NSYS; s++) {
		const struct jm_sys_count *a = &before->sys[s], *c = &now.sys[s];
		if (c->errors == a->errors)
			continue;
		for (int i = 0; i < JM_OS_MAX_ERRNOS && c->by_errno[i].err; i++) {
			uint64_t was = 0;
			for (int k = 0; k < JM_OS_MAX_ERRNOS; k++)
				if (a->by_errno[k].err == c->by_errno[i].err)
					was = a->by_errno[k].count;
			if (c->by_errno[i].count > was)
				return jm_backend_error(b, jm_sys_name((enum jm_sys)s),
							c->by_errno[i].err, "%s", msg);
		}
	}
	return jm_backend_error(b, NULL, 0, "%s", msg);
}

static uint32_t llvm_prot(enum jm_prot_class cls)
{
	switch (cls) {
	case JM_RO: return JM_LLVM_PROT_READ;
	case JM_RW: return JM_LLVM_PROT_READ | JM_LLVM_PROT_WRITE;
	default: return JM_LLVM_PROT_READ | JM_LLVM_PROT_EXEC;
	}
}

int jm_llvm_backend_allocate(struct jm_backend *b, const struct jm_graph_req *req,
			     struct jm_alloc *out)
{
	struct llvm_backend *l = b->priv;
	struct jm_llvm_graph g = {.id = req->id, .dylib = req->dylib, .nseg = req->nseg};
	if (req->nseg > JM_LLVM_MAX_SEGS)
		return jm_backend_error(b, NULL, EINVAL, "graph of %u segments", req->nseg);
	uint64_t live = 0;
	for (uint32_t i = 0; i < req->nseg; i++) {
		const struct jm_segment_req *s = &req->seg[i];
		g.seg[i] = (struct jm_llvm_seg){
			.prot = llvm_prot(s->cls),
			.lifetime = s->life == JM_FINALIZE ? JM_LLVM_LIFE_FINALIZE
							   : JM_LLVM_LIFE_STANDARD,
			.content = s->content,
			.zero_fill = s->zero_fill,
			.align = s->align,
		};
		uint64_t size = s->content + s->zero_fill;
		live += l->page_layout ? jm_align_up(size, jm_page_size()) : size;
	}
	void *handle = NULL;
	char err[512];
	struct jm_os_counters before;
	jm_os_snapshot(&before);
	if (l->p->mm_allocate(l->mm, &g, &handle, err, sizeof(err)) < 0)
		return llvm_error(b, &before, err);
	jm_alloc_init(out, req);
	for (uint32_t i = 0; i < req->nseg; i++) {
		out->seg[i].write = (void *)(uintptr_t)g.seg[i].write;
		out->seg[i].exec = (void *)(uintptr_t)g.seg[i].exec;
	}
	out->priv = handle;
	out->priv_u[P_STATE] = ST_ALLOCATED;
	out->priv_u[P_LIVE] = live;
	pthread_mutex_lock(&l->lock);
	l->live += live;
	pthread_mutex_unlock(&l->lock);
	note_peak(l);
	return 0;
}

int jm_llvm_backend_finalize(struct jm_backend *b, struct jm_alloc *a)
{
	struct llvm_backend *l = b->priv;
	char err[512];
	struct jm_os_counters before;
	jm_os_snapshot(&before);
	if (l->p->mm_finalize(l->mm, &a->priv, err, sizeof(err)) < 0)
		return llvm_error(b, &before, err);
	a->priv_u[P_STATE] = ST_FINALIZED;
	if (l->drops_finalize_segs)
		for (uint32_t i = 0; i < a->nseg; i++)
			if (a->seg[i].life == JM_FINALIZE)
				a->seg[i].exec = a->seg[i].write = NULL;
	return 0; /* no manager maps at finalize: the peak is allocate's */
}

int jm_llvm_backend_deallocate(struct jm_backend *b, struct jm_alloc *a)
{
	struct llvm_backend *l = b->priv;
	char err[512];
	struct jm_os_counters before;
	jm_os_snapshot(&before);
	int rc = a->priv_u[P_STATE] == ST_FINALIZED
		? l->p->mm_deallocate(l->mm, a->priv, err, sizeof(err))
		: l->p->mm_abandon(l->mm, a->priv, err, sizeof(err));
	pthread_mutex_lock(&l->lock);
	l->live -= a->priv_u[P_LIVE];
	pthread_mutex_unlock(&l->lock);
	a->priv = NULL;
	if (rc < 0)
		return llvm_error(b, &before, err);
	return 0;
}

void jm_llvm_backend_stats(struct jm_backend *b, struct jm_backend_stats *out)
{
	struct llvm_backend *l = b->priv;
	struct jm_os_counters c;
	jm_os_snapshot(&c);
	note_peak(l);
	pthread_mutex_lock(&l->lock);
	out->va_reserved = out->bytes_mapped = va_now(l);
	out->va_reserved_peak = out->bytes_mapped_peak = l->va_peak;
	out->bytes_live = l->live;
	pthread_mutex_unlock(&l->lock);
	out->reservations = (c.sys[JM_SYS_MMAP].calls - l->base.sys[JM_SYS_MMAP].calls) -
			    (c.sys[JM_SYS_MMAP].errors - l->base.sys[JM_SYS_MMAP].errors);
	l->p->mm_stats(l->mm, &last);
	out->vmas_other_processes = last.vmas_other_processes;
	out->nextra = 0;
	for (uint32_t i = 0; i < last.nextra && i < 8; i++) {
		last.extra[i].name[sizeof(last.extra[i].name) - 1] = 0;
		out->extra[out->nextra].name = last.extra[i].name;
		out->extra[out->nextra++].value = last.extra[i].value;
	}
}

void jm_llvm_backend_destroy(struct jm_backend *b)
{
	struct llvm_backend *l = b->priv;
	if (!l)
		return;
	l->p->mm_destroy(l->mm);
	pthread_mutex_destroy(&l->lock);
	free(l);
}

int jm_llvm_backend_describe(struct jm_backend *b, struct jm_backend_fact *out, int max)
{
	struct llvm_backend *l = b->priv;
	const struct jm_backend_fact facts[] = {
		{"llvm_version", ""}, {"llvm_plugin", ""}, {"llvm_config", ""},
	};
	const char *values[] = {l->p->llvm_version, l->path, l->p->llvm_build};
	int n = 0;
	for (int i = 0; i < 3 && n < max; i++, n++) {
		out[n] = facts[i];
		snprintf(out[n].value, sizeof(out[n].value), "%s", values[i] ? values[i] : "?");
	}
	return n;
}

pid_t jm_llvm_backend_exec_pid(struct jm_backend *b)
{
	struct llvm_backend *l = b->priv;
	return (pid_t)l->p->mm_exec_pid(l->mm);
}

int jm_llvm_backend_read_exec(struct jm_backend *b, const void *exec, void *buf,
			      size_t len)
{
	struct llvm_backend *l = b->priv;
	char err[512];
	if (l->p->mm_read(l->mm, (uint64_t)(uintptr_t)exec, buf, len, err, sizeof(err)) < 0)
		return jm_backend_error(b, NULL, EFAULT, "reading %zu bytes at executor "
					"address %p: %s", len, exec, err);
	return 0;
}

int jm_llvm_backend_execute(struct jm_backend *b, const void *exec, uint32_t *ret)
{
	struct llvm_backend *l = b->priv;
	char err[512];
	int32_t r = 0;
	if (l->p->mm_execute(l->mm, (uint64_t)(uintptr_t)exec, &r, err, sizeof(err)) < 0)
		return jm_backend_error(b, NULL, 0, "calling %p in the executor: %s", exec,
					err);
	*ret = (uint32_t)r;
	return 0;
}

struct jm_llvm_mm *jm_llvm_backend_mm(struct jm_backend *b)
{
	if (!b || !b->ops || b->ops->allocate != jm_llvm_backend_allocate || !b->priv)
		return NULL;
	return ((struct llvm_backend *)b->priv)->mm;
}
