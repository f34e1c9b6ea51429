/* move.c - moving a slot's keys without overwriting; see move.h. */
#include "repair/move.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/slot.h"
#include "common/xmalloc.h"
#include "repair/move_int.h"

#define BATCH 100

/* Queues MIGRATE host port "" 0 timeout [COPY] KEYS k... on m->src
 * (never REPLACE: nothing is written over a key that is there). */
static void
append_migrate(struct mig *m, struct reply *const *keys, size_t n)
{
	const char **argv = xcalloc(n + 9, sizeof(*argv));
	size_t *lens = xcalloc(n + 9, sizeof(*lens));
	size_t argc = 0, i;

	argv[argc++] = "MIGRATE";
	argv[argc++] = conn_host(m->dst);
	argv[argc++] = m->port;
	argv[argc++] = "";
	argv[argc++] = "0";
	argv[argc++] = m->tmo;
	if (m->mo && m->mo->copy)
		argv[argc++] = "COPY";
	argv[argc++] = "KEYS";
	for (i = 0; i < argc; i++)
		lens[i] = strlen(argv[i]);
	for (i = 0; i < n; i++, argc++) {
		argv[argc] = keys[i]->str;
		lens[argc] = keys[i]->len;
	}
	conn_append_argv(m->src, (int)argc, argv, lens);
	free(argv);
	free(lens);
}

/* The destination only imports this key's slot: it goes by DUMP and
 * RESTORE (see move_opts.held). */
static bool
by_dump(const struct mig *m, const struct reply *key)
{
	return m->mo &&
	       (m->mo->dump || (m->mo->held && m->mo->held[key_slot(key->str, key->len)]));
}

/* Each key's DUMP and PTTL read from the source, then ASKING and
 * RESTORE (never REPLACE) on the destination, pipelined: RESTORE's
 * replies into out[i] ("+NOKEY" made up for a key the source no longer
 * has, as MIGRATE answers).  The source keeps its keys. */
static int
restore_keys(struct mig *m, struct reply *const *keys, size_t n, struct reply **out,
	     struct err *e)
{
	struct reply **d = xcalloc(n + 1, sizeof(*d)), *a;
	long long *t = xcalloc(n + 1, sizeof(*t));
	const char *ask[1] = {"ASKING"}, *argv[4] = {"RESTORE"};
	size_t lens[4] = {7}, i;
	char ttl[32];
	int rc = -1;

	/* the source is not in cluster mode: no ASKING there */
	for (i = 0; i < n; i++) {
		const char *dump[2] = {"DUMP", keys[i]->str}, *pttl[2] = {"PTTL", keys[i]->str};
		size_t l[2] = {4, keys[i]->len};

		conn_append_argv(m->src, 2, dump, l);
		conn_append_argv(m->src, 2, pttl, l);
	}
	if (conn_flush(m->src, e) < 0)
		goto out;
	for (i = 0; i < n; i++) {
		if ((d[i] = conn_read_reply(m->src, e)) == NULL)
			goto out;
		if ((a = conn_read_reply(m->src, e)) == NULL)
			goto out;
		t[i] = a->type == REPLY_INTEGER ? a->integer : -2;
		reply_free(a);
	}
	for (i = 0; i < n; i++) {
		if (d[i]->type != REPLY_STRING || t[i] == -2)
			continue;
		snprintf(ttl, sizeof(ttl), "%lld", t[i] > 0 ? t[i] : 0);
		argv[1] = keys[i]->str;
		lens[1] = keys[i]->len;
		argv[2] = ttl;
		lens[2] = strlen(ttl);
		argv[3] = d[i]->str;
		lens[3] = d[i]->len;
		conn_append_argv(m->dst, 1, ask, NULL);
		conn_append_argv(m->dst, 4, argv, lens);
	}
	if (conn_flush(m->dst, e) < 0)
		goto out;
	for (i = 0; i < n; i++) {
		if (d[i]->type != REPLY_STRING || t[i] == -2) {
			out[i] = xcalloc(1, sizeof(*out[i]));
			out[i]->type = REPLY_STATUS;
			out[i]->str = xstrdup("NOKEY");
			out[i]->len = 5;
			continue;
		}
		if ((a = conn_read_reply(m->dst, e)) == NULL)
			goto out;
		reply_free(a);
		if ((out[i] = conn_read_reply(m->dst, e)) == NULL)
			goto out;
	}
	rc = 0;
out:
	for (i = 0; i < n; i++)
		reply_free(d[i]);
	free(d);
	free(t);
	return rc;
}

struct reply *
migrate(struct mig *m, struct reply *const *keys, size_t n, struct err *e)
{
	struct reply *r = NULL;

	if (n == 1 && by_dump(m, keys[0])) {
		if (restore_keys(m, keys, 1, &r, e) < 0) {
			reply_free(r);
			return NULL;
		}
		return r;
	}
	append_migrate(m, keys, n);
	return conn_read_reply(m->src, e);
}


