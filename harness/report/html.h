/*
 * html.h - what the pages of harness/report/ share: HTML escaping of any
 * bytes, reading a report's JSON without trusting its shape, the page's
 * frame with its inline style, and the time axis the charts share.  Not
 * for use outside harness/report/.
 */
#ifndef SQ_HARNESS_REPORT_HTML_H
#define SQ_HARNESS_REPORT_HTML_H

#include <jansson.h>
#include <stdbool.h>

#include "common/buf.h"

/* Appends s as HTML text (also fit for an attribute in double quotes):
 * & < > " ' as entities, bytes that are not well-formed UTF-8 and
 * control characters other than newline and tab as U+FFFD.  NULL is "". */
void html_esc(struct buf *b, const char *s);
/* open, text escaped, close: html_wrap(b, "<td>", name, "</td>"). */
void html_wrap(struct buf *b, const char *open, const char *text, const char *close);
/* printf, then escaped. */
void html_escf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Members of o, whatever o is: the string ("" when absent or not one),
 * the number (0 when absent; a real is truncated for jint), the boolean
 * (false). */
const char *jstr(const json_t *o, const char *key);
long long jint(const json_t *o, const char *key);
double jnum(const json_t *o, const char *key);
bool jbool(const json_t *o, const char *key);

/* <!DOCTYPE html> up to <body>, with the inline style; and the end. */
void html_page_open(struct buf *b, const char *title);
void html_page_close(struct buf *b);
/* A coloured word for "passed", "failed", "skipped", "ok", "lost", ...
 * (class st-WORD). */
void html_badge(struct buf *b, const char *word);
/* "1.2 s", "350 ms", "2 min 5 s" */
void html_duration(struct buf *b, double ms);

/* The time axis every chart of a run page shares: 0 .. end_ms drawn from
 * x0 to x0 + w pixels. */
struct axis {
	double end_ms;
	double x0, w;
};
double axis_x(const struct axis *a, double ms);
/* Second ticks and labels along the axis at height y (grid lines up to
 * top when top < y). */
void axis_ticks(struct buf *b, const struct axis *a, double top, double y);
/* The faults that fired, a red line each from top to bottom, labelled at
 * the top when label. */
void axis_faults(struct buf *b, const struct axis *a, const json_t *report, double top,
		 double bottom, bool label);

/* Sections of the run page (run_page.c, charts.c, slotstrip.c). */
void section_timeline(struct buf *b, const json_t *report, const struct axis *a);
void section_traffic(struct buf *b, const json_t *report, const struct axis *a);
void section_unavailable(struct buf *b, const json_t *report, const struct axis *a);
void section_slot_maps(struct buf *b, const json_t *report);

#endif
