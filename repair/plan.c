/* plan.c - from an assessment to an ordered plan; see plan.h. */
#include "repair/plan.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"
#include "repair/plan_int.h"
#include "repair/slotset.h"

static const char *const kind_names[] = {"restart", "fix", "cover", "salvage", "forget",
					 "promote", "stable"};

const char *
action_kind_name(enum action_kind k)
{
	return kind_names[k];
}

const int *
action_slots(const struct action *x, size_t *n)
{
	*n = x->kind == ACT_FIX ? 1 : x->kind == ACT_COVER ? x->nslots : 0;
	return x->kind == ACT_FIX ? &x->slot : x->slots;
}

struct action *
plan_add(struct plan *p, enum action_kind k, int node)
{
	struct action *x;

	p->v = xreallocarray(p->v, p->n + 1, sizeof(*p->v));
	x = &p->v[p->n++];
	memset(x, 0, sizeof(*x));
	x->kind = k;
	x->node = node;
	x->slot = -1;
	x->from = -1;
	x->src = -1;
	return x;
}

void
plan_note(struct plan *p, const char *fmt, ...)
{
	va_list ap;

	p->notes = xreallocarray(p->notes, p->nnotes + 1, sizeof(*p->notes));
	va_start(ap, fmt);
	vsnprintf(p->notes[p->nnotes++], sizeof(p->notes[0]), fmt, ap);
	va_end(ap);
}

void
plan_saw(struct plan *p, const char *fmt, ...)
{
	va_list ap;

	p->seen = xreallocarray(p->seen, p->nseen + 1, sizeof(*p->seen));
	va_start(ap, fmt);
	vsnprintf(p->seen[p->nseen++], sizeof(p->seen[0]), fmt, ap);
	va_end(ap);
}

bool
plan_given_up(const struct assessment *a, const struct repair_opts *o, int i)
{
	return !a->nodes[i].reachable && a->nodes[i].failed &&
	       (o->allow_data_loss || assess_source_of(a, i));
}

/* A node that is down and not given up that a reachable master has the
 * slot migrating to or importing from, or -1. */
static int
open_to_kept(const struct assessment *a, const struct repair_opts *o, int slot)
{
	const char *peer;
	size_t i;
	int k;

	for (i = 0; i < a->snap.n; i++) {
		if (!assess_live_master(a, (int)i))
			continue;
		peer = assess_migrating(a, (int)i, slot);
		if (!peer)
			peer = assess_importing(a, (int)i, slot);
		k = peer ? snapshot_find_id(&a->snap, peer) : -1;
		if (k >= 0 && !a->nodes[k].reachable && !plan_given_up(a, o, k))
			return k;
	}
	return -1;
}

/* A node that is down and that any reachable node's view names as the
 * slot's owner, or -1: a forget that reached only some nodes must not
 * hide a dead owner. */
static int
dead_owner_of(const struct assessment *a, int **owners, int slot)
{
	size_t i;
	int k;

	for (i = 0; i < a->snap.n; i++) {
		if (!owners[i] || owners[i][slot] < 0)
			continue;
		k = snapshot_find_id(&a->snap, a->snap.nodes[i].view.nodes[owners[i][slot]].id);
		if (k >= 0 && !a->nodes[k].reachable)
			return k;
	}
	return -1;
}

/* Everything the plan needs to know of one slot. */
struct slotinfo {
	int claimants, claimant;   /* reachable masters claiming it; one of them */
	int best_claimant;         /* of the claimants: highest epoch, then most keys */
	int holders, top_holder;   /* reachable masters with keys; the one with most */
	long long keys;            /* on all reachable masters */
	bool open;                 /* migrating or importing somewhere reachable */
	int forward;               /* target of a migration open on both sides, or -1 */
	int ref;                   /* owner in the reference view, or -1 */
};

