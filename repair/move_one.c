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

/* How a value the owner does not hold is judged. */
enum verdict_kind { V_CONFLICT, V_NEWER, V_LATER };

/* The source's value set aside in the stash (its conflicts.txt says
 * where it came from and why): superseded when the owner's is newer by
 * construction (V_NEWER) or a later write (V_LATER), else a conflict,
 * kept where it is when the stash has no room or there is none. */
static int
stash_source(struct mig *m, struct reply *key, enum verdict_kind v, struct move_result *res,
	     struct err *e)
{
	unsigned slot = key_slot(key->str, key->len);
	const char *from = m->mo->from ? m->mo->from : conn_addr(m->src);
	char what[256];
	int db, rc = 1;

	if (v == V_LATER)
		snprintf(what, sizeof(what), "superseded: slot %u, owner %s holds a later write "
			 "(the writes' numbers say); this earlier one from %s", slot,
			 conn_addr(m->dst), from);
	else if (v == V_NEWER)
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
	if (rc == 0 && v != V_CONFLICT) {
		res->superseded++;
		return 0;
	}
	add_conflict(res, key);
	if (rc > 0)
		res->kept++;
	return 0;
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

/* The plain value of key on c (GET, asking first: c may only import the
 * slot), a new reply; an error reply when it is not a string. */
static struct reply *
plain(struct conn *c, const struct reply *key, struct err *e)
{
	const char *ask[1] = {"ASKING"}, *get[2] = {"GET", key->str};
	size_t lens[2] = {3, key->len};
	struct reply *r;

	conn_append_argv(c, 1, ask, NULL);
	conn_append_argv(c, 2, get, lens);
	if (conn_flush(c, e) < 0 || (r = conn_read_reply(c, e)) == NULL)
		return NULL;
	reply_free(r); /* ASKING's: an error where c is not in cluster mode */
	return conn_read_reply(c, e);
}

/* Which of the two values of key the caller's order says is the later
 * (mo->order): > 0 the source's, < 0 the destination's, 0 not known (no
 * order, not strings, not values it knows).  The destination's plain
 * value into *cur.  -1 when a side fails. */
static int
order_of(struct mig *m, const struct reply *key, struct reply **cur, int *later, struct err *e)
{
	struct reply *a;

	*later = 0;
	*cur = NULL;
	if (m->mo->order == NULL)
		return 0;
	if ((a = plain(m->src, key, e)) == NULL)
		return -1;
	if ((*cur = plain(m->dst, key, e)) == NULL) {
		reply_free(a);
		return -1;
	}
	if (a->type == REPLY_STRING && (*cur)->type == REPLY_STRING)
		*later = m->mo->order->cmp(m->mo->order->arg, key->str, key->len, a->str, a->len,
					   (*cur)->str, (*cur)->len);
	reply_free(a);
	return 0;
}

/* EVAL of `script` (keys: key; arguments: argv) on c, asking first: c
 * may only import the slot.  The reply (an error reply where c runs no
 * scripts), or NULL with `e` set. */
static struct reply *
eval_on(struct conn *c, const char *script, const struct reply *key, int argc,
	const char *const *argv, const size_t *alens, struct err *e)
{
	const char *ask[1] = {"ASKING"}, *v[8] = {"EVAL", script, "1", key->str};
	size_t lens[8] = {4, strlen(script), 1, key->len};
	struct reply *r;
	int i;

	for (i = 0; i < argc && i < 4; i++) {
		v[4 + i] = argv[i];
		lens[4 + i] = alens[i];
	}
	conn_append_argv(c, 1, ask, NULL);
	conn_append_argv(c, 4 + i, v, lens);
	if (conn_flush(c, e) < 0 || (r = conn_read_reply(c, e)) == NULL)
		return NULL;
	reply_free(r); /* ASKING's */
	return conn_read_reply(c, e);
}

/* The source's value is the later write (the caller's order) and the
 * destination may serve clients.  Its value is read again with its DUMP
 * and PTTL in one script, and copied to the stash while it is still the
 * one compared; then replaced by the source's in one script, only while
 * it is still that one.  A client's write at any point is later than
 * both and stays: the key is judged again (move_one()), and the source's
 * value set aside as superseded.  The source keeps its copy (a salvage's
 * rescue copy, a replica). */
static int
replace_earlier(struct mig *m, struct reply *key, const struct reply *cur,
		struct move_result *res, struct err *e)
{
	static const char snap[] =
		"if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end "
		"return {redis.call('DUMP', KEYS[1]), redis.call('PTTL', KEYS[1])}";
	static const char cas[] =
		"if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end "
		"redis.call('RESTORE', KEYS[1], ARGV[2], ARGV[3], 'REPLACE') return 1";
	const char *argv[3] = {cur->str};
	size_t lens[3] = {cur->len};
	struct reply *mine = NULL, *theirs = NULL, *r = NULL;
	char what[256], ttl[32];
	long long tm;
	int db, rc = -1;

