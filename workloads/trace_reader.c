/* The streaming trace reader. Lines are parsed in place from a fixed
 * buffer with hand-written number parsing (no sscanf, no JSON): the hot
 * path is memchr + a few token compares per event. The only memory that
 * grows is the set of live graph ids (for the protocol checks). */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "../allocators/os.h"
#include "trace.h"
#include "trace_input.h"

#define BUFSZ (256 * 1024)

/* live ids: open addressing, key = id + 1, 0 empty, ~0 deleted */
struct live_set {
	uint64_t *key;
	uint8_t *fin;
	size_t cap, n, used;
};

struct jm_trace_reader {
	struct jm_input *in;
	char path[200];
	struct jm_trace_header h;
	uint64_t line;
	char *buf;
	size_t start, end;
	size_t nul; /* offset of the first NUL byte in buf[start, end), or end */
	int eof;
	int pending; /* the header reader left the first event line in place */
	char *pend_line;
	size_t pend_len;
	struct live_set live;
	uint64_t peak_live;
	char err[512];
};

static int rerr(struct jm_trace_reader *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int rerr(struct jm_trace_reader *r, const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(r->err, sizeof(r->err), "%s:%llu: %s", r->path,
		 (unsigned long long)r->line, msg);
	return -1;
}

static uint64_t hash64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	return x;
}

static int live_grow(struct live_set *s)
{
	size_t ncap = s->cap ? s->cap * 2 : 1024;
	if (s->n * 4 < s->cap) /* mostly tombstones: rehash at the same size */
		ncap = s->cap;
	uint64_t *k = calloc(ncap, sizeof(*k));
	uint8_t *f = calloc(ncap, 1);
	if (!k || !f) {
		free(k);
		free(f);
		return -1;
	}
	for (size_t i = 0; i < s->cap; i++) {
		if (!s->key[i] || s->key[i] == UINT64_MAX)
			continue;
		size_t j = hash64(s->key[i]) & (ncap - 1);
		while (k[j])
			j = (j + 1) & (ncap - 1);
		k[j] = s->key[i];
		f[j] = s->fin[i];
	}
	free(s->key);
	free(s->fin);
	s->key = k;
	s->fin = f;
	s->cap = ncap;
	s->used = s->n;
	return 0;
}

/* index of id, or (size_t)-1 */
static size_t live_find(const struct live_set *s, uint64_t id)
{
	if (!s->cap)
		return (size_t)-1;
	uint64_t key = id + 1;
	for (size_t j = hash64(key) & (s->cap - 1);; j = (j + 1) & (s->cap - 1)) {
		if (s->key[j] == key)
			return j;
		if (!s->key[j])
			return (size_t)-1;
	}
}

static int live_add(struct live_set *s, uint64_t id)
{
	if ((s->used + 1) * 2 > s->cap && live_grow(s) < 0)
		return -1;
	uint64_t key = id + 1;
	size_t j = hash64(key) & (s->cap - 1);
	while (s->key[j] && s->key[j] != UINT64_MAX)
		j = (j + 1) & (s->cap - 1);
	if (!s->key[j])
		s->used++;
	s->key[j] = key;
	s->fin[j] = 0;
	s->n++;
	return 0;
}

/* ---- tokens ---- */

static char *skip_ws(char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/* Next whitespace-separated token: NUL-terminates it, returns NULL at end. */
static char *token(char **pp)
{
	char *p = skip_ws(*pp);
	if (!*p)
		return NULL;
	char *t = p;
	while (*p && *p != ' ' && *p != '\t')
		p++;
	if (*p)
		*p++ = 0;
	*pp = p;
	return t;
}

/* Decimal or 0x-hex unsigned; the whole string must be the number. */
static int parse_u64(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	const char *p = s;
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		p += 2;
		if (!*p)
			return -1;
		for (; *p; p++) {
			unsigned d;
			if (*p >= '0' && *p <= '9') d = (unsigned)(*p - '0');
			else if (*p >= 'a' && *p <= 'f') d = (unsigned)(*p - 'a' + 10);
			else if (*p >= 'A' && *p <= 'F') d = (unsigned)(*p - 'A' + 10);
			else return -1;
			if (v >> 60)
				return -1;
			v = v << 4 | d;
		}
	} else {
		if (!*p)
			return -1;
		for (; *p; p++) {
			if (*p < '0' || *p > '9')
				return -1;
			unsigned d = (unsigned)(*p - '0');
			if (v > (UINT64_MAX - d) / 10)
				return -1;
			v = v * 10 + d;
		}
	}
	*out = v;
	return 0;
}

