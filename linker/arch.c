#include "arch.h"

#include <pthread.h>
#include <string.h>

/* The reach tables. x86-64 small: every PC-relative field is a signed 32-bit
 * displacement (R_X86_64_PC32 for data, R_X86_64_PLT32 for calls: +-2 GiB).
 * x86-64 large: movabs of the 64-bit address (R_X86_64_64): no limit.
 * AArch64 small: ADRP reaches +-4 GiB in 4 KiB pages
 * (R_AARCH64_ADR_PREL_PG_HI21), B/BL +-128 MiB (R_AARCH64_CALL26).
 * AArch64 large: data through MOVZ/MOVK (R_AARCH64_MOVW_UABS_G0..G3), no
 * limit; calls are still BL (+-128 MiB): the large model does not change
 * branches, out-of-range calls need linker stubs. */
const struct jm_arch_reach jm_reach_x86_64 = {
	.arch = "x86_64",
	.rule = {
		[JM_CM_SMALL] = {
			[JM_RELOC_DATA] = {"R_X86_64_PC32", 0, 0, INT32_MIN, INT32_MAX},
			[JM_RELOC_CALL] = {"R_X86_64_PLT32", 0, 0, INT32_MIN, INT32_MAX},
		},
		[JM_CM_LARGE] = {
			[JM_RELOC_DATA] = {"R_X86_64_64", 1, 0, 0, 0},
			[JM_RELOC_CALL] = {"R_X86_64_64", 1, 0, 0, 0},
		},
	},
};

const struct jm_arch_reach jm_reach_aarch64 = {
	.arch = "aarch64",
	.rule = {
		[JM_CM_SMALL] = {
			[JM_RELOC_DATA] = {"R_AARCH64_ADR_PREL_PG_HI21", 0, 1,
					   -(1ll << 32), (1ll << 32) - 1},
			[JM_RELOC_CALL] = {"R_AARCH64_CALL26", 0, 0,
					   -(1ll << 27), (1ll << 27) - 1},
		},
		[JM_CM_LARGE] = {
			[JM_RELOC_DATA] = {"R_AARCH64_MOVW_UABS_G0..G3", 1, 0, 0, 0},
			[JM_RELOC_CALL] = {"R_AARCH64_CALL26", 0, 0,
					   -(1ll << 27), (1ll << 27) - 1},
		},
	},
};

const char *jm_code_model_name(enum jm_code_model cm)
{
	return cm == JM_CM_LARGE ? "large" : "small";
}

int jm_code_model_parse(const char *s, enum jm_code_model *out)
{
	if (!strcmp(s, "small"))
		*out = JM_CM_SMALL;
	else if (!strcmp(s, "large"))
		*out = JM_CM_LARGE;
	else
		return -1;
	return 0;
}

#if defined(__x86_64__)

size_t jm_arch_return_imm_size(void) { return 6; }

size_t jm_arch_emit_return_imm(uint8_t *buf, size_t len, uint32_t imm)
{
	if (len < 6)
		return 0;
	buf[0] = 0xb8; /* mov eax, imm32 */
	memcpy(buf + 1, &imm, 4);
	buf[5] = 0xc3; /* ret */
	return 6;
}

uint8_t jm_arch_trap_byte(void) { return 0xcc; }

void jm_arch_flush_icache(void *exec, size_t len)
{
	/* x86 keeps instruction fetch coherent with stores */
	(void)exec;
	(void)len;
}

const char *jm_arch_name(void) { return "x86_64"; }

const struct jm_arch_reach *jm_reach_host(void) { return &jm_reach_x86_64; }
const struct jm_arch_reach *jm_reach_other(void) { return &jm_reach_aarch64; }

size_t jm_arch_linked_max_size(void)
{
	/* large: 4 + 10 + 2 + 4 + 2 * (10 + 2) + 1 */
	return 4 + 10 + 2 + 4 + JM_LINK_MAX_DATA * 12 + 1;
}

