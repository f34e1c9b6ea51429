/* apply.c - carrying out a repair plan, phase by phase; see apply.h. */
#include "repair/apply.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/fetch.h"
#include "common/clock.h"
#include "common/utf8.h"
#include "common/xmalloc.h"
#include "repair/apply_int.h"

struct conn *
apply_conn(struct applier *ap, int i, struct err *e)
{
	const struct snap_node *n = &ap->a->snap.nodes[i];

	if (ap->c[i] == NULL || conn_is_broken(ap->c[i])) {
		conn_free(ap->c[i]);
		ap->c[i] = conn_open(n->host, n->port, ap->o->timeout_ms, e);
	}
	return ap->c[i];
}

void
batch_queue(struct batch *b, const char *a0, const char *a1, const char *a2, const char *a3,
      const char *a4)
{
	const char *argv[5] = {a0, a1, a2, a3, a4};
	int argc = 0;

	while (argc < 5 && argv[argc])
		argc++;
	conn_append_argv(b->c, argc, argv, NULL);
	b->n++;
}

int
batch_run(struct batch *b, bool tolerate_unknown, struct err *e)
{
	struct reply *r;
	size_t i;
	int rc = 0;

	if (b->n == 0)
		return 0;
	if (conn_flush(b->c, e) < 0)
		return -1;
	for (i = 0; i < b->n; i++) {
		if ((r = conn_read_reply(b->c, rc < 0 ? NULL : e)) == NULL)
			return -1;
		if (rc == 0 && r->type == REPLY_ERROR &&
		    !(tolerate_unknown && strstr(r->str, "Unknown node"))) {
			err_set(e, 0, "'%s': %s", conn_addr(b->c), r->str);
			rc = -1;
		}
		reply_free(r);
	}
	b->n = 0;
	return rc;
}

void
apply_num(char *buf, size_t n, int v)
{
	snprintf(buf, n, "%d", v);
}

/* A decision waiting for a person, named in the result while there is
 * room (key names are any bytes; the report is JSON). */
static void __attribute__((format(printf, 2, 3)))
name_decision(struct applier *ap, const char *fmt, ...)
{
	char *c;
	va_list args;

	if (ap->res->nconflict >= MOVE_CONFLICTS_MAX)
		return;
	c = ap->res->conflict[ap->res->nconflict++];
	va_start(args, fmt);
	vsnprintf(c, sizeof(ap->res->conflict[0]), fmt, args);
	va_end(args);
	utf8_sanitize(c);
}

/* What move_slot_keys() found of other values on the owner: counted,
 * and the first ones named with where they are now. */
static void
conflict(struct applier *ap, int slot, int owner, int from, const struct move_result *m)
{
	char oa[80], fa[80];
	int i;

	ap->res->conflicts += m->conflicts;
	ap->res->conflicts_kept += m->kept;
	assess_addr(ap->a, owner, oa, sizeof(oa));
	assess_addr(ap->a, from, fa, sizeof(fa));
	for (i = 0; i < m->nconflict; i++)
		name_decision(ap, "%s (slot %d): %s keeps its value, %s's other one is %s",
			      m->conflict[i], slot, oa, fa,
			      m->kept == 0 ? "in the stash" : m->kept == m->conflicts ? "still there"
					   : "in the stash, or still there when it had no room");
}

/* Keys that left their holders so far. */
static long long
moved(const struct applier *ap)
{
	const struct apply_result *r = ap->res;

	return r->keys_moved + r->keys_same + r->conflicts + r->superseded;
}

/* FIX: the keys of every other holder to the owner.  Per holder, one
 * pipelined pass over all its slots first; the slots with more keys, or
 * an error (BUSYKEY), then one by one with the careful mover, which
 * sets other values aside in the stash. */
