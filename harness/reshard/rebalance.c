/*
 * rebalance.c - the plan of a rebalance to one (usually new, empty)
 * master: every master that serves slots gives its excess over an even
 * share to the target, highest slots first, so that each keeps one run
 * of slots where it had one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/fetch.h"
#include "common/xmalloc.h"
#include "harness/reshard/reshard.h"

void
reshard_rebalance_shares(const int *owned, size_t n, size_t target, int *give)
{
	int total = 0, tshare, rest, rem, left;
	size_t i, j;

	for (i = 0; i < n; i++)
		total += owned[i];
	tshare = total / (int)n;
	rest = total - tshare;
	rem = n > 1 ? rest % (int)(n - 1) : 0;
	/* the target takes no more than its share, whatever the others'
	 * imbalance among themselves (that is not this plan's business) */
	left = tshare - owned[target];
	for (i = 0, j = 0; i < n; i++) {
		int share;

		give[i] = 0;
		if (i == target)
			continue;
		share = rest / (int)(n - 1) + ((int)j++ < rem ? 1 : 0);
		if (owned[i] > share && left > 0) {
			give[i] = owned[i] - share < left ? owned[i] - share : left;
			left -= give[i];
		}
	}
}

static int
first_slot(const struct cluster_node *n)
{
	int slot;

	for (slot = 0; slot < CLUSTER_SLOTS; slot++)
		if (cluster_node_has_slot(n, slot))
			return slot;
	return CLUSTER_SLOTS;
}

/* By their lowest slot; slotless (the target) last, then by address. */
static int
by_slots(const void *a, const void *b)
{
	const struct cluster_node *x = *(const struct cluster_node *const *)a;
	const struct cluster_node *y = *(const struct cluster_node *const *)b;
	int c = first_slot(x) - first_slot(y);

	if (c == 0)
		c = strcmp(x->ip, y->ip);
	return c ? c : x->port - y->port;
}

/* The masters taking part, in the order of their slots: those serving
 * slots, and the target; *target_at is the target's place. */
static size_t
members(const struct topology *t, const struct cluster_node *target,
	const struct cluster_node **v, size_t *target_at)
{
	size_t i, n = 0;

	for (i = 0; i < t->n; i++) {
		const struct cluster_node *x = &t->nodes[i];

		if (x == target || ((x->flags & NODE_MASTER) && cluster_node_slot_count(x) > 0))
			v[n++] = x;
	}
	qsort(v, n, sizeof(*v), by_slots);
	for (i = 0; i < n; i++)
		if (v[i] == target)
			*target_at = i;
	return n;
}

/* Appends the `count` highest slots of `src` to the plan. */
static void
add_highest(struct reshard_plan *plan, const struct cluster_node *src, int count)
{
	int slot, k = 0;

	for (slot = CLUSTER_SLOTS - 1; slot >= 0 && k < count; slot--)
		if (cluster_node_has_slot(src, slot))
			k++;
	for (slot++; slot < CLUSTER_SLOTS && k > 0; slot++)
		if (cluster_node_has_slot(src, slot)) {
			plan->slots[plan->nslots] = slot;
			snprintf(plan->sources[plan->nslots], sizeof(plan->sources[0]), "%s",
				 src->id);
			plan->nslots++;
			k--;
		}
}

int
reshard_plan_rebalance(struct reshard_plan *plan, const char *host, int port, struct err *e)
{
	struct topology t = TOPOLOGY_INIT;
	const struct cluster_node *target, **v = NULL;
	int *owned = NULL, *give = NULL;
	size_t i, n, at = 0;
	int rc = -1;

	if (topology_fetch_addr(host, port, 5000, &t, e) < 0)
		return -1;
	target = topology_find(&t, plan->target);
	if (target == NULL || !(target->flags & NODE_MASTER)) {
		err_set(e, 0, "target node %s is %s", plan->target,
			target ? "not a master" : "not in the cluster");
		goto out;
	}
	v = xcalloc(t.n + 1, sizeof(*v));
	n = members(&t, target, v, &at);
	if (n < 2) {
		err_set(e, 0, "no master but the target serves slots: nothing to rebalance");
		goto out;
	}
	owned = xcalloc(n, sizeof(int));
	give = xcalloc(n, sizeof(int));
	for (i = 0; i < n; i++)
		owned[i] = cluster_node_slot_count(v[i]);
	reshard_rebalance_shares(owned, n, at, give);
	plan->slots = xcalloc(CLUSTER_SLOTS, sizeof(int));
	plan->sources = xcalloc(CLUSTER_SLOTS, sizeof(*plan->sources));
	plan->nslots = 0;
	for (i = 0; i < n; i++)
		if (give[i] > 0)
			add_highest(plan, v[i], give[i]);
	if (plan->nslots == 0) {
		err_set(e, 0, "the target already has its share: nothing to rebalance");
		goto out;
	}
	snprintf(plan->source, sizeof(plan->source), "%s", plan->sources[0]);
	rc = 0;
out:
	if (rc < 0)
		reshard_plan_release(plan);
	free(v);
	free(owned);
	free(give);
	topology_release(&t);
	return rc;
}
