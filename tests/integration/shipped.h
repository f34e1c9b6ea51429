/*
 * shipped.h - every shipped scenario that is not in the quick suite
 * (test_run_quick_suite_passes plays that one) still holds: each
 * [expect] of each file, as shipped.  Three suites share them out by
 * name (it_shipped_*.c) so that make check plays them side by side.
 */
#ifndef SQ_TESTS_SHIPPED_H
#define SQ_TESTS_SHIPPED_H

#include "tests/support/runner.h"

/* The scenario names of the source share and of the target share, as
 * grep -E patterns; the other share is every file neither matches. */
#define SHIPPED_SOURCE "^(kill-(source|master|replica)|dead-master|failover)-"
#define SHIPPED_TARGET "^kill-target-"

/* Plays the non-quick files of scenarios/ whose names `grep -E` (with -v
 * when `invert`) matches against every pattern given, NULL-ended; fails
 * the test, with each scenario's verdict, when one does not hold. */
void shipped_play(const char *label, int invert, ...);

/* The suite NAME_suite() of one share: one test, playing shipped_play(). */
#define SHIPPED_SUITE(name, ...)                                               \
	START_TEST(test_##name##_scenarios_hold)                               \
	{                                                                      \
		shipped_play(#name, __VA_ARGS__, NULL);                        \
	}                                                                      \
	END_TEST                                                               \
                                                                               \
	Suite *name##_suite(void)                                              \
	{                                                                      \
		Suite *s = suite_create(#name);                                \
		TCase *tc = tcase_create("shipped");                           \
                                                                               \
		tcase_set_timeout(tc, 600);                                    \
		tcase_add_test(tc, test_##name##_scenarios_hold);              \
		suite_add_tcase(s, tc);                                        \
		return s;                                                      \
	}

#endif
