/* A fixed-size log-linear latency histogram (16 sub-buckets per power of
 * two: <= 6.25% relative error). Recording allocates nothing, so it can
 * run inside the measurement window. */
#ifndef JITMM_LATENCY_H
#define JITMM_LATENCY_H

#include <stdint.h>

#define JM_LAT_SUB 16
#define JM_LAT_BUCKETS (64 * JM_LAT_SUB)

struct jm_latency {
	uint64_t count, max, sum;
	uint32_t bucket[JM_LAT_BUCKETS];
};

/* Inline: three a graph, in the measured loop. */
static inline void jm_latency_record(struct jm_latency *h, uint64_t ns)
{
	unsigned b = (unsigned)ns;
	if (ns >= JM_LAT_SUB) {
		unsigned msb = 63u - (unsigned)__builtin_clzll(ns);
		unsigned shift = msb - 4; /* keep 4 bits below the msb */
		b = (shift + 1) * JM_LAT_SUB + ((unsigned)(ns >> shift) & (JM_LAT_SUB - 1));
	}
	h->count++;
	h->sum += ns;
	if (ns > h->max)
		h->max = ns;
	h->bucket[b]++;
}
/* q in [0, 1]; the upper bound of the bucket holding that quantile,
 * clamped to the maximum seen. 0 if empty. */
uint64_t jm_latency_quantile(const struct jm_latency *h, double q);
void jm_latency_merge(struct jm_latency *into, const struct jm_latency *from);

#endif
