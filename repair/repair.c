/* repair.c - assess, plan, apply, until done; see repair.h. */
#include "repair/repair.h"

#include <string.h>

#include "cluster/server.h"
#include "common/clock.h"
#include "common/xmalloc.h"
#include "repair/served.h"
#include "repair/source.h"

#define ROUNDS_MAX 5
#define SETTLE_MS 20000
#define VERDICT_TRIES 3

static json_t *
plan_json(const struct plan *p)
{
	json_t *actions = json_array(), *notes = json_array(), *seen = json_array();
	size_t i;

	for (i = 0; i < p->n; i++)
		json_array_append_new(actions,
				      json_pack("{s:s, s:s, s:b}", "action",
						action_kind_name(p->v[i].kind), "reason",
						p->v[i].reason, "data_loss", p->v[i].data_loss));
	for (i = 0; i < p->nnotes; i++)
		json_array_append_new(notes, json_string(p->notes[i]));
	for (i = 0; i < p->nseen; i++)
		json_array_append_new(seen, json_string(p->seen[i]));
	return json_pack("{s:o, s:o, s:o}", "seen", seen, "actions", actions, "notes", notes);
}

static void
tell(const struct repair_env *env, const char *phase, long long done, long long total)
{
	if (env->progress)
		env->progress(env->progress_arg, phase, done, total);
}

/* True when node `id` answered this snapshot: a node that did not stays
 * flagged failed until it is forgotten, and is nothing to wait for. */
static bool
answered(const struct assessment *a, const char *id)
{
	size_t i;

	for (i = 0; i < a->snap.n; i++)
		if (strcmp(a->snap.nodes[i].id, id) == 0)
			return a->snap.nodes[i].reachable;
	return false;
}

/* A replica that does not answer and that no reachable node flags
 * failed: loading its master's data (it follows a new one), say. */
static bool
replica_coming(const struct assessment *a, size_t i)
{
	return !a->snap.nodes[i].reachable && !a->nodes[i].master && !a->nodes[i].failed;
}

/* A node that does not answer, known to some reachable nodes and
 * forgotten by others: a FORGET that one node missed.  One that did not
 * know the node yet when told (a master just added, say) keeps no
 * blacklist and may learn it from a message sent before the others
 * forgot it; it then keeps it, flagged failed, for good.  Nothing to
 * wait for: the next round forgets it there. */
static bool
partly_forgotten(const struct assessment *a, char *why, size_t n)
{
	enum seen *seen = xcalloc(a->snap.n + 1, sizeof(*seen));
	size_t i, by, forgot;
	bool partly = false;

	for (i = 0; i < a->snap.n && !partly; i++) {
		if (a->snap.nodes[i].reachable || assess_seen(a, i, seen, &forgot) == 0 ||
		    forgot == 0)
			continue;
		for (by = 0; seen[by] != SEEN_KNOWN; by++)
			;
		snprintf(why, n, "%s:%d (%.8s) is forgotten by %zu nodes, still known to %s:%d",
			 a->snap.nodes[i].host, a->snap.nodes[i].port, a->snap.nodes[i].id, forgot,
			 a->snap.nodes[by].host, a->snap.nodes[by].port);
		partly = true;
	}
	free(seen);
	return partly;
}

/* Every reachable node flags no node that answers as failed, and all
 * name the same owner for every slot; no replica is on its way back
 * (assess_index() on `a` when it has nodes); and every one says
 * cluster_state:ok -- unless slots are left uncovered, which the next
 * round covers: no node says ok before that, however long it is waited
 * for (an incident's uncovered slots behind a promotion waited the whole
 * SETTLE_MS).  What settle() waits for. */