static int
move_all(struct applier *ap, struct err *e)
{
	const struct plan *p = ap->p;
	struct conn **dsts = xcalloc(p->n + 1, sizeof(*dsts));
	int *slots = xcalloc(p->n + 1, sizeof(int));
	int *owner = xcalloc(p->n + 1, sizeof(int));
	bool *done = xcalloc(p->n + 1, sizeof(bool));
	bool *newer = xcalloc(CLUSTER_SLOTS, sizeof(bool));
	bool *older = xcalloc(CLUSTER_SLOTS, sizeof(bool));
	struct move_opts mo = {.timeout_ms = ap->o->timeout_ms, .stash = &ap->stash,
			       .newer = newer, .older = older};
	struct move_result m;
	struct conn *src;
	size_t h, i, k;
	int rc = -1;

	/* the owner served the slot's clients: a holder's other value is
	 * older (served.h); the other way round below, per holder */
	for (i = 0; i < p->n; i++)
		if (p->v[i].kind == ACT_FIX)
			newer[p->v[i].slot] = served_by(ap->served, ap->a, p->v[i].node, p->v[i].slot);
	for (h = 0; h < ap->a->snap.n; h++) {
		if (!assess_live_master(ap->a, (int)h))
			continue;
		for (i = 0, k = 0; i < p->n; i++) {
			const struct action *x = &p->v[i];

			if (x->kind != ACT_FIX || (int)h == x->node ||
			    assess_keys(ap->a, (int)h, x->slot) == 0)
				continue;
			if ((dsts[k] = apply_conn(ap, x->node, e)) == NULL)
				goto out;
			slots[k] = x->slot;
			owner[k++] = x->node;
			/* this holder served the slot, its owner-to-be did not:
			 * the holder's values are the newer ones */
			older[x->slot] = served_by(ap->served, ap->a, (int)h, x->slot) && !newer[x->slot];
		}
		if (k == 0)
			continue;
		if ((src = apply_conn(ap, (int)h, e)) == NULL)
			goto out;
		if (conn_set_timeout(src, conn_migrate_wait_ms(ap->o->timeout_ms), e) < 0)
			goto out;
		memset(&m, 0, sizeof(m));
		audit_note(ap->env->audit, "keys of %zu slots from %s", k, conn_addr(src));
		if (move_slots_first_pass(src, dsts, slots, k, ap->o->timeout_ms, done, &m, e) < 0)
			goto out;
		ap->res->keys_moved += m.moved;
		apply_progress(ap, "move", moved(ap), ap->move_total);
		for (i = 0; i < k; i++) {
			if (done[i])
				continue;
			if (apply_stopping(ap, e))
				goto out;
			if (move_slot_keys(src, dsts[i], slots[i], &mo, &m, e) < 0)
				goto out;
			ap->res->keys_moved += m.moved;
			ap->res->keys_same += m.same;
			ap->res->superseded += m.superseded;
			if (m.conflicts)
				conflict(ap, slots[i], owner[i], (int)h, &m);
			apply_progress(ap, "move", moved(ap), ap->move_total);
		}
		if (conn_set_timeout(src, ap->o->timeout_ms, e) < 0)
			goto out;
	}
	rc = 0;
out:
	free(dsts);
	free(slots);
	free(owner);
	free(done);
	free(newer);
	free(older);
	return rc;
}

/* On node h, for slots of one action whose owner is f (those held, or
 * those not, as `held` says): STABLE where a state was open or keys were
 * held, then the owner. */
static void
queue_close(struct applier *ap, struct batch *b, int h, int f, const int *slots, size_t n,
	    bool held)
{
	const char *fid = ap->a->snap.nodes[f].id;
	char s[16];
	size_t i;

	for (i = 0; i < n; i++) {
		bool holder = assess_keys(ap->a, h, slots[i]) > 0 && h != f;

		if (ap->held[slots[i]] != held)
			continue;
		apply_num(s, sizeof(s), slots[i]);
		if (h == f || assess_migrating(ap->a, h, slots[i]) ||
		    assess_importing(ap->a, h, slots[i]) || holder)
			batch_queue(b, "CLUSTER", "SETSLOT", s, "STABLE", NULL);
		batch_queue(b, "CLUSTER", "SETSLOT", s, "NODE", fid);
	}
}

/* Every action's slots (held, or the others) closed and their owner
 * told, one pipeline per reachable master. */