static int parse_i64(const char *s, int64_t *out)
{
	uint64_t v;
	if (*s == '-') {
		if (parse_u64(s + 1, &v) < 0 || v > (uint64_t)INT64_MAX)
			return -1;
		*out = -(int64_t)v;
		return 0;
	}
	if (parse_u64(s, &v) < 0)
		return -1;
	*out = (int64_t)v; /* addresses above 2^63 keep their bits */
	return 0;
}

/* Parse the number that ends at the first char in stop (or NUL): the
 * digits are read in one pass, then the char after them must end it. */
static int parse_u64_until(char **pp, const char *stop, uint64_t *out)
{
	const char *p = *pp;
	uint64_t v = 0;
	int hex = p[0] == '0' && (p[1] == 'x' || p[1] == 'X');
	const char *d = p + (hex ? 2 : 0), *q = d;
	for (;; q++) {
		unsigned x;
		if (*q >= '0' && *q <= '9') x = (unsigned)(*q - '0');
		else if (hex && *q >= 'a' && *q <= 'f') x = (unsigned)(*q - 'a' + 10);
		else if (hex && *q >= 'A' && *q <= 'F') x = (unsigned)(*q - 'A' + 10);
		else break;
		if (hex ? v >> 60 != 0 : v > (UINT64_MAX - x) / 10)
			return -1;
		v = hex ? v << 4 | x : v * 10 + x;
	}
	if (q == d)
		return -1;
	if (*q) { /* the char after the digits must be one of stop */
		const char *c = stop;
		while (*c && *c != *q)
			c++;
		if (!*c)
			return -1;
	}
	*out = v;
	*pp = (char *)q;
	return 0;
}

/* "t=N" / "tid=N" right after the keyword */
static int common_fields(struct jm_trace_reader *r, char **pp, struct jm_event *ev)
{
	for (;;) {
		char *p = skip_ws(*pp);
		uint64_t v;
		if (p[0] == 't' && (!strncmp(p, "t=", 2) || !strncmp(p, "tid=", 4))) {
			int is_t = p[1] == '=';
			char *save = p;
			char *t = token(&p);
			if (parse_u64(t + (is_t ? 2 : 4), &v) < 0)
				return rerr(r, "'%s': not a number", save);
			if (is_t)
				ev->t_ns = v;
			else if (v > UINT32_MAX)
				return rerr(r, "tid %llu out of range", (unsigned long long)v);
			else
				ev->tid = (uint32_t)v;
			*pp = p;
			continue;
		}
		*pp = p;
		return 0;
	}
}

static int parse_id(struct jm_trace_reader *r, char **pp, const char *what,
		    uint64_t *id)
{
	char *t = token(pp);
	if (!t)
		return rerr(r, "%s: missing graph id", what);
	if (parse_u64(t, id) < 0 || *id == UINT64_MAX - 1 || *id == UINT64_MAX)
		return rerr(r, "%s: graph id '%s' is not a number below 2^64-2", what, t);
	return 0;
}

static int no_more(struct jm_trace_reader *r, char **pp, const char *what)
{
	char *t = token(pp);
	if (t)
		return rerr(r, "%s: unexpected '%s'", what, t);
	return 0;
}

