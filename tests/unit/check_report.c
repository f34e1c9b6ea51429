/*
 * Unit tests of the report pages (harness/report/report.h) drawn from
 * hand-built JSON: the elements are balanced and nothing is fetched from
 * anywhere, hostile strings stay text, every slot map covers the 16384
 * slots, and a report missing whole sections (no workload, no repair, a
 * run that stopped early, nothing at all) still gives a page.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "common/utf8.h"
#include "harness/report/report.h"
#include "tests/support/runner.h"

/* The elements open and close in order (void ones and <x/> aside):
 * "" when they do, else what went wrong. */
static const char *
balanced(const char *html)
{
	static const char *const voids[] = {"meta", "br", "hr", "img", "input", "link", "wbr"};
	static char why[160];
	char stack[64][24], name[24];
	const char *p = html;
	int depth = 0;
	size_t i, n;

	while ((p = strchr(p, '<')) != NULL) {
		bool closing = p[1] == '/';
		const char *end = strchr(p, '>');

		if (end == NULL)
			return "a '<' without '>'";
		if (p[1] == '!') {
			p = end + 1;
			continue;
		}
		n = strcspn(p + 1 + closing, " \t\n/>");
		if (n == 0 || n >= sizeof(name))
			return "a '<' that starts no element: not escaped";
		memcpy(name, p + 1 + closing, n);
		name[n] = '\0';
		if (closing) {
			if (depth == 0 || strcmp(stack[depth - 1], name) != 0) {
				snprintf(why, sizeof(why), "</%s> closes <%s>", name,
					 depth ? stack[depth - 1] : "nothing");
				return why;
			}
			depth--;
		} else if (end[-1] != '/') {
			for (i = 0; i < sizeof(voids) / sizeof(voids[0]); i++)
				if (strcmp(voids[i], name) == 0)
					break;
			if (i == sizeof(voids) / sizeof(voids[0])) {
				if (depth == 64)
					return "nested too deep";
				snprintf(stack[depth++], sizeof(stack[0]), "%s", name);
			}
		}
		p = end + 1;
	}
	if (depth) {
		snprintf(why, sizeof(why), "<%s> never closed", stack[depth - 1]);
		return why;
	}
	return "";
}

/* True when the text at p is inside a tag (after a '<' not yet closed). */
static bool
in_tag(const char *html, const char *p)
{
	while (p > html && *p != '>' && *p != '<')
		p--;
	return *p == '<';
}

/* Nothing that would fetch: no element of those that load, no URL with
 * a scheme, src or @import in a tag or the style (as escaped text in
 * the page they are harmless, and a key name may well hold them). */
static void
assert_self_contained(const char *html)
{
	static const char *const tags[] = {"<link", "<script", "<iframe", "<object", "<img",
					   "<embed", "<image", "<use"};
	static const char *const attrs[] = {"http://", "https://", "src=", "url(http", "//"};
	const char *style_end = strstr(html, "</style>"), *p;
	size_t i;

	for (i = 0; i < sizeof(tags) / sizeof(tags[0]); i++)
		ck_assert_msg(strstr(html, tags[i]) == NULL, "the page has '%s'", tags[i]);
	ck_assert_msg(strstr(html, "@import") == NULL, "the page has '@import'");
	for (i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++)
		for (p = html; (p = strstr(p, attrs[i])) != NULL; p++)
			ck_assert_msg(!in_tag(html, p) && (style_end == NULL || p > style_end),
				      "the page has '%s' in a tag or its style: %.60s", attrs[i], p);
	ck_assert_msg(utf8_valid(html), "the page is not well-formed UTF-8");
	ck_assert_msg(strcmp(balanced(html), "") == 0, "%s", balanced(html));
}

