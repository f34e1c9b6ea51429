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
 * conflict: set aside in the stash for a person to decide, or, when the
 * stash has no room for it (or there is none), left on the source.
 *
 * Under live traffic a different value is not always a question: where
 * the caller knows the destination's value is newer by construction
 * (mo->newer: the destination served the slot's clients while the
 * source did not), the source's value is *superseded*: set aside in the
 * stash all the same, counted apart, and no decision waits on it.  Where
 * the source's value is the newer one (mo->older: the source served the
 * slot, the destination only holds it and serves nobody), the
 * destination's value is the superseded one: it goes to the stash, and
 * the source's takes its place.
 *
 * Where the caller knows the order of two values of a key (mo->order: a
 * scenario's writers number their writes) and the source keeps its copy,
 * the later write stays: the source's earlier one is superseded; or the
 * destination's earlier one is copied to the stash and replaced by the
 * source's in one script, only while it is unchanged (clients may write
 * it; a write meanwhile is later than both).
 */
#ifndef SQ_REPAIR_MOVE_H
#define SQ_REPAIR_MOVE_H

#include <signal.h>
#include <stdbool.h>

#include "cluster/conn.h"
#include "common/err.h"
#include "repair/stash.h"

#define MOVE_CONFLICTS_MAX 8

/* What the caller knows of the order of two values of one key: cmp() is
 * > 0 when `a` was written after `b`, < 0 before, 0 when it cannot tell
 * (a scenario's writers' values carry their write numbers). */
struct value_order {
	int (*cmp)(void *arg, const char *key, size_t klen, const char *a, size_t alen,
		   const char *b, size_t blen);
	void *arg;
};

struct move_opts {
	int timeout_ms;
	struct stash *stash;  /* where copies go; NULL: they stay on the source */
	bool copy;            /* MIGRATE ... COPY: the source keeps every key
				 (a salvage's rescue copy); its duplicates
				 are not stashed, its conflicts are copied */
	const char *from;     /* the source in conflicts.txt; NULL: its address */
	const bool *newer;    /* per slot: the destination's values are newer by
				 construction than the source's; NULL: none */
	const bool *older;    /* per slot: the destination's values are older by
				 construction than the source's; NULL: none */
	const bool *held;     /* per slot: the destination only imports it and
				 the source is not in cluster mode (a rescue
				 server), whose MIGRATE sends a plain RESTORE
				 the destination refuses: keys go by DUMP,
				 then ASKING and RESTORE; NULL: none */
	bool dump;            /* the source runs no MIGRATE (a replica: a write):
				 every key goes by DUMP, then ASKING and
				 RESTORE; conflicts to the stash the same way */
	volatile sig_atomic_t *interrupted; /* long passes stop when set; NULL */
	const struct value_order *order; /* where the source keeps its copy (copy,
				 dump): two values of a key it orders are
				 not a conflict; NULL: none */
	bool never_deleted;   /* salvage: clients never delete keys (a scenario's
				 own workload): a key a successor of the files'
				 node lacks was never received (or lost since
				 otherwise), and is restored (successor.h) */
};

struct move_result {
	long long moved;       /* keys now on the destination (only, unless copy) */
	long long same;        /* already there with the same value and life */
	long long stashed;     /* of those, the duplicates moved to the stash */
	long long conflicts;   /* another value there: set aside or kept */
	long long kept;        /* of those, left on the source */
	long long superseded;  /* another, newer value there: this one set
				  aside in the stash (not a conflict) */
	char conflict[MOVE_CONFLICTS_MAX][128]; /* the first ones' names */
	int nconflict;
};

/* Moves the given keys (MIGRATE ... KEYS, then one by one after an
 * error; all of held slots, or none: DUMP and RESTORE), setting kept[i]
 * for keys left on the source because the destination has another value
 * and the stash could not take this one.  Adds to r. */
int move_keys(struct conn *src, struct conn *dst, struct reply *const *keys, size_t n,
	      const struct move_opts *mo, bool *kept, struct move_result *r, struct err *e);

/* Keys the destination has already (an EXISTS said so): each compared,
 * DUMP and PTTL on both sides; an equal one changes nothing (a
 * duplicate, stashed unless mo->copy), another is a conflict (set
 * aside).  Adds to r. */
int move_compare(struct conn *src, struct conn *dst, struct reply *const *keys, size_t n,
		 const struct move_opts *mo, struct move_result *r, struct err *e);

/* The fast first pass over many slots of one source: GETKEYSINSLOT for
 * every slot in one pipeline, then one MIGRATE each (to dsts[i]) in
 * another.  done[i] says slot i has nothing left; the others (more keys,
 * or an error such as BUSYKEY) need move_slot_keys().  Adds to r. */
int move_slots_first_pass(struct conn *src, struct conn *const *dsts, const int *slots,
			  size_t n, int timeout_ms, bool *done, struct move_result *r,
			  struct err *e);

/* Moves the slot's keys from `src` to `dst` (whose address MIGRATE is
 * given); r is reset first.  -1 with `e` on a failure other than a
 * conflict. */
int move_slot_keys(struct conn *src, struct conn *dst, int slot, const struct move_opts *mo,
		   struct move_result *r, struct err *e);

#endif
