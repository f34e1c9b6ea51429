/*
 * plan_nodes.c - the plan for nodes that are down: restarted, forgotten
 * once given up, or kept with a note saying what they still hold the
 * cluster to and what the user can do about it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"
#include "repair/plan_int.h"
#include "repair/slotset.h"

void
kept_add(struct kept *k, int slot, bool open)
{
	bool **set = open ? &k->open : &k->owned;

	if (*set == NULL)
		*set = xcalloc(CLUSTER_SLOTS, sizeof(bool));
	if (!(*set)[slot])
		open ? k->nopen++ : k->nowned++;
	(*set)[slot] = true;
}

void
kept_release(struct kept *k)
{
	free(k->owned);
	free(k->open);
	memset(k, 0, sizeof(*k));
}

void
plan_restarts(const struct assessment *a, struct plan *p)
{
	struct action *x;
	size_t i;
	char ad[80];

	for (i = 0; i < a->snap.n; i++) {
		if (a->nodes[i].reachable)
			continue;
		x = plan_add(p, ACT_RESTART, (int)i);
		snprintf(x->reason, sizeof(x->reason),
			 "%s (%.8s, %s) is down: start it again from its own files, then assess "
			 "again", assess_addr(a, (int)i, ad, sizeof(ad)), a->snap.nodes[i].id,
			 a->nodes[i].master ? "master" : "replica");
		p->restart_first = true;
	}
}

/* A reachable replica of node d, by its own view, or -1. */
static int
replica_of(const struct assessment *a, int d)
{
	const struct cluster_node *me;
	size_t i;

	for (i = 0; i < a->snap.n; i++) {
		if (!a->nodes[i].reachable || a->nodes[i].master ||
		    (me = topology_myself(&a->snap.nodes[i].view)) == NULL)
			continue;
		if (strcmp(me->master_id, a->snap.nodes[d].id) == 0)
			return (int)i;
	}
	return -1;
}

void
plan_replica_states(const struct assessment *a, struct plan *p)
{
	const struct cluster_node *me;
	struct action *x;
	char ar[80], ap[80];
	size_t i, k;
	int m, slot;

	for (i = 0; i < a->snap.n; i++) {
		if (!a->nodes[i].reachable || a->nodes[i].master || (me = a->nodes[i].me) == NULL ||
		    (m = assess_master_of(a, (int)i)) < 0 || !assess_live_master(a, m))
			continue;
		for (k = 0; k < me->nopen; k++) {
			slot = me->open[k].slot;
			/* open on the primary too: its FIX closes both */
			if (assess_migrating(a, m, slot) || assess_importing(a, m, slot))
				continue;
			assess_addr(a, (int)i, ar, sizeof(ar));
			assess_addr(a, m, ap, sizeof(ap));
			if (a->valkey_major < 8) {
				plan_note(p, "slot %d is %s in the own view of replica %s, stable on its "
					  "primary %s: this server passes no SETSLOT on to replicas "
					  "(CLUSTER REPLICATE again, or a restart of the replica, clears "
					  "it); left alone", slot,
					  me->open[k].state == SLOT_MIGRATING ? "migrating" : "importing",
					  ar, ap);
				continue;
			}
			x = plan_add(p, ACT_STABLE, m);
			x->slot = slot;
			x->from = (int)i;
			snprintf(x->reason, sizeof(x->reason),
				 "slot %d is %s in the own view of replica %s (a SETSLOT its "
				 "primary %s refused, NOREPLICAS, applied from the replication "
				 "stream), stable on the primary: SETSLOT %d STABLE on the primary, "
				 "which Valkey passes on to the replica", slot,
				 me->open[k].state == SLOT_MIGRATING ? "migrating" : "importing", ar,
				 ap, slot);
		}
	}
}

void
plan_promotions(const struct assessment *a, const struct repair_opts *o, struct plan *p)
{
	struct action *x;
	char ad[80], ar[80];
	size_t d;
	int r, slot, slots;

	for (d = 0; d < a->snap.n; d++) {
		if (a->nodes[d].reachable || !a->nodes[d].master || !a->nodes[d].failed)
			continue;
		for (slot = 0, slots = 0; slot < CLUSTER_SLOTS; slot++)
			slots += assess_ref_owner(a, slot) == (int)d;
		if (slots == 0 || (r = replica_of(a, (int)d)) < 0)
			continue;
		assess_addr(a, (int)d, ad, sizeof(ad));
		assess_addr(a, r, ar, sizeof(ar));
		if (a->nodes[r].stale) {
			/* the cluster's own failover refuses it: so does the plan,
			 * consent or not; the master's files, when read, are newer */
			plan_note(p, "%s (%.8s, master) is down and serves %d slots; its replica %s "
				  "(%.8s) is too stale to take its place (%s): promoted, it would "
				  "serve without the writes its master took since; not promoted",
				  ad, a->snap.nodes[d].id, slots, ar, a->snap.nodes[r].id,
				  a->nodes[r].stale_why);
			continue;
		}
		if (!o->allow_failover) {
			/* said, not done: who serves the slots is the user's call */
			plan_note(p, "%s (%.8s, master) is down and serves %d slots; its replica %s "
				  "(%.8s) answers: promoting it (CLUSTER FAILOVER TAKEOVER) would serve "
				  "them again with the keys it replicated, but a failover needs your "
				  "consent: run again with --failover ([repair] failover = yes in a "
				  "scenario); not promoted", ad, a->snap.nodes[d].id, slots, ar,
				  a->snap.nodes[r].id);
			continue;
		}
		x = plan_add(p, ACT_PROMOTE, r);
		x->from = (int)d;
		snprintf(x->reason, sizeof(x->reason),
			 "%s (%.8s, master) is down and serves %d slots; its replica %s (%.8s) "
			 "answers: promote it (CLUSTER FAILOVER TAKEOVER, --failover allows it), as "
			 "the cluster's own failover would, so that it serves them with the keys it "
			 "replicated; then assess again", ad, a->snap.nodes[d].id, slots, ar,
			 a->snap.nodes[r].id);
		p->restart_first = true;
	}
}

