/*
 * stash.h - where copies that must leave a node go, without DEL and
 * without touching the owner's copy (a client may write it at any
 * moment): a private redis-server on loopback (not in cluster mode),
 * started on first need, whose dump.rdb is kept on disk afterwards.
 * Nothing is destroyed.
 *
 *  - database 0: verified duplicates, the same value and life as the
 *    owner's copy;
 *  - databases 1 to 15: conflicts, another value than the owner's, set
 *    aside for a person to decide; each listed in conflicts.txt beside
 *    dump.rdb (database, key, slot, owner, where it came from).  A key
 *    name set aside twice (two other values) goes to the next database.
 */
#ifndef SQ_REPAIR_STASH_H
#define SQ_REPAIR_STASH_H

#include <stdbool.h>
#include <stdio.h>

#include "cluster/conn.h"
#include "common/err.h"
#include "repair/private_server.h"

#define STASH_CONFLICT_DBS 15

struct stash {
	const char *redis_server; /* NULL: on PATH */
	const char *parent;       /* where its directory goes; NULL: $TMPDIR */
	const char *host;         /* where it listens; NULL: 127.0.0.1 */
	int timeout_ms;
	/* state */
	struct private_server srv;
	long long kept;           /* duplicates moved into it */
	long long conflicts;      /* other values set aside in it */
	FILE *list;               /* conflicts.txt, once there is one */
};

/* The stash's connection, starting it on the first call. */
struct conn *stash_conn(struct stash *s, struct err *e);
/* Sets the value of `key` on `src` aside: MIGRATE (with COPY when
 * `copy`: a salvage's rescue copy stays whole) into the first database
 * from 1 that has no key of that name, and a line in conflicts.txt,
 * "DB<TAB>KEY<TAB>WHAT" (`what`: "slot 7, owner 127.0.0.1:7000, from
 * 127.0.0.1:7002"; the key with \xHH for bytes that are not printable).
 * 0 when set aside (its database in *db), 1 when every database has
 * that name already (nothing moved), -1 with `e` on a failure. */
int stash_conflict(struct stash *s, struct conn *src, const struct reply *key, bool copy,
		   const char *what, int *db, struct err *e);
/* The same for a source that runs no MIGRATE (a replica): DUMP and PTTL
 * read there, RESTORE into the stash's first database from 1 without
 * that name; the source keeps its copy. */
int stash_conflict_dump(struct stash *s, struct conn *src, const struct reply *key,
			const char *what, int *db, struct err *e);
/* The same for a value already read: its DUMP payload and PTTL (<= 0:
 * persistent). */
int stash_conflict_payload(struct stash *s, const struct reply *key, const struct reply *payload,
			   long long pttl, const char *what, int *db, struct err *e);
/* Saves what it holds to dir/dump.rdb (kept; the path into where) and
 * stops it; an empty stash leaves nothing behind.  Safe when never
 * started. */
int stash_close(struct stash *s, char *where, size_t n, struct err *e);

#endif
