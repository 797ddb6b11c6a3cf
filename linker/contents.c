#include "contents.h"

#include <stdio.h>
#include <string.h>

#include "../allocators/backend.h"
#include "data_values.h"
#include "reloc.h"

/* The byte ranges of content the linker writes: all of it, or for sparse
 * graphs the first and the last page. */
static int content_ranges(const struct jm_alloc *a, const struct jm_segment_alloc *s,
			  uint64_t r[2][2])
{
	const uint64_t page = 4096;
	if (!(a->link.flags & JM_GRAPH_SPARSE) || s->content <= 2 * page) {
		r[0][0] = 0, r[0][1] = s->content;
		return 1;
	}
	r[0][0] = 0, r[0][1] = page;
	r[1][0] = s->content - page, r[1][1] = s->content;
	return 2;
}

void jm_contents_write_linked(struct jm_linker *L, struct jm_alloc *a)
{
	int code = jm_link_code_segment(a);
	for (uint32_t i = 0; i < a->nseg; i++) {
		const struct jm_segment_alloc *s = &a->seg[i];
		if (!s->write || !s->content)
			continue;
		uint8_t *p = s->write;
		uint64_t r[2][2];
		int nr = content_ranges(a, s, r);
		uint8_t fill = s->cls == JM_RX ? jm_arch_trap_byte()
					       : jm_contents_data_byte(a->id, s->cls);
		for (int k = 0; k < nr; k++)
			memset(p + r[k][0], fill, r[k][1] - r[k][0]);
		if (s->cls != JM_RX && s->content >= 4) {
			uint32_t w = jm_contents_data_word_of(a->id, s->cls);
			memcpy(p, &w, 4);
		} else if (s->cls == JM_RX && (int)i != code) {
			jm_arch_emit_return_imm(p, s->content, jm_contents_value(a->id));
		}
	}
	/* the code last: it is linked against the data's final addresses */
	jm_link_write_code(L, a);
}

void jm_contents_write(struct jm_alloc *a)
{
	jm_contents_write_linked(NULL, a);
}

/* Bytes [off, off + len) of the memory at exec (len <= READ_CHUNK): a
 * pointer into the mapping when it is in this process, else a per-thread
 * copy read through the backend (an out-of-process executor). NULL with
 * the backend's error if the read failed. */
#define READ_CHUNK (64u << 10)
static const uint8_t *exec_bytes(struct jm_backend *b, const void *exec,
				 uint64_t off, size_t len)
{
	if (!b || !b->ops->read_exec)
		return (const uint8_t *)exec + off;
	static _Thread_local uint8_t buf[READ_CHUNK];
	if (b->ops->read_exec(b, (const uint8_t *)exec + off, buf, len) < 0)
		return NULL;
	return buf;
}

/* Check [lo, lo + len) of the memory at exec reads as want: first, last
 * and a stride of bytes, enough to catch a wrong mapping without reading
 * every byte of large segments. 0, or -1 with the bad offset (or, with
 * *bad == UINT64_MAX, a failed read). */
static int check_range(struct jm_backend *b, const void *exec, uint64_t lo,
		       uint64_t len, uint8_t want, uint64_t *bad)
{
	uint64_t step = len > 4096 ? 509 : 1;
	for (uint64_t c = 0; c < len; c += READ_CHUNK) {
		size_t n = len - c < READ_CHUNK ? (size_t)(len - c) : READ_CHUNK;
		const uint8_t *p = exec_bytes(b, exec, lo + c, n);
		if (!p) {
			*bad = UINT64_MAX;
			return -1;
		}
		for (uint64_t i = (step - c % step) % step; i < n; i += step)
			if (p[i] != want) {
				*bad = c + i;
				return -1;
			}
		if (p[n - 1] != want) {
			*bad = c + n - 1;
			return -1;
		}
	}
	return 0;
}

static int read_failed(struct jm_backend *b, const struct jm_alloc *a,
		       uint32_t seg, char *err, size_t errlen)
{
	snprintf(err, errlen, "graph %llu: segment %u: %s", (unsigned long long)a->id,
		 seg, b && b->err[0] ? b->err : "read through the backend failed");
	return -1;
}

