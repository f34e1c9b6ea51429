/*
 * runner.h - what every test binary shares: running Check suites, and
 * skipping a test that cannot run on this machine with the reason.
 */
#ifndef SQ_TESTS_RUNNER_H
#define SQ_TESTS_RUNNER_H

#include <check.h>
#include <stddef.h>

/* Runs the suites (CK_ENV: CK_RUN_SUITE, CK_RUN_CASE, CK_VERBOSITY work)
 * and appends "LABEL PASSED FAILED SKIPPED" to $SQ_SUMMARY when set.
 * Returns the process exit status: 0 when nothing failed. */
int runner_main(const char *label, Suite **suites, size_t n);

/* Marks the running test as skipped with `why` and ends it (it is not
 * counted as passed).  Works from inside Check's forked test process. */
void test_skip(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
