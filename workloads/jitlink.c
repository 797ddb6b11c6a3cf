/* --workload jitlink:FILE[:FILE...][,key=value...]: LLVM's own JIT linker
 * (an ORC session as llvm-jitlink or lli builds it, in the LLVM plugin)
 * links real objects and archives, its memory manager being the run's
 * backend (docs/jitlink.md). JITLink calls its memory manager, so this
 * workload is not pulled: it drives the run (struct jm_drive_host), each
 * graph of the real link reaching the run as the event a trace would hold.
 * Opening checks the spec and the files; the plugin is loaded by prepare,
 * in the measured child only. */
#include <errno.h>
#include <stdarg.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../allocators/backend.h"
#include "../allocators/llvm_plugin.h"
#include "workload.h"

#define MAX_INPUTS 64

const char jm_jitlink_help[] =
	"jitlink:FILE[:FILE...][,key=value...]   LLVM's JIT linker (the LLVM plugin) links the\n"
	"  objects and archives, its memory manager being the backend (docs/jitlink.md):\n"
	"  session          llvm-jitlink | lli: whose ORC session to build (llvm-jitlink)\n"
	"  debugger_support on | off: the tool's ELF debugger support plugin (on)\n"
	"  platform         none | elfnix: ELFNixPlatform over the ORC runtime (none)\n"
	"  orc_runtime      PATH of liborc_rt (platform=elfnix; default: the plugin's LLVM's)\n"
	"  link             eager | lazy (lazy: platform=elfnix, llvm-jitlink -lazy) (eager)\n"
	"  threads          N materialization threads; 0: the calling thread (0)\n"
	"  main             auto | stub | none | SYMBOL: the entry point looked up (auto:\n"
	"                   an object input's main, else a stub main referencing one\n"
	"                   symbol of every object; none: link every member)\n"
	"  run              on | off: run the entry point, as the tools do (on)\n"
	"  define_missing   on | off: unresolved symbols get dummies (off)\n"
	"  cycles           N: load the inputs N times in one session, each load\n"
	"                   dropped and followed by a trim (tvm-ffi's unloads) (1)\n"
	"  drop             each | end: with cycles, each load dropped before the\n"
	"                   next, or all kept, then dropped after the last and one\n"
	"                   trim (tvm-ffi: del every lib, then clear_free_slabs) (each)\n"
	"  plugin           PATH of jitmm-llvm.so (default: the built one)\n";

struct jitlink {
	char *paths[MAX_INPUTS];
	uint32_t n;
	struct jm_llvm_link_opts opts;
	char main_symbol[256];
	char orc_runtime[PATH_MAX];
	char plugin[PATH_MAX];
	const struct jm_llvm_plugin *p;
	struct jm_llvm_link *link;
	struct jm_drive_host host;
	struct jm_llvm_host_mm mm;
	int observed; /* linking with the backend's real manager (allocate
		       * gets addresses already filled) */
};

