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

void jm_latency_record(struct jm_latency *h, uint64_t ns);
/* q in [0, 1]; the upper bound of the bucket holding that quantile,
 * clamped to the maximum seen. 0 if empty. */
uint64_t jm_latency_quantile(const struct jm_latency *h, double q);
void jm_latency_merge(struct jm_latency *into, const struct jm_latency *from);

#endif
