/* outages.c - per-slot outages grouped into ranges; see outages.h. */
#include "harness/workload/outages.h"

#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"

static int
by_slot(const void *a, const void *b)
{
	const struct outage *x = a, *y = b;

	if (x->slot != y->slot)
		return x->slot < y->slot ? -1 : 1;
	return x->from_ms < y->from_ms ? -1 : x->from_ms > y->from_ms;
}

static int
by_start(const void *a, const void *b)
{
	const struct outage *x = a, *y = b;

	if (x->from_ms != y->from_ms)
		return x->from_ms < y->from_ms ? -1 : 1;
	return x->slot - y->slot;
}

static uint64_t
gap(uint64_t a, uint64_t b)
{
	return a > b ? a - b : b - a;
}

size_t
outages_group(const struct outages *o, uint64_t slack_ms, struct outage_range **out)
{
	struct outage *m = xcalloc(o->n + 1, sizeof(*m));
	struct outage_range *g = xcalloc(o->n + 1, sizeof(*g));
	size_t i, k, nm = 0, ng = 0;

	if (o->n)
		memcpy(m, o->v, o->n * sizeof(*m));
	qsort(m, o->n, sizeof(*m), by_slot);
	/* per slot: overlapping or nearly touching outages are one */
	for (i = 0; i < o->n; i++) {
		struct outage *p = nm ? &m[nm - 1] : NULL;

		if (p && p->slot == m[i].slot && m[i].from_ms <= p->to_ms + slack_ms) {
			if (m[i].to_ms > p->to_ms)
				p->to_ms = m[i].to_ms;
			p->open = p->open || m[i].open;
		} else {
			m[nm++] = m[i];
		}
	}
	qsort(m, nm, sizeof(*m), by_start);
	for (i = 0; i < nm; i++) {
		for (k = ng; k > 0; k--) {
			struct outage_range *r = &g[k - 1];

			if (r->open == m[i].open && gap(r->from_ms, m[i].from_ms) <= slack_ms &&
			    gap(r->to_ms, m[i].to_ms) <= slack_ms)
				break;
		}
		if (k == 0) {
			g[ng++] = (struct outage_range){.first = m[i].slot, .last = m[i].slot,
							.nslots = 1, .from_ms = m[i].from_ms,
							.to_ms = m[i].to_ms, .open = m[i].open};
			continue;
		}
		g[k - 1].first = m[i].slot < g[k - 1].first ? m[i].slot : g[k - 1].first;
		g[k - 1].last = m[i].slot > g[k - 1].last ? m[i].slot : g[k - 1].last;
		g[k - 1].nslots++;
		if (m[i].to_ms > g[k - 1].to_ms)
			g[k - 1].to_ms = m[i].to_ms;
	}
	free(m);
	*out = g;
	return ng;
}
