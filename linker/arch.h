/* The architecture layer: the only place that knows machine code and
 * relocation reach. x86-64 is implemented; AArch64 has its encodings here
 * so it can be added without touching the rest.
 *
 * Linked code (what linker/reloc.c links, see docs/relocations.md): a
 * function that adds up 32-bit values loaded from up to JM_LINK_MAX_DATA
 * data addresses and, optionally, the return value of another function:
 *
 *   small code model (x86-64)              large code model (x86-64)
 *   sub  rsp, 8                            sub  rsp, 8
 *   call callee        ; R_X86_64_PLT32    movabs rax, callee ; R_X86_64_64
 *   add  rsp, 8                            call rax
 *                                          add  rsp, 8
 *   (or xor eax, eax without a callee)
 *   add  eax, [rip+d]  ; R_X86_64_PC32     movabs rcx, d      ; R_X86_64_64
 *                                          add  eax, [rcx]
 *   ret                                    ret
 *
 * The emitter leaves the relocated fields zero and describes them as
 * fixups; the linker computes and checks the values. */
#ifndef JITMM_ARCH_H
#define JITMM_ARCH_H

#include <stddef.h>
#include <stdint.h>

/* Bytes of the smallest function jm_arch_emit_return_imm writes. */
size_t jm_arch_return_imm_size(void);
/* Write a function returning imm (int (*)(void)); returns bytes written or
 * 0 if it does not fit in len. */
size_t jm_arch_emit_return_imm(uint8_t *buf, size_t len, uint32_t imm);
/* Byte that traps if executed (x86-64 int3), used to fill code padding. */
uint8_t jm_arch_trap_byte(void);
/* Make freshly written code at exec visible to instruction fetch. */
void jm_arch_flush_icache(void *exec, size_t len);
const char *jm_arch_name(void);

enum jm_code_model { JM_CM_SMALL = 0, JM_CM_LARGE = 1, JM_NCM = 2 };
enum jm_reloc_kind { JM_RELOC_DATA = 0, JM_RELOC_CALL = 1, JM_NRELOC = 2 };

const char *jm_code_model_name(enum jm_code_model cm);
int jm_code_model_parse(const char *s, enum jm_code_model *out);

#define JM_LINK_MAX_DATA 2
#define JM_LINK_MAX_FIXUPS (JM_LINK_MAX_DATA + 1)

/* A field of emitted code the linker must fill. target: 0 = the callee,
 * 1 + i = data address i. */
struct jm_fixup {
	uint32_t off;   /* offset of the field in the emitted code */
	uint8_t width;  /* 4: PC-relative (S + addend - P); 8: absolute S */
	uint8_t target;
	enum jm_reloc_kind kind;
	int64_t addend;
};

/* Emit a linked function (shape above) for code model cm into buf. Returns
 * the bytes written (0 if it does not fit in len, or the host has no
 * emitter) and fills fx[0..*nfx). With buf NULL it writes nothing and
 * returns the size it would write (fx and nfx may be NULL too). */
size_t jm_arch_emit_linked(uint8_t *buf, size_t len, enum jm_code_model cm,
			   int have_call, int ndata, struct jm_fixup *fx,
			   int *nfx);
/* Upper bound of jm_arch_emit_linked's size. */
size_t jm_arch_linked_max_size(void);

/* A linked function of one shape, emitted once by jm_arch_emit_linked: the
 * linker copies it into place and patches its fixups (as a JIT linker
 * copies section contents and applies edges) instead of encoding every
 * graph's code anew. code holds the function, then trap bytes up to
 * JM_LINK_TEMPLATE_BYTES, so that one fixed-size copy lays down the
 * function and the trap padding after it. */
#define JM_LINK_TEMPLATE_BYTES 64
struct jm_code_template {
	uint8_t code[JM_LINK_TEMPLATE_BYTES];
	uint32_t size; /* bytes of the function; 0: the host has no emitter */
	int nfx;
	struct jm_fixup fx[JM_LINK_MAX_FIXUPS];
};
/* The template of the shape (cm, have_call, ndata <= JM_LINK_MAX_DATA);
 * built on first use, never changed after (safe from any thread). */
const struct jm_code_template *jm_arch_linked_template(enum jm_code_model cm,
							int have_call, int ndata);

/* Relocation reach: one rule per (architecture, code model, kind). */
struct jm_reach_rule {
	const char *reloc;  /* ELF relocation type the rule models */
	int absolute;       /* no reach limit (64-bit absolute address) */
	int page;           /* distance between 4 KiB pages (ADRP) */
	int64_t min, max;   /* inclusive range of the encoded distance */
};

struct jm_arch_reach {
	const char *arch;
	struct jm_reach_rule rule[JM_NCM][JM_NRELOC];
};

extern const struct jm_arch_reach jm_reach_x86_64;
extern const struct jm_arch_reach jm_reach_aarch64;
/* The host's table, and the table distances are also checked against
 * ("would fail on ..."): AArch64 on an x86-64 host. */
const struct jm_arch_reach *jm_reach_host(void);
const struct jm_arch_reach *jm_reach_other(void);

/* Does a fixup at P referring to S + A fit? *dist gets the encoded
 * distance (S + A - P, or the page distance for page rules; 0 for absolute
 * rules). Inline: the linker asks twice per fixup, four fixups a graph. */
static inline int jm_reach_fits(const struct jm_reach_rule *r, uint64_t P,
				uint64_t S, int64_t A, int64_t *dist)
{
	if (r->absolute) {
		*dist = 0;
		return 1;
	}
	uint64_t s = S + (uint64_t)A;
	int64_t d = r->page ? (int64_t)((s & ~4095ull) - (P & ~4095ull))
			    : (int64_t)(s - P);
	*dist = d;
	return d >= r->min && d <= r->max;
}

#endif