static json_t *
slot_map(const char *point, bool broken)
{
	json_t *m = json_pack(
		"{s:s, s:s, s:i, s:s, s:i, s:[{s:s, s:s, s:b, s:s}, {s:s, s:s, s:b, s:s}, "
		"{s:s, s:s, s:b, s:s}], s:[], s:[], s:[]}",
		"point", point, "label", point, "ms", 2300, "from", "127.0.0.1:7000", "covered",
		broken ? 16384 - 5461 : 16384, "nodes", "id", "aaaa1111", "addr", "127.0.0.1:7000",
		"reachable", true, "flags", "master", "id", "bbbb2222", "addr", "127.0.0.1:7001",
		"reachable", !broken, "flags", broken ? "master,fail" : "master", "id", "cccc3333",
		"addr", "127.0.0.1:7002", "reachable", true, "flags", "master", "owners",
		"uncovered", "open");
	json_t *own = json_object_get(m, "owners");

	json_array_append_new(own, json_pack("{s:i, s:i, s:i}", "first", 0, "last", 5460, "node", 0));
	if (broken) {
		json_array_append_new(json_object_get(m, "uncovered"),
				      json_pack("{s:i, s:i}", "first", 5461, "last", 10921));
		json_array_append_new(json_object_get(m, "open"),
				      json_pack("{s:i, s:s, s:i, s:i}", "slot", 2, "state",
						"migrating", "node", 0, "peer", 1));
	} else {
		json_array_append_new(own, json_pack("{s:i, s:i, s:i}", "first", 5461, "last",
						     10921, "node", 1));
	}
	json_array_append_new(own, json_pack("{s:i, s:i, s:i}", "first", 10922, "last", 16383,
					     "node", 2));
	return m;
}

/* A whole report, as a run that went to the end writes it. */
static json_t *
full_report(void)
{
	json_t *r = json_pack(
		"{s:{s:s, s:s, s:s}, s:i, s:s, s:s, s:s, s:f, "
		"s:[{s:s, s:i, s:i}, {s:s, s:i, s:i}, {s:s, s:i, s:i}, {s:s, s:i, s:i}], "
		"s:[{s:s, s:s, s:s, s:i, s:b, s:s, s:i, s:{s:i, s:i, s:s, s:i, s:i}}], "
		"s:{s:i, s:b, s:i, s:i, s:s}, "
		"s:{s:s, s:b, s:s, s:{s:[{s:[{s:s, s:s, s:b}]}], s:{s:i, s:i}}}, "
		"s:{s:b, s:i, s:i, s:i, s:{s:b, s:i, s:[s]}}, "
		"s:[{s:s, s:s, s:s, s:b}, {s:s, s:s, s:s, s:n}], "
		"s:[{s:f, s:s}]}",
		"scenario", "name", "kill-target", "description", "a test", "file", "x.ini", "seed",
		7, "redis", "Redis 7.0", "result", "passed", "reason", "", "seconds", 6.5, "phases",
		"name", "cluster", "from_ms", 0, "to_ms", 2000, "name", "reshard", "from_ms", 2000,
		"to_ms", 2300, "name", "repair", "from_ms", 3500, "to_ms", 5600, "name", "verify",
		"from_ms", 5600, "to_ms", 6400, "faults", "name", "fault", "kind", "kill", "target",
		"target", "port", 7001, "fired", true, "effect", "killed", "ms", 2305, "at", "slot",
		2, "slot_index", 3, "step", "keys", "slot_moved", 2, "slot_keys", 4, "reshard",
		"slots", 5, "completed", false, "slots_done", 2, "keys_moved", 18, "error", "stopped",
		"repair", "engine", "shardquake", "healthy", true, "summary", "healthy", "detail",
		"rounds", "actions", "action", "cover", "reason", "slots 5461-10921", "data_loss",
		false, "result", "keys_salvaged", 33966, "forgotten", 1, "verdict", "healthy", true,
		"findings", 0, "nodes", 2, "reachable", 2, "lost_keys", "checked", true, "count", 0,
		"examples", "sq:1", "expectations", "name", "healthy", "expected", "yes", "actual",
		"yes", "passed", true, "name", "lost_keys", "expected", "0", "actual", "not checked",
		"passed", "timeline", "ms", 1.5, "event", "scenario kill-target");
	json_t *maps = json_array(), *w, *b = json_array();
	int i;

	json_array_append_new(maps, slot_map("before_fault", false));
	json_array_append_new(maps, slot_map("after_fault", true));
	json_array_append_new(maps, slot_map("after_repair", false));
	json_object_set_new(r, "slot_maps", maps);
	for (i = 8; i < 26; i++)
		json_array_append_new(
			b, json_pack("{s:i, s:i, s:i, s:i, s:i, s:i, s:{s:i}, s:{s:i, s:i, s:i, s:i}}",
				     "ms", i * 250, "acknowledged", i > 10 && i < 15 ? 100 : 3000,
				     "failed", 0, "unknown", i > 10 && i < 15 ? 500 : 0, "reads",
				     700, "reads_failed", 0, "errors", "unreachable",
				     i > 10 && i < 15 ? 500 : 0, "latency_us", "mean", 150, "p50",
				     95, "p99", 767, "max", i == 12 ? 130000 : 3000));
	w = json_pack("{s:i, s:i, s:i, s:i, s:i, s:{s:i}, s:[{s:i, s:i, s:i, s:i, s:i, s:i, "
		      "s:b}], s:{s:i, s:o}}",
		      "writers", 4, "keys", 2000, "acknowledged", 40000, "unknown", 2000,
		      "writes_lost", 0, "errors", "unreachable", 2000, "unavailable", "first_slot",
		      5479, "last_slot", 10909, "slots_seen", 668, "from_ms", 2306, "to_ms", 5929,
		      "ms", 3623, "open", false, "series", "bucket_ms", 250, "buckets", b);
	json_object_set_new(r, "workload", w);
	return r;
}

