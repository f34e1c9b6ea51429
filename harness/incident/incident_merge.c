/*
 * incident_merge.c - the views of an incident merged into one model:
 * nodes and roles, slot owners by config epoch, open slots from each
 * node's own line, failed nodes, and the order the scenario numbers the
 * masters in; see incident.h for the rules and the errors.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"
#include "harness/incident/incident.h"

#define MAX_MASTERS  100 /* as [cluster] masters allows */
#define MAX_REPLICAS 5

static int
bad(struct err *e, const char *where, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int
bad(struct err *e, const char *where, const char *fmt, ...)
{
	va_list ap;
	char msg[ERR_MSG_MAX];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return err_set(e, EINVAL, "%s: %s", where, msg);
}

static void
where(const struct incident_view *v, size_t i, char *out)
{
	snprintf(out, INCIDENT_WHERE_MAX, "%s:%d", v->path, v->line[i]);
}

static int
find(const struct incident *inc, const char *id)
{
	size_t i;

	for (i = 0; i < inc->n; i++)
		if (strcmp(inc->nodes[i].id, id) == 0)
			return (int)i;
	return -1;
}

/* Every node any view describes, once, in the order first seen. */
static int
collect(struct incident *inc, struct err *e)
{
	size_t v, i, cap = 0;
	char w[INCIDENT_WHERE_MAX];

	for (v = 0; v < inc->nviews; v++) {
		const struct incident_view *iv = &inc->views[v];

		for (i = 0; i < iv->t.n; i++) {
			const struct cluster_node *cn = &iv->t.nodes[i];
			struct incident_node *n;
			int k = find(inc, cn->id);

			/* a node being met: its id is a placeholder the node will
			 * not keep, and nothing refers to it */
			if (cn->flags & NODE_HANDSHAKE) {
				where(iv, i, w);
				incident_note(inc, "%s: a node in handshake (%s:%d) left out", w,
					      cn->ip, cn->port);
				continue;
			}
			if (k < 0) {
				xgrow(&inc->nodes, &cap, inc->n + 1, sizeof(*inc->nodes));
				n = &inc->nodes[inc->n++];
				memset(n, 0, sizeof(*n));
				memcpy(n->id, cn->id, sizeof(n->id));
				snprintf(n->addr, sizeof(n->addr), "%s:%d", cn->ip, cn->port);
				where(iv, i, n->where);
				n->view = -1;
				n->master_of = -1;
				k = (int)inc->n - 1;
			}
			n = &inc->nodes[k];
			if (cn->config_epoch > n->epoch)
				n->epoch = cn->config_epoch;
			if ((int)i != iv->me)
				continue;
			if (n->view >= 0) {
				where(iv, i, w);
				return bad(e, w, "a second view of node %s: %s is already its "
					   "CLUSTER NODES", n->id, inc->views[n->view].path);
			}
			n->view = (int)v;
			if (n->addr[0] == ':') /* a lonely node prints no ip: another may */
				snprintf(n->addr, sizeof(n->addr), "%s:%d", cn->ip, cn->port);
		}
	}
	return 0;
}

/* The line describing node k in view v, or NULL. */
static const struct cluster_node *
in_view(const struct incident *inc, size_t v, int k, size_t *idx)
{
	const struct topology *t = &inc->views[v].t;
	size_t i;

	for (i = 0; i < t->n; i++)
		if (strcmp(t->nodes[i].id, inc->nodes[k].id) == 0) {
			if (idx)
				*idx = i;
			return &t->nodes[i];
		}
	return NULL;
}

/* A node's role: its own line says it; without a file of its own, most
 * views (the first of a tie) do.  Flags the same way. */
static void
roles(struct incident *inc)
{
	size_t k, v, u;

	for (k = 0; k < inc->n; k++) {
		struct incident_node *n = &inc->nodes[k];
		const struct cluster_node *best = NULL, *cn, *cu;
		int votes = -1, total = 0, agree;
		unsigned flagged = 0;

		for (v = 0; v < inc->nviews; v++) {
			if ((cn = in_view(inc, v, (int)k, NULL)) == NULL)
				continue;
			total++;
			if ((int)v != n->view)
				flagged |= cn->flags & (NODE_FAIL | NODE_PFAIL | NODE_NOADDR);
			if (n->view >= 0 && (int)v != n->view)
				continue;
			for (u = 0, agree = 0; u < inc->nviews; u++)
				agree += (cu = in_view(inc, u, (int)k, NULL)) != NULL &&
					 strcmp(cu->master_id, cn->master_id) == 0;
			if (agree > votes) {
				votes = agree;
				best = cn;
			}
		}
		n->master = best->master_id[0] == '\0';
		n->nofailover = (best->flags & NODE_NOFAILOVER) != 0;
		n->master_of = n->master ? -1 : find(inc, best->master_id);
		if (n->view < 0 && votes < total)
			incident_note(inc, "views disagree on the role of %s: took %s, as %d of %d "
				      "views say", n->id, n->master ? "master" : "replica", votes, total);
		n->failed = n->view < 0 && flagged;
		if (n->view >= 0 && flagged)
			incident_note(inc, "%s (%s) answered with %s though another view flags it "
				      "failed: rebuilt running", n->id, n->addr,
				      inc->views[n->view].path);
		if (n->view < 0 && !flagged)
			incident_note(inc, "no file came from %s (%s) and no view flags it failed: "
				      "rebuilt running", n->id, n->addr);
	}
}

/* A replica of a replica (a view older than a failover): its master's
 * master, as far as the chain goes. */
static int
replicas(struct incident *inc, struct err *e)
{
	size_t k;
	int m, hops;

	for (k = 0; k < inc->n; k++) {
		struct incident_node *n = &inc->nodes[k];

		if (n->master)
			continue;
		for (m = n->master_of, hops = 0; m >= 0 && !inc->nodes[m].master && hops < 8; hops++)
			m = inc->nodes[m].master_of;
		if (m < 0 || !inc->nodes[m].master)
			return bad(e, n->where, "replica %s has no master among the nodes "
				   "described", n->id);
		if (m != n->master_of)
			incident_note(inc, "%s replicates %s, itself a replica: rebuilt as a replica "
				      "of %s", n->id, inc->nodes[n->master_of].id, inc->nodes[m].id);
		n->master_of = m;
	}
	return 0;
}

struct claim {
	int node;                  /* -1: none yet */
	size_t view;
	unsigned long long epoch;
	char where[INCIDENT_WHERE_MAX];
};

/* Each slot's owner: the claim with the highest config epoch; two
 * different owners at the same epoch are an error. */
static int
owners(struct incident *inc, struct err *e)
{
	struct claim *c = xcalloc(CLUSTER_SLOTS, sizeof(*c));
	size_t v, i, r, *stale = xcalloc(inc->nviews + 1, sizeof(*stale));
	int s, rc = 0;

	for (s = 0; s < CLUSTER_SLOTS; s++)
		c[s].node = -1;
	for (v = 0; v < inc->nviews && rc == 0; v++) {
		const struct incident_view *iv = &inc->views[v];

		for (i = 0; i < iv->t.n && rc == 0; i++) {
			const struct cluster_node *cn = &iv->t.nodes[i];
			int k = find(inc, cn->id);

			for (r = 0; r < cn->nranges && rc == 0; r++)
				for (s = cn->ranges[r].first; s <= cn->ranges[r].last; s++) {
					struct claim *x = &c[s];
					char w[INCIDENT_WHERE_MAX];

					if (x->node == k) {
						if (cn->config_epoch > x->epoch)
							x->epoch = cn->config_epoch;
						continue;
					}
					where(iv, i, w);
					if (x->node >= 0 && cn->config_epoch == x->epoch) {
						rc = bad(e, w, "slot %d is claimed by %s here and by %s in "
							 "%s, both at config epoch %llu: two owners", s,
							 cn->id, inc->nodes[x->node].id, x->where,
							 x->epoch);
						break;
					}
					if (x->node >= 0)
						stale[cn->config_epoch < x->epoch ? v : x->view]++;
					if (x->node < 0 || cn->config_epoch > x->epoch) {
						x->node = k;
						x->view = v;
						x->epoch = cn->config_epoch;
						memcpy(x->where, w, sizeof(w));
					}
				}
		}
	}
	for (s = 0; s < CLUSTER_SLOTS; s++)
		inc->owner[s] = c[s].node;
	for (v = 0; v < inc->nviews && rc == 0; v++)
		if (stale[v])
			incident_note(inc, "%s is older than another view on the owners of %zu "
				      "slots (lower config epochs): the newest claims are taken, as "
				      "the cluster does", inc->views[v].path, stale[v]);
	free(stale);
	free(c);
	return rc;
}

static int
add_open(struct incident *inc, int slot, int from, int to, bool migrating, const char *w,
	 struct err *e)
{
	size_t i;

	for (i = 0; i < inc->nopen; i++) {
		struct incident_open *o = &inc->open[i];

		if (o->slot != slot)
			continue;
		if (o->from != from || o->to != to)
			return bad(e, w, "slot %d is open from %s to %s here, but from %s to %s "
				   "in %s", slot, inc->nodes[from].id, inc->nodes[to].id,
				   inc->nodes[o->from].id, inc->nodes[o->to].id, o->where);
		o->migrating_seen |= migrating;
		o->importing_seen |= !migrating;
		return 0;
	}
	inc->open = xreallocarray(inc->open, inc->nopen + 1, sizeof(*inc->open));
	inc->open[inc->nopen] = (struct incident_open){.slot = slot, .from = from, .to = to,
						       .migrating_seen = migrating,
						       .importing_seen = !migrating};
	snprintf(inc->open[inc->nopen].where, INCIDENT_WHERE_MAX, "%s", w);
	inc->nopen++;
	return 0;
}

/* Open slots: only a node's own line shows its [S->-id] / [S-<-id].  A
 * replica's own line shows its master's (Valkey 8 replicates SETSLOT):
 * they count as its master's, and the same slot seen again from the same
 * side is no news. */
static int
opens(struct incident *inc, struct err *e)
{
	size_t v, k, i;
	char w[INCIDENT_WHERE_MAX];

	for (v = 0; v < inc->nviews; v++) {
		const struct incident_view *iv = &inc->views[v];
		const struct cluster_node *me = &iv->t.nodes[iv->me];
		int self = find(inc, me->id);

		if (!inc->nodes[self].master)
			self = inc->nodes[self].master_of;

		where(iv, (size_t)iv->me, w);
		for (k = 0; k < me->nopen; k++) {
			int peer = find(inc, me->open[k].peer);
			bool mig = me->open[k].state == SLOT_MIGRATING;

			if (add_open(inc, me->open[k].slot, mig ? self : peer, mig ? peer : self, mig,
				     w, e) < 0)
				return -1;
		}
	}
	/* what a [layout] can rebuild: a slot migrating from its owner, a
	 * master, to another master */
	for (i = 0; i < inc->nopen;) {
		struct incident_open *o = &inc->open[i];
		const char *why = NULL;

		if (inc->owner[o->slot] != o->from)
			why = "its source does not own it (the target took it already?)";
		else if (!inc->nodes[o->from].master || !inc->nodes[o->to].master)
			why = "one end is not a master";
		if (why == NULL) {
			if (!o->migrating_seen || !o->importing_seen)
				incident_note(inc, "slot %d: only its %s side was seen (%s); rebuilt "
					      "open on both sides", o->slot,
					      o->migrating_seen ? "migrating" : "importing", o->where);
			i++;
			continue;
		}
		incident_note(inc, "slot %d open from %s to %s (%s) left stable: %s", o->slot,
			      inc->nodes[o->from].id, inc->nodes[o->to].id, o->where, why);
		memmove(o, o + 1, (inc->nopen - i - 1) * sizeof(*o));
		inc->nopen--;
	}
	return 0;
}

/* Masters by first slot, those without slots last; replicas counted. */
static int
number(struct incident *inc, struct err *e)
{
	int s, m, count[MAX_MASTERS] = {0};
	size_t k;

	inc->masters = xcalloc(inc->n + 1, sizeof(*inc->masters));
	for (k = 0; k < inc->n; k++)
		inc->nodes[k].index = -1;
	for (s = 0; s < CLUSTER_SLOTS; s++) {
		int o = inc->owner[s];

		if (o >= 0 && inc->nodes[o].index < 0 && inc->nodes[o].master)
			inc->nodes[o].index = (int)inc->nmasters, inc->masters[inc->nmasters++] = o;
	}
	for (k = 0; k < inc->n; k++)
		if (inc->nodes[k].master && inc->nodes[k].index < 0)
			inc->nodes[k].index = (int)inc->nmasters, inc->masters[inc->nmasters++] = (int)k;
	if (inc->nmasters > MAX_MASTERS)
		return bad(e, inc->nodes[inc->masters[MAX_MASTERS]].where, "%zu masters: a scenario "
			   "has at most %d", inc->nmasters, MAX_MASTERS);
	for (k = 0; k < inc->n; k++) {
		struct incident_node *n = &inc->nodes[k];

		if (n->master)
			continue;
		m = inc->nodes[n->master_of].index;
		if (count[m] == MAX_REPLICAS)
			return bad(e, n->where, "master %s has more than %d replicas: a scenario has "
				   "at most %d", inc->nodes[n->master_of].id, MAX_REPLICAS,
				   MAX_REPLICAS);
		n->index = count[m]++;
	}
	for (s = 0; s < CLUSTER_SLOTS; s++)
		if (inc->owner[s] >= 0 && !inc->nodes[inc->owner[s]].master)
			return bad(e, inc->nodes[inc->owner[s]].where, "slot %d is served by %s, a "
				   "replica", s, inc->nodes[inc->owner[s]].id);
	return 0;
}

/* A replica of a failed master that still serves slots was not promoted
 * when the files were saved: kept so (nofailover) until the repair. */
static void
unpromoted(struct incident *inc)
{
	size_t k;
	int s;

	for (k = 0; k < inc->n; k++) {
		struct incident_node *n = &inc->nodes[k], *m;

		if (n->master || n->failed || n->nofailover)
			continue;
		m = &inc->nodes[n->master_of];
		for (s = 0; s < CLUSTER_SLOTS && inc->owner[s] != n->master_of; s++)
			;
		if (!m->failed || s == CLUSTER_SLOTS)
			continue;
		n->nofailover = true;
		incident_note(inc, "%s, a replica of the failed master %s, was not promoted: "
			      "nofailover keeps it so until the repair (drop it from nofailover "
			      "to let the cluster fail over by itself)", n->id, m->id);
	}
}

int
incident_merge(struct incident *inc, struct err *e)
{
	if (inc->nviews == 0)
		return err_set(e, EINVAL, "no CLUSTER NODES file among the inputs: save one with "
			       "'redis-cli -h HOST -p PORT cluster nodes > FILE' from each node you "
			       "can reach");
	if (collect(inc, e) < 0)
		return -1;
	roles(inc);
	if (replicas(inc, e) < 0 || owners(inc, e) < 0 || opens(inc, e) < 0 ||
	    number(inc, e) < 0)
		return -1;
	unpromoted(inc);
	return 0;
}
