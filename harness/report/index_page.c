/*
 * index_page.c - index.html of a suite or a matrix (report.h): the
 * counts, every run linked to its report.html with its result, time and
 * reason, and for a matrix its cells as a coloured table.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fs.h"
#include "common/xmalloc.h"
#include "harness/report/html.h"
#include "harness/report/report.h"

/* The link to a run's report.html: relative to base when under it. */
static void
href(struct buf *b, const char *results, const char *base)
{
	size_t n = strlen(base);

	while (n > 1 && base[n - 1] == '/')
		n--;
	if (strncmp(results, base, n) == 0 && results[n] == '/')
		results += n + 1;
	/* a name with '#' or '?' would end the path: spell them */
	for (; *results; results++)
		if (*results == '#' || *results == '?' || *results == '%' || *results == ' ')
			buf_addf(b, "%%%02X", (unsigned char)*results);
		else
			html_esc(b, (char[2]){*results, '\0'});
	buf_adds(b, "/report.html");
}

/* `text` linked to the run's report.html, or alone when there is no run. */
static void
run_link(struct buf *b, const char *results, const char *base, const char *text)
{
	if (results[0] == '\0') {
		html_esc(b, text);
		return;
	}
	buf_adds(b, "<a href=\"");
	href(b, results, base);
	buf_adds(b, "\">");
	html_esc(b, text);
	buf_adds(b, "</a>");
}

static const char *
cell_colour(const char *status)
{
	if (strcmp(status, "ok") == 0)
		return "#2e7d32";
	if (strcmp(status, "lost") == 0)
		return "#6a1b9a";
	if (strcmp(status, "fail") == 0)
		return "#c62828";
	if (strcmp(status, "skip") == 0)
		return "#8d96a8";
	return "#c8ced8";
}

static void
matrix(struct buf *b, const json_t *m, const char *base)
{
	const json_t *steps = json_object_get(m, "steps"), *rows = json_object_get(m, "rows");
	const json_t *s, *row, *c;
	size_t i, k;

	buf_adds(b, "<section id=\"matrix\">\n<h2>Matrix</h2>\n<p class=\"meta\">Rows: fault "
		    "kind / role of the node it hits; columns: the protocol step it fires at. ");
	html_badge(b, "ok");
	buf_adds(b, " healthy, nothing lost ");
	html_badge(b, "lost");
	buf_adds(b, " keys lost ");
	html_badge(b, "fail");
	buf_adds(b, " another expectation ");
	html_badge(b, "skip");
	buf_adds(b, " this machine cannot do the fault</p>\n<table><tr><th>kind / role</th>");
	json_array_foreach(steps, i, s) {
		html_wrap(b, "<th>", json_string_value(s), "</th>");
	}
	buf_adds(b, "</tr>\n");
	json_array_foreach(rows, i, row) {
		html_wrap(b, "<tr><td>", jstr(row, "label"), "</td>");
		json_array_foreach(json_object_get(row, "cells"), k, c) {
			if (!json_is_object(c)) {
				buf_adds(b, "<td></td>");
				continue;
			}
			buf_addf(b, "<td class=\"cell\" style=\"background:%s\" title=\"",
				 cell_colour(jstr(c, "status")));
			html_esc(b, jstr(c, "name"));
			if (jstr(c, "reason")[0])
				buf_adds(b, ": ");
			html_esc(b, jstr(c, "reason"));
			buf_adds(b, "\">");
			run_link(b, jstr(c, "results"), base, jstr(c, "status"));
			buf_adds(b, "</td>");
		}
		buf_adds(b, "</tr>\n");
	}
	buf_adds(b, "</table>\n</section>\n");
}

static void
runs(struct buf *b, const json_t *index, const char *base)
{
	const json_t *all = json_object_get(index, "scenarios"), *s;
	size_t i;

	buf_adds(b, "<section id=\"runs\">\n<h2>Runs</h2>\n");
	if (json_array_size(all) == 0) {
		buf_adds(b, "<p class=\"note\">No run.</p>\n</section>\n");
		return;
	}
	buf_adds(b, "<table><tr><th>scenario</th><th>result</th><th>time</th><th>reason</th>"
		    "</tr>\n");
	json_array_foreach(all, i, s) {
		buf_addf(b, "<tr%s><td>", strcmp(jstr(s, "status"), "failed") == 0 ? " class=\"bad\""
										  : "");
		run_link(b, jstr(s, "results"), base, jstr(s, "name"));
		buf_adds(b, "</td><td>");
		html_badge(b, jstr(s, "status"));
		buf_adds(b, "</td><td class=\"num\">");
		html_duration(b, jnum(s, "seconds") * 1000);
		buf_adds(b, "</td><td>");
		html_esc(b, jstr(s, "reason"));
		buf_adds(b, "</td></tr>\n");
	}
	buf_adds(b, "</table>\n</section>\n");
}

char *
report_index_html(const json_t *index, const char *base)
{
	struct buf b = BUF_INIT;
	const char *title = jstr(index, "title")[0] ? jstr(index, "title") : "shardquake runs";

	html_page_open(&b, title);
	buf_adds(&b, "<header>\n<h1>");
	html_esc(&b, title);
	buf_adds(&b, " ");
	html_badge(&b, jint(index, "failed") ? "failed" : "passed");
	buf_addf(&b, "</h1>\n<p class=\"meta\"><b>%lld</b> passed, <b>%lld</b> failed, <b>%lld</b> "
		     "skipped \xc2\xb7 ", jint(index, "passed"), jint(index, "failed"),
		 jint(index, "skipped"));
	html_duration(&b, jnum(index, "seconds") * 1000);
	buf_adds(&b, " in all</p>\n</header>\n");
	if (json_object_get(index, "matrix"))
		matrix(&b, json_object_get(index, "matrix"), base);
	runs(&b, index, base);
	html_page_close(&b);
	return buf_detach(&b);
}

int
report_index_write(const json_t *index, const char *base, struct err *e)
{
	char *html = report_index_html(index, base), *path = xasprintf("%s/index.html", base);
	int rc = fs_write_file(path, html, strlen(html), e);

	free(html);
	free(path);
	return rc;
}