START_TEST(test_report_full_page_is_balanced_and_self_contained)
{
	json_t *r = full_report();
	char *html;

	ck_assert_ptr_nonnull(r);
	html = report_html(r);
	assert_self_contained(html);
	ck_assert_ptr_nonnull(strstr(html, "<!DOCTYPE html>"));
	ck_assert_ptr_nonnull(strstr(html, "<style>"));
	ck_assert_ptr_nonnull(strstr(html, "id=\"timeline\""));
	ck_assert_ptr_nonnull(strstr(html, "Commands per second"));
	ck_assert_ptr_nonnull(strstr(html, "Latency of acknowledged writes"));
	ck_assert_ptr_nonnull(strstr(html, "unreachable (2000)"));
	ck_assert_ptr_nonnull(strstr(html, "slots 5479-10909"));
	ck_assert_ptr_nonnull(strstr(html, "fault: kill target"));
	ck_assert_ptr_nonnull(strstr(html, "slot 2 migrating"));
	ck_assert_ptr_nonnull(strstr(html, "keys_salvaged"));
	ck_assert_ptr_nonnull(strstr(html, "st-unchecked"));
	free(html);
	json_decref(r);
}
END_TEST

/* Slots each strip accounts for: its owner and nobody's ranges, from
 * their titles ("slots A-B: ..."). */
START_TEST(test_report_every_slot_map_covers_16384_slots)
{
	json_t *r = full_report();
	char *html = report_html(r);
	const char *p = html, *end;
	int maps = 0;

	while ((p = strstr(p, "aria-label=\"slot map\"")) != NULL) {
		long long slots = 0, a, z;
		const char *t = p;

		end = strstr(p, "</svg>");
		ck_assert_ptr_nonnull(end);
		while ((t = strstr(t, "<title>slots ")) != NULL && t < end) {
			ck_assert_int_eq(sscanf(t, "<title>slots %lld-%lld", &a, &z), 2);
			/* an uncovered range is drawn once as an outline */
			slots += z - a + 1;
			t++;
		}
		ck_assert_int_eq(slots, 16384);
		maps++;
		p = end;
	}
	ck_assert_int_eq(maps, 3);
	free(html);
	json_decref(r);
}
END_TEST

START_TEST(test_report_hostile_strings_stay_text)
{
	json_t *r = full_report();
	char bad[] = "k\xff\xfe<\x01>";
	char *html;

	json_object_set_new(json_object_get(r, "scenario"), "name",
			    json_string("<script>alert(1)</script>"));
	json_object_set_new(r, "reason", json_string("a & b \"quoted\" 'single' </p><img src=x>"));
	json_object_set_new(r, "redis", json_stringn_nocheck(bad, sizeof(bad) - 1));
	json_array_append_new(json_object_get(json_object_get(json_object_get(r, "verdict"),
							      "lost_keys"), "examples"),
			      json_string("</code></td></tr></table><script>x</script>"));
	html = report_html(r);
	assert_self_contained(html);
	ck_assert_ptr_nonnull(strstr(html, "&lt;script&gt;alert(1)&lt;/script&gt;"));
	ck_assert_ptr_nonnull(strstr(html, "a &amp; b &quot;quoted&quot; &#39;single&#39; "
					   "&lt;/p&gt;&lt;img src=x&gt;"));
	ck_assert_ptr_nonnull(strstr(html, "k\xef\xbf\xbd\xef\xbf\xbd&lt;\xef\xbf\xbd&gt;"));
	free(html);
	json_decref(r);
}
END_TEST

