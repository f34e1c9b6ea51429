/*
 * keys.c - reading keys slot by slot and classifying them; see keys.h.
 *
 * Per dataset key we keep one byte: how many nodes hold it (saturating),
 * and whether its slot's owner holds it with the right value.
 *
 * The dataset says which keys each slot should hold, so the values are
 * read without listing the keys first: per owned slot, one MGET of the
 * slot's dataset keys (all in one slot, so cluster mode allows it)
 * behind a CLUSTER COUNTKEYSINSLOT, pipelined over many slots at once.
 * A server answers one MGET of ~60 keys far faster than ~60 GETs, and
 * we parse one reply instead of 60.  Where a slot holds exactly the keys
 * the MGET found, the slot holds nothing else; only where the count and
 * the keys found differ (a key of the wrong type, for which MGET says
 * nil; an extra key; a live workload's), or the MGET failed (CLUSTERDOWN),
 * is the slot listed with CLUSTER GETKEYSINSLOT and read as the key scan
 * always read it: key by key, with GET.
 *
 * Keys a master holds in slots it does not own show up as a DBSIZE
 * larger than its owned slots' counts; then every other slot is counted
 * and those with keys listed (misplaced, duplicated, extra keys).
 */
#include "verifier/keys.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/conn.h"
#include "cluster/slot.h"
#include "common/xmalloc.h"
#include "verifier/checks.h"

/* Keys per pipelined batch of MGETs; the next batch is queued before the
 * last one's replies are read, so the node works while we check. */
#define BATCH_KEYS 8192
/* Keys per batch of listed slots (GETKEYSINSLOT, then GETs). */
#define WALK_KEYS 10000

enum { HELD_MASK = 0x3f, ON_OWNER = 0x40, VALUE_OK = 0x80 };

/* The dataset's keys grouped by slot: those of slot s are
 * idx[start[s]] .. idx[start[s + 1] - 1]. */
struct by_slot {
	long long *idx;
	size_t start[CLUSTER_SLOTS + 1];
};

