/*
 * move_int.h - what move.c (batches of keys) and move_one.c (one key the
 * destination has already) share; not for other callers.
 */
#ifndef SQ_REPAIR_MOVE_INT_H
#define SQ_REPAIR_MOVE_INT_H

#include <stdbool.h>

#include "repair/move.h"

struct mig {
	struct conn *src, *dst;
	const struct move_opts *mo; /* NULL: a plain move (first pass, to the stash) */
	int slot;              /* -1: keys of any slot (salvage) */
	char port[16], tmo[16];
};

/* MIGRATE of the keys from m->src to m->dst (a key of a held slot, or
 * from a source that runs no MIGRATE: DUMP, then ASKING and RESTORE);
 * the reply, or NULL with `e` set. */
struct reply *migrate(struct mig *m, struct reply *const *keys, size_t n, struct err *e);

/* Queues DUMP and PTTL of key on c, asking first (the node may only be
 * importing the slot); read_look() reads their replies: the DUMP (a new
 * reply) and the PTTL (-2: none). */
void queue_look(struct conn *c, const struct reply *key);
int read_look(struct conn *c, struct reply **dump, long long *pttl, struct err *e);
/* The same value, and the same life (DUMPs and PTTLs). */
bool same_key(const struct reply *a, long long ta, const struct reply *b, long long tb);

/* A different value on the destination: set aside, superseded, or
 * (older there) replaced. */
int set_aside(struct mig *m, struct reply *key, struct move_result *res, struct err *e);
/* An equal duplicate: the destination's copy stays, this one to the
 * stash. */
int stash_duplicate(struct mig *m, struct reply *key, struct move_result *res, struct err *e);
/* One key alone: moved, found on the destination already, or a
 * conflict.  -1 on any other failure. */
int move_one(struct mig *m, struct reply *key, struct move_result *res, struct err *e);

#endif