static int __attribute__((format(printf, 3, 4))) bad(char *err, size_t errlen, const char *fmt,
							  ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* val is one of two names: *out = 0 for the first, 1 for the second (the
 * option values below are 0/1 flags or enums) */
static int two_way(const char *key, const char *val, const char *v0, const char *v1,
		   uint32_t *out, char *err, size_t errlen)
{
	if (!strcmp(val, v0))
		*out = 0;
	else if (!strcmp(val, v1))
		*out = 1;
	else
		return bad(err, errlen, "jitlink: %s: '%s' is not %s or %s", key, val, v0, v1);
	return 0;
}

static int set_option(struct jitlink *j, const char *key, const char *val, char *err,
		      size_t errlen)
{
	struct jm_llvm_link_opts *o = &j->opts;
	if (!strcmp(key, "session")) {
		/* JM_LLVM_SESSION_LLVM_JITLINK or _LLI */
		return two_way(key, val, "llvm-jitlink", "lli", &o->session, err, errlen);
	} else if (!strcmp(key, "debugger_support")) {
		return two_way(key, val, "off", "on", &o->debugger_support, err, errlen);
	} else if (!strcmp(key, "platform")) {
		/* JM_LLVM_PLATFORM_NONE or _ELFNIX */
		return two_way(key, val, "none", "elfnix", &o->platform, err, errlen);
	} else if (!strcmp(key, "link")) {
		return two_way(key, val, "eager", "lazy", &o->lazy, err, errlen);
	} else if (!strcmp(key, "threads")) {
		uint64_t v;
		if (jm_parse_u64(val, &v) < 0 || v > 64)
			return bad(err, errlen, "jitlink: %s: '%s' is not a number from 0 to 64", key, val);
		o->threads = (uint32_t)v;
	} else if (!strcmp(key, "cycles")) {
		uint64_t v;
		if (jm_parse_u64(val, &v) < 0 || v < 1 || v > 10000)
			return bad(err, errlen, "jitlink: %s: '%s' is not a number from 1 to 10000", key,
				   val);
		o->cycles = (uint32_t)v;
	} else if (!strcmp(key, "drop")) {
		return two_way(key, val, "each", "end", &o->drop_at_end, err, errlen);
	} else if (!strcmp(key, "main")) {
		if (!*val || strlen(val) >= sizeof(j->main_symbol))
			return bad(err, errlen, "jitlink: %s: '%s' is empty or too long", key, val);
		if (!strcmp(val, "auto"))
			o->main_kind = JM_LLVM_MAIN_AUTO;
		else if (!strcmp(val, "stub"))
			o->main_kind = JM_LLVM_MAIN_STUB;
		else if (!strcmp(val, "none"))
			o->main_kind = JM_LLVM_MAIN_NONE;
		else
			o->main_kind = JM_LLVM_MAIN_SYMBOL;
		snprintf(j->main_symbol, sizeof(j->main_symbol), "%s", val);
	} else if (!strcmp(key, "run")) {
		return two_way(key, val, "off", "on", &o->run, err, errlen);
	} else if (!strcmp(key, "define_missing")) {
		return two_way(key, val, "off", "on", &o->define_missing, err, errlen);
	} else if (!strcmp(key, "orc_runtime") || !strcmp(key, "plugin")) {
		char *dst = key[0] == 'o' ? j->orc_runtime : j->plugin;
		if (!*val || strlen(val) >= PATH_MAX)
			return bad(err, errlen, "jitlink: %s: '%s' is empty or too long", key, val);
		snprintf(dst, PATH_MAX, "%s", val);
	} else {
		return bad(err, errlen, "jitlink: unknown option '%s' (session, debugger_support, "
			   "platform, orc_runtime, link, threads, main, run, define_missing, cycles, "
			   "drop, plugin: see `jitmm list workloads`)", key);
	}
	return 0;
}

static int check_input(const char *path, char *err, size_t errlen)
{
	struct stat st;
	if (stat(path, &st) < 0)
		return bad(err, errlen, "jitlink: %s: %s", path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return bad(err, errlen, "jitlink: %s: not a regular file", path);
	/* what it is, so that a wrong file is an input error here, not a
	 * failed run in the child: an x86-64 ELF relocatable or an archive */
	unsigned char h[20];
	FILE *f = fopen(path, "rb");
	if (!f)
		return bad(err, errlen, "jitlink: %s: %s", path, strerror(errno));
	size_t n = fread(h, 1, sizeof(h), f);
	fclose(f);
	if (n >= 8 && !memcmp(h, "!<arch>\n", 8))
		return 0;
	if (n < 20 || memcmp(h, "\177ELF", 4))
		return bad(err, errlen, "jitlink: %s: not an ELF relocatable object or an ar "
			   "archive", path);
	/* 64-bit little-endian ET_REL (1) for EM_X86_64 (62) */
	if (h[4] != 2 || h[5] != 1 || h[16] != 1 || h[17] != 0 || h[18] != 62 || h[19] != 0)
		return bad(err, errlen, "jitlink: %s: not an x86-64 relocatable object", path);
	return 0;
}

/* "lib.a[3](member.o)" or "/a/b/main.o" -> "member.o" / "main.o": one
 * token of at most JM name length (the trace's name= field) */
static void graph_name(const char *name, char *out, size_t len)
{
	out[0] = 0;
	if (!name || !*name)
		return;
	const char *open = strrchr(name, '(');
	const char *slash = strrchr(name, '/');
	const char *b = open && name[strlen(name) - 1] == ')' ? open + 1 : slash ? slash + 1 : name;
	size_t n = strlen(b);
	if (open && b == open + 1)
		n--; /* the ')' */
	if (n >= len)
		n = len - 1;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)b[i];
		out[i] = c <= ' ' || c == 0x7f ? '_' : (char)c;
	}
	out[n] = 0;
}

