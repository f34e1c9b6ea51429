/*
 * reshard.c - the migration driver; see reshard.h.
 *
 * The protocol is redis-cli's (clusterManagerMoveSlot): IMPORTING on the
 * target first, so that the target accepts the keys as soon as the source
 * starts answering ASK; MIGRATING on the source; keys in batches with
 * MIGRATE ... KEYS; then the new owner is announced to the target first
 * (it must own the slot before the source lets go, or the slot would
 * briefly have no owner anywhere), the source, and the other masters.
 */
#include "harness/reshard/reshard.h"
#include "harness/reshard/reshard_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/conn.h"
#include "cluster/fetch.h"
#include "cluster/server.h"
#include "common/log.h"
#include "common/xmalloc.h"

static const char *const step_names[STEP_COUNT_] = {
	"importing", "migrating", "keys", "node-target", "node-source", "slot-done",
};

const char *
reshard_step_name(enum reshard_step s)
{
	return s < STEP_COUNT_ ? step_names[s] : "?";
}

int
reshard_step_parse(const char *name)
{
	int i;

	for (i = 0; i < STEP_COUNT_; i++)
		if (strcmp(step_names[i], name) == 0)
			return i;
	return -1;
}

static const char *
host_of(const struct cluster_node *n, const char *fallback)
{
	return n->ip[0] ? n->ip : fallback;
}

/* Valkey 8 replicates SETSLOT to a primary's replicas before it applies
 * it, and takes a TIMEOUT for that: node k waits when it has replicas
 * in the view (failed ones too: it waits for the replicas it has). */
static void
valkey_setslot(struct mover *m, size_t k)
{
	size_t i;

	m->timeouts[k] = m->conns[k] && server_valkey_major_of(m->conns[k]) >= 8;
	m->waits[k] = false;
	for (i = 0; m->timeouts[k] && i < m->t.n; i++)
		if ((m->t.nodes[i].flags & NODE_REPLICA) &&
		    strcmp(m->t.nodes[i].master_id, m->t.nodes[k].id) == 0)
			m->waits[k] = true;
}

/* Connections to the target and, best effort, to every other master
 * that is not flagged failed: sources are connected when their turn
 * comes (set_source), the rest only hear SETSLOT NODE. */
static int
connect_all(struct mover *m, const char *host, struct err *e)
{
	const struct cluster_node *d, *n;
	size_t i;

	d = topology_find(&m->t, m->plan->target);
	if (d == NULL)
		return err_set(e, 0, "target node %s is not in the cluster", m->plan->target);
	m->host = host;
	m->conns = xcalloc(m->t.n + 1, sizeof(*m->conns));
	m->others = xcalloc(m->t.n + 1, sizeof(*m->others));
	m->waits = xcalloc(m->t.n + 1, sizeof(*m->waits));
	m->timeouts = xcalloc(m->t.n + 1, sizeof(*m->timeouts));
	m->owed = xcalloc(m->t.n + 1, sizeof(*m->owed));
	for (i = 0; i < m->t.n; i++) {
		n = &m->t.nodes[i];
		if (n == d) {
			m->conns[i] = conn_open(host_of(n, host), n->port, m->o->timeout_ms, e);
			if (m->conns[i] == NULL)
				return err_prefix(e, "target: ");
			m->dst = m->conns[i];
		} else if ((n->flags & NODE_MASTER) && !(n->flags & (NODE_FAIL | NODE_NOADDR))) {
			m->conns[i] = conn_open(host_of(n, host), n->port, m->o->timeout_ms, NULL);
		}
		valkey_setslot(m, i);
	}
	snprintf(m->dst_host, sizeof(m->dst_host), "%s", host_of(d, host));
	m->dst_port = d->port;
	snprintf(m->dst_port_s, sizeof(m->dst_port_s), "%d", d->port);
	snprintf(m->timeout_s, sizeof(m->timeout_s), "%d", m->o->timeout_ms);
	return 0;
}

/* The master giving slots from now on; every other connected master
 * but the target hears SETSLOT NODE. */