static void
inspect(const struct assessment *a, int slot, struct slotinfo *si)
{
	size_t i;
	int t;

	memset(si, 0, sizeof(*si));
	si->claimant = si->best_claimant = si->top_holder = si->forward = -1;
	si->ref = assess_ref_owner(a, slot);
	for (i = 0; i < a->snap.n; i++) {
		const char *to;
		long long k = assess_keys(a, (int)i, slot);

		if (!assess_live_master(a, (int)i))
			continue;
		if (assess_claims(a, (int)i, slot)) {
			si->claimants++;
			si->claimant = (int)i;
			if (si->best_claimant < 0 ||
			    a->nodes[i].epoch > a->nodes[si->best_claimant].epoch ||
			    (a->nodes[i].epoch == a->nodes[si->best_claimant].epoch &&
			     k > assess_keys(a, si->best_claimant, slot)))
				si->best_claimant = (int)i;
			to = assess_migrating(a, (int)i, slot);
			t = to ? snapshot_find_id(&a->snap, to) : -1;
			if (assess_live_master(a, t) && assess_importing(a, t, slot) &&
			    strcmp(assess_importing(a, t, slot), a->snap.nodes[i].id) == 0)
				si->forward = t;
		}
		if (assess_migrating(a, (int)i, slot) || assess_importing(a, (int)i, slot))
			si->open = true;
		if (k > 0) {
			si->holders++;
			si->keys += k;
			if (si->top_holder < 0 || k > assess_keys(a, si->top_holder, slot))
				si->top_holder = (int)i;
		}
	}
}

/* True when some reachable node's view names another owner than f. */
static bool
views_disagree(const struct assessment *a, int **owners, int slot, int f)
{
	size_t i;

	for (i = 0; i < a->snap.n; i++) {
		int o;

		if (!owners[i])
			continue;
		o = owners[i][slot];
		if (o < 0 || strcmp(a->snap.nodes[i].view.nodes[o].id, a->snap.nodes[f].id) != 0)
			return true;
	}
	return false;
}

static void
fix_reason(const struct assessment *a, const struct slotinfo *si, struct action *x)
{
	char fa[80], sa[80];
	int slot = x->slot, f = x->node;

	assess_addr(a, f, fa, sizeof(fa));
	if (x->forward)
		snprintf(x->reason, sizeof(x->reason),
			 "slot %d is migrating from %s to %s, open on both: finish it (%lld keys "
			 "still on the source move to %s)", slot,
			 assess_addr(a, si->claimant >= 0 && si->claimant != f ? si->claimant
				     : si->best_claimant, sa, sizeof(sa)),
			 fa, x->keys, fa);
	else if (si->claimants > 1)
		snprintf(x->reason, sizeof(x->reason),
			 "slot %d is claimed by %d masters: %s keeps it (highest config epoch); "
			 "%lld keys of the others move to it", slot, si->claimants, fa, x->keys);
	else if (si->claimants == 0)
		snprintf(x->reason, sizeof(x->reason),
			 "slot %d is served by nobody reachable: %s, which holds %lld of its keys, "
			 "takes it%s%s", slot, fa, assess_keys(a, f, slot),
			 x->keys ? "; the other holders' keys move to it" : "",
			 x->data_loss ? "; the keys its dead owner held are lost" : "");
	else if (x->keys > 0)
		snprintf(x->reason, sizeof(x->reason),
			 "slot %d: %lld keys are held by nodes that do not own it; they move to "
			 "the owner %s%s", slot, x->keys, fa,
			 si->open ? ", and its open migrating/importing states are closed" : "");
	else
		snprintf(x->reason, sizeof(x->reason),
			 "slot %d: owner %s keeps it; %s", slot, fa,
			 si->open ? "close its open migrating/importing states (no keys to move)"
				  : "tell every node");
}

/* Slots of `from` (or of nobody, from = -1) handed out in even,
 * contiguous shares to the reachable masters; a master that serves no
 * slot at all (a replacement, or one added for a rebalance) takes them
 * all. */