/* What a run that stopped early, a scenario without workload or repair,
 * and an empty object give: a page, each missing section said. */
START_TEST(test_report_missing_sections_still_render)
{
	json_t *early = json_pack("{s:{s:s}, s:s, s:s, s:[{s:s, s:i, s:i}]}", "scenario", "name",
				  "x", "result", "failed", "reason", "cluster up: no port",
				  "phases", "name", "cluster", "from_ms", 0, "to_ms", 10);
	json_t *none = json_object(), *bare = full_report();
	char *html;

	json_object_del(bare, "workload");
	json_object_del(bare, "repair");
	json_object_set_new(json_array_get(json_object_get(bare, "slot_maps"), 1), "error",
			    json_string("no node runs"));
	html = report_html(early);
	assert_self_contained(html);
	ck_assert_ptr_nonnull(strstr(html, "No live traffic"));
	ck_assert_ptr_nonnull(strstr(html, "No slot map was taken"));
	ck_assert_ptr_nonnull(strstr(html, "The verifier did not run"));
	ck_assert_ptr_nonnull(strstr(html, "cluster up: no port"));
	free(html);
	html = report_html(none);
	assert_self_contained(html);
	free(html);
	html = report_html(bare);
	assert_self_contained(html);
	ck_assert_ptr_nonnull(strstr(html, "No repair ran"));
	ck_assert_ptr_nonnull(strstr(html, "no map: no node runs"));
	free(html);
	json_decref(early);
	json_decref(none);
	json_decref(bare);
}
END_TEST

START_TEST(test_report_index_links_runs_and_colours_the_matrix)
{
	json_t *idx = json_pack(
		"{s:i, s:i, s:i, s:f, s:[{s:s, s:s, s:s, s:f, s:s}, {s:s, s:s, s:s, s:f, s:s}], "
		"s:{s:[s, s], s:[{s:s, s:[{s:s, s:s, s:s, s:s}, n]}]}}",
		"passed", 1, "failed", 1, "skipped", 0, "seconds", 12.5, "scenarios", "name",
		"kill-keys-target", "status", "passed", "reason", "", "seconds", 6.0, "results",
		"/r/m/job-1/kill-keys-target-1", "name", "kill-<b>", "status", "failed", "reason",
		"expected lost_keys = 0, got 3", "seconds", 6.5, "results", "/elsewhere/run 2#x",
		"matrix", "steps", "keys", "importing", "rows", "label", "kill / target", "cells",
		"name", "kill-keys-target", "status", "lost", "reason", "lost_keys 3", "results",
		"/r/m/job-1/kill-keys-target-1");
	char *html = report_index_html(idx, "/r/m/");

	assert_self_contained(html);
	ck_assert_ptr_nonnull(strstr(html, "href=\"job-1/kill-keys-target-1/report.html\""));
	ck_assert_ptr_nonnull(strstr(html, "href=\"/elsewhere/run%202%23x/report.html\""));
	ck_assert_ptr_nonnull(strstr(html, "kill-&lt;b&gt;"));
	ck_assert_ptr_nonnull(strstr(html, "background:#6a1b9a"));
	ck_assert_ptr_nonnull(strstr(html, "<td></td>"));
	free(html);
	json_decref(idx);
}
END_TEST

Suite *
report_suite(void)
{
	Suite *s = suite_create("report");
	TCase *tc = tcase_create("report");

	tcase_add_test(tc, test_report_full_page_is_balanced_and_self_contained);
	tcase_add_test(tc, test_report_every_slot_map_covers_16384_slots);
	tcase_add_test(tc, test_report_hostile_strings_stay_text);
	tcase_add_test(tc, test_report_missing_sections_still_render);
	tcase_add_test(tc, test_report_index_links_runs_and_colours_the_matrix);
	suite_add_tcase(s, tc);
	return s;
}
