/*
 * apply_nodes.c - the applier's actions on nodes rather than slots: a
 * dead node started again, a replica promoted (with the user's consent:
 * the plan has the action only then), a dead node forgotten everywhere.
 */
#include <stdio.h>
#include <string.h>

#include "cluster/fetch.h"
#include "common/clock.h"
#include "repair/apply_int.h"

#define FOLLOW_MS 10000

/* ACT_PROMOTE: the replica takes its dead master's place without the
 * others' agreement (CLUSTER FAILOVER TAKEOVER: it bumps its epoch and
 * claims the slots); then until it says it is a master, at most 10 s.
 * A replica that got there by the cluster's own failover meanwhile is as
 * good. */
static int
promote(struct applier *ap, const struct action *x, struct err *e)
{
	const struct snap_node *n = &ap->a->snap.nodes[x->node];
	uint64_t deadline = clock_now_ms() + 10000;
	struct topology t = TOPOLOGY_INIT;
	const struct cluster_node *me;
	struct conn *c;
	struct reply *r;
	bool master = false;

	audit_note(ap->env->audit, "promote %s:%d", n->host, n->port);
	if ((c = apply_conn(ap, x->node, e)) == NULL)
		return -1;
	if ((r = conn_cmd(c, e, "CLUSTER", "FAILOVER", "TAKEOVER", NULL)) == NULL)
		return -1;
	if (r->type == REPLY_ERROR && !strstr(r->str, "replica") && !strstr(r->str, "slave")) {
		err_set(e, 0, "'CLUSTER FAILOVER TAKEOVER' on '%s': %s", conn_addr(c), r->str);
		reply_free(r);
		return -1;
	}
	reply_free(r);
	while (!master && clock_now_ms() < deadline) {
		if (topology_fetch(c, &t, NULL) == 0 && (me = topology_myself(&t)) != NULL)
			master = (me->flags & NODE_MASTER) && cluster_node_slot_count(me) > 0;
		topology_release(&t);
		if (!master)
			clock_sleep_ms(50);
	}
	if (!master)
		return err_set(e, 0, "%s:%d was told to take over, but is no master with slots "
			       "after 10 s", n->host, n->port);
	ap->res->promoted++;
	return 0;
}

int
apply_restarts(struct applier *ap, struct err *e)
{
	size_t i;

	for (i = 0; i < ap->p->n; i++) {
		const struct action *x = &ap->p->v[i];
		const struct snap_node *n = &ap->a->snap.nodes[x->node];

		if (x->kind == ACT_PROMOTE) {
			if (promote(ap, x, e) < 0)
				return err_prefix(e, "promote %s:%d: ", n->host, n->port);
			continue;
		}

		if (ap->env->restart == NULL)
			return err_set(e, 0, "no way to restart %s:%d", n->host, n->port);
		audit_note(ap->env->audit, "restart %s:%d", n->host, n->port);
		if (ap->env->restart(ap->env->restart_arg, n->host, n->port, n->id, e) < 0)
			return err_prefix(e, "restart %s:%d: ", n->host, n->port);
		ap->res->restarted++;
	}
	return 0;
}

/* A replica of a dead master whose slots were claimed by others: FORGET
 * again until it has followed their new owner and agrees, at most
 * FOLLOW_MS. */
static int
follow_then_forget(struct applier *ap, int r, const char *id)
{
	uint64_t deadline = clock_now_ms() + FOLLOW_MS;
	struct batch b = {.c = ap->c[r]};

	while (clock_now_ms() < deadline) {
		clock_sleep_ms(100);
		b.n = 0;
		batch_queue(&b, "CLUSTER", "FORGET", id, NULL, NULL);
		if (batch_run(&b, true, NULL) == 0)
			return 0;
	}
	return -1;
}

/* Node d forgotten by every reachable node, unless its files could not
 * be salvaged: then its keys are not all accounted for. */
int
apply_forget(struct applier *ap, int d, struct err *e)
{
	const char *id = ap->a->snap.nodes[d].id;
	struct batch b;
	struct err fe = ERR_INIT;
	size_t i;

	if (ap->unsalvaged[d]) {
		audit_note(ap->env->audit, "not forgetting %s: its files were not all salvaged", id);
		return 0;
	}
	for (i = 0; i < ap->a->snap.n; i++) {
		if (!ap->a->nodes[i].reachable)
			continue;
		if ((b.c = apply_conn(ap, (int)i, e)) == NULL)
			return -1;
		b.n = 0;
		batch_queue(&b, "CLUSTER", "FORGET", id, NULL, NULL);
		/* a replica of the dead node cannot forget its master: it
		 * follows the new owner of its master's slots once it hears
		 * of them (its keys were salvaged first), then can; any other
		 * refusal is said, not fatal */
		if (batch_run(&b, true, &fe) < 0 &&
		    (assess_master_of(ap->a, (int)i) != d || follow_then_forget(ap, (int)i, id) < 0))
			audit_note(ap->env->audit, "forget %s: %s", id, fe.msg);
	}
	ap->res->forgotten++;
	return 0;
}