/* ---- host callbacks: each real graph operation as a run event ---- */

/* the host recorded why (the backend's error, the run's failure) */
static int host_fail(char *err, size_t errlen)
{
	snprintf(err, errlen, "the run failed (its error says why)");
	return -1;
}

static int seg_class(const struct jm_llvm_seg *s, enum jm_prot_class *cls)
{
	switch (s->prot) {
	case JM_LLVM_PROT_READ: *cls = JM_RO; return 0;
	case JM_LLVM_PROT_READ | JM_LLVM_PROT_WRITE: *cls = JM_RW; return 0;
	case JM_LLVM_PROT_READ | JM_LLVM_PROT_EXEC: *cls = JM_RX; return 0;
	default: return -1;
	}
}

static int host_allocate(void *ctx, struct jm_llvm_graph *g, uint64_t *handle, char *err,
			 size_t errlen)
{
	struct jitlink *j = ctx;
	struct jm_event ev = {.type = JM_EV_ALLOC, .id = g->id};
	ev.req.id = g->id;
	ev.req.dylib = g->dylib;
	if (g->nseg > JM_MAX_SEGS) {
		snprintf(err, errlen, "graph %llu has %u segments (at most %d)",
			 (unsigned long long)g->id, g->nseg, JM_MAX_SEGS);
		return -1;
	}
	for (uint32_t i = 0; i < g->nseg; i++) {
		const struct jm_llvm_seg *s = &g->seg[i];
		struct jm_segment_req *r = &ev.req.seg[ev.req.nseg];
		if (seg_class(s, &r->cls) < 0) {
			snprintf(err, errlen, "graph %llu: a segment with protection %c%c%c (only "
				 "r--, rw- and r-x are known)", (unsigned long long)g->id,
				 s->prot & JM_LLVM_PROT_READ ? 'r' : '-',
				 s->prot & JM_LLVM_PROT_WRITE ? 'w' : '-',
				 s->prot & JM_LLVM_PROT_EXEC ? 'x' : '-');
			return -1;
		}
		if (!jm_is_pow2(s->align) || s->align > (1u << 30)) {
			snprintf(err, errlen, "graph %llu: segment alignment %llu",
				 (unsigned long long)g->id, (unsigned long long)s->align);
			return -1;
		}
		r->life = s->lifetime == JM_LLVM_LIFE_FINALIZE ? JM_FINALIZE : JM_STANDARD;
		r->content = s->content;
		r->zero_fill = s->zero_fill;
		r->align = (uint32_t)s->align;
		ev.req.nseg++;
	}
	jm_graph_normalize(&ev.req); /* AllocGroup order; empty segments dropped */
	graph_name(g->name, ev.mark, sizeof(ev.mark));
	*handle = g->id;
	/* a real manager allocated it already: its addresses are filled */
	j->observed = g->nseg && g->seg[0].exec;
	if (j->observed)
		return j->host.observed(j->host.ctx, &ev) < 0 ? host_fail(err, errlen) : 0;
	struct jm_alloc *a = NULL;
	if (j->host.event(j->host.ctx, &ev, &a) < 0 || !a)
		return host_fail(err, errlen);
	/* each LLVM segment at the backend's segment of its class and lifetime;
	 * an empty one (no bytes) at the end of the graph's first segment */
	for (uint32_t i = 0; i < g->nseg; i++) {
		struct jm_llvm_seg *s = &g->seg[i];
		enum jm_prot_class cls = JM_RO;
		seg_class(s, &cls);
		enum jm_lifetime life = s->lifetime == JM_LLVM_LIFE_FINALIZE ? JM_FINALIZE : JM_STANDARD;
		s->write = s->exec = 0;
		for (uint32_t k = 0; k < a->nseg; k++)
			if (a->seg[k].cls == cls && a->seg[k].life == life) {
				s->write = (uint64_t)(uintptr_t)a->seg[k].write;
				s->exec = (uint64_t)(uintptr_t)a->seg[k].exec;
			}
		if (!s->write && a->nseg) {
			s->write = (uint64_t)(uintptr_t)a->seg[0].write + a->seg[0].size;
			s->exec = (uint64_t)(uintptr_t)a->seg[0].exec + a->seg[0].size;
		}
	}
	return 0;
}

