/*
 * charts.c - the run page's charts over time, inline SVG on the axis
 * every chart shares (html.h): the phases with the fault marked, the
 * live traffic (writes and reads per second, latency, error classes) and
 * the slot ranges clients could not use.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "harness/report/html.h"

#define SVG_W 1100

/* Soft colours for phases, by name, so the same phase looks the same in
 * every report. */
static const char *
phase_colour(const char *name)
{
	static const struct { const char *name, *colour; } known[] = {
		{"cluster", "#9fb4d6"}, {"load", "#8fc1c9"}, {"workload", "#a5d6a7"},
		{"reshard", "#f3c96b"}, {"settle", "#c9b3e0"}, {"heal", "#e0b3d2"},
		{"repair", "#80cbc4"}, {"verify", "#b0bec5"}, {"ledger", "#bcaaa4"}};
	size_t i;

	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (strcmp(name, known[i].name) == 0)
			return known[i].colour;
	return "#cfd8dc";
}

static void
svg_open(struct buf *b, double h, const char *what)
{
	buf_addf(b, "<svg viewBox=\"0 0 %d %.0f\" width=\"%d\" height=\"%.0f\" role=\"img\" "
		    "aria-label=\"", SVG_W, h, SVG_W, h);
	html_esc(b, what);
	buf_adds(b, "\">\n");
}

void
section_timeline(struct buf *b, const json_t *report, const struct axis *a)
{
	const json_t *phases = json_object_get(report, "phases"), *p;
	double row = 24, top = 20, h;
	size_t i, n = json_array_size(phases);

	buf_adds(b, "<section id=\"timeline\">\n<h2>Timeline of phases</h2>\n");
	if (n == 0) {
		buf_adds(b, "<p class=\"note\">No phase finished.</p>\n</section>\n");
		return;
	}
	h = top + row * (double)n + 24;
	svg_open(b, h, "timeline of the run's phases");
	axis_ticks(b, a, top, top + row * (double)n + 2);
	json_array_foreach(phases, i, p) {
		double y = top + row * (double)i, x1 = axis_x(a, jnum(p, "from_ms")),
		       x2 = axis_x(a, jnum(p, "to_ms")), w = x2 - x1 < 2 ? 2 : x2 - x1;

		buf_addf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">", a->x0 - 8, y + 15);
		html_esc(b, jstr(p, "name"));
		buf_addf(b, "</text><rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
			    "rx=\"3\" fill=\"%s\"><title>", x1, y + 3, w, row - 6,
			 phase_colour(jstr(p, "name")));
		html_escf(b, "%s: %lld to %lld ms", jstr(p, "name"), jint(p, "from_ms"),
			  jint(p, "to_ms"));
		buf_addf(b, "</title></rect><text x=\"%.1f\" y=\"%.1f\">", x1 + w + 4 > SVG_W - 60
								   ? x1 - 56 : x1 + w + 4, y + 15);
		html_duration(b, jnum(p, "to_ms") - jnum(p, "from_ms"));
		buf_adds(b, "</text>\n");
	}
	axis_faults(b, a, report, 2, top + row * (double)n + 2, true);
	buf_adds(b, "</svg>\n</section>\n");
}

/* 1, 2 or 5 times a power of ten, at least v. */
static double
nice_ceil(double v)
{
	double p;

	if (v <= 0)
		return 1;
	p = pow(10, floor(log10(v)));
	return v <= p ? p : v <= 2 * p ? 2 * p : v <= 5 * p ? 5 * p : 10 * p;
}

static void
legend_item(struct buf *b, const char *colour, const char *label)
{
	buf_addf(b, "<span><span class=\"sw\" style=\"background:%s\"></span>", colour);
	html_esc(b, label);
	buf_adds(b, "</span>");
}

/* Y grid and labels for 0..max at `ticks` steps; `unit` after each. */
static void
y_grid(struct buf *b, const struct axis *a, double top, double h, double max, int ticks,
       const char *unit)
{
	int i;

	for (i = 0; i <= ticks; i++) {
		double v = max * i / ticks, y = top + h - h * i / ticks;

		buf_addf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\"/>"
			    "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%g%s%s</text>",
			 a->x0, y, a->x0 + a->w, y, i ? "#eef0f4" : "#9aa3b2", a->x0 - 6, y + 4,
			 v >= 10000 ? v / 1000 : v, v >= 10000 ? "k" : "", unit);
	}
	buf_adds(b, "\n");
}

