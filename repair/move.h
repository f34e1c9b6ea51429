/*
 * move.h - moving every key of one slot from a node that must not keep
 * them to the slot's owner, without ever overwriting a different value.
 *
 * The source must be able to run MIGRATE for the slot (it owns it, or has
 * it IMPORTING and assigned to someone); the destination must accept
 * RESTORE-ASKING (it owns the slot, or imports it).  Keys go in batches
 * of MIGRATE ... KEYS.  A multi-key MIGRATE is not atomic, so after any
 * error every remaining key is taken alone: when the destination has it
 * already, both DUMP payloads are compared (DEBUG DIGEST-VALUE is off on
 * a default server) with their TTLs; an equal duplicate goes to the
 * stash (stash.h), never over the owner's copy; a different one is a
 * conflict: reported, and left on the source.
 */
#ifndef SQ_REPAIR_MOVE_H
#define SQ_REPAIR_MOVE_H

#include <stdbool.h>

#include "cluster/conn.h"
#include "common/err.h"
#include "repair/stash.h"

#define MOVE_CONFLICTS_MAX 8

struct move_result {
	long long moved;       /* keys now on the destination only */
	long long same;        /* already there with the same value and life */
	long long stashed;     /* of those, the duplicates moved to the stash */
	long long conflicts;   /* left on the source: different value there */
	char conflict[MOVE_CONFLICTS_MAX][128]; /* the first ones' names */
};

/* Moves the given keys (MIGRATE ... KEYS, then one by one after an
 * error), setting conflicted[i] for keys left on the source because the
 * destination has another value.  Adds to r. */
int move_keys(struct conn *src, struct conn *dst, struct reply *const *keys, size_t n,
	      int timeout_ms, struct stash *stash, bool *conflicted, struct move_result *r,
	      struct err *e);

/* The fast first pass over many slots of one source: GETKEYSINSLOT for
 * every slot in one pipeline, then one MIGRATE each (to dsts[i]) in
 * another.  done[i] says slot i has nothing left; the others (more keys,
 * or an error such as BUSYKEY) need move_slot_keys().  Adds to r. */
int move_slots_first_pass(struct conn *src, struct conn *const *dsts, const int *slots,
			  size_t n, int timeout_ms, bool *done, struct move_result *r,
			  struct err *e);

/* Moves the slot's keys from `src` to `dst` (whose address MIGRATE is
 * given).  -1 with `e` on a failure other than a conflict. */
int move_slot_keys(struct conn *src, struct conn *dst, int slot, int timeout_ms,
		   struct stash *stash, struct move_result *r, struct err *e);

#endif
