/* The architecture layer: the only place that knows machine code and
 * relocation reach. x86-64 is implemented; AArch64 has its encodings here
 * so it can be added without touching the rest. */
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

#endif
