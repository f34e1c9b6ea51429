/*
 * run_page.c - report.html of one run (report.h): a header with the
 * result and the verdict, then the charts (charts.c), the slot maps
 * (slotstrip.c), and tables of the reshard, the faults, the repair, the
 * verdict's checks, the expectations and the whole timeline.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fs.h"
#include "harness/report/html.h"
#include "harness/report/report.h"

#define EXAMPLES_SHOWN 5

static void
header(struct buf *b, const json_t *r)
{
	const json_t *sc = json_object_get(r, "scenario"), *v = json_object_get(r, "verdict");
	const char *result = jstr(r, "result");

	buf_adds(b, "<header>\n<h1>");
	html_esc(b, jstr(sc, "name")[0] ? jstr(sc, "name") : "shardquake run");
	buf_adds(b, " ");
	html_badge(b, result[0] ? result : "unknown");
	if (v) {
		buf_adds(b, " ");
		html_badge(b, jbool(v, "healthy") ? "healthy" : "unhealthy");
	}
	html_wrap(b, "</h1>\n<p>", jstr(sc, "description"), "</p>\n<p class=\"meta\">");
	html_escf(b, "seed %lld", jint(r, "seed"));
	buf_adds(b, " \xc2\xb7 ");
	if (json_object_get(r, "seconds")) {
		html_duration(b, jnum(r, "seconds") * 1000);
		buf_adds(b, " \xc2\xb7 ");
	}
	html_esc(b, jstr(r, "redis"));
	buf_adds(b, " \xc2\xb7 ");
	html_esc(b, jstr(sc, "file"));
	if (v)
		buf_addf(b, " \xc2\xb7 verdict: <b>%lld</b> finding%s", jint(v, "findings"),
			 jint(v, "findings") == 1 ? "" : "s");
	buf_adds(b, "</p>\n");
	if (jstr(r, "reason")[0]) {
		html_wrap(b, "<p class=\"reason\">", jstr(r, "reason"), "</p>\n");
	}
	buf_adds(b, "</header>\n");
}

/* The integer members of `o` as tiles (those that are 0 left out when
 * skip_zero). */
static void
tiles(struct buf *b, const json_t *o, bool skip_zero)
{
	const char *key;
	const json_t *v;

	buf_adds(b, "<div class=\"grid\">");
	json_object_foreach((json_t *)o, key, v) {
		if (!json_is_integer(v) || (skip_zero && json_integer_value(v) == 0))
			continue;
		buf_addf(b, "<div class=\"kv\"><b>%lld</b><span>", (long long)json_integer_value(v));
		html_esc(b, key);
		buf_adds(b, "</span></div>");
	}
	buf_adds(b, "</div>\n");
}

static void
td(struct buf *b, const char *text)
{
	html_wrap(b, "<td>", text, "</td>");
}

static void
section_faults(struct buf *b, const json_t *r)
{
	const json_t *rs = json_object_get(r, "reshard"), *faults = json_object_get(r, "faults");
	const json_t *f, *at;
	size_t i;

	buf_adds(b, "<section id=\"faults\">\n<h2>Reshard and faults</h2>\n");
	if (rs) {
		buf_adds(b, "<p>");
		buf_addf(b, "Reshard of <b>%lld</b> slots: ", jint(rs, "slots"));
		if (jbool(rs, "completed"))
			buf_addf(b, "completed, %lld keys moved.", jint(rs, "keys_moved"));
		else
			buf_addf(b, "stopped after %lld slots, %lld keys moved.",
				 jint(rs, "slots_done"), jint(rs, "keys_moved"));
		if (jint(rs, "keys_unknown"))
			buf_addf(b, " %lld keys of unknown outcome.", jint(rs, "keys_unknown"));
		buf_adds(b, "</p>\n");
		if (jstr(rs, "error")[0]) {
			html_wrap(b, "<p><code>", jstr(rs, "error"), "</code></p>\n");
		}
	} else {
		buf_adds(b, "<p class=\"note\">No reshard was recorded.</p>\n");
	}
	if (json_array_size(faults) == 0) {
		buf_adds(b, "<p class=\"note\">No fault.</p>\n</section>\n");
		return;
	}
	buf_adds(b, "<table><tr><th>fault</th><th>kind</th><th>target</th><th>fired at</th>"
		    "<th>time</th><th>what it did</th></tr>\n");
	json_array_foreach(faults, i, f) {
		char where[160] = "did not fire";

		at = json_object_get(f, "at");
		if (jbool(f, "fired") && at)
			snprintf(where, sizeof(where), "slot %lld (%lld of plan), step %s, %lld/%lld keys",
				 jint(at, "slot"), jint(at, "slot_index"), jstr(at, "step"),
				 jint(at, "slot_moved"), jint(at, "slot_keys"));
		else if (jbool(f, "fired"))
			snprintf(where, sizeof(where), "fired");
		buf_addf(b, "<tr%s>", jbool(f, "fired") ? "" : " class=\"bad\"");
		td(b, jstr(f, "name"));
		td(b, jstr(f, "kind"));
		buf_adds(b, "<td>");
		html_escf(b, "%s (port %lld)", jstr(f, "target"), jint(f, "port"));
		buf_adds(b, "</td>");
		td(b, where);
		buf_adds(b, "<td class=\"num\">");
		if (jbool(f, "fired"))
			html_duration(b, jnum(f, "ms"));
		buf_adds(b, "</td>");
		td(b, jstr(f, "effect"));
		buf_adds(b, "</tr>\n");
	}
	buf_adds(b, "</table>\n</section>\n");
}

