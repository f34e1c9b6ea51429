/*
 * reshard_round.c - many slots per round: the same protocol as one slot
 * at a time, with each step sent for every slot of the round in one
 * pipeline.
 *
 * Why: a node saves nodes.conf (and fsyncs it when the epoch moves) in
 * beforeSleep, once per event-loop pass, after every SETSLOT.  One slot
 * at a time that is several disk syncs and round trips per slot, which is
 * most of the time of redis-cli --cluster reshard on small slots.  Sent as
 * one pipeline, a round's SETSLOTs share one pass and one save.
 *
 * The order of steps within each slot is the one-slot order (importing,
 * migrating, keys, node-target, node-source, then the other masters), so
 * the cluster is never in a state one slot at a time could not reach; the
 * price is that an interruption can leave up to a round of slots open
 * instead of one.  Every step is still reported per slot, after its
 * round's replies; exact fault points need one slot per round.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/reshard/reshard_int.h"
#include "common/log.h"
#include "common/xmalloc.h"

struct round {
	struct mover *m;
	const int *slots;     /* the round's slots, in plan order */
	size_t n;
	size_t first;         /* index of slots[0] in the plan */
	long long *moved;     /* keys moved per slot */
	bool *open;           /* slot may still hold keys on the source */
};

static void
at_slot(struct round *r, size_t i)
{
	r->m->ev.slot = r->slots[i];
	r->m->ev.slot_index = (int)(r->first + i + 1);
	r->m->ev.slot_moved = r->moved[i];
	r->m->ev.slot_keys = 0;
}

/* Reads the replies of a pipeline of SETSLOT how for slots [from, n);
 * the first error reply (or a broken connection) fails, naming the
 * slot, after every reply has been read so the connection stays usable. */
static int
read_replies(struct round *r, struct conn *c, const char *how, size_t from, size_t *failed,
	     struct err *e)
{
	struct reply *rep;
	size_t i;
	int rc = 0;

	for (i = from; i < r->n; i++) {
		rep = conn_read_reply(c, rc < 0 ? NULL : e);
		if (rep == NULL) {
			if (rc == 0)
				*failed = i;
			return -1;
		}
		if (rc == 0 && rep->type == REPLY_ERROR) {
			reshard_setslot_error(r->m, c, r->slots[i], how, rep->str, e);
			*failed = i;
			rc = -1;
		}
		reply_free(rep);
	}
	return rc;
}

/* Appends SETSLOT how id for the slots of the round from `from` on to c. */
static void
append_from(struct round *r, struct conn *c, const char *how, const char *id, size_t from)
{
	const char *argv[7];
	char s[16];
	size_t i;

	for (i = from; i < r->n; i++) {
		snprintf(s, sizeof(s), "%d", r->slots[i]);
		conn_append_argv(c, reshard_setslot_argv(r->m, c, s, how, id, argv), argv, NULL);
	}
}

/* CLUSTER SETSLOT <slot> how id for every slot of the round on c.  A
 * node that waits for its replicas is sent the first slot alone: a
 * replica that does not acknowledge costs one timeout, not one per slot
 * of the round.  Its NOREPLICAS is then *noreplicas, and with
 * `tolerate` the rest of the round is not sent (the source's SETSLOT
 * NODE, or a courtesy to the other masters: see move_slot). */
static int
setslot_all(struct round *r, struct conn *c, const char *how, const char *id, bool tolerate,
	    bool *noreplicas, size_t *failed, struct err *e)
{
	struct err se = ERR_INIT;
	size_t from = 0;
	int rc;

	*failed = 0;
	*noreplicas = false;
	if (reshard_waits(r->m, c)) {
		if (reshard_setslot(r->m, c, r->slots[0], how, id, noreplicas, &se) < 0) {
			if (*noreplicas && tolerate) {
				log_warn("reshard: %s; the target owns the slot: going on", se.msg);
				return 0;
			}
			if (e)
				*e = se;
			return -1;
		}
		from = 1;
	}
	append_from(r, c, how, id, from);
	if (from < r->n && conn_flush(c, e) < 0)
		return -1;
	reshard_setslot_wait(r->m, c, true);
	rc = read_replies(r, c, how, from, failed, e);
	reshard_setslot_wait(r->m, c, false);
	return rc;
}

