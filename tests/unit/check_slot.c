/* Unit tests of cluster/slot.c: CRC16 and hash tags, as redis computes them. */
#include <string.h>

#include "cluster/slot.h"
#include "tests/support/runner.h"

START_TEST(test_crc16_xmodem_vector)
{
	ck_assert_uint_eq(crc16("123456789", 9), 0x31C3);
	ck_assert_uint_eq(crc16("", 0), 0);
}
END_TEST

/* The table-driven crc16 against the bit-by-bit definition, on every
 * byte value after every other. */
static uint16_t
crc16_bitwise(const unsigned char *p, size_t len)
{
	uint16_t crc = 0;
	size_t i;
	int b;

	for (i = 0; i < len; i++) {
		crc ^= (uint16_t)(p[i] << 8);
		for (b = 0; b < 8; b++)
			crc = (crc & 0x8000) ? (uint16_t)((crc << 1) ^ 0x1021)
					     : (uint16_t)(crc << 1);
	}
	return crc;
}

START_TEST(test_crc16_table_matches_bitwise_definition)
{
	unsigned char buf[2];
	int a, b;

	for (a = 0; a < 256; a++) {
		for (b = 0; b < 256; b++) {
			buf[0] = (unsigned char)a;
			buf[1] = (unsigned char)b;
			ck_assert_uint_eq(crc16(buf, 2), crc16_bitwise(buf, 2));
		}
	}
}
END_TEST

static const struct {
	const char *key;
	const char *hashed; /* what the slot must equal the slot of */
	int slot;           /* or a known slot, -1 when not given */
} rows[] = {
	{"foo", NULL, 12182},
	{"bar", NULL, 5061},
	{"{user1000}.following", "{user1000}.followers", -1},
	{"{user1000}.following", "user1000", -1},
	{"foo{}{bar}", NULL, -2},        /* empty tag: the whole key */
	{"foo{{bar}}zap", "{bar", -1},
	{"foo{bar}{zap}", "bar", -1},
	{"a{", NULL, -2},
	{"}{", NULL, -2},
	{"", NULL, 0},
};

START_TEST(test_key_slot_row)
{
	const char *k = rows[_i].key;
	unsigned got = key_slot(k, strlen(k));

	if (rows[_i].hashed)
		ck_assert_uint_eq(got, key_slot(rows[_i].hashed, strlen(rows[_i].hashed)));
	else if (rows[_i].slot == -2)
		ck_assert_uint_eq(got, crc16(k, strlen(k)) & 16383);
	else
		ck_assert_uint_eq(got, (unsigned)rows[_i].slot);
}
END_TEST

START_TEST(test_key_slot_binary_key_with_nul)
{
	const char k[] = {'{', 'a', '\0', 'b', '}', 'x'};

	ck_assert_uint_eq(key_slot(k, sizeof(k)), crc16(k + 1, 3) & 16383);
}
END_TEST

Suite *
slot_suite(void)
{
	Suite *s = suite_create("slot");
	TCase *tc = tcase_create("crc16");

	tcase_add_test(tc, test_crc16_xmodem_vector);
	tcase_add_test(tc, test_crc16_table_matches_bitwise_definition);
	tcase_add_loop_test(tc, test_key_slot_row, 0, (int)(sizeof(rows) / sizeof(rows[0])));
	tcase_add_test(tc, test_key_slot_binary_key_with_nul);
	suite_add_tcase(s, tc);
	return s;
}
