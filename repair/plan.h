/*
 * plan.h - the repair plan: an ordered list of actions, each with its
 * reason in plain words, built from an assessment by pure code (no
 * network), so that --dry-run shows exactly what apply would do.
 *
 * Every slot ends with one owner F that every reachable node names:
 *  - a migration whose source and target both still have it open is
 *    finished forward (F = the target), as redis-cli does;
 *  - otherwise F is the one reachable master claiming the slot, or of
 *    several the one with the highest config epoch (the one gossip would
 *    pick), or, when nobody reachable claims it, the reachable node
 *    holding most of its keys;
 *  - the slots of a master that is down are given away only when its keys
 *    are recovered (a salvage source of its files was read) or
 *    --allow-data-loss says they may be lost; a restartable node is
 *    restarted instead, and the cluster assessed again; a dead master
 *    that serves slots and has a replica that answers has that replica
 *    promoted first (it holds the keys it replicated), as Redis's own
 *    failover would, and the cluster assessed again -- only when the
 *    user allows it (repair_opts.allow_failover: a promotion changes who
 *    serves the slots, which a person may want to decide); otherwise the
 *    plan says, in a note, what it would promote and why, and goes on as
 *    if there were no replica.
 * Every other reachable holder of keys of the slot has them moved to F;
 * keys on both sides with different values are a conflict, the other
 * value set aside in the stash.  Every salvage source the user names is
 * read, whether the cluster still knows its node or not: what its files
 * hold that the cluster lacks goes to the owners (plan_sources.c).  What
 * the plan sees of the manual steps taken before it (a forget, a fix, a
 * forget on some nodes only) is said in `seen`.
 */
#ifndef SQ_REPAIR_PLAN_H
#define SQ_REPAIR_PLAN_H

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>

#include "repair/assess.h"
#include "repair/move.h"

enum action_kind {
	ACT_RESTART,  /* node: start it again from its own files */
	ACT_FIX,      /* slot: F its only owner, others' keys moved to F, states closed */
	ACT_COVER,    /* slots nobody reachable serves, no keys anywhere: given to F */
	ACT_SALVAGE,  /* src: the keys of its files the cluster lacks copied to their
			 owners, the others compared; node: whose files (-1: none known) */
	ACT_FORGET,   /* node: forgotten by every reachable node */
	ACT_PROMOTE,  /* node: a replica of a dead master (from) that serves slots,
			 made master (CLUSTER FAILOVER TAKEOVER); assess again after */
	ACT_STABLE,   /* slot: open in the own view of replica `from` while its
			 primary (node) has it stable: SETSLOT slot STABLE on the
			 primary, which Valkey 8 passes on to its replicas */
};

struct action {
	enum action_kind kind;
	int node;            /* FIX, COVER: F; the others: the node acted on */
	int slot;            /* FIX */
	int *slots;          /* COVER: the slots, ascending */
	size_t nslots;
	int from;            /* FIX, COVER: the dead owner whose slots these are, or -1 */
	long long keys;      /* FIX: keys to move to F */
	bool forward;        /* FIX: finishing a migration */
	bool data_loss;      /* the dead owner's keys of these slots are lost */
	int src;             /* SALVAGE: index in a->src */
	char reason[1024];
};

/* A salvage source as the user names it: --salvage ADDR=DIR, or DIR
 * alone (host "", port 0: DIR's nodes.conf says whose files they are). */
struct salvage_src {
	char host[64];
	int port;
	char dir[PATH_MAX];  /* the node's data directory */
	/* A master's RDB in a backup (cluster/backup.h) instead: who it was
	 * comes from backup.json, not a nodes.conf; its values are older than
	 * any the cluster has now (a different one there is superseded, never
	 * a conflict). */
	bool backup;
	char id[NODE_ID_LEN + 1];
	const struct slot_range *ranges;  /* the slots it served at the backup */
	size_t nranges;
	const bool *only;    /* per slot: only keys of these slots are read
				(a live master's backup: the slots it gave
				away or has open since); NULL: all */
};

struct repair_opts {
	bool allow_data_loss;
	bool can_restart;            /* a way to restart dead nodes exists */
	const struct salvage_src *salvage;
	size_t nsalvage;
	int timeout_ms;              /* per command (default 2000) */
	const char *from_backup;     /* a backup's directory: each of its masters
					that is dead now (no reachable node has
					its id) is a salvage source of its RDB */
	bool allow_failover;         /* a dead master's live replica may be
					promoted (CLUSTER FAILOVER TAKEOVER):
					--failover, [repair] failover = yes */
	bool no_promote;             /* promotions were tried: not again */
	const struct value_order *order; /* the order of two values of a key, where
					the caller knows it (a scenario's ledger):
					a salvage keeps the later write (move.h);
					NULL: none */
	bool never_deleted;          /* clients never delete keys (a scenario's own
					workload): a key a promoted replica lacks
					and its dead master's files hold was a
					write it never received (successor.h) */
};

struct plan {
	struct action *v;
	size_t n;
	char (*notes)[1024];         /* what is left alone, and why */
	size_t nnotes;
	char (*seen)[1024];          /* what the sources hold, and what the views
					say of manual steps taken before */
	size_t nseen;
	long long keys_lost;         /* known lost keys (-1: unknown) */
	bool restart_first;          /* the plan is restarts or promotions: nodes
					change roles; assess again after */
};

/* Builds the plan.  Never fails: what cannot be done becomes a note. */
void plan_build(const struct assessment *a, const struct repair_opts *o, struct plan *p);
void plan_release(struct plan *p);
/* "seen: ..." lines, then "1. fix slot 7: ..." one line per action,
 * then the notes. */
void plan_print(const struct plan *p, const struct assessment *a, FILE *f);
const char *action_kind_name(enum action_kind k);
/* The slots a FIX or COVER action gives its final owner, and how many
 * (none for the other kinds). */
const int *action_slots(const struct action *x, size_t *n);

#endif
