/*
 * checks.h - the invariants of a healthy cluster, each a pure function
 * of a snapshot that fills one finding class of a verdict.
 */
#ifndef SQ_VERIFIER_CHECKS_H
#define SQ_VERIFIER_CHECKS_H

#include "cluster/snapshot.h"
#include "verifier/verify.h"

/* Every slot has an owner in the reference view ("All 16384 slots covered"). */
void check_slots_covered(const struct snapshot *s, struct verdict *v, int max);
/* Every owned slot's owner is reachable and not flagged failed. */
void check_slots_served(const struct snapshot *s, struct verdict *v, int max);
/* Every reachable node names the same owner for every slot. */
void check_slots_agree(const struct snapshot *s, struct verdict *v, int max);
/* No reachable node has a slot migrating or importing. */
void check_open_slots(const struct snapshot *s, struct verdict *v, int max);
/* Every reachable node says cluster_state:ok. */
void check_cluster_state(const struct snapshot *s, struct verdict *v, int max);
/* No reachable node flags another fail, fail? or noaddr. */
void check_failed_nodes(const struct snapshot *s, struct verdict *v, int max);
/* Every node named anywhere answered. */
void check_reachable(const struct snapshot *s, struct verdict *v, int max);

/* All of the above. */
void checks_run(const struct snapshot *s, struct verdict *v, int max);

/* True when the node is reachable and no reachable node flags it failed. */
bool snapshot_node_is_up(const struct snapshot *s, int idx);

#endif