static void
cover(const struct assessment *a, struct plan *p, const int *slots, size_t n, int from,
      bool loss)
{
	int masters[256], nm = 0, k, empty = 0, top;
	size_t i, share, at = 0;
	char da[80], ta[80], set[200];
	long long held;

	for (i = 0; i < a->snap.n && nm < 256; i++)
		if (assess_live_master(a, (int)i) && cluster_node_slot_count(a->nodes[i].me) == 0)
			masters[nm++] = (int)i;
	empty = nm;
	for (i = 0; i < a->snap.n && nm < 256 && !empty; i++)
		if (assess_live_master(a, (int)i))
			masters[nm++] = (int)i;
	if (nm == 0) {
		plan_note(p, "%zu slots are served by nobody and no master is reachable", n);
		return;
	}
	share = (n + (size_t)nm - 1) / (size_t)nm;
	for (k = 0; k < nm && at < n; k++) {
		struct action *x = plan_add(p, ACT_COVER, masters[k]);
		size_t m = n - at < share ? n - at : share;

		x->slots = xcalloc(m, sizeof(int));
		memcpy(x->slots, slots + at, m * sizeof(int));
		x->nslots = m;
		x->from = from;
		x->data_loss = loss;
		at += m;
		slotset_str_array(x->slots, m, set, sizeof(set));
		assess_addr(a, masters[k], ta, sizeof(ta));
		if (from >= 0)
			snprintf(x->reason, sizeof(x->reason),
				 "slots %s of %s (%.8s), which is down, are served by nobody: "
				 "%s takes them%s", set, assess_addr(a, from, da, sizeof(da)),
				 a->snap.nodes[from].id, ta,
				 loss ? "; the keys they held are lost (--allow-data-loss; how many, "
					"nobody can say: the node and its files are gone)"
				 : assess_source_of(a, from)->replica
					? "; their keys are salvaged from its replica next"
					: "; their keys are salvaged from its files next");
		else if ((held = plan_source_keys_in(a, x->slots, m, &top)) > 0)
			snprintf(x->reason, sizeof(x->reason),
				 "slots %s have no owner and no keys on any node: %s takes them; "
				 "%lld of their keys are in salvage sources (most in %s), copied to it "
				 "next", set, ta, held, a->src[top].dir);
		else
			snprintf(x->reason, sizeof(x->reason),
				 "slots %s have no owner and no keys anywhere: %s takes them", set,
				 ta);
	}
}

