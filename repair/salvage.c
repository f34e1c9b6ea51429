/*
 * salvage.c - the salvage pass over one source: every key of its files
 * to the current owner of its slot; see salvage_source() in source.h.
 *
 * Per SCAN page of the rescue server, keys are grouped by owner, whose
 * EXISTS (pipelined) says which it lacks: those are copied with MIGRATE
 * ... COPY KEYS (the rescue copy stays whole for the last look); those
 * it has are compared (move_compare()), another value set aside in the
 * stash.  A key whose EXISTS did not answer plainly is treated as one
 * lacking: MIGRATE never writes over a key that is there (BUSYKEY), and
 * the careful mover then compares it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/fetch.h"
#include "cluster/slot.h"
#include "common/xmalloc.h"
#include "repair/source.h"

struct owners {
	struct topology t;
	int owner[CLUSTER_SLOTS];
	struct conn **c;
	struct succ_judged *succ;  /* per node: is it the files' successor */
	bool *judged;
	bool *all;                 /* every slot true */
	const struct assessment *a;
	const char *host;
	int timeout_ms;
};

/* The current owners, from the first reachable master; a slot the
 * repair gives to a final owner (final[slot] >= 0, a node of `a`) is that
 * owner's, though it only holds it yet. */
static int
owners_load(struct owners *o, const struct assessment *a, const int *final, int timeout_ms,
	    struct err *e)
{
	const struct cluster_node *n;
	size_t i;
	int slot;

	for (i = 0; i < a->snap.n; i++)
		if (a->nodes[i].reachable && a->nodes[i].master) {
			o->host = a->snap.nodes[i].host;
			if (topology_fetch_addr(a->snap.nodes[i].host, a->snap.nodes[i].port,
						timeout_ms, &o->t, e) < 0)
				return -1;
			topology_slot_owners(&o->t, o->owner);
			for (slot = 0; final && slot < CLUSTER_SLOTS; slot++)
				if (final[slot] >= 0 &&
				    (n = topology_find(&o->t, a->snap.nodes[final[slot]].id)) != NULL)
					o->owner[slot] = (int)(n - o->t.nodes);
			o->c = xcalloc(o->t.n + 1, sizeof(*o->c));
			o->succ = xcalloc(o->t.n + 1, sizeof(*o->succ));
			o->judged = xcalloc(o->t.n + 1, sizeof(bool));
			o->all = xmalloc(CLUSTER_SLOTS * sizeof(bool));
			memset(o->all, 1, CLUSTER_SLOTS * sizeof(bool));
			o->timeout_ms = timeout_ms;
			o->a = a;
			return 0;
		}
	return err_set(e, 0, "no reachable master to salvage keys to");
}

static struct conn *
owner_conn(struct owners *o, int k, struct err *e)
{
	const struct cluster_node *n = &o->t.nodes[k];

	if (o->c[k] == NULL)
		o->c[k] = conn_open(n->ip[0] ? n->ip : o->host, n->port, o->timeout_ms, e);
	return o->c[k];
}

/* Which of the keys `dst` has (ASKING and EXISTS, pipelined: the owner
 * may only hold the slot yet): has[i]. */
static int
exists(struct conn *dst, struct reply *const *keys, size_t n, bool *has, struct err *e)
{
	const char *argv[2] = {"EXISTS", NULL}, *ask[1] = {"ASKING"};
	size_t lens[2] = {6, 0}, i;
	struct reply *r, *a;

	for (i = 0; i < n; i++) {
		argv[1] = keys[i]->str;
		lens[1] = keys[i]->len;
		conn_append_argv(dst, 1, ask, NULL);
		conn_append_argv(dst, 2, argv, lens);
	}
	if (conn_flush(dst, e) < 0)
		return -1;
	for (i = 0; i < n; i++) {
		if ((a = conn_read_reply(dst, e)) == NULL)
			return -1;
		reply_free(a);
		if ((r = conn_read_reply(dst, e)) == NULL)
			return -1;
		has[i] = r->type == REPLY_INTEGER && r->integer == 1;
		reply_free(r);
	}
	return 0;
}

/* Whether node k is the successor of the files' node (successor.h), by
 * the history the assessment read of it (INFO replication); once per
 * pass.  A live replica, or a replica's copy, is not a dead master's
 * files: never. */
