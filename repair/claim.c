/*
 * claim.c - the applier's claim phases: before any key moves, no node
 * but the final owner claims a slot being fixed, and a final owner that
 * does not claim it yet holds it (imports it) until every key is back,
 * then claims it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/fetch.h"
#include "common/clock.h"
#include "common/xmalloc.h"
#include "repair/apply_int.h"
#include "repair/slotset.h"

/* True once live master h knows `id` as a master: in the assessed view,
 * else in its own, asked again until `deadline`. */
static bool
knows_master(struct applier *ap, int h, const char *id, uint64_t deadline)
{
	const struct cluster_node *n = topology_find(&ap->a->snap.nodes[h].view, id);
	struct topology t = TOPOLOGY_INIT;
	bool yes = n && (n->flags & NODE_MASTER);

	while (!yes && clock_now_ms() < deadline) {
		if (apply_conn(ap, h, NULL) == NULL || topology_fetch(ap->c[h], &t, NULL) < 0)
			break;
		n = topology_find(&t, id);
		yes = n && (n->flags & NODE_MASTER);
		topology_release(&t);
		if (!yes)
			clock_sleep_ms(20);
	}
	return yes;
}

void
claim_known(struct applier *ap)
{
	uint64_t deadline = clock_now_ms() + 5000;
	size_t h, i;

	for (h = 0; h < ap->a->snap.n; h++) {
		if (!assess_live_master(ap->a, (int)h))
			continue;
		for (i = 0; i < ap->p->n; i++) {
			const struct action *x = &ap->p->v[i];

			if (x->kind == ACT_FIX && (int)h != x->node &&
			    !knows_master(ap, (int)h, ap->a->snap.nodes[x->node].id, deadline))
				audit_note(ap->env->audit, "%s:%d does not know %.8s as a master yet",
					   ap->a->snap.nodes[h].host, ap->a->snap.nodes[h].port,
					   ap->a->snap.nodes[x->node].id);
		}
	}
}

/* Every node claiming or holding keys of a FIX slot it will not own gives
 * up its claim (DELSLOTS keeps keys), names the final owner, and, holding
 * keys, imports the slot from it: no node but the final owner claims the
 * slot when epochs move next.  One pipeline per node. */
int
claim_protect(struct applier *ap, struct err *e)
{
	struct batch b;
	char s[16];
	size_t h, i;

	for (h = 0; h < ap->a->snap.n; h++) {
		if (!assess_live_master(ap->a, (int)h))
			continue;
		b.c = NULL;
		b.n = 0;
		for (i = 0; i < ap->p->n; i++) {
			const struct action *x = &ap->p->v[i];
			const char *fid = ap->a->snap.nodes[x->node].id;

			bool claims, holds;

			const struct anchor *an;

			if (x->kind != ACT_FIX || (int)h == x->node)
				continue;
			an = anchor_of(ap, x->slot);
			claims = assess_claims(ap->a, (int)h, x->slot);
			holds = assess_keys(ap->a, (int)h, x->slot) > 0;
			if (!claims && !holds)
				continue;
			if (b.c == NULL && (b.c = apply_conn(ap, (int)h, e)) == NULL)
				return -1;
			apply_num(s, sizeof(s), x->slot);
			/* Valkey: the claimant that anchors the slot keeps it,
			 * migrating to the final owner (see anchor.c) */
			if (an && an->kind == ANCHOR_KEEP && an->node == (int)h) {
				const char *to = assess_migrating(ap->a, (int)h, x->slot);

				if (to == NULL || strcmp(to, fid) != 0)
					batch_queue(&b, "CLUSTER", "SETSLOT", s, "MIGRATING", fid);
				continue;
			}
			if (claims)
				batch_queue(&b, "CLUSTER", "DELSLOTS", s, NULL, NULL);
			batch_queue(&b, "CLUSTER", "SETSLOT", s, "NODE",
				    an && an->kind == ANCHOR_KEEP ? an->id : fid);
			if (holds) {
				batch_queue(&b, "CLUSTER", "SETSLOT", s, "IMPORTING",
					    an && an->kind != ANCHOR_SELF ? an->id : fid);
				restore_opened(ap, (int)h, x->slot);
			}
		}
		if (b.c && batch_run(&b, false, e) < 0)
			return err_prefix(e, "protect: ");
	}
	return 0;
}

/* Some master other than f that f's view knows: the owner of the slot
 * there when it has one. */
static const char *
peer_for(const struct topology *v, const int *owners, int slot)
{
	size_t i;

	if (owners[slot] >= 0 && !(v->nodes[owners[slot]].flags & NODE_MYSELF))
		return v->nodes[owners[slot]].id;
	for (i = 0; i < v->n; i++)
		if ((v->nodes[i].flags & NODE_MASTER) && !(v->nodes[i].flags & NODE_MYSELF))
			return v->nodes[i].id;
	return NULL;
}

/* On Valkey, f imports the slot from its anchor (bound to it first where
 * f sees no owner): a claimant or a node that is down; a SELF slot is
 * f's already, not held. */