static int
set_source(struct mover *m, const char *id, struct err *e)
{
	const struct cluster_node *s = topology_find(&m->t, id);
	size_t i, k;

	if (s == NULL)
		return err_set(e, 0, "source node %s is not in the cluster", id);
	reshard_collect_all(m);
	k = (size_t)(s - m->t.nodes);
	if (m->conns[k] == NULL &&
	    (m->conns[k] = conn_open(host_of(s, m->host), s->port, m->o->timeout_ms, e)) == NULL)
		return err_prefix(e, "source: ");
	valkey_setslot(m, k);
	m->src = m->conns[k];
	m->src_id = s->id;
	m->nothers = 0;
	for (i = 0; i < m->t.n; i++)
		if (m->conns[i] && m->conns[i] != m->src && m->conns[i] != m->dst)
			m->others[m->nothers++] = m->conns[i];
	return 0;
}

/* Moves up to `want` keys of the slot: returns how many GETKEYSINSLOT
 * gave (fewer than `want`: the slot is empty now), or -1; *moved is how
 * many MIGRATE moved (0 on +NOKEY: they expired or were deleted). */
static long long
move_batch(struct mover *m, int slot, int want, long long *moved_out, struct err *e)
{
	char s[16], n[16];
	const char **argv = NULL;
	size_t *lens = NULL;
	struct reply *keys, *r = NULL;
	long long got = -1;
	size_t argc;

	snprintf(s, sizeof(s), "%d", slot);
	snprintf(n, sizeof(n), "%d", want);
	keys = conn_cmd(m->src, e, "CLUSTER", "GETKEYSINSLOT", s, n, NULL);
	if (keys == NULL)
		return -1;
	if (keys->type != REPLY_ARRAY) {
		err_set(e, 0, "'CLUSTER GETKEYSINSLOT %d' on '%s': %s", slot,
			conn_addr(m->src), keys->type == REPLY_ERROR ? keys->str : "bad reply");
		goto out;
	}
	if (keys->nelem == 0) {
		got = 0;
		goto out;
	}
	argc = reshard_migrate_argv(m, keys, &argv, &lens);
	if (reshard_migrate_timeout(m, true, e) < 0)
		goto out;
	r = conn_cmd_argv(m->src, (int)argc, argv, lens, e);
	if (r == NULL || r->type == REPLY_ERROR)
		reshard_note_unknown(m, keys, r);
	if (reshard_migrate_timeout(m, false, r ? e : NULL) < 0 || r == NULL)
		goto out;
	if (r->type == REPLY_ERROR) {
		err_set(e, 0, "'MIGRATE' of slot %d from '%s' to '%s:%d': %s", slot,
			conn_addr(m->src), m->dst_host, m->dst_port, r->str);
		goto out;
	}
	got = (long long)keys->nelem;
out:
	*moved_out = got > 0 && r && reshard_is_nokey(r) ? 0 : got;
	reply_free(r);
	reply_free(keys);
	free(argv);
	free(lens);
	return got;
}

static int
move_keys(struct mover *m, int slot, struct err *e)
{
	long long budget, got, moved, reported = -1;
	int want;

	for (;;) {
		want = m->o->pipeline;
		budget = m->h && m->h->keys_until
				 ? m->h->keys_until(m->h->arg, m->ev.slot_index,
						    m->ev.slot_moved, m->ev.slot_keys)
				 : -1;
		if (budget == 0 && reported != m->ev.slot_moved) {
			/* the caller's point is here: reported before another
			 * key moves (a point of 0 keys, or a share that rounds
			 * down to the keys moved so far) */
			reported = m->ev.slot_moved;
			if (reshard_emit(m, STEP_KEYS, e) < 0)
				return -1;
			continue;
		}
		if (budget > 0 && budget < want)
			want = (int)budget;
		got = move_batch(m, slot, want, &moved, e);
		if (got < 0)
			return -1;
		/* nothing more: done, once this count has been reported (an
		 * empty slot still passes the keys step once) */
		if (got == 0 && reported == m->ev.slot_moved)
			return 0;
		m->ev.slot_moved += moved;
		m->ev.total_moved += moved;
		m->pr->keys_moved += moved;
		reported = m->ev.slot_moved;
		if (reshard_emit(m, STEP_KEYS, e) < 0)
			return -1;
		/* fewer keys than asked for means the slot is empty now */
		if (got < want)
			return 0;
	}
}