/* CLASS[/fin]=SIZE[+ZEROFILL][@ALIGN] */
static int parse_segment(struct jm_trace_reader *r, char *t, char *eq,
			 struct jm_graph_req *req, unsigned *seen)
{
	*eq = 0;
	char *slash = memchr(t, '/', (size_t)(eq - t));
	enum jm_lifetime life = JM_STANDARD;
	if (slash) {
		*slash = 0;
		if (strcmp(slash + 1, "fin") && strcmp(slash + 1, "std"))
			return rerr(r, "alloc: segment lifetime '%s' is not std or fin", slash + 1);
		life = slash[1] == 'f' ? JM_FINALIZE : JM_STANDARD;
	}
	enum jm_prot_class cls;
	if (jm_class_parse(t, &cls) < 0)
		return rerr(r, "alloc: unknown segment class '%s' (rx, ro or rw)", t);
	unsigned bit = 1u << (cls * 2 + life);
	if (*seen & bit)
		return rerr(r, "alloc: two %s%s segments (one per class and lifetime)",
			    t, life ? "/fin" : "");
	*seen |= bit;
	char *p = eq + 1;
	uint64_t size, zf = 0, align = 1;
	if (parse_u64_until(&p, "+@", &size) < 0)
		return rerr(r, "alloc: %s segment: bad size", t);
	if (*p == '+') {
		p++;
		if (parse_u64_until(&p, "@", &zf) < 0)
			return rerr(r, "alloc: %s segment: bad zero-fill size", t);
	}
	if (*p == '@') {
		p++;
		if (parse_u64_until(&p, "", &align) < 0)
			return rerr(r, "alloc: %s segment: bad alignment", t);
		if (!jm_is_pow2(align) || align > JM_TRACE_MAX_ALIGN)
			return rerr(r, "alloc: %s segment: alignment %llu is not a power "
				    "of two <= 2^30", t, (unsigned long long)align);
	}
	if (size > JM_TRACE_MAX_SIZE || zf > JM_TRACE_MAX_SIZE)
		return rerr(r, "alloc: %s segment larger than the limit 2^40", t);
	if (size + zf == 0)
		return rerr(r, "alloc: %s segment is empty (leave it out)", t);
	req->seg[req->nseg++] = (struct jm_segment_req){cls, life, size, zf, (uint32_t)align};
	return 0;
}

/* section=NAME:CLASS[/LIFE]=SIZE (docs/trace-format.md) */
static int parse_section(struct jm_trace_reader *r, char *t,
			 struct jm_section_hint *h)
{
	char *colon = strchr(t, ':'), *eq = colon ? strchr(colon, '=') : NULL;
	if (h->name[0])
		return rerr(r, "alloc: two section= hints (at most one per graph)");
	if (!colon || !eq)
		return rerr(r, "alloc: section=%s: want section=NAME:CLASS[/LIFE]=SIZE", t);
	size_t n = (size_t)(colon - t);
	if (n == 0 || n > JM_SECTION_NAME_MAX)
		return rerr(r, "alloc: section name must be 1 to %d bytes", JM_SECTION_NAME_MAX);
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)t[i]) && !strchr("._$-", t[i]))
			return rerr(r, "alloc: section name: character 0x%02x not allowed "
				    "(letters, digits, . _ $ -)", (unsigned char)t[i]);
	*eq = 0;
	char *cls = colon + 1, *slash = strchr(cls, '/');
	h->life = JM_STANDARD;
	if (slash) {
		*slash = 0;
		if (strcmp(slash + 1, "fin") && strcmp(slash + 1, "std"))
			return rerr(r, "alloc: section lifetime '%s' is not std or fin", slash + 1);
		h->life = slash[1] == 'f' ? JM_FINALIZE : JM_STANDARD;
	}
	if (jm_class_parse(cls, &h->cls) < 0)
		return rerr(r, "alloc: section class '%s' is not rx, ro or rw", cls);
	if (parse_u64(eq + 1, &h->size) < 0 || h->size == 0 || h->size > JM_TRACE_MAX_SIZE)
		return rerr(r, "alloc: section size '%s' is not in [1, 2^40]", eq + 1);
	memcpy(h->name, t, n);
	h->name[n] = 0;
	return 0;
}

