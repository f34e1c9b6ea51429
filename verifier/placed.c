/*
 * placed.c - keys on nodes that do not own their slot, without a
 * dataset: per reachable master, COUNTKEYSINSLOT of every slot the
 * reference view gives it, pipelined, against its DBSIZE.  Only where
 * the two differ are all 16384 slots counted (one script), and a key of
 * the first such slots fetched as an example.  The masters are counted
 * together, from one thread (conn_fan_integers()); the cost is per slot,
 * whatever the number of keys.
 *
 * The counts start from the first view the snapshot takes, while it asks
 * the other nodes; a count stands when the reference view, once known,
 * gives its master the same slots, and is taken again when not.
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

/* One master's count, against the slots it is to own. */
struct counter {
	char id[NODE_ID_LEN + 1];
	char host[64];
	int port;
	unsigned char own[CLUSTER_SLOTS]; /* 1: a slot it is to own */
	int timeout_ms, max;
	struct placed p;
	int next;  /* the next slot to send a count of */
	bool tail; /* DBSIZE sent */
};

/* Masters counted together, by one thread. */
struct batch {
	struct counter **cs;
	size_t n;
	bool running;
	pthread_t t;
};

struct placed_run {
	int timeout_ms, max;
	bool early; /* counts started from a first view */
	struct counter **cs;
	size_t n, cap;
	struct batch early_batch;
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

/* Counts of every slot sent at once, where a master's keys are not all
 * in its own slots: the server starts on the first ones, and the buffer
 * stays small.  A count is at most 50 bytes. */
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

static void
counter_failed(struct counter *c, const char *why)
{
	c->p.failed = true;
	snprintf(c->p.error, sizeof(c->p.error), "%s", why);
}

/* Counts the masters of b together: COUNTKEYSINSLOT of every slot each
 * is to own and DBSIZE, pipelined (natively, ~0.5 us a slot here, half
 * what a script's redis.call costs) to all of them at once; then, one by
 * one, every slot of those whose sum differs from their DBSIZE. */
static void
count_batch(struct batch *b)
{
	struct conn_fan *f = xcalloc(b->n, sizeof(*f));
	struct conn **cn = xcalloc(b->n, sizeof(*cn));
	long long **counts = xcalloc(b->n, sizeof(*counts));
	size_t i, k, nf = 0, *at = xcalloc(b->n, sizeof(*at));
	struct err e = ERR_INIT;
	struct counter *c;
	long long owned;
	int slot, n;

	for (i = 0; i < b->n; i++) {
		c = b->cs[i];
		if ((cn[i] = conn_open(c->host, c->port, c->timeout_ms, &e)) == NULL) {
			counter_failed(c, e.msg);
			continue;
		}
		for (slot = 0, n = 0; slot < CLUSTER_SLOTS; slot++)
			n += c->own[slot];
		counts[i] = xmalloc(((size_t)n + 1) * sizeof(**counts));
		at[nf] = i;
		f[nf++] = (struct conn_fan){.c = cn[i], .fill = fill_owned, .arg = c,
					    .out = counts[i], .n = (size_t)n + 1};
	}
	conn_fan_integers(f, nf, "CLUSTER COUNTKEYSINSLOT");
	for (k = 0; k < nf; k++) {
		i = at[k];
		c = b->cs[i];
		if (f[k].failed) {
			counter_failed(c, f[k].e.msg);
			continue;
		}
		for (owned = 0, n = 0; n + 1 < (int)f[k].n; n++)
			owned += counts[i][n];
		if (owned != counts[i][f[k].n - 1] && count_all(c, cn[i], &e) < 0) /* DBSIZE */
			counter_failed(c, e.msg);
	}
	for (i = 0; i < b->n; i++) {
		conn_free(cn[i]);
		free(counts[i]);
	}
	free(f);
	free(cn);
	free(counts);
	free(at);
}

static void *
batch_thread(void *arg)
{
	count_batch(arg);
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

/* A counter of host:port's keys against `own`, run's to free. */
static struct counter *
counter_new(struct placed_run *run, const char *id, const char *host, int port,
	    const unsigned char *own)
{
	struct counter *c = xcalloc(1, sizeof(*c));

	snprintf(c->id, sizeof(c->id), "%s", id);
	snprintf(c->host, sizeof(c->host), "%s", host);
	c->port = port;
	memcpy(c->own, own, sizeof(c->own));
	c->timeout_ms = run->timeout_ms;
	c->max = run->max;
	xgrow(&run->cs, &run->cap, run->n + 1, sizeof(*run->cs));
	run->cs[run->n++] = c;
	return c;
}

static void
batch_add(struct batch *b, struct counter *c)
{
	b->cs = xrealloc(b->cs, (b->n + 1) * sizeof(*b->cs));
	b->cs[b->n++] = c;
}

static void
batch_join(struct batch *b)
{
	if (b->running)
		pthread_join(b->t, NULL);
	b->running = false;
	free(b->cs);
	memset(b, 0, sizeof(*b));
}

struct placed_run *
placed_new(int timeout_ms, int max)
{
	struct placed_run *run = xcalloc(1, sizeof(*run));

	run->timeout_ms = timeout_ms;
	run->max = max;
	return run;
}

void
placed_early(struct placed_run *run, const struct topology *view, const char *fallback_host)
{
	unsigned char own[CLUSTER_SLOTS];
	const struct cluster_node *n;
	size_t i, r;
	int slot;

	if (run->early)
		return;
	run->early = true;
	for (i = 0; i < view->n; i++) {
		n = &view->nodes[i];
		if (!(n->flags & NODE_MASTER) ||
		    (n->flags & (NODE_FAIL | NODE_HANDSHAKE | NODE_NOADDR)))
			continue;
		memset(own, 0, sizeof(own));
		for (r = 0; r < n->nranges; r++)
			for (slot = n->ranges[r].first; slot <= n->ranges[r].last; slot++)
				own[slot] = 1;
		/* the address the snapshot knows it by: its own is the one
		 * it was asked at */
		batch_add(&run->early_batch,
			  counter_new(run, n->id,
				      n->ip[0] && !(n->flags & NODE_MYSELF) ? n->ip : fallback_host,
				      n->port, own));
	}
	/* a thread, so that the snapshot goes on; here when none can be had */
	run->early_batch.running =
		pthread_create(&run->early_batch.t, NULL, batch_thread, &run->early_batch) == 0;
	if (!run->early_batch.running)
		count_batch(&run->early_batch);
}

/* The early count of node i that stands: same node, same address, no
 * failure, and the reference gives it the slots it was counted against. */
static struct counter *
standing(const struct placed_run *run, const struct snapshot *s, size_t i)
{
	const struct snap_node *n = &s->nodes[i];
	struct counter *c;
	size_t k;
	int slot;

	for (k = 0; k < run->n; k++) {
		c = run->cs[k];
		if (strcmp(c->id, n->id) != 0 || strcmp(c->host, n->host) != 0 ||
		    c->port != n->port || c->p.failed)
			continue;
		for (slot = 0; slot < CLUSTER_SLOTS; slot++)
			if (c->own[slot] != (s->owner[slot] == (int)i))
				break;
		if (slot == CLUSTER_SLOTS)
			return c;
	}
	return NULL;
}

void
placed_finish(struct placed_run *run, const struct snapshot *s, struct verdict *v)
{
	struct counter **use = xcalloc(s->n + 1, sizeof(*use));
	struct batch again = {0};
	unsigned char own[CLUSTER_SLOTS];
	size_t i;
	int slot;

	v->f[F_MISPLACED].checked = true;
	batch_join(&run->early_batch);
	for (i = 0; i < s->n; i++) {
		if (!counted(s, i) || (use[i] = standing(run, s, i)) != NULL)
			continue;
		for (slot = 0; slot < CLUSTER_SLOTS; slot++)
			own[slot] = s->owner[slot] == (int)i;
		use[i] = counter_new(run, s->nodes[i].id, s->nodes[i].host, s->nodes[i].port, own);
		batch_add(&again, use[i]);
	}
	count_batch(&again);
	batch_join(&again);
	for (i = 0; i < s->n; i++)
		if (use[i] != NULL)
			placed_record(s, (int)i, &use[i]->p, v, run->max);
	free(use);
	placed_free(run);
}

void
placed_free(struct placed_run *run)
{
	size_t k;

	if (run == NULL)
		return;
	batch_join(&run->early_batch);
	for (k = 0; k < run->n; k++) {
		placed_release(&run->cs[k]->p);
		free(run->cs[k]);
	}
	free(run->cs);
	free(run);
}
