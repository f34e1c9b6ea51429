/*
 * keys_read.c - reading one master's keys (keys.c runs one thread per
 * master): per owned slot, COUNTKEYSINSLOT and one MGET of the keys the
 * dataset puts there, pipelined in batches; slots where the two differ,
 * and slots it does not own but holds keys of, listed with
 * GETKEYSINSLOT and read key by key.  Each key's holders are counted,
 * the owner's value compared; see keys.c.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"
#include "verifier/checks.h"
#include "verifier/keys_int.h"

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

bool
keys_skipped(const struct shared *sh, const char *key, size_t len)
{
	return sh->skip && len >= sh->skiplen && memcmp(key, sh->skip, sh->skiplen) == 0;
}

const struct snap_node *
keys_me(const struct scanner *sc)
{
	return &sc->sh->s->nodes[sc->node];
}

/* Fails the scan of this node with the connection's error. */
int
keys_fail(struct scanner *sc, const struct err *e)
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
		record(sh, F_UNCHECKED, key, len, keys_me(sc), why);
	} else if (r->type != REPLY_NIL) { /* NIL: expired or deleted meanwhile */
		record(sh, F_CORRUPT, key, len, keys_me(sc), ": wrong value");
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
		if (key->type != REPLY_STRING || keys_skipped(sh, key->str, key->len))
			continue; /* the ledger checks those */
		if (!dataset_parse_key(key->str, key->len, &k) || k >= sh->d->keys) {
			record(sh, F_EXTRA, key->str, key->len, keys_me(sc), "");
			continue;
		}
		if (sh->s->owner[slot] != sc->node) {
			hold(&sh->state[k]);
			record(sh, F_MISPLACED, key->str, key->len, keys_me(sc),
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
		keys_fail(sc, &e);
	for (i = 0; i < n; i++)
		reply_free(lists[i]);
	free(lists);
	free(get);
	free(getidx);
	return rc;
}

/* Lists slots[0..n) in chunks of about WALK_KEYS keys. */
int
keys_list_slots(struct scanner *sc, const int *slots, const long long *counts, size_t n,
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

void
keys_append_count(struct conn *c, int slot)
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
		keys_append_count(sc->c, owned[i]);
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
			record(sh, F_CORRUPT, key, dataset_key(idx[j], key), keys_me(sc),
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
			return keys_fail(sc, &e);
		if (cnt->type != REPLY_INTEGER) {
			err_set(&e, 0, "'CLUSTER COUNTKEYSINSLOT %d' on '%s': %s", owned[i],
				conn_addr(sc->c), cnt->type == REPLY_ERROR ? cnt->str : "bad reply");
			reply_free(cnt);
			return keys_fail(sc, &e);
		}
		found = 0;
		if (bs->start[owned[i] + 1] > bs->start[owned[i]]) {
			if ((m = conn_read_reply(sc->c, &e)) == NULL) {
				reply_free(cnt);
				return keys_fail(sc, &e);
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
int
keys_read_owned(struct scanner *sc, const int *owned, size_t n)
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