/* the hinted segment exists and holds the section's bytes */
static int check_section(struct jm_trace_reader *r, const struct jm_graph_req *req)
{
	const struct jm_section_hint *h = &req->section;
	for (uint32_t i = 0; i < req->nseg; i++)
		if (req->seg[i].cls == h->cls && req->seg[i].life == h->life) {
			if (req->seg[i].content < h->size)
				return rerr(r, "alloc: section %s (%llu bytes) is larger than "
					    "the content of its %s segment", h->name,
					    (unsigned long long)h->size, jm_class_name(h->cls));
			return 0;
		}
	return rerr(r, "alloc: section %s names a %s%s segment the graph does not have",
		    h->name, jm_class_name(h->cls), h->life ? "/fin" : "");
}

static int parse_alloc(struct jm_trace_reader *r, char *p, struct jm_event *ev)
{
	ev->type = JM_EV_ALLOC;
	if (common_fields(r, &p, ev) < 0 || parse_id(r, &p, "alloc", &ev->id) < 0)
		return -1;
	struct jm_graph_req *req = &ev->req;
	req->id = ev->id;
	req->dylib = 0;
	req->nseg = 0;
	memset(&req->section, 0, sizeof(req->section));
	unsigned seen = 0;
	char *t;
	while ((t = token(&p))) {
		char *eq;
		if (t[0] == 'd' && !strncmp(t, "dylib=", 6)) {
			uint64_t v;
			if (parse_u64(t + 6, &v) < 0 || v > UINT32_MAX)
				return rerr(r, "alloc: bad %s", t);
			req->dylib = (uint32_t)v;
		} else if (t[0] == 'n' && !strncmp(t, "name=", 5)) {
			char why[160];
			if (jm_trace_unescape(t + 5, ev->mark, JM_TRACE_MAX_NAME + 1, why,
					      sizeof(why)) < 0)
				return rerr(r, "alloc: name %s", why);
		} else if (t[0] == 's' && !strncmp(t, "section=", 8)) {
			if (parse_section(r, t + 8, &req->section) < 0)
				return -1;
		} else if ((eq = strchr(t, '='))) {
			/* at most JM_MAX_SEGS: one per (class, lifetime), checked
			 * by parse_segment */
			if (parse_segment(r, t, eq, req, &seen) < 0)
				return -1;
		} else {
			return rerr(r, "alloc: unexpected '%s' (want CLASS=SIZE[+ZF][@ALIGN], "
				    "dylib=N, name=S or section=NAME:CLASS=SIZE)", t);
		}
	}
	if (!req->nseg)
		return rerr(r, "alloc %llu: no segments", (unsigned long long)ev->id);
	if (req->section.name[0] && check_section(r, req) < 0)
		return -1;
	jm_graph_normalize(req);
	if (live_find(&r->live, ev->id) != (size_t)-1)
		return rerr(r, "alloc: graph %llu is already live", (unsigned long long)ev->id);
	if (live_add(&r->live, ev->id) < 0)
		return rerr(r, "out of memory");
	if (r->live.n > r->peak_live)
		r->peak_live = r->live.n;
	if (r->h.max_live && r->live.n > r->h.max_live)
		return rerr(r, "more than max_live = %llu graphs live",
			    (unsigned long long)r->h.max_live);
	return 0;
}

static int parse_prot(const char *s, int *out)
{
	if (strlen(s) == 3 && strspn(s, "rwx-") == 3) {
		*out = (s[0] == 'r' ? PROT_READ : 0) | (s[1] == 'w' ? PROT_WRITE : 0) |
		       (s[2] == 'x' ? PROT_EXEC : 0);
		return (s[0] == 'r' || s[0] == '-') && (s[1] == 'w' || s[1] == '-') &&
		       (s[2] == 'x' || s[2] == '-') ? 0 : -1;
	}
	uint64_t v;
	if (parse_u64(s, &v) < 0 || v > 7)
		return -1;
	*out = (int)v;
	return 0;
}

