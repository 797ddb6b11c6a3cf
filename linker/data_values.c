#include "data_values.h"

#include <string.h>

uint32_t jm_contents_value(uint64_t id)
{
	return (uint32_t)(id * 2654435761u) ^ 0x5a5a0000u;
}

uint8_t jm_contents_data_byte(uint64_t id, enum jm_prot_class cls)
{
	return (uint8_t)((id * 131 + (unsigned)cls * 17) | 1);
}

uint32_t jm_contents_data_word_of(uint64_t id, enum jm_prot_class cls)
{
	return jm_contents_value(id) * 3u + (unsigned)cls * 0x01010101u;
}

uint32_t jm_contents_data_word(const struct jm_alloc *a, uint32_t seg)
{
	const struct jm_segment_alloc *s = &a->seg[seg];
	if (s->content >= 4)
		return jm_contents_data_word_of(a->id, s->cls);
	/* shorter content: its pattern bytes, then the zero-fill */
	uint8_t b[4] = {0, 0, 0, 0};
	for (uint64_t i = 0; i < s->content; i++)
		b[i] = jm_contents_data_byte(a->id, s->cls);
	uint32_t v;
	memcpy(&v, b, 4);
	return v;
}
