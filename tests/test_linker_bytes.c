/* The bytes the harness's linker writes are its contract (linker/contents.c,
 * reloc.c, arch.c): a faster linker must write the very same bytes. 20,000
 * graphs of varied shapes (every class and lifetime, tiny segments, zero
 * fill, sparse graphs, both code models, calls to earlier graphs and frees
 * of them, data 3 and 5 GiB away: reach failures on one architecture or
 * both, calls beyond AArch64's reach) are written into a buffer that was filled with a marker first, and
 * everything is hashed: every byte of every segment, what the linker
 * recorded (a->link), the code the checker expects, the next callee and the
 * linker's statistics. The segments' execution addresses are made up (the
 * linker resolves against them and writes through the write addresses), so
 * the bytes do not depend on where the buffer is. The expected hash was
 * taken from the linker before its emission was rewritten as templates. */
#include "testutil.h"

#include "../linker/contents.h"
#include "../linker/reloc.h"

#define GRAPHS 20000
#define BUF_BYTES (8u << 20)
#define EXEC_BASE 0x7f1200000000ull
#define GIB (1ull << 30)

/* FNV-1a, 64 bits */
static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	return h;
}
#define HASH(h, v) ((h) = fnv((h), &(v), sizeof(v)))

static uint64_t rng_state = TU_XORSHIFT_SEED;
static uint64_t rnd(uint64_t below)
{
	return tu_xorshift_below(&rng_state, below);
}

/* a segment size: mostly small, some tiny, some beyond two pages */
static uint64_t some_size(void)
{
	switch (rnd(8)) {
	case 0: return rnd(8);            /* below every function's size */
	case 1: return 8 + rnd(64);       /* around the linked code's size */
	case 2: return 20000 + rnd(20000); /* sparse graphs touch its ends */
	default: return 64 + rnd(6000);
	}
}

static uint64_t hash_graphs(enum jm_code_model cm, uint8_t *buf)
{
	struct jm_linker L;
	jm_linker_init(&L, cm);
	uint64_t h = 0xcbf29ce484222325ull, off = 0;
	struct jm_alloc live[8];
	uint64_t states[4] = {0};
	memset(live, 0, sizeof(live));
	for (uint64_t id = 1; id <= GRAPHS; id++) {
		struct jm_alloc *a = &live[id % 8];
		if (a->id)
			jm_link_forget(&L, a->id); /* the graph 8 back is freed */
		memset(a, 0, sizeof(*a));
		a->id = id;
		a->link.flags = rnd(6) == 0 ? JM_GRAPH_SPARSE : 0;
		/* data far from code now and then: 3 GiB (x86-64 fails,
		 * AArch64's ADRP reaches), 5 GiB (both fail) */
		uint64_t far = rnd(16) == 0 ? 3 * GIB : rnd(16) == 0 ? 5 * GIB : 0;
		/* code 256 MiB from the rest: beyond AArch64's BL (+-128 MiB) */
		uint64_t far_code = rnd(16) == 0 ? 256ull << 20 : 0;
		for (int cls = 0; cls < JM_NCLASS; cls++)
			for (int life = 0; life < JM_NLIFETIME; life++) {
				if (rnd(life ? 4 : 5) != 0 && !(cls == JM_RX && !life && rnd(8)))
					continue;
				uint64_t content = some_size(), zf = rnd(4) ? 0 : rnd(300);
				uint64_t size = content + zf, align = 16u << rnd(3);
				if (!size)
					continue;
				off = jm_align_up(off, align);
				if (off + size > BUF_BYTES)
					off = 0;
				struct jm_segment_alloc *s = &a->seg[a->nseg++];
				s->write = buf + off;
				s->exec = (void *)(uintptr_t)(EXEC_BASE + off +
							      (cls != JM_RX ? far : far_code));
				s->size = size;
				s->content = content;
				s->cls = (enum jm_prot_class)cls;
				s->life = (enum jm_lifetime)life;
				memset(s->write, 0x5a, size); /* what the linker leaves shows */
				off += size;
			}
		jm_contents_write_linked(&L, a);
		for (uint32_t i = 0; i < a->nseg; i++) {
			h = fnv(h, a->seg[i].write, a->seg[i].size);
			HASH(h, i);
		}
		HASH(h, a->link);
		states[a->link.state & 3]++;
		uint8_t code[128];
		size_t n = jm_link_expected_code(a, cm, code, sizeof(code));
		h = fnv(h, code, n);
		HASH(h, n);
		if (rnd(3)) { /* finalized: its leaf is the next callee */
			jm_link_finalized(&L, a);
			HASH(h, L.have_callee);
			HASH(h, L.callee_addr);
			HASH(h, L.callee_value);
		}
	}
	const struct jm_link_stats *st = &L.st;
	h = fnv(h, st->graphs, sizeof(st->graphs));
	h = fnv(h, st->relocs, sizeof(st->relocs));
	h = fnv(h, st->max_distance, sizeof(st->max_distance));
	HASH(h, st->reach_failures);
	HASH(h, st->reach_failures_other);
	for (int i = 0; i < st->nfirst; i++) {
		char text[300];
		jm_reach_failure_text(&st->first[i], text, sizeof(text));
		h = fnv(h, text, strlen(text));
	}
	for (int i = 0; i < st->nfirst_other; i++) {
		char text[300];
		jm_reach_failure_text(&st->first_other[i], text, sizeof(text));
		h = fnv(h, text, strlen(text));
	}
	/* every kind of outcome was met */
	assert_true(states[JM_LINK_LINKED] > 1000);
	assert_true(states[JM_LINK_PLAIN] > 100);
	assert_true(states[JM_LINK_NONE] > 100);
	assert_true(st->relocs[JM_RELOC_CALL] > 1000);
	if (cm == JM_CM_SMALL) /* the large model's x86-64 fixups are absolute */
		assert_true(states[JM_LINK_SENTINEL] > 100 && st->reach_failures > 100);
	assert_true(st->reach_failures_other > 100);
	return h;
}

static void check(enum jm_code_model cm, uint64_t want)
{
	uint8_t *buf = malloc(BUF_BYTES);
	assert_non_null(buf);
	rng_state = TU_XORSHIFT_SEED;
	uint64_t got = hash_graphs(cm, buf);
	free(buf);
	if (got != want)
		fail_msg("%s code model: the linker's bytes hash to %#llx, expected %#llx",
			 jm_code_model_name(cm), (unsigned long long)got,
			 (unsigned long long)want);
}

static void test_small_code_model_bytes(void **state)
{
	(void)state;
	check(JM_CM_SMALL, 0xfa686475105b240eull);
}

static void test_large_code_model_bytes(void **state)
{
	(void)state;
	check(JM_CM_LARGE, 0x3a8b130ff8a04a6dull);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_small_code_model_bytes),
		cmocka_unit_test(test_large_code_model_bytes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