static const struct { const char *name; int advice; } advices[] = {
	{"normal", MADV_NORMAL}, {"random", MADV_RANDOM},
	{"sequential", MADV_SEQUENTIAL}, {"willneed", MADV_WILLNEED},
	{"dontneed", MADV_DONTNEED}, {"free", MADV_FREE},
	{"remove", MADV_REMOVE}, {"dontfork", MADV_DONTFORK},
	{"dofork", MADV_DOFORK}, {"hugepage", MADV_HUGEPAGE},
	{"nohugepage", MADV_NOHUGEPAGE},
};

const char *jm_advice_name(int advice)
{
	for (size_t i = 0; i < sizeof(advices) / sizeof(advices[0]); i++)
		if (advices[i].advice == advice)
			return advices[i].name;
	return NULL;
}

static int parse_sys(struct jm_trace_reader *r, char *p, struct jm_event *ev)
{
	ev->type = JM_EV_SYS;
	if (common_fields(r, &p, ev) < 0)
		return -1;
	struct jm_sys_event *s = &ev->sys;
	memset(s, 0, sizeof(*s));
	s->vmas = -1;
	char *t = token(&p);
	enum jm_sys sys;
	if (!t)
		return rerr(r, "sys: missing syscall name");
	if (jm_sys_parse(t, &sys) < 0 || (sys != JM_SYS_MMAP && sys != JM_SYS_MUNMAP &&
					  sys != JM_SYS_MPROTECT && sys != JM_SYS_MADVISE))
		return rerr(r, "sys: '%s' is not mmap, munmap, mprotect or madvise", t);
	s->sys = (int)sys;
	int have_len = 0, have_ret = 0;
	while ((t = token(&p))) {
		char *eq = strchr(t, '=');
		if (!eq)
			return rerr(r, "sys: '%s' is not key=value", t);
		*eq = 0;
		const char *v = eq + 1;
		uint64_t u;
		if (!strcmp(t, "addr")) {
			if (parse_u64(v, &s->addr) < 0)
				return rerr(r, "sys: bad addr '%s'", v);
		} else if (!strcmp(t, "len")) {
			if (parse_u64(v, &s->len) < 0 || s->len > (1ull << 47))
				return rerr(r, "sys: bad len '%s'", v);
			have_len = 1;
		} else if (!strcmp(t, "prot")) {
			if (parse_prot(v, &s->prot) < 0)
				return rerr(r, "sys: bad prot '%s' (rwx letters or a number)", v);
		} else if (!strcmp(t, "flags")) {
			if (parse_u64(v, &u) < 0 || u > 0xffffffffu)
				return rerr(r, "sys: bad flags '%s'", v);
			s->flags = (int)u;
		} else if (!strcmp(t, "advice")) {
			size_t i, n = sizeof(advices) / sizeof(advices[0]);
			for (i = 0; i < n && strcmp(advices[i].name, v); i++)
				;
			if (i < n)
				s->flags = advices[i].advice;
			else if (parse_u64(v, &u) == 0 && u < 256)
				s->flags = (int)u;
			else
				return rerr(r, "sys: unknown advice '%s'", v);
		} else if (!strcmp(t, "ret")) {
			if (parse_i64(v, &s->ret) < 0)
				return rerr(r, "sys: bad ret '%s'", v);
			have_ret = 1;
		} else if (!strcmp(t, "vmas")) {
			if (parse_u64(v, &u) < 0 || u > INT32_MAX)
				return rerr(r, "sys: bad vmas '%s'", v);
			s->vmas = (int64_t)u;
		} else {
			return rerr(r, "sys: unknown field '%s'", t);
		}
	}
	if (!have_len || !have_ret)
		return rerr(r, "sys %s: needs len= and ret=", jm_sys_name(sys));
	if (sys != JM_SYS_MMAP && (s->addr & 4095))
		return rerr(r, "sys %s: addr 0x%llx is not page aligned", jm_sys_name(sys),
			    (unsigned long long)s->addr);
	return 0;
}

