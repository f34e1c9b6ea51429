/*
 * placed.c - keys on nodes that do not own their slot, without a
 * dataset: per reachable master, COUNTKEYSINSLOT of every slot the
 * reference view gives it, pipelined, against its DBSIZE.  Only where
 * the two differ are all 16384 slots counted (one script), and a key of
 * the first such slots fetched as an example.  One thread per master;
 * the cost is per slot, whatever the number of keys.
 */
#include "verifier/placed.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/conn.h"
#include "common/xmalloc.h"

/* Keys in every slot. */
static const char all_script[] =
	"local t = {} for i = 0, 16383 do "
	"t[i + 1] = redis.call('CLUSTER', 'COUNTKEYSINSLOT', i) end return t";

struct counter {
	const struct snapshot *s;
	int node, timeout_ms, max;
	struct placed p;
	bool running;
	pthread_t t;
};

/* 0 when every key is in an owned slot, 1 when not, -1 on a failure:
 * COUNTKEYSINSLOT of every slot the reference view gives node i, and
 * DBSIZE, pipelined (natively, ~0.6 us a slot here, half what a script's
 * redis.call costs). */
static int
owned_only(struct counter *c, struct conn *cn, struct err *e)
{
	const char *argv[3] = {"CLUSTER", "COUNTKEYSINSLOT", NULL};
	const char *dbsize[1] = {"DBSIZE"};
	long long owned = 0, total = -1;
	char num[16];
	struct reply *r;
	int slot, n = 0, i;

	for (slot = 0; slot < CLUSTER_SLOTS; slot++) {
		if (c->s->owner[slot] != c->node)
			continue;
		snprintf(num, sizeof(num), "%d", slot);
		argv[2] = num;
		conn_append_argv(cn, 3, argv, NULL);
		/* sent in pieces: the server starts sooner, and the output
		 * buffer stays small (growing one for every slot at once
		 * cost more in page faults than the formatting) */
		if (++n % 256 == 0 && conn_flush(cn, e) < 0)
			return -1;
	}
	conn_append_argv(cn, 1, dbsize, NULL);
	if (conn_flush(cn, e) < 0)
		return -1;
	for (i = 0; i <= n; i++) {
		if ((r = conn_read_reply(cn, e)) == NULL)
			return -1;
		if (r->type != REPLY_INTEGER) {
			err_set(e, 0, "'%s' on '%s': %s", i < n ? "CLUSTER COUNTKEYSINSLOT" : "DBSIZE",
				conn_addr(cn), r->type == REPLY_ERROR ? r->str : "bad reply");
			reply_free(r);
			return -1;
		}
		if (i < n)
			owned += r->integer;
		else
			total = r->integer;
		reply_free(r);
	}
	return owned != total;
}

/* Every slot counted into c->p.keys: by script, else (no scripts)
 * COUNTKEYSINSLOT pipelined. */
static int
count_slots(struct counter *c, struct conn *cn, struct err *e)
{
	const char *argv[3] = {"CLUSTER", "COUNTKEYSINSLOT", NULL};
	struct reply *r = conn_cmd(cn, e, "EVAL", all_script, "0", NULL);
	char num[16];
	int slot;

	if (r == NULL)
		return -1;
	c->p.keys = xcalloc(CLUSTER_SLOTS, sizeof(long long));
	if (r->type == REPLY_ARRAY && r->nelem == CLUSTER_SLOTS) {
		for (slot = 0; slot < CLUSTER_SLOTS; slot++)
			c->p.keys[slot] = r->elem[slot]->integer;
		reply_free(r);
		return 0;
	}
	reply_free(r);
	for (slot = 0; slot < CLUSTER_SLOTS; slot++) {
		snprintf(num, sizeof(num), "%d", slot);
		argv[2] = num;
		conn_append_argv(cn, 3, argv, NULL);
	}
	if (conn_flush(cn, e) < 0)
		return -1;
	for (slot = 0; slot < CLUSTER_SLOTS; slot++) {
		if ((r = conn_read_reply(cn, e)) == NULL)
			return -1;
		if (r->type != REPLY_INTEGER) {
			err_set(e, 0, "'CLUSTER COUNTKEYSINSLOT %d' on '%s': %s", slot,
				conn_addr(cn), r->type == REPLY_ERROR ? r->str : "bad reply");
			reply_free(r);
			return -1;
		}
		c->p.keys[slot] = r->integer;
		reply_free(r);
	}
	return 0;
}

