/*
 * writers.h - live traffic: cluster-aware clients writing while a
 * cluster is resharded, broken and repaired, every write recorded in a
 * ledger (verifier/ledger.h).
 *
 * Each writer is a thread of its own with its own cluster client
 * (cluster/client.h: MOVED, ASK, TRYAGAIN and CLUSTERDOWN followed as a
 * production client does).  Writer w owns the ledger keys i with
 * i % writers == w and writes them round and round, one SET at a time,
 * each with the next value of its key.  A reply OK is acknowledged; an
 * error reply failed (nothing was written); no reply (refused, timed
 * out, connection lost) unknown.  A writer that cannot reach the cluster
 * keeps trying until it is stopped.
 */
#ifndef SQ_HARNESS_WORKLOAD_WRITERS_H
#define SQ_HARNESS_WORKLOAD_WRITERS_H

#include "common/err.h"
#include "verifier/ledger.h"

struct writers_opts {
	const char *host;    /* any node of the cluster */
	int port;
	int writers;         /* threads, >= 1 */
	int rate;            /* writes per second per writer; 0: as fast as it can */
	int timeout_ms;      /* per command */
};

struct writers;

/* Starts the writers on the keys of `l`, which they own until
 * writers_stop().  NULL with `e` when a thread cannot be started. */
struct writers *writers_start(const struct writers_opts *o, struct ledger *l, struct err *e);
/* Writes acknowledged so far, all writers (while they run). */
long long writers_acked(const struct writers *w);
/* Stops and joins every writer, adds their counts to the ledger, frees w.
 * NULL is fine. */
void writers_stop(struct writers *w);

#endif
