/*
 * writers.h - live traffic: cluster-aware clients writing (and reading)
 * while a cluster is resharded, broken and repaired, every write
 * recorded in a ledger (verifier/ledger.h).
 *
 * Each writer is a thread of its own with its own cluster client
 * (cluster/client.h: MOVED, ASK, TRYAGAIN and CLUSTERDOWN followed as a
 * production client does).  Writer w owns the ledger keys i with
 * i % writers == w and goes round them, one command at a time: a SET of
 * the key's next value, or (get_pct percent of the time, seeded) a GET.
 * A SET answered OK is acknowledged; an error reply failed (nothing was
 * written); no reply (refused, timed out, connection lost) unknown.  A
 * GET that answers an older write than the last acknowledged one is a
 * stale read.  A writer that cannot reach the cluster keeps trying until
 * it is stopped.
 *
 * What clients could not do is kept per slot: from the first command
 * that failed on a key of the slot to the next that succeeded there, an
 * outage (outages.h groups them into slot ranges).  What they did over
 * time is kept in buckets (series.h).
 */
#ifndef SQ_HARNESS_WORKLOAD_WRITERS_H
#define SQ_HARNESS_WORKLOAD_WRITERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "harness/workload/series.h"
#include "verifier/ledger.h"

struct writers_opts {
	const char *host;    /* any node of the cluster */
	int port;
	int writers;         /* threads, >= 1 */
	int rate;            /* commands per second per writer; 0: as fast as it can */
	int get_pct;         /* GETs among them, 0..100 */
	uint64_t seed;       /* which commands are GETs */
	int timeout_ms;      /* per command */
	uint64_t t0_us;      /* clock_now_us() where the series' time 0 is */
};

/* One slot's clients failing, clock_now_ms() times. */
struct outage {
	int slot;
	uint64_t from_ms, to_ms;
	bool open;           /* still failing when the writers stopped */
};

struct outages {
	struct outage *v;
	size_t n;
};

struct writers;

/* Starts the writers on the keys of `l`, which they own until
 * writers_stop().  NULL with `e` when a thread cannot be started. */
struct writers *writers_start(const struct writers_opts *o, struct ledger *l, struct err *e);
/* Each key's last acknowledged write now into acked[i] (l->n entries,
 * the caller's), taken by each writer between two of its commands: every
 * write counted there was acknowledged before writers_mark() returns.
 * -1 with `e` when a writer is not between commands within timeout_ms. */
int writers_mark(struct writers *all, long long *acked, int timeout_ms, struct err *e);
/* At writers_stop(), each writer reads once more a key of each slot it
 * still finds failing, for at most `ms`: an outage that ended since its
 * last command on that slot (the repair ended it) ends then, rather than
 * stays open to the stop. */
void writers_probe(struct writers *all, int ms);
/* Writes acknowledged so far, all writers (while they run). */
long long writers_acked(const struct writers *w);
/* Stops and joins every writer, adds their counts to the ledger, their
 * outages to `out` and their traffic over time to `series` (which must
 * have the same t0 and bucket width; NULL: dropped), frees w.  NULL w
 * is fine. */
void writers_stop(struct writers *w, struct outages *out, struct series *series);
void outages_release(struct outages *o);

#endif
