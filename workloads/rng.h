/* Deterministic PRNG (xoshiro256**, seeded with splitmix64): the same seed
 * gives the same workload on every machine and libc. */
#ifndef JITMM_RNG_H
#define JITMM_RNG_H

#include <stdint.h>

struct jm_rng {
	uint64_t s[4];
};

static inline uint64_t jm_splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static inline void jm_rng_seed(struct jm_rng *r, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		r->s[i] = jm_splitmix64(&seed);
}

static inline uint64_t jm_rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static inline uint64_t jm_rng_next(struct jm_rng *r)
{
	uint64_t *s = r->s;
	uint64_t result = jm_rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = jm_rotl(s[3], 45);
	return result;
}

/* uniform in [0, n) (n > 0), without modulo bias worth caring about here */
static inline uint64_t jm_rng_below(struct jm_rng *r, uint64_t n)
{
	return (uint64_t)(((unsigned __int128)jm_rng_next(r) * n) >> 64);
}

static inline double jm_rng_double(struct jm_rng *r)
{
	return (double)(jm_rng_next(r) >> 11) * 0x1.0p-53;
}

#endif
