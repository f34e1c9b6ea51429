/*
 * restore.c - what the applier changes only for the duration, and puts
 * back on every way out (done, conflict, error, signal):
 *
 *  - two settings on every reachable master (relax), read first and set
 *    back to what they were;
 *  - the IMPORTING states it opens itself (protect, on holders; hold,
 *    on final owners until they claim), recorded as they are queued:
 *    whichever is still open at the end is closed with STABLE.  A node
 *    that then holds keys of a slot it does not own keeps them: a node
 *    deletes keys only of slots it owned;
 *  - the slots the hold assigned to a peer in a final owner's view (a
 *    slot nobody owned there): whichever the owner did not claim in the
 *    end is unassigned again there (DELSLOTS).
 *
 * What cannot be put back is said in the audit and listed in the result
 * (apply_result.unrestored), for a person to act on.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/fetch.h"
#include "common/xmalloc.h"
#include "repair/apply_int.h"

static const char *const relaxed_keys[2] = {"cluster-require-full-coverage",
					    "cluster-allow-replica-migration"};

static void
unrestored(struct applier *ap, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
unrestored(struct applier *ap, const char *fmt, ...)
{
	struct apply_result *r = ap->res;
	va_list va;

	if (r->nunrestored >= APPLY_UNRESTORED_MAX)
		return;
	va_start(va, fmt);
	vsnprintf(r->unrestored[r->nunrestored], sizeof(r->unrestored[0]), fmt, va);
	va_end(va);
	audit_note(ap->env->audit, "not put back: %s", r->unrestored[r->nunrestored]);
	r->nunrestored++;
}

int
restore_relax(struct applier *ap, struct err *e)
{
	size_t i;
	int k;

	for (i = 0; i < ap->a->snap.n; i++) {
		struct conn *c;

		if (!assess_live_master(ap->a, (int)i))
			continue;
		if ((c = apply_conn(ap, (int)i, e)) == NULL)
			return -1;
		for (k = 0; k < 2; k++)
			if (conn_config_get(c, relaxed_keys[k], ap->saved[i][k],
					    sizeof(ap->saved[i][k]), e) < 0)
				return -1;
		ap->relaxed[i] = true;
		for (k = 0; k < 2; k++)
			if (conn_cmd_ok(c, e, "CONFIG", "SET", relaxed_keys[k], "no", NULL) < 0)
				return -1;
	}
	return 0;
}

void
restore_opened(struct applier *ap, int node, int slot)
{
	size_t i;

	for (i = 0; i < ap->nopened; i++)
		if (ap->opened[i].node == node && ap->opened[i].slot == slot)
			return;
	ap->opened = xreallocarray(ap->opened, ap->nopened + 1, sizeof(*ap->opened));
	ap->opened[ap->nopened].node = node;
	ap->opened[ap->nopened++].slot = slot;
}

void
restore_bound(struct applier *ap, int node, int slot)
{
	ap->bound = xreallocarray(ap->bound, ap->nbound + 1, sizeof(*ap->bound));
	ap->bound[ap->nbound].node = node;
	ap->bound[ap->nbound++].slot = slot;
}

/* On h, the slots the hold assigned to a peer that h did not claim in
 * the end: unassigned again. */
static void
queue_unbind(struct applier *ap, struct batch *b, int h, const struct topology *t,
	     const struct cluster_node *me)
{
	int *owners = xcalloc(CLUSTER_SLOTS, sizeof(int));
	char s[16];
	size_t i;

	topology_slot_owners(t, owners);
	for (i = 0; i < ap->nbound; i++) {
		int slot = ap->bound[i].slot;

		if (ap->bound[i].node != h || owners[slot] < 0 || cluster_node_has_slot(me, slot))
			continue;
		apply_num(s, sizeof(s), slot);
		batch_queue(b, "CLUSTER", "DELSLOTS", s, NULL, NULL);
	}
	free(owners);
}