int jm_contents_check_full(const struct jm_linker *L, struct jm_backend *b,
			   const struct jm_alloc *a, int execute, char *err,
			   size_t errlen)
{
	enum jm_code_model cm = L ? L->cm : JM_CM_SMALL;
	int code = jm_link_code_segment(a);
	for (uint32_t i = 0; i < a->nseg; i++) {
		const struct jm_segment_alloc *s = &a->seg[i];
		if (!s->exec)
			continue;
		uint64_t bad, head = 0;
		uint8_t want = jm_contents_data_byte(a->id, s->cls);
		if (s->cls == JM_RX && s->content) {
			uint8_t buf[128];
			size_t n = (int)i == code
				? jm_link_expected_code(a, cm, buf, sizeof(buf))
				: jm_arch_emit_return_imm(buf, s->content < 16 ? s->content : 16,
							  jm_contents_value(a->id));
			const uint8_t *p = exec_bytes(b, s->exec, 0, n);
			if (!p)
				return read_failed(b, a, i, err, errlen);
			if (memcmp(p, buf, n)) {
				snprintf(err, errlen,
					 "graph %llu: code of segment %u does not read back",
					 (unsigned long long)a->id, i);
				return -1;
			}
			head = n;
			want = jm_arch_trap_byte();
		} else if (s->content >= 4) {
			uint32_t w;
			const uint8_t *p = exec_bytes(b, s->exec, 0, 4);
			if (!p)
				return read_failed(b, a, i, err, errlen);
			memcpy(&w, p, 4);
			if (w != jm_contents_data_word(a, i)) {
				snprintf(err, errlen,
					 "graph %llu: %s segment %u word 0 is %#x, expected %#x",
					 (unsigned long long)a->id, jm_class_name(s->cls), i,
					 w, jm_contents_data_word(a, i));
				return -1;
			}
			head = 4;
		}
		uint64_t r[2][2];
		int nr = content_ranges(a, s, r);
		for (int k = 0; k < nr; k++) {
			uint64_t lo = r[k][0] > head ? r[k][0] : head;
			if (lo >= r[k][1])
				continue;
			if (check_range(b, s->exec, lo, r[k][1] - lo, want, &bad) < 0) {
				if (bad == UINT64_MAX)
					return read_failed(b, a, i, err, errlen);
				snprintf(err, errlen,
					 "graph %llu: %s segment %u byte %llu does not read back",
					 (unsigned long long)a->id, jm_class_name(s->cls), i,
					 (unsigned long long)(bad + lo));
				return -1;
			}
		}
		if (check_range(b, s->exec, s->content, s->size - s->content, 0, &bad) < 0) {
			if (bad == UINT64_MAX)
				return read_failed(b, a, i, err, errlen);
			snprintf(err, errlen,
				 "graph %llu: zero-fill of segment %u is not zero at byte %llu",
				 (unsigned long long)a->id, i,
				 (unsigned long long)(bad + s->content));
			return -1;
		}
		if (execute && s->cls == JM_RX && s->content && (int)i != code &&
		    head) {
			uint32_t got;
			if (jm_call_exec(b, (uint64_t)(uintptr_t)s->exec, &got, err, errlen) < 0)
				return -1;
			if (got != jm_contents_value(a->id)) {
				snprintf(err, errlen,
					 "graph %llu: code returned %#x, expected %#x",
					 (unsigned long long)a->id, got,
					 jm_contents_value(a->id));
				return -1;
			}
		}
	}
	if (execute && code >= 0)
		return jm_link_execute_via(b, a, cm, err, errlen);
	return 0;
}

int jm_contents_check_linked(const struct jm_linker *L, const struct jm_alloc *a,
			     int execute, char *err, size_t errlen)
{
	return jm_contents_check_full(L, NULL, a, execute, err, errlen);
}

int jm_contents_check_backend(struct jm_backend *b, const struct jm_alloc *a,
			      int execute, char *err, size_t errlen)
{
	return jm_contents_check_full(NULL, b, a, execute, err, errlen);
}

int jm_contents_check(const struct jm_alloc *a, int execute, char *err,
		      size_t errlen)
{
	return jm_contents_check_linked(NULL, a, execute, err, errlen);
}
