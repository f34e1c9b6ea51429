/*
 * slotstrip.c - the run page's slot maps: each of report.json's
 * slot_maps as a strip of the 16384 slots (16 slots a pixel) coloured by
 * owner, the slots nobody serves hatched, open (migrating or importing)
 * slots marked above the strip; a node has the same colour in every map
 * of the page.
 */
#include <stdio.h>
#include <string.h>

#include "harness/report/html.h"

#define SLOTS 16384
#define STRIP_X 40.0
#define STRIP_W 1024.0
#define MAX_NODES 256

/* Colour-blind-safe first, then hues around the wheel. */
static const char *const palette[] = {"#4e79a7", "#f28e2b", "#59a14f", "#b07aa1", "#76b7b2",
				      "#edc948", "#9c755f", "#ff9da7", "#17becf", "#bab0ac",
				      "#8cd17d", "#a0cbe8"};

/* Node ids in the order the maps first name them as owners: a node's
 * colour is its place here. */
struct owners {
	const char *id[MAX_NODES];
	size_t n;
};

static int
owner_index(struct owners *o, const char *id)
{
	size_t i;

	for (i = 0; i < o->n; i++)
		if (strcmp(o->id[i], id) == 0)
			return (int)i;
	if (o->n == MAX_NODES)
		return MAX_NODES - 1;
	o->id[o->n] = id;
	return (int)o->n++;
}

static void
colour(struct buf *b, int i)
{
	if (i < (int)(sizeof(palette) / sizeof(palette[0])))
		buf_adds(b, palette[i]);
	else
		buf_addf(b, "hsl(%d,50%%,60%%)", (i * 137) % 360);
}

static const json_t *
map_node(const json_t *map, long long i)
{
	return json_array_get(json_object_get(map, "nodes"), (size_t)i);
}

/* "127.0.0.1:7000 (4f929d5e)" */
static void
node_name(struct buf *b, const json_t *node)
{
	html_esc(b, node ? jstr(node, "addr") : "?");
	if (node && jstr(node, "id")[0])
		html_escf(b, " (%.8s)", jstr(node, "id"));
}

static bool
is_down(const json_t *node)
{
	return !jbool(node, "reachable") || strstr(jstr(node, "flags"), "fail") != NULL;
}

static double
slot_x(long long slot)
{
	return STRIP_X + (double)slot * STRIP_W / SLOTS;
}

static void
strip(struct buf *b, const json_t *map, struct owners *o, int k)
{
	const json_t *owners = json_object_get(map, "owners"), *uncovered, *open, *r;
	double y = 22, h = 30;
	size_t i;
	long long t;

	buf_addf(b, "<svg viewBox=\"0 0 1100 %.0f\" width=\"1100\" height=\"%.0f\" role=\"img\" "
		    "aria-label=\"slot map\">\n<defs><pattern id=\"unc%d\" width=\"6\" height=\"6\" "
		    "patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\"><rect width=\"6\" "
		    "height=\"6\" fill=\"#fff\"/><rect width=\"3\" height=\"6\" fill=\"#c62828\"/>"
		    "</pattern></defs>\n<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
		    "fill=\"url(#unc%d)\"/>\n", y + h + 22, y + h + 22, k, STRIP_X, y, STRIP_W, h, k);
	json_array_foreach(owners, i, r) {
		const json_t *node = map_node(map, jint(r, "node"));
		double x1 = slot_x(jint(r, "first")), x2 = slot_x(jint(r, "last") + 1);

		buf_addf(b, "<rect x=\"%.2f\" y=\"%.1f\" width=\"%.2f\" height=\"%.1f\" fill=\"", x1, y,
			 x2 - x1 < 0.6 ? 0.6 : x2 - x1, h);
		colour(b, owner_index(o, node ? jstr(node, "id") : "?"));
		buf_addf(b, "\"%s><title>slots %lld-%lld: ", node && is_down(node)
			 ? " stroke=\"#000\" stroke-dasharray=\"4 2\"" : "", jint(r, "first"),
			 jint(r, "last"));
		node_name(b, node);
		buf_adds(b, "</title></rect>\n");
	}
	uncovered = json_object_get(map, "uncovered");
	json_array_foreach(uncovered, i, r) {
		buf_addf(b, "<rect x=\"%.2f\" y=\"%.1f\" width=\"%.2f\" height=\"%.1f\" fill=\"none\" "
			    "stroke=\"#c62828\"><title>slots %lld-%lld: served by nobody</title></rect>\n",
			 slot_x(jint(r, "first")), y, slot_x(jint(r, "last") + 1) -
			 slot_x(jint(r, "first")), h, jint(r, "first"), jint(r, "last"));
	}
	open = json_object_get(map, "open");
	json_array_foreach(open, i, r) {
		double x = slot_x(jint(r, "slot")) + 0.5;
		bool mig = strcmp(jstr(r, "state"), "migrating") == 0;

		buf_addf(b, "<path d=\"M%.1f %.1fl-6 -11h12z\" fill=\"%s\" stroke=\"#fff\" "
			    "stroke-width=\"0.8\"><title>slot %lld %s on ", x, y - 1,
			 mig ? "#e67e00" : "#7b1fa2", jint(r, "slot"), mig ? "migrating" : "importing");
		node_name(b, map_node(map, jint(r, "node")));
		buf_adds(b, "</title></path><line stroke=\"#000\" stroke-width=\"1\" ");
		buf_addf(b, "x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", x, y, x, y + h);
	}
	for (t = 0; t <= SLOTS; t += 2048)
		buf_addf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#9aa3b2\"/>"
			    "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%lld</text>",
			 slot_x(t), y + h, slot_x(t), y + h + 4, slot_x(t), y + h + 16,
			 t == SLOTS ? t - 1 : t);
	buf_adds(b, "\n</svg>\n");
}

