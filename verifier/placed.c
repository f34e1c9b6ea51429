/*
 * placed.c - keys on nodes that do not own their slot, without a
 * dataset: per reachable master, COUNTKEYSINSLOT of every slot the
 * reference view gives it, pipelined, against its DBSIZE.  Only where
 * the two differ are all 16384 slots counted (one script), and a key of
 * the first such slots fetched as an example.  The masters are counted
 * together, from the calling thread (conn_fan_integers()); the cost is per
 * slot, whatever the number of keys.
 *
 * The counts run once the snapshot is taken, on the links it kept (no
 * connect, no thread; a new link where one failed).  Started from the
 * first view, while the snapshot asked the other nodes, they gained
 * nothing: the other probes then waited behind the counts, and the two
 * shared the same 2 cores (3 masters, 1M keys: the same mean time over
 * 60 verifies each way).
 */
#include "verifier/placed.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/conn.h"
#include "common/xmalloc.h"

/* Keys in every slot. */
static const char all_script[] =
	"local t = {} for i = 0, 16383 do "
	"t[i + 1] = redis.call('CLUSTER', 'COUNTKEYSINSLOT', i) end return t";

/* The counts fill_counts() gives: COUNTKEYSINSLOT of the slots `which`
 * marks (NULL: every slot), from `next` on, then DBSIZE if asked. */
struct count_req {
	const unsigned char *which;
	int next;
	bool dbsize; /* DBSIZE still to give */
};

/* One master's count, against the slots the reference view gives it. */
struct counter {
	size_t node;                      /* in the snapshot */
	unsigned char own[CLUSTER_SLOTS]; /* 1: a slot it owns */
	int max;
	struct placed p;
	struct count_req req;
	long long *counts;   /* of the slots it owns, then DBSIZE */
	struct conn *opened; /* its own link, where the snapshot's failed */
};

/* "CLUSTER COUNTKEYSINSLOT <slot>" in the protocol at p; returns the end.
 * Formatted here, not through conn_append_argv(): a verify sends one for
 * each of 16384 slots, and printf-style formatting was most of its
 * client time. */
static char *
put_count(char *p, int slot)
{
	static const char head[] = "*3\r\n$7\r\nCLUSTER\r\n$15\r\nCOUNTKEYSINSLOT\r\n$";
	char digits[8];
	size_t n = (size_t)(conn_put_num(digits, (size_t)slot) - digits);

	memcpy(p, head, sizeof(head) - 1);
	p = conn_put_num(p + sizeof(head) - 1, n);
	*p++ = '\r';
	*p++ = '\n';
	memcpy(p, digits, n);
	p += n;
	*p++ = '\r';
	*p++ = '\n';
	return p;
}

static const char dbsize[] = "*1\r\n$6\r\nDBSIZE\r\n";

/* conn_fan_integers()'s fill for counter `arg`, as the socket takes
 * them: the counts c->req asks for. */
static size_t
fill_counts(void *arg, char *buf, size_t cap)
{
	struct count_req *q = &((struct counter *)arg)->req;
	char *p = buf;

	for (; q->next < CLUSTER_SLOTS && (size_t)(p - buf) + 64 <= cap; q->next++)
		if (q->which == NULL || q->which[q->next])
			p = put_count(p, q->next);
	if (q->next == CLUSTER_SLOTS && q->dbsize && (size_t)(p - buf) + sizeof(dbsize) <= cap) {
		memcpy(p, dbsize, sizeof(dbsize) - 1);
		p += sizeof(dbsize) - 1;
		q->dbsize = false;
	}
	return (size_t)(p - buf);
}

/* Every slot counted into c->p.keys: by script, else (no scripts)
 * COUNTKEYSINSLOT pipelined. */
