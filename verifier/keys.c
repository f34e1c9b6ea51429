/*
 * keys.c - scanning keys and classifying them; see keys.h.
 *
 * Per dataset key we keep one byte: how many nodes hold it (saturating),
 * and whether its slot's owner holds it with the right value.  Each
 * thread scans one master with SCAN and, for the keys of slots that
 * master owns, fetches the values with pipelined GETs; the next SCAN
 * goes in the same pipeline, so the node pages on while the values of
 * the last page are checked.
 */
#include "verifier/keys.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/conn.h"
#include "cluster/slot.h"
#include "common/xmalloc.h"
#include "verifier/checks.h"

#define SCAN_COUNT "10000"

enum { HELD_MASK = 0x3f, ON_OWNER = 0x40, VALUE_OK = 0x80 };

struct shared {
	const struct snapshot *s;
	const struct dataset *d;
	unsigned char *state; /* per key index */
	struct verdict *v;
	int max;
	int timeout_ms;
	const char *skip;     /* a live workload's key prefix, or NULL */
	size_t skiplen;
	pthread_mutex_t lock; /* guards v */
};

struct scanner {
	struct shared *sh;
	int node;
	long long scanned;
	bool failed;
	char error[256];
};

static void
record(struct shared *sh, enum finding_kind k, const char *key, size_t len,
       const struct snap_node *n, const char *what)
{
	pthread_mutex_lock(&sh->lock);
	finding_add(&sh->v->f[k], sh->max, "%.*s on %s:%d%s", (int)len, key, n->host,
		    n->port, what);
	pthread_mutex_unlock(&sh->lock);
}

static void
hold(unsigned char *b)
{
	unsigned char old = __atomic_load_n(b, __ATOMIC_RELAXED), want;

	do {
		if ((old & HELD_MASK) == HELD_MASK)
			return;
		want = (unsigned char)(old + 1);
	} while (!__atomic_compare_exchange_n(b, &old, want, false, __ATOMIC_RELAXED,
					      __ATOMIC_RELAXED));
}

static const char *
errsuffix(const char *err, char *buf, size_t n)
{
	snprintf(buf, n, ": GET answered '%.120s'", err);
	return buf;
}

/* Checks the values of the owned dataset keys of one SCAN page; the
 * next page's SCAN (cursor "0": none) is queued behind their GETs. */
static int
check_values(struct scanner *sc, struct conn *c, const struct reply *keys,
	     const long long *idx, size_t n, const char *cursor)
{
	struct shared *sh = sc->sh;
	const struct snap_node *me = &sh->s->nodes[sc->node];
	const char *argv[2] = {"GET", NULL};
	size_t lens[2] = {3, 0}, i, k;
	struct err e = ERR_INIT;
	struct reply *r;
	char why[160];

	for (i = 0; i < n; i++) {
		k = (size_t)idx[2 * i + 1];
		argv[1] = keys->elem[k]->str;
		lens[1] = keys->elem[k]->len;
		conn_append_argv(c, 2, argv, lens);
	}
	if (strcmp(cursor, "0") != 0)
		conn_append_argv(c, 4, (const char *[]){"SCAN", cursor, "COUNT", SCAN_COUNT},
				 NULL);
	for (i = 0; i < n; i++) {
		r = conn_read_reply(c, &e);
		if (r == NULL) {
			snprintf(sc->error, sizeof(sc->error), "%s", e.msg);
			return -1;
		}
		k = (size_t)idx[2 * i + 1];
		if (r->type == REPLY_STRING &&
		    dataset_value_matches(sh->d, idx[2 * i], r->str, r->len))
			__atomic_fetch_or(&sh->state[idx[2 * i]], VALUE_OK, __ATOMIC_RELAXED);
		else if (r->type == REPLY_ERROR)
			record(sh, F_UNCHECKED, keys->elem[k]->str, keys->elem[k]->len, me,
			       errsuffix(r->str, why, sizeof(why)));
		else if (r->type != REPLY_NIL) /* NIL: expired or deleted meanwhile */
			record(sh, F_CORRUPT, keys->elem[k]->str, keys->elem[k]->len, me,
			       ": wrong value");
		reply_free(r);
	}
	return 0;
}

/* Classifies one SCAN page; collects (index, position) of owned keys. */
static int
page(struct scanner *sc, struct conn *c, const struct reply *keys, long long *idx,
     const char *cursor)
{
	struct shared *sh = sc->sh;
	const struct snap_node *me = &sh->s->nodes[sc->node];
	size_t i, n = 0;
	long long k;
	const struct reply *key;

	for (i = 0; i < keys->nelem; i++) {
		key = keys->elem[i];
		sc->scanned++;
		if (sh->skip && key->len >= sh->skiplen && memcmp(key->str, sh->skip, sh->skiplen) == 0)
			continue; /* the ledger checks those */
		if (!dataset_parse_key(key->str, key->len, &k) || k >= sh->d->keys) {
			record(sh, F_EXTRA, key->str, key->len, me, "");
			continue;
		}
		hold(&sh->state[k]);
		if (sh->s->owner[key_slot(key->str, key->len)] != sc->node) {
			record(sh, F_MISPLACED, key->str, key->len, me,
			       ", which does not own its slot");
			continue;
		}
		__atomic_fetch_or(&sh->state[k], ON_OWNER, __ATOMIC_RELAXED);
		idx[2 * n] = k;
		idx[2 * n + 1] = (long long)i;
		n++;
	}
	return check_values(sc, c, keys, idx, n, cursor);
}

