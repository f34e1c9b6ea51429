/* Unit tests of the injector table and the kinds' parameter parsing. */
#include <string.h>

#include "injectors/injector.h"
#include "tests/support/runner.h"

START_TEST(test_injector_table_names_unique_and_complete)
{
	const struct injector_ops *const *a, *const *b;

	for (a = injector_table; *a; a++) {
		ck_assert_ptr_nonnull((*a)->name);
		ck_assert_ptr_nonnull((*a)->parse);
		ck_assert_ptr_nonnull((*a)->inject);
		ck_assert_ptr_eq(injector_find((*a)->name), *a);
		for (b = a + 1; *b; b++)
			ck_assert_str_ne((*a)->name, (*b)->name);
	}
	ck_assert_ptr_null(injector_find("nope"));
}
END_TEST

START_TEST(test_kill_grace_needs_term)
{
	struct param p[] = {{"grace_ms", "100", 4}};
	struct params ps = {p, 1};
	struct err e = ERR_INIT;

	ck_assert_ptr_null(fault_new(injector_find("kill"), &ps, &e));
	ck_assert_str_eq(e.msg, "line 4: grace_ms goes with signal = TERM only");
}
END_TEST

START_TEST(test_kill_bad_signal_names_line)
{
	struct param p[] = {{"signal", "HUP", 7}};
	struct params ps = {p, 1};
	struct err e = ERR_INIT;

	ck_assert_ptr_null(fault_new(injector_find("kill"), &ps, &e));
	ck_assert_str_eq(e.msg, "line 7: signal = 'HUP': expected KILL or TERM");
}
END_TEST

START_TEST(test_pause_parses_duration)
{
	struct param p[] = {{"duration_ms", "2s", 3}};
	struct params ps = {p, 1};
	struct err e = ERR_INIT;
	struct fault *f = fault_new(injector_find("pause"), &ps, &e);

	ck_assert_msg(f != NULL, "%s", e.msg);
	fault_free(f); /* revert of a fault never injected: a no-op */
}
END_TEST

Suite *
injector_suite(void)
{
	Suite *s = suite_create("injector");
	TCase *tc = tcase_create("table");

	tcase_add_test(tc, test_injector_table_names_unique_and_complete);
	tcase_add_test(tc, test_kill_grace_needs_term);
	tcase_add_test(tc, test_kill_bad_signal_names_line);
	tcase_add_test(tc, test_pause_parses_duration);
	suite_add_tcase(s, tc);
	return s;
}
