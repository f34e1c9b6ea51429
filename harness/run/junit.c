/*
 * junit.c - JUnit XML for CI systems: one testcase per scenario run.
 *
 * A failed run's <failure> says why it failed (the run's reason), then
 * every expectation that failed and every finding of the verifier's
 * verdict, as a CI page shows them without opening report.json: in the
 * message, joined with "; ", and in the element's text, one a line.
 * They are read from the run's report.json, written just before, which
 * is the run's record; a run without one (its directory could not be
 * made) says its reason alone.
 */
#include <jansson.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "common/buf.h"
#include "harness/run/runner.h"

#define EXAMPLES_MAX 3 /* per finding class, in the message */

/* `s` as XML text; in an attribute (`attr`) a newline is kept as a
 * character reference, which parsers would otherwise turn into a space. */
static void
xml_escaped(FILE *f, const char *s, bool attr)
{
	for (; *s; s++) {
		switch (*s) {
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '&': fputs("&amp;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\n': fputs(attr ? "&#10;" : "\n", f); break;
		default:
			if ((unsigned char)*s >= 0x20 || *s == '\t')
				fputc(*s, f);
		}
	}
}

static const char *
str(const json_t *j)
{
	return json_is_string(j) ? json_string_value(j) : "?";
}

/* "expected healthy = yes, got no" for each expectation that failed
 * (not those left unchecked) but the one that is the run's reason
 * already, each with `sep` before it. */
static void
failed_expectations(struct buf *b, const json_t *report, const char *reason,
		    const char *sep)
{
	const json_t *x;
	char one[1024];
	size_t i;

	json_array_foreach(json_object_get(report, "expectations"), i, x) {
		if (!json_is_false(json_object_get(x, "passed")))
			continue;
		snprintf(one, sizeof(one), "expected %s = %s, got %s",
			 str(json_object_get(x, "name")), str(json_object_get(x, "expected")),
			 str(json_object_get(x, "actual")));
		if (strcmp(one, reason) != 0)
			buf_addf(b, "%s%s", sep, one);
	}
}

/* "lost_keys 12 (sq:5, sq:9, sq:20, ...)" for each finding class with
 * a count, each with `sep` before it; up to `max` examples each. */
static void
findings(struct buf *b, const json_t *report, const char *sep, size_t max)
{
	const json_t *v = json_object_get(report, "verdict"), *f, *ex;
	const char *name;
	size_t i;

	json_object_foreach((json_t *)v, name, f) {
		if (!json_is_object(f) || json_integer_value(json_object_get(f, "count")) <= 0)
			continue;
		buf_addf(b, "%s%s %lld", sep, name,
			 (long long)json_integer_value(json_object_get(f, "count")));
		json_array_foreach(json_object_get(f, "examples"), i, ex) {
			if (i == max) {
				buf_adds(b, ", ...");
				break;
			}
			buf_addf(b, "%s%s", i ? ", " : " (", str(ex));
		}
		if (json_array_size(json_object_get(f, "examples")) > 0)
			buf_adds(b, ")");
	}
}

/* The <failure> of one failed run: message, then the same at length. */
static void
failure(FILE *f, const struct run_result *r)
{
	char path[PATH_MAX + 16];
	struct buf msg = BUF_INIT, text = BUF_INIT;
	json_t *report = NULL;

	buf_adds(&msg, r->reason);
	if (r->dir[0]) {
		snprintf(path, sizeof(path), "%s/report.json", r->dir);
		report = json_load_file(path, 0, NULL);
	}
	if (report) {
		failed_expectations(&msg, report, r->reason, "; ");
		findings(&msg, report, "; finding: ", EXAMPLES_MAX);
		buf_adds(&text, r->reason);
		failed_expectations(&text, report, r->reason, "\n");
		findings(&text, report, "\nfinding: ", (size_t)-1);
		json_decref(report);
	}
	fputs("    <failure message=\"", f);
	xml_escaped(f, buf_str(&msg), true);
	fputs("\">", f);
	xml_escaped(f, buf_str(&text), false);
	fputs("</failure>\n", f);
	buf_release(&msg);
	buf_release(&text);
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
		xml_escaped(f, s[i]->name, true);
		/* the same suite on two servers: names that differ */
		if (r[i].server[0] && strcmp(r[i].server, "redis") != 0) {
			fputs(" [", f);
			xml_escaped(f, r[i].server, true);
			fputc(']', f);
		}
		fprintf(f, "\" time=\"%.3f\"", r[i].seconds);
		if (r[i].status == RUN_PASSED) {
			fputs("/>\n", f);
			continue;
		}
		fputs(">\n", f);
		if (r[i].status == RUN_FAILED) {
			failure(f, &r[i]);
		} else {
			fputs("    <skipped message=\"", f);
			xml_escaped(f, r[i].reason, true);
			fputs("\"/>\n", f);
		}
		fputs("  </testcase>\n", f);
	}
	fputs("</testsuite>\n", f);
	if (fclose(f) != 0)
		return err_set(e, 0, "write '%s': failed", path);
	return 0;
}
