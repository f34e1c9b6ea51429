/* The integration test binary: every tests/integration/it_X.c suite,
 * each against real redis-server processes.  SQ_SUITES="a b" plays only
 * those suites, SQ_SKIP_SUITES="a b" all but those (ci/check.sh plays
 * several suites at once: they mostly wait on servers); CK_RUN_SUITE
 * still picks one. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fs.h"
#include "tests/support/runner.h"

#define SUITE(name) Suite *name##_suite(void);
#include "it_suites.h"
#undef SUITE

/* True when the word `name` is in the space-separated list. */
static bool
listed(const char *list, const char *name)
{
	size_t n = strlen(name);
	const char *p;

	for (p = list; (p = strstr(p, name)) != NULL; p += n)
		if ((p == list || p[-1] == ' ') && (p[n] == '\0' || p[n] == ' '))
			return true;
	return false;
}

int
main(void)
{
	static const char *const names[] = {
#define SUITE(name) #name,
#include "it_suites.h"
#undef SUITE
	};
	Suite *(*const make[])(void) = {
#define SUITE(name) name##_suite,
#include "it_suites.h"
#undef SUITE
	};
	Suite *suites[sizeof(names) / sizeof(names[0])];
	const char *only = getenv("SQ_SUITES"), *skip = getenv("SQ_SKIP_SUITES");
	size_t i, n = 0;
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
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if ((!only || listed(only, names[i])) && (!skip || !listed(skip, names[i])))
			suites[n++] = make[i]();
	rc = runner_main("integration", suites, n);
	if (fs_rm_rf(tmp, &e) < 0)
		fprintf(stderr, "integration: %s\n", e.msg);
	return rc;
}
