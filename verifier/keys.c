/*
 * keys.c - the key checks: one thread per master reads its keys slot by
 * slot (keys_read.c), then every dataset key is classified; see keys.h.
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
#include "verifier/keys_int.h"

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
			keys_append_count(sc->c, slot);
	for (slot = 0; slot < CLUSTER_SLOTS; slot++) {
		if (s->owner[slot] == sc->node)
			continue;
		if ((r = conn_read_reply(sc->c, &e)) == NULL) {
			keys_fail(sc, &e);
			goto out;
		}
		if (r->type == REPLY_INTEGER && r->integer > 0) {
			slots[n] = slot;
			counts[n++] = r->integer;
		}
		reply_free(r);
	}
	rc = keys_list_slots(sc, slots, counts, n, true);
out:
	free(slots);
	free(counts);
	return rc;
}

static void *
scan_node(void *arg)
{
	struct scanner *sc = arg;
	const struct snap_node *me = keys_me(sc);
	const struct snapshot *s = sc->sh->s;
	int *owned = xcalloc(CLUSTER_SLOTS, sizeof(*owned));
	struct err e = ERR_INIT;
	long long dbsize = -1;
	struct reply *r;
	size_t n = 0;
	int slot;

	sc->c = conn_open(me->host, me->port, sc->sh->timeout_ms, &e);
	if (sc->c == NULL) {
		keys_fail(sc, &e);
		goto out;
	}
	for (slot = 0; slot < CLUSTER_SLOTS; slot++)
		if (s->owner[slot] == sc->node)
			owned[n++] = slot;
	conn_append_argv(sc->c, 1, (const char *[]){"DBSIZE"}, NULL);
	if ((r = conn_read_reply(sc->c, &e)) == NULL) {
		keys_fail(sc, &e);
		goto out;
	}
	if (r->type == REPLY_INTEGER)
		dbsize = r->integer;
	reply_free(r);
	if (keys_read_owned(sc, owned, n) < 0 ||
	    keys_list_slots(sc, sc->walk, sc->walk_count, sc->nwalk, false) < 0)
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
		slot[i] = keys_skipped(sh, key, len) ? UINT16_MAX : (uint16_t)key_slot(key, len);
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
