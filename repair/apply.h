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
 *  hold     the final owner of each slot it does not claim yet imports
 *           it (from the slot's owner in its view; a slot nobody owns
 *           there is first assigned to a peer, as RESTORE-ASKING needs an
 *           owner): it takes keys by MIGRATE, but no client can write the
 *           slot before every key is back, so nothing a client writes
 *           races with the keys coming home;
 *  check    no reachable master but the final owner claims a slot;
 *  move     keys to the owner (move.c: never over a different value; the
 *           holder's value superseded where the owner served the slot's
 *           clients: served.h);
 *  close    the slots the owners served already: STABLE where a state
 *           was open, and every reachable master told the owner;
 *  salvage  every source's keys the cluster lacks, from their files, to
 *           the final owner, and the others compared (salvage.c); one
 *           that fails is said, and the phases after still run;
 *  claim    the held slots: each final owner takes them (SETSLOT NODE
 *           itself, which bumps its epoch, then BUMPEPOCH: its claim wins
 *           over any other, dead nodes' included); how long each owner's
 *           slots refused clients is measured (apply_result.held);
 *  close    the held slots, as above;
 *  forget   dead nodes forgotten by every reachable node at once (within
 *           the 60 s ban of CLUSTER FORGET), but a node whose files could
 *           not be salvaged.
 * Restarts and promotions, when the plan is those, are all it does: the
 * caller assesses again.  The first failed command (or a signal) stops it with
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
	 * units (keys; total 0: none to count); "hold" and "check" come
	 * after "protect", "claim" after "salvage"; "plan" just before a plan
	 * is printed. */
	void (*progress)(void *arg, const char *phase, long long done, long long total);
	void *progress_arg;
};

#define APPLY_UNRESTORED_MAX 8
#define APPLY_HELD_MAX 16

/* Slots a final owner held (imported, refusing clients) until the keys
 * coming to them were back, and for how long. */
struct held_window {
	char owner[64];       /* "127.0.0.1:7001" */
	char slots[256];      /* "5461-10922" (slotset.h) */
	int nslots;
	long long ms;
	bool served;          /* Valkey: clients served meanwhile through the
				 slot's claimant, as in a live migration
				 (repair/anchor.c), not refused */
};

struct apply_result {
	long long keys_moved;      /* to their slot's owner */
	long long keys_same;       /* of which already there, same value */
	long long keys_salvaged;   /* copied from salvage sources' files */
	long long salvage_same;    /* already in the cluster, the same value */
	long long conflicts;       /* another value on the owner: this copy set
				      aside in the stash, or kept (below) */
	long long conflicts_kept;  /* of those, left where they were: the stash
				      could not take them */
	long long superseded;      /* other values older by construction than
				      the cluster's (served.h): set aside in
				      the stash, no decision waits on them */
	long long undecided;       /* files' keys a successor lacks, not restored:
				      set aside in the stash, a decision waits
				      (successor.h) */
	long long deleted_since;   /* files' keys a successor that saw them lacks:
				      set aside in the stash, no decision */
	char conflict[MOVE_CONFLICTS_MAX][200]; /* "sq:7 (slot 7, owner ..., from ...)" */
	int nconflict;
	int restarted, forgotten, promoted;
	long long stashed;         /* equal duplicates taken off non-owners */
	char stash[PATH_MAX];      /* and kept in this file ("" when none),
				      with the conflicts (databases 1-15) */
	/* what this repair changed and could not put back, for a person */
	char unrestored[APPLY_UNRESTORED_MAX][256];
	int nunrestored;
	struct held_window held[APPLY_HELD_MAX];
	int nheld;
};

struct sources;
struct served;

/* Applies the plan built from `a`; `src` holds the salvage sources the
 * plan's SALVAGE actions name (a->src[k] is src->v[k]); `served` says who
 * served each slot at the repair's first look. */
int apply_plan(const struct assessment *a, const struct plan *p, const struct repair_opts *o,
	       const struct repair_env *env, struct sources *src, const struct served *served,
	       struct apply_result *res, struct err *e);

#endif
