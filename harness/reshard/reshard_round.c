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
 * The source's MIGRATEs are the one cost no tool avoids, so the source
 * is kept at them: while a round's MIGRATEs run, the next round opens
 * (IMPORTING on the target; MIGRATING and the first GETKEYSINSLOT queued
 * on the source behind them), and the other masters' SETSLOT NODE is
 * sent without waiting for its answers (read before their next one).
 *
 * The order of steps within each slot is the one-slot order (importing,
 * migrating, keys, node-target, node-source, then the other masters), so
 * the cluster is never in a state one slot at a time could not reach; the
 * price is that an interruption can leave up to two rounds of slots open
 * (the one moving and the next) instead of one.  Every step is still
 * reported per slot, after its replies; exact fault points need one slot
 * per round.
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
	struct reply **keys;  /* per slot, this pass's GETKEYSINSLOT answer */
};

static struct round *
round_new(struct mover *m, size_t first, size_t n)
{
	struct round *r = xcalloc(1, sizeof(*r));
	size_t i;

	r->m = m;
	r->slots = m->plan->slots + first;
	r->n = n;
	r->first = first;
	r->moved = xcalloc(n, sizeof(*r->moved));
	r->open = xcalloc(n, sizeof(*r->open));
	r->keys = xcalloc(n, sizeof(*r->keys));
	for (i = 0; i < n; i++)
		r->open[i] = true;
	return r;
}

static void
drop_keys(struct round *r)
{
	size_t i;

	for (i = 0; i < r->n; i++) {
		reply_free(r->keys[i]);
		r->keys[i] = NULL;
	}
}

static void
round_free(struct round *r)
{
	if (r == NULL)
		return;
	drop_keys(r);
	free(r->keys);
	free(r->moved);
	free(r->open);
	free(r);
}

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

/* A failure while keys move: the round stopped at slot i's keys step. */
static void
keys_failed(struct round *r, size_t i)
{
	at_slot(r, i);
	r->m->ev.step = STEP_KEYS;
	r->m->pr->at = r->m->ev;
}

/* GETKEYSINSLOT of every open slot, queued on the source (not flushed). */
static void
getkeys_append(struct round *r)
{
	const char *argv[4] = {"CLUSTER", "GETKEYSINSLOT", NULL, NULL};
	char s[16], cnt[16];
	size_t i;

	snprintf(cnt, sizeof(cnt), "%d", r->m->o->pipeline);
	argv[3] = cnt;
	for (i = 0; i < r->n; i++) {
		if (!r->open[i])
			continue;
		snprintf(s, sizeof(s), "%d", r->slots[i]);
		argv[2] = s;
		conn_append_argv(r->m->src, 4, argv, NULL);
	}
}

/* Their answers, into r->keys; -1 on a failure, every answer read when
 * the connection still works. */
static int
getkeys_read(struct round *r, struct err *e)
{
	struct conn *src = r->m->src;
	size_t i, bad = r->n;

	for (i = 0; i < r->n; i++) {
		if (!r->open[i])
			continue;
		r->keys[i] = conn_read_reply(src, bad < r->n ? NULL : e);
		if (r->keys[i] == NULL) {
			if (bad == r->n)
				bad = i;
			break;
		}
		if (r->keys[i]->type != REPLY_ARRAY && bad == r->n) {
			err_set(e, 0, "'CLUSTER GETKEYSINSLOT %d' on '%s': %s", r->slots[i],
				conn_addr(src),
				r->keys[i]->type == REPLY_ERROR ? r->keys[i]->str : "bad reply");
			bad = i;
		}
	}
	if (bad == r->n)
		return 0;
	keys_failed(r, bad);
	return -1;
}

/* A MIGRATE per open slot that has keys, queued on the source; returns
 * how many. */
static size_t
migrate_append(struct round *r)
{
	const char **margv;
	size_t *mlens, i, margc, sent = 0;

	for (i = 0; i < r->n; i++) {
		if (!r->open[i] || r->keys[i]->nelem == 0)
			continue;
		margc = reshard_migrate_argv(r->m, r->keys[i], &margv, &mlens);
		conn_append_argv(r->m->src, (int)margc, margv, mlens);
		free(margv);
		free(mlens);
		sent++;
	}
	return sent;
}

/* The answers of migrate_append's MIGRATEs: a slot's keys count as moved
 * when its MIGRATE said so, and the first one that failed is where the
 * round stops, once every answer is read.  Then the keys step is
 * reported once per open slot (an empty one too).  Returns how many
 * slots may still hold keys, or -1. */