/* Node h's opened states that are still open, closed in one pipeline. */
static void
close_node(struct applier *ap, int h)
{
	struct topology t = TOPOLOGY_INIT;
	const struct cluster_node *me;
	const struct snap_node *n = &ap->a->snap.nodes[h];
	struct err e = ERR_INIT;
	struct batch b = {0};
	char s[16];
	size_t i, k;
	bool open;

	if ((b.c = apply_conn(ap, h, &e)) == NULL || topology_fetch(b.c, &t, &e) < 0 ||
	    (me = topology_myself(&t)) == NULL) {
		if (!e.msg[0])
			snprintf(e.msg, sizeof(e.msg), "no line of its own in its CLUSTER NODES");
		goto fail;
	}
	for (i = 0; i < ap->nopened; i++) {
		if (ap->opened[i].node != h)
			continue;
		for (k = 0, open = false; k < me->nopen && !open; k++)
			open = me->open[k].slot == ap->opened[i].slot &&
			       me->open[k].state == SLOT_IMPORTING;
		if (!open)
			continue;
		apply_num(s, sizeof(s), ap->opened[i].slot);
		batch_queue(&b, "CLUSTER", "SETSLOT", s, "STABLE", NULL);
	}
	queue_unbind(ap, &b, h, &t, me);
	if (batch_run(&b, false, &e) < 0)
		goto fail;
	topology_release(&t);
	return;
fail:
	topology_release(&t);
	for (i = 0; i < ap->nopened; i++)
		if (ap->opened[i].node == h)
			unrestored(ap, "%s:%d (%.8s): slot %d may still be importing (opened by "
				   "this repair; close it with CLUSTER SETSLOT %d STABLE): %s",
				   n->host, n->port, n->id, ap->opened[i].slot, ap->opened[i].slot,
				   e.msg);
	for (i = 0; i < ap->nbound; i++)
		if (ap->bound[i].node == h)
			unrestored(ap, "%s:%d (%.8s): slot %d may still be assigned to another node "
				   "in its view (by this repair; CLUSTER DELSLOTS %d there): %s",
				   n->host, n->port, n->id, ap->bound[i].slot, ap->bound[i].slot,
				   e.msg);
}

/* The relaxed settings back (twice if need be, on a fresh connection). */
static int
restore_settings(struct applier *ap, struct err *e)
{
	const struct snap_node *n;
	struct err re = ERR_INIT;
	size_t i;
	int k, tries, rc = 0;

	for (i = 0; i < ap->a->snap.n; i++)
		for (k = 0; ap->relaxed[i] && k < 2; k++) {
			for (tries = 0; tries < 2; tries++)
				if (apply_conn(ap, (int)i, &re) != NULL &&
				    conn_cmd_ok(ap->c[i], &re, "CONFIG", "SET", relaxed_keys[k],
						ap->saved[i][k], NULL) == 0)
					break;
			if (tries < 2)
				continue;
			n = &ap->a->snap.nodes[i];
			unrestored(ap, "%s:%d (%.8s): %s is 'no', was '%s' (CONFIG SET it back): %s",
				   n->host, n->port, n->id, relaxed_keys[k], ap->saved[i][k], re.msg);
			rc = err_set(e, 0, "could not put %s %s back on %s:%d: %s", relaxed_keys[k],
				     ap->saved[i][k], n->host, n->port, re.msg);
		}
	return rc;
}

int
restore_all(struct applier *ap, struct err *e)
{
	size_t i, k;
	bool seen;

	for (i = 0; i < ap->nopened; i++) {
		for (k = 0, seen = false; k < i && !seen; k++)
			seen = ap->opened[k].node == ap->opened[i].node;
		if (!seen)
			close_node(ap, ap->opened[i].node);
	}
	for (i = 0; i < ap->nbound; i++) { /* bound but opened nothing: rare */
		for (k = 0, seen = false; k < ap->nopened && !seen; k++)
			seen = ap->opened[k].node == ap->bound[i].node;
		for (k = 0; k < i && !seen; k++)
			seen = ap->bound[k].node == ap->bound[i].node;
		if (!seen)
			close_node(ap, ap->bound[i].node);
	}
	return restore_settings(ap, e);
}
