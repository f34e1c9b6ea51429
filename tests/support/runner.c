/*
 * runner.c - Check runner with skips and a summary record.
 *
 * Check knows passed and failed only.  A skipped test writes its name and
 * reason to a file shared by all forked tests, then ends as a pass; the
 * runner moves those from "passed" to "skipped" and prints the reasons,
 * so a capability that is missing is never a silent pass.
 */
#include "tests/support/runner.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char skip_path[256];

void
test_skip(const char *fmt, ...)
{
	va_list ap;
	FILE *f;

	f = fopen(skip_path, "a");
	if (f) {
		va_start(ap, fmt);
		vfprintf(f, fmt, ap);
		va_end(ap);
		fputc('\n', f);
		fclose(f);
	}
	exit(0); /* Check counts a clean exit of a test process as a pass */
}

static int
report_skips(void)
{
	char line[512];
	FILE *f = fopen(skip_path, "r");
	int n = 0;

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		printf("SKIPPED: %s", line);
		n++;
	}
	fclose(f);
	unlink(skip_path);
	return n;
}

int
runner_main(const char *label, Suite **suites, size_t n)
{
	SRunner *sr = srunner_create(NULL);
	const char *summary = getenv("SQ_SUMMARY");
	int run, failed, skipped;
	size_t i;
	FILE *f;

	snprintf(skip_path, sizeof(skip_path), "/tmp/sq-skips-%d", (int)getpid());
	unlink(skip_path);
	for (i = 0; i < n; i++)
		srunner_add_suite(sr, suites[i]);
	srunner_run_all(sr, CK_ENV);
	run = srunner_ntests_run(sr);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	skipped = report_skips();
	printf("%s: %d passed, %d failed, %d skipped\n", label,
	       run - failed - skipped, failed, skipped);
	if (summary && (f = fopen(summary, "a")) != NULL) {
		fprintf(f, "%s %d %d %d\n", label, run - failed - skipped, failed,
			skipped);
		fclose(f);
	}
	return failed ? 1 : 0;
}
