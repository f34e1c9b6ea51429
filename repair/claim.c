/*
 * claim.c - the applier's claim phases: before any key moves and before
 * any epoch changes, exactly one node claims each slot being fixed.
 */
#include <stdio.h>
#include <stdlib.h>

#include "cluster/fetch.h"
#include "common/clock.h"
#include "common/xmalloc.h"
#include "repair/apply_int.h"

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

			if (x->kind != ACT_FIX || (int)h == x->node)
				continue;
			claims = assess_claims(ap->a, (int)h, x->slot);
			holds = assess_keys(ap->a, (int)h, x->slot) > 0;
			if (!claims && !holds)
				continue;
			if (b.c == NULL && (b.c = apply_conn(ap, (int)h, e)) == NULL)
				return -1;
			apply_num(s, sizeof(s), x->slot);
			if (claims)
				batch_queue(&b, "CLUSTER", "DELSLOTS", s, NULL, NULL);
			batch_queue(&b, "CLUSTER", "SETSLOT", s, "NODE", fid);
			if (holds) {
				batch_queue(&b, "CLUSTER", "SETSLOT", s, "IMPORTING", fid);
				restore_opened(ap, (int)h, x->slot);
			}
		}
		if (b.c && batch_run(&b, false, e) < 0)
			return err_prefix(e, "protect: ");
	}
	return 0;
}

/* Some master other than f that f's view knows: the peer f pretends to
 * import a slot from before claiming it. */
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

/* On f, the claims of the slots it does not claim yet. */
static int
queue_claims(struct applier *ap, struct batch *b, int f, const int *owners, const int *slots,
	     size_t n, struct err *e)
{
	const struct topology *v = &ap->a->snap.nodes[f].view;
	const char *fid = ap->a->snap.nodes[f].id, *peer;
	char s[16];
	size_t i;

	for (i = 0; i < n; i++) {
		if (assess_claims(ap->a, f, slots[i]))
			continue;
		apply_num(s, sizeof(s), slots[i]);
		if (!assess_importing(ap->a, f, slots[i])) {
			if ((peer = peer_for(v, owners, slots[i])) == NULL)
				return err_set(e, 0, "%s knows no other master to claim slot %d "
					       "from", conn_addr(b->c), slots[i]);
			batch_queue(b, "CLUSTER", "SETSLOT", s, "IMPORTING", peer);
			restore_opened(ap, f, slots[i]);
		}
		batch_queue(b, "CLUSTER", "SETSLOT", s, "NODE", fid);
	}
	return 0;
}

/* Each final owner takes the slots it does not claim yet (IMPORTING, then
 * NODE itself, which bumps its epoch), then BUMPEPOCH: its claim now wins
 * over any other.  One pipeline per owner. */
int
claim_take(struct applier *ap, struct err *e)
{
	int *owners = xcalloc(CLUSTER_SLOTS, sizeof(int));
	struct batch b;
	size_t f, i;
	int rc = -1;

	for (f = 0; f < ap->a->snap.n; f++) {
		if (!assess_live_master(ap->a, (int)f))
			continue;
		b.c = NULL;
		b.n = 0;
		for (i = 0; i < ap->p->n; i++) {
			const struct action *x = &ap->p->v[i];

			if ((x->kind != ACT_FIX && x->kind != ACT_COVER) || x->node != (int)f)
				continue;
			if (b.c == NULL) {
				if ((b.c = apply_conn(ap, (int)f, e)) == NULL)
					goto out;
				topology_slot_owners(&ap->a->snap.nodes[f].view, owners);
			}
			if (queue_claims(ap, &b, (int)f, owners, x->kind == ACT_FIX ? &x->slot : x->slots,
					 x->kind == ACT_FIX ? 1 : x->nslots, e) < 0)
				goto out;
		}
		if (b.c == NULL)
			continue;
		batch_queue(&b, "CLUSTER", "BUMPEPOCH", NULL, NULL, NULL);
		if (batch_run(&b, false, e) < 0) {
			err_prefix(e, "claim: ");
			goto out;
		}
	}
	rc = 0;
out:
	free(owners);
	return rc;
}

/* The nodes' own views after the claim phase: each final owner claims
 * its slots and no other reachable master does (a claim that survived
 * protection would cost the loser its keys once epochs settle).  Gossip
 * may lag a moment: looked at again for up to 2 s. */
int
claim_check(struct applier *ap, struct err *e)
{
	uint64_t deadline = clock_now_ms() + 2000;
	struct topology *views = xcalloc(ap->a->snap.n + 1, sizeof(*views));
	const struct cluster_node *me;
	size_t h, i, k;
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
			const int *slots = x->kind == ACT_FIX ? &x->slot : x->slots;
			size_t n = x->kind == ACT_FIX ? 1 : x->kind == ACT_COVER ? x->nslots : 0;

			for (k = 0; k < n && rc == 0; k++)
				for (h = 0; h < ap->a->snap.n && rc == 0; h++) {
					bool owns;

					if (!assess_live_master(ap->a, (int)h) ||
					    (me = topology_myself(&views[h])) == NULL)
						continue;
					owns = cluster_node_has_slot(me, slots[k]);
					if (owns != ((int)h == x->node))
						rc = err_set(e, 0, "after the claim, %s:%d %s slot %d",
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