/* kw == word, compared here rather than by a strcmp call (a tenth of
 * the reader's time went to libc string calls); stops at the first
 * difference, so never reads past kw's NUL */
static inline int is_kw(const char *kw, const char *word)
{
	while (*word && *kw == *word)
		kw++, word++;
	return *kw == *word;
}

static int parse_event(struct jm_trace_reader *r, char *p, struct jm_event *ev)
{
	char *kw = token(&p);
	ev->t_ns = 0;
	ev->tid = 0;
	ev->mark[0] = 0;
	/* the first letter picks the one keyword to compare */
	if (kw[0] == 'a' && is_kw(kw, "alloc"))
		return parse_alloc(r, p, ev);
	if (kw[0] == 'f' && (is_kw(kw, "finalize") || is_kw(kw, "free"))) {
		int fin = kw[1] == 'i';
		ev->type = fin ? JM_EV_FINALIZE : JM_EV_FREE;
		if (common_fields(r, &p, ev) < 0 || parse_id(r, &p, kw, &ev->id) < 0 ||
		    no_more(r, &p, kw) < 0)
			return -1;
		size_t j = live_find(&r->live, ev->id);
		if (j == (size_t)-1)
			return rerr(r, "%s of graph %llu, which is not live", kw,
				    (unsigned long long)ev->id);
		if (fin) {
			if (r->live.fin[j])
				return rerr(r, "graph %llu finalized twice",
					    (unsigned long long)ev->id);
			r->live.fin[j] = 1;
		} else {
			r->live.key[j] = UINT64_MAX;
			r->live.n--;
		}
		return 0;
	}
	if (kw[0] == 't' && !strcmp(kw, "trim")) {
		ev->type = JM_EV_TRIM;
		ev->id = 0;
		return common_fields(r, &p, ev) < 0 ? -1 : no_more(r, &p, "trim");
	}
	if (kw[0] == 'm' && !strcmp(kw, "mark")) {
		ev->type = JM_EV_MARK;
		if (common_fields(r, &p, ev) < 0)
			return -1;
		size_t n = strlen(p);
		while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		if (!n)
			return rerr(r, "mark: missing phase name");
		p[n] = 0;
		char why[160];
		if (jm_trace_unescape(p, ev->mark, JM_TRACE_MAX_NAME + 1, why, sizeof(why)) < 0)
			return rerr(r, "mark: phase name %s", why);
		return 0;
	}
	if (kw[0] == 's' && !strcmp(kw, "sys"))
		return parse_sys(r, p, ev);
	return rerr(r, "unknown event '%s' (alloc, finalize, free, trim, mark, sys)", kw);
}

/* ---- lines ---- */

/* Next line without its newline, NUL-terminated in the buffer; NULL at end
 * (*rc 0) or on error (*rc -1). */