static int
close_all(struct applier *ap, bool held, struct err *e)
{
	const struct plan *p = ap->p;
	struct batch b;
	size_t h, i, n;

	for (h = 0; h < ap->a->snap.n; h++) {
		if (!assess_live_master(ap->a, (int)h))
			continue;
		if ((b.c = apply_conn(ap, (int)h, e)) == NULL)
			return -1;
		b.n = 0;
		for (i = 0; i < p->n; i++) {
			const int *slots = action_slots(&p->v[i], &n);

			queue_close(ap, &b, (int)h, p->v[i].node, slots, n, held);
		}
		if (batch_run(&b, false, e) < 0)
			return err_prefix(e, "close: ");
	}
	return 0;
}

/* A final owner that serves a slot it has migrating (to a node that died,
 * or is a replica now) answers ASK for every key it lacks, RESTORE
 * included: it serves the slot whole from now on (STABLE), and the keys
 * coming to it land.  What clients write there meanwhile is newer than
 * any copy elsewhere (served.h). */
static int
stable_owners(struct applier *ap, struct err *e)
{
	struct batch b;
	char s[16];
	size_t i;

	for (i = 0; i < ap->p->n; i++) {
		const struct action *x = &ap->p->v[i];

		if (x->kind != ACT_FIX || ap->held[x->slot] ||
		    !assess_migrating(ap->a, x->node, x->slot))
			continue;
		if ((b.c = apply_conn(ap, x->node, e)) == NULL)
			return -1;
		b.n = 0;
		apply_num(s, sizeof(s), x->slot);
		batch_queue(&b, "CLUSTER", "SETSLOT", s, "STABLE", NULL);
		if (batch_run(&b, false, e) < 0)
			return err_prefix(e, "stable: ");
	}
	return 0;
}

/* Until every reachable master says cluster_state:ok (a relaxed node
 * turns ok within a cron tick; a master started less than 2 s ago stays
 * fail until then), at most 5 s: keys can only move between ok nodes. */
static void
wait_ok(struct applier *ap)
{
	uint64_t deadline = clock_now_ms() + 5000;
	struct err e = ERR_INIT;
	char state[16];
	size_t i;
	bool ok = false;

	while (!ok && clock_now_ms() < deadline) {
		ok = true;
		for (i = 0; i < ap->a->snap.n && ok; i++) {
			char *info;

			if (!assess_live_master(ap->a, (int)i) || apply_conn(ap, (int)i, &e) == NULL)
				continue;
			info = conn_cmd_str(ap->c[i], &e, "CLUSTER", "INFO", NULL);
			ok = info && info_field(info, "cluster_state", state, sizeof(state)) == 0 &&
			     strcmp(state, "ok") == 0;
			free(info);
		}
		if (!ok)
			clock_sleep_ms(50);
	}
}

void
apply_progress(struct applier *ap, const char *phase, long long done, long long total)
{
	if (ap->phase == NULL || strcmp(ap->phase, phase) != 0)
		audit_note(ap->env->audit, "%s", phase);
	ap->phase = phase;
	if (ap->env->progress)
		ap->env->progress(ap->env->progress_arg, phase, done, total);
}

bool
apply_stopping(const struct applier *ap, struct err *e)
{
	if (ap->env->interrupted && *ap->env->interrupted) {
		err_set(e, 0, "interrupted");
		return true;
	}
	return false;
}

/* Per slot, whether the owner's values are newer by construction than
 * the files of source node `id` (served.h): the owner the keys go to
 * served the slot's clients at the first look, and that was not the
 * source's node itself. */
static void
salvage_newer(const struct applier *ap, const char *id, bool *newer)
{
	const struct served *sv = ap->served;
	int slot;

	for (slot = 0; slot < CLUSTER_SLOTS; slot++)
		newer[slot] = sv->taken && sv->by[slot][0] && strcmp(sv->by[slot], id) != 0 &&
			      (ap->final[slot] < 0 ||
			       served_by(sv, ap->a, ap->final[slot], slot));
}

/* A salvage action: one pass over its source, what it did added up,
 * also when it failed half way. */
