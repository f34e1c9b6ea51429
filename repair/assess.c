/* assess.c - the repair engine's view of a cluster; see assess.h. */
#include "repair/assess.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/conn.h"
#include "cluster/server.h"
#include "cluster/stale.h"
#include "common/xmalloc.h"

#define COUNT_CHUNK 2048

/* All 16384 counts in one round trip: a script that asks the node itself.
 * 0, or 1 when the node will not run it (scripting off, ACL): the caller
 * asks slot by slot instead. */
static int
count_by_script(struct anode *n, struct conn *c, struct err *e)
{
	static const char script[] =
		"local t = {} for i = 0, 16383 do "
		"t[i + 1] = redis.call('CLUSTER', 'COUNTKEYSINSLOT', i) end return t";
	struct reply *r = conn_cmd(c, e, "EVAL", script, "0", NULL);
	int slot;

	if (r == NULL)
		return -1;
	if (r->type != REPLY_ARRAY || r->nelem != CLUSTER_SLOTS) {
		reply_free(r);
		return 1;
	}
	for (slot = 0; slot < CLUSTER_SLOTS; slot++) {
		n->keys[slot] = r->elem[slot]->integer;
		n->total_keys += r->elem[slot]->integer;
	}
	reply_free(r);
	return 0;
}

/* Most nodes hold keys only in the slots they own or import: counted
 * there alone, a third of the work, and DBSIZE says whether that was all.
 * 0 when it was (counts filled), 1 when not (or no script: count
 * everything), -1 on a failed connection. */
static int
count_owned_by_script(struct anode *n, struct conn *c, struct err *e)
{
	static const char script[] =
		"local t, owned = {}, 0 "
		"for j = 1, #ARGV, 2 do "
		"for i = tonumber(ARGV[j]), tonumber(ARGV[j + 1]) do "
		"local k = redis.call('CLUSTER', 'COUNTKEYSINSLOT', i) "
		"if k > 0 then t[#t + 1] = i t[#t + 1] = k owned = owned + k end end end "
		"if redis.call('DBSIZE') ~= owned then return false end return t";
	const struct cluster_node *me = n->me;
	size_t nr = me ? me->nranges + me->nopen : 0, argc = 3, i, k = 0;
	const char **argv = xcalloc(3 + 2 * nr + 1, sizeof(*argv));
	char (*num)[16] = xcalloc(2 * nr + 1, sizeof(*num));
	struct reply *r;
	int rc = 1;

	argv[0] = "EVAL";
	argv[1] = script;
	argv[2] = "0";
	for (i = 0; me && i < me->nranges; i++, k += 2) {
		snprintf(num[k], sizeof(num[0]), "%d", me->ranges[i].first);
		snprintf(num[k + 1], sizeof(num[0]), "%d", me->ranges[i].last);
		argv[argc++] = num[k];
		argv[argc++] = num[k + 1];
	}
	for (i = 0; me && i < me->nopen; i++) {
		if (me->open[i].state != SLOT_IMPORTING)
			continue; /* a migrating slot is an owned one */
		snprintf(num[k], sizeof(num[0]), "%d", me->open[i].slot);
		argv[argc++] = num[k];
		argv[argc++] = num[k];
		k += 2;
	}
	r = conn_cmd_argv(c, (int)argc, argv, NULL, e);
	free(argv);
	free(num);
	if (r == NULL)
		return -1;
	if (r->type == REPLY_ARRAY && r->nelem % 2 == 0) {
		for (i = 0; i + 1 < r->nelem; i += 2) {
			long long slot = r->elem[i]->integer;

			if (slot >= 0 && slot < CLUSTER_SLOTS) {
				n->keys[slot] = r->elem[i + 1]->integer;
				n->total_keys += r->elem[i + 1]->integer;
			}
		}
		rc = 0;
	}
	reply_free(r);
	return rc;
}

/* Whether the master was promoted from a replica (a failover): INFO
 * replication keeps the history it followed before and the offset where
 * its own forked from it (for the plan's words, and a salvage's verdict
 * on its dead master's files: repair/successor.h).  A failure is not
 * one. */
static void
read_promoted(struct anode *n, struct conn *c)
{
	char *info = conn_cmd_str(c, NULL, "INFO", "replication", NULL);
	char off[32] = "";

	n->replid2[0] = '\0';
	n->second_offset = -1;
	if (info && info_field(info, "second_repl_offset", off, sizeof(off)) == 0) {
		n->second_offset = strtoll(off, NULL, 10);
		info_field(info, "master_replid2", n->replid2, sizeof(n->replid2));
	}
	n->promoted = n->second_offset != -1 && off[0];
	free(info);
}

/* COUNTKEYSINSLOT for the slots in `only` (NULL: every slot: by script
 * when the node runs it), in pipelined chunks; the others count 0. */
static int
count_keys(struct anode *n, const struct snap_node *s, const bool *only, int timeout_ms,
	   struct err *e)
{
	const char *argv[3] = {"CLUSTER", "COUNTKEYSINSLOT", NULL};
	struct conn *c = conn_open(s->host, s->port, timeout_ms, e);
	struct reply *r;
	char num[16];
	int first, last, slot, rc = -1;