static void
actions(struct buf *b, const json_t *round, size_t k)
{
	const json_t *acts = json_object_get(round, "actions"), *a;
	size_t i;

	if (json_array_size(acts) == 0)
		return;
	buf_addf(b, "<h3>Round %zu: %zu action%s</h3>\n<table><tr><th>#</th><th>action</th>"
		    "<th>why</th><th>data loss</th></tr>\n", k + 1, json_array_size(acts),
		 json_array_size(acts) == 1 ? "" : "s");
	json_array_foreach(acts, i, a) {
		buf_addf(b, "<tr%s><td class=\"num\">%zu</td>",
			 jbool(a, "data_loss") ? " class=\"bad\"" : "", i + 1);
		td(b, jstr(a, "action"));
		td(b, jstr(a, "reason"));
		td(b, jbool(a, "data_loss") ? "yes" : "no");
		buf_adds(b, "</tr>\n");
	}
	buf_adds(b, "</table>\n");
}

static void
section_repair(struct buf *b, const json_t *r)
{
	const json_t *rep = json_object_get(r, "repair"), *detail, *round;
	size_t i;

	buf_adds(b, "<section id=\"repair\">\n<h2>Repair</h2>\n");
	if (rep == NULL) {
		buf_adds(b, "<p class=\"note\">No repair ran (the scenario has none, or the run "
			    "stopped before it).</p>\n</section>\n");
		return;
	}
	html_wrap(b, "<p>Engine <b>", jstr(rep, "engine"), "</b> ");
	html_badge(b, jbool(rep, "healthy") ? "healthy" : "unhealthy");
	html_wrap(b, "</p>\n<p class=\"meta\">", jstr(rep, "summary"), "</p>\n");
	detail = json_object_get(rep, "detail");
	json_array_foreach(json_object_get(detail, "rounds"), i, round)
		actions(b, round, i);
	if (json_object_get(detail, "result")) {
		buf_adds(b, "<h3>What it did (counts that are not zero)</h3>\n");
		tiles(b, json_object_get(detail, "result"), true);
	}
	buf_adds(b, "</section>\n");
}

static void
section_verdict(struct buf *b, const json_t *r)
{
	const json_t *v = json_object_get(r, "verdict"), *c, *ex;
	const char *key;
	size_t i;

	buf_adds(b, "<section id=\"verdict\">\n<h2>Verdict</h2>\n");
	if (v == NULL) {
		buf_adds(b, "<p class=\"note\">The verifier did not run: the run stopped before "
			    "it.</p>\n</section>\n");
		return;
	}
	buf_adds(b, "<p>");
	html_badge(b, jbool(v, "healthy") ? "healthy" : "unhealthy");
	buf_addf(b, " <b>%lld</b> finding%s; %lld of %lld nodes reachable; %lld keys expected, "
		    "%lld scanned.</p>\n", jint(v, "findings"), jint(v, "findings") == 1 ? "" : "s",
		 jint(v, "reachable"), jint(v, "nodes"), jint(v, "keys_expected"),
		 jint(v, "keys_scanned"));
	buf_adds(b, "<table><tr><th>check</th><th class=\"num\">count</th>"
		    "<th>first examples</th></tr>\n");
	json_object_foreach((json_t *)v, key, c) {
		if (!json_is_object(c))
			continue;
		buf_addf(b, "<tr%s>", jint(c, "count") ? " class=\"bad\"" : "");
		td(b, key);
		if (!jbool(c, "checked"))
			buf_adds(b, "<td class=\"num\">not checked</td>");
		else
			buf_addf(b, "<td class=\"num\">%lld</td>", jint(c, "count"));
		buf_adds(b, "<td>");
		json_array_foreach(json_object_get(c, "examples"), i, ex) {
			if (i == EXAMPLES_SHOWN) {
				buf_addf(b, " \xe2\x80\xa6 %zu more in report.json",
					 json_array_size(json_object_get(c, "examples")) - i);
				break;
			}
			html_wrap(b, "<code>", json_is_string(ex) ? json_string_value(ex) : "?",
				  "</code> ");
		}
		buf_adds(b, "</td></tr>\n");
	}
	buf_adds(b, "</table>\n</section>\n");
}