struct stack {
	const char *key, *colour, *label;
};

/* Stacked bars per bucket of the members `st` (counts per second). */
static void
bars(struct buf *b, const struct axis *a, const json_t *buckets, double bucket_ms, double top,
     double h, double max, const struct stack *st, size_t nst, bool in_errors)
{
	const json_t *k;
	size_t i, s;

	json_array_foreach(buckets, i, k) {
		double ms = jnum(k, "ms"), x1 = axis_x(a, ms), x2 = axis_x(a, ms + bucket_ms);
		double y = top + h, w = x2 - x1 > 1.5 ? x2 - x1 - 0.5 : 1;
		const json_t *src = in_errors ? json_object_get(k, "errors") : k;

		for (s = 0; s < nst; s++) {
			double v = jnum(src, st[s].key) * 1000 / bucket_ms, bh = v / max * h;

			if (v <= 0)
				continue;
			y -= bh;
			buf_addf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
				    "fill=\"%s\"><title>", x1, y, w, bh, st[s].colour);
			html_escf(b, "%.1f-%.1f s: %.0f %s/s", ms / 1000, (ms + bucket_ms) / 1000, v,
				  st[s].label);
			buf_adds(b, "</title></rect>");
		}
	}
	buf_adds(b, "\n");
}

static const struct stack writes_st[] = {
	{"acknowledged", "#2e9d5b", "writes acknowledged"},
	{"failed", "#e69f00", "writes failed (error reply)"},
	{"unknown", "#d5442b", "writes of unknown outcome (no reply)"}};

static const struct stack errors_st[] = {
	{"moved", "#56b4e9", "moved"},         {"clusterdown", "#cc79a7", "clusterdown"},
	{"tryagain", "#e6c300", "tryagain"},   {"oom", "#8c564b", "oom"},
	{"misconf", "#7f7f7f", "misconf"},     {"unreachable", "#d5442b", "unreachable"},
	{"other", "#333333", "other"}};

/* Largest stacked total of `st` per second over the buckets. */
static double
peak(const json_t *buckets, double bucket_ms, const struct stack *st, size_t nst, bool errors,
     const char *also)
{
	const json_t *k;
	double most = 0;
	size_t i, s;

	json_array_foreach(buckets, i, k) {
		const json_t *src = errors ? json_object_get(k, "errors") : k;
		double sum = 0;

		for (s = 0; s < nst; s++)
			sum += jnum(src, st[s].key);
		if (also && jnum(k, also) > sum)
			sum = jnum(k, also);
		if (sum * 1000 / bucket_ms > most)
			most = sum * 1000 / bucket_ms;
	}
	return most;
}

static void
chart_writes(struct buf *b, const json_t *report, const struct axis *a, const json_t *buckets,
	     double bucket_ms)
{
	double top = 8, h = 150, max = nice_ceil(peak(buckets, bucket_ms, writes_st, 3, false,
						      "reads"));
	const json_t *k;
	size_t i;

	buf_adds(b, "<h3>Commands per second</h3>\n<div class=\"legend\">");
	for (i = 0; i < 3; i++)
		legend_item(b, writes_st[i].colour, writes_st[i].label);
	legend_item(b, "#0b5fa5", "reads (line)");
	buf_adds(b, "</div>\n");
	svg_open(b, top + h + 22, "commands per second over time");
	y_grid(b, a, top, h, max, 4, "/s");
	axis_ticks(b, a, top + h, top + h);
	bars(b, a, buckets, bucket_ms, top, h, max, writes_st, 3, false);
	buf_adds(b, "<polyline fill=\"none\" stroke=\"#0b5fa5\" stroke-width=\"1.5\" points=\"");
	json_array_foreach(buckets, i, k)
		buf_addf(b, "%.1f,%.1f ", axis_x(a, jnum(k, "ms") + bucket_ms / 2),
			 top + h - jnum(k, "reads") * 1000 / bucket_ms / max * h);
	buf_adds(b, "\"/>\n");
	axis_faults(b, a, report, top, top + h, false);
	buf_adds(b, "</svg>\n");
}

