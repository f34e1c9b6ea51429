/*
 * Integration tests of report.html: a real scenario with live writers
 * writes a page with the three slot maps and the traffic series (whose
 * buckets add up to the workload's totals) and an index.html linking
 * it; and the page, opened in a real headless Chromium (Debian's
 * `chromium`), loads with no error and gives a screenshot.  Without
 * Chromium the browser test is skipped, with the reason.
 */
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/fs.h"
#include "tests/support/itutil.h"
#include "tests/support/runner.h"

#define SCENARIO "live-kill-target-mid-slot"
#define CHROMIUM "/usr/bin/chromium" /* Debian's; SQ_CHROMIUM says another */

static const char *
bin(void)
{
	return getenv("SQ_BIN") ? getenv("SQ_BIN") : "build/shardquake";
}

/* Plays the live scenario into a new directory (dir, size n). */
static void
play(char *dir, size_t n)
{
	it_require_redis("report");
	it_mkdtemp(dir, n, "sq-it-report");
	ck_assert_int_eq(it_sh("%s run --results %s scenarios/" SCENARIO ".ini > %s/out 2>&1",
			       bin(), dir, dir), 0);
}

/* How many times `what` is in `text`. */
static int
count(const char *text, const char *what)
{
	int n = 0;

	while ((text = strstr(text, what)) != NULL) {
		n++;
		text += strlen(what);
	}
	return n;
}

/* The series' buckets add up to the workload's totals. */
static void
series_adds_up(const json_t *w)
{
	static const char *const keys[] = {"acknowledged", "failed", "unknown", "reads",
					   "reads_failed"};
	const json_t *buckets = json_object_get(json_object_get(w, "series"), "buckets"), *b;
	size_t i, k;

	ck_assert_uint_gt(json_array_size(buckets), 4);
	for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		long long sum = 0;

		json_array_foreach(buckets, i, b)
			sum += json_integer_value(json_object_get(b, keys[k]));
		ck_assert_msg(sum == json_integer_value(json_object_get(w, keys[k])),
			      "%s: buckets add up to %lld, the total is %lld", keys[k], sum,
			      (long long)json_integer_value(json_object_get(w, keys[k])));
	}
}

START_TEST(test_report_run_writes_page_with_maps_and_series)
{
	char dir[PATH_MAX], path[PATH_MAX + 64], *html, *index;
	json_t *rep, *maps;

	play(dir, sizeof(dir));
	rep = it_report(dir, SCENARIO);
	maps = json_object_get(rep, "slot_maps");
	ck_assert_uint_eq(json_array_size(maps), 3);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(maps, 0), "point")),
			 "before_fault");
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(maps, 2), "point")),
			 "after_repair");
	/* the fault left slot 3 open (migrating) on the source */
	ck_assert_uint_ge(json_array_size(json_object_get(json_array_get(maps, 1), "open")), 1);
	ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(maps, 2), "covered")),
			 16384);
	ck_assert_uint_ge(json_array_size(json_object_get(rep, "phases")), 6);
	series_adds_up(json_object_get(rep, "workload"));
	snprintf(path, sizeof(path), "%s/" SCENARIO "-*/report.html", dir);
	ck_assert_int_eq(it_sh("test -s %s", path), 0);
	ck_assert_int_eq(it_sh("cp %s %s/page.html", path, dir), 0);
	snprintf(path, sizeof(path), "%s/page.html", dir);
	html = fs_read_file(path, NULL, NULL);
	ck_assert_ptr_nonnull(html);
	ck_assert_int_eq(count(html, "aria-label=\"slot map\""), 3);
	ck_assert_ptr_nonnull(strstr(html, "before the fault"));
	ck_assert_ptr_nonnull(strstr(html, "after the fault"));
	ck_assert_ptr_nonnull(strstr(html, "after the repair"));
	ck_assert_ptr_nonnull(strstr(html, "Commands per second"));
	ck_assert_ptr_nonnull(strstr(html, "Latency of acknowledged writes"));
	ck_assert_ptr_nonnull(strstr(html, "fault: kill target"));
	ck_assert_ptr_null(strstr(html, "http://"));
	ck_assert_ptr_null(strstr(html, "https://"));
	ck_assert_ptr_null(strstr(html, "<script"));
	/* the index links the run by a relative path */
	snprintf(path, sizeof(path), "%s/index.html", dir);
	index = fs_read_file(path, NULL, NULL);
	ck_assert_ptr_nonnull(index);
	ck_assert_ptr_nonnull(strstr(index, "href=\"" SCENARIO "-"));
	free(index);
	free(html);
	json_decref(rep);
	it_sh("rm -rf %s", dir);
}
END_TEST

