#include "contents.h"

#include <stdio.h>
#include <string.h>

#include "arch.h"

uint32_t jm_contents_value(uint64_t id)
{
	return (uint32_t)(id * 2654435761u) ^ 0x5a5a0000u;
}

static uint8_t data_byte(uint64_t id, enum jm_prot_class cls)
{
	return (uint8_t)((id * 131 + (unsigned)cls * 17) | 1);
}

void jm_contents_write(const struct jm_alloc *a)
{
	for (uint32_t i = 0; i < a->nseg; i++) {
		const struct jm_segment_alloc *s = &a->seg[i];
		if (!s->write || !s->content)
			continue;
		uint8_t *p = s->write;
		if (s->cls == JM_RX) {
			size_t n = jm_arch_emit_return_imm(p, s->content,
							   jm_contents_value(a->id));
			memset(p + n, jm_arch_trap_byte(), s->content - n);
		} else {
			memset(p, data_byte(a->id, s->cls), s->content);
		}
	}
}

static int check_range(const uint8_t *p, uint64_t len, uint8_t want,
		       uint64_t *bad)
{
	/* first, last and a stride of bytes: enough to catch a wrong mapping
	 * without reading every byte of large segments */
	uint64_t step = len > 4096 ? 509 : 1;
	for (uint64_t i = 0; i < len; i += step)
		if (p[i] != want) {
			*bad = i;
			return -1;
		}
	if (len && p[len - 1] != want) {
		*bad = len - 1;
		return -1;
	}
	return 0;
}

int jm_contents_check(const struct jm_alloc *a, int execute, char *err,
		      size_t errlen)
{
	for (uint32_t i = 0; i < a->nseg; i++) {
		const struct jm_segment_alloc *s = &a->seg[i];
		if (!s->exec)
			continue;
		const uint8_t *p = s->exec;
		uint64_t bad;
		uint64_t code = 0;
		if (s->cls == JM_RX && s->content) {
			uint8_t buf[16];
			size_t n = jm_arch_emit_return_imm(buf, s->content < 16 ? s->content : 16,
							   jm_contents_value(a->id));
			if (memcmp(p, buf, n)) {
				snprintf(err, errlen,
					 "graph %llu: code of segment %u does not read back",
					 (unsigned long long)a->id, i);
				return -1;
			}
			code = n;
			if (check_range(p + n, s->content - n, jm_arch_trap_byte(), &bad) < 0) {
				snprintf(err, errlen,
					 "graph %llu: segment %u byte %llu does not read back",
					 (unsigned long long)a->id, i,
					 (unsigned long long)(bad + n));
				return -1;
			}
			if (execute && n) {
				uint32_t (*fn)(void);
				void *addr = (void *)(uintptr_t)s->exec;
				memcpy(&fn, &addr, sizeof(fn));
				uint32_t got = fn();
				if (got != jm_contents_value(a->id)) {
					snprintf(err, errlen,
						 "graph %llu: code returned %#x, expected %#x",
						 (unsigned long long)a->id, got,
						 jm_contents_value(a->id));
					return -1;
				}
			}
		} else if (check_range(p, s->content, data_byte(a->id, s->cls), &bad) < 0) {
			snprintf(err, errlen,
				 "graph %llu: %s segment %u byte %llu does not read back",
				 (unsigned long long)a->id, jm_class_name(s->cls), i,
				 (unsigned long long)bad);
			return -1;
		}
		(void)code;
		if (check_range(p + s->content, s->size - s->content, 0, &bad) < 0) {
			snprintf(err, errlen,
				 "graph %llu: zero-fill of segment %u is not zero at byte %llu",
				 (unsigned long long)a->id, i,
				 (unsigned long long)(bad + s->content));
			return -1;
		}
	}
	return 0;
}

/* Expected byte i of segment s of allocation a. code/ncode: the function
 * emitted at the start of rx segments. */
static uint8_t expected_byte(const struct jm_alloc *a, const struct jm_segment_alloc *s,
			     const uint8_t *code, size_t ncode, uint64_t i)
{
	if (i >= s->content)
		return 0;
	if (s->cls == JM_RX)
		return i < ncode ? code[i] : jm_arch_trap_byte();
	return data_byte(a->id, s->cls);
}

int jm_contents_check_backend(struct jm_backend *b, const struct jm_alloc *a,
			      int execute, char *err, size_t errlen)
{
	if (!b || !b->ops->read_exec)
		return jm_contents_check(a, execute, err, errlen);
	static uint8_t buf[64 << 10];
	for (uint32_t i = 0; i < a->nseg; i++) {
		const struct jm_segment_alloc *s = &a->seg[i];
		if (!s->exec)
			continue;
		uint8_t code[16];
		size_t n = 0;
		if (s->cls == JM_RX && s->content)
			n = jm_arch_emit_return_imm(code, s->content < 16 ? s->content : 16,
						    jm_contents_value(a->id));
		for (uint64_t off = 0; off < s->size; off += sizeof(buf)) {
			size_t len = s->size - off < sizeof(buf) ? s->size - off : sizeof(buf);
			if (b->ops->read_exec(b, (const uint8_t *)s->exec + off, buf, len) < 0) {
				snprintf(err, errlen, "graph %llu: segment %u: %s",
					 (unsigned long long)a->id, i, b->err);
				return -1;
			}
			for (size_t k = 0; k < len; k++)
				if (buf[k] != expected_byte(a, s, code, n, off + k)) {
					snprintf(err, errlen,
						 "graph %llu: %s segment %u byte %llu does not read back "
						 "through the execution mapping",
						 (unsigned long long)a->id, jm_class_name(s->cls), i,
						 (unsigned long long)(off + k));
					return -1;
				}
		}
		if (execute && n && b->ops->execute) {
			uint32_t got;
			if (b->ops->execute(b, s->exec, &got) < 0) {
				snprintf(err, errlen, "graph %llu: %s", (unsigned long long)a->id,
					 b->err);
				return -1;
			}
			if (got != jm_contents_value(a->id)) {
				snprintf(err, errlen, "graph %llu: code returned %#x, expected %#x",
					 (unsigned long long)a->id, got, jm_contents_value(a->id));
				return -1;
			}
		}
	}
	return 0;
}
