/*
 * html.c - escaping, JSON accessors, the page frame and the shared time
 * axis of the report pages; see html.h.
 */
#include "harness/report/html.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/utf8.h"

void
html_esc(struct buf *b, const char *s)
{
	const char *p = s ? s : "";
	int n;

	while (*p) {
		unsigned char c = (unsigned char)*p;

		switch (c) {
		case '&': buf_adds(b, "&amp;"); p++; continue;
		case '<': buf_adds(b, "&lt;"); p++; continue;
		case '>': buf_adds(b, "&gt;"); p++; continue;
		case '"': buf_adds(b, "&quot;"); p++; continue;
		case '\'': buf_adds(b, "&#39;"); p++; continue;
		default: break;
		}
		if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f) {
			buf_adds(b, "\xef\xbf\xbd");
			p++;
			continue;
		}
		if ((n = utf8_seq_len(p)) == 0) {
			buf_adds(b, "\xef\xbf\xbd"); /* U+FFFD for each bad byte */
			p++;
			continue;
		}
		buf_add(b, p, (size_t)n);
		p += n;
	}
}

void
html_wrap(struct buf *b, const char *open, const char *text, const char *close)
{
	buf_adds(b, open);
	html_esc(b, text);
	buf_adds(b, close);
}

void
html_escf(struct buf *b, const char *fmt, ...)
{
	char text[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	html_esc(b, text);
}

const char *
jstr(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "";
}

long long
jint(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	return json_is_integer(v) ? json_integer_value(v) : (long long)json_number_value(v);
}

double
jnum(const json_t *o, const char *key)
{
	return json_number_value(json_object_get(o, key));
}

bool
jbool(const json_t *o, const char *key)
{
	return json_is_true(json_object_get(o, key));
}

/* Everything the pages draw with, inline: no font, image or sheet is
 * fetched (system-ui is the reader's own). */
static const char style[] =
	"body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,Helvetica,Arial,"
	"sans-serif;color:#1d2433;background:#f4f6f9;margin:0}\n"
	"main{max-width:1160px;margin:0 auto;padding:20px 24px 40px}\n"
	"h1{font-size:24px;margin:4px 0 2px}h2{font-size:17px;margin:0 0 10px}\n"
	"section{background:#fff;border:1px solid #dde2ea;border-radius:8px;"
	"padding:14px 18px;margin:14px 0}\n"
	".meta{color:#566074;font-size:13px}.meta b{color:#1d2433;font-weight:600}\n"
	".reason{margin:8px 0 0;padding:8px 10px;background:#fdecea;border-left:4px solid "
	"#c62828;white-space:pre-wrap}\n"
	".note{color:#6b7486;font-style:italic}\n"
	".badge{display:inline-block;padding:2px 10px;border-radius:12px;font-weight:700;"
	"font-size:13px;letter-spacing:.03em;text-transform:uppercase;color:#fff;"
	"background:#7a8496;vertical-align:middle}\n"
	".st-passed,.st-ok,.st-yes,.st-healthy{background:#2e7d32}"
	".st-failed,.st-fail,.st-no,.st-unhealthy{background:#c62828}"
	".st-lost{background:#6a1b9a}.st-skipped,.st-skip{background:#8d96a8}"
	".st-unchecked{background:#b28704}\n"
	"table{border-collapse:collapse;width:100%;font-size:13px}"
	"th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #e6e9ef;"
	"vertical-align:top}th{background:#f0f2f6;font-weight:600}\n"
	"td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}\n"
	"tr.bad td{background:#fff3f2}\n"
	"code,pre{font:12px/1.4 ui-monospace,'DejaVu Sans Mono',Menlo,Consolas,monospace}"
	"code{background:#f0f2f6;padding:0 3px;border-radius:3px;word-break:break-all}\n"
	"pre{background:#f7f8fa;padding:8px;overflow-x:auto;white-space:pre-wrap}\n"
	".grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(170px,1fr));gap:6px}"
	".kv{background:#f7f8fa;border-radius:6px;padding:5px 9px}"
	".kv b{display:block;font-size:17px}.kv span{color:#566074;font-size:12px}\n"
	".legend{display:flex;flex-wrap:wrap;gap:4px 16px;font-size:12.5px;margin:4px 0 2px}"
	".sw{display:inline-block;width:12px;height:12px;border-radius:2px;"
	"vertical-align:-2px;margin-right:5px;border:1px solid rgba(0,0,0,.2)}\n"
	"svg{display:block;max-width:100%;height:auto}svg text{font:11px system-ui,sans-serif;"
	"fill:#3b4456}\n"
	"details summary{cursor:pointer;font-weight:600}\n"
	"td.cell{text-align:center;font-weight:600;color:#fff}td.cell a{color:#fff}\n"
	"a{color:#1a56b0}\n";

void
html_page_open(struct buf *b, const char *title)
{
	buf_adds(b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
		    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
		    "<title>");
	html_esc(b, title);
	buf_addf(b, "</title>\n<style>\n%s</style>\n</head>\n<body>\n<main>\n", style);
}

void
html_page_close(struct buf *b)
{
	buf_adds(b, "<p class=\"meta\">Written by shardquake; everything on this page is "
		    "in this file.</p>\n</main>\n</body>\n</html>\n");
}

void
html_badge(struct buf *b, const char *word)
{
	buf_adds(b, "<span class=\"badge st-");
	html_esc(b, word);
	buf_adds(b, "\">");
	html_esc(b, word);
	buf_adds(b, "</span>");
}

void
html_duration(struct buf *b, double ms)
{
	if (ms < 1000)
		buf_addf(b, "%.0f ms", ms);
	else if (ms < 120000)
		buf_addf(b, "%.1f s", ms / 1000);
	else
		buf_addf(b, "%.0f min %.0f s", floor(ms / 60000), fmod(ms / 1000, 60));
}

double
axis_x(const struct axis *a, double ms)
{
	if (ms < 0)
		ms = 0;
	if (ms > a->end_ms)
		ms = a->end_ms;
	return a->x0 + ms / a->end_ms * a->w;
}

void
axis_ticks(struct buf *b, const struct axis *a, double top, double y)
{
	static const double steps[] = {500, 1000, 2000, 5000, 10000, 15000, 30000, 60000,
				       120000, 300000, 600000, 1800000, 3600000};
	double step = steps[0], t;
	size_t i;

	/* about ten ticks */
	for (i = 0; i < sizeof(steps) / sizeof(steps[0]) && a->end_ms / steps[i] > 12; i++)
		step = i + 1 < sizeof(steps) / sizeof(steps[0]) ? steps[i + 1] : steps[i];
	for (t = 0; t <= a->end_ms + 1; t += step) {
		double x = axis_x(a, t);

		if (top < y)
			buf_addf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
				    "stroke=\"#e6e9ef\"/>", x, top, x, y);
		buf_addf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%g s</text>", x,
			 y + 13, t / 1000);
	}
	buf_adds(b, "\n");
}

void
axis_faults(struct buf *b, const struct axis *a, const json_t *report, double top,
	    double bottom, bool label)
{
	const json_t *faults = json_object_get(report, "faults"), *f;
	size_t i;

	json_array_foreach(faults, i, f) {
		double x;

		if (!jbool(f, "fired"))
			continue;
		x = axis_x(a, jnum(f, "ms"));
		buf_addf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#c62828\" "
			    "stroke-width=\"2\" stroke-dasharray=\"5 3\"><title>", x, top, x, bottom);
		html_escf(b, "fault %s (%s on %s) at %.0f ms: %s", jstr(f, "name"), jstr(f, "kind"),
			  jstr(f, "target"), jnum(f, "ms"), jstr(f, "effect"));
		buf_adds(b, "</title></line>");
		if (label) {
			buf_addf(b, "<text x=\"%.1f\" y=\"%.1f\" style=\"fill:#c62828;font-weight:700\">",
				 x + 4, top + 10);
			html_escf(b, "fault: %s %s", jstr(f, "kind"), jstr(f, "target"));
			buf_adds(b, "</text>");
		}
	}
	buf_adds(b, "\n");
}
