/* The integration test binary: every tests/integration/it_X.c suite,
 * each against real redis-server processes. */
#include <stdio.h>
#include <stdlib.h>

#include "common/fs.h"
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
	const char *top = getenv("TMPDIR");
	char tmp[4096];
	struct err e = ERR_INIT;
	int rc;

	/* Clusters without a directory of their own go to $TMPDIR: a private
	 * one, removed at the end, so that a test that fails (its nodes die
	 * with it) leaves no shardquake-* directory behind. */
	snprintf(tmp, sizeof(tmp), "%s/sq-it-XXXXXX", top && *top ? top : "/tmp");
	if (mkdtemp(tmp) == NULL || setenv("TMPDIR", tmp, 1) < 0) {
		perror("integration: private TMPDIR");
		return 2;
	}
	rc = runner_main("integration", suites, sizeof(suites) / sizeof(suites[0]));
	if (fs_rm_rf(tmp, &e) < 0)
		fprintf(stderr, "integration: %s\n", e.msg);
	return rc;
}