/* Latency on a log scale, from 100 us (or less) to the worst. */
static void
chart_latency(struct buf *b, const json_t *report, const struct axis *a, const json_t *buckets,
	      double bucket_ms)
{
	static const struct { const char *key, *colour, *dash, *label; } lines[] = {
		{"p50", "#0b5fa5", "", "p50"}, {"p99", "#e67e00", "", "p99"},
		{"max", "#8d96a8", "3 3", "max"}};
	double top = 8, h = 120, lo = 100, hi = 1000, d;
	const json_t *k;
	size_t i, l;

	json_array_foreach(buckets, i, k) {
		const json_t *lat = json_object_get(k, "latency_us");

		while (jnum(lat, "max") > hi)
			hi *= 10;
		while (jnum(lat, "p50") > 0 && jnum(lat, "p50") < lo && lo > 1)
			lo /= 10;
	}
	buf_adds(b, "<h3>Latency of acknowledged writes</h3>\n<div class=\"legend\">");
	for (l = 0; l < 3; l++)
		legend_item(b, lines[l].colour, lines[l].label);
	buf_adds(b, "</div>\n");
	svg_open(b, top + h + 22, "latency of acknowledged writes over time");
	for (d = lo; d <= hi * 1.01; d *= 10) {
		double y = top + h - log10(d / lo) / log10(hi / lo) * h;

		buf_addf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#eef0f4\"/>"
			    "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%g %s</text>", a->x0, y,
			 a->x0 + a->w, y, a->x0 - 6, y + 4,
			 d >= 1e6 ? d / 1e6 : d >= 1000 ? d / 1000 : d,
			 d >= 1e6 ? "s" : d >= 1000 ? "ms" : "\xc2\xb5s");
	}
	axis_ticks(b, a, top + h, top + h);
	for (l = 0; l < 3; l++) {
		buf_addf(b, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.6\" "
			    "stroke-dasharray=\"%s\" points=\"", lines[l].colour, lines[l].dash);
		json_array_foreach(buckets, i, k) {
			double v = jnum(json_object_get(k, "latency_us"), lines[l].key);

			if (v <= 0) /* no write acknowledged in it: a gap, not a zero */
				continue;
			v = v < lo ? lo : v;
			buf_addf(b, "%.1f,%.1f ", axis_x(a, jnum(k, "ms") + bucket_ms / 2),
				 top + h - log10(v / lo) / log10(hi / lo) * h);
		}
		buf_adds(b, "\"/>\n");
	}
	axis_faults(b, a, report, top, top + h, false);
	buf_adds(b, "</svg>\n");
}

static void
chart_errors(struct buf *b, const json_t *report, const struct axis *a, const json_t *buckets,
	     double bucket_ms)
{
	size_t n = sizeof(errors_st) / sizeof(errors_st[0]), i;
	double top = 8, h = 100, most = peak(buckets, bucket_ms, errors_st, n, true, NULL);
	const json_t *errors = json_object_get(json_object_get(report, "workload"), "errors");

	buf_adds(b, "<h3>Errors clients met, per second</h3>\n");
	if (most <= 0) {
		buf_adds(b, "<p class=\"note\">None: every command was answered.</p>\n");
		return;
	}
	buf_adds(b, "<div class=\"legend\">");
	for (i = 0; i < n; i++)
		if (jint(errors, errors_st[i].key) > 0) {
			char label[96];

			snprintf(label, sizeof(label), "%s (%lld)", errors_st[i].label,
				 jint(errors, errors_st[i].key));
			legend_item(b, errors_st[i].colour, label);
		}
	buf_adds(b, "</div>\n");
	svg_open(b, top + h + 22, "errors per second by class over time");
	y_grid(b, a, top, h, nice_ceil(most), 2, "/s");
	axis_ticks(b, a, top + h, top + h);
	bars(b, a, buckets, bucket_ms, top, h, nice_ceil(most), errors_st, n, true);
	axis_faults(b, a, report, top, top + h, false);
	buf_adds(b, "</svg>\n");
}