static int
count_slots(struct counter *c, struct conn *cn, struct err *e)
{
	struct reply *r = conn_cmd(cn, e, "EVAL", all_script, "0", NULL);
	struct conn_fan f;
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
	c->req = (struct count_req){.which = NULL, .next = 0, .dbsize = false};
	f = (struct conn_fan){.c = cn, .fill = fill_counts, .arg = c, .out = c->p.keys,
			      .n = CLUSTER_SLOTS};
	if (conn_fan_integers(&f, 1, "CLUSTER COUNTKEYSINSLOT") == 0)
		return 0;
	return err_set(e, f.e.code, "%s", f.e.msg);
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
		if (c->p.keys[slot] == 0 || c->own[slot])
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

static void
counter_failed(struct counter *c, const char *why)
{
	c->p.failed = true;
	snprintf(c->p.error, sizeof(c->p.error), "%s", why);
}

/* The link to count c on: the one the snapshot kept, else one of its
 * own; NULL and c failed when none can be had. */
static struct conn *
link_to(const struct snapshot *s, struct counter *c, int timeout_ms)
{
	struct conn *kept = s->nodes[c->node].c;
	struct err e = ERR_INIT;

	if (kept && !conn_is_broken(kept))
		return kept;
	c->opened = conn_open(s->nodes[c->node].host, s->nodes[c->node].port, timeout_ms, &e);
	if (c->opened == NULL)
		counter_failed(c, e.msg);
	return c->opened;
}

/* Parts that failed on a link the snapshot kept, counted once more on a
 * new link: the server may have closed the kept one since it answered
 * (its idle timeout, a restart), where a new one is served. */
static void
retry_kept(const struct snapshot *s, struct conn_fan *f, size_t nf, int timeout_ms)
{
	struct conn_fan *again = xcalloc(nf + 1, sizeof(*again));
	size_t k, n = 0, *which = xcalloc(nf + 1, sizeof(*which));
	struct counter *c;

	for (k = 0; k < nf; k++) {
		c = f[k].arg;
		if (!f[k].failed || f[k].c != s->nodes[c->node].c ||
		    (c->opened = conn_open(s->nodes[c->node].host, s->nodes[c->node].port,
					   timeout_ms, NULL)) == NULL)
			continue;
		c->req.next = 0;
		c->req.dbsize = true;
		again[n] = f[k];
		again[n].c = c->opened;
		which[n++] = k;
	}
	conn_fan_integers(again, n, "CLUSTER COUNTKEYSINSLOT");
	for (k = 0; k < n; k++)
		f[which[k]] = again[k];
	free(again);
	free(which);
}

void
placed_count(const struct snapshot *s, int timeout_ms, int max, struct verdict *v)
{
	struct counter *cs = xcalloc(s->n, sizeof(*cs)), *c;
	struct conn_fan *f = xcalloc(s->n, sizeof(*f));
	size_t i, k, nc = 0, nf = 0;
	struct err e = ERR_INIT;
	struct conn *cn;
	long long owned;
	int slot, n;

	v->f[F_MISPLACED].checked = true;
	for (i = 0; i < s->n; i++) {
		if (!counted(s, i))
			continue;
		c = &cs[nc++];
		c->node = i;
		c->max = max;
		for (slot = 0, n = 0; slot < CLUSTER_SLOTS; slot++)
			n += c->own[slot] = s->owner[slot] == (int)i;
		c->req = (struct count_req){.which = c->own, .next = 0, .dbsize = true};
		if ((cn = link_to(s, c, timeout_ms)) == NULL)
			continue;
		c->counts = xmalloc(((size_t)n + 1) * sizeof(*c->counts));
		f[nf++] = (struct conn_fan){.c = cn, .fill = fill_counts, .arg = c,
					    .out = c->counts, .n = (size_t)n + 1};
	}
	conn_fan_integers(f, nf, "CLUSTER COUNTKEYSINSLOT");
	retry_kept(s, f, nf, timeout_ms);
	for (k = 0; k < nf; k++) {
		c = f[k].arg;
		if (f[k].failed) {
			counter_failed(c, f[k].e.msg);
			continue;
		}
		for (owned = 0, n = 0; n + 1 < (int)f[k].n; n++)
			owned += c->counts[n];
		/* the last count is DBSIZE */
		if (owned != c->counts[f[k].n - 1] && count_all(c, f[k].c, &e) < 0)
			counter_failed(c, e.msg);
	}
	for (k = 0; k < nc; k++) {
		placed_record(s, (int)cs[k].node, &cs[k].p, v, max);
		placed_release(&cs[k].p);
		conn_free(cs[k].opened);
		free(cs[k].counts);
	}
	free(cs);
	free(f);
}
