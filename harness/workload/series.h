/*
 * series.h - the live traffic over time: per time bucket, how many
 * writes were acknowledged, failed or of unknown outcome, how many reads
 * (all of them, as the ledger counts them) and how many of those failed,
 * the error classes clients met, and the latency of
 * acknowledged writes (mean, max, and p50/p99 from a histogram).
 *
 * Each writer thread fills a series of its own (series_note() takes no
 * lock and allocates only when the run goes into a new bucket); when the
 * writers stop, their series are added into one (series_merge()).  A
 * command counts in the bucket in which it started, so the buckets of a
 * finished series add up to the ledger's totals.  Pure: unit-tested
 * without a cluster.
 */
#ifndef SQ_HARNESS_WORKLOAD_SERIES_H
#define SQ_HARNESS_WORKLOAD_SERIES_H

#include <stddef.h>
#include <stdint.h>

#include "verifier/ledger.h"

#define SERIES_BUCKET_MS 250
/* Latency histogram: two bins per power of two of microseconds, up to
 * 2^32 us (71 minutes); a percentile is its bin's upper bound. */
#define SERIES_HIST_BINS 64

enum series_op {
	SERIES_ACKED,        /* a write answered OK */
	SERIES_FAILED,       /* a write answered with an error: nothing written */
	SERIES_UNKNOWN,      /* a write with no answer: it may have landed */
	SERIES_READ,         /* a read answered */
	SERIES_READ_FAILED,  /* a read not answered, or an error: counts in reads too */
};

struct series_bucket {
	uint32_t acked, failed, unknown, reads, reads_failed;
	uint32_t errors[LE_COUNT_];     /* enum ledger_error */
	uint64_t lat_sum_us;            /* acknowledged writes */
	uint32_t lat_max_us;
	uint32_t hist[SERIES_HIST_BINS];
};

/* Buckets of bucket_ms each, bucket i from t0_us + i * bucket_ms; a
 * caller-owned struct: SERIES_INIT, then series_release(). */
struct series {
	uint64_t t0_us;
	unsigned bucket_ms;
	struct series_bucket *v;
	size_t n, cap;
};

#define SERIES_INIT(t0) {(t0), SERIES_BUCKET_MS, NULL, 0, 0}

/* One command that started at start_us and took took_us; `cls` its
 * error class (enum ledger_error) or -1 when it was answered.  A command
 * from before t0_us counts in bucket 0. */
void series_note(struct series *s, uint64_t start_us, uint64_t took_us, enum series_op op,
		 int cls);
/* Adds every bucket of `from` into `into` (same t0 and width). */
void series_merge(struct series *into, const struct series *from);
/* Merges pairs of neighbouring buckets until there are at most `max`
 * (each doubling bucket_ms): a long run's report stays small. */
void series_coarsen(struct series *s, size_t max);
/* Percentile p (0..100) of a bucket's acknowledged-write latency, in
 * microseconds; 0 when there is none. */
uint32_t series_percentile_us(const struct series_bucket *b, double p);
void series_release(struct series *s);

#endif
