/*
 * Unit tests of the ledger's words: key names, the values that say
 * which write they were, and the error classes clients meet.  Reading a
 * ledger back needs a cluster: tests/integration/it_repair_live.c.
 */
#include <string.h>

#include "tests/support/runner.h"
#include "verifier/ledger.h"

START_TEST(test_names_and_values_are_unique_per_write)
{
	struct ledger l;
	char a[64], b[64];

	ledger_init(&l, 10, "sqlive:", "run7");
	ck_assert_uint_eq(l.n, 10);
	ledger_key_name(&l, 3, a, sizeof(a));
	ck_assert_str_eq(a, "sqlive:3");
	ledger_value(&l, 3, 12, a, sizeof(a));
	ck_assert_str_eq(a, "run7:3:12");
	ledger_value(&l, 31, 2, b, sizeof(b));
	ck_assert_str_ne(a, b);
	ck_assert_int_eq(l.v[9].acked, 0);
	ck_assert_int_eq(l.v[9].tried, 0);
	ledger_release(&l);
	ck_assert_ptr_null(l.v);
}
END_TEST

/* The later of two values of a key, by their write numbers; nothing
 * said of values, or keys, the ledger did not write. */
START_TEST(test_order_of_two_values)
{
	struct ledger l;
	char k[32], a[64], b[64];

	ledger_init(&l, 20, "sqlive:", "run7");
	ledger_key_name(&l, 12, k, sizeof(k));
	ledger_value(&l, 12, 9, a, sizeof(a));
	ledger_value(&l, 12, 10, b, sizeof(b));
	ck_assert_int_eq(ledger_order(&l, k, strlen(k), b, strlen(b), a, strlen(a)), 1);
	ck_assert_int_eq(ledger_order(&l, k, strlen(k), a, strlen(a), b, strlen(b)), -1);
	ck_assert_int_eq(ledger_order(&l, k, strlen(k), a, strlen(a), a, strlen(a)), 0);
	/* another run's tag, another key's value, not a value at all */
	ck_assert_int_eq(ledger_order(&l, k, strlen(k), "run8:12:99", 10, a, strlen(a)), 0);
	ck_assert_int_eq(ledger_order(&l, k, strlen(k), "run7:13:99", 10, a, strlen(a)), 0);
	ck_assert_int_eq(ledger_order(&l, k, strlen(k), "x", 1, a, strlen(a)), 0);
	ck_assert_int_eq(ledger_order(&l, k, strlen(k), "run7:12:99x", 11, a, strlen(a)), 0);
	/* keys that are not the ledger's: another prefix, out of range,
	 * not a number, a leading zero */
	ck_assert_int_eq(ledger_order(&l, "other:12", 8, b, strlen(b), a, strlen(a)), 0);
	ledger_value(&l, 0, 2, a, sizeof(a));
	ledger_value(&l, 0, 1, b, sizeof(b));
	ck_assert_int_eq(ledger_order(&l, "sqlive:0", 8, a, strlen(a), b, strlen(b)), 1);
	ck_assert_int_eq(ledger_order(&l, "sqlive:00", 9, a, strlen(a), b, strlen(b)), 0);
	ck_assert_int_eq(ledger_order(&l, "sqlive:20", 9, a, strlen(a), b, strlen(b)), 0);
	ck_assert_int_eq(ledger_order(&l, "sqlive:1x", 9, a, strlen(a), b, strlen(b)), 0);
	ck_assert_int_eq(ledger_order(&l, "sqlive:", 7, a, strlen(a), b, strlen(b)), 0);
	ledger_release(&l);
}
END_TEST

START_TEST(test_error_classes)
{
	ck_assert_int_eq(ledger_error_class("CLUSTERDOWN The cluster is down"), LE_CLUSTERDOWN);
	ck_assert_int_eq(ledger_error_class("MOVED 3999 127.0.0.1:7002"), LE_MOVED);
	ck_assert_int_eq(ledger_error_class("ASK 3999 127.0.0.1:7002"), LE_MOVED);
	ck_assert_int_eq(ledger_error_class("TRYAGAIN Multiple keys"), LE_TRYAGAIN);
	ck_assert_int_eq(ledger_error_class("OOM command not allowed"), LE_OOM);
	ck_assert_int_eq(ledger_error_class("MISCONF Errors writing to the AOF file"),
			 LE_MISCONF);
	ck_assert_int_eq(ledger_error_class("OOMPH"), LE_OTHER);
	ck_assert_int_eq(ledger_error_class("ERR unknown command"), LE_OTHER);
	ck_assert_str_eq(ledger_error_name(LE_UNREACHABLE), "unreachable");
	ck_assert_str_eq(ledger_error_name(LE_COUNT_), "?");
}
END_TEST

Suite *
ledger_suite(void)
{
	Suite *s = suite_create("ledger");
	TCase *tc = tcase_create("words");

	tcase_add_test(tc, test_names_and_values_are_unique_per_write);
	tcase_add_test(tc, test_order_of_two_values);
	tcase_add_test(tc, test_error_classes);
	suite_add_tcase(s, tc);
	return s;
}