static int
salvage(struct applier *ap, const struct action *x, struct err *e)
{
	bool *newer = xcalloc(CLUSTER_SLOTS, sizeof(bool));
	struct move_opts mo = {.timeout_ms = ap->o->timeout_ms, .stash = &ap->stash,
			       .interrupted = ap->env->interrupted, .newer = newer,
			       .held = ap->held};
	struct source *src = &ap->sources->v[x->src];
	struct move_result before = src->moved, *m = &src->moved;
	long long undecided = src->undecided, deleted = src->deleted_since;
	int nex = src->nundecided_ex;
	char fa[PATH_MAX + 16];
	int i, rc;

	audit_note(ap->env->audit, "salvage: %s", x->reason);
	mo.never_deleted = ap->o->never_deleted;
	mo.order = ap->o->order;
	if (src->spec->backup) /* whatever the cluster holds now is newer */
		memset(newer, 1, CLUSTER_SLOTS * sizeof(bool));
	else
		salvage_newer(ap, src->id, newer);
	rc = salvage_source(src, ap->a, ap->final, &mo, e);
	free(newer);
	ap->res->keys_salvaged += m->moved - before.moved;
	ap->res->salvage_same += m->same - before.same;
	ap->res->superseded += m->superseded - before.superseded;
	ap->res->conflicts += m->conflicts - before.conflicts;
	ap->res->conflicts_kept += m->kept - before.kept;
	ap->res->undecided += src->undecided - undecided;
	ap->res->deleted_since += src->deleted_since - deleted;
	snprintf(fa, sizeof(fa), "%s%s", src->replica ? "" : "the files in ", src->spec->dir);
	for (i = nex; i < src->nundecided_ex; i++)
		name_decision(ap, "%s: not restored, the owner (promoted from the node of %s) "
			      "lacks it; its copy is in the stash", src->undecided_ex[i], fa);
	for (i = before.nconflict; i < m->nconflict; i++)
		name_decision(ap, "%s: the cluster keeps its value, %s's other one is in the stash",
			      m->conflict[i], fa);
	if (rc < 0 && x->node >= 0)
		ap->unsalvaged[x->node] = true;
	return rc;
}

/* Every salvage action; one that fails is said and the others go on.
 * -1 with the first failure. */
static int
salvage_all(struct applier *ap, struct err *e)
{
	struct err se = ERR_INIT;
	size_t i;
	int rc = 0;

	for (i = 0; i < ap->p->n; i++) {
		if (ap->p->v[i].kind != ACT_SALVAGE)
			continue;
		apply_progress(ap, "salvage", 0, 0);
		if (apply_stopping(ap, e))
			return -1;
		if (salvage(ap, &ap->p->v[i], &se) < 0) {
			audit_note(ap->env->audit, "%s", se.msg);
			if (rc == 0)
				*e = se;
			rc = -1;
		}
	}
	return rc;
}

static int
phases(struct applier *ap, struct err *e)
{
	const struct plan *p = ap->p;
	struct err se = ERR_INIT;
	size_t i;
	int salvaged;

	for (i = 0; i < p->n; i++)
		if (p->v[i].kind == ACT_FIX)
			ap->move_total += p->v[i].keys;
	apply_progress(ap, "relax", 0, 0);
	if (restore_relax(ap, e) < 0)
		return -1;
	apply_progress(ap, "protect", 0, 0);
	claim_known(ap);
	if (apply_stopping(ap, e) || anchor_place(ap, e) < 0 || claim_protect(ap, e) < 0)
		return -1;
	apply_progress(ap, "hold", 0, 0);
	if (apply_stopping(ap, e) || claim_hold(ap, e) < 0)
		return -1;
	apply_progress(ap, "check", 0, 0);
	if (claim_check(ap, false, e) < 0 || stable_owners(ap, e) < 0)
		return -1;
	wait_ok(ap);
	apply_progress(ap, "move", 0, ap->move_total);
	if (apply_stopping(ap, e) || move_all(ap, e) < 0)
		return -1;
	apply_progress(ap, "close", 0, 0);
	if (apply_stopping(ap, e) || close_all(ap, false, e) < 0)
		return -1;
	/* a source that fails does not stop the claim: its keys stay in
	 * its files for the next run, its node is not forgotten */
	salvaged = salvage_all(ap, &se);
	if (salvaged < 0 && apply_stopping(ap, e))
		return -1;
	apply_progress(ap, "claim", 0, 0);
	if (claim_take(ap, e) < 0 || claim_check(ap, true, e) < 0)
		return -1;
	apply_progress(ap, "close", 0, 0);
	if (close_all(ap, true, e) < 0)
		return -1;
	for (i = 0; i < p->n; i++) {
		struct conn *c;
		char s[16];

		if (p->v[i].kind != ACT_STABLE)
			continue;
		snprintf(s, sizeof(s), "%d", p->v[i].slot);
		if ((c = apply_conn(ap, p->v[i].node, e)) == NULL ||
		    conn_cmd_ok(c, e, "CLUSTER", "SETSLOT", s, "STABLE", NULL) < 0)
			return -1;
	}
	for (i = 0; i < p->n; i++) {
		if (p->v[i].kind != ACT_FORGET)
			continue;
		apply_progress(ap, "forget", 0, 0);
		if (apply_forget(ap, p->v[i].node, e) < 0)
			return -1;
	}
	if (salvaged < 0) {
		*e = se;
		return -1;
	}
	return 0;
}