static int
queue_anchored_hold(struct applier *ap, struct batch *b, int f, const int *owners, int slot,
		    const struct anchor *an)
{
	const char *from = assess_importing(ap->a, f, slot);
	char s[16];

	if (an->kind == ANCHOR_SELF)
		return 0;
	ap->held[slot] = true;
	apply_num(s, sizeof(s), slot);
	if (an->kind == ANCHOR_DOWN && owners[slot] < 0) {
		batch_queue(b, "CLUSTER", "SETSLOT", s, "NODE", an->id);
		restore_bound(ap, f, slot);
	}
	if (from == NULL || strcmp(from, an->id) != 0) {
		batch_queue(b, "CLUSTER", "SETSLOT", s, "IMPORTING", an->id);
		restore_opened(ap, f, slot);
	}
	return 0;
}

/* On f, the slots of one action it does not claim yet: imported (after
 * assigning a slot nobody owns in its view to a peer), held. */
static int
queue_holds(struct applier *ap, struct batch *b, int f, const int *owners, const int *slots,
	    size_t n, struct err *e)
{
	const struct topology *v = &ap->a->snap.nodes[f].view;
	const char *peer;
	char s[16];
	size_t i;

	for (i = 0; i < n; i++) {
		const struct anchor *an = anchor_of(ap, slots[i]);

		if (assess_claims(ap->a, f, slots[i]))
			continue;
		if (an) { /* Valkey */
			if (queue_anchored_hold(ap, b, f, owners, slots[i], an) < 0)
				return -1;
			continue;
		}
		ap->held[slots[i]] = true;
		if (assess_importing(ap->a, f, slots[i]) && owners[slots[i]] >= 0)
			continue;
		if ((peer = peer_for(v, owners, slots[i])) == NULL)
			return err_set(e, 0, "%s knows no other master to import slot %d from",
				       conn_addr(b->c), slots[i]);
		apply_num(s, sizeof(s), slots[i]);
		if (owners[slots[i]] < 0) {
			batch_queue(b, "CLUSTER", "SETSLOT", s, "NODE", peer);
			restore_bound(ap, f, slots[i]);
		}
		if (!assess_importing(ap->a, f, slots[i])) {
			batch_queue(b, "CLUSTER", "SETSLOT", s, "IMPORTING", peer);
			restore_opened(ap, f, slots[i]);
		}
	}
	return 0;
}

/* Each final owner imports the slots it does not claim yet: they refuse
 * clients (MOVED elsewhere, or CLUSTERDOWN) but take keys by MIGRATE.
 * One pipeline per owner. */
int
claim_hold(struct applier *ap, struct err *e)
{
	int *owners = xcalloc(CLUSTER_SLOTS, sizeof(int));
	struct batch b;
	const int *slots;
	size_t f, i, n;
	int rc = -1;

	for (f = 0; f < ap->a->snap.n; f++) {
		if (!assess_live_master(ap->a, (int)f))
			continue;
		b.c = NULL;
		b.n = 0;
		for (i = 0; i < ap->p->n; i++) {
			const struct action *x = &ap->p->v[i];

			if ((slots = action_slots(x, &n)) == NULL || n == 0 || x->node != (int)f)
				continue;
			if (b.c == NULL) {
				if ((b.c = apply_conn(ap, (int)f, e)) == NULL)
					goto out;
				topology_slot_owners(&ap->a->snap.nodes[f].view, owners);
			}
			if (queue_holds(ap, &b, (int)f, owners, slots, n, e) < 0)
				goto out;
		}
		if (b.c && batch_run(&b, false, e) < 0) {
			err_prefix(e, "hold: ");
			goto out;
		}
		ap->held_since[f] = clock_now_ms();
	}
	rc = 0;
out:
	free(owners);
	return rc;
}

/* One window per owner: its held slots, and how long. */
static void
held_window(struct applier *ap, int f, const bool *slots)
{
	struct apply_result *r = ap->res;
	struct held_window *w;
	int slot;

	if (r->nheld >= APPLY_HELD_MAX)
		return;
	w = &r->held[r->nheld++];
	assess_addr(ap->a, f, w->owner, sizeof(w->owner));
	slotset_str(slots, w->slots, sizeof(w->slots));
	w->nslots = slotset_count(slots);
	w->ms = (long long)(clock_now_ms() - ap->held_since[f]);
	w->served = false;
	for (slot = 0; slot < CLUSTER_SLOTS && !w->served; slot++)
		w->served = slots[slot] && anchor_of(ap, slot) &&
			    anchor_of(ap, slot)->kind == ANCHOR_KEEP;
	audit_note(ap->env->audit, "%s held slots %s for %lld ms", w->owner, w->slots, w->ms);
}

/* Valkey: each claimant that anchored a held slot gives it to its final
 * owner, which claims it now (its keys have moved: a node refuses to
 * give away a slot it still holds keys of). */