static void *
scan_node(void *arg)
{
	struct scanner *sc = arg;
	const struct snap_node *me = &sc->sh->s->nodes[sc->node];
	struct err e = ERR_INIT;
	struct conn *c = conn_open(me->host, me->port, sc->sh->timeout_ms, &e);
	char cursor[32] = "0";
	long long *idx = NULL;
	size_t cap = 0;
	struct reply *r;

	if (c == NULL)
		goto fail;
	conn_append_argv(c, 4, (const char *[]){"SCAN", cursor, "COUNT", SCAN_COUNT}, NULL);
	do {
		/* the SCAN queued by the last page (or the first one above) */
		r = conn_read_reply(c, &e);
		if (r == NULL)
			goto fail;
		if (r->type != REPLY_ARRAY || r->nelem != 2 || r->elem[1]->type != REPLY_ARRAY) {
			err_set(&e, 0, "SCAN on '%s:%d': unexpected reply", me->host, me->port);
			reply_free(r);
			goto fail;
		}
		snprintf(cursor, sizeof(cursor), "%s", r->elem[0]->str);
		xgrow(&idx, &cap, 2 * r->elem[1]->nelem + 2, sizeof(*idx));
		if (page(sc, c, r->elem[1], idx, cursor) < 0) {
			reply_free(r);
			sc->failed = true;
			goto out;
		}
		reply_free(r);
	} while (strcmp(cursor, "0") != 0);
	goto out;
fail:
	sc->failed = true;
	snprintf(sc->error, sizeof(sc->error), "%s", e.msg);
out:
	free(idx);
	conn_free(c);
	return NULL;
}

/* The masters to scan: reachable nodes that are masters in their own view. */
static bool
is_scanned(const struct snapshot *s, size_t i)
{
	const struct cluster_node *me;

	if (!s->nodes[i].reachable)
		return false;
	me = topology_myself(&s->nodes[i].view);
	return me && (me->flags & NODE_MASTER);
}

/* Slots migrating from their owner to a node that is down: a key of
 * such a slot missing from the owner may well be on that node. */
static unsigned char *
open_to_down(const struct snapshot *s)
{
	unsigned char *v = xcalloc(CLUSTER_SLOTS, 1);
	const struct cluster_node *me;
	size_t i, k;
	int peer;

	for (i = 0; i < s->n; i++) {
		me = s->nodes[i].reachable ? topology_myself(&s->nodes[i].view) : NULL;
		for (k = 0; me && k < me->nopen; k++) {
			if (me->open[k].state != SLOT_MIGRATING ||
			    s->owner[me->open[k].slot] != (int)i)
				continue;
			peer = snapshot_find_id(s, me->open[k].peer);
			v[me->open[k].slot] = !snapshot_node_is_up(s, peer);
		}
	}
	return v;
}

static void
classify(struct shared *sh)
{
	unsigned char *maybe_on_peer = open_to_down(sh->s);
	unsigned slot;
	char key[DATASET_KEY_MAX];
	unsigned char st;
	long long i;
	size_t len;
	int owner;

	for (i = 0; i < sh->d->keys; i++) {
		st = sh->state[i];
		if ((st & HELD_MASK) == 1)
			continue; /* the usual case: no name to format */
		len = dataset_key(i, key);
		if ((st & HELD_MASK) > 1)
			finding_add(&sh->v->f[F_DUPLICATED], sh->max, "%s held by %d nodes",
				    key, st & HELD_MASK);
		if ((st & HELD_MASK) != 0)
			continue;
		slot = key_slot(key, len);
		owner = sh->s->owner[slot];
		if (owner >= 0 && snapshot_node_is_up(sh->s, owner) && !maybe_on_peer[slot])
			finding_add(&sh->v->f[F_LOST], sh->max, "%s (slot %u, owner %s:%d)",
				    key, slot, sh->s->nodes[owner].host, sh->s->nodes[owner].port);
		else
			finding_add(&sh->v->f[F_UNREACHABLE_KEYS], sh->max, "%s (slot %u, %s)",
				    key, slot, owner < 0 ? "no owner" :
				    maybe_on_peer[slot] ? "migrating to a node that is down" :
				    "owner down");
	}
	free(maybe_on_peer);
}

void
keys_check(const struct snapshot *s, const struct dataset *d, const char *skip, int timeout_ms,
	   struct verdict *v, int max)
{
	struct shared sh = {.s = s, .d = d, .v = v, .max = max, .timeout_ms = timeout_ms,
			    .skip = skip && skip[0] ? skip : NULL, .skiplen = skip ? strlen(skip) : 0};
	struct scanner *sc = xcalloc(s->n + 1, sizeof(*sc));
	pthread_t *th = xcalloc(s->n + 1, sizeof(*th));
	bool *started = xcalloc(s->n + 1, sizeof(*started));
	size_t i;
	int k;

	for (k = F_LOST; k <= F_EXTRA; k++)
		v->f[k].checked = true;
	sh.state = xcalloc((size_t)d->keys + 1, 1);
	pthread_mutex_init(&sh.lock, NULL);
	for (i = 0; i < s->n; i++) {
		if (!is_scanned(s, i))
			continue;
		sc[i] = (struct scanner){.sh = &sh, .node = (int)i};
		started[i] = pthread_create(&th[i], NULL, scan_node, &sc[i]) == 0;
		if (!started[i])
			scan_node(&sc[i]);
	}
	for (i = 0; i < s->n; i++) {
		if (started[i])
			pthread_join(th[i], NULL);
		v->keys_scanned += sc[i].scanned;
		if (sc[i].failed)
			finding_add(&v->f[F_UNREACHABLE_NODES], max, "%s:%d failed during the key scan: %s",
				    s->nodes[i].host, s->nodes[i].port, sc[i].error);
	}
	classify(&sh);
	pthread_mutex_destroy(&sh.lock);
	free(sh.state);
	free(sc);
	free(th);
	free(started);
}