static bool
calm(const struct assessment *a, char *why, size_t n)
{
	int ref[CLUSTER_SLOTS], own[CLUSTER_SLOTS], slot, *as_rv;
	const struct topology *rv = NULL;
	const struct snap_node *down = NULL;
	size_t i, k;

	for (i = 0; i < a->snap.n; i++) {
		const struct snap_node *s = &a->snap.nodes[i];

		if (a->nodes && replica_coming(a, i)) {
			snprintf(why, n, "replica %s:%d does not answer yet", s->host, s->port);
			return false;
		}
		if (!s->reachable)
			continue;
		if (strcmp(s->state, "ok") != 0 && down == NULL)
			down = s;
		for (k = 0; k < s->view.n; k++)
			if ((s->view.nodes[k].flags & (NODE_FAIL | NODE_PFAIL)) &&
			    answered(a, s->view.nodes[k].id)) {
				snprintf(why, n, "%s:%d flags %s:%d (%.8s) failed", s->host, s->port,
					 s->view.nodes[k].ip, s->view.nodes[k].port,
					 s->view.nodes[k].id);
				return false;
			}
		if (rv == NULL) {
			rv = &s->view;
			topology_slot_owners(rv, ref);
			continue;
		}
		topology_slot_owners(&s->view, own);
		as_rv = xcalloc(s->view.n + 1, sizeof(*as_rv));
		topology_map_ids(&s->view, rv, as_rv);
		for (slot = 0; slot < CLUSTER_SLOTS &&
			       (own[slot] < 0 ? -1 : as_rv[own[slot]]) == ref[slot];
		     slot++)
			;
		free(as_rv);
		if (slot < CLUSTER_SLOTS) {
			snprintf(why, n, "nodes disagree on slot %d", slot);
			return false;
		}
	}
	for (slot = 0; down && rv && slot < CLUSTER_SLOTS && ref[slot] >= 0; slot++)
		;
	if (down && (rv == NULL || slot == CLUSTER_SLOTS)) {
		snprintf(why, n, "%s:%d says cluster_state:%s", down->host, down->port, down->state);
		return false;
	}
	return true;
}

/* calm(), and no node is forgotten by some nodes only. */
static bool
settled(const struct assessment *a, char *why, size_t n)
{
	return calm(a, why, n) && !partly_forgotten(a, why, n);
}

/* Waits for the cluster to take in what was done: calm(); a partial
 * forget is not waited for (the next round acts on it).  False when it
 * gave up, with the last reason in why. */
static bool
settle(const char *host, int port, const struct repair_opts *o, char *why, size_t n)
{
	uint64_t deadline = clock_now_ms() + SETTLE_MS;
	struct assessment a;
	struct err e = ERR_INIT;
	bool done = false;

	while (!done && clock_now_ms() < deadline) {
		memset(&a, 0, sizeof(a));
		if (snapshot_take(&a.snap, host, port, o->timeout_ms, &e) == 0) {
			assess_index(&a);
			done = calm(&a, why, n);
		}
		free(a.nodes);
		snapshot_release(&a.snap);
		if (!done)
			clock_sleep_ms(20);
	}
	return done;
}

/* settle(), and when it gives up, why: in the audit and the outcome. */
static void
settle_round(const char *host, int port, const struct repair_opts *o,
	     const struct repair_env *env, struct repair_outcome *res)
{
	char why[256] = "";
	bool calmed;

	audit_pause(env->audit);
	calmed = settle(host, port, o, why, sizeof(why));
	audit_resume(env->audit);
	if (calmed)
		return;
	snprintf(res->unsettled, sizeof(res->unsettled), "%s", why[0] ? why : "no node answered");
	audit_note(env->audit, "the cluster did not settle within %d s: %s", SETTLE_MS / 1000,
		   res->unsettled);
}

/* Sums a round into the total; conflicts kept in place are those of the
 * last round (the same keys conflict again each round), those set aside
 * are gone from the nodes and add up.  True when the round changed
 * anything. */
static bool
add_total(struct apply_result *t, const struct apply_result *r)
{
	long long aside = t->conflicts - t->conflicts_kept + r->conflicts - r->conflicts_kept;
	int i, k;

	t->keys_moved += r->keys_moved;
	t->keys_same += r->keys_same;
	t->stashed += r->stashed;
	if (r->stash[0])
		snprintf(t->stash, sizeof(t->stash), "%s", r->stash);
	t->keys_salvaged += r->keys_salvaged;
	t->salvage_same += r->salvage_same;
	t->superseded += r->superseded;
	t->undecided += r->undecided;
	t->deleted_since += r->deleted_since;
	for (i = 0; i < r->nheld && t->nheld < APPLY_HELD_MAX; i++)
		t->held[t->nheld++] = r->held[i];
	t->restarted += r->restarted;
	t->promoted += r->promoted;
	t->forgotten += r->forgotten;
	t->conflicts_kept = r->conflicts_kept;
	t->conflicts = aside + t->conflicts_kept;
	for (i = 0; i < r->nconflict && t->nconflict < MOVE_CONFLICTS_MAX; i++) {
		for (k = 0; k < t->nconflict && strcmp(t->conflict[k], r->conflict[i]); k++)
			;
		if (k == t->nconflict)
			memcpy(t->conflict[t->nconflict++], r->conflict[i], sizeof(t->conflict[0]));
	}
	for (i = 0; i < r->nunrestored && t->nunrestored < APPLY_UNRESTORED_MAX; i++)
		memcpy(t->unrestored[t->nunrestored++], r->unrestored[i], sizeof(t->unrestored[0]));
	return r->keys_moved || r->stashed || r->keys_salvaged || r->restarted || r->forgotten ||
	       r->promoted ||
	       r->conflicts > r->conflicts_kept || r->superseded || r->undecided ||
	       r->deleted_since;
}