static char *next_line(struct jm_trace_reader *r, int *rc)
{
	for (;;) {
		char *s = r->buf + r->start;
		size_t avail = r->end - r->start;
		char *nl = memchr(s, '\n', avail);
		if (nl || (r->eof && avail)) {
			size_t n = nl ? (size_t)(nl - s) : avail;
			r->line++;
			if (n >= JM_TRACE_MAX_LINE) {
				*rc = rerr(r, "line longer than %d bytes", JM_TRACE_MAX_LINE);
				return NULL;
			}
			if (r->nul < r->start + n) {
				*rc = rerr(r, "NUL byte in line (binary data?)");
				return NULL;
			}
			s[n] = 0; /* the buffer has one spare byte past end */
			if (n && s[n - 1] == '\r')
				s[n - 1] = 0;
			r->start += nl ? n + 1 : n;
			return s;
		}
		if (r->eof) {
			*rc = 0;
			return NULL;
		}
		if (avail >= JM_TRACE_MAX_LINE) {
			r->line++;
			*rc = rerr(r, "line longer than %d bytes", JM_TRACE_MAX_LINE);
			return NULL;
		}
		memmove(r->buf, s, avail);
		r->nul -= r->start;
		r->start = 0;
		r->end = avail;
		char e[300];
		ssize_t got = jm_input_read(r->in, r->buf + r->end, BUFSZ - r->end, e, sizeof(e));
		if (got < 0) {
			r->line++; /* name the line being read, not the last one */
			*rc = rerr(r, "%s", e);
			return NULL;
		}
		if (got == 0)
			r->eof = 1;
		/* one scan of what was read instead of one per line */
		if (r->nul == r->end) {
			const char *z = memchr(r->buf + r->end, 0, (size_t)got);
			r->nul = z ? (size_t)(z - r->buf) : r->end + (size_t)got;
		}
		r->end += (size_t)got;
	}
}

static int blank_or_comment(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return !*s || *s == '#';
}

static int header_line(struct jm_trace_reader *r, char *s)
{
	char *p = s;
	char *key = token(&p);
	char *val = skip_ws(p);
	size_t n = strlen(val);
	while (n && (val[n - 1] == ' ' || val[n - 1] == '\t'))
		val[--n] = 0;
	struct { const char *key; char *dst; size_t len; } strs[] = {
		{"source", r->h.source, sizeof(r->h.source)},
		{"arch", r->h.arch, sizeof(r->h.arch)},
		{"made_by", r->h.made_by, sizeof(r->h.made_by)},
		{"sizes", r->h.sizes, sizeof(r->h.sizes)},
	};
	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
		if (strcmp(key, strs[i].key))
			continue;
		if (!n)
			return rerr(r, "header %s: missing value", key);
		char why[160];
		if (jm_trace_unescape(val, strs[i].dst, strs[i].len, why, sizeof(why)) < 0)
			return rerr(r, "header %s %s", key, why);
		if (!strcmp(key, "sizes") && strcmp(val, "exact") && strcmp(val, "page"))
			return rerr(r, "header sizes: '%s' is not exact or page", val);
		return 0;
	}
	uint64_t *nums[] = {&r->h.page_size, &r->h.max_live, &r->h.graphs};
	const char *numkeys[] = {"page_size", "max_live", "graphs"};
	for (size_t i = 0; i < 3; i++) {
		if (strcmp(key, numkeys[i]))
			continue;
		if (parse_u64(val, nums[i]) < 0)
			return rerr(r, "header %s: '%s' is not a number", key, val);
		if (i == 0 && (!jm_is_pow2(r->h.page_size) || r->h.page_size < 1024))
			return rerr(r, "header page_size: %s is not a power of two >= 1024", val);
		if (i == 1 && r->h.max_live > JM_TRACE_MAX_LIVE)
			return rerr(r, "header max_live: %s is over the limit %llu", val,
				    JM_TRACE_MAX_LIVE);
		return 0;
	}
	if (!strncmp(key, "x-", 2))
		return 0; /* extensions: ignored by this reader */
	return rerr(r, "unknown header key '%s' (extensions start with x-)", key);
}

static int is_event_keyword(const char *s)
{
	static const char *const kws[] = {"alloc", "finalize", "free", "trim", "mark", "sys"};
	size_t n = strcspn(s, " \t");
	for (size_t i = 0; i < 6; i++)
		if (strlen(kws[i]) == n && !strncmp(s, kws[i], n))
			return 1;
	return 0;
}

