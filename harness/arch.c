#include "arch.h"

#include <string.h>

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

#else
#error "jitmm: unsupported architecture (add it to harness/arch.c)"
#endif
