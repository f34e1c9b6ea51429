/* checks.c - the pure invariants; see checks.h. */
#include "verifier/checks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"

#define FAILED_FLAGS (NODE_FAIL | NODE_PFAIL | NODE_NOADDR)

static const char *
addr(const struct snapshot *s, int i, char *buf, size_t n)
{
	snprintf(buf, n, "%s:%d", s->nodes[i].host, s->nodes[i].port);
	return buf;
}

/* A node id as a person acts on it: "1a2b3c4d (127.0.0.1:7001)", the
 * address where the snapshot knows it; "nobody" for none. */
static const char *
who(const struct snapshot *s, const char *id, char *buf, size_t n)
{
	int k = *id ? snapshot_find_id(s, id) : -1;

	if (!*id)
		snprintf(buf, n, "nobody");
	else if (k >= 0)
		snprintf(buf, n, "%.8s (%s:%d)", id, s->nodes[k].host, s->nodes[k].port);
	else
		snprintf(buf, n, "%.8s", id);
	return buf;
}

/* Reports runs of slots as "slots 0-99" examples, one count per slot. */
static void
add_slot_runs(struct finding *f, const unsigned char *bad, int max, const char *what)
{
	int slot = 0, end;

	while (slot < CLUSTER_SLOTS) {
		if (!bad[slot]) {
			slot++;
			continue;
		}
		for (end = slot; end + 1 < CLUSTER_SLOTS && bad[end + 1]; end++)
			;
		f->count += end - slot;
		if (end > slot)
			finding_add(f, max, "slots %d-%d %s", slot, end, what);
		else
			finding_add(f, max, "slot %d %s", slot, what);
		slot = end + 1;
	}
}

void
check_slots_covered(const struct snapshot *s, struct verdict *v, int max)
{
	unsigned char bad[CLUSTER_SLOTS] = {0};
	int owner[CLUSTER_SLOTS], slot;

	v->f[F_UNCOVERED].checked = true;
	if (s->ref < 0)
		return;
	topology_slot_owners(&s->nodes[s->ref].view, owner);
	for (slot = 0; slot < CLUSTER_SLOTS; slot++)
		bad[slot] = owner[slot] < 0;
	add_slot_runs(&v->f[F_UNCOVERED], bad, max, "not covered by any node");
}

bool
snapshot_node_is_up(const struct snapshot *s, int idx)
{
	const struct cluster_node *n;
	size_t i;

	if (idx < 0 || !s->nodes[idx].reachable)
		return false;
	for (i = 0; i < s->n; i++) {
		if (!s->nodes[i].reachable)
			continue;
		n = topology_find(&s->nodes[i].view, s->nodes[idx].id);
		if (n && (n->flags & FAILED_FLAGS) && !(n->flags & NODE_MYSELF))
			return false;
	}
	return true;
}

void
check_slots_served(const struct snapshot *s, struct verdict *v, int max)
{
	unsigned char bad[CLUSTER_SLOTS] = {0};
	char up[2048] = {0}; /* per node: 0 unknown, 1 up, 2 down */
	int slot, o;

	v->f[F_UNSERVED].checked = true;
	for (slot = 0; slot < CLUSTER_SLOTS; slot++) {
		o = s->owner[slot];
		if (o < 0 || o >= (int)sizeof(up))
			continue;
		if (up[o] == 0)
			up[o] = snapshot_node_is_up(s, o) ? 1 : 2;
		bad[slot] = up[o] == 2;
	}
	add_slot_runs(&v->f[F_UNSERVED], bad, max, "owned by a node that is down");
}

