/*
 * anchor.c - where the claim phases must import from on Valkey 8.
 *
 * A Valkey 8 primary that imports a slot ends the import, and claims the
 * slot itself, as soon as its source's gossip does not claim that slot
 * (clusterUpdateSlotsConfigWith, valkey 8.0; Redis 7.0 keeps an import
 * until told).  The claim phases import on the final owner of a slot it
 * does not claim yet (the hold) and on every other node that holds keys
 * of it (protect); on Redis they import from the final owner or from any
 * peer.  On Valkey each import must come from a node that keeps
 * claiming the slot, or from one that sends no gossip at all.  Per slot
 * of a FIX or COVER action whose final owner does not claim it, one
 * anchor:
 *
 *   KEEP  a live master that claims the slot keeps it, MIGRATING to the
 *         final owner, until the take: clients of the slot are served as
 *         in any live migration (a key it has is served there, another
 *         is ASKed to the final owner), and it gives the slot up only
 *         once its keys have moved;
 *   DOWN  a master that is down, known to every live master: the final
 *         owner (bound to it where it owns nothing) and the holders
 *         import from it, and clients are refused until the take, as on
 *         Redis;
 *   SELF  neither: the final owner claims the slot at once (and bumps
 *         its epoch), holders import from it; clients are served before
 *         the keys are back, and a value they write meanwhile meets the
 *         moved or salvaged one as a conflict, kept on both sides.
 */
#include <stdlib.h>
#include <string.h>

#include "cluster/fetch.h"
#include "cluster/server.h"
#include "common/xmalloc.h"
#include "repair/apply_int.h"

/* True when every live master's fresh view knows node `id`. */
static bool
known_to_all(const struct applier *ap, const struct topology *views, const char *id)
{
	size_t h;

	for (h = 0; h < ap->a->snap.n; h++)
		if (assess_live_master(ap->a, (int)h) && topology_find(&views[h], id) == NULL)
			return false;
	return true;
}

/* A master that is down in f's fresh view and known to every live
 * master: the slot's owner there first. */
static const char *
down_peer(const struct applier *ap, const struct topology *views, int f, int slot)
{
	const struct topology *v = &views[f];
	int *owners = xcalloc(CLUSTER_SLOTS, sizeof(int));
	const struct cluster_node *o;
	const char *id = NULL;
	size_t i;

	topology_slot_owners(v, owners);
	o = owners[slot] >= 0 ? &v->nodes[owners[slot]] : NULL;
	free(owners);
	if (o && (o->flags & (NODE_FAIL | NODE_PFAIL)) && !(o->flags & NODE_MYSELF) &&
	    known_to_all(ap, views, o->id))
		return o->id;
	for (i = 0; i < v->n && id == NULL; i++)
		if ((v->nodes[i].flags & NODE_MASTER) && (v->nodes[i].flags & NODE_FAIL) &&
		    !(v->nodes[i].flags & NODE_MYSELF) && known_to_all(ap, views, v->nodes[i].id))
			id = v->nodes[i].id;
	return id;
}

/* A live master other than f that claims the slot, or -1. */
static int
live_claimant(const struct applier *ap, int f, int slot)
{
	size_t h;

	for (h = 0; h < ap->a->snap.n; h++)
		if ((int)h != f && assess_live_master(ap->a, (int)h) &&
		    assess_claims(ap->a, (int)h, slot))
			return (int)h;
	return -1;
}

/* On f, the SELF slots claimed now, then its epoch bumped. */
static int
claim_now(struct applier *ap, int f, const struct topology *view, struct err *e)
{
	int *owners = xcalloc(CLUSTER_SLOTS, sizeof(int));
	struct batch b = {.c = NULL, .n = 0};
	char s[16];
	int slot, rc = 0;

	topology_slot_owners(view, owners);
	for (slot = 0; slot < CLUSTER_SLOTS; slot++) {
		if (ap->anchor[slot].kind != ANCHOR_SELF || ap->final[slot] != f)
			continue;
		if (b.c == NULL && (b.c = apply_conn(ap, f, e)) == NULL) {
			rc = -1;
			goto out;
		}
		apply_num(s, sizeof(s), slot);
		if (owners[slot] < 0)
			batch_queue(&b, "CLUSTER", "ADDSLOTS", s, NULL, NULL);
		else
			batch_queue(&b, "CLUSTER", "SETSLOT", s, "NODE", ap->a->snap.nodes[f].id);
	}
	if (b.c) {
		batch_queue(&b, "CLUSTER", "BUMPEPOCH", NULL, NULL, NULL);
		if (batch_run(&b, false, e) < 0)
			rc = err_prefix(e, "claim at once: ");
	}
out:
	free(owners);
	return rc;
}

/* The anchors of every slot whose final owner does not claim it, from
 * fresh views (Valkey spreads a FORGET by gossip: a snapshot's view may
 * know a node nobody knows now); SELF slots claimed at once. */
static int
place(struct applier *ap, struct err *e)
{
	struct topology *views = xcalloc(ap->a->snap.n + 1, sizeof(*views));
	const char *d;
	size_t h;
	int slot, f, o, rc = 0;

	for (h = 0; h < ap->a->snap.n && rc == 0; h++)
		if (assess_live_master(ap->a, (int)h) &&
		    (apply_conn(ap, (int)h, e) == NULL ||
		     topology_fetch(ap->c[h], &views[h], e) < 0))
			rc = err_prefix(e, "anchor: ");
	for (slot = 0; slot < CLUSTER_SLOTS && rc == 0; slot++) {
		struct anchor *an = &ap->anchor[slot];

		if ((f = ap->final[slot]) < 0 || assess_claims(ap->a, f, slot))
			continue;
		if ((o = live_claimant(ap, f, slot)) >= 0) {
			*an = (struct anchor){.kind = ANCHOR_KEEP, .node = o,
					      .id = ap->a->snap.nodes[o].id};
		} else if ((d = down_peer(ap, views, f, slot)) != NULL) {
			an->kind = ANCHOR_DOWN;
			an->node = -1;
			snprintf(an->id_buf, sizeof(an->id_buf), "%s", d);
			an->id = an->id_buf;
		} else {
			*an = (struct anchor){.kind = ANCHOR_SELF, .node = f,
					      .id = ap->a->snap.nodes[f].id};
		}
	}
	for (h = 0; h < ap->a->snap.n && rc == 0; h++)
		if (assess_live_master(ap->a, (int)h))
			rc = claim_now(ap, (int)h, &views[h], e);
	for (h = 0; h < ap->a->snap.n; h++)
		topology_release(&views[h]);
	free(views);
	return rc;
}

int
anchor_place(struct applier *ap, struct err *e)
{
	size_t h;

	for (h = 0; h < ap->a->snap.n; h++) {
		if (!assess_live_master(ap->a, (int)h))
			continue;
		if (apply_conn(ap, (int)h, e) == NULL)
			return -1;
		if (!server_ends_unclaimed_imports(ap->c[h]))
			return 0; /* Redis, or an older Valkey: no anchors */
		break;
	}
	if (h == ap->a->snap.n)
		return 0;
	ap->anchor = xcalloc(CLUSTER_SLOTS, sizeof(*ap->anchor));
	audit_note(ap->env->audit, "Valkey 8: imports anchored on a claimant, a node that is down, "
		   "or the owner itself");
	return place(ap, e);
}

const struct anchor *
anchor_of(const struct applier *ap, int slot)
{
	return ap->anchor && ap->anchor[slot].kind != ANCHOR_NONE ? &ap->anchor[slot] : NULL;
}
