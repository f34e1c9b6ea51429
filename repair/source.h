/*
 * source.h - salvage sources: the files of a node, named by the user
 * (--salvage ADDR=DIR, or DIR alone), always read, whatever the cluster
 * still remembers of that node.
 *
 * Each source is opened once per repair: its nodes.conf says which node
 * it was (id, address, the slots it served), and a copy of its AOF
 * directory (or RDB file) is loaded by a rescue redis-server of its own
 * (on loopback, not in cluster mode), which keeps running until the
 * repair ends: the dead node's files are never touched, and the copy is
 * never emptied (keys leave it with MIGRATE ... COPY), so that the last
 * look can check every key of the files against the cluster.
 *
 * Each assessment then takes an inventory of every source (assess.h,
 * struct asource): its keys per slot, and how many of them the cluster
 * lacks.  Keys are compared by name with CLUSTER GETKEYSINSLOT on the
 * slot's owner, which answers even while the cluster is down (a forget
 * leaves it so), where EXISTS would answer CLUSTERDOWN.
 *
 * A live replica may hold keys no master has: a Redis 7.0 replica keeps
 * the keys its master's slot clean-up dropped, the replica of a dead
 * master holds that master's keys.  Each reachable replica whose key
 * counts differ from its master's (or whose master is down) is a source
 * too (replica_source.c), read in place -- no rescue server: its keys
 * are listed with GETKEYSINSLOT in those slots alone, and read with DUMP
 * over a READONLY connection (a replica refuses MIGRATE, a write).  A
 * replica serves reads of its own master's slots only: for keys of
 * slots its master lost (MOVED there), a copy of its whole data is taken
 * as an RDB (`redis-cli --rdb`: a SYNC from the replica, which serves it
 * while its own link is up) and read as files, limited to those slots.
 */
#ifndef SQ_REPAIR_SOURCE_H
#define SQ_REPAIR_SOURCE_H

#include <stdbool.h>

#include "cluster/backup.h"
#include "repair/assess.h"
#include "repair/move.h"
#include "repair/plan.h"
#include "repair/private_server.h"
#include "repair/successor.h"

#define SOURCE_EXAMPLES 4

struct source {
	const struct salvage_src *spec;  /* the user's words (borrowed) */
	char id[NODE_ID_LEN + 1];        /* from its nodes.conf; "" when none */
	char host[64];                   /* the user's, else its nodes.conf's */
	int port;
	bool *conf_slots;                /* what its nodes.conf says it served */
	char conf_note[160];             /* why its nodes.conf said nothing */
	struct private_server srv;       /* the rescue server, once started */
	char file[256], sub[256];        /* what it loaded */
	bool read;
	char error[256];                 /* why not read */
	long long keys;
	/* what salvage passes did, summed over the repair */
	bool compared;
	struct move_result moved;
	long long unplaced;              /* keys of slots nobody served then */
	/* against a promoted replica of its node (successor.h) */
	struct succ_facts facts;
	struct keyset withheld;          /* set aside, not restored: not missing */
	long long undecided;             /* of those, lacked by the successor,
					    which may or may not have had them */
	long long deleted_since;         /* lacked by a successor that saw them */
	char undecided_ex[SOURCE_EXAMPLES][128]; /* the first undecided ones */
	int nundecided_ex;
	/* a live replica (replica_source.c): srv.c is a READONLY connection
	 * to it, no server of ours; `own` its spec, `only` the slots read */
	bool replica;
	struct salvage_src *own;
	bool *only;
	int unread_slots;                /* where it holds other counts than its
					    master but cannot be read (MOVED) */
	long long unread_keys;
	bool fetched_rdb;                /* replica: its RDB copy is a source */
	char fetched[PATH_MAX];          /* the copy's folder, removed at close */
};

struct sources {
	struct source *v;
	size_t n;
	const char *redis_server;        /* for the rescue servers */
	int timeout_ms;
};

/* Opens every source: its identity, then its rescue server.  A source
 * that cannot be read keeps the reason in its `error`; never fails as a
 * whole.  `redis_server` NULL: on PATH. */
void sources_open(struct sources *s, const struct salvage_src *spec, size_t n,
		  const char *redis_server, int timeout_ms);
/* One source of files: its identity, then its rescue server; -1 with
 * `e` (also kept in src->error) when it cannot be read. */
int source_open_files(struct source *src, const char *redis_server, int timeout_ms,
		      struct err *e);
/* Stops every rescue server and removes its copy.  Safe twice. */
void sources_close(struct sources *s);

/* replica_source.c: a source for each reachable replica of `a` that may
 * hold keys no master has (assess_replica_slots()), once per replica (by
 * id); the slots read are set again from `a` on each call (none: the
 * replica counts no key).  Never fails: a replica that cannot be reached
 * is a source not read, with the reason. */
void sources_add_replicas(struct sources *s, const struct assessment *a, int timeout_ms);
/* The keys of replica source `src` in its slots from *from on, listed
 * with GETKEYSINSLOT (pipelined, up to ~limit keys' worth of slots):
 * pointers into the replies added to (*keys, *nkeys), the replies to
 * (*pages, *npages) (free them after); *from moves on, to CLUSTER_SLOTS
 * at the end.  -1 with `e` on a failed connection. */
int replica_list(struct source *src, int *from, long long limit, struct reply ***keys,
		 size_t *nkeys, struct reply ***pages, size_t *npages, struct err *e);
/* For a salvage pass: the replica answers reads while its cluster_state
 * is fail (cluster-allow-reads-when-down yes) until replica_unrelax();
 * *was keeps what it had ("" when it could not be read or set). */
void replica_relax(struct source *src, char *was, size_t n);
void replica_unrelax(struct source *src, const char *was);

/* Fills a->src (replacing what was there) with every source's identity
 * and inventory against the cluster `a` describes.  -1 with `e` when a
 * rescue server stops answering (the source says why). */
int sources_inventory(struct sources *s, struct assessment *a, struct err *e);

/* A salvage pass over source k (salvage.c): every key of its files goes
 * to its slot's owner: final[slot] (a node of `a`) where the repair gives
 * the slot to one, else the current owner, as the first reachable master
 * of `a` sees it now.  One the owner lacks is copied there; one it has
 * is compared: an equal value changes nothing, another is set aside in
 * mo->stash, superseded where mo->newer says the owner's is newer, else
 * a conflict.  Keys of slots nobody serves stay (counted in unplaced).
 * Adds to src->moved, also when it fails half way. */
int salvage_source(struct source *src, const struct assessment *a, const int *final,
		   const struct move_opts *mo, struct err *e);

/* from_backup.c: the backup in `dir` read into b (release it), and a
 * salvage source of its RDB for each of its masters that no reachable
 * node of the cluster at host:port is now, and one, limited to those
 * slots (salvage_src.only, free() it), for each live master that gave
 * slots away since or has some open (*out: a new array of *n, free() it;
 * its ranges are b's).  -1 with `e` when the backup cannot be
 * read or no node answers. */
int sources_from_backup(const char *dir, const char *host, int port, int timeout_ms,
			struct backup *b, struct salvage_src **out, size_t *n, struct err *e);

#endif
