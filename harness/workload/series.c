/* series.c - the live traffic in time buckets; see series.h. */
#include "harness/workload/series.h"

#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"

/* Bin of a latency: 2*k for [2^k, 1.5*2^k) us, 2*k+1 for [1.5*2^k, 2^(k+1)). */
static unsigned
bin_of(uint64_t us)
{
	unsigned k = 0;

	if (us < 1)
		return 0;
	while (k < 31 && (us >> (k + 1)) != 0)
		k++;
	if (k == 0)
		return 0;
	return 2 * k + (((us >> (k - 1)) & 1) ? 1 : 0);
}

/* The highest latency bin i holds. */
static uint32_t
bin_top(unsigned i)
{
	unsigned k = i / 2;
	uint64_t top = i % 2 ? (2ull << k) - 1 : (3ull << k) / 2 - 1;

	if (k == 0)
		return 1;
	return top > UINT32_MAX ? UINT32_MAX : (uint32_t)top;
}

static struct series_bucket *
bucket(struct series *s, size_t i)
{
	if (i >= s->n) {
		xgrow(&s->v, &s->cap, i + 1, sizeof(*s->v));
		memset(s->v + s->n, 0, (i + 1 - s->n) * sizeof(*s->v));
		s->n = i + 1;
	}
	return &s->v[i];
}

void
series_note(struct series *s, uint64_t start_us, uint64_t took_us, enum series_op op, int cls)
{
	uint64_t since = start_us > s->t0_us ? start_us - s->t0_us : 0;
	struct series_bucket *b = bucket(s, (size_t)(since / 1000 / s->bucket_ms));

	if (cls >= 0 && cls < LE_COUNT_)
		b->errors[cls]++;
	switch (op) {
	case SERIES_ACKED:
		b->acked++;
		b->lat_sum_us += took_us;
		if (took_us > b->lat_max_us)
			b->lat_max_us = took_us > UINT32_MAX ? UINT32_MAX : (uint32_t)took_us;
		b->hist[bin_of(took_us)]++;
		break;
	case SERIES_FAILED: b->failed++; break;
	case SERIES_UNKNOWN: b->unknown++; break;
	case SERIES_READ: b->reads++; break;
	case SERIES_READ_FAILED:
		b->reads++;
		b->reads_failed++;
		break;
	}
}

/* Adds bucket b into a. */
static void
add(struct series_bucket *a, const struct series_bucket *b)
{
	int k;

	a->acked += b->acked;
	a->failed += b->failed;
	a->unknown += b->unknown;
	a->reads += b->reads;
	a->reads_failed += b->reads_failed;
	for (k = 0; k < LE_COUNT_; k++)
		a->errors[k] += b->errors[k];
	a->lat_sum_us += b->lat_sum_us;
	if (b->lat_max_us > a->lat_max_us)
		a->lat_max_us = b->lat_max_us;
	for (k = 0; k < SERIES_HIST_BINS; k++)
		a->hist[k] += b->hist[k];
}

void
series_merge(struct series *into, const struct series *from)
{
	size_t i;

	if (from->n)
		bucket(into, from->n - 1);
	for (i = 0; i < from->n; i++)
		add(&into->v[i], &from->v[i]);
}

void
series_coarsen(struct series *s, size_t max)
{
	size_t i;

	while (max > 0 && s->n > max) {
		for (i = 0; i < s->n; i += 2) {
			s->v[i / 2] = s->v[i];
			if (i + 1 < s->n)
				add(&s->v[i / 2], &s->v[i + 1]);
		}
		s->n = (s->n + 1) / 2;
		s->bucket_ms *= 2;
	}
}

uint32_t
series_percentile_us(const struct series_bucket *b, double p)
{
	uint64_t want, seen = 0;
	unsigned i;

	if (b->acked == 0)
		return 0;
	want = (uint64_t)((double)b->acked * p / 100.0 + 0.999999);
	if (want < 1)
		want = 1;
	for (i = 0; i < SERIES_HIST_BINS; i++) {
		seen += b->hist[i];
		if (seen >= want)
			return bin_top(i) < b->lat_max_us ? bin_top(i) : b->lat_max_us;
	}
	return b->lat_max_us;
}

void
series_release(struct series *s)
{
	free(s->v);
	s->v = NULL;
	s->n = s->cap = 0;
}