static int host_op(struct jitlink *j, enum jm_event_type type, uint64_t handle, char *err,
		   size_t errlen)
{
	struct jm_event ev = {.type = type, .id = handle};
	int rc = j->observed ? j->host.observed(j->host.ctx, &ev)
			     : j->host.event(j->host.ctx, &ev, NULL);
	return rc < 0 ? host_fail(err, errlen) : 0;
}

static int host_finalize(void *ctx, uint64_t handle, char *err, size_t errlen)
{
	return host_op(ctx, JM_EV_FINALIZE, handle, err, errlen);
}

/* deallocate and abandon are both a free: the trace format's free is
 * "with or without finalize" */
static int host_free(void *ctx, uint64_t handle, char *err, size_t errlen)
{
	return host_op(ctx, JM_EV_FREE, handle, err, errlen);
}

/* a load dropped (cycles): the backend gives free memory back; a real
 * manager linked directly has no trim */
static int host_trim(void *ctx, char *err, size_t errlen)
{
	struct jitlink *j = ctx;
	return j->observed ? 0 : host_op(j, JM_EV_TRIM, 0, err, errlen);
}

/* ---- workload ops ---- */

/* The ORC runtime of the plugin's own LLVM: LLVM_ROOT/lib/clang/MAJOR/lib/
 * {linux/liborc_rt-x86_64.a, x86_64-unknown-linux-gnu/liborc_rt.a}, where
 * LLVM_ROOT is above the bin/ of the llvm-config the plugin was built with
 * (Debian: libclang-rt-22-dev). */
static int default_orc_runtime(const struct jm_llvm_plugin *p, char *out, size_t len)
{
	char real[PATH_MAX];
	if (!p->llvm_build || !realpath(p->llvm_build, real))
		return -1;
	for (int up = 0; up < 2; up++) {
		char *s = strrchr(real, '/');
		if (!s)
			return -1;
		*s = 0;
	}
	int major = atoi(p->llvm_version ? p->llvm_version : "0");
	static const char *const rel[] = {"linux/liborc_rt-x86_64.a",
					  "x86_64-unknown-linux-gnu/liborc_rt.a"};
	for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
		snprintf(out, len, "%.3900s/lib/clang/%d/lib/%s", real, major, rel[i]);
		if (access(out, R_OK) == 0)
			return 0;
	}
	return -1;
}