/* PNG signature, then IHDR's width and height. */
static void
png_size(const char *path, unsigned *w, unsigned *h, long *bytes)
{
	unsigned char head[24];
	FILE *f = fopen(path, "rb");

	ck_assert_msg(f != NULL, "no screenshot at %s", path);
	ck_assert_uint_eq(fread(head, 1, sizeof(head), f), sizeof(head));
	fseek(f, 0, SEEK_END);
	*bytes = ftell(f);
	fclose(f);
	ck_assert_msg(memcmp(head, "\x89PNG\r\n\x1a\n", 8) == 0, "%s is not a PNG", path);
	*w = (unsigned)head[16] << 24 | (unsigned)head[17] << 16 | (unsigned)head[18] << 8 | head[19];
	*h = (unsigned)head[20] << 24 | (unsigned)head[21] << 16 | (unsigned)head[22] << 8 | head[23];
}

/* Flags that keep Chromium off the network and out of the user's files:
 * a fresh profile, no background traffic, no sandbox (root in CI). */
#define CHROMIUM_FLAGS                                                                    \
	"--headless --no-sandbox --disable-gpu --disable-quic --no-first-run "             \
	"--disable-background-networking --disable-component-update --disable-sync "       \
	"--disable-default-apps --disable-extensions --metrics-recording-only "            \
	"--enable-logging=stderr --v=0"

START_TEST(test_report_page_loads_in_headless_chromium)
{
	const char *chromium = getenv("SQ_CHROMIUM") ? getenv("SQ_CHROMIUM") : CHROMIUM;
	char dir[PATH_MAX], png[PATH_MAX + 16];
	unsigned w, h;
	long bytes;

	if (access(chromium, X_OK) != 0)
		test_skip("report: chromium not installed (sh ci/deps.sh --with-browser)");
	play(dir, sizeof(dir));
	ck_assert_int_eq(it_sh("cp %s/" SCENARIO "-*/report.html %s/page.html", dir, dir), 0);
	ck_assert_int_eq(it_sh("timeout 90 %s " CHROMIUM_FLAGS " --user-data-dir=%s/profile "
			       "--screenshot=%s/shot.png --window-size=1280,2000 --hide-scrollbars "
			       "file://%s/page.html > %s/shot.log 2>&1", chromium, dir, dir, dir, dir),
			 0);
	ck_assert_int_eq(it_sh("timeout 90 %s " CHROMIUM_FLAGS " --user-data-dir=%s/profile "
			       "--dump-dom file://%s/page.html > %s/dom.html 2> %s/dom.log",
			       chromium, dir, dir, dir, dir), 0);
	snprintf(png, sizeof(png), "%s/shot.png", dir);
	png_size(png, &w, &h, &bytes);
	ck_assert_uint_eq(w, 1280);
	ck_assert_uint_eq(h, 2000);
	/* a blank page of that size compresses to a few kB; charts do not */
	ck_assert_msg(bytes > 40000, "the screenshot is %ld bytes: a blank page?", bytes);
	/* the page as the browser built it: all of it parsed, sections there */
	ck_assert_int_eq(it_sh("grep -q 'id=\"events\"' %s/dom.html && "
			       "test $(grep -o 'aria-label=\"slot map\"' %s/dom.html | wc -l) -eq 3",
			       dir, dir), 0);
	/* no console message, no resource that failed or was even asked for */
	ck_assert_msg(it_sh("grep -E 'CONSOLE|Uncaught|net::ERR_|Failed to load|Not allowed to "
			    "load' %s/shot.log %s/dom.log", dir, dir) != 0,
		      "chromium reported an error loading the page (see %s/*.log)", dir);
	it_sh("rm -rf %s", dir);
}
END_TEST

Suite *
report_suite(void)
{
	Suite *s = suite_create("report");
	TCase *tc = tcase_create("report");

	tcase_set_timeout(tc, 240);
	tcase_add_test(tc, test_report_run_writes_page_with_maps_and_series);
	tcase_add_test(tc, test_report_page_loads_in_headless_chromium);
	suite_add_tcase(s, tc);
	return s;
}
