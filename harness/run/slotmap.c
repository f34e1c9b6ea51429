/*
 * slotmap.c - the slot map of a run at the points report.html draws it:
 * before the fault (the reshard about to start), after it (the cluster
 * settled, nothing repaired yet) and after the repair (before the
 * verifier).  Each is one snapshot (cluster/snapshot.h) from the first
 * running node that answers: every node it knows, the owner of each slot
 * in that node's view as ranges, the slots nobody serves, and every
 * node's own open (migrating or importing) slots.  A snapshot costs a
 * CLUSTER NODES and a CLUSTER INFO per node: a few milliseconds, less
 * than the settle polls.
 *
 *   "slot_maps": [{"point": "before_fault", "label", "ms",
 *                  "from": "127.0.0.1:7000", "covered": 16384,
 *                  "nodes": [{"id", "addr", "reachable", "flags"}],
 *                  "owners": [{"first", "last", "node": INDEX}],
 *                  "uncovered": [{"first", "last"}],
 *                  "open": [{"slot", "state", "node": INDEX, "peer": INDEX|-1}]},
 *                 ...]
 * or, when no node answered, {"point", "label", "ms", "error"}.
 */
#include <stdio.h>

#include "cluster/snapshot.h"
#include "common/utf8.h"
#include "harness/run/run_int.h"

#define SNAP_TIMEOUT_MS 300

/* Flags and id of node i as the reference view has them. */
static json_t *
node_json(const struct snapshot *s, size_t i)
{
	const struct snap_node *n = &s->nodes[i];
	const struct cluster_node *c = topology_find(&s->nodes[s->ref].view, n->id);
	char addr[96], flags[128] = "";

	snprintf(addr, sizeof(addr), "%s:%d", n->host, n->port);
	if (c)
		node_flags_str(c->flags & ~(unsigned)NODE_MYSELF, flags, sizeof(flags));
	return json_pack("{s:s, s:s, s:b, s:s}", "id", n->id, "addr", utf8_sanitize(addr),
			 "reachable", n->reachable, "flags", flags);
}

/* Runs of the same owner (or of none) as ranges. */
static void
ranges_json(const struct snapshot *s, json_t *owners, json_t *uncovered, int *covered)
{
	int first = 0, slot;

	*covered = 0;
	for (slot = 1; slot <= CLUSTER_SLOTS; slot++) {
		if (slot < CLUSTER_SLOTS && s->owner[slot] == s->owner[first])
			continue;
		if (s->owner[first] < 0) {
			json_array_append_new(uncovered, json_pack("{s:i, s:i}", "first", first,
								   "last", slot - 1));
		} else {
			*covered += slot - first;
			json_array_append_new(owners, json_pack("{s:i, s:i, s:i}", "first", first,
								"last", slot - 1, "node",
								s->owner[first]));
		}
		first = slot;
	}
}

/* Every reachable node's own open slots (a node says them of itself only). */
static json_t *
open_json(const struct snapshot *s)
{
	json_t *a = json_array();
	size_t i, k;

	for (i = 0; i < s->n; i++) {
		const struct cluster_node *me = topology_myself(&s->nodes[i].view);

		for (k = 0; me && k < me->nopen; k++)
			json_array_append_new(
				a, json_pack("{s:i, s:s, s:i, s:i}", "slot", me->open[k].slot, "state",
					     me->open[k].state == SLOT_MIGRATING ? "migrating"
										  : "importing",
					     "node", (int)i, "peer",
					     snapshot_find_id(s, me->open[k].peer)));
	}
	return a;
}

void
run_slot_map(struct run *run, const char *point, const char *label)
{
	struct snapshot s;
	struct err e = ERR_INIT;
	json_t *j, *nodes, *owners, *uncovered, *maps;
	char from[96];
	size_t i;
	int covered, taken = -1;

	if (!run->cluster_up)
		return;
	err_set(&e, 0, "no node runs");
	for (i = 0; i < run->lc.n && taken < 0; i++) {
		if (!proc_is_running(&run->lc.nodes[i].proc))
			continue;
		if (snapshot_take(&s, run->lc.nodes[i].host, run->lc.nodes[i].port,
				  SNAP_TIMEOUT_MS, &e) == 0)
			taken = (int)i;
		else
			snapshot_release(&s);
	}
	j = json_pack("{s:s, s:s, s:I}", "point", point, "label", label, "ms",
		      (json_int_t)timeline_ms(&run->tl));
	if ((maps = json_object_get(run->report, "slot_maps")) == NULL) {
		maps = json_array();
		json_object_set_new(run->report, "slot_maps", maps);
	}
	json_array_append_new(maps, j);
	if (taken < 0) {
		json_object_set_new(j, "error", json_string(utf8_sanitize(e.msg)));
		return;
	}
	snprintf(from, sizeof(from), "%s:%d", run->lc.nodes[taken].host, run->lc.nodes[taken].port);
	nodes = json_array();
	for (i = 0; i < s.n; i++)
		json_array_append_new(nodes, node_json(&s, i));
	owners = json_array();
	uncovered = json_array();
	ranges_json(&s, owners, uncovered, &covered);
	json_object_set_new(j, "from", json_string(utf8_sanitize(from)));
	json_object_set_new(j, "covered", json_integer(covered));
	json_object_set_new(j, "nodes", nodes);
	json_object_set_new(j, "owners", owners);
	json_object_set_new(j, "uncovered", uncovered);
	json_object_set_new(j, "open", open_json(&s));
	snapshot_release(&s);
}
