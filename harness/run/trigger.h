/*
 * trigger.h - armed faults of a scenario run: which node each targets,
 * when each fires, and firing them at the reshard's steps.
 */
#ifndef SQ_HARNESS_TRIGGER_H
#define SQ_HARNESS_TRIGGER_H

#include <signal.h>

#include "harness/local/localcluster.h"
#include "harness/reshard/reshard.h"
#include "harness/scenario/scenario.h"
#include "harness/run/timeline.h"

struct trigger_set;

struct armed {
	struct trigger_set *set;
	const struct fault_spec *spec;
	struct fault *fault;
	int node;             /* index into the cluster's nodes */
	struct target target;
	bool fired;
	struct reshard_event at; /* reshard progress when it fired */
	uint64_t fired_ms;
	char effect[256];     /* what inject() observed, or why it failed */
	struct evidence evidence; /* the same as named values, when the kind has them */
	bool failed;
	bool healed;          /* revert() ran at the scenario's heal point */
	char tag[32];         /* target.tag */
};

struct trigger_set {
	struct armed *v;
	size_t n;
	struct local_cluster *lc;
	const struct scenario *s;
	struct timeline *tl;
	uint64_t reshard_t0_ms;
	volatile sig_atomic_t *interrupted; /* set by SIGINT/SIGTERM */
};

/* Builds one armed fault per [fault] of the scenario, each aimed at its
 * node by the cluster's layout; called before the cluster starts (`lc`
 * is where it will be).  -1 with `e` when a role names no node. */
int trigger_arm(struct trigger_set *ts, const struct scenario *s,
		struct local_cluster *lc, struct err *e);
/* Asks each fault kind whether this machine can do it; -1 with `e`
 * saying what is missing (the scenario is then skipped). */
int trigger_check(const struct trigger_set *ts, struct err *e);
/* The cluster's before_start hook (arg: the set): aims the node's
 * faults at it, runs their prepare() and sets their in_child(). */
int trigger_before_start(void *arg, struct local_node *n, struct err *e);
/* Points every fault at its node again after lc->nodes moved (a master
 * added). */
void trigger_retarget(struct trigger_set *ts);
/* Reverts the fired faults whose heal point is `when` (enum fault_heal),
 * once each; the timeline says how it went.  Returns how many. */
int trigger_heal(struct trigger_set *ts, int when);
/* Reverts every fault, whatever its heal point: at the end of a run,
 * before the nodes (and their namespaces) go. */
void trigger_heal_all(struct trigger_set *ts);
/* Asks each fired fault again what it did (an OOM kill or failed writes
 * come after the firing), updating `effect`. */
void trigger_observe(struct trigger_set *ts);
/* Reverts, releases and frees every fault.  Call once the nodes are
 * stopped.  Safe to call twice. */
void trigger_disarm(struct trigger_set *ts);

/* The reshard hooks for this set. */
struct reshard_hooks trigger_hooks(struct trigger_set *ts);

#endif