int
move_compare(struct conn *src, struct conn *dst, struct reply *const *keys, size_t n,
	     const struct move_opts *mo, struct move_result *res, struct err *e)
{
	struct mig m = {.src = src, .dst = dst, .slot = -1, .mo = mo};
	struct reply **a = xcalloc(n + 1, sizeof(*a)), **b = xcalloc(n + 1, sizeof(*b));
	long long *ta = xcalloc(n + 1, sizeof(*ta)), *tb = xcalloc(n + 1, sizeof(*tb));
	size_t i;
	int rc = -1;

	snprintf(m.port, sizeof(m.port), "%d", conn_port(dst));
	snprintf(m.tmo, sizeof(m.tmo), "%d", mo->timeout_ms);
	/* both sides at once, every key in one pipeline each */
	for (i = 0; i < n; i++) {
		queue_look(src, keys[i]);
		queue_look(dst, keys[i]);
	}
	if (n && (conn_flush(src, e) < 0 || conn_flush(dst, e) < 0))
		goto out;
	for (i = 0; i < n; i++)
		if (read_look(src, &a[i], &ta[i], e) < 0)
			goto out;
	for (i = 0; i < n; i++)
		if (read_look(dst, &b[i], &tb[i], e) < 0)
			goto out;
	for (i = 0, rc = 0; i < n && rc == 0; i++) {
		if (b[i]->type == REPLY_NIL) /* gone meanwhile: moved as any other */
			rc = move_one(&m, keys[i], res, e);
		else if (!same_key(a[i], ta[i], b[i], tb[i]))
			rc = set_aside(&m, keys[i], res, e);
		else
			rc = stash_duplicate(&m, keys[i], res, e);
	}
out:
	for (i = 0; i < n; i++) {
		reply_free(a[i]);
		reply_free(b[i]);
	}
	free(a);
	free(b);
	free(ta);
	free(tb);
	return rc;
}

/* Keys of held slots: restored in one pipeline; those the destination
 * has already compared as any other (move_compare()). */
static int
move_held(struct mig *m, struct reply *const *keys, size_t n, bool *kept,
	  struct move_result *res, struct err *e)
{
	struct reply **r = xcalloc(n + 1, sizeof(*r)), **busy = xcalloc(n + 1, sizeof(*busy));
	size_t i, nb = 0;
	long long before = res->kept;
	int rc = -1;

	if (restore_keys(m, keys, n, r, e) < 0)
		goto out;
	for (i = 0; i < n; i++) {
		if (r[i]->type != REPLY_ERROR) {
			res->moved++;
		} else if (strstr(r[i]->str, "BUSYKEY")) {
			busy[nb++] = keys[i];
		} else {
			err_set(e, 0, "'RESTORE' of key '%s' on '%s': %s", keys[i]->str,
				conn_addr(m->dst), r[i]->str);
			goto out;
		}
	}
	if (move_compare(m->src, m->dst, busy, nb, m->mo, res, e) < 0)
		goto out;
	/* which ones stayed is not told apart here: all, when any did */
	for (i = 0; i < n && res->kept > before; i++)
		kept[i] = r[i]->type == REPLY_ERROR;
	rc = 0;
out:
	for (i = 0; i < n; i++)
		reply_free(r[i]);
	free(r);
	free(busy);
	return rc;
}

int
move_keys(struct conn *src, struct conn *dst, struct reply *const *keys, size_t n,
	  const struct move_opts *mo, bool *kept, struct move_result *res, struct err *e)
{
	struct mig m = {.src = src, .dst = dst, .slot = -1, .mo = mo};
	struct reply *r;
	long long before;
	size_t i;

	snprintf(m.port, sizeof(m.port), "%d", conn_port(dst));
	snprintf(m.tmo, sizeof(m.tmo), "%d", mo->timeout_ms);
	for (i = 0; i < n; i++)
		kept[i] = false;
	if (n == 0)
		return 0;
	if (by_dump(&m, keys[0]))
		return move_held(&m, keys, n, kept, res, e);
	r = migrate(&m, keys, n, e);
	if (r == NULL)
		return -1;
	if (r->type != REPLY_ERROR) {
		res->moved += (long long)n;
		reply_free(r);
		return 0;
	}
	reply_free(r);
	/* not atomic: some moved, some did not; each alone now (one already
	 * moved answers NOKEY, and counts as moved) */
	for (i = 0; i < n; i++) {
		before = res->kept;
		if (move_one(&m, keys[i], res, e) < 0)
			return -1;
		kept[i] = res->kept > before;
	}
	return 0;
}