	if (c == NULL)
		return -1;
	n->keys = xcalloc(CLUSTER_SLOTS, sizeof(long long));
	/* one INFO replication each: a master's history, a replica's age */
	if (n->master)
		read_promoted(n, c);
	else
		n->stale = replica_too_stale(c, n->stale_why, sizeof(n->stale_why));
	if (only == NULL && ((rc = count_owned_by_script(n, c, e)) <= 0 ||
			     (rc = count_by_script(n, c, e)) <= 0)) {
		conn_free(c);
		return rc;
	}
	rc = -1;
	for (first = 0; first < CLUSTER_SLOTS; first = last) {
		last = first + COUNT_CHUNK;
		for (slot = first; slot < last; slot++) {
			if (only && !only[slot])
				continue;
			snprintf(num, sizeof(num), "%d", slot);
			argv[2] = num;
			conn_append_argv(c, 3, argv, NULL);
		}
		if (conn_flush(c, e) < 0)
			goto out;
		for (slot = first; slot < last; slot++) {
			if (only && !only[slot])
				continue;
			if ((r = conn_read_reply(c, e)) == NULL)
				goto out;
			if (r->type != REPLY_INTEGER) {
				err_set(e, 0, "'CLUSTER COUNTKEYSINSLOT %d' on '%s': %s", slot,
					conn_addr(c), r->type == REPLY_ERROR ? r->str : "bad reply");
				reply_free(r);
				goto out;
			}
			n->keys[slot] = r->integer;
			n->total_keys += r->integer;
			reply_free(r);
		}
	}
	rc = 0;
out:
	conn_free(c);
	return rc;
}

void
assess_index(struct assessment *a)
{
	const struct snapshot *s = &a->snap;
	size_t i, j;

	if (a->nodes == NULL) /* else the caller's, with keys set */
		a->nodes = xcalloc(s->n + 1, sizeof(*a->nodes));
	for (i = 0; i < s->n; i++) {
		struct anode *n = &a->nodes[i];
		const struct snap_node *sn = &s->nodes[i];

		n->reachable = sn->reachable;
		n->me = sn->reachable ? topology_myself(&sn->view) : NULL;
		n->master = false;
		n->failed = false;
		n->epoch = n->me ? n->me->config_epoch : 0;
		if (n->me)
			n->master = (n->me->flags & NODE_MASTER) != 0;
		/* the others' word on it: its role when it is down, its flags */
		for (j = 0; j < s->n; j++) {
			const struct cluster_node *x;

			if (j == i || !s->nodes[j].reachable || !sn->id[0])
				continue;
			x = topology_find(&s->nodes[j].view, sn->id);
			if (x == NULL)
				continue;
			if (x->flags & (NODE_FAIL | NODE_PFAIL))
				n->failed = true;
			if (!n->me) {
				n->master = (x->flags & NODE_MASTER) != 0;
				if (x->config_epoch > n->epoch)
					n->epoch = x->config_epoch;
			}
		}
	}
}

struct counter {
	struct anode *n;
	const struct snap_node *s;
	const bool *only;
	int timeout_ms;
	int rc;           /* count_keys()'s */
	bool running;     /* a thread of ours, to be joined */
	struct err e;
	pthread_t t;
};

static void *
count_thread(void *arg)
{
	struct counter *c = arg;

	c->rc = count_keys(c->n, c->s, c->only, c->timeout_ms, &c->e);
	return NULL;
}

/* What server the seed runs: its Valkey major version, 0 for Redis (or
 * when it cannot be asked). */
static int
valkey_major_at(const char *host, int port, int timeout_ms)
{
	struct conn *c = conn_open(host, port, timeout_ms, NULL);
	int major = c ? server_valkey_major_of(c) : 0;

	conn_free(c);
	return major;
}

int
assess_take(struct assessment *a, const char *host, int port, int timeout_ms,
	    const bool *only, struct err *e)
{
	struct counter *cs;
	size_t i;

	memset(a, 0, sizeof(*a));
	a->timeout_ms = timeout_ms;
	a->full = only == NULL;
	if (snapshot_take(&a->snap, host, port, timeout_ms, e) < 0) {
		snapshot_release(&a->snap);
		return -1;
	}
	assess_index(a);
	a->valkey_major = valkey_major_at(host, port, timeout_ms);
	/* every node counted at once, one thread each (replicas too: they
	 * may hold keys no master has) */
	cs = xcalloc(a->snap.n + 1, sizeof(*cs));
	for (i = 0; i < a->snap.n; i++) {
		cs[i] = (struct counter){.n = &a->nodes[i], .s = &a->snap.nodes[i],
					 .only = only, .timeout_ms = timeout_ms};
		if (!a->nodes[i].reachable)
			continue;
		cs[i].running = pthread_create(&cs[i].t, NULL, count_thread, &cs[i]) == 0;
		if (!cs[i].running)
			count_thread(&cs[i]);
	}
	for (i = 0; i < a->snap.n; i++) {
		struct anode *n = &a->nodes[i];

		if (cs[i].running)
			pthread_join(cs[i].t, NULL);
		if (cs[i].rc == 0)
			continue;
		if (!n->master) { /* a replica loading its master's data, say:
				     it counts no key, and is not down */
			free(n->keys);
			n->keys = NULL;
			n->total_keys = 0;
			continue;
		}
		/* it stopped answering between two questions: down */
		n->reachable = false;
		free(n->keys);
		n->keys = NULL;
		n->total_keys = 0;
		snprintf(a->snap.nodes[i].error, sizeof(a->snap.nodes[i].error), "%s", cs[i].e.msg);
	}
	free(cs);
	return 0;
}

