/* COMDAT and weak-definition dedup across the objects of one link, as a
 * JIT linker does it (`jitmm trace from-elf --dedup`): ORC keeps the first
 * definition of a weak symbol and discards the later ones, and JITLink
 * then dead-strips the blocks nothing keeps alive; a static linker keeps
 * the first member of each COMDAT group. So, in input order:
 *  - a COMDAT group (SHT_GROUP with GRP_COMDAT) whose signature an earlier
 *    object already had: all its sections are dropped;
 *  - an allocatable section whose global definitions are all weak and
 *    all already defined by an earlier object: dropped.
 * What this does not model: JITLink's pruning of other unreferenced
 * blocks (docs/fidelity.md gives the difference it makes). */
#ifndef JITMM_ELF_DEDUP_H
#define JITMM_ELF_DEDUP_H

#include <gelf.h>
#include <stddef.h>
#include <stdint.h>

/* The definitions and groups seen so far in a link. */
struct jm_elf_dedup;

struct jm_elf_dedup *jm_elf_dedup_new(void);
void jm_elf_dedup_free(struct jm_elf_dedup *d);

/* Mark in drop[0..nsec) the sections of object e that an earlier object
 * already provides, then remember e's groups and global definitions.
 * 0, or -1 with a message in err (a malformed group or symbol table). */
int jm_elf_dedup_mark(struct jm_elf_dedup *d, Elf *e, size_t nsec, uint8_t *drop, char *err,
		      size_t errlen);

#endif