/* Per slot of an action, its final owner; -1 elsewhere. */
static void
final_owners(const struct plan *p, int *final)
{
	const int *slots;
	size_t i, k, n;
	int slot;

	for (slot = 0; slot < CLUSTER_SLOTS; slot++)
		final[slot] = -1;
	for (i = 0; i < p->n; i++)
		for (k = 0, slots = action_slots(&p->v[i], &n); k < n; k++)
			final[slots[k]] = p->v[i].node;
}

int
apply_plan(const struct assessment *a, const struct plan *p, const struct repair_opts *o,
	   const struct repair_env *env, struct sources *src, const struct served *served,
	   struct apply_result *res, struct err *e)
{
	struct applier ap = {.a = a, .p = p, .o = o, .env = env, .res = res, .sources = src,
			     .served = served,
			     .stash = {.redis_server = env->redis_server, .parent = env->stash_dir,
				       .host = env->local_host,
				       .timeout_ms = o->timeout_ms, .srv = {.proc = PROC_INIT}}};
	size_t i;
	int rc;

	memset(res, 0, sizeof(*res));
	if (p->n == 0)
		return 0;
	ap.c = xcalloc(a->snap.n + 1, sizeof(*ap.c));
	ap.saved = xcalloc(a->snap.n + 1, sizeof(*ap.saved));
	ap.relaxed = xcalloc(a->snap.n + 1, sizeof(*ap.relaxed));
	ap.final = xcalloc(CLUSTER_SLOTS, sizeof(*ap.final));
	ap.held = xcalloc(CLUSTER_SLOTS, sizeof(*ap.held));
	ap.held_since = xcalloc(a->snap.n + 1, sizeof(*ap.held_since));
	ap.unsalvaged = xcalloc(a->snap.n + 1, sizeof(*ap.unsalvaged));
	final_owners(p, ap.final);
	if (p->restart_first) {
		rc = apply_restarts(&ap, e);
	} else {
		struct err re = ERR_INIT;

		rc = phases(&ap, e);
		apply_progress(&ap, "restore", 0, 0);
		if (restore_all(&ap, &re) < 0 && rc == 0) {
			*e = re;
			rc = -1;
		}
		res->stashed = ap.stash.kept;
		if (stash_close(&ap.stash, res->stash, sizeof(res->stash), &re) < 0 && rc == 0) {
			*e = re;
			rc = -1;
		}
		if (res->stash[0])
			audit_note(env->audit, "%lld duplicates, %lld superseded and %lld other values "
				   "kept in %s", res->stashed, res->superseded,
				   res->conflicts - res->conflicts_kept, res->stash);
	}
	for (i = 0; i < a->snap.n; i++)
		conn_free(ap.c[i]);
	free(ap.c);
	free(ap.saved);
	free(ap.relaxed);
	free(ap.opened);
	free(ap.bound);
	free(ap.final);
	free(ap.held);
	free(ap.anchor);
	free(ap.held_since);
	free(ap.unsalvaged);
	return rc;
}