void
assess_release_sources(struct assessment *a)
{
	size_t i;

	for (i = 0; i < a->nsrc; i++) {
		free(a->src[i].held);
		free(a->src[i].lacking);
		free(a->src[i].conf_slots);
	}
	free(a->src);
	a->src = NULL;
	a->nsrc = 0;
}

const struct asource *
assess_source_of(const struct assessment *a, int i)
{
	size_t k;

	for (k = 0; k < a->nsrc; k++)
		if (a->src[k].read && a->src[k].keys > 0 &&
		    (!a->src[k].replica ? a->src[k].node == i
					: a->src[k].replica_of == i && !a->nodes[i].reachable))
			return &a->src[k];
	return NULL;
}

void
assess_release(struct assessment *a)
{
	size_t i;

	assess_release_sources(a);
	for (i = 0; a->nodes && i < a->snap.n; i++)
		free(a->nodes[i].keys);
	free(a->nodes);
	a->nodes = NULL;
	snapshot_release(&a->snap);
}

bool
assess_live_master(const struct assessment *a, int i)
{
	return i >= 0 && a->nodes[i].reachable && a->nodes[i].master;
}

bool
assess_claims(const struct assessment *a, int i, int slot)
{
	return a->nodes[i].me && cluster_node_has_slot(a->nodes[i].me, slot);
}

static const char *
open_peer(const struct assessment *a, int i, int slot, enum slot_state st)
{
	const struct cluster_node *me = a->nodes[i].me;
	size_t k;

	for (k = 0; me && k < me->nopen; k++)
		if (me->open[k].slot == slot && me->open[k].state == st)
			return me->open[k].peer;
	return NULL;
}

const char *
assess_migrating(const struct assessment *a, int i, int slot)
{
	return open_peer(a, i, slot, SLOT_MIGRATING);
}

const char *
assess_importing(const struct assessment *a, int i, int slot)
{
	return open_peer(a, i, slot, SLOT_IMPORTING);
}

long long
assess_keys(const struct assessment *a, int i, int slot)
{
	return a->nodes[i].master ? assess_held(a, i, slot) : 0;
}

long long
assess_held(const struct assessment *a, int i, int slot)
{
	return a->nodes[i].keys ? a->nodes[i].keys[slot] : 0;
}

int
assess_master_of(const struct assessment *a, int i)
{
	const struct cluster_node *me = a->nodes[i].me;

	if (!a->nodes[i].reachable || a->nodes[i].master || me == NULL || !me->master_id[0])
		return -1;
	return snapshot_find_id(&a->snap, me->master_id);
}

int
assess_replica_slots(const struct assessment *a, int i, bool *only)
{
	int m = assess_master_of(a, i), slot, n = 0;

	memset(only, 0, CLUSTER_SLOTS * sizeof(bool));
	if (!a->nodes[i].reachable || a->nodes[i].master)
		return 0;
	for (slot = 0; slot < CLUSTER_SLOTS; slot++) {
		long long k = assess_held(a, i, slot);

		only[slot] = k > 0 && (!assess_live_master(a, m) || assess_keys(a, m, slot) != k);
		n += only[slot];
	}
	return n;
}

int
assess_ref_owner(const struct assessment *a, int slot)
{
	return a->snap.owner[slot];
}

const char *
assess_addr(const struct assessment *a, int i, char *buf, size_t n)
{
	snprintf(buf, n, "%s:%d", a->snap.nodes[i].host, a->snap.nodes[i].port);
	return buf;
}

size_t
assess_seen(const struct assessment *a, size_t i, enum seen *seen, size_t *forgot)
{
	size_t j, knows = 0;

	*forgot = 0;
	for (j = 0; j < a->snap.n; j++) {
		if (j == i || !a->snap.nodes[j].reachable)
			seen[j] = SEEN_NOT_ASKED;
		else if (topology_find(&a->snap.nodes[j].view, a->snap.nodes[i].id))
			seen[j] = SEEN_KNOWN;
		else
			seen[j] = SEEN_FORGOTTEN;
		knows += seen[j] == SEEN_KNOWN;
		*forgot += seen[j] == SEEN_FORGOTTEN;
	}
	return knows;
}