static void
section_expectations(struct buf *b, const json_t *r)
{
	const json_t *ex = json_object_get(r, "expectations"), *e;
	size_t i;

	buf_adds(b, "<section id=\"expectations\">\n<h2>Expectations</h2>\n");
	if (json_array_size(ex) == 0) {
		buf_adds(b, "<p class=\"note\">None recorded.</p>\n</section>\n");
		return;
	}
	buf_adds(b, "<table><tr><th>what</th><th>expected</th><th>got</th><th></th></tr>\n");
	json_array_foreach(ex, i, e) {
		bool checked = json_object_get(e, "passed") && !json_is_null(json_object_get(e, "passed"));

		buf_addf(b, "<tr%s>", checked && !jbool(e, "passed") ? " class=\"bad\"" : "");
		td(b, jstr(e, "name"));
		td(b, jstr(e, "expected"));
		td(b, jstr(e, "actual"));
		buf_adds(b, "<td>");
		html_badge(b, !checked ? "unchecked" : jbool(e, "passed") ? "ok" : "fail");
		buf_adds(b, "</td></tr>\n");
	}
	buf_adds(b, "</table>\n</section>\n");
}

static void
section_events(struct buf *b, const json_t *r)
{
	const json_t *tl = json_object_get(r, "timeline"), *ev;
	size_t i;

	buf_addf(b, "<section id=\"events\">\n<details><summary>Every event (%zu)</summary>\n<pre>",
		 json_array_size(tl));
	json_array_foreach(tl, i, ev) {
		html_escf(b, "%10.3f ", jnum(ev, "ms"));
		html_esc(b, jstr(ev, "event"));
		buf_adds(b, "\n");
	}
	buf_adds(b, "</pre>\n</details>\n</section>\n");
}

/* The run's length: its seconds, else the last thing it recorded. */
static double
end_ms(const json_t *r)
{
	const json_t *tl = json_object_get(r, "timeline"), *p;
	double end = jnum(r, "seconds") * 1000;
	size_t i;

	if (json_array_size(tl) && jnum(json_array_get(tl, json_array_size(tl) - 1), "ms") > end)
		end = jnum(json_array_get(tl, json_array_size(tl) - 1), "ms");
	json_array_foreach(json_object_get(r, "phases"), i, p)
		if (jnum(p, "to_ms") > end)
			end = jnum(p, "to_ms");
	return end > 0 ? end : 1000;
}

char *
report_html(const json_t *r)
{
	struct buf b = BUF_INIT;
	struct axis a = {.end_ms = end_ms(r), .x0 = 110, .w = 960};
	char title[512];

	snprintf(title, sizeof(title), "%s: %s", jstr(json_object_get(r, "scenario"), "name"),
		 jstr(r, "result"));
	html_page_open(&b, title);
	header(&b, r);
	section_timeline(&b, r, &a);
	section_traffic(&b, r, &a);
	section_unavailable(&b, r, &a);
	section_slot_maps(&b, r);
	section_faults(&b, r);
	section_repair(&b, r);
	section_verdict(&b, r);
	section_expectations(&b, r);
	section_events(&b, r);
	html_page_close(&b);
	return buf_detach(&b);
}

int
report_html_write(const json_t *report, const char *path, struct err *e)
{
	char *html = report_html(report);
	int rc = fs_write_file(path, html, strlen(html), e);

	free(html);
	return rc;
}