/* Owners with their slot counts, then nodes that own nothing but are down. */
static void
legend(struct buf *b, const json_t *map, struct owners *o)
{
	const json_t *nodes = json_object_get(map, "nodes"), *node, *r;
	long long count[MAX_NODES] = {0};
	size_t i, k;

	json_array_foreach(json_object_get(map, "owners"), i, r)
		if (jint(r, "node") >= 0 && jint(r, "node") < MAX_NODES)
			count[jint(r, "node")] += jint(r, "last") - jint(r, "first") + 1;
	buf_adds(b, "<div class=\"legend\">");
	json_array_foreach(nodes, i, node) {
		if (i >= MAX_NODES || (count[i] == 0 && !is_down(node)))
			continue;
		buf_adds(b, "<span>");
		if (count[i]) {
			buf_adds(b, "<span class=\"sw\" style=\"background:");
			colour(b, owner_index(o, jstr(node, "id")));
			buf_adds(b, "\"></span>");
		}
		node_name(b, node);
		buf_addf(b, ": %lld slots", count[i]);
		if (is_down(node))
			html_escf(b, ", %s", jbool(node, "reachable") ? jstr(node, "flags")
								     : "not reachable");
		buf_adds(b, "</span>");
	}
	json_array_foreach(json_object_get(map, "open"), k, r) {
		buf_addf(b, "<span>\xe2\x96\xbc slot %lld %s on ", jint(r, "slot"), jstr(r, "state"));
		node_name(b, map_node(map, jint(r, "node")));
		buf_adds(b, strcmp(jstr(r, "state"), "migrating") == 0 ? " to " : " from ");
		node_name(b, jint(r, "peer") >= 0 ? map_node(map, jint(r, "peer")) : NULL);
		buf_adds(b, "</span>");
	}
	buf_adds(b, "</div>\n");
}

void
section_slot_maps(struct buf *b, const json_t *report)
{
	const json_t *maps = json_object_get(report, "slot_maps"), *m;
	struct owners o = {.n = 0};
	size_t i;

	buf_adds(b, "<section id=\"slots\">\n<h2>Slot maps</h2>\n");
	if (json_array_size(maps) == 0) {
		buf_adds(b, "<p class=\"note\">No slot map was taken: the run stopped before "
			    "the reshard.</p>\n</section>\n");
		return;
	}
	buf_adds(b, "<p class=\"meta\">The 16384 slots from left to right, coloured by the "
		    "owner one node's view gives; hatched red: served by nobody; "
		    "\xe2\x96\xbc an open (migrating or importing) slot; a dashed outline: the "
		    "owner is down.</p>\n");
	json_array_foreach(maps, i, m) {
		long long covered = jint(m, "covered");

		html_wrap(b, "<h3>", jstr(m, "label"), "</h3>\n<p class=\"meta\">");
		if (jstr(m, "error")[0]) {
			html_escf(b, "at %.1f s: no map: %s", jnum(m, "ms") / 1000, jstr(m, "error"));
			buf_adds(b, "</p>\n");
			continue;
		}
		html_escf(b, "at %.1f s, as %s sees it: ", jnum(m, "ms") / 1000, jstr(m, "from"));
		buf_addf(b, "<b>%lld</b> of 16384 slots served, <b>%lld</b> not, <b>%zu</b> open",
			 covered, SLOTS - covered, json_array_size(json_object_get(m, "open")));
		buf_adds(b, "</p>\n");
		strip(b, m, &o, (int)i);
		legend(b, m, &o);
	}
	buf_adds(b, "</section>\n");
}
