/*
 * apply.h - carrying out a repair plan, in phases over all its actions:
 *
 *  relax    every reachable master: cluster-require-full-coverage no (a
 *           node in cluster_state:fail refuses MIGRATE and RESTORE-ASKING)
 *           and cluster-allow-replica-migration no (a master giving away
 *           its last slot would become a replica and lose every key it
 *           still holds); both put back at the end, also on failure;
 *  protect  every node holding keys of a slot it will not own stops
 *           claiming it (DELSLOTS keeps the keys), names the final owner,
 *           and imports the slot from it: a node that imports a slot never
 *           deletes its keys when a higher epoch claims it, and can MIGRATE
 *           them;
 *  claim    the final owner takes each slot (IMPORTING + NODE itself,
 *           which bumps its epoch), then BUMPEPOCH: its claim now wins over
 *           any other, dead nodes' included;
 *  move     keys to the owner (move.c: never over a different value);
 *  close    STABLE where a state was open, and every reachable master
 *           told the owner (SETSLOT NODE);
 *  salvage  every source's keys the cluster lacks, from their files, and
 *           the others compared (salvage.c);
 *  forget   dead nodes forgotten by every reachable node at once (within
 *           the 60 s ban of CLUSTER FORGET).
 * Restarts, when the plan is restarts, are all it does: the caller
 * assesses again.  The first failed command (or a signal) stops it with
 * its reason; either way, what relax and the claim phases opened is put
 * back (restore.c) before it returns.
 */
#ifndef SQ_REPAIR_APPLY_H
#define SQ_REPAIR_APPLY_H

#include <signal.h>

#include "repair/audit.h"
#include "repair/move.h"
#include "repair/plan.h"

struct repair_env {
	/* Starts a dead node again from its own files; NULL: no way to. */
	int (*restart)(void *arg, const char *host, int port, const char *id, struct err *e);
	void *restart_arg;
	struct audit *audit;
	const char *redis_server;  /* for salvage; NULL: on PATH */
	const char *stash_dir;     /* where kept duplicates go; NULL: $TMPDIR */
	const char *local_host;    /* an address of this machine the cluster's
				      nodes reach, where the stash listens
				      (they MIGRATE into it); NULL: 127.0.0.1 */
	volatile sig_atomic_t *interrupted; /* set by a signal handler: stop at the next
				      step, putting back what it changed */
	/* Optional: how the repair goes, for people, from the thread that
	 * runs it: "round" (done: its number), then the phases ("assess",
	 * "relax", "protect", "claim", "move", "close", "salvage", "forget",
	 * "restore", "settle", "verdict"), each with `done` of `total`
	 * units (keys; total 0: none to count); "plan" just before a plan
	 * is printed. */
	void (*progress)(void *arg, const char *phase, long long done, long long total);
	void *progress_arg;
};

#define APPLY_UNRESTORED_MAX 8

struct apply_result {
	long long keys_moved;      /* to their slot's owner */
	long long keys_same;       /* of which already there, same value */
	long long keys_salvaged;   /* copied from salvage sources' files */
	long long salvage_same;    /* already in the cluster, the same value */
	long long conflicts;       /* another value on the owner: this copy set
				      aside in the stash, or kept (below) */
	long long conflicts_kept;  /* of those, left where they were: the stash
				      could not take them */
	char conflict[MOVE_CONFLICTS_MAX][200]; /* "sq:7 (slot 7, owner ..., from ...)" */
	int nconflict;
	int restarted, forgotten;
	long long stashed;         /* equal duplicates taken off non-owners */
	char stash[PATH_MAX];      /* and kept in this file ("" when none),
				      with the conflicts (databases 1-15) */
	/* what this repair changed and could not put back, for a person */
	char unrestored[APPLY_UNRESTORED_MAX][256];
	int nunrestored;
};

struct sources;

/* Applies the plan built from `a`; `src` holds the salvage sources the
 * plan's SALVAGE actions name (a->src[k] is src->v[k]). */
int apply_plan(const struct assessment *a, const struct plan *p, const struct repair_opts *o,
	       const struct repair_env *env, struct sources *src, struct apply_result *res,
	       struct err *e);

#endif
