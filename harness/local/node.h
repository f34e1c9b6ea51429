/*
 * node.h - one local redis-server process in cluster mode.
 *
 * A node lives in its own directory: redis.conf (written here), nodes.conf,
 * its persistence files, redis.log (redis's log) and redis.out (anything
 * printed before the log is open).
 */
#ifndef SQ_HARNESS_NODE_H
#define SQ_HARNESS_NODE_H

#include "cluster/conn.h"
#include "harness/local/localcluster.h"

/* Writes the node's redis.conf into n->dir (created if needed). */
int node_write_config(const struct local_node *n,
		      const struct local_cluster_opts *o, struct err *e);

/* Starts redis-server on the node's config. */
int node_start(struct local_node *n, const struct local_cluster_opts *o,
	       struct err *e);

/* Waits up to timeout_ms for the node to answer PING; returns a new
 * connection (conn_free() it).  When the process exits first, `e` says how
 * and quotes the last line of its log. */
struct conn *node_wait_ping(struct local_node *n, int timeout_ms, struct err *e);

/* "exited with status 1: <last log line>" for a node that is not running. */
void node_describe_exit(struct local_node *n, char *out, size_t len);

#endif
