/* Segment sizes of real relocatable objects (see object_sizes.c). */
#ifndef JITMM_OBJECT_SIZES_H
#define JITMM_OBJECT_SIZES_H

#include <stddef.h>
#include <stdint.h>

struct jm_object_size {
	uint32_t rx, ro, rw, zf, maxalign, got, stubs;
};

extern const struct jm_object_size jm_object_sizes[];
extern const size_t jm_object_sizes_count;

#endif