static int
anchors_give_up(struct applier *ap, struct err *e)
{
	const struct anchor *an;
	struct batch b;
	char s[16];
	size_t h;
	int slot;

	for (h = 0; ap->anchor && h < ap->a->snap.n; h++) {
		b.c = NULL;
		b.n = 0;
		for (slot = 0; slot < CLUSTER_SLOTS; slot++) {
			if ((an = anchor_of(ap, slot)) == NULL || an->kind != ANCHOR_KEEP ||
			    an->node != (int)h || !ap->held[slot])
				continue;
			if (b.c == NULL && (b.c = apply_conn(ap, (int)h, e)) == NULL)
				return -1;
			apply_num(s, sizeof(s), slot);
			batch_queue(&b, "CLUSTER", "SETSLOT", s, "NODE",
				    ap->a->snap.nodes[ap->final[slot]].id);
		}
		if (b.c && batch_run(&b, false, e) < 0)
			return err_prefix(e, "claim: the anchor gives up: ");
	}
	return 0;
}

/* Each final owner claims the slots it held (SETSLOT NODE itself ends
 * the import and bumps its epoch), then BUMPEPOCH: its claim now wins
 * over any other.  One pipeline per owner. */
int
claim_take(struct applier *ap, struct err *e)
{
	bool *mine = xcalloc(CLUSTER_SLOTS, sizeof(bool));
	struct batch b;
	size_t f;
	int slot, rc = -1;
	char s[16];

	for (f = 0; f < ap->a->snap.n; f++) {
		bool owner = false, any = false;

		if (!assess_live_master(ap->a, (int)f))
			continue;
		b.c = NULL;
		b.n = 0;
		memset(mine, 0, CLUSTER_SLOTS * sizeof(bool));
		for (slot = 0; slot < CLUSTER_SLOTS; slot++) {
			if (ap->final[slot] != (int)f)
				continue;
			owner = true;
			if (!ap->held[slot])
				continue;
			if (b.c == NULL && (b.c = apply_conn(ap, (int)f, e)) == NULL)
				goto out;
			apply_num(s, sizeof(s), slot);
			batch_queue(&b, "CLUSTER", "SETSLOT", s, "NODE", ap->a->snap.nodes[f].id);
			mine[slot] = any = true;
		}
		/* an owner of slots it claimed all along bumps too: its claim
		 * must win over a dead node's */
		if (!owner)
			continue;
		if (b.c == NULL && (b.c = apply_conn(ap, (int)f, e)) == NULL)
			goto out;
		batch_queue(&b, "CLUSTER", "BUMPEPOCH", NULL, NULL, NULL);
		if (batch_run(&b, false, e) < 0) {
			err_prefix(e, "claim: ");
			goto out;
		}
		if (any)
			held_window(ap, (int)f, mine);
	}
	rc = anchors_give_up(ap, e);
out:
	free(mine);
	return rc;
}

/* The nodes' own views: each final owner claims its slots (those it
 * holds only once `claimed`) and no other reachable master does (a claim
 * that survived protection would cost the loser its keys once epochs
 * settle).  Gossip may lag a moment: looked at again for up to 2 s. */
int
claim_check(struct applier *ap, bool claimed, struct err *e)
{
	uint64_t deadline = clock_now_ms() + 2000;
	struct topology *views = xcalloc(ap->a->snap.n + 1, sizeof(*views));
	const struct cluster_node *me;
	const int *slots;
	size_t h, i, k, n;
	int rc;

	do {
		rc = 0;
		for (h = 0; h < ap->a->snap.n && rc == 0; h++) {
			topology_release(&views[h]);
			if (!assess_live_master(ap->a, (int)h))
				continue;
			if (apply_conn(ap, (int)h, e) == NULL || topology_fetch(ap->c[h], &views[h], e) < 0)
				rc = err_prefix(e, "after the claim: ");
		}
		for (i = 0; i < ap->p->n && rc == 0; i++) {
			const struct action *x = &ap->p->v[i];

			if ((slots = action_slots(x, &n)) == NULL)
				continue;
			for (k = 0; k < n && rc == 0; k++)
				for (h = 0; h < ap->a->snap.n && rc == 0; h++) {
					bool owns, should;

					if (!assess_live_master(ap->a, (int)h) ||
					    (me = topology_myself(&views[h])) == NULL)
						continue;
					owns = cluster_node_has_slot(me, slots[k]);
					should = (int)h == x->node && (claimed || !ap->held[slots[k]]);
					/* Valkey: a claimant anchors it until the take */
					if (!claimed && anchor_of(ap, slots[k]) &&
					    anchor_of(ap, slots[k])->kind == ANCHOR_KEEP)
						should = anchor_of(ap, slots[k])->node == (int)h;
					if (owns != should)
						rc = err_set(e, 0, "%s, %s:%d %s slot %d",
							     claimed ? "after the claim" : "before the move",
							     ap->a->snap.nodes[h].host,
							     ap->a->snap.nodes[h].port,
							     owns ? "still claims" : "does not claim",
							     slots[k]);
				}
		}
		if (rc < 0 && clock_now_ms() < deadline)
			clock_sleep_ms(50);
	} while (rc < 0 && clock_now_ms() < deadline);
	for (h = 0; h < ap->a->snap.n; h++)
		topology_release(&views[h]);
	free(views);
	return rc;
}
