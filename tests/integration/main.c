/* The integration test binary: every tests/integration/it_X.c suite,
 * each against real redis-server processes. */
#include "tests/support/runner.h"

#define SUITE(name) Suite *name##_suite(void);
#include "it_suites.h"
#undef SUITE

int
main(void)
{
	Suite *suites[] = {
#define SUITE(name) name##_suite(),
#include "it_suites.h"
#undef SUITE
	};
	return runner_main("integration", suites,
			   sizeof(suites) / sizeof(suites[0]));
}