/* Every slot counted; a key named for the first `max` slots it does not
 * own. */
static int
count_all(struct counter *c, struct conn *cn, struct err *e)
{
	struct reply *k;
	char s[16];
	int slot, named = 0;

	if (count_slots(c, cn, e) < 0)
		return -1;
	c->p.example = xcalloc(CLUSTER_SLOTS, sizeof(char *));
	for (slot = 0; slot < CLUSTER_SLOTS && named < c->max; slot++) {
		if (c->p.keys[slot] == 0 || c->s->owner[slot] == c->node)
			continue;
		snprintf(s, sizeof(s), "%d", slot);
		if ((k = conn_cmd(cn, e, "CLUSTER", "GETKEYSINSLOT", s, "1", NULL)) == NULL)
			return -1;
		if (k->type == REPLY_ARRAY && k->nelem == 1)
			c->p.example[slot] = xstrndup(k->elem[0]->str, k->elem[0]->len);
		reply_free(k);
		named++;
	}
	return 0;
}

static void *
count_thread(void *arg)
{
	struct counter *c = arg;
	const struct snap_node *n = &c->s->nodes[c->node];
	struct err e = ERR_INIT;
	struct conn *cn = conn_open(n->host, n->port, c->timeout_ms, &e);
	int rc = -1;

	if (cn && (rc = owned_only(c, cn, &e)) == 1)
		rc = count_all(c, cn, &e);
	if (rc < 0) {
		c->p.failed = true;
		snprintf(c->p.error, sizeof(c->p.error), "%s", e.msg);
	}
	conn_free(cn);
	return NULL;
}

void
placed_record(const struct snapshot *s, int node, const struct placed *p, struct verdict *v,
	      int max)
{
	const struct snap_node *n = &s->nodes[node];
	struct finding *f = &v->f[F_MISPLACED];
	char owner[96];
	int slot, o;

	f->checked = true;
	if (p->failed) {
		finding_add(&v->f[F_UNREACHABLE_NODES], max, "%s:%d failed while its keys were "
			    "counted: %s", n->host, n->port, p->error);
		return;
	}
	for (slot = 0; p->keys && slot < CLUSTER_SLOTS; slot++) {
		if (p->keys[slot] == 0 || (o = s->owner[slot]) == node)
			continue;
		if (o >= 0)
			snprintf(owner, sizeof(owner), "owned by %s:%d", s->nodes[o].host,
				 s->nodes[o].port);
		else
			snprintf(owner, sizeof(owner), "owned by nobody");
		/* an example per slot while there is room; every key counts */
		finding_add(f, max, "%lld keys of slot %d (%s) on %s:%d, e.g. '%s'",
			    p->keys[slot], slot, owner, n->host, n->port,
			    p->example && p->example[slot] ? p->example[slot] : "?");
		f->count += p->keys[slot] - 1;
	}
}

void
placed_release(struct placed *p)
{
	int slot;

	for (slot = 0; p->example && slot < CLUSTER_SLOTS; slot++)
		free(p->example[slot]);
	free(p->example);
	free(p->keys);
	memset(p, 0, sizeof(*p));
}

/* The masters to count: reachable nodes that are masters in their own view. */
static bool
counted(const struct snapshot *s, size_t i)
{
	const struct cluster_node *me;

	if (!s->nodes[i].reachable)
		return false;
	me = topology_myself(&s->nodes[i].view);
	return me && (me->flags & NODE_MASTER);
}

void
placed_check(const struct snapshot *s, int timeout_ms, struct verdict *v, int max)
{
	struct counter *cs = xcalloc(s->n + 1, sizeof(*cs));
	size_t i;

	v->f[F_MISPLACED].checked = true;
	for (i = 0; i < s->n; i++) {
		if (!counted(s, i))
			continue;
		cs[i] = (struct counter){.s = s, .node = (int)i, .timeout_ms = timeout_ms,
					 .max = max};
		cs[i].running = pthread_create(&cs[i].t, NULL, count_thread, &cs[i]) == 0;
		if (!cs[i].running)
			count_thread(&cs[i]);
	}
	for (i = 0; i < s->n; i++) {
		if (cs[i].running)
			pthread_join(cs[i].t, NULL);
		if (counted(s, i))
			placed_record(s, (int)i, &cs[i].p, v, max);
		placed_release(&cs[i].p);
	}
	free(cs);
}
