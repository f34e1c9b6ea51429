/*
 * fetch.h - asking a node for its view: CLUSTER NODES, parsed.
 */
#ifndef SQ_CLUSTER_FETCH_H
#define SQ_CLUSTER_FETCH_H

#include "cluster/conn.h"
#include "cluster/topology.h"

/* Fills `t` (empty or released) with what the node behind `c` says.
 * -1 with `e` set when the node does not answer or the text is bad. */
int topology_fetch(struct conn *c, struct topology *t, struct err *e);

/* The same through a connection of its own to host:port. */
int topology_fetch_addr(const char *host, int port, int timeout_ms,
			struct topology *t, struct err *e);

#endif
