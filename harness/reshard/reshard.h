/*
 * reshard.h - the migration driver: moves slots from one master to
 * another with the real protocol, reporting every step as it happens so
 * that a fault can be fired at an exact point of it.
 *
 * For each slot of the plan, in order:
 *   importing    target: CLUSTER SETSLOT s IMPORTING source
 *   migrating    source: CLUSTER SETSLOT s MIGRATING target
 *   keys         after each batch of CLUSTER GETKEYSINSLOT + MIGRATE ... KEYS
 *                (the event carries the keys moved so far in the slot)
 *   node-target  target: CLUSTER SETSLOT s NODE target
 *   node-source  source: CLUSTER SETSLOT s NODE target
 *   slot-done    every other master told too (SETSLOT NODE, best effort)
 *
 * The caller's `on_step` may ask for the next batch to stop at an exact
 * key count (`keys_until`), so that "after 50% of the keys of the 3rd
 * slot" is exact every time.  On an error the driver stops the way a
 * production tool does, leaving the slot where it was, and says where.
 */
#ifndef SQ_HARNESS_RESHARD_H
#define SQ_HARNESS_RESHARD_H

#include <stdbool.h>
#include <stddef.h>

#include "cluster/topology.h"
#include "common/err.h"

enum reshard_step {
	STEP_IMPORTING,
	STEP_MIGRATING,
	STEP_KEYS,
	STEP_NODE_TARGET,
	STEP_NODE_SOURCE,
	STEP_SLOT_DONE,
	STEP_COUNT_,
};

/* "importing", "node-target", ...: as written in scenario files. */
const char *reshard_step_name(enum reshard_step s);
/* The step named `name`, or -1. */
int reshard_step_parse(const char *name);

struct reshard_event {
	enum reshard_step step;
	int slot;
	int slot_index;        /* 1-based position of the slot in the plan */
	long long slot_keys;   /* keys the slot held on the source at its start
				  (counted only when keys_until is set) */
	long long slot_moved;  /* keys of this slot moved so far */
	long long total_moved; /* keys moved by the whole reshard so far */
};

#define RESHARD_UNKNOWN_EXAMPLES 5

struct reshard_progress {
	int slots_done;
	long long keys_moved;
	/* Keys of MIGRATEs whose outcome nobody knows: the MIGRATE failed
	 * with IOERR or timed out, so its RESTOREs may have landed on the
	 * target while the source kept its copies (measured after a cut and
	 * a heal: on both).  Not counted as moved; the first few named. */
	long long keys_unknown;
	char unknown[RESHARD_UNKNOWN_EXAMPLES][64];
	/* where the driver stopped on an error: the slot it was at, and the
	 * last step that slot reached (none when at_reached is false: it
	 * stopped before the slot's first step) */
	bool stopped;
	bool at_reached;
	struct reshard_event at;
};

struct reshard_hooks {
	/* After each step.  Returns 0 to go on, -1 to stop the reshard
	 * (it then fails with the hook's message in `e`). */
	int (*on_step)(void *arg, const struct reshard_event *ev, struct err *e);
	/* Before each batch: how many more keys of this slot may move before
	 * the next event must be reported; 0: report one now, before any
	 * more move; less than 0: no limit. */
	long long (*keys_until)(void *arg, int slot_index, long long slot_moved,
				long long slot_keys);
	void *arg;
};

struct reshard_opts {
	int pipeline;        /* keys per MIGRATE (default 10, as redis-cli) */
	int timeout_ms;      /* per command, and MIGRATE's own (default 5000) */
	bool replace;        /* MIGRATE ... REPLACE (redis-cli --cluster-replace) */
	int slots_per_round; /* slots moved together, each step pipelined for
				all of them (0 or 1: one at a time, as
				redis-cli; exact fault points need that) */
};

struct reshard_plan {
	char source[NODE_ID_LEN + 1];  /* every slot's, unless sources is set */
	char target[NODE_ID_LEN + 1];
	int *slots;
	size_t nslots;
	char (*sources)[NODE_ID_LEN + 1]; /* per slot (a rebalance), or NULL */
};

/* Fills plan->slots with the first `count` slots the source owns, as the
 * node at host:port sees it.  Free with reshard_plan_release(). */
int reshard_plan_count(struct reshard_plan *plan, const char *host, int port,
		       int count, struct err *e);
/* Fills plan->slots from a list such as "0-99,200,300-310", in that
 * order; every slot must be the source's. */
int reshard_plan_list(struct reshard_plan *plan, const char *host, int port,
		      const char *list, struct err *e);
/* The parsing alone: a new array of slots (free() it) and its length.
 * "slot 5 appears twice", "bad slot list 'x' at 'x': expected ...". */
int reshard_slot_list_parse(const char *list, int **slots, size_t *n, struct err *e);
/* A rebalance to plan->target (set by the caller): every master serving
 * slots gives its excess over an even share of the masters serving slots
 * plus the target, highest slots first; per-slot sources.  (rebalance.c) */
int reshard_plan_rebalance(struct reshard_plan *plan, const char *host, int port,
			   struct err *e);
/* The arithmetic of it: give[i] slots from each of n masters owning
 * owned[i], to master `target` (give[target] = 0). */
void reshard_rebalance_shares(const int *owned, size_t n, size_t target, int *give);
void reshard_plan_release(struct reshard_plan *plan);

/* Runs the plan against the cluster reachable at host:port.  Returns 0
 * when every slot moved; -1 with `e` saying where it stopped (also in
 * `progress->at`). */
int reshard_run(const struct reshard_plan *plan, const char *host, int port,
		const struct reshard_opts *o, const struct reshard_hooks *h,
		struct reshard_progress *progress, struct err *e);

#endif
