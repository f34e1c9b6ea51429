/* move.c - moving a slot's keys without overwriting; see move.h. */
#include "repair/move.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"

#define BATCH 100

struct mig {
	struct conn *src, *dst;
	int slot;              /* -1: keys of any slot (salvage) */
	char port[16], tmo[16];
};

/* Queues MIGRATE host port "" 0 timeout [REPLACE] KEYS k... on m->src. */
static void
append_migrate(struct mig *m, struct reply *const *keys, size_t n, bool replace)
{
	const char **argv = xcalloc(n + 8, sizeof(*argv));
	size_t *lens = xcalloc(n + 8, sizeof(*lens));
	size_t argc = 0, i;

	argv[argc++] = "MIGRATE";
	argv[argc++] = conn_host(m->dst);
	argv[argc++] = m->port;
	argv[argc++] = "";
	argv[argc++] = "0";
	argv[argc++] = m->tmo;
	if (replace)
		argv[argc++] = "REPLACE";
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

static struct reply *
migrate(struct mig *m, struct reply *const *keys, size_t n, bool replace, struct err *e)
{
	append_migrate(m, keys, n, replace);
	return conn_read_reply(m->src, e);
}

/* DUMP of key on c, asking first (the node may only be importing the
 * slot).  NULL reply type REPLY_NIL when absent. */
static struct reply *
dump(struct conn *c, const struct reply *key, struct err *e)
{
	const char *a[1] = {"ASKING"};
	const char *d[2] = {"DUMP", key->str};
	size_t dl[2] = {4, key->len};
	struct reply *r;

	conn_append_argv(c, 1, a, NULL);
	conn_append_argv(c, 2, d, dl);
	if (conn_flush(c, e) < 0)
		return NULL;
	r = conn_read_reply(c, e);
	if (r == NULL)
		return NULL;
	reply_free(r);
	return conn_read_reply(c, e);
}

/* One key alone: moved, moved with REPLACE over an equal value, or a
 * conflict.  -1 on any other failure. */
static int
move_one(struct mig *m, struct reply *key, struct move_result *res, struct err *e)
{
	struct reply *r, *a = NULL, *b = NULL;
	int rc = -1;

	r = migrate(m, &key, 1, false, e);
	if (r == NULL)
		return -1;
	if (r->type != REPLY_ERROR) {
		res->moved++;
		reply_free(r);
		return 0;
	}
	if (strstr(r->str, "BUSYKEY") == NULL) {
		err_set(e, 0, "'MIGRATE' of key '%s' from '%s': %s", key->str,
			conn_addr(m->src), r->str);
		reply_free(r);
		return -1;
	}
	reply_free(r);
	if ((a = dump(m->src, key, e)) == NULL || (b = dump(m->dst, key, e)) == NULL)
		goto out;
	if (a->type == REPLY_STRING && b->type == REPLY_STRING && a->len == b->len &&
	    memcmp(a->str, b->str, a->len) == 0) {
		/* the same value on both sides: REPLACE overwrites nothing */
		reply_free(r = migrate(m, &key, 1, true, e));
		if (r == NULL)
			goto out;
		res->moved++;
		res->same++;
	} else {
		if (res->conflicts < MOVE_CONFLICTS_MAX)
			snprintf(res->conflict[res->conflicts], sizeof(res->conflict[0]), "%s",
				 key->str);
		res->conflicts++;
	}
	rc = 0;
out:
	reply_free(a);
	reply_free(b);
	return rc;
}

int
move_keys(struct conn *src, struct conn *dst, struct reply *const *keys, size_t n,
	  int timeout_ms, bool *conflicted, struct move_result *res, struct err *e)
{
	struct mig m = {.src = src, .dst = dst, .slot = -1};
	struct reply *r;
	long long before;
	size_t i;

	snprintf(m.port, sizeof(m.port), "%d", conn_port(dst));
	snprintf(m.tmo, sizeof(m.tmo), "%d", timeout_ms);
	for (i = 0; i < n; i++)
		conflicted[i] = false;
	if (n == 0)
		return 0;
	r = migrate(&m, keys, n, false, e);
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
		before = res->conflicts;
		if (move_one(&m, keys[i], res, e) < 0)
			return -1;
		conflicted[i] = res->conflicts > before;
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
		append_migrate(&m, keys[i]->elem, keys[i]->nelem, false);
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

struct names {
	char **v;
	size_t n;
};

static bool
names_has(const struct names *ns, const struct reply *k)
{
	size_t i;

	for (i = 0; i < ns->n; i++)
		if (strlen(ns->v[i]) == k->len && memcmp(ns->v[i], k->str, k->len) == 0)
			return true;
	return false;
}

int
move_slot_keys(struct conn *src, struct conn *dst, int slot, int timeout_ms,
	       struct move_result *res, struct err *e)
{
	struct names conflicts = {0};
	struct reply **cand = NULL, *keys = NULL;
	bool *bad = NULL;
	char s[16], cnt[16];
	size_t i, n;
	int rc = -1;

	memset(res, 0, sizeof(*res));
	snprintf(s, sizeof(s), "%d", slot);
	for (;;) {
		/* conflicts stay on the source: ask past them */
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
		if (move_keys(src, dst, cand, n, timeout_ms, bad, res, e) < 0) {
			err_prefix(e, "slot %d: ", slot);
			goto out;
		}
		/* fewer than asked for, all moved: nothing is left to ask about
		 * (nobody writes to a node that only imports the slot) */
		if (keys->nelem < conflicts.n + BATCH && n == keys->nelem &&
		    !memchr(bad, true, n * sizeof(bool)))
			break;
		for (i = 0; i < n; i++)
			if (bad[i]) {
				conflicts.v = xreallocarray(conflicts.v, conflicts.n + 1, sizeof(char *));
				conflicts.v[conflicts.n++] = xstrdup(cand[i]->str);
			}
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
	return rc;
}