static int
move_slot(struct mover *m, int idx, struct err *e)
{
	const char *src = m->src_id, *dst = m->plan->target;
	int slot = m->plan->slots[idx];
	char s[16];
	long long count = 0;
	struct err se = ERR_INIT;
	bool noreplicas = false;
	size_t i;

	reshard_collect_all(m);
	m->ev.slot = slot;
	m->ev.slot_index = idx + 1;
	m->ev.slot_moved = 0;
	snprintf(s, sizeof(s), "%d", slot);
	/* the count is for triggers and reports; a plain reshard needs none */
	if (m->h && m->h->keys_until &&
	    conn_cmd_int(m->src, &count, e, "CLUSTER", "COUNTKEYSINSLOT", s, NULL) < 0)
		return -1;
	m->ev.slot_keys = count;
	if (reshard_setslot(m, m->dst, slot, "IMPORTING", src, NULL, e) < 0 ||
	    reshard_emit(m, STEP_IMPORTING, e) < 0)
		return -1;
	if (reshard_setslot(m, m->src, slot, "MIGRATING", dst, NULL, e) < 0 ||
	    reshard_emit(m, STEP_MIGRATING, e) < 0)
		return -1;
	if (move_keys(m, slot, e) < 0)
		return -1;
	if (reshard_setslot(m, m->dst, slot, "NODE", dst, NULL, e) < 0 ||
	    reshard_emit(m, STEP_NODE_TARGET, e) < 0)
		return -1;
	if (reshard_setslot(m, m->src, slot, "NODE", dst, &noreplicas, &se) < 0) {
		if (!noreplicas) {
			if (e)
				*e = se;
			return -1;
		}
		/* as valkey-cli: the target owns the slot at a newer epoch,
		 * whose gossip makes the source let go of it */
		log_warn("reshard: %s; the target owns the slot: going on", se.msg);
	}
	if (reshard_emit(m, STEP_NODE_SOURCE, e) < 0)
		return -1;
	for (i = m->nothers; i-- > 0;)
		if (reshard_setslot(m, m->others[i], slot, "NODE", dst, &noreplicas, NULL) < 0 &&
		    noreplicas)
			reshard_mute_other(m, i);
	m->pr->slots_done++;
	return reshard_emit(m, STEP_SLOT_DONE, e);
}

static const char *
source_of(const struct reshard_plan *plan, size_t i)
{
	return plan->sources ? plan->sources[i] : plan->source;
}

int
reshard_run(const struct reshard_plan *plan, const char *host, int port,
	    const struct reshard_opts *o, const struct reshard_hooks *h,
	    struct reshard_progress *progress, struct err *e)
{
	struct reshard_opts opts = *o;
	struct mover m = {.plan = plan, .o = &opts, .h = h, .pr = progress};
	size_t i, k, n;
	bool reached;
	int rc = -1;

	if (opts.pipeline <= 0)
		opts.pipeline = 10;
	if (opts.timeout_ms <= 0)
		opts.timeout_ms = 5000;
	memset(progress, 0, sizeof(*progress));
	if (topology_fetch_addr(host, port, opts.timeout_ms, &m.t, e) < 0 ||
	    connect_all(&m, host, e) < 0)
		goto out;
	if (opts.slots_per_round < 1)
		opts.slots_per_round = 1;
	for (i = 0; i < plan->nslots; i += n) {
		/* the plan's next slots of one source */
		for (n = 1; i + n < plan->nslots &&
			    strcmp(source_of(plan, i + n), source_of(plan, i)) == 0;
		     n++)
			;
		if (m.src_id == NULL || strcmp(m.src_id, source_of(plan, i)) != 0) {
			m.ev.slot = plan->slots[i];
			m.ev.slot_index = (int)i + 1;
			m.ev.slot_moved = m.ev.slot_keys = 0; /* not the last slot's */
			if (set_source(&m, source_of(plan, i), e) < 0)
				goto stop;
		}
		if (opts.slots_per_round > 1 && n > 1) {
			if (reshard_rounds(&m, i, n, e) < 0)
				goto stop;
			continue;
		}
		for (k = 0; k < n; k++)
			if (move_slot(&m, (int)(i + k), e) < 0)
				goto stop;
	}
	rc = 0;
	goto out;
stop:
	progress->stopped = true;
	reached = progress->at.slot_index == m.ev.slot_index;
	progress->at_reached = reached;
	if (!reached)
		progress->at = m.ev; /* the slot, not the last one done */
	err_prefix(e, "reshard stopped at slot %d (%d of %zu), %s%s: ", m.ev.slot,
		   m.ev.slot_index, plan->nslots, reached ? "step " : "before its first step",
		   reached ? reshard_step_name(progress->at.step) : "");
out:
	/* every master has had its say before the caller looks */
	reshard_collect_all(&m);
	for (i = 0; m.conns && i < m.t.n; i++)
		conn_free(m.conns[i]);
	free(m.conns);
	free(m.waits);
	free(m.timeouts);
	free(m.owed);
	free(m.others);
	topology_release(&m.t);
	return rc;
}

