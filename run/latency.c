#include "latency.h"

static uint64_t bucket_upper(unsigned b)
{
	if (b < JM_LAT_SUB)
		return b;
	unsigned shift = b / JM_LAT_SUB - 1;
	uint64_t sub = b % JM_LAT_SUB;
	return ((JM_LAT_SUB + sub + 1) << shift) - 1;
}

uint64_t jm_latency_quantile(const struct jm_latency *h, double q)
{
	if (!h->count)
		return 0;
	uint64_t rank = (uint64_t)(q * (double)(h->count - 1)) + 1;
	uint64_t seen = 0;
	for (unsigned b = 0; b < JM_LAT_BUCKETS; b++) {
		seen += h->bucket[b];
		if (seen >= rank) {
			uint64_t up = bucket_upper(b);
			return up > h->max ? h->max : up;
		}
	}
	return h->max;
}

void jm_latency_merge(struct jm_latency *into, const struct jm_latency *from)
{
	into->count += from->count;
	into->sum += from->sum;
	if (from->max > into->max)
		into->max = from->max;
	for (unsigned b = 0; b < JM_LAT_BUCKETS; b++)
		into->bucket[b] += from->bucket[b];
}
