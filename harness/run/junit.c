/* junit.c - JUnit XML for CI systems: one testcase per scenario run. */
#include <stdio.h>
#include <string.h>

#include "harness/run/runner.h"

static void
xml_escaped(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '&': fputs("&amp;", f); break;
		case '"': fputs("&quot;", f); break;
		default:
			if ((unsigned char)*s >= 0x20 || *s == '\n' || *s == '\t')
				fputc(*s, f);
		}
	}
}

int
junit_write(const char *path, const struct scenario *const *s,
	    const struct run_result *r, size_t n, struct err *e)
{
	FILE *f = fopen(path, "w");
	size_t i, failed = 0, skipped = 0;
	double total = 0;

	if (f == NULL)
		return err_set(e, 0, "create '%s': cannot open for writing", path);
	for (i = 0; i < n; i++) {
		failed += r[i].status == RUN_FAILED;
		skipped += r[i].status == RUN_SKIPPED;
		total += r[i].seconds;
	}
	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		   "<testsuite name=\"shardquake\" tests=\"%zu\" failures=\"%zu\" "
		   "skipped=\"%zu\" time=\"%.3f\">\n", n, failed, skipped, total);
	for (i = 0; i < n; i++) {
		fputs("  <testcase classname=\"shardquake.scenario\" name=\"", f);
		xml_escaped(f, s[i]->name);
		fprintf(f, "\" time=\"%.3f\"", r[i].seconds);
		if (r[i].status == RUN_PASSED) {
			fputs("/>\n", f);
			continue;
		}
		fputs(r[i].status == RUN_FAILED ? ">\n    <failure message=\"" : ">\n    <skipped message=\"", f);
		xml_escaped(f, r[i].reason);
		fputs("\"/>\n  </testcase>\n", f);
	}
	fputs("</testsuite>\n", f);
	if (fclose(f) != 0)
		return err_set(e, 0, "write '%s': failed", path);
	return 0;
}
