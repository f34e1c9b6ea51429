/*
 * stale.h - whether a replica is too stale to fail over, by the rule
 * Redis 7.0 and Valkey 8 apply before a replica starts an election
 * (clusterHandleSlaveFailover in cluster.c / cluster_legacy.c).
 *
 * Its data age -- since it last heard from its master while the link is
 * up, since it noticed the link down otherwise, in whole seconds -- less
 * the node timeout, may not pass repl-ping-replica-period s +
 * cluster-node-timeout ms x cluster-replica-validity-factor (0: no
 * limit).  Past it with the link down, it stays past it while its master
 * is dead: the age only grows.  With the link still looking up (a cut
 * link: no reset came through) nothing is said: when that link breaks,
 * both servers count the age again from then.
 */
#ifndef SQ_CLUSTER_STALE_H
#define SQ_CLUSTER_STALE_H

#include <stdbool.h>
#include <stddef.h>

#include "cluster/conn.h"

/* True, with the facts in `why`, when the replica behind c will never
 * start an election for its master as things are; false when it may, or
 * cannot be asked. */
bool replica_too_stale(struct conn *c, char *why, size_t n);

#endif