static int read_header(struct jm_trace_reader *r)
{
	int rc = 0;
	char *s;
	while ((s = next_line(r, &rc)) && blank_or_comment(s))
		;
	if (!s)
		return rc < 0 ? -1 : rerr(r, "empty file: want '%s %d'", JM_TRACE_MAGIC,
					  JM_TRACE_VERSION);
	char *p = s;
	char *magic = token(&p), *ver = token(&p);
	uint64_t v;
	if (strcmp(magic, JM_TRACE_MAGIC))
		return rerr(r, "not a jitmm trace (first line must be '%s %d')",
			    JM_TRACE_MAGIC, JM_TRACE_VERSION);
	if (!ver || parse_u64(ver, &v) < 0 || token(&p))
		return rerr(r, "bad version line (want '%s %d')", JM_TRACE_MAGIC,
			    JM_TRACE_VERSION);
	if (v != JM_TRACE_VERSION)
		return rerr(r, "trace format version %llu is not supported (this jitmm "
			    "reads version %d)", (unsigned long long)v, JM_TRACE_VERSION);
	r->h.version = (unsigned)v;
	while ((s = next_line(r, &rc))) {
		if (blank_or_comment(s))
			continue;
		if (is_event_keyword(skip_ws(s))) {
			r->pending = 1;
			r->pend_line = s;
			break;
		}
		if (header_line(r, s) < 0)
			return -1;
	}
	if (rc < 0)
		return -1;
	const char *missing = !r->h.source[0] ? "source" : !r->h.arch[0] ? "arch" :
			      !r->h.made_by[0] ? "made_by" : !r->h.page_size ? "page_size" : NULL;
	if (missing)
		return rerr(r, "header: missing '%s'", missing);
	if (!r->h.sizes[0])
		strcpy(r->h.sizes, "exact");
	return 0;
}

/* f == NULL: open path; otherwise read f (taken over) and name it path */
static struct jm_trace_reader *trace_open(FILE *f, const char *path, char *err,
					  size_t errlen)
{
	struct jm_trace_reader *r = calloc(1, sizeof(*r));
	if (!r) {
		if (f)
			fclose(f);
		snprintf(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	snprintf(r->path, sizeof(r->path), "%s", path);
	r->buf = malloc(BUFSZ + 1);
	if (!r->buf && f)
		fclose(f);
	r->in = !r->buf ? NULL : f ? jm_input_open_file(f, path, err, errlen)
				   : jm_input_open(path, err, errlen);
	if (!r->in) {
		if (!r->buf)
			snprintf(err, errlen, "%s: out of memory", path);
		jm_trace_close(r);
		return NULL;
	}
	if (read_header(r) < 0) {
		snprintf(err, errlen, "%s", r->err);
		jm_trace_close(r);
		return NULL;
	}
	return r;
}

struct jm_trace_reader *jm_trace_open(const char *path, char *err, size_t errlen)
{
	return trace_open(NULL, path, err, errlen);
}

struct jm_trace_reader *jm_trace_open_file(FILE *f, const char *name, char *err,
					   size_t errlen)
{
	return trace_open(f, name, err, errlen);
}

int jm_trace_read(struct jm_trace_reader *r, struct jm_event *ev)
{
	if (r->err[0])
		return -1;
	int rc = 0;
	char *s;
	if (r->pending) {
		r->pending = 0;
		s = r->pend_line;
	} else {
		while ((s = next_line(r, &rc)) && blank_or_comment(s))
			;
		if (!s)
			return rc;
	}
	return parse_event(r, s, ev) < 0 ? -1 : 1;
}

const char *jm_trace_error(const struct jm_trace_reader *r) { return r->err; }
const struct jm_trace_header *jm_trace_header(const struct jm_trace_reader *r) { return &r->h; }
uint64_t jm_trace_lineno(const struct jm_trace_reader *r) { return r->line; }
uint64_t jm_trace_live(const struct jm_trace_reader *r) { return r->live.n; }
uint64_t jm_trace_peak_live(const struct jm_trace_reader *r) { return r->peak_live; }

void jm_trace_close(struct jm_trace_reader *r)
{
	if (!r)
		return;
	jm_input_close(r->in);
	free(r->buf);
	free(r->live.key);
	free(r->live.fin);
	free(r);
}
