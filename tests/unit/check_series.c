/*
 * Unit tests of the live traffic's time buckets (harness/workload/
 * series.h): every command in the bucket it started in, the threads'
 * series merged and coarsened without losing a count, percentiles from
 * the latency histogram.
 */
#include "harness/workload/series.h"
#include "tests/support/runner.h"

/* The counts of every bucket added up. */
static struct series_bucket
total(const struct series *s)
{
	struct series_bucket t = {0};
	size_t i;
	int k;

	for (i = 0; i < s->n; i++) {
		t.acked += s->v[i].acked;
		t.failed += s->v[i].failed;
		t.unknown += s->v[i].unknown;
		t.reads += s->v[i].reads;
		t.reads_failed += s->v[i].reads_failed;
		for (k = 0; k < LE_COUNT_; k++)
			t.errors[k] += s->v[i].errors[k];
	}
	return t;
}

START_TEST(test_series_counts_in_the_bucket_the_command_started)
{
	struct series s = SERIES_INIT(1000000);

	series_note(&s, 1000000 + 10000, 300, SERIES_ACKED, -1);   /* bucket 0 */
	series_note(&s, 1000000 + 260000, 900, SERIES_ACKED, -1);  /* bucket 1 */
	series_note(&s, 1000000 + 260000, 0, SERIES_UNKNOWN, LE_UNREACHABLE);
	series_note(&s, 1000000 + 1100000, 0, SERIES_READ_FAILED, LE_CLUSTERDOWN); /* 4 */
	series_note(&s, 5, 100, SERIES_FAILED, LE_MOVED); /* before t0: bucket 0 */
	ck_assert_uint_eq(s.n, 5);
	ck_assert_uint_eq(s.v[0].acked, 1);
	ck_assert_uint_eq(s.v[0].failed, 1);
	ck_assert_uint_eq(s.v[0].errors[LE_MOVED], 1);
	ck_assert_uint_eq(s.v[1].acked, 1);
	ck_assert_uint_eq(s.v[1].unknown, 1);
	ck_assert_uint_eq(s.v[1].errors[LE_UNREACHABLE], 1);
	ck_assert_uint_eq(s.v[1].lat_max_us, 900);
	ck_assert_uint_eq(s.v[2].acked + s.v[3].acked, 0);
	/* a failed read is a read, as the ledger counts it */
	ck_assert_uint_eq(s.v[4].reads, 1);
	ck_assert_uint_eq(s.v[4].reads_failed, 1);
	series_release(&s);
}
END_TEST

START_TEST(test_series_merged_and_coarsened_add_up_to_the_totals)
{
	struct series a = SERIES_INIT(0), b = SERIES_INIT(0), all = SERIES_INIT(0);
	struct series_bucket t;
	uint64_t us;
	int i;

	for (i = 0, us = 0; i < 5000; i++, us += 997) {
		series_note(&a, us, 100 + (uint64_t)i, SERIES_ACKED, -1);
		if (i % 7 == 0)
			series_note(&b, us * 2, 0, SERIES_UNKNOWN, LE_UNREACHABLE);
		if (i % 5 == 0)
			series_note(&b, us, 50, SERIES_READ, -1);
	}
	series_merge(&all, &a);
	series_merge(&all, &b);
	ck_assert_uint_eq(all.n, b.n > a.n ? b.n : a.n);
	series_coarsen(&all, 7);
	ck_assert_uint_le(all.n, 7);
	ck_assert_uint_eq(all.bucket_ms % SERIES_BUCKET_MS, 0);
	ck_assert_uint_gt(all.bucket_ms, SERIES_BUCKET_MS);
	t = total(&all);
	ck_assert_uint_eq(t.acked, 5000);
	ck_assert_uint_eq(t.unknown, (5000 + 6) / 7);
	ck_assert_uint_eq(t.errors[LE_UNREACHABLE], (5000 + 6) / 7);
	ck_assert_uint_eq(t.reads, 1000);
	series_release(&a);
	series_release(&b);
	series_release(&all);
}
END_TEST

START_TEST(test_series_percentiles_within_a_bin_of_the_truth)
{
	struct series s = SERIES_INIT(0);
	uint32_t p50, p99;
	int i;

	/* 1..1000 us: p50 near 500, p99 near 990, both at most the max */
	for (i = 1; i <= 1000; i++)
		series_note(&s, 0, (uint64_t)i, SERIES_ACKED, -1);
	p50 = series_percentile_us(&s.v[0], 50);
	p99 = series_percentile_us(&s.v[0], 99);
	ck_assert_uint_ge(p50, 500);
	ck_assert_uint_le(p50, 767);
	ck_assert_uint_ge(p99, 990);
	ck_assert_uint_le(p99, 1000);
	ck_assert_uint_eq(s.v[0].lat_max_us, 1000);
	ck_assert_uint_eq(s.v[0].lat_sum_us, 500500);
	series_release(&s);
}
END_TEST

START_TEST(test_series_no_acknowledged_write_no_latency)
{
	struct series s = SERIES_INIT(0);

	series_note(&s, 0, 10, SERIES_FAILED, LE_OTHER);
	ck_assert_uint_eq(series_percentile_us(&s.v[0], 99), 0);
	series_coarsen(&s, 1);
	ck_assert_uint_eq(s.n, 1);
	series_release(&s);
}
END_TEST

Suite *
series_suite(void)
{
	Suite *s = suite_create("series");
	TCase *tc = tcase_create("series");

	tcase_add_test(tc, test_series_counts_in_the_bucket_the_command_started);
	tcase_add_test(tc, test_series_merged_and_coarsened_add_up_to_the_totals);
	tcase_add_test(tc, test_series_percentiles_within_a_bin_of_the_truth);
	tcase_add_test(tc, test_series_no_acknowledged_write_no_latency);
	suite_add_tcase(s, tc);
	return s;
}
