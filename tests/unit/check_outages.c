/*
 * Unit tests of how the workload's per-slot outages become the ranges a
 * report shows: merged per slot, grouped when they failed together.
 */
#include <stdlib.h>

#include "harness/workload/outages.h"
#include "tests/support/runner.h"

START_TEST(test_outages_of_one_failure_are_one_range)
{
	struct outage v[] = {
		{.slot = 7000, .from_ms = 1000, .to_ms = 3000},
		{.slot = 5500, .from_ms = 1100, .to_ms = 3050},
		{.slot = 9000, .from_ms = 1200, .to_ms = 2900},
		{.slot = 5500, .from_ms = 3100, .to_ms = 3200}, /* the same, resumed */
		{.slot = 100, .from_ms = 8000, .to_ms = 8500},  /* later, elsewhere */
		{.slot = 12000, .from_ms = 1000, .to_ms = 9000, .open = true},
	};
	struct outages o = {.v = v, .n = sizeof(v) / sizeof(v[0])};
	struct outage_range *r;
	size_t n = outages_group(&o, 500, &r);

	ck_assert_uint_eq(n, 3);
	ck_assert_int_eq(r[0].first, 5500);
	ck_assert_int_eq(r[0].last, 9000);
	ck_assert_int_eq(r[0].nslots, 3);
	ck_assert_uint_eq(r[0].from_ms, 1000);
	ck_assert_uint_eq(r[0].to_ms, 3200);
	ck_assert(!r[0].open);
	ck_assert_int_eq(r[1].first, 12000);
	ck_assert(r[1].open);
	ck_assert_int_eq(r[2].first, 100);
	ck_assert_int_eq(r[2].nslots, 1);
	free(r);
}
END_TEST

START_TEST(test_no_outage_no_range)
{
	struct outages o = {0};
	struct outage_range *r;

	ck_assert_uint_eq(outages_group(&o, 500, &r), 0);
	free(r);
}
END_TEST

Suite *
outages_suite(void)
{
	Suite *s = suite_create("outages");
	TCase *tc = tcase_create("group");

	tcase_add_test(tc, test_outages_of_one_failure_are_one_range);
	tcase_add_test(tc, test_no_outage_no_range);
	suite_add_tcase(s, tc);
	return s;
}
