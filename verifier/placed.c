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
 * connect, no thread; a new link where one failed).  Started from the first view, while the snapshot
 * asked the other nodes, they gained nothing: the other probes then
 * waited behind the counts, and the two shared the same 2 cores (3
 * masters, 1M keys: the same mean time over 60 verifies each way).
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

/* One master's count, against the slots the reference view gives it. */
struct counter {
	unsigned char own[CLUSTER_SLOTS]; /* 1: a slot it owns */
	int max;
	struct placed p;
	int next;  /* the next slot to send a count of */
	bool tail; /* DBSIZE sent */
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

/* Where a master's keys are not all in its own slots, every slot is
 * counted, in batches of this many counts: the server starts on the
 * first ones, and the buffer stays small.  A count is at most 50 bytes. */
#define COUNT_BATCH 1024

static const char dbsize[] = "*1\r\n$6\r\nDBSIZE\r\n";

/* conn_fan_integers()'s fill, as the socket takes them: the counts of
 * the slots c is to own, from c->next, then DBSIZE. */
static size_t
fill_owned(void *arg, char *buf, size_t cap)
{
	struct counter *c = arg;
	char *p = buf;

	for (; c->next < CLUSTER_SLOTS && (size_t)(p - buf) + 64 <= cap; c->next++)
		if (c->own[c->next])
			p = put_count(p, c->next);
	if (c->next == CLUSTER_SLOTS && !c->tail && (size_t)(p - buf) + sizeof(dbsize) <= cap) {
		memcpy(p, dbsize, sizeof(dbsize) - 1);
		p += sizeof(dbsize) - 1;
		c->tail = true;
	}
	return (size_t)(p - buf);
}

/* Sends COUNTKEYSINSLOT of every slot (no scripts), blocking. */
static int
send_all_counts(struct conn *cn, struct err *e)
{
	char *batch = xmalloc(COUNT_BATCH * 64), *p = batch;
	int slot;

	for (slot = 0; slot < CLUSTER_SLOTS; slot++) {
		p = put_count(p, slot);
		if ((slot + 1) % COUNT_BATCH == 0 || slot == CLUSTER_SLOTS - 1) {
			conn_append_formatted(cn, batch, (size_t)(p - batch));
			p = batch;
			if (conn_flush(cn, e) < 0)
				break;
		}
	}
	free(batch);
	return slot == CLUSTER_SLOTS ? 0 : -1;
}

/* Every slot counted into c->p.keys: by script, else (no scripts)
 * COUNTKEYSINSLOT pipelined. */
static int
count_slots(struct counter *c, struct conn *cn, struct err *e)
{
	struct reply *r = conn_cmd(cn, e, "EVAL", all_script, "0", NULL);
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
	if (send_all_counts(cn, e) < 0)
		return -1;
	return conn_read_integers(cn, c->p.keys, CLUSTER_SLOTS, "CLUSTER COUNTKEYSINSLOT", e);
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

/* A link to node i: the one the snapshot kept, else a new one (*opened,
 * the caller's to free); NULL and c failed when none can be had. */
static struct conn *
link_to(const struct snapshot *s, size_t i, int timeout_ms, struct counter *c,
	struct conn **opened)
{
	struct err e = ERR_INIT;

	if (s->nodes[i].c && !conn_is_broken(s->nodes[i].c))
		return s->nodes[i].c;
	*opened = conn_open(s->nodes[i].host, s->nodes[i].port, timeout_ms, &e);
	if (*opened == NULL)
		counter_failed(c, e.msg);
	return *opened;
}

/* Parts that failed on a link the snapshot kept, counted once more on a
 * new link: the server may have closed the kept one since it answered
 * (its idle timeout, a restart), where a new one is served. */
static void
retry_kept(const struct snapshot *s, struct counter *cs, struct conn_fan *f, size_t nf,
	   const size_t *at, struct conn **opened, int timeout_ms)
{
	struct conn_fan *again = xcalloc(nf + 1, sizeof(*again));
	size_t k, i, n = 0, *which = xcalloc(nf + 1, sizeof(*which));

	for (k = 0; k < nf; k++) {
		i = at[k];
		if (!f[k].failed || f[k].c != s->nodes[i].c ||
		    (opened[i] = conn_open(s->nodes[i].host, s->nodes[i].port, timeout_ms,
					   NULL)) == NULL)
			continue;
		cs[i].next = 0;
		cs[i].tail = false;
		again[n] = f[k];
		again[n].c = opened[i];
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
	struct counter *cs = xcalloc(s->n, sizeof(*cs));
	struct conn_fan *f = xcalloc(s->n, sizeof(*f));
	struct conn **opened = xcalloc(s->n, sizeof(*opened));
	long long **counts = xcalloc(s->n, sizeof(*counts));
	size_t i, k, nf = 0, *at = xcalloc(s->n, sizeof(*at));
	struct err e = ERR_INIT;
	struct conn *cn;
	long long owned;
	int slot, n;

	v->f[F_MISPLACED].checked = true;
	for (i = 0; i < s->n; i++) {
		if (!counted(s, i))
			continue;
		cs[i].max = max;
		for (slot = 0, n = 0; slot < CLUSTER_SLOTS; slot++)
			n += cs[i].own[slot] = s->owner[slot] == (int)i;
		if ((cn = link_to(s, i, timeout_ms, &cs[i], &opened[i])) == NULL)
			continue;
		counts[i] = xmalloc(((size_t)n + 1) * sizeof(**counts));
		at[nf] = i;
		f[nf++] = (struct conn_fan){.c = cn, .fill = fill_owned, .arg = &cs[i],
					    .out = counts[i], .n = (size_t)n + 1};
	}
	conn_fan_integers(f, nf, "CLUSTER COUNTKEYSINSLOT");
	retry_kept(s, cs, f, nf, at, opened, timeout_ms);
	for (k = 0; k < nf; k++) {
		i = at[k];
		if (f[k].failed) {
			counter_failed(&cs[i], f[k].e.msg);
			continue;
		}
		for (owned = 0, n = 0; n + 1 < (int)f[k].n; n++)
			owned += counts[i][n];
		/* the last count is DBSIZE */
		if (owned != counts[i][f[k].n - 1] && count_all(&cs[i], f[k].c, &e) < 0)
			counter_failed(&cs[i], e.msg);
	}
	for (i = 0; i < s->n; i++) {
		if (counted(s, i))
			placed_record(s, (int)i, &cs[i].p, v, max);
		placed_release(&cs[i].p);
		conn_free(opened[i]);
		free(counts[i]);
	}
	free(cs);
	free(f);
	free(opened);
	free(counts);
	free(at);
}
