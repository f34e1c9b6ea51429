/*
 * localcluster.h - a Redis Cluster of local redis-server processes.
 *
 * local_cluster_start() starts masters + masters*replicas redis-server
 * processes on loopback, each in DIR/node-PORT with its own config file,
 * nodes.conf, data and log; forms the cluster directly (ADDSLOTSRANGE,
 * MEET, REPLICATE) and returns once every node reports cluster_state:ok
 * and all agree on the slot map and on every node's role.
 *
 * Nodes are children of the caller with PR_SET_PDEATHSIG, so none
 * outlives it, unless `detach` is set (for `shardquake cluster up`,
 * which leaves the cluster running: `cluster down` reads DIR/cluster.pids).
 */
#ifndef SQ_HARNESS_LOCALCLUSTER_H
#define SQ_HARNESS_LOCALCLUSTER_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "cluster/topology.h"
#include "common/err.h"
#include "common/proc.h"

enum persistence { PERSIST_NONE, PERSIST_RDB, PERSIST_AOF };

/* Where the nodes listen: all on 127.0.0.1, or each in a network
 * namespace of its own behind a veth on a bridge, at 198.18.0.(10+i)
 * (injectors/netns.h), which network faults can cut.  netns needs the
 * caller in a private namespace first (netns_enter_private()). */
enum local_network { NET_LOOPBACK, NET_NETNS };

struct local_node;
struct netns_net;
struct netns_node;

struct local_cluster_opts {
	int masters;            /* >= 1 (redis wants 3 for failover, we allow 1) */
	int replicas;           /* per master */
	int base_port;          /* 0: free ports; else base_port, base_port+1, ... */
	const char *dir;        /* where node dirs go; NULL: a new temp dir */
	const char *redis_server; /* NULL: "redis-server" on PATH */
	enum persistence persistence;
	int node_timeout_ms;    /* cluster-node-timeout; 0: 2000 */
	bool detach;            /* nodes survive the caller (cluster up) */
	int ready_timeout_ms;   /* how long to wait for agreement; 0: 30000 */
	/* Optional: called before every start of a node's process (its
	 * first, a restart, an added master) with lc->nodes in place and
	 * n->proc filled but not started; may set n->in_child.  -1 with
	 * `e` set: the node is not started. */
	int (*before_start)(void *arg, struct local_node *n, struct err *e);
	void *hook_arg;
	enum local_network network;
	/* Optional, borrowed and read by local_cluster_start() only: the
	 * master (0..masters-1) of every one of the CLUSTER_SLOTS slots,
	 * instead of the even split (master i: i*16384/m to (i+1)*16384/m-1);
	 * and each master's number of replicas, instead of `replicas` each.
	 * With replicas_of, replicas follow the masters grouped by master. */
	const short *owner;
	const int *replicas_of;
	/* Optional, borrowed for the cluster's life: more redis.conf lines
	 * for every node ("NAME VALUE\n" each), after the harness's own. */
	const char *extra_config;
};

#define LOCAL_CLUSTER_OPTS_INIT                                               \
	{3, 0, 0, NULL, NULL, PERSIST_AOF, 0, false, 0, NULL, NULL, NET_LOOPBACK, NULL, NULL, NULL}

struct local_node {
	struct proc proc;
	char host[48];          /* its address: 127.0.0.1 on loopback */
	struct netns_node *ns;  /* its namespace (NET_NETNS), else NULL */
	/* Optional, set by opts.before_start: run in the node's process
	 * after fork (and after it joined its namespace), before exec. */
	int (*in_child)(void *arg); /* 0 or an errno, as proc.h says */
	void *in_child_arg;
	int port;
	int port_lock;          /* port_claim()'s descriptor + 1; 0: none */
	char id[NODE_ID_LEN + 1];
	char dir[PATH_MAX];     /* the node's own directory */
	bool is_master;
	int master;             /* index of its master in nodes[], -1 for masters */
};

struct local_cluster {
	struct local_node *nodes; /* masters first, then replicas in order */
	struct netns_net *net;   /* the bridge (NET_NETNS), else NULL */
	size_t n;
	char dir[PATH_MAX];
	bool own_dir;            /* created by us: removed by local_cluster_stop */
	struct local_cluster_opts opts;
};

#define LOCAL_CLUSTER_INIT {0}

/* Starts and forms the cluster.  On failure every process started is
 * killed and `e` says which step failed. */
int local_cluster_start(struct local_cluster *lc,
			const struct local_cluster_opts *o, struct err *e);

/* Starts one more master, empty (no slots), and joins it to the running
 * cluster: nodes[n-1] afterwards (lc->nodes may move: pointers into it
 * are stale).  Returns once all agree again, or, without wait_ready (a
 * cluster that is down), once every running node knows it. */
int local_cluster_add_master(struct local_cluster *lc, bool wait_ready, struct err *e);

/* Kills every node still running and frees `lc`.  When `keep_files` is
 * false and the directory was created by start, it is removed. */
/* Writes DIR/cluster.pids, "PORT PID" a line: what `cluster down` stops.
 * A kept cluster writes it again at the end of a run, when restarts and
 * added masters have changed it. */
int local_cluster_write_pids(const struct local_cluster *lc, struct err *e);
void local_cluster_stop(struct local_cluster *lc, bool keep_files);

/* Waits until every node that is running reports cluster_state:ok and
 * they agree on slots and roles, up to timeout_ms. */
int local_cluster_wait_ready(struct local_cluster *lc, int timeout_ms,
			     struct err *e);

/* Index of the node on `port`, or -1. */
int local_cluster_find_port(const struct local_cluster *lc, int port);

/* True when port and port+10000 (the bus) are both free on 127.0.0.1. */
bool port_pair_is_free(int port);

#endif