/* Reports `step` for every slot of the round, in order. */
static int
emit_all(struct round *r, enum reshard_step step, struct err *e)
{
	size_t i;

	for (i = 0; i < r->n; i++) {
		at_slot(r, i);
		if (reshard_emit(r->m, step, e) < 0)
			return -1;
	}
	return 0;
}

/* One pass of GETKEYSINSLOT for every open slot, then one MIGRATE per slot
 * that has keys, all pipelined.  Returns how many slots are still open. */
static long long
keys_pass(struct round *r, struct err *e)
{
	struct mover *m = r->m;
	struct reply **keys = xcalloc(r->n, sizeof(*keys));
	const char *argv[4] = {"CLUSTER", "GETKEYSINSLOT", NULL, NULL};
	char s[16], cnt[16];
	const char **margv;
	size_t *mlens, i, margc, sent = 0, bad = r->n;
	long long still = -1;
	struct reply *rep;

	snprintf(cnt, sizeof(cnt), "%d", m->o->pipeline);
	argv[3] = cnt;
	for (i = 0; i < r->n; i++) {
		if (!r->open[i])
			continue;
		snprintf(s, sizeof(s), "%d", r->slots[i]);
		argv[2] = s;
		conn_append_argv(m->src, 4, argv, NULL);
	}
	if (conn_flush(m->src, e) < 0)
		goto out;
	for (i = 0; i < r->n; i++) {
		if (!r->open[i])
			continue;
		at_slot(r, i);
		keys[i] = conn_read_reply(m->src, e);
		if (keys[i] == NULL)
			goto out;
		if (keys[i]->type != REPLY_ARRAY) {
			err_set(e, 0, "'CLUSTER GETKEYSINSLOT %d' on '%s': %s", r->slots[i],
				conn_addr(m->src),
				keys[i]->type == REPLY_ERROR ? keys[i]->str : "bad reply");
			goto out;
		}
	}
	for (i = 0; i < r->n; i++) {
		if (!r->open[i] || keys[i]->nelem == 0)
			continue;
		margc = reshard_migrate_argv(m, keys[i], &margv, &mlens);
		conn_append_argv(m->src, (int)margc, margv, mlens);
		free(margv);
		free(mlens);
		sent++;
	}
	if (sent && (reshard_migrate_timeout(m, true, e) < 0 || conn_flush(m->src, e) < 0))
		goto out;
	/* every reply is read; a slot's keys count as moved when its
	 * MIGRATE said so, and the first one that failed is where we stop */
	for (i = 0; i < r->n; i++) {
		if (!r->open[i] || keys[i]->nelem == 0)
			continue;
		rep = conn_read_reply(m->src, bad < r->n ? NULL : e);
		if (rep == NULL || rep->type == REPLY_ERROR)
			reshard_note_unknown(m, keys[i], rep);
		if (rep == NULL) {
			size_t j;

			if (bad == r->n)
				bad = i;
			/* the MIGRATEs queued behind it may have run, or not */
			for (j = i + 1; j < r->n; j++)
				if (r->open[j] && keys[j]->nelem > 0)
					reshard_note_unknown(m, keys[j], NULL);
			break;
		}
		if (rep->type == REPLY_ERROR && bad == r->n) {
			err_set(e, 0, "'MIGRATE' of slot %d from '%s' to '%s:%d': %s", r->slots[i],
				conn_addr(m->src), m->dst_host, m->dst_port, rep->str);
			bad = i;
		} else if (rep->type != REPLY_ERROR && !reshard_is_nokey(rep)) {
			r->moved[i] += (long long)keys[i]->nelem;
			m->ev.total_moved += (long long)keys[i]->nelem;
			m->pr->keys_moved += (long long)keys[i]->nelem;
		}
		reply_free(rep);
	}
	if (sent)
		reshard_migrate_timeout(m, false, NULL);
	if (bad < r->n) {
		at_slot(r, bad);
		goto out;
	}
	still = 0;
	/* report the keys step once per slot per pass, an empty slot too */
	for (i = 0; i < r->n; i++) {
		if (!r->open[i])
			continue;
		r->open[i] = keys[i]->nelem == (size_t)m->o->pipeline;
		at_slot(r, i);
		if (reshard_emit(m, STEP_KEYS, e) < 0) {
			still = -1;
			goto out;
		}
		still += r->open[i];
	}
out:
	for (i = 0; i < r->n; i++)
		reply_free(keys[i]);
	free(keys);
	return still;
}