static long long
migrate_read(struct round *r, struct err *e)
{
	struct mover *m = r->m;
	size_t i, j, bad = r->n;
	long long still = 0;
	struct reply *rep;

	for (i = 0; i < r->n; i++) {
		if (!r->open[i] || r->keys[i]->nelem == 0)
			continue;
		rep = conn_read_reply(m->src, bad < r->n ? NULL : e);
		if (rep == NULL || rep->type == REPLY_ERROR)
			reshard_note_unknown(m, r->keys[i], rep);
		if (rep == NULL) {
			if (bad == r->n)
				bad = i;
			/* the MIGRATEs queued behind it may have run, or not */
			for (j = i + 1; j < r->n; j++)
				if (r->open[j] && r->keys[j]->nelem > 0)
					reshard_note_unknown(m, r->keys[j], NULL);
			break;
		}
		if (rep->type == REPLY_ERROR && bad == r->n) {
			err_set(e, 0, "'MIGRATE' of slot %d from '%s' to '%s:%d': %s", r->slots[i],
				conn_addr(m->src), m->dst_host, m->dst_port, rep->str);
			bad = i;
		} else if (rep->type != REPLY_ERROR && !reshard_is_nokey(rep)) {
			r->moved[i] += (long long)r->keys[i]->nelem;
			m->ev.total_moved += (long long)r->keys[i]->nelem;
			m->pr->keys_moved += (long long)r->keys[i]->nelem;
		}
		reply_free(rep);
	}
	if (bad < r->n) {
		keys_failed(r, bad);
		return -1;
	}
	for (i = 0; i < r->n; i++) {
		if (!r->open[i])
			continue;
		r->open[i] = r->keys[i]->nelem == (size_t)m->o->pipeline;
		at_slot(r, i);
		if (reshard_emit(m, STEP_KEYS, e) < 0) {
			keys_failed(r, i);
			return -1;
		}
		still += r->open[i];
	}
	drop_keys(r);
	return still;
}

/* GETKEYSINSLOT of every open slot, sent and its answers read. */
static int
getkeys(struct round *r, struct err *e)
{
	getkeys_append(r);
	if (conn_flush(r->m->src, e) < 0) {
		keys_failed(r, 0);
		return -1;
	}
	return getkeys_read(r, e);
}

/* migrate_append()'s MIGRATEs sent, the source's read timeout set for
 * them when there are any; returns how many, or -1. */
static long long
migrate_send(struct round *r, struct err *e)
{
	size_t sent = migrate_append(r);

	if ((sent > 0 && reshard_migrate_timeout(r->m, true, e) < 0) ||
	    conn_flush(r->m->src, e) < 0) {
		keys_failed(r, 0);
		return -1;
	}
	return (long long)sent;
}

/* One pass of GETKEYSINSLOT for every open slot, then one MIGRATE per
 * slot that has keys, all pipelined.  Returns how many slots are still
 * open, or -1. */