size_t jm_arch_emit_linked(uint8_t *buf, size_t len, enum jm_code_model cm,
			   int have_call, int ndata, struct jm_fixup *fx,
			   int *nfx)
{
	/* straight into buf when it has room for the longest function, else
	 * into scratch and copied if it fits */
	uint8_t scratch[64];
	uint8_t *code = !buf ? NULL : len >= sizeof(scratch) ? buf : scratch;
	struct jm_fixup fx_scratch[JM_LINK_MAX_FIXUPS];
	size_t n = 0;
	int k = 0;
	if (ndata > JM_LINK_MAX_DATA)
		return 0;
	if (!fx)
		fx = fx_scratch;
#define B(...)                                                        \
	do {                                                          \
		const uint8_t b_[] = {__VA_ARGS__};                   \
		if (code)                                             \
			memcpy(code + n, b_, sizeof(b_));             \
		n += sizeof(b_);                                      \
	} while (0)
	if (have_call) {
		B(0x48, 0x83, 0xec, 0x08); /* sub rsp, 8: keep rsp 16-aligned */
		if (cm == JM_CM_SMALL) {
			B(0xe8);           /* call rel32 */
			fx[k++] = (struct jm_fixup){(uint32_t)n, 4, 0, JM_RELOC_CALL, -4};
			B(0, 0, 0, 0);
		} else {
			B(0x48, 0xb8);     /* movabs rax, imm64 */
			fx[k++] = (struct jm_fixup){(uint32_t)n, 8, 0, JM_RELOC_CALL, 0};
			B(0, 0, 0, 0, 0, 0, 0, 0);
			B(0xff, 0xd0);     /* call rax */
		}
		B(0x48, 0x83, 0xc4, 0x08); /* add rsp, 8 */
	} else {
		B(0x31, 0xc0);             /* xor eax, eax */
	}
	for (int i = 0; i < ndata; i++) {
		if (cm == JM_CM_SMALL) {
			B(0x03, 0x05);     /* add eax, [rip + disp32] */
			fx[k++] = (struct jm_fixup){(uint32_t)n, 4, (uint8_t)(1 + i),
						    JM_RELOC_DATA, -4};
			B(0, 0, 0, 0);
		} else {
			B(0x48, 0xb9);     /* movabs rcx, imm64 */
			fx[k++] = (struct jm_fixup){(uint32_t)n, 8, (uint8_t)(1 + i),
						    JM_RELOC_DATA, 0};
			B(0, 0, 0, 0, 0, 0, 0, 0);
			B(0x03, 0x01);     /* add eax, [rcx] */
		}
	}
	B(0xc3);                           /* ret */
#undef B
	if (!buf)
		return n;
	if (n > len)
		return 0;
	if (code != buf)
		memcpy(buf, code, n);
	*nfx = k;
	return n;
}

#elif defined(__aarch64__)

size_t jm_arch_return_imm_size(void) { return 12; }

size_t jm_arch_emit_return_imm(uint8_t *buf, size_t len, uint32_t imm)
{
	if (len < 12)
		return 0;
	uint32_t ins[3] = {
		0x52800000u | ((imm & 0xffff) << 5),        /* movz w0, lo */
		0x72a00000u | (((imm >> 16) & 0xffff) << 5), /* movk w0, hi, lsl 16 */
		0xd65f03c0u,                                 /* ret */
	};
	memcpy(buf, ins, sizeof(ins));
	return 12;
}

uint8_t jm_arch_trap_byte(void) { return 0x00; } /* udf #0 is all zeros */

void jm_arch_flush_icache(void *exec, size_t len)
{
	__builtin___clear_cache((char *)exec, (char *)exec + len);
}

const char *jm_arch_name(void) { return "aarch64"; }

const struct jm_arch_reach *jm_reach_host(void) { return &jm_reach_aarch64; }
const struct jm_arch_reach *jm_reach_other(void) { return &jm_reach_x86_64; }

size_t jm_arch_linked_max_size(void) { return 0; }

/* Not written yet: the linker falls back to jm_arch_emit_return_imm. */
size_t jm_arch_emit_linked(uint8_t *buf, size_t len, enum jm_code_model cm,
			   int have_call, int ndata, struct jm_fixup *fx,
			   int *nfx)
{
	(void)buf; (void)len; (void)cm; (void)have_call; (void)ndata; (void)fx;
	if (nfx)
		*nfx = 0;
	return 0;
}

#else
#error "jitmm: unsupported architecture (add it to linker/arch.c)"
#endif

/* Every shape's template, emitted once (jm_arch_linked_template). */
static struct jm_code_template templates[JM_NCM][2][JM_LINK_MAX_DATA + 1];
static pthread_once_t templates_once = PTHREAD_ONCE_INIT;

static void templates_build(void)
{
	for (int cm = 0; cm < JM_NCM; cm++)
		for (int call = 0; call < 2; call++)
			for (int nd = 0; nd <= JM_LINK_MAX_DATA; nd++) {
				struct jm_code_template *t = &templates[cm][call][nd];
				memset(t->code, jm_arch_trap_byte(), sizeof(t->code));
				t->size = (uint32_t)jm_arch_emit_linked(
					t->code, sizeof(t->code), (enum jm_code_model)cm,
					call, nd, t->fx, &t->nfx);
				if (!t->size)
					t->nfx = 0;
			}
}

const struct jm_code_template *jm_arch_linked_template(enum jm_code_model cm,
							int have_call, int ndata)
{
	pthread_once(&templates_once, templates_build);
	return &templates[cm][have_call != 0][ndata];
}