/* The slots a plan acts on (FIX and COVER), as a new slot map. */
static bool *
plan_slots(const struct plan *p)
{
	bool *v = xcalloc(CLUSTER_SLOTS, sizeof(bool));
	const int *slots;
	size_t i, k, n;

	for (i = 0; i < p->n; i++)
		for (k = 0, slots = action_slots(&p->v[i], &n); k < n; k++)
			v[slots[k]] = true;
	return v;
}

/* The same actions for the same reasons as the round before. */
static bool
same_plan(const struct plan *p, json_t *rounds)
{
	json_t *prev = json_array_get(rounds, json_array_size(rounds) - 1);
	json_t *now = plan_json(p);
	bool same = prev && json_equal(prev, now);

	json_decref(now);
	return same;
}

/* Per salvage source, what the last look says, for the outcome. */
static void
sources_outcome(const struct assessment *a, struct repair_outcome *res)
{
	size_t i;

	free(res->sources);
	res->sources = xcalloc(a->nsrc + 1, sizeof(*res->sources));
	res->nsources = a->nsrc;
	for (i = 0; i < a->nsrc; i++) {
		struct source_outcome *so = &res->sources[i];
		const struct asource *s = &a->src[i];

		snprintf(so->dir, sizeof(so->dir), "%s", s->dir);
		so->read = s->read;
		snprintf(so->error, sizeof(so->error), "%s", s->error);
		so->keys = s->keys;
		so->missing = s->read ? s->lacking_total : s->keys;
		so->backup = s->backup;
		if (s->host[0])
			snprintf(so->addr, sizeof(so->addr), "%s:%d", s->host, s->port);
	}
}

/* The verdict from an assessment and its plan: healthy, or what is left.
 * Other values set aside in the stash leave the cluster healthy: they
 * wait for a person (repair_outcome.decisions). */
static void
judge(const struct assessment *a, const struct plan *p, struct repair_outcome *res)
{
	const struct apply_result *t = &res->total;
	char why[256] = "";
	size_t i, len;
	int down = 0, unread = 0;
	long long missing = 0;

	for (i = 0; i < a->snap.n; i++)
		down += !a->nodes[i].reachable;
	for (i = 0; i < a->nsrc; i++) {
		unread += !a->src[i].read;
		missing += a->src[i].read ? a->src[i].lacking_total : 0;
	}
	res->healthy = p->n == 0 && p->nnotes == 0 && down == 0 &&
		       settled(a, why, sizeof(why)) && t->conflicts_kept == 0 &&
		       t->nunrestored == 0 && unread == 0 && missing == 0;
	res->decisions = t->conflicts - t->conflicts_kept + t->undecided;
	res->left[0] = '\0';
	if (!res->healthy)
		snprintf(res->left, sizeof(res->left),
			 "%zu actions still planned, %d nodes down, %lld conflicting keys left in "
			 "place%s%s%s%s%s%s", p->n, down, t->conflicts_kept,
			 t->conflicts_kept ? " (" : "", t->conflicts_kept ? t->conflict[0] : "",
			 t->conflicts_kept ? ")" : "", why[0] ? "; " : "", why,
			 p->nnotes ? "; " : "");
	if (!res->healthy && p->nnotes) {
		len = strlen(res->left);
		snprintf(res->left + len, sizeof(res->left) - len, "%s", p->notes[0]);
	}
	for (i = 0; i < (size_t)t->nunrestored; i++) {
		len = strlen(res->left);
		snprintf(res->left + len, sizeof(res->left) - len, "; not put back: %s",
			 t->unrestored[i]);
	}
	for (i = 0; i < a->nsrc; i++) {
		const struct asource *s = &a->src[i];

		len = strlen(res->left);
		if (!s->read)
			snprintf(res->left + len, sizeof(res->left) - len,
				 "; salvage source %s not read: %s", s->dir, s->error);
		else if (s->lacking_total)
			snprintf(res->left + len, sizeof(res->left) - len,
				 "; %lld keys of salvage source %s missing from the cluster",
				 s->lacking_total, s->dir);
	}
	sources_outcome(a, res);
	json_object_set_new(res->report, "after", plan_json(p));
}

