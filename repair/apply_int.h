/*
 * apply_int.h - what the applier's phases share: apply.c (the order of
 * the phases, settings, moves, closing, forgetting) and claim.c (who
 * claims each slot).  Not for callers; see apply.h.
 */
#ifndef SQ_REPAIR_APPLY_INT_H
#define SQ_REPAIR_APPLY_INT_H

#include <stdint.h>

#include "cluster/conn.h"
#include "repair/apply.h"
#include "repair/source.h"
#include "repair/served.h"
#include "repair/stash.h"

/* One repair being applied. */
/* anchor.c: on Valkey 8, what each slot's imports come from (see there). */
enum anchor_kind { ANCHOR_NONE, ANCHOR_KEEP, ANCHOR_DOWN, ANCHOR_SELF };
struct anchor {
	enum anchor_kind kind;
	int node;                   /* KEEP: the claimant; SELF: the owner */
	const char *id;             /* whom to import from */
	char id_buf[NODE_ID_LEN + 1];
};

struct applier {
	const struct assessment *a;
	const struct plan *p;
	const struct repair_opts *o;
	const struct repair_env *env;
	struct apply_result *res;
	struct sources *sources;
	const struct served *served;
	int *final;                 /* per slot: the final owner of an action's
				       slot (node index), else -1 */
	bool *held;                 /* per slot: held by its final owner until
				       the keys are back (claim_hold) */
	uint64_t *held_since;       /* per node: when its hold began (0: none) */
	bool *unsalvaged;           /* per node: its source failed: not forgotten */
	struct conn **c;            /* per node, opened when first needed */
	struct stash stash;         /* verified duplicates, kept */
	char (*saved)[2][16];       /* per node: the two settings relax changed */
	bool *relaxed;
	struct opened {             /* IMPORTING states this repair opened */
		int node, slot;
	} *opened;
	size_t nopened;
	struct opened *bound;       /* slots the hold assigned to a peer in the
				       final owner's view (undone on failure) */
	size_t nbound;
	struct anchor *anchor;      /* per slot on Valkey 8, else NULL */
	long long move_total;       /* keys the FIX actions move */
	const char *phase;          /* the last one told */
};

/* Commands queued on one connection, then every reply read; the first
 * error reply fails the batch (after all replies are read). */
struct batch {
	struct conn *c;
	size_t n;
};

/* The connection to node i, opened (or reopened) when first needed. */
struct conn *apply_conn(struct applier *ap, int i, struct err *e);
/* Queues a command of up to five words (NULL ends it early). */
void batch_queue(struct batch *b, const char *a0, const char *a1, const char *a2,
		 const char *a3, const char *a4);
/* Sends what is queued and reads every reply; the first error reply
 * fails (an "Unknown node" one not, with tolerate_unknown). */
int batch_run(struct batch *b, bool tolerate_unknown, struct err *e);
void apply_num(char *buf, size_t n, int v);
/* Tells env->progress (when set) and, for a new phase, the audit. */
void apply_progress(struct applier *ap, const char *phase, long long done, long long total);
/* True (with `e` said) once a signal asked the repair to stop. */
bool apply_stopping(const struct applier *ap, struct err *e);

/* apply_nodes.c: every ACT_RESTART and ACT_PROMOTE of the plan, in its
 * order (the first failure stops them); node d forgotten by every
 * reachable node (unless its salvage failed: then kept). */
int apply_restarts(struct applier *ap, struct err *e);
int apply_forget(struct applier *ap, int d, struct err *e);

/* restore.c: the settings relaxed for the duration (read, then set to
 * "no" on every reachable master); the IMPORTING states the repair
 * opens, recorded as they are queued; and all of it put back, on every
 * way out, what cannot be listed in the result (-1 with `e` when a
 * setting could not be put back). */
int restore_relax(struct applier *ap, struct err *e);
void restore_opened(struct applier *ap, int node, int slot);
void restore_bound(struct applier *ap, int node, int slot);
int restore_all(struct applier *ap, struct err *e);

/* The claim phases (see apply.h): every other claimant or holder of a
 * slot to fix gives way to its final owner (protect); each final owner
 * imports the slots it does not claim yet (hold); nobody but the final
 * owner claims them (check, claimed false); after the keys are back,
 * each final owner claims its held slots and bumps its epoch (take),
 * and the final owner claims every slot of the plan (check, claimed
 * true). */
/* Before protect: every live master knows each final owner as a master.
 * A replica just promoted is one in its own view before gossip has told
 * the others, who answer SETSLOT ... NODE with "Target node is not a
 * master".  Waited for up to 5 s; past that the SETSLOTs say what is
 * wrong (the wait is noted in the audit). */
void claim_known(struct applier *ap);
int claim_protect(struct applier *ap, struct err *e);
/* Before protect: NULL anchors on Redis; on Valkey 8 one per slot whose
 * final owner does not claim it, the SELF ones claimed at once. */
int anchor_place(struct applier *ap, struct err *e);
/* The slot's anchor, or NULL (none, or Redis). */
const struct anchor *anchor_of(const struct applier *ap, int slot);
int claim_hold(struct applier *ap, struct err *e);
int claim_take(struct applier *ap, struct err *e);
int claim_check(struct applier *ap, bool claimed, struct err *e);

#endif