static long long
keys_pass(struct round *r, struct err *e)
{
	long long still, sent;

	if (getkeys(r, e) < 0 || (sent = migrate_send(r, e)) < 0)
		return -1;
	still = migrate_read(r, e);
	if (sent)
		reshard_migrate_timeout(r->m, false, NULL);
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

/* IMPORTING on the target and MIGRATING on the source, each awaited,
 * then the first GETKEYSINSLOT pass: the round is ready to move keys. */
static int
round_open(struct round *r, struct err *e)
{
	struct mover *m = r->m;

	if (step_all(r, m->dst, "IMPORTING", m->src_id, STEP_IMPORTING, STEP_COUNT_, e) < 0 ||
	    step_all(r, m->src, "MIGRATING", m->plan->target, STEP_MIGRATING, STEP_IMPORTING,
		     e) < 0)
		return -1;
	return getkeys(r, e);
}

/* The round's slots given to the target: SETSLOT NODE on the target, the
 * source, then the other masters (best effort, as one slot at a time:
 * gossip tells the rest).  A master that waits for its replicas is
 * awaited, and muted when they do not answer; the others are not (their
 * answers are read before their next command). */
static int
round_close(struct round *r, struct err *e)
{
	struct mover *m = r->m;
	const char *dst = m->plan->target;
	size_t i, failed;
	bool noreplicas;

	if (step_all(r, m->dst, "NODE", dst, STEP_NODE_TARGET, STEP_KEYS, e) < 0 ||
	    step_all(r, m->src, "NODE", dst, STEP_NODE_SOURCE, STEP_NODE_TARGET, e) < 0)
		return -1;
	for (i = m->nothers; i-- > 0;) {
		struct conn *c = m->others[i];

		if (reshard_waits(m, c)) {
			if (setslot_all(r, c, "NODE", dst, true, &noreplicas, &failed, NULL) == 0 &&
			    noreplicas)
				reshard_mute_other(m, i);
			continue;
		}
		reshard_collect(m, c);
		append_from(r, c, "NODE", dst, 0);
		if (conn_flush(c, NULL) == 0)
			reshard_owe(m, c, r->n);
	}
	for (i = 0; i < r->n; i++) {
		m->pr->slots_done++;
		at_slot(r, i);
		if (reshard_emit(m, STEP_SLOT_DONE, e) < 0)
			return -1;
	}
	return 0;
}

/* next's opening, queued behind cur's MIGRATEs: IMPORTING on the target
 * (awaited: the target answers between the keys it takes), then
 * MIGRATING and the first GETKEYSINSLOT on the source.  Returns whether
 * the source has them queued; a failure of the IMPORTING step leaves
 * *ne set. */
static bool
open_ahead(struct round *next, struct err *ne)
{
	struct mover *m = next->m;

	if (step_all(next, m->dst, "IMPORTING", m->src_id, STEP_IMPORTING, STEP_COUNT_, ne) < 0)
		return false;
	append_from(next, m->src, "MIGRATING", m->plan->target, 0);
	getkeys_append(next);
	return true;
}

/* Reads and drops up to n answers on c (none once the link broke). */
static void
drop_replies(struct conn *c, size_t n)
{
	struct reply *r;

	while (n-- > 0 && (r = conn_read_reply(c, NULL)) != NULL)
		reply_free(r);
}

/* The answers of open_ahead's commands on the source, in order (its
 * SETSLOTs are not awaited longer: a source that waits for its replicas
 * has nothing queued); the first failure is *ne, and next's stop, the
 * rest are still read. */
static int
read_ahead(struct round *next, struct err *ne)
{
	struct mover *m = next->m;
	size_t failed = 0;

	if (read_replies(next, m->src, "MIGRATING", 0, &failed, ne) < 0) {
		stopped_at(next, failed, STEP_IMPORTING);
		drop_replies(m->src, next->n); /* the GETKEYSINSLOTs */
		return -1;
	}
	if (emit_all(next, STEP_MIGRATING, ne) < 0) {
		drop_replies(m->src, next->n);
		return -1;
	}
	return getkeys_read(next, ne);
}

/* Moves the keys of cur (open, its first GETKEYSINSLOT read) and gives
 * its slots to the target, while next (NULL: none) opens behind its
 * MIGRATEs.  A failure of next's opening stops the run once cur is
 * done, with m->ev and m->pr->at where next stopped. */
static int
round_move(struct round *cur, struct round *next, struct err *e)
{
	struct mover *m = cur->m;
	struct err ne = ERR_INIT;
	struct reshard_event stop_ev = {0}, stop_at = {0};
	bool queued = false, ahead_failed = false;
	long long still;

	if (migrate_send(cur, e) < 0)
		return -1;
	if (next) {
		queued = open_ahead(next, &ne);
		ahead_failed = !queued;
		if (queued && conn_flush(m->src, e) < 0) {
			keys_failed(cur, 0);
			return -1;
		}
	}
	if (ahead_failed) {
		stop_ev = m->ev;
		stop_at = m->pr->at;
	}
	still = migrate_read(cur, e);
	if (queued && still < 0) {
		/* cur stops there; next's answers still come: read, unreported */
		drop_replies(m->src, 2 * next->n);
	} else if (queued && read_ahead(next, &ne) < 0) {
		ahead_failed = true;
		stop_ev = m->ev;
		stop_at = m->pr->at;
	}
	reshard_migrate_timeout(m, false, NULL);
	while (still > 0)
		still = keys_pass(cur, e);
	if (still < 0 || round_close(cur, e) < 0)
		return -1;
	if (ahead_failed) {
		/* where next stopped; the last step done is cur's, unless
		 * next had reached one of its own */
		m->ev = stop_ev;
		if (stop_at.slot_index == stop_ev.slot_index)
			m->pr->at = stop_at;
		if (e)
			*e = ne;
		return -1;
	}
	return 0;
}

int
reshard_rounds(struct mover *m, size_t first, size_t count, struct err *e)
{
	size_t per = (size_t)m->o->slots_per_round, at = first, end = first + count;
	struct round *cur, *next = NULL;
	int rc = -1;

	cur = round_new(m, at, per < end - at ? per : end - at);
	at += cur->n;
	if (round_open(cur, e) < 0)
		goto out;
	for (;;) {
		next = at < end ? round_new(m, at, per < end - at ? per : end - at) : NULL;
		if (next)
			at += next->n;
		/* a source that waits for its replicas answers SETSLOT late:
		 * nothing is queued behind its MIGRATEs */
		if (next && reshard_waits(m, m->src)) {
			if (round_move(cur, NULL, e) < 0 || round_open(next, e) < 0)
				goto out;
		} else if (round_move(cur, next, e) < 0) {
			goto out;
		}
		round_free(cur);
		cur = next;
		next = NULL;
		if (cur == NULL)
			break;
	}
	rc = 0;
out:
	round_free(cur);
	round_free(next);
	return rc;
}