/* Reachable masters that were replicas once (promoted by a failover)
 * with a newer config epoch than node d: who may have replaced it.  The
 * number of them; the first in *first. */
static int
replacements(const struct assessment *a, int d, int *first)
{
	size_t i;
	int n = 0;

	*first = -1;
	for (i = 0; i < a->snap.n; i++)
		if (assess_live_master(a, (int)i) && a->nodes[i].promoted &&
		    a->nodes[i].epoch > a->nodes[d].epoch) {
			if (n++ == 0)
				*first = (int)i;
		}
	return n;
}

/* Why a source named for node d does not let it go: not read, or no
 * key in it. */
static void
source_word(const struct assessment *a, int d, char *buf, size_t n)
{
	size_t k;

	buf[0] = '\0';
	for (k = 0; k < a->nsrc; k++) {
		if (a->src[k].node != d)
			continue;
		if (!a->src[k].read)
			snprintf(buf, n, "; its files %s could not be read (%s)", a->src[k].dir,
				 a->src[k].error);
		else if (a->src[k].keys == 0)
			snprintf(buf, n, "; its files %s hold no key: if it held none, give it up "
				 "with --allow-data-loss", a->src[k].dir);
		return;
	}
}

/* The note for a master that is down and kept: what it serves (owned
 * slots only), what is open with it, and what the user can do. */
static void
note_kept(const struct assessment *a, struct plan *p, int d, const struct kept *k)
{
	char ad[80], ra[80], owned[200] = "", open[200] = "", what[600], src[400];
	const char *nf = a->nodes[d].failed ? "" : " (not flagged failed by the others yet)";
	int r, nr;

	assess_addr(a, d, ad, sizeof(ad));
	source_word(a, d, src, sizeof(src));
	if (k->nowned == 0 && k->nopen == 0 && (nr = replacements(a, d, &r)) > 0) {
		/* a failover: its replica serves its slots now */
		assess_addr(a, r, ra, sizeof(ra));
		plan_note(p, "%s (%.8s, master) is down%s and was replaced by %s: %s (%.8s), "
			  "promoted, serves its slots now with the keys it had replicated.  "
			  "Restart it (--restart-cmd: it comes back as a replica), read its files "
			  "for writes not replicated in time (--salvage %s=DIR), or forget it as it "
			  "is (--allow-data-loss: those writes, if any, are lost); left alone%s", ad,
			  a->snap.nodes[d].id, nf, nr == 1 ? "its replica" : "a replica", ra,
			  a->snap.nodes[r].id, ad, src);
		return;
	}
	if (k->owned)
		slotset_str(k->owned, owned, sizeof(owned));
	if (k->open)
		slotset_str(k->open, open, sizeof(open));
	if (k->nowned)
		snprintf(what, sizeof(what), "serves %d slots (%s)%s%s%s", k->nowned, owned,
			 k->nopen ? " and has slots " : "", open,
			 k->nopen ? " open with live masters" : "");
	else if (k->nopen)
		snprintf(what, sizeof(what), "serves no slot; slots %s are open between it and "
			 "live masters (it may hold keys of them)", open);
	else
		snprintf(what, sizeof(what), "serves no slot (it may hold keys of slots it was "
			 "importing)");
	plan_note(p, "%s (%.8s, master) is down%s and %s: restart it (--restart-cmd), salvage "
		  "its files (--salvage %s=DIR), or give it up with --allow-data-loss; it and its "
		  "slots are left alone%s", ad, a->snap.nodes[d].id, nf, what, ad, src);
}

void
plan_down_nodes(const struct assessment *a, const struct repair_opts *o, struct plan *p,
		const struct kept *kept)
{
	struct action *x;
	size_t i;
	char ad[80];

	for (i = 0; i < a->snap.n; i++) {
		if (a->nodes[i].reachable)
			continue;
		assess_addr(a, (int)i, ad, sizeof(ad));
		if (a->nodes[i].master && !plan_given_up(a, o, (int)i)) {
			note_kept(a, p, (int)i, &kept[i]);
			continue;
		}
		if (!a->nodes[i].master && !a->nodes[i].failed) {
			plan_note(p, "%s (%.8s, replica) does not answer, but nobody flags it failed: "
				  "left alone", ad, a->snap.nodes[i].id);
			continue;
		}
		x = plan_add(p, ACT_FORGET, (int)i);
		snprintf(x->reason, sizeof(x->reason),
			 "%s (%.8s, %s) is down and serves no slot now: every node forgets it", ad,
			 a->snap.nodes[i].id, a->nodes[i].master ? "master" : "replica");
	}
}