	if (look(m->src, key, &mine, &tm, e) < 0 ||
	    (theirs = eval_on(m->dst, snap, key, 1, argv, lens, e)) == NULL)
		goto out;
	rc = 0;
	if (mine->type != REPLY_STRING || tm == -2) /* gone from the source */
		goto out;
	if (theirs->type == REPLY_ERROR) { /* no scripts there: not replaced */
		rc = stash_source(m, key, V_CONFLICT, res, e);
		goto out;
	}
	if (theirs->type != REPLY_ARRAY || theirs->nelem != 2 ||
	    theirs->elem[0]->type != REPLY_STRING) {
		rc = move_one(m, key, res, e); /* changed or gone meanwhile */
		goto out;
	}
	if (m->mo->stash == NULL) { /* nowhere to keep the earlier one */
		add_conflict(res, key);
		res->kept++;
		goto out;
	}
	snprintf(what, sizeof(what), "superseded: slot %u, owner %s held an earlier write than %s "
		 "(the writes' numbers say)", key_slot(key->str, key->len), conn_addr(m->dst),
		 m->mo->from ? m->mo->from : conn_addr(m->src));
	if ((rc = stash_conflict_payload(m->mo->stash, key, theirs->elem[0],
					 theirs->elem[1]->integer, what, &db, e)) != 0) {
		if (rc > 0) { /* no room: both stay where they are */
			add_conflict(res, key);
			res->kept++;
			rc = 0;
		}
		goto out;
	}
	res->superseded++; /* the destination's earlier value, now in the stash */
	snprintf(ttl, sizeof(ttl), "%lld", tm > 0 ? tm : 0);
	argv[1] = ttl;
	lens[1] = strlen(ttl);
	argv[2] = mine->str;
	lens[2] = mine->len;
	if ((r = eval_on(m->dst, cas, key, 3, argv, lens, e)) == NULL)
		rc = -1;
	else if (r->type == REPLY_INTEGER && r->integer == 1)
		res->moved++;
	else if (r->type == REPLY_ERROR)
		rc = err_set(e, 0, "'EVAL' of a compare-and-restore of '%s' on '%s': %s",
			     key->str, conn_addr(m->dst), r->str);
	else /* a client wrote it meanwhile: later than the source's too */
		rc = set_aside(m, key, res, e);
out:
	reply_free(mine);
	reply_free(theirs);
	reply_free(r);
	return rc;
}

/* Another value on the owner.  The caller's order of writes decides
 * where the source keeps its copy: the later write stays
 * (replace_earlier() when it is the source's).  Else superseded when the
 * owner's value is newer by construction; the owner's replaced when the
 * source served the slot and the owner serves nobody (replace_older());
 * else a conflict. */
int
set_aside(struct mig *m, struct reply *key, struct move_result *res, struct err *e)
{
	unsigned slot = key_slot(key->str, key->len);
	struct reply *cur = NULL;
	int rc, later = 0;

	if ((m->mo->copy || m->mo->dump) && order_of(m, key, &cur, &later, e) < 0)
		return -1;
	if (later > 0) {
		rc = replace_earlier(m, key, cur, res, e);
		reply_free(cur);
		return rc;
	}
	reply_free(cur);
	if (later < 0)
		return stash_source(m, key, V_LATER, res, e);
	if (m->mo->older && m->mo->older[slot] && !m->mo->copy)
		return replace_older(m, key, res, e);
	return stash_source(m, key, m->mo->newer && m->mo->newer[slot] ? V_NEWER : V_CONFLICT,
			    res, e);
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
