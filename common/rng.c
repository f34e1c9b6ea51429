/* rng.c - splitmix64; see rng.h. */
#include "common/rng.h"

uint64_t
rng_mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

void
rng_init(struct rng *r, uint64_t seed)
{
	r->state = seed;
}

uint64_t
rng_next(struct rng *r)
{
	r->state += 0x9e3779b97f4a7c15ull;
	return rng_mix(r->state);
}

uint64_t
rng_below(struct rng *r, uint64_t n)
{
	uint64_t limit = -n % n; /* rejection threshold for an unbiased result */
	uint64_t x;

	do
		x = rng_next(r);
	while (x < limit);
	return x % n;
}