static int jitlink_prepare(struct jm_workload *w, const struct jm_drive_host *host)
{
	struct jitlink *j = w->priv;
	char err[512];
	j->host = *host;
	j->p = jm_llvm_plugin_load(j->plugin[0] ? j->plugin : NULL, err, sizeof(err));
	if (!j->p) {
		snprintf(w->err, sizeof(w->err), "jitlink: %.240s", err);
		return -1;
	}
	if (!j->p->link_open) {
		snprintf(w->err, sizeof(w->err), "jitlink: the LLVM plugin has no linker front end");
		return -1;
	}
	if (j->opts.platform == JM_LLVM_PLATFORM_ELFNIX && !j->orc_runtime[0] &&
	    default_orc_runtime(j->p, j->orc_runtime, sizeof(j->orc_runtime)) < 0) {
		snprintf(w->err, sizeof(w->err), "jitlink: platform=elfnix: no ORC runtime "
			 "(liborc_rt) beside LLVM %s's llvm-config: install libclang-rt-%d-dev or "
			 "give orc_runtime=PATH", j->p->llvm_version,
			 atoi(j->p->llvm_version ? j->p->llvm_version : "0"));
		return -1;
	}
	/* the entry point runs only where the backend's code can run here
	 * (an executor would run it: shm-mapper; null's heap is not
	 * executable) */
	if (!host->can_execute)
		j->opts.run = 0;
	j->opts.inputs = (const char *const *)j->paths;
	j->opts.ninputs = j->n;
	j->opts.main_symbol = j->main_symbol;
	j->opts.orc_runtime = j->orc_runtime;
	j->mm = (struct jm_llvm_host_mm){
		.ctx = j,
		.run_alloc_actions = !host->out_of_process,
		.allocate = host_allocate,
		.finalize = host_finalize,
		.deallocate = host_free,
		.abandon = host_free,
		.trim = host_trim,
	};
	j->link = j->p->link_open(&j->opts, &j->mm, err, sizeof(err));
	if (!j->link) {
		snprintf(w->err, sizeof(w->err), "jitlink: %.240s", err);
		return -1;
	}
	return 0;
}

static int jitlink_drive(struct jm_workload *w)
{
	struct jitlink *j = w->priv;
	if (!j->link) {
		snprintf(w->err, sizeof(w->err), "jitlink: not prepared");
		return -1;
	}
	/* an llvm-* backend's real manager links directly; not one whose
	 * memory is in an executor (llvm-shm): its SharedMemoryMapper serves
	 * requests through its own executor connection, which the link's
	 * synchronous debug-object allocation waits on for ever (found with
	 * LLVM 22): it is driven through its backend ops instead */
	struct jm_llvm_mm *mm = j->host.out_of_process ? NULL : jm_llvm_backend_mm(j->host.backend);
	struct jm_llvm_link_result res;
	char err[512];
	if (j->p->link_run(j->link, mm, &res, err, sizeof(err)) < 0) {
		snprintf(w->err, sizeof(w->err), "jitlink: %.240s", err);
		return -1;
	}
	w->graphs = res.graphs;
	return 0;
}

static int jitlink_release(struct jm_workload *w)
{
	struct jitlink *j = w->priv;
	if (!j->link)
		return 0;
	char err[512];
	int rc = j->p->link_close(j->link, err, sizeof(err));
	j->link = NULL;
	if (rc < 0)
		snprintf(w->err, sizeof(w->err), "jitlink: session teardown: %.220s", err);
	return rc;
}

static void jitlink_close(struct jm_workload *w)
{
	struct jitlink *j = w->priv;
	if (!j)
		return;
	jitlink_release(w);
	for (uint32_t i = 0; i < j->n; i++)
		free(j->paths[i]);
	free(j);
	w->priv = NULL;
}

static const struct jm_workload_ops jitlink_ops = {
	.kind = "jitlink",
	.close = jitlink_close,
	.prepare = jitlink_prepare,
	.drive = jitlink_drive,
	.release = jitlink_release,
};