int
move_slots_first_pass(struct conn *src, struct conn *const *dsts, const int *slots, size_t n,
		      int timeout_ms, bool *done, struct move_result *res, struct err *e)
{
	struct reply **keys = xcalloc(n + 1, sizeof(*keys)), *r;
	const char *argv[4] = {"CLUSTER", "GETKEYSINSLOT", NULL, NULL};
	char s[16], cnt[16];
	size_t i;
	int rc = -1;

	snprintf(cnt, sizeof(cnt), "%d", BATCH);
	argv[3] = cnt;
	for (i = 0; i < n; i++) {
		done[i] = false;
		snprintf(s, sizeof(s), "%d", slots[i]);
		argv[2] = s;
		conn_append_argv(src, 4, argv, NULL);
	}
	if (conn_flush(src, e) < 0)
		goto out;
	for (i = 0; i < n; i++)
		if ((keys[i] = conn_read_reply(src, e)) == NULL)
			goto out;
	for (i = 0; i < n; i++) {
		struct mig m = {.src = src, .dst = dsts[i], .slot = slots[i]};

		if (keys[i]->type != REPLY_ARRAY || keys[i]->nelem == 0)
			continue;
		snprintf(m.port, sizeof(m.port), "%d", conn_port(dsts[i]));
		snprintf(m.tmo, sizeof(m.tmo), "%d", timeout_ms);
		append_migrate(&m, keys[i]->elem, keys[i]->nelem);
	}
	if (conn_flush(src, e) < 0)
		goto out;
	for (i = 0; i < n; i++) {
		if (keys[i]->type != REPLY_ARRAY)
			continue; /* the careful pass will say why */
		if (keys[i]->nelem == 0) {
			done[i] = true;
			continue;
		}
		if ((r = conn_read_reply(src, e)) == NULL)
			goto out;
		/* all moved, and fewer than asked for: nothing left */
		if (r->type != REPLY_ERROR) {
			res->moved += (long long)keys[i]->nelem;
			done[i] = keys[i]->nelem < BATCH;
		}
		reply_free(r);
	}
	rc = 0;
out:
	for (i = 0; i < n; i++)
		reply_free(keys[i]);
	free(keys);
	return rc;
}

/* Key names as they are: binary, NUL bytes included. */
struct names {
	char **v;
	size_t *len;
	size_t n;
};

static bool
names_has(const struct names *ns, const struct reply *k)
{
	size_t i;

	for (i = 0; i < ns->n; i++)
		if (ns->len[i] == k->len && memcmp(ns->v[i], k->str, k->len) == 0)
			return true;
	return false;
}

static void
names_add(struct names *ns, const struct reply *k)
{
	ns->v = xreallocarray(ns->v, ns->n + 1, sizeof(*ns->v));
	ns->len = xreallocarray(ns->len, ns->n + 1, sizeof(*ns->len));
	ns->v[ns->n] = xmalloc(k->len + 1);
	memcpy(ns->v[ns->n], k->str, k->len + 1);
	ns->len[ns->n++] = k->len;
}

/* Keys that left the source so far. */
static long long
gone(const struct move_result *r)
{
	return r->moved + r->stashed + r->conflicts - r->kept + r->superseded;
}

int
move_slot_keys(struct conn *src, struct conn *dst, int slot, const struct move_opts *mo,
	       struct move_result *res, struct err *e)
{
	struct names conflicts = {0};
	struct reply **cand = NULL, *keys = NULL;
	bool *bad = NULL;
	char s[16], cnt[16];
	size_t i, n, added;
	long long moved_before;
	int rc = -1;

	memset(res, 0, sizeof(*res));
	snprintf(s, sizeof(s), "%d", slot);
	for (;;) {
		moved_before = gone(res);
		/* conflicts kept stay on the source: ask past them */
		snprintf(cnt, sizeof(cnt), "%zu", conflicts.n + BATCH);
		keys = conn_cmd(src, e, "CLUSTER", "GETKEYSINSLOT", s, cnt, NULL);
		if (keys == NULL)
			goto out;
		if (keys->type != REPLY_ARRAY) {
			err_set(e, 0, "'CLUSTER GETKEYSINSLOT %d' on '%s': %s", slot, conn_addr(src),
				keys->type == REPLY_ERROR ? keys->str : "bad reply");
			goto out;
		}
		cand = xreallocarray(cand, keys->nelem + 1, sizeof(*cand));
		bad = xreallocarray(bad, keys->nelem + 1, sizeof(*bad));
		for (i = 0, n = 0; i < keys->nelem; i++)
			if (!names_has(&conflicts, keys->elem[i]))
				cand[n++] = keys->elem[i];
		if (n == 0)
			break;
		if (move_keys(src, dst, cand, n, mo, bad, res, e) < 0) {
			err_prefix(e, "move slot %d: ", slot);
			goto out;
		}
		/* fewer than asked for, all moved: nothing is left to ask about
		 * (nobody writes to a node that only imports the slot) */
		if (keys->nelem < conflicts.n + BATCH && n == keys->nelem &&
		    !memchr(bad, true, n * sizeof(bool)))
			break;
		for (i = 0, added = 0; i < n; i++)
			if (bad[i] && !names_has(&conflicts, cand[i])) {
				names_add(&conflicts, cand[i]);
				added++;
			}
		/* every key left is a known conflict, or nothing changed at
		 * all: asking again would give the same answer */
		if (moved_before == gone(res) && added == 0)
			break;
		reply_free(keys);
		keys = NULL;
	}
	rc = 0;
out:
	reply_free(keys);
	free(cand);
	free(bad);
	for (i = 0; i < conflicts.n; i++)
		free(conflicts.v[i]);
	free(conflicts.v);
	free(conflicts.len);
	return rc;
}
