/*
 * successor.h - when a dead master's files are salvaged onto a node that
 * was its replica and has been promoted since (its successor), what the
 * facts say of a key the successor lacks or holds with another value.
 *
 * Replication is asynchronous: the successor received the dead master's
 * writes up to some offset X (INFO replication of the successor:
 * master_replid2 is the dead master's history, second_repl_offset is
 * X + 1), and the dead master's files were written up to their own
 * offset F.  Then, for a key of the files:
 *  - F <= X (an RDB's repl-id and repl-offset prove it): the successor
 *    went through the files' state; a key it lacks was deleted since, and
 *    its other value is newer.  Nothing is restored; the files' copies go
 *    to the stash as "deleted since" or superseded.
 *  - otherwise (F > X, or no offset in the files: an AOF has none): a
 *    key the successor lacks is a write it never received, or a key
 *    deleted since; its other value is older or newer.  Neither is
 *    decided: the files' copy goes to the stash as undecided (a decision
 *    waits), never restored blindly.
 * When the caller knows clients never delete keys (a scenario's own
 * workload, whose ledger only writes), a key the successor lacks is
 * restored either way: it was never received, or lost since by other
 * means than a client's delete -- the data is kept.
 * A node is the files' successor when the files' nodes.conf lists it as
 * a replica of the files' node, or its master_replid2 is the files'
 * repl-id.
 */
#ifndef SQ_REPAIR_SUCCESSOR_H
#define SQ_REPAIR_SUCCESSOR_H

#include <stdbool.h>
#include <stddef.h>

#include "cluster/topology.h"

/* What a dead master's files say of their place in its history. */
struct succ_facts {
	char replid[41];      /* an RDB's repl-id aux field; "" when none */
	long long offset;     /* its repl-offset; -1 when none */
	char (*replicas)[NODE_ID_LEN + 1]; /* its replicas, by its nodes.conf */
	size_t nreplicas;
};

enum succ_verdict {
	SUCC_NONE,       /* not the files' successor: salvage as ever */
	SUCC_SEEN,       /* its successor, which saw every write of the files */
	SUCC_UNDECIDED,  /* its successor; whether it saw them all is not known */
};

struct succ_judged {
	enum succ_verdict v;
	long long seen_to;    /* SUCC_SEEN: the successor's offset X */
};

/* Reads the repl-id and repl-offset aux fields at the head of an RDB
 * file (Redis and Valkey save them when the master has a replication
 * backlog).  0 when both were there, 1 when the file has none (or
 * compressed ones), -1 when it is not an RDB file or cannot be read. */
int rdb_repl_info(const char *path, char *replid, size_t n, long long *offset);
/* The verdict for a node `id` whose INFO replication says master_replid2
 * `replid2` and second_repl_offset `second_offset` ("" and -1: none, or
 * not read). */
struct succ_judged successor_judge(const struct succ_facts *f, const char *id,
				   const char *replid2, long long second_offset);
void succ_facts_release(struct succ_facts *f);

/* Key names, binary-safe: the files' keys a salvage left out on purpose
 * (set aside as undecided or deleted since), which the inventory then
 * does not count as missing. */
struct keyset {
	struct keyset_item { char *s; size_t len; } *v;
	size_t n, cap;
	bool sorted;
};

void keyset_add(struct keyset *k, const char *s, size_t len);
bool keyset_has(struct keyset *k, const char *s, size_t len);
void keyset_release(struct keyset *k);

#endif
