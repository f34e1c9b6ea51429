/* The unit test binary: every tests/unit/check_X.c suite. */
#include "tests/support/runner.h"

#define SUITE(name) Suite *name##_suite(void);
#include "unit_suites.h"
#undef SUITE

int
main(void)
{
	Suite *suites[] = {
#define SUITE(name) name##_suite(),
#include "unit_suites.h"
#undef SUITE
	};
	return runner_main("unit", suites, sizeof(suites) / sizeof(suites[0]));
}