void
plan_build(const struct assessment *a, const struct repair_opts *o, struct plan *p)
{
	int **owners = xcalloc(a->snap.n + 1, sizeof(*owners));
	int *orphan = xcalloc(CLUSTER_SLOTS, sizeof(int));
	/* per node that is down and kept: the slots it serves, and those a
	 * live master has open with it */
	struct kept *kept = xcalloc(a->snap.n + 1, sizeof(*kept));
	size_t i, norphan;
	int slot, d, down_kept = -1, nowner_blocked = 0;
	char ad[80];

	memset(p, 0, sizeof(*p));
	if (o->can_restart) {
		plan_restarts(a, p);
		if (p->restart_first)
			goto out;
	}
	if (!o->no_promote)
		plan_promotions(a, o, p);
	if (p->restart_first)
		goto out;
	/* a master that is down and kept: slots without any owner may be its */
	for (i = 0; i < a->snap.n; i++)
		if (!a->nodes[i].reachable && a->nodes[i].master && !plan_given_up(a, o, (int)i))
			down_kept = (int)i;
	for (i = 0; i < a->snap.n; i++)
		if (a->nodes[i].reachable) {
			owners[i] = xcalloc(CLUSTER_SLOTS, sizeof(int));
			topology_slot_owners(&a->snap.nodes[i].view, owners[i]);
		}
	/* one slot at a time; slots with nothing to move are grouped by
	 * their dead owner (or none) and covered together */
	for (d = -1; d < (int)a->snap.n; d++) {
		norphan = 0;
		for (slot = 0; slot < CLUSTER_SLOTS; slot++) {
			struct slotinfo si;
			struct action *x;
			int f, dead_owner, k;
			size_t h;

			inspect(a, slot, &si);
			dead_owner = dead_owner_of(a, owners, slot);
			/* nobody claims it, nobody holds keys of it: give it away
			 * (closing any state left open on it), unless a master that
			 * is down may own it */
			if (si.claimants == 0 && si.holders == 0) {
				if (dead_owner == d && d < 0 && down_kept >= 0)
					nowner_blocked += d == -1;
				else if (dead_owner == d && (d < 0 || plan_given_up(a, o, d)))
					orphan[norphan++] = slot;
				else if (dead_owner == d)
					kept_add(&kept[d], slot, false);
				continue;
			}
			if (d != -1)
				continue; /* slots with keys or claims: on the first pass */
			/* a migration to or from a node that is down and kept stays
			 * open: the marker says where its keys are */
			if ((k = open_to_kept(a, o, slot)) >= 0) {
				kept_add(&kept[k], slot, true);
				continue;
			}
			/* a dead owner not given up keeps its slot, unless a live
			 * claim already beats it (a failover, a finished move) */
			if (dead_owner >= 0 && !plan_given_up(a, o, dead_owner) &&
			    (si.claimants == 0 ||
			     a->nodes[si.best_claimant].epoch <= a->nodes[dead_owner].epoch)) {
				kept_add(&kept[dead_owner], slot, false);
				continue;
			}
			f = si.forward >= 0 ? si.forward
			    : si.claimants ? si.best_claimant
					   : si.top_holder;
			x = NULL;
			for (h = 0; h < a->snap.n; h++)
				if ((int)h != f && assess_live_master(a, (int)h) &&
				    assess_keys(a, (int)h, slot) > 0) {
					if (x == NULL)
						x = plan_add(p, ACT_FIX, f);
					x->keys += assess_keys(a, (int)h, slot);
				}
			if (x == NULL && si.claimants == 1 && !si.open &&
			    !views_disagree(a, owners, slot, f))
				continue; /* healthy */
			if (x == NULL)
				x = plan_add(p, ACT_FIX, f);
			x->slot = slot;
			x->forward = si.forward >= 0;
			x->from = si.claimants == 0 ? dead_owner : -1;
			x->data_loss = x->from >= 0 && !assess_source_of(a, x->from);
			fix_reason(a, &si, x);
		}
		if (norphan)
			cover(a, p, orphan, norphan, d, d >= 0 && !assess_source_of(a, d));
	}
	plan_sources(a, p);
	plan_replica_states(a, p);
	plan_down_nodes(a, o, p, kept);
	plan_seen(a, owners, p);
	if (nowner_blocked)
		plan_note(p, "%d slots have no owner in any view while %s is down: they may be its; "
		     "left alone", nowner_blocked, assess_addr(a, down_kept, ad, sizeof(ad)));
	p->keys_lost = 0;
	for (i = 0; i < p->n; i++)
		if (p->v[i].data_loss)
			p->keys_lost = -1;
out:
	for (i = 0; i < a->snap.n; i++)
		free(owners[i]);
	free(owners);
	free(orphan);
	for (i = 0; i < a->snap.n; i++)
		kept_release(&kept[i]);
	free(kept);
}

void
plan_release(struct plan *p)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		free(p->v[i].slots);
	free(p->v);
	free(p->notes);
	free(p->seen);
	memset(p, 0, sizeof(*p));
}

void
plan_print(const struct plan *p, const struct assessment *a, FILE *f)
{
	size_t i;

	(void)a;
	for (i = 0; i < p->nseen; i++)
		fprintf(f, "seen: %s\n", p->seen[i]);
	if (p->n == 0)
		fprintf(f, "nothing to do\n");
	for (i = 0; i < p->n; i++)
		fprintf(f, "%zu. %s: %s\n", i + 1, action_kind_name(p->v[i].kind),
			p->v[i].reason);
	for (i = 0; i < p->nnotes; i++)
		fprintf(f, "note: %s\n", p->notes[i]);
	if (p->restart_first)
		fprintf(f, "then: assess again once the nodes are back or promoted\n");
}
