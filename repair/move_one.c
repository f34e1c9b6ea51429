/*
 * move_one.c - one key the destination has already, or that a batch
 * could not move: compared with the destination's copy (DUMP and PTTL on
 * both sides), then an equal duplicate stashed, a different value set
 * aside, or, where the caller knows which is newer, superseded; see
 * move.h.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/slot.h"
#include "common/xmalloc.h"
#include "repair/move_int.h"

/* Queues DUMP and PTTL of key on c, asking first (the node may only be
 * importing the slot); read_look() reads their replies. */
void
queue_look(struct conn *c, const struct reply *key)
{
	const char *ask[1] = {"ASKING"};
	const char *d[2] = {"DUMP", key->str}, *t[2] = {"PTTL", key->str};
	size_t dl[2] = {4, key->len}, tl[2] = {4, key->len};

	conn_append_argv(c, 1, ask, NULL);
	conn_append_argv(c, 2, d, dl);
	conn_append_argv(c, 1, ask, NULL);
	conn_append_argv(c, 2, t, tl);
}

/* The DUMP (a new reply) and PTTL (-2: none) queued by queue_look(). */
int
read_look(struct conn *c, struct reply **dump, long long *pttl, struct err *e)
{
	struct reply *r[4] = {NULL};
	int i, rc = -1;

	for (i = 0; i < 4; i++)
		if ((r[i] = conn_read_reply(c, e)) == NULL)
			goto out;
	*pttl = r[3]->type == REPLY_INTEGER ? r[3]->integer : -2;
	*dump = r[1];
	r[1] = NULL;
	rc = 0;
out:
	for (i = 0; i < 4; i++)
		reply_free(r[i]);
	return rc;
}

/* DUMP and PTTL of key on c.  0, or -1 when c fails. */
static int
look(struct conn *c, const struct reply *key, struct reply **dump, long long *pttl,
     struct err *e)
{
	queue_look(c, key);
	if (conn_flush(c, e) < 0)
		return -1;
	return read_look(c, dump, pttl, e);
}

/* The same value, and the same life: both persistent, or both expiring
 * within 2 s of each other (the two PTTLs are read moments apart). */
bool
same_key(const struct reply *a, long long ta, const struct reply *b, long long tb)
{
	if (a->type != REPLY_STRING || b->type != REPLY_STRING || a->len != b->len ||
	    memcmp(a->str, b->str, a->len) != 0)
		return false;
	if (ta == -1 || tb == -1)
		return ta == tb;
	return ta >= 0 && tb >= 0 && (ta > tb ? ta - tb : tb - ta) <= 2000;
}

static void
add_conflict(struct move_result *res, const struct reply *key)
{
	if (res->nconflict < MOVE_CONFLICTS_MAX)
		snprintf(res->conflict[res->nconflict++], sizeof(res->conflict[0]), "%.*s",
			 (int)key->len, key->str);
	res->conflicts++;
}

/* The destination's value is the older one: it goes to the stash (the
 * destination holds the slot, no client writes it meanwhile), and the
 * source's takes its place.  Without a stash, a conflict kept. */
static int
replace_older(struct mig *m, struct reply *key, struct move_result *res, struct err *e)
{
	char what[256];
	int db, rc;

	if (m->mo->stash == NULL) {
		add_conflict(res, key);
		res->kept++;
		return 0;
	}
	snprintf(what, sizeof(what), "superseded: slot %u, %s served it and wrote a newer value; "
		 "this older one from %s, which takes the newer one", key_slot(key->str, key->len),
		 m->mo->from ? m->mo->from : conn_addr(m->src), conn_addr(m->dst));
	if ((rc = stash_conflict(m->mo->stash, m->dst, key, false, what, &db, e)) < 0)
		return -1;
	if (rc > 0) {
		add_conflict(res, key);
		res->kept++;
		return 0;
	}
	res->superseded++;
	return move_one(m, key, res, e);
}

/* Another value on the owner: this one set aside in the stash (its
 * conflicts.txt says where it came from and why).  Superseded when the
 * owner's value is newer by construction; else a conflict, kept where it
 * is when the stash has no room or there is none. */
int
set_aside(struct mig *m, struct reply *key, struct move_result *res, struct err *e)
{
	unsigned slot = key_slot(key->str, key->len);
	bool superseded = m->mo->newer && m->mo->newer[slot];
	const char *from = m->mo->from ? m->mo->from : conn_addr(m->src);
	char what[256];
	int db, rc = 1;

	if (m->mo->older && m->mo->older[slot] && !m->mo->copy)
		return replace_older(m, key, res, e);
	if (superseded)
		snprintf(what, sizeof(what), "superseded: slot %u, owner %s wrote a newer value "
			 "since; this older one from %s", slot, conn_addr(m->dst), from);
	else
		snprintf(what, sizeof(what), "slot %u, owner %s keeps its own value; this one "
			 "from %s", slot, conn_addr(m->dst), from);
	if (m->mo->stash != NULL &&
	    (rc = m->mo->dump ? stash_conflict_dump(m->mo->stash, m->src, key, what, &db, e)
			      : stash_conflict(m->mo->stash, m->src, key, m->mo->copy, what, &db,
					       e)) < 0)
		return -1;
	if (rc == 0 && superseded) {
		res->superseded++;
		return 0;
	}
	add_conflict(res, key);
	if (rc > 0)
		res->kept++;
	return 0;
}

/* An equal duplicate: the owner's copy stays untouched (a client may
 * write it now); this one goes to the stash, or stays where it is with
 * none, or when the source is a throwaway copy. */
int
stash_duplicate(struct mig *m, struct reply *key, struct move_result *res, struct err *e)
{
	struct mig to = {.src = m->src};
	struct reply *r;

	res->same++;
	if (m->mo->stash == NULL || m->mo->copy)
		return 0;
	if ((to.dst = stash_conn(m->mo->stash, e)) == NULL)
		return -1;
	snprintf(to.port, sizeof(to.port), "%d", conn_port(to.dst));
	snprintf(to.tmo, sizeof(to.tmo), "%s", m->tmo);
	if ((r = migrate(&to, &key, 1, e)) == NULL)
		return -1;
	if (r->type == REPLY_ERROR) {
		err_set(e, 0, "'MIGRATE' of duplicate '%s' from '%s' to the stash: %s", key->str,
			conn_addr(m->src), r->str);
		reply_free(r);
		return -1;
	}
	reply_free(r);
	m->mo->stash->kept++;
	res->stashed++;
	return 0;
}

/* One key alone: moved, found on the owner already (the duplicate
 * stashed), or a conflict.  -1 on any other failure. */
int
move_one(struct mig *m, struct reply *key, struct move_result *res, struct err *e)
{
	struct reply *r, *a = NULL, *b = NULL;
	long long ta, tb;
	int rc = -1;

	r = migrate(m, &key, 1, e);
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
	if (look(m->src, key, &a, &ta, e) < 0 || look(m->dst, key, &b, &tb, e) < 0)
		goto out;
	if (!same_key(a, ta, b, tb))
		rc = set_aside(m, key, res, e);
	else
		rc = stash_duplicate(m, key, res, e);
out:
	reply_free(a);
	reply_free(b);
	return rc;
}