/* The node's view, with the plan's source in it. */
static const struct cluster_node *
plan_source(struct reshard_plan *plan, const char *host, int port, struct topology *t,
	    struct err *e)
{
	const struct cluster_node *src;

	if (topology_fetch_addr(host, port, 5000, t, e) < 0)
		return NULL;
	src = topology_find(t, plan->source);
	if (src == NULL)
		err_set(e, 0, "source node %s is not in the cluster", plan->source);
	return src;
}

int
reshard_plan_count(struct reshard_plan *plan, const char *host, int port,
		   int count, struct err *e)
{
	struct topology t = TOPOLOGY_INIT;
	const struct cluster_node *src;
	int slot, n = 0;

	if ((src = plan_source(plan, host, port, &t, e)) == NULL) {
		topology_release(&t);
		return -1;
	}
	plan->slots = xcalloc((size_t)count + 1, sizeof(int));
	for (slot = 0; slot < CLUSTER_SLOTS && n < count; slot++)
		if (cluster_node_has_slot(src, slot))
			plan->slots[n++] = slot;
	plan->nslots = (size_t)n;
	topology_release(&t);
	if (n < count)
		return err_set(e, 0, "source %s owns only %d slots, not %d", plan->source,
			       n, count);
	return 0;
}

int
reshard_slot_list_parse(const char *list, int **slots, size_t *n, struct err *e)
{
	unsigned char seen[CLUSTER_SLOTS] = {0};
	const char *p = list;
	char *end;
	long a, b, s;

	*slots = xcalloc(CLUSTER_SLOTS, sizeof(int));
	*n = 0;
	for (;;) {
		a = strtol(p, &end, 10);
		if (!isdigit((unsigned char)*p) || a >= CLUSTER_SLOTS)
			goto bad;
		b = a;
		if (*end == '-') {
			p = end + 1;
			b = strtol(p, &end, 10);
			if (!isdigit((unsigned char)*p) || b >= CLUSTER_SLOTS || b < a)
				goto bad;
		}
		for (s = a; s <= b; s++) {
			if (seen[s]) {
				err_set(e, 0, "slot %ld appears twice in '%s'", s, list);
				goto fail;
			}
			seen[s] = 1;
			(*slots)[(*n)++] = (int)s;
		}
		if (*end == '\0')
			return 0;
		if (*end != ',')
			goto bad;
		p = end + 1;
	}
bad:
	err_set(e, 0, "bad slot list '%s' at '%s': expected slots 0-16383 as N or N-M, "
		"separated by commas", list, p);
fail:
	free(*slots);
	*slots = NULL;
	*n = 0;
	return -1;
}

int
reshard_plan_list(struct reshard_plan *plan, const char *host, int port, const char *list,
		  struct err *e)
{
	struct topology t = TOPOLOGY_INIT;
	const struct cluster_node *src;
	size_t i;
	int rc = -1;

	if (reshard_slot_list_parse(list, &plan->slots, &plan->nslots, e) < 0)
		return -1;
	if ((src = plan_source(plan, host, port, &t, e)) == NULL)
		goto out;
	for (i = 0; i < plan->nslots; i++)
		if (!cluster_node_has_slot(src, plan->slots[i])) {
			err_set(e, 0, "source %s does not own slot %d", plan->source,
				plan->slots[i]);
			goto out;
		}
	rc = 0;
out:
	topology_release(&t);
	if (rc < 0)
		reshard_plan_release(plan);
	return rc;
}

void
reshard_plan_release(struct reshard_plan *plan)
{
	free(plan->slots);
	free(plan->sources);
	plan->sources = NULL;
	plan->slots = NULL;
	plan->nslots = 0;
}