/* An assessment (keys counted in `only`, NULL: everywhere) with every
 * salvage source's inventory against it, live replicas that may hold
 * keys no master has among them.  A source whose rescue server
 * stopped answering is not read any more: the plan says so. */
static int
look(const char *host, int port, const struct repair_opts *o, struct sources *src,
     const bool *only, struct assessment *a, struct err *e)
{
	struct err se = ERR_INIT;

	if (assess_take(a, host, port, o->timeout_ms, only, e) < 0)
		return -1;
	sources_add_replicas(src, a, o->timeout_ms);
	sources_inventory(src, a, &se); /* a failure is the source's, said by the plan */
	return 0;
}

/* A fresh assessment for the verdict, when the last one was followed by
 * changes.  A replica that stopped answering meanwhile (a full resync
 * after the keys the repair wrote overflowed its master's backlog, say)
 * is waited for, and the cluster looked at again, a few times. */
static int
verdict(const char *host, int port, const struct repair_opts *o, struct sources *src,
	struct repair_outcome *res, struct err *e)
{
	struct assessment a;
	struct plan p;
	char why[256];
	size_t i;
	int tries = 0;

	for (;;) {
		if (look(host, port, o, src, NULL, &a, e) < 0)
			return -1;
		for (i = 0; i < a.snap.n && !replica_coming(&a, i); i++)
			;
		if (i == a.snap.n || ++tries == VERDICT_TRIES)
			break;
		assess_release(&a);
		settle(host, port, o, why, sizeof(why));
	}
	plan_build(&a, o, &p);
	judge(&a, &p, res);
	plan_release(&p);
	assess_release(&a);
	return 0;
}

/* --from-backup: the sources of the user's own (o) and a source per
 * dead master of the backup, into ro; the backup kept in bk. */
static int
with_backup(const char *host, int port, const struct repair_opts *o, struct repair_opts *ro,
	    struct backup *bk, struct repair_outcome *res, struct err *e)
{
	struct salvage_src *bs, *all;
	size_t nb;

	if (o->from_backup == NULL)
		return 0;
	if (sources_from_backup(o->from_backup, host, port, o->timeout_ms, bk, &bs, &nb, e) < 0) {
		snprintf(res->left, sizeof(res->left), "%s", e->msg);
		return -1;
	}
	all = xcalloc(o->nsalvage + nb + 1, sizeof(*all));
	if (o->nsalvage)
		memcpy(all, o->salvage, o->nsalvage * sizeof(*all));
	memcpy(all + o->nsalvage, bs, nb * sizeof(*all));
	free(bs);
	ro->salvage = all;
	ro->nsalvage = o->nsalvage + nb;
	res->backup_time_ms = bk->time_ms;
	snprintf(res->backup_time, sizeof(res->backup_time), "%s", bk->time);
	return 0;
}

static void
backup_done(struct repair_opts *ro, const struct repair_opts *o, struct backup *bk)
{
	size_t i;

	for (i = o->nsalvage; ro->salvage != o->salvage && i < ro->nsalvage; i++)
		free((void *)ro->salvage[i].only);
	if (ro->salvage != o->salvage)
		free((void *)ro->salvage);
	ro->salvage = o->salvage;
	backup_release(bk);
}

int
repair_run(const char *host, int port, const struct repair_opts *o,
	   const struct repair_env *env, bool dry_run, FILE *out,
	   struct repair_outcome *res, struct err *e)
{
	json_t *rounds = json_array();
	struct apply_result r;
	struct assessment a;
	struct sources src;
	struct plan p;
	struct repair_opts ro = *o; /* restarts: once per run */
	struct repair_env own;
	struct served served = {0};
	struct backup bk = {0};
	bool progress = true, stop, judged = false, *touched = NULL, restarting = false;
	size_t i;
	int rc = 0;

