/*
 * assess.h - what the repair engine knows of a cluster before it acts.
 *
 * From one address, every node is discovered (cluster/snapshot.c) and
 * every reachable node -- replicas too -- is asked how many keys it holds
 * in each of the 16384 slots (CLUSTER COUNTKEYSINSLOT, pipelined).  A
 * replica's counts say where it holds keys its master does not (a Redis
 * 7.0 replica keeps the keys its master's slot clean-up dropped; the
 * replica of a dead master holds its keys): see assess_replica_slots().  Ownership is read
 * the way the nodes act on it: each master's own line of its own view
 * ("myself"): the slots it claims, the slots it has migrating or
 * importing, its config epoch.  Disagreements between nodes are facts
 * here, not errors.
 */
#ifndef SQ_REPAIR_ASSESS_H
#define SQ_REPAIR_ASSESS_H

#include <stdbool.h>

#include "cluster/snapshot.h"
#include "common/err.h"

struct anode {
	bool reachable;
	bool master;          /* by its own view, or by the others' when it is down */
	bool failed;          /* flagged fail (or fail?) by a reachable node */
	unsigned long long epoch; /* its config epoch */
	const struct cluster_node *me; /* its own line, NULL when not reachable */
	long long *keys;      /* per slot, reachable nodes (replicas too); else NULL */
	long long total_keys;
	bool promoted;        /* a reachable master that was a replica once: its
				 INFO replication has a second_repl_offset */
	char replid2[41];     /* a reachable master's master_replid2: the
				 history it followed before that; "" */
	long long second_offset; /* its second_repl_offset; -1 when none */
	bool stale;           /* a reachable replica too stale for the failover
				 rule (cluster/stale.h): its master's writes
				 since its link went down are not in it */
	char stale_why[256];
};

/* A salvage source (source.h) as the plan sees it: who it was, and its
 * keys against the cluster now. */
struct asource {
	const char *dir;           /* borrowed from the options */
	char id[NODE_ID_LEN + 1];  /* from its nodes.conf; "" when none */
	char host[64];             /* the user's, else its nodes.conf's; "" */
	int port;                  /* 0 when unknown */
	int node;                  /* the node of the snapshot it is (by id when
				      it has one, else by address), or -1: no
				      reachable node knows it */
	bool read;                 /* its files were loaded */
	char error[256];           /* why not */
	long long keys;            /* keys in its files */
	long long lacking_total;   /* of those, keys the cluster lacks */
	long long *held, *lacking; /* the same per slot (NULL when not read) */
	bool *conf_slots;          /* the slots its nodes.conf says it served,
				      NULL when none */
	bool compared;             /* a salvage pass went over it already */
	bool backup;               /* a backup's RDB (older than the cluster) */
	bool replica;              /* a live replica (node is it), not files */
	int replica_of;            /* replica: its master's node, or -1 */
	int unread_slots;          /* replica: slots its master does not serve
				      where it holds other counts: not read */
	long long unread_keys;     /* its keys there */
};

struct assessment {
	struct snapshot snap;     /* nodes[i] here is anodes[i] */
	struct anode *nodes;
	int timeout_ms;
	bool full;                /* keys counted in every slot */
	int valkey_major;         /* the seed's Valkey major version, 0: Redis */
	struct asource *src;      /* the salvage sources (owned) */
	size_t nsrc;
};

/* Takes the assessment from host:port, counting keys in every slot, or
 * only in the slots set in `only` (the others count 0: for a second look
 * at what a plan touched).  -1 with `e` when no node answers. */
int assess_take(struct assessment *a, const char *host, int port, int timeout_ms,
		const bool *only, struct err *e);
/* Fills the derived fields (master, failed, epoch, me) from the views of
 * a snapshot already in a->snap; assess_take() calls it, tests call it on
 * hand-made snapshots, with a->nodes NULL or an array of snap.n entries
 * whose key counts stay as they are. */
void assess_index(struct assessment *a);
void assess_release(struct assessment *a);

/* Node i answers and is a master: one the engine can act on. */
bool assess_live_master(const struct assessment *a, int i);
/* Node i claims the slot in its own view. */
bool assess_claims(const struct assessment *a, int i, int slot);
/* The peer id node i has the slot migrating to / importing from, or NULL. */
const char *assess_migrating(const struct assessment *a, int i, int slot);
const char *assess_importing(const struct assessment *a, int i, int slot);
/* Keys node i holds in the slot (0 when not counted, and for replicas). */
long long assess_keys(const struct assessment *a, int i, int slot);
/* Keys node i holds in the slot, replicas too (0 when not counted). */
long long assess_held(const struct assessment *a, int i, int slot);
/* The master a reachable replica i follows, by its own view: its node,
 * or -1 (none known, or i is no reachable replica). */
int assess_master_of(const struct assessment *a, int i);
/* The slots where reachable replica i may hold keys no master has: it
 * holds keys there, and its master does not answer or holds another
 * number of keys there.  Into only[] (CLUSTER_SLOTS); how many. */
int assess_replica_slots(const struct assessment *a, int i, bool *only);
/* The node the reachable nodes' views (the reference view) name as owner,
 * or -1. */
int assess_ref_owner(const struct assessment *a, int slot);
/* "127.0.0.1:7000": node i's address, into buf. */
const char *assess_addr(const struct assessment *a, int i, char *buf, size_t n);
/* How the other reachable nodes see node i: seen[j] (a->snap.n entries)
 * is SEEN_KNOWN when reachable node j has i in its view, SEEN_FORGOTTEN
 * when it does not, SEEN_NOT_ASKED for i itself and the nodes that do
 * not answer.  Returns how many know it; *forgot, how many do not.
 * Both above 0: a CLUSTER FORGET that did not reach every node (or one
 * that gossip is undoing). */
enum seen { SEEN_NOT_ASKED, SEEN_KNOWN, SEEN_FORGOTTEN };
size_t assess_seen(const struct assessment *a, size_t i, enum seen *seen, size_t *forgot);
/* Frees a->src. */
void assess_release_sources(struct assessment *a);
/* The source that is node i's files, read and holding keys, or NULL; or
 * when node i is a master that is down, the source that is a live
 * replica of it (read, holding keys). */
const struct asource *assess_source_of(const struct assessment *a, int i);

#endif