void
section_traffic(struct buf *b, const json_t *report, const struct axis *a)
{
	const json_t *w = json_object_get(report, "workload");
	const json_t *series = json_object_get(w, "series");
	const json_t *buckets = json_object_get(series, "buckets");
	double bucket_ms = jnum(series, "bucket_ms");

	buf_adds(b, "<section id=\"traffic\">\n<h2>Live traffic</h2>\n");
	if (w == NULL || json_array_size(buckets) == 0 || bucket_ms <= 0) {
		buf_adds(b, "<p class=\"note\">No live traffic was recorded (the scenario has no "
			    "[workload], or the run stopped before its ledger was read).</p>\n"
			    "</section>\n");
		return;
	}
	buf_addf(b, "<p class=\"meta\"><b>%lld</b> writers on <b>%lld</b> keys: <b>%lld</b> "
		    "writes acknowledged, <b>%lld</b> failed, <b>%lld</b> of unknown outcome; "
		    "<b>%lld</b> reads (%lld failed, %lld stale); <b>%lld</b> acknowledged "
		    "writes lost. Buckets of %.0f ms.</p>\n", jint(w, "writers"), jint(w, "keys"),
		 jint(w, "acknowledged"), jint(w, "failed"), jint(w, "unknown"), jint(w, "reads"),
		 jint(w, "reads_failed"), jint(w, "stale_reads"), jint(w, "writes_lost"),
		 bucket_ms);
	chart_writes(b, report, a, buckets, bucket_ms);
	chart_latency(b, report, a, buckets, bucket_ms);
	chart_errors(b, report, a, buckets, bucket_ms);
	buf_adds(b, "</section>\n");
}

void
section_unavailable(struct buf *b, const json_t *report, const struct axis *a)
{
	const json_t *w = json_object_get(report, "workload");
	const json_t *ranges = json_object_get(w, "unavailable"), *r;
	double row = 26, top = 6;
	size_t i, n = json_array_size(ranges);

	buf_adds(b, "<section id=\"unavailable\">\n<h2>Unavailability per slot range</h2>\n");
	if (w == NULL) {
		buf_adds(b, "<p class=\"note\">No live traffic, so nothing measured.</p>\n"
			    "</section>\n");
		return;
	}
	if (n == 0) {
		buf_adds(b, "<p class=\"note\">Clients could use every slot they tried, all the "
			    "time.</p>\n</section>\n");
		return;
	}
	buf_adds(b, "<p class=\"meta\">From the first command that failed on a key of a slot "
		    "to the next that went through; slots that failed together are one range.</p>\n");
	svg_open(b, top + row * (double)n + 22, "slot ranges unavailable to clients over time");
	axis_ticks(b, a, top, top + row * (double)n);
	json_array_foreach(ranges, i, r) {
		double y = top + row * (double)i, x1 = axis_x(a, jnum(r, "from_ms"));
		double x2 = axis_x(a, jnum(r, "to_ms")), w2 = x2 - x1 < 2 ? 2 : x2 - x1;

		buf_addf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">slots %lld-%lld</text>"
			    "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" rx=\"2\" "
			    "fill=\"%s\"><title>", a->x0 - 8, y + 16, jint(r, "first_slot"),
			 jint(r, "last_slot"), x1, y + 4, w2, row - 8,
			 jbool(r, "open") ? "#8e0000" : "#e05545");
		html_escf(b, "slots %lld-%lld (%lld seen failing): %lld to %lld ms",
			  jint(r, "first_slot"), jint(r, "last_slot"), jint(r, "slots_seen"),
			  jint(r, "from_ms"), jint(r, "to_ms"));
		buf_addf(b, "</title></rect><text x=\"%.1f\" y=\"%.1f\">",
			 x2 + 6 > SVG_W - 200 ? x1 - 200 : x2 + 6, y + 16);
		html_duration(b, jnum(r, "ms"));
		buf_addf(b, ", %lld slot%s seen%s</text>\n", jint(r, "slots_seen"),
			 jint(r, "slots_seen") == 1 ? "" : "s",
			 jbool(r, "open") ? ", still failing at the end" : "");
	}
	axis_faults(b, a, report, 0, top + row * (double)n, false);
	buf_adds(b, "</svg>\n</section>\n");
}