void
check_slots_agree(const struct snapshot *s, struct verdict *v, int max)
{
	int owner[CLUSTER_SLOTS], other[CLUSTER_SLOTS], slot, y, *as_ref;
	const struct topology *ref, *t;
	struct finding *f = &v->f[F_DISAGREEMENT];
	unsigned char bad[CLUSTER_SLOTS] = {0};
	char a[96], b[96], wx[128], wy[128];
	size_t i;

	f->checked = true;
	if (s->ref < 0)
		return;
	ref = &s->nodes[s->ref].view;
	topology_slot_owners(ref, owner);
	for (i = 0; i < s->n; i++) {
		if (!s->nodes[i].reachable || (int)i == s->ref)
			continue;
		t = &s->nodes[i].view;
		topology_slot_owners(t, other);
		as_ref = xcalloc(t->n + 1, sizeof(*as_ref));
		topology_map_ids(t, ref, as_ref);
		for (slot = 0; slot < CLUSTER_SLOTS; slot++) {
			y = other[slot] < 0 ? -1 : as_ref[other[slot]];
			if (y == owner[slot] || bad[slot])
				continue;
			bad[slot] = 1;
			finding_add(f, max, "slot %d: %s says %s, %s says %s", slot,
				    addr(s, s->ref, a, sizeof(a)),
				    who(s, owner[slot] < 0 ? "" : ref->nodes[owner[slot]].id, wx,
					sizeof(wx)),
				    addr(s, (int)i, b, sizeof(b)),
				    who(s, other[slot] < 0 ? "" : t->nodes[other[slot]].id, wy,
					sizeof(wy)));
		}
		free(as_ref);
	}
}

void
check_open_slots(const struct snapshot *s, struct verdict *v, int max)
{
	const struct cluster_node *me;
	const struct open_slot *o;
	char a[96], b[128];
	size_t i, k;

	v->f[F_OPEN_SLOTS].checked = true;
	for (i = 0; i < s->n; i++) {
		if (!s->nodes[i].reachable)
			continue;
		me = topology_myself(&s->nodes[i].view);
		for (k = 0; me && k < me->nopen; k++) {
			o = &me->open[k];
			finding_add(&v->f[F_OPEN_SLOTS], max, "%s: slot %d %s %s",
				    addr(s, (int)i, a, sizeof(a)), o->slot,
				    o->state == SLOT_MIGRATING ? "migrating to" : "importing from",
				    who(s, o->peer, b, sizeof(b)));
		}
	}
}

void
check_cluster_state(const struct snapshot *s, struct verdict *v, int max)
{
	char a[96];
	size_t i;

	v->f[F_STATE].checked = true;
	for (i = 0; i < s->n; i++)
		if (s->nodes[i].reachable && strcmp(s->nodes[i].state, "ok") != 0)
			finding_add(&v->f[F_STATE], max, "%s: cluster_state:%s",
				    addr(s, (int)i, a, sizeof(a)),
				    s->nodes[i].state[0] ? s->nodes[i].state : "?");
}

void
check_failed_nodes(const struct snapshot *s, struct verdict *v, int max)
{
	const struct cluster_node *n;
	char flags[128];
	size_t i, k, j;
	bool dup;

	v->f[F_FAILED_NODES].checked = true;
	for (i = 0; i < s->n; i++) {
		if (!s->nodes[i].reachable)
			continue;
		for (k = 0; k < s->nodes[i].view.n; k++) {
			n = &s->nodes[i].view.nodes[k];
			if (!(n->flags & FAILED_FLAGS))
				continue;
			/* count each failed node once, from its first reporter */
			dup = false;
			for (j = 0; j < i && !dup; j++)
				dup = s->nodes[j].reachable &&
				      topology_find(&s->nodes[j].view, n->id) &&
				      (topology_find(&s->nodes[j].view, n->id)->flags & FAILED_FLAGS);
			if (!dup)
				finding_add(&v->f[F_FAILED_NODES], max, "%.8s (%s:%d) flagged %s",
					    n->id, n->ip, n->port,
					    node_flags_str(n->flags & FAILED_FLAGS, flags, sizeof(flags)));
		}
	}
}

void
check_reachable(const struct snapshot *s, struct verdict *v, int max)
{
	size_t i;

	v->f[F_UNREACHABLE_NODES].checked = true;
	for (i = 0; i < s->n; i++)
		if (!s->nodes[i].reachable)
			finding_add(&v->f[F_UNREACHABLE_NODES], max, "%.8s (%s:%d): %s",
				    s->nodes[i].id[0] ? s->nodes[i].id : "?",
				    s->nodes[i].host, s->nodes[i].port, s->nodes[i].error);
}

void
checks_run(const struct snapshot *s, struct verdict *v, int max)
{
	check_slots_covered(s, v, max);
	check_slots_served(s, v, max);
	check_slots_agree(s, v, max);
	check_open_slots(s, v, max);
	check_cluster_state(s, v, max);
	check_failed_nodes(s, v, max);
	check_reachable(s, v, max);
}
