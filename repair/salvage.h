/*
 * salvage.h - the keys of a dead node, recovered from its files.
 *
 * The node's AOF directory (or, without one, its RDB file) is copied to
 * a private temporary directory (the dead node's files are never
 * touched), a rescue redis-server is started on the copy on loopback,
 * not in cluster mode, and every key it loaded is moved with MIGRATE to
 * the current owner of its slot (move.c: never over a different value).
 * The rescue server and its directory are gone afterwards.
 */
#ifndef SQ_REPAIR_SALVAGE_H
#define SQ_REPAIR_SALVAGE_H

#include "repair/assess.h"
#include "repair/move.h"
#include "repair/plan.h"

/* Moves every key in src->dir to its slot's owner, as the reachable
 * nodes of `a` now see it.  *moved counts the keys moved.  Conflicts and
 * keys of slots nobody owns stay behind and fail the salvage. */
int salvage_node(const struct salvage_src *src, const struct assessment *a,
		 const char *redis_server, int timeout_ms, long long *moved, struct err *e);

#endif