/* Where a failed round stopped: slot `i` had reached step `step`
 * (STEP_COUNT_: none, it stopped before the slot's first step). */
static void
stopped_at(struct round *r, size_t i, enum reshard_step step)
{
	at_slot(r, i);
	if (step == STEP_COUNT_)
		return; /* r->m->pr->at stays the last step done: not this slot */
	r->m->ev.step = step;
	r->m->pr->at = r->m->ev;
}

/* One SETSLOT step for the whole round, then its events; on a failure
 * the round stopped with the failing slot at step `before`. */
static int
step_all(struct round *r, struct conn *c, const char *how, const char *id,
	 enum reshard_step step, enum reshard_step before, struct err *e)
{
	size_t failed = 0;
	bool noreplicas;

	if (setslot_all(r, c, how, id, step == STEP_NODE_SOURCE, &noreplicas, &failed, e) < 0) {
		stopped_at(r, failed, before);
		return -1;
	}
	return emit_all(r, step, e);
}

int
reshard_round(struct mover *m, size_t first, size_t count, struct err *e)
{
	struct round r = {
		.m = m,
		.slots = m->plan->slots + first,
		.n = count,
		.first = first,
		.moved = xcalloc(count, sizeof(long long)),
		.open = xcalloc(count, sizeof(bool)),
	};
	const char *src = m->src_id, *dst = m->plan->target;
	size_t i, failed;
	bool noreplicas;
	long long still;
	int rc = -1;

	for (i = 0; i < count; i++)
		r.open[i] = true;
	if (step_all(&r, m->dst, "IMPORTING", src, STEP_IMPORTING, STEP_COUNT_, e) < 0 ||
	    step_all(&r, m->src, "MIGRATING", dst, STEP_MIGRATING, STEP_IMPORTING, e) < 0)
		goto out;
	do
		still = keys_pass(&r, e);
	while (still > 0);
	if (still < 0) {
		m->ev.step = STEP_KEYS;
		m->pr->at = m->ev;
		goto out;
	}
	if (step_all(&r, m->dst, "NODE", dst, STEP_NODE_TARGET, STEP_KEYS, e) < 0 ||
	    step_all(&r, m->src, "NODE", dst, STEP_NODE_SOURCE, STEP_NODE_TARGET, e) < 0)
		goto out;
	/* best effort, as one slot at a time: gossip tells the rest */
	for (i = m->nothers; i-- > 0;)
		if (setslot_all(&r, m->others[i], "NODE", dst, true, &noreplicas, &failed, NULL) ==
			    0 &&
		    noreplicas)
			reshard_mute_other(m, i);
	for (i = 0; i < count; i++) {
		m->pr->slots_done++;
		at_slot(&r, i);
		if (reshard_emit(m, STEP_SLOT_DONE, e) < 0)
			goto out;
	}
	rc = 0;
out:
	free(r.moved);
	free(r.open);
	return rc;
}