/* spec: "jitlink:" + what the user gave that differs from the defaults */
static void resolved_spec(const struct jitlink *j, const struct jitlink *d, const char *files,
			  struct jm_workload *w)
{
	static const char *const session[] = {"llvm-jitlink", "lli"};
	static const char *const platform[] = {"none", "elfnix"};
	const struct jm_llvm_link_opts *o = &j->opts, *od = &d->opts;
	char opts[512] = "";
	size_t n = 0;
#define OPT(cond, ...)                                                                 \
	do {                                                                           \
		if ((cond) && n < sizeof(opts))                                        \
			n += (size_t)snprintf(opts + n, sizeof(opts) - n, __VA_ARGS__); \
	} while (0)
	OPT(o->session != od->session, ",session=%s", session[o->session]);
	OPT(o->debugger_support != od->debugger_support, ",debugger_support=%s",
	    o->debugger_support ? "on" : "off");
	OPT(o->platform != od->platform, ",platform=%s", platform[o->platform]);
	OPT(j->orc_runtime[0], ",orc_runtime=%.200s", j->orc_runtime);
	OPT(o->lazy, ",link=lazy");
	OPT(o->threads, ",threads=%u", o->threads);
	OPT(strcmp(j->main_symbol, "auto"), ",main=%s", j->main_symbol);
	OPT(o->run != od->run, ",run=%s", o->run ? "on" : "off");
	OPT(o->define_missing, ",define_missing=on");
	OPT(o->cycles > 1, ",cycles=%u", o->cycles);
	OPT(o->drop_at_end, ",drop=end");
	OPT(j->plugin[0], ",plugin=%.200s", j->plugin);
#undef OPT
	snprintf(w->spec, sizeof(w->spec), "jitlink:%.*s%.*s", 200, files, 110, opts);
}

int jm_jitlink_workload_open(const char *args, struct jm_workload *w, char *err, size_t errlen)
{
	struct jitlink *j = calloc(1, sizeof(*j));
	if (!j)
		return bad(err, errlen, "jitlink: out of memory");
	struct jitlink defaults = {.opts = {.debugger_support = 1, .run = 1}};
	j->opts = defaults.opts;
	snprintf(j->main_symbol, sizeof(j->main_symbol), "auto");
	w->priv = j;
	w->ops = &jitlink_ops;
	char *copy = strdup(args), *save = NULL;
	char files[320] = "";
	int rc = copy ? 0 : bad(err, errlen, "jitlink: out of memory");
	char *opts = copy ? strchr(copy, ',') : NULL;
	if (opts)
		*opts++ = 0;
	/* FILE:FILE... */
	for (char *f = copy ? strtok_r(copy, ":", &save) : NULL; f && !rc;
	     f = strtok_r(NULL, ":", &save)) {
		if (strchr(f, '='))
			rc = bad(err, errlen, "jitlink: '%s': options come after the files, "
				 "separated by ',' (jitlink:FILE[:FILE...],key=value)", f);
		else if (j->n == MAX_INPUTS)
			rc = bad(err, errlen, "jitlink: more than %d inputs", MAX_INPUTS);
		else if (!(rc = check_input(f, err, errlen)) && !(j->paths[j->n++] = strdup(f)))
			rc = bad(err, errlen, "jitlink: out of memory");
		if (!rc)
			snprintf(files + strlen(files), sizeof(files) - strlen(files), "%s%s",
				 j->n > 1 ? ":" : "", f);
	}
	if (!rc && !j->n)
		rc = bad(err, errlen, "jitlink: no input files");
	for (char *kv = opts ? strtok_r(opts, ",", &save) : NULL; kv && !rc;
	     kv = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(kv, '=');
		if (!eq)
			rc = bad(err, errlen, "jitlink: '%s' is not key=value", kv);
		else {
			*eq = 0;
			rc = set_option(j, kv, eq + 1, err, errlen);
		}
	}
	if (!rc && j->opts.drop_at_end && j->opts.cycles < 2)
		rc = bad(err, errlen, "jitlink: drop=end needs cycles=N of 2 or more (one load "
			 "is never dropped)");
	if (!rc && j->opts.lazy && j->opts.platform != JM_LLVM_PLATFORM_ELFNIX)
		rc = bad(err, errlen, "jitlink: link=lazy needs platform=elfnix (llvm-jitlink: "
			 "lazy linking requires the ORC runtime)");
	free(copy);
	if (rc) {
		jitlink_close(w);
		w->ops = NULL;
		return -1;
	}
	const char *base = strrchr(j->paths[0], '/');
	snprintf(w->name, sizeof(w->name), "jitlink:%.40s%s", base ? base + 1 : j->paths[0],
		 j->n > 1 ? "+" : "");
	resolved_spec(j, &defaults, files, w);
	return 0;
}
