/*
 * ledger.h - the writes clients made during the chaos, and what the
 * cluster must still show of them.
 *
 * Each key of the ledger is written by one writer at a time, in order:
 * write number `seq` of key K carries the value "TAG:K:seq", unique to
 * the run.  Per key the ledger keeps the last acknowledged write (the
 * server answered OK) and the last one tried (acknowledged, failed with
 * an error reply, or unknown: a timeout or a lost connection, which may
 * or may not have landed).  Nothing else is stored: the value read back
 * says which write it was.
 *
 * The check reads every key through a cluster-aware client and sorts it:
 *  - kept: the last acknowledged write, or a later one tried;
 *  - lost: missing although a write was acknowledged, or an earlier
 *    value than the last acknowledged one (a write rolled back);
 *  - foreign: a value no writer of this ledger wrote;
 *  - unread: the cluster did not answer for it.
 */
#ifndef SQ_VERIFIER_LEDGER_H
#define SQ_VERIFIER_LEDGER_H

#include <stddef.h>

#include "common/err.h"

/* The error classes clients meet, counted per ledger. */
enum ledger_error {
	LE_MOVED,        /* a MOVED or ASK loop the client gave up on */
	LE_CLUSTERDOWN,
	LE_TRYAGAIN,
	LE_OOM,
	LE_MISCONF,
	LE_UNREACHABLE,  /* no answer: refused, timed out, connection lost */
	LE_OTHER,
	LE_COUNT_,
};

struct ledger_key {
	long long acked;   /* seq of the last acknowledged write; 0: none */
	long long tried;   /* seq of the last write sent */
};

struct ledger {
	char prefix[32];   /* key names: PREFIX<index> */
	char tag[32];      /* the values' first part, unique to the run */
	struct ledger_key *v;
	size_t n;
	long long acked, failed, unknown;   /* writes, all keys */
	long long reads, reads_failed;      /* GETs, and those without a value */
	long long stale_reads;              /* GETs that answered an older write than
					       the last acknowledged one (or none) */
	long long errors[LE_COUNT_];        /* of writes and reads */
};

#define LEDGER_EXAMPLES 8

struct ledger_result {
	long long keys, kept, lost, foreign, unread;
	char examples[LEDGER_EXAMPLES][160];  /* the first lost or foreign ones */
	int nexamples;
};

/* A ledger of n keys named PREFIX0..PREFIX(n-1), values tagged `tag`;
 * ledger_release() frees it. */
void ledger_init(struct ledger *l, size_t n, const char *prefix, const char *tag);
void ledger_release(struct ledger *l);
/* Key i's name and the value of its write `seq`, into buf. */
void ledger_key_name(const struct ledger *l, size_t i, char *buf, size_t n);
void ledger_value(const struct ledger *l, size_t i, long long seq, char *buf, size_t n);
/* The write number a value of key i carries, or -1 when this ledger did
 * not write it. */
long long ledger_value_seq(const struct ledger *l, size_t i, const char *v, size_t len);
/* Which of two values of key `key` is the later write: > 0 when `a`,
 * < 0 when `b`, 0 when the same write, or either is not a value this
 * ledger wrote for that key (or the key is not one of its). */
int ledger_order(const struct ledger *l, const char *key, size_t klen, const char *a,
		 size_t alen, const char *b, size_t blen);
/* The class of an error reply's text ("CLUSTERDOWN The cluster is down"). */
enum ledger_error ledger_error_class(const char *msg);
const char *ledger_error_name(enum ledger_error k);
/* Reads every key from the cluster at host:port and sorts it (above).
 * -1 with `e` only when no node of the cluster answers at all. */
int ledger_check(const struct ledger *l, const char *host, int port, int timeout_ms,
		 struct ledger_result *r, struct err *e);
/* The same, each key's write read back into seen[i] (l->n entries, the
 * caller's): its seq, 0 when the key is missing, -1 when it was not read
 * (never written, no answer) or holds a value no writer wrote. */
int ledger_check_seen(const struct ledger *l, const char *host, int port, int timeout_ms,
		      struct ledger_result *r, long long *seen, struct err *e);

#endif
