/*
 * incident.h - a broken cluster as an operator saved it, turned into a
 * scenario that rebuilds it locally (`shardquake incident import`).
 *
 * The input is a set of files, each recognised by its content:
 *   - CLUSTER NODES of one node (`redis-cli -p P cluster nodes > n1.txt`):
 *     one view, whose node is the line flagged `myself`;
 *   - CLUSTER INFO (`cluster_state:...` lines): its state is noted;
 *   - `redis-cli --cluster check` output: noted, not used (it says less
 *     than the views it was made from).
 * incident_read.c reads them, incident_merge.c merges the views into one
 * model (masters, replicas, slot owners, open slots, failed nodes),
 * incident_write.c writes the scenario with a [layout] of that model.
 *
 * Merging.  Each node's own view says its role and its open slots (only
 * `myself` lines carry [slot->-id] markers); a slot's owner is the one
 * claimed with the highest config epoch, as the cluster itself decides
 * (a stale view that disagrees with a lower epoch is noted, not an error);
 * a node is failed when another view flags it fail, fail? or noaddr and
 * no file came from it.  Errors name the file and line:
 *   "n2.txt:3: slot 5461 is claimed by 9a1c... here and by 07c3... in
 *    n1.txt:2, both at config epoch 2: two owners"
 * for two owners at the same epoch, an unknown node id, a truncated line,
 * a bad node id, two files of the same node, a file that is none of the
 * three kinds.
 */
#ifndef SQ_HARNESS_INCIDENT_H
#define SQ_HARNESS_INCIDENT_H

#include <stdbool.h>
#include <stdio.h>

#include "cluster/topology.h"
#include "common/err.h"

#define INCIDENT_WHERE_MAX 320 /* "FILE:LINE" */

/* One CLUSTER NODES file. */
struct incident_view {
	char *path;
	struct topology t;
	int *line;         /* line[i]: the file's line of t.nodes[i] */
	int me;            /* index in t.nodes of the `myself` line */
};

struct incident_node {
	char id[NODE_ID_LEN + 1];
	char addr[80];               /* ip:port, as the views give it */
	bool master;
	int master_of;               /* a replica's master (index in nodes), else -1 */
	bool failed;                 /* to be killed in the rebuilt cluster */
	bool nofailover;             /* kept from a failover by the cluster */
	int view;                    /* the view that came from it, -1: none */
	unsigned long long epoch;    /* its config epoch, highest seen */
	char where[INCIDENT_WHERE_MAX]; /* where it is first described */
	int index;                   /* master: N of master.N; replica: K of
					replica.N.K; set by incident_merge() */
};

struct incident_open {
	int slot;
	int from, to;                /* nodes: the owner, the importer */
	bool migrating_seen, importing_seen;
	char where[INCIDENT_WHERE_MAX];
};

struct incident {
	struct incident_view *views;
	size_t nviews;
	char **inputs;               /* one line per file read, for comments */
	size_t ninputs;
	/* the model, once merged */
	struct incident_node *nodes;
	size_t n;
	int owner[CLUSTER_SLOTS];    /* node index, -1: uncovered */
	struct incident_open *open;
	size_t nopen;
	int *masters;                /* node indexes in master.N order: by
					first slot, masters without slots last */
	size_t nmasters;
	char **notes;                /* choices made, for the scenario's comments */
	size_t nnotes;
};

#define INCIDENT_INIT {0}

/* Reads one saved file and adds what it holds: `text` is its content,
 * `path` its name in messages.  -1 with `e` as "PATH:LINE: ..." on a
 * file that is not one of the three kinds or a bad CLUSTER NODES line. */
int incident_add_text(struct incident *inc, const char *path, const char *text,
		      struct err *e);
/* The same, reading the file. */
int incident_add_file(struct incident *inc, const char *path, struct err *e);

/* Merges the views read so far into the model; -1 with `e` as
 * "PATH:LINE: ..." on an inconsistency, or "no CLUSTER NODES file". */
int incident_merge(struct incident *inc, struct err *e);

struct incident_opts {
	const char *name;        /* [scenario] name (default "incident") */
	long long keys;          /* [data] keys */
	int moved_pct;           /* share of an open slot's keys moved */
	const char *engine;      /* shardquake, redis-cli or exec */
	const char *command;     /* engine = exec */
	int node_timeout_ms;
};

/* Writes the scenario of a merged incident to f.  -1 with `e` on a write
 * error. */
int incident_write(const struct incident *inc, const struct incident_opts *o, FILE *f,
		   struct err *e);

/* Frees everything `inc` holds; it is INCIDENT_INIT again. */
void incident_release(struct incident *inc);

/* incident_read.c: a note for the scenario's comments (printf-like). */
void incident_note(struct incident *inc, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