static struct succ_judged
owner_verdict(struct source *src, struct owners *o, int k)
{
	int i;

	if (!o->judged[k]) {
		o->judged[k] = true;
		if (!src->replica && !src->fetched[0]) {
			i = snapshot_find_id(&o->a->snap, o->t.nodes[k].id);
			o->succ[k] = successor_judge(&src->facts, o->t.nodes[k].id,
						     i >= 0 ? o->a->nodes[i].replid2 : "",
						     i >= 0 ? o->a->nodes[i].second_offset : -1);
		}
	}
	return o->succ[k];
}

/* A key the successor lacks, not restored: its copy set aside in the
 * stash (as "deleted since" or "undecided"), its name kept so that the
 * inventory does not count it missing. */
static int
withhold(struct source *src, struct owners *o, int k, struct succ_judged j,
	 const struct reply *key, const struct move_opts *mo, struct err *e)
{
	const struct cluster_node *n = &o->t.nodes[k];
	char what[512];
	int db;

	if (j.v == SUCC_SEEN)
		snprintf(what, sizeof(what), "deleted since: slot %u, owner %s:%d, promoted from "
			 "this node, had its writes to offset %lld (these files stop at %lld) and "
			 "lacks the key; from %s", key_slot(key->str, key->len), n->ip, n->port,
			 j.seen_to, src->facts.offset, mo->from);
	else
		snprintf(what, sizeof(what), "undecided: slot %u, owner %s:%d, promoted from this "
			 "node, lacks the key: a write it never received, or a key deleted since; "
			 "not restored; from %s", key_slot(key->str, key->len), n->ip, n->port,
			 mo->from);
	if (mo->stash && stash_conflict(mo->stash, src->srv.c, key, true, what, &db, e) < 0)
		return -1;
	keyset_add(&src->withheld, key->str, key->len);
	if (j.v == SUCC_SEEN) {
		src->deleted_since++;
	} else {
		if (src->nundecided_ex < SOURCE_EXAMPLES)
			snprintf(src->undecided_ex[src->nundecided_ex++], sizeof(src->undecided_ex[0]),
				 "%.*s (slot %u, owner %s:%d)", (int)(key->len < 80 ? key->len : 80),
				 key->str, key_slot(key->str, key->len), n->ip, n->port);
		src->undecided++;
	}
	return 0;
}

/* The keys of one page that node k owns: copied where it lacks them,
 * compared where it has them; where k is the files' successor, as
 * successor.h says. */
static int
place_group(struct source *src, struct owners *o, int k, struct reply **group, size_t n,
	    const struct move_opts *mo, struct err *e)
{
	struct reply **lack = xcalloc(n + 1, sizeof(*lack)), **have = xcalloc(n + 1, sizeof(*have));
	struct reply **held = xcalloc(n + 1, sizeof(*held));
	bool *has = xcalloc(n + 1, sizeof(bool));
	size_t i, nl = 0, nh = 0, nh2;
	struct move_opts mo2 = *mo;
	struct succ_judged j;
	struct conn *dst;
	int rc = -1;

	if ((dst = owner_conn(o, k, e)) == NULL || exists(dst, group, n, has, e) < 0)
		goto out;
	j = owner_verdict(src, o, k);
	for (i = 0; i < n; i++) {
		if (has[i])
			have[nh++] = group[i];
		else if (j.v == SUCC_NONE || mo->never_deleted)
			lack[nl++] = group[i];
		else if (withhold(src, o, k, j, group[i], mo, e) < 0)
			goto out;
	}
	/* its other values: newer when it saw every write of the files, else
	 * not known (a backup's are older all the same) */
	if (j.v == SUCC_SEEN)
		mo2.newer = o->all;
	else if (j.v == SUCC_UNDECIDED && !src->spec->backup)
		mo2.newer = NULL;
	mo = &mo2;
	/* keys of held slots go by DUMP and RESTORE, the others by MIGRATE:
	 * lack[] split in two, held ones at the end */
	for (i = 0, nh2 = 0; i < nl; i++)
		if (mo->held && mo->held[key_slot(lack[i]->str, lack[i]->len)])
			held[nh2++] = lack[i];
		else
			lack[i - nh2] = lack[i];
	nl -= nh2;
	/* has[] is scratch now: move_keys() says which were kept */
	if (move_keys(src->srv.c, dst, lack, nl, mo, has, &src->moved, e) < 0 ||
	    move_keys(src->srv.c, dst, held, nh2, mo, has, &src->moved, e) < 0 ||
	    move_compare(src->srv.c, dst, have, nh, mo, &src->moved, e) < 0)
		goto out;
	rc = 0;
out:
	free(lack);
	free(have);
	free(held);
	free(has);
	return rc;
}

/* A key of the slots the source is read for (all, but for spec->only). */
static bool
wanted(const struct source *src, const struct reply *key)
{
	return src->spec->only == NULL || src->spec->only[key_slot(key->str, key->len)];
}