struct shared {
	const struct snapshot *s;
	const struct dataset *d;
	const struct by_slot *bs;
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
	struct conn *c;
	long long scanned;
	long long owned_keys; /* COUNTKEYSINSLOT summed over owned slots */
	int *walk;            /* owned slots to list */
	long long *walk_count;
	size_t nwalk, walk_cap;
	char *names;          /* MGET arguments */
	const char **argv;
	size_t *lens, names_cap;
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

/* hold(), ON_OWNER and, when `ok`, VALUE_OK in one atomic step: other
 * threads count their copies of the key meanwhile. */
static void
hold_on_owner(unsigned char *b, bool ok)
{
	unsigned char old = __atomic_load_n(b, __ATOMIC_RELAXED), want;

	do {
		want = (unsigned char)(old | ON_OWNER | (ok ? VALUE_OK : 0));
		if ((old & HELD_MASK) != HELD_MASK)
			want = (unsigned char)(want + 1);
	} while (!__atomic_compare_exchange_n(b, &old, want, false, __ATOMIC_RELAXED,
					      __ATOMIC_RELAXED));
}

static bool
skipped(const struct shared *sh, const char *key, size_t len)
{
	return sh->skip && len >= sh->skiplen && memcmp(key, sh->skip, sh->skiplen) == 0;
}

static const struct snap_node *
me_of(const struct scanner *sc)
{
	return &sc->sh->s->nodes[sc->node];
}

/* Fails the scan of this node with the connection's error. */
static int
fail(struct scanner *sc, const struct err *e)
{
	sc->failed = true;
	snprintf(sc->error, sizeof(sc->error), "%s", e->msg);
	return -1;
}

/* Key k, held by its slot's owner (this node), has value reply r. */
static void
check_value(struct scanner *sc, long long k, const struct reply *r, const char *key,
	    size_t len)
{
	struct shared *sh = sc->sh;
	char why[160];

	if (r->type == REPLY_STRING && dataset_value_matches(sh->d, k, r->str, r->len)) {
		__atomic_fetch_or(&sh->state[k], VALUE_OK, __ATOMIC_RELAXED);
	} else if (r->type == REPLY_ERROR) {
		snprintf(why, sizeof(why), ": GET answered '%.120s'", r->str);
		record(sh, F_UNCHECKED, key, len, me_of(sc), why);
	} else if (r->type != REPLY_NIL) { /* NIL: expired or deleted meanwhile */
		record(sh, F_CORRUPT, key, len, me_of(sc), ": wrong value");
	}
}

/* ---- listing slots: the key scan, slot by slot ---- */

/* Classifies the keys of one listed slot; collects into get[] the owned
 * dataset keys whose value is still to be read. */
static size_t
classify_listed(struct scanner *sc, int slot, const struct reply *keys,
		const struct reply **get, long long *getidx)
{
	struct shared *sh = sc->sh;
	const struct reply *key;
	size_t i, n = 0;
	long long k;

	for (i = 0; i < keys->nelem; i++) {
		key = keys->elem[i];
		if (key->type != REPLY_STRING || skipped(sh, key->str, key->len))
			continue; /* the ledger checks those */
		if (!dataset_parse_key(key->str, key->len, &k) || k >= sh->d->keys) {
			record(sh, F_EXTRA, key->str, key->len, me_of(sc), "");
			continue;
		}
		if (sh->s->owner[slot] != sc->node) {
			hold(&sh->state[k]);
			record(sh, F_MISPLACED, key->str, key->len, me_of(sc),
			       ", which does not own its slot");
			continue;
		}
		if (__atomic_load_n(&sh->state[k], __ATOMIC_RELAXED) & ON_OWNER)
			continue; /* its MGET read it */
		hold(&sh->state[k]);
		__atomic_fetch_or(&sh->state[k], ON_OWNER, __ATOMIC_RELAXED);
		get[n] = key;
		getidx[n++] = k;
	}
	return n;
}

/* Lists slots[0..n) (counts[]: their COUNTKEYSINSLOT) and reads the
 * values still unread with pipelined GETs. */
static int
list_chunk(struct scanner *sc, const int *slots, const long long *counts, size_t n,
	   bool count_scanned)
{
	struct reply **lists = xcalloc(n + 1, sizeof(*lists)), *r;
	const struct reply **get = NULL;
	long long *getidx = NULL;
	size_t i, j, ng = 0, cap = 0, total = 0;
	struct err e = ERR_INIT;
	char s[16], num[24];
	int rc = -1;

	for (i = 0; i < n; i++) {
		snprintf(s, sizeof(s), "%d", slots[i]);
		snprintf(num, sizeof(num), "%lld", counts[i] > 0 ? counts[i] : 0);
		conn_append_argv(sc->c, 4,
				 (const char *[]){"CLUSTER", "GETKEYSINSLOT", s, num}, NULL);
	}
	for (i = 0; i < n; i++) {
		if ((lists[i] = conn_read_reply(sc->c, &e)) == NULL)
			goto out;
		if (lists[i]->type != REPLY_ARRAY) {
			err_set(&e, 0, "'CLUSTER GETKEYSINSLOT %d' on '%s': %s", slots[i],
				conn_addr(sc->c),
				lists[i]->type == REPLY_ERROR ? lists[i]->str : "bad reply");
			goto out;
		}
		total += lists[i]->nelem;
		if (count_scanned)
			sc->scanned += (long long)lists[i]->nelem;
	}
	xgrow(&get, &cap, total + 1, sizeof(*get));
	getidx = xcalloc(total + 1, sizeof(*getidx));
	for (i = 0; i < n; i++)
		ng += classify_listed(sc, slots[i], lists[i], get + ng, getidx + ng);
	for (j = 0; j < ng; j++)
		conn_append_argv(sc->c, 2, (const char *[]){"GET", get[j]->str},
				 (const size_t[]){3, get[j]->len});
	for (j = 0; j < ng; j++) {
		if ((r = conn_read_reply(sc->c, &e)) == NULL)
			goto out;
		check_value(sc, getidx[j], r, get[j]->str, get[j]->len);
		reply_free(r);
	}
	rc = 0;
out:
	if (rc < 0)
		fail(sc, &e);
	for (i = 0; i < n; i++)
		reply_free(lists[i]);
	free(lists);
	free(get);
	free(getidx);
	return rc;
}

/* Lists slots[0..n) in chunks of about WALK_KEYS keys. */
static int
list_slots(struct scanner *sc, const int *slots, const long long *counts, size_t n,
	   bool count_scanned)
{
	size_t a = 0, b;
	long long keys;

	while (a < n) {
		for (b = a, keys = 0; b < n && (b == a || keys + counts[b] <= WALK_KEYS); b++)
			keys += counts[b];
		if (list_chunk(sc, slots + a, counts + a, b - a, count_scanned) < 0)
			return -1;
		a = b;
	}
	return 0;
}

/* ---- reading owned slots: COUNTKEYSINSLOT and MGET per slot ---- */

static void
append_count(struct conn *c, int slot)
{
	char s[16];

	snprintf(s, sizeof(s), "%d", slot);
	conn_append_argv(c, 3, (const char *[]){"CLUSTER", "COUNTKEYSINSLOT", s}, NULL);
}

/* Queues COUNTKEYSINSLOT and the MGET of every slot of owned[a..b). */
static void
send_batch(struct scanner *sc, const int *owned, size_t a, size_t b)
{
	const struct by_slot *bs = sc->sh->bs;
	size_t i, j, n;
	char *p;

	for (i = a; i < b; i++) {
		append_count(sc->c, owned[i]);
		n = bs->start[owned[i] + 1] - bs->start[owned[i]];
		if (n == 0)
			continue;
		if (n + 1 > sc->names_cap) {
			sc->names_cap = n + 1;
			sc->names = xrealloc(sc->names, sc->names_cap * DATASET_KEY_MAX);
			sc->argv = xrealloc(sc->argv, sc->names_cap * sizeof(*sc->argv));
			sc->lens = xrealloc(sc->lens, sc->names_cap * sizeof(*sc->lens));
		}
		sc->argv[0] = "MGET";
		sc->lens[0] = 4;
		for (j = 0, p = sc->names; j < n; j++, p += DATASET_KEY_MAX) {
			sc->lens[j + 1] = dataset_key(bs->idx[bs->start[owned[i]] + j], p);
			sc->argv[j + 1] = p;
		}
		conn_append_argv(sc->c, (int)n + 1, sc->argv, sc->lens);
	}
}

/* Checks one MGET reply against the keys of `slot`; returns the number
 * of keys found, 0 when the MGET failed (the slot is then listed). */
static long long
check_mget(struct scanner *sc, int slot, const struct reply *r)
{
	struct shared *sh = sc->sh;
	const long long *idx = sh->bs->idx + sh->bs->start[slot];
	char key[DATASET_KEY_MAX];
	long long found = 0;
	size_t j;
	bool ok;

	if (r->type != REPLY_ARRAY ||
	    r->nelem != sh->bs->start[slot + 1] - sh->bs->start[slot])
		return 0;
	/* the slot's keys are anywhere in the state array: fetch their
	 * bytes while the values are checked */
	for (j = 0; j < r->nelem; j++)
		__builtin_prefetch(&sh->state[idx[j]], 1);
	for (j = 0; j < r->nelem; j++) {
		if (r->elem[j]->type != REPLY_STRING)
			continue; /* nil: not here, or not a string (listed) */
		found++;
		ok = dataset_value_matches(sh->d, idx[j], r->elem[j]->str, r->elem[j]->len);
		hold_on_owner(&sh->state[idx[j]], ok);
		if (!ok)
			record(sh, F_CORRUPT, key, dataset_key(idx[j], key), me_of(sc),
			       ": wrong value");
	}
	return found;
}

static void
walk_add(struct scanner *sc, int slot, long long count)
{
	if (sc->nwalk + 1 > sc->walk_cap) {
		sc->walk_cap = sc->walk_cap ? 2 * sc->walk_cap : 64;
		sc->walk = xrealloc(sc->walk, sc->walk_cap * sizeof(*sc->walk));
		sc->walk_count = xrealloc(sc->walk_count, sc->walk_cap * sizeof(*sc->walk_count));
	}
	sc->walk[sc->nwalk] = slot;
	sc->walk_count[sc->nwalk++] = count;
}

/* Reads the replies of send_batch(owned, a, b); slots whose count
 * differs from the keys found are kept for listing. */
static int
read_batch(struct scanner *sc, const int *owned, size_t a, size_t b)
{
	const struct by_slot *bs = sc->sh->bs;
	struct err e = ERR_INIT;
	struct reply *cnt, *m;
	long long found;
	size_t i;

	for (i = a; i < b; i++) {
		if ((cnt = conn_read_reply(sc->c, &e)) == NULL)
			return fail(sc, &e);
		if (cnt->type != REPLY_INTEGER) {
			err_set(&e, 0, "'CLUSTER COUNTKEYSINSLOT %d' on '%s': %s", owned[i],
				conn_addr(sc->c), cnt->type == REPLY_ERROR ? cnt->str : "bad reply");
			reply_free(cnt);
			return fail(sc, &e);
		}
		found = 0;
		if (bs->start[owned[i] + 1] > bs->start[owned[i]]) {
			if ((m = conn_read_reply(sc->c, &e)) == NULL) {
				reply_free(cnt);
				return fail(sc, &e);
			}
			found = check_mget(sc, owned[i], m);
			reply_free(m);
		}
		sc->scanned += cnt->integer;
		sc->owned_keys += cnt->integer;
		if (cnt->integer != found)
			walk_add(sc, owned[i], cnt->integer);
		reply_free(cnt);
	}
	return 0;
}

/* The end of the batch starting at owned[a]. */
static size_t
batch_end(const struct by_slot *bs, const int *owned, size_t n, size_t a)
{
	size_t keys = 0;

	while (a < n && keys < BATCH_KEYS) {
		keys += bs->start[owned[a] + 1] - bs->start[owned[a]];
		a++;
	}
	return a;
}

/* Every owned slot: counted and read, the next batch always queued
 * before the replies of the last one are read. */
static int
read_owned(struct scanner *sc, const int *owned, size_t n)
{
	size_t a = 0, b = batch_end(sc->sh->bs, owned, n, 0), c;

	send_batch(sc, owned, a, b);
	while (a < n) {
		c = batch_end(sc->sh->bs, owned, n, b);
		send_batch(sc, owned, b, c);
		if (read_batch(sc, owned, a, b) < 0)
			return -1;
		a = b;
		b = c;
	}
	return 0;
}

/* Keys outside the owned slots: where DBSIZE exceeds the owned slots'
 * counts, every other slot is counted and those with keys listed. */
static int
read_others(struct scanner *sc, long long dbsize)
{
	const struct snapshot *s = sc->sh->s;
	int *slots = xcalloc(CLUSTER_SLOTS, sizeof(*slots)), slot;
	long long *counts = xcalloc(CLUSTER_SLOTS, sizeof(*counts));
	struct err e = ERR_INIT;
	struct reply *r;
	size_t n = 0;
	int rc = -1;

	if (dbsize == sc->owned_keys) {
		rc = 0;
		goto out;
	}
	for (slot = 0; slot < CLUSTER_SLOTS; slot++)
		if (s->owner[slot] != sc->node)
			append_count(sc->c, slot);
	for (slot = 0; slot < CLUSTER_SLOTS; slot++) {
		if (s->owner[slot] == sc->node)
			continue;
		if ((r = conn_read_reply(sc->c, &e)) == NULL) {
			fail(sc, &e);
			goto out;
		}
		if (r->type == REPLY_INTEGER && r->integer > 0) {
			slots[n] = slot;
			counts[n++] = r->integer;
		}
		reply_free(r);
	}
	rc = list_slots(sc, slots, counts, n, true);
out:
	free(slots);
	free(counts);
	return rc;
}

static void *
scan_node(void *arg)
{
	struct scanner *sc = arg;
	const struct snap_node *me = me_of(sc);
	const struct snapshot *s = sc->sh->s;
	int *owned = xcalloc(CLUSTER_SLOTS, sizeof(*owned));
	struct err e = ERR_INIT;
	long long dbsize = -1;
	struct reply *r;
	size_t n = 0;
	int slot;

	sc->c = conn_open(me->host, me->port, sc->sh->timeout_ms, &e);
	if (sc->c == NULL) {
		fail(sc, &e);
		goto out;
	}
	for (slot = 0; slot < CLUSTER_SLOTS; slot++)
		if (s->owner[slot] == sc->node)
			owned[n++] = slot;
	conn_append_argv(sc->c, 1, (const char *[]){"DBSIZE"}, NULL);
	if ((r = conn_read_reply(sc->c, &e)) == NULL) {
		fail(sc, &e);
		goto out;
	}
	if (r->type == REPLY_INTEGER)
		dbsize = r->integer;
	reply_free(r);
	if (read_owned(sc, owned, n) < 0 ||
	    list_slots(sc, sc->walk, sc->walk_count, sc->nwalk, false) < 0)
		goto out;
	read_others(sc, dbsize);
out:
	free(owned);
	conn_free(sc->c);
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

/* Groups the dataset's keys by slot (a counting sort); keys a live
 * workload's prefix covers are left out, as the scan passes them over. */
static void
by_slot_build(struct by_slot *bs, const struct shared *sh)
{
	const struct dataset *d = sh->d;
	uint16_t *slot = xmalloc(((size_t)d->keys + 1) * sizeof(*slot));
	size_t pos[CLUSTER_SLOTS];
	char key[DATASET_KEY_MAX];
	long long i;
	size_t len;
	int s;

	memset(bs->start, 0, sizeof(bs->start));
	for (i = 0; i < d->keys; i++) {
		len = dataset_key(i, key);
		slot[i] = skipped(sh, key, len) ? UINT16_MAX : (uint16_t)key_slot(key, len);
		if (slot[i] != UINT16_MAX)
			bs->start[slot[i] + 1]++;
	}
	for (s = 0; s < CLUSTER_SLOTS; s++) {
		bs->start[s + 1] += bs->start[s];
		pos[s] = bs->start[s];
	}
	bs->idx = xmalloc((bs->start[CLUSTER_SLOTS] + 1) * sizeof(*bs->idx));
	for (i = 0; i < d->keys; i++)
		if (slot[i] != UINT16_MAX)
			bs->idx[pos[slot[i]]++] = i;
	free(slot);
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
	struct by_slot *bs = xmalloc(sizeof(*bs));
	size_t i;
	int k;

	for (k = F_LOST; k <= F_EXTRA; k++)
		v->f[k].checked = true;
	sh.state = xcalloc((size_t)d->keys + 1, 1);
	by_slot_build(bs, &sh);
	sh.bs = bs;
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
		free(sc[i].walk);
		free(sc[i].walk_count);
		free(sc[i].names);
		free(sc[i].argv);
		free(sc[i].lens);
	}
	classify(&sh);
	pthread_mutex_destroy(&sh.lock);
	free(bs->idx);
	free(bs);
	free(sh.state);
	free(sc);
	free(th);
	free(started);
}
