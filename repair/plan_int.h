/*
 * plan_int.h - what the planner's files share: plan.c (one final owner
 * per slot), plan_nodes.c (nodes that are down) and plan_sources.c
 * (salvage sources, and what the plan sees of manual steps).  Not for
 * callers; see plan.h.
 */
#ifndef SQ_REPAIR_PLAN_INT_H
#define SQ_REPAIR_PLAN_INT_H

#include "repair/plan.h"

/* A new action at the end of the plan, zeroed but for kind and node. */
struct action *plan_add(struct plan *p, enum action_kind k, int node);
/* A note (what is left alone, and why) / a line of what the plan sees. */
void plan_note(struct plan *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void plan_saw(struct plan *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A node that is down and whose slots may be given away: the reachable
 * nodes flag it failed (a node that only did not answer us may be alive:
 * paused, or slow), and its keys are in a source that was read, or the
 * user accepts losing them. */
bool plan_given_up(const struct assessment *a, const struct repair_opts *o, int i);

/* What a node that is down and kept still holds the cluster to. */
struct kept {
	bool *owned;   /* slots it serves in some reachable node's view */
	bool *open;    /* slots a live master has migrating to / importing from it */
	int nowned, nopen;
};
void kept_add(struct kept *k, int slot, bool open);
void kept_release(struct kept *k);

/* plan_nodes.c: every node that is down restarted; else, per node that
 * is down, a note when it is kept, or its forget. */
void plan_restarts(const struct assessment *a, struct plan *p);
/* A slot a reachable replica has open in its own view while its live
 * primary has it stable (Valkey 8 replicates SETSLOT, and a replica
 * paused when its primary refused one with NOREPLICAS applies it later):
 * ACT_STABLE on the primary where the server passes it on (a->valkey_major
 * >= 8), a note where it does not (Redis 7.0 takes no SETSLOT on a
 * replica, and a primary's is not replicated). */
void plan_replica_states(const struct assessment *a, struct plan *p);
/* A replica that answers promoted for each dead master that serves slots
 * (flagged failed by the reachable nodes), when o->allow_failover; else
 * a note per such master saying which replica it would promote, and
 * how to allow it. */
void plan_promotions(const struct assessment *a, const struct repair_opts *o, struct plan *p);
void plan_down_nodes(const struct assessment *a, const struct repair_opts *o, struct plan *p,
		     const struct kept *kept);

/* plan_sources.c: a salvage action per source with keys to bring back
 * or to compare, a note per source that could not be read, and a line
 * per source of what it holds where; then what the views say of the
 * manual steps taken before (a forget, a fix, a forget on some nodes
 * only).  owners[i]: node i's view of the owners (NULL: not reachable). */
void plan_sources(const struct assessment *a, struct plan *p);
void plan_seen(const struct assessment *a, int *const *owners, struct plan *p);
/* "DIR (127.0.0.1:7002, 2aa1b8ea, which is down)" into buf. */
const char *plan_source_name(const struct assessment *a, const struct asource *s, char *buf,
			     size_t n);
/* Keys the sources hold in these slots (ascending), and which source
 * holds most: for a cover's reason. */
long long plan_source_keys_in(const struct assessment *a, const int *slots, size_t n, int *top);

#endif