/* One page of keys (a SCAN page, or a replica's slots): every key to its
 * owner, grouped by owner. */
static int
place(struct source *src, struct owners *o, struct reply *const *keys, size_t nkeys,
      const struct move_opts *mo, struct err *e)
{
	struct reply **group = xcalloc(nkeys + 1, sizeof(*group));
	size_t i, k, n;
	int rc = 0;

	for (k = 0; k < o->t.n && rc == 0; k++) {
		for (i = 0, n = 0; i < nkeys; i++)
			if (o->owner[key_slot(keys[i]->str, keys[i]->len)] == (int)k &&
			    wanted(src, keys[i]))
				group[n++] = keys[i];
		if (n)
			rc = place_group(src, o, (int)k, group, n, mo, e);
	}
	for (i = 0; i < nkeys; i++)
		if (o->owner[key_slot(keys[i]->str, keys[i]->len)] < 0 && wanted(src, keys[i]))
			src->unplaced++;
	free(group);
	return rc;
}

/* A live replica's pass: its slots' keys listed a few hundred slots at
 * a time, each batch placed; the replica answers reads meanwhile, even
 * while its cluster_state is fail (its master down). */
static int
salvage_replica(struct source *src, struct owners *o, const struct move_opts *mo,
		struct err *e)
{
	struct reply **keys, **pages;
	size_t nkeys, npages, i;
	char was[16];
	int from = 0, rc = 0;

	replica_relax(src, was, sizeof(was));
	while (rc == 0 && from < CLUSTER_SLOTS) {
		keys = pages = NULL;
		nkeys = npages = 0;
		if (mo->interrupted && *mo->interrupted)
			rc = err_set(e, 0, "interrupted");
		else if ((rc = replica_list(src, &from, 256, &keys, &nkeys, &pages, &npages, e)) == 0)
			rc = place(src, o, keys, nkeys, mo, e);
		for (i = 0; i < npages; i++)
			reply_free(pages[i]);
		free(pages);
		free(keys);
	}
	replica_unrelax(src, was);
	return rc;
}

int
salvage_source(struct source *src, const struct assessment *a, const int *final,
	       const struct move_opts *mo0, struct err *e)
{
	struct owners o = {.t = TOPOLOGY_INIT};
	struct move_opts mo = *mo0;
	struct reply *page = NULL;
	char cursor[32] = "0", from[PATH_MAX + 128];
	size_t i;
	int rc = -1;

	if (!src->read)
		return err_set(e, 0, "'%s' was not read: %s", src->spec->dir, src->error);
	if (src->replica)
		snprintf(from, sizeof(from), "%s", src->spec->dir);
	else
		snprintf(from, sizeof(from), "the files in %s%s%s%s", src->spec->dir,
			 src->host[0] ? " (" : "", src->host, src->host[0] ? ")" : "");
	mo.copy = true;
	mo.dump = src->replica; /* a replica refuses MIGRATE: DUMP, RESTORE */
	mo.from = from;
	src->unplaced = 0;
	if (owners_load(&o, a, final, mo.timeout_ms, e) < 0)
		goto out;
	if (src->replica) {
		if (salvage_replica(src, &o, &mo, e) < 0)
			goto out;
		src->compared = true;
		rc = 0;
		goto out;
	}
	do {
		page = conn_cmd(src->srv.c, e, "SCAN", cursor, "COUNT", "1000", NULL);
		if (page == NULL)
			goto out;
		if (page->type != REPLY_ARRAY || page->nelem != 2 ||
		    page->elem[1]->type != REPLY_ARRAY) {
			err_set(e, 0, "'SCAN' on the rescue server: unexpected reply");
			goto out;
		}
		snprintf(cursor, sizeof(cursor), "%s", page->elem[0]->str);
		if (mo.interrupted && *mo.interrupted) {
			err_set(e, 0, "interrupted");
			goto out;
		}
		if (place(src, &o, page->elem[1]->elem, page->elem[1]->nelem, &mo, e) < 0)
			goto out;
		reply_free(page);
		page = NULL;
	} while (strcmp(cursor, "0") != 0);
	src->compared = true;
	rc = 0;
out:
	if (rc < 0)
		err_prefix(e, "salvage '%s': ", src->spec->dir);
	reply_free(page);
	for (i = 0; o.c && i < o.t.n; i++)
		conn_free(o.c[i]);
	free(o.c);
	free(o.succ);
	free(o.judged);
	free(o.all);
	topology_release(&o.t);
	return rc;
}