	memset(res, 0, sizeof(*res));
	res->report = json_pack("{s:o}", "rounds", rounds);
	/* private servers read this cluster's files and payloads: of its
	 * own kind (a Valkey node's, Redis refuses), unless told */
	if (env->redis_server == NULL) {
		struct err se = ERR_INIT;

		own = *env;
		if (server_binary_at(host, port, o->timeout_ms > 0 ? o->timeout_ms : 2000,
				     &own.redis_server, &se) == 0)
			env = &own;
	}
	tell(env, "round", 1, ROUNDS_MAX);
	if (with_backup(host, port, o, &ro, &bk, res, e) < 0) {
		json_object_set_new(res->report, "result", repair_outcome_json(res));
		return -1;
	}
	if (ro.nsalvage)
		tell(env, "read sources", 0, 0);
	sources_open(&src, ro.salvage, ro.nsalvage, env->redis_server, o->timeout_ms);
	for (res->rounds = 0; res->rounds < ROUNDS_MAX; res->rounds++) {
		tell(env, "round", res->rounds + 1, ROUNDS_MAX);
		tell(env, "assess", 0, 0);
		audit_pause(env->audit);
		if (look(host, port, o, &src, touched, &a, e) < 0) {
			audit_resume(env->audit);
			free(touched);
			sources_close(&src);
			served_release(&served);
			backup_done(&ro, o, &bk);
			snprintf(res->left, sizeof(res->left), "%s", e ? e->msg : "no node answered");
			json_object_set_new(res->report, "result", repair_outcome_json(res));
			return -1;
		}
		plan_build(&a, &ro, &p);
		audit_resume(env->audit);
		/* who served each slot before anything changed (again after
		 * a restart: the node back serves its slots again) */
		if (touched == NULL && (!served.taken || restarting))
			served_take(&served, &a);
		if (out && (p.n || res->rounds == 0)) {
			tell(env, "plan", 0, 0);
			if (res->rounds)
				fprintf(out, "round %d:\n", res->rounds + 1);
			plan_print(&p, &a, out);
		}
		/* nothing to do, only a plan to show, or the last round
		 * changed nothing (this one would not either): this
		 * assessment is the verdict's */
		stop = dry_run || p.n == 0 ||
		       (res->rounds > 0 && same_plan(&p, rounds) && !progress);
		if (!stop || res->rounds == 0)
			json_array_append_new(rounds, plan_json(&p));
		if (stop) {
			if (touched == NULL) { /* a full look: the verdict's */
				judge(&a, &p, res);
				judged = true;
			}
			plan_release(&p);
			assess_release(&a);
			break;
		}
		rc = apply_plan(&a, &p, &ro, env, &src, &served, &r, e);
		progress = add_total(&res->total, &r);
		restarting = p.restart_first;
		/* what the first, full look found is in this plan: the next
		 * look counts keys only where it acted (after a restart, the
		 * node back may hold keys anywhere: a full look again) */
		free(touched);
		touched = p.restart_first ? NULL : plan_slots(&p);
		plan_release(&p);
		assess_release(&a);
		if (restarting) {
			/* a node that did not come back (or came back as another
			 * node, its files gone) is not restarted again: the next
			 * plan salvages it, gives it up, or says why not */
			ro.can_restart = false;
			ro.no_promote = true;
			if (rc < 0 && !(env->interrupted && *env->interrupted)) {
				audit_note(env->audit, "%s; going on without restarts", e->msg);
				if (out)
					fprintf(out, "restart failed: %s\n", e->msg);
				rc = 0;
				progress = true;
			}
		}
		if (rc < 0)
			break;
		if (env->interrupted && *env->interrupted) {
			rc = err_set(e, 0, "interrupted");
			break;
		}
		tell(env, "settle", 0, 0);
		settle_round(host, port, o, env, res);
	}
	free(touched);
	if (!judged)
		tell(env, "verdict", 0, 0);
	audit_pause(env->audit);
	if (!judged && verdict(host, port, &ro, &src, res, rc < 0 ? NULL : e) < 0 && rc == 0)
		rc = -1;
	audit_resume(env->audit);
	for (i = 0; i < res->nsources && i < src.n; i++) {
		res->sources[i].salvaged = src.v[i].moved.moved;
		res->sources[i].same = src.v[i].moved.same;
		res->sources[i].superseded = src.v[i].moved.superseded;
		res->sources[i].conflicts = src.v[i].moved.conflicts;
		res->sources[i].undecided = src.v[i].undecided;
		res->sources[i].deleted_since = src.v[i].deleted_since;
	}
	sources_close(&src);
	served_release(&served);
	backup_done(&ro, o, &bk);
	json_object_set_new(res->report, "result", repair_outcome_json(res));
	return rc;
}

void
repair_outcome_release(struct repair_outcome *res)
{
	json_decref(res->report);
	res->report = NULL;
	free(res->sources);
	res->sources = NULL;
	res->nsources = 0;
}
