/* The values the linker stores in each graph, as functions of the graph id
 * and segment: what the code returns and the words and bytes data segments
 * hold. Both the content writer (contents.c) and the code linker (reloc.c,
 * which adds up the data words it loads) derive them from here, so neither
 * needs the other. */
#ifndef JITMM_DATA_VALUES_H
#define JITMM_DATA_VALUES_H

#include <stdint.h>

#include "../allocators/graph.h"

/* What a graph's plain rx function returns. */
uint32_t jm_contents_value(uint64_t id);
/* The pattern byte of a data segment of class cls, and its first word. */
uint8_t jm_contents_data_byte(uint64_t id, enum jm_prot_class cls);
uint32_t jm_contents_data_word_of(uint64_t id, enum jm_prot_class cls);
/* The word at the start of a's data segment seg as the code loads it
 * (shorter content: its pattern bytes, then the zero-fill). */
uint32_t jm_contents_data_word(const struct jm_alloc *a, uint32_t seg);

#endif
