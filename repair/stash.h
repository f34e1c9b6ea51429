/*
 * stash.h - where verified duplicates go.  A key present on the slot's
 * owner and, with the same value and life, on another node must leave the
 * other node without touching the owner's copy (a client may write it at
 * any moment) and without DEL: it is MIGRATEd into a private redis-server
 * on loopback (not in cluster mode), started on first need, whose
 * dump.rdb is kept on disk afterwards.  Nothing is destroyed.
 */
#ifndef SQ_REPAIR_STASH_H
#define SQ_REPAIR_STASH_H

#include "cluster/conn.h"
#include "common/err.h"
#include "repair/private_server.h"

struct stash {
	const char *redis_server; /* NULL: on PATH */
	const char *parent;       /* where its directory goes; NULL: $TMPDIR */
	const char *host;         /* where it listens; NULL: 127.0.0.1 */
	int timeout_ms;
	/* state */
	struct private_server srv;
	long long kept;           /* keys moved into it */
};

/* The stash's connection, starting it on the first call. */
struct conn *stash_conn(struct stash *s, struct err *e);
/* Saves what it holds to dir/dump.rdb (kept; the path into where) and
 * stops it; an empty stash leaves nothing behind.  Safe when never
 * started. */
int stash_close(struct stash *s, char *where, size_t n, struct err *e);

#endif
