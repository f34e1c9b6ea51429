/*
 * snapshot.h - what every node of a cluster says, taken once: every node
 * discovered from one address (reachable or not), each reachable node's
 * CLUSTER NODES and cluster_state.  The verifier checks it; the repair
 * engine assesses from it.
 */
#ifndef SQ_CLUSTER_SNAPSHOT_H
#define SQ_CLUSTER_SNAPSHOT_H

#include <stdbool.h>

#include "cluster/conn.h"
#include "cluster/topology.h"
#include "common/err.h"

struct snap_node {
	char id[NODE_ID_LEN + 1]; /* "" when not known yet */
	char host[64];
	int port;
	bool reachable;
	char error[256];      /* why not reachable */
	char state[16];       /* cluster_state, "" when not reachable */
	struct topology view; /* its CLUSTER NODES, empty when not reachable */
	struct conn *c;       /* the link it was asked on, kept open by
				 snapshot_take_kept(); NULL otherwise */
};

struct snapshot {
	struct snap_node *nodes;
	size_t n;
	int ref;                   /* index of the reference view, -1: none */
	int owner[CLUSTER_SLOTS];  /* reference owner: index into nodes, -1 */
};

/* Discovers every node from host:port and asks each for CLUSTER NODES and
 * CLUSTER INFO: host:port first, then all the nodes its view names at
 * once (16 at a time), then any that only their views name, and so on
 * (nodes that do not answer cost their wave one timeout per 16 of them,
 * not one each).  One by one when the calling
 * thread's commands are tapped (conn_trace_set): the tap sees them all,
 * in order.  -1 with `e` set when no node answers. */
int snapshot_take(struct snapshot *s, const char *host, int port,
		  int timeout_ms, struct err *e);
/* snapshot_take(), keeping each reachable node's connection open in
 * its snap_node (c), for more questions; snapshot_release() closes them. */
int snapshot_take_kept(struct snapshot *s, const char *host, int port, int timeout_ms,
		       struct err *e);
/* Builds the index (ref, owner[]) from the nodes' views; snapshot_take()
 * calls it; tests call it on hand-made snapshots. */
void snapshot_index(struct snapshot *s);
void snapshot_release(struct snapshot *s);

/* Index of the node with that id or host:port, or -1. */
int snapshot_find_id(const struct snapshot *s, const char *id);
int snapshot_find_addr(const struct snapshot *s, const char *host, int port);
/* Adds a node (not reachable yet) and returns its index. */
int snapshot_add(struct snapshot *s, const char *id, const char *host, int port);

#endif
