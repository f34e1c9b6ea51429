/*
 * rng.h - the seeded random generator and the pure mixing function.
 *
 * Everything random in a run (dataset values, fault timings, key choices)
 * comes from a seed, so that a run can be replayed exactly.  rng_mix() is
 * a pure function of its input (splitmix64's finaliser): the dataset uses
 * it to derive a value from (seed, index) without storing anything.
 */
#ifndef SQ_COMMON_RNG_H
#define SQ_COMMON_RNG_H

#include <stdint.h>

struct rng {
	uint64_t state;
};

/* A well-mixed 64-bit function of `x`; the same input, the same output. */
uint64_t rng_mix(uint64_t x);

void rng_init(struct rng *r, uint64_t seed);
uint64_t rng_next(struct rng *r);
/* A value in [0, n); n must not be 0. */
uint64_t rng_below(struct rng *r, uint64_t n);

#endif
