/*
 * scenario.h - one failure story, read from a scenario file (INI).
 *
 *   [scenario]  name, description, seed, quick
 *   [cluster]   masters, replicas, persistence, node_timeout, network, server,
 *               config (repeated: NAME VALUE)
 *   [data]      keys, value_size, big_value_size, big_slots
 *   [workload]  writers, keys, rate, mix: live traffic from the load to the
 *               verifier, every write in a ledger
 *   [reshard]   from, to, slots or slot_list, pipeline, backup (a backup of
 *               every master just before the reshard: cluster/backup.h)
 *   [layout]    a starting state of the scenario's own instead of the even
 *               split (an incident rebuilt, see harness/incident/):
 *                 master.N = 0-5460,5462     the slots of master N (0-based,
 *                                            of [cluster] masters), or none;
 *                                            slots nobody names are uncovered
 *                 replicas.N = K             master N's replicas, instead of
 *                                            [cluster] replicas
 *                 open = 5461 1>2 50%, ...   slot S migrating from master 1
 *                                            (its owner) and importing into 2,
 *                                            that share of its keys moved
 *                 failed = master.2, replica.1.0    SIGKILLed once built
 *                 nofailover = replica.2.0   never promoted by the cluster
 *                                            itself (cluster-replica-no-failover)
 *               Each list key may go on in KEY.2, KEY.3 ... (master.0.2 =
 *               ...): a line holds 198 characters.  No [reshard] with it.
 *   [fault]     kind, target, at, slot, point, after, heal, + the kind's own keys
 *               (several: [fault], [fault 2], [fault evict], ...)
 *   [repair]    engine, restart, salvage, allow_data_loss, replace,
 *               from_backup (dead masters' keys from the run's backup),
 *               failover (the bundled engine may promote a dead master's
 *               live replica: consent, default no); command,
 *               timeout (engine = exec: a runbook of the user's)
 *   [expect]    reshard, cluster_state, open_slots, failed_nodes,
 *               lost_keys, unreachable_keys, misplaced_keys, unknown_keys,
 *               writes_lost, promoted, decisions, healthy
 *
 * Every unknown section or key, bad value or impossible combination is
 * an error "FILE:LINE: what is wrong; what is allowed".
 */
#ifndef SQ_HARNESS_SCENARIO_H
#define SQ_HARNESS_SCENARIO_H

#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"
#include "harness/local/localcluster.h"
#include "harness/reshard/reshard.h"
#include "injectors/injector.h"

enum role {
	ROLE_SOURCE,
	ROLE_TARGET,
	ROLE_BYSTANDER,
	ROLE_SOURCE_REPLICA,
	ROLE_TARGET_REPLICA,
	ROLE_NODE, /* node:N, N an index into the cluster's nodes */
};

/* When a fault is healed (its revert() runs): once the cluster has
 * settled, before the repair; after the repair, before the verifier; or
 * only at teardown. */
enum fault_heal { HEAL_NEVER, HEAL_BEFORE_REPAIR, HEAL_AFTER_REPAIR };

#define STEP_TIME STEP_COUNT_ /* "time": T ms after the reshard started */

struct fault_spec {
	char name[64];   /* the section name, "fault 2" */
	int line;        /* the section's line */
	const struct injector_ops *ops;
	enum role role;
	int node;        /* ROLE_NODE */
	int step;        /* enum reshard_step or STEP_TIME */
	int slot_index;  /* 1-based slot of the plan (default 1) */
	long long point; /* keys: a count, or a percentage when point_pct */
	bool point_pct;
	long long after_ms; /* time: ms after the reshard started */
	int heal;        /* enum fault_heal: when revert() runs */
	int heal_line;
	struct param *params; /* the kind's own keys (owned strings) */
	size_t nparams;
};

/* An expectation: unset, an exact number, or "> N". */
struct expect_num {
	bool set;
	bool greater; /* true: value > n */
	long long n;
	int line;
};

/* [reshard] from = all: every master gives (a rebalance, with to = new);
 * to = new: a master added, empty, just before the reshard. */
#define RESHARD_FROM_ALL (-1)
#define RESHARD_TO_NEW (-1)

/* [layout]: see the top of this file. */
#define LAYOUT_MASTERS_MAX 100

struct layout_node {
	int master;  /* 0-based */
	int replica; /* 0-based among the master's replicas; -1: the master */
	int line;
};

struct layout_open {
	int slot, from, to; /* masters */
	int pct;            /* share of the slot's keys moved into `to` */
	int line;
};

struct layout {
	bool set;                   /* the file has [layout] */
	int line;                   /* its first key's line */
	short *owner;               /* CLUSTER_SLOTS entries: a master, or -1 */
	int master_line[LAYOUT_MASTERS_MAX];   /* master.N's line, 0: not given */
	int replicas[LAYOUT_MASTERS_MAX];      /* replicas.N, -1: not given */
	int replicas_line[LAYOUT_MASTERS_MAX];
	struct layout_open *open;
	size_t nopen;
	struct layout_node *failed, *nofailover;
	size_t nfailed, nnofailover;
};

enum repair_engine { ENGINE_NONE, ENGINE_SHARDQUAKE, ENGINE_REDIS_CLI, ENGINE_EXEC };

struct scenario {
	char *path;
	char *name;
	char *description;
	uint64_t seed;
	bool quick;
	/* [cluster] */
	int masters, replicas, node_timeout_ms;
	enum persistence persistence;
	enum local_network network;
	const char *server;     /* "redis", "valkey" ([cluster] server), or NULL:
				   whatever `run --server` says (redis) */
	int network_line;
	char *server_config;    /* config = NAME VALUE lines, each ending in
				   '\n', for every node's redis.conf; or NULL */
	/* [data] */
	long long keys;
	int value_size;
	int big_value_size;     /* 0, or bytes per value in big_first..big_last */
	int big_first, big_last;
	int big_line, big_slots_line;
	/* [workload] */
	int writers;            /* 0: no live traffic */
	int workload_keys;      /* default 1000 */
	int workload_rate;      /* commands/s per writer; 0: as fast as each can */
	int workload_get_pct;   /* mix = set:80,get:20: GETs, percent */
	int workload_line;
	/* [reshard] */
	bool has_reshard;
	int from, to, slots, pipeline; /* from = all, to = new: below */
	int *slot_list;     /* slot_list = ...: `slots` slots in this order, or
			       NULL: the first `slots` slots of `from` */
	bool reshard_backup;   /* backup = yes: every master backed up first */
	int backup_line;
	/* [layout] */
	struct layout layout;
	/* [fault] */
	struct fault_spec *faults;
	size_t nfaults;
	/* [repair] */
	int engine;             /* enum repair_engine */
	bool repair_restart, repair_salvage, repair_allow_loss, repair_replace;
	bool repair_from_backup; /* the run's backup is a salvage source */
	bool repair_failover;    /* the engine may promote a dead master's replica */
	int from_backup_line;
	char *repair_command;   /* engine = exec: run by sh -c in the scenario
				   file's directory */
	long long repair_timeout_ms; /* engine = exec (default 300 s) */
	int engine_line, command_line;
	/* [expect] */
	int expect_reshard; /* -1 unset, 0 stops, 1 completes */
	int expect_reshard_line;
	/* where keys were given, for errors about combinations */
	int from_line, to_line, slots_line, replace_line;
	int expect_state;   /* -1 unset, 0 fail, 1 ok */
	int expect_healthy; /* -1 unset, 0 no, 1 yes */
	struct expect_num open_slots, failed_nodes, lost_keys, unreachable_keys,
		misplaced_keys, unknown_keys, writes_lost,
		promoted,  /* replicas the cluster's own failover promoted before the repair */
		decisions; /* values the bundled engine set aside for a person */
};

/* Reads and checks a scenario file.  Returns a new scenario (free with
 * scenario_free()), or NULL with `e` as "FILE:LINE: ...". */
struct scenario *scenario_load(const char *path, struct err *e);
void scenario_free(struct scenario *s);

/* A role as written in scenario files ("source", "node:3") into *role
 * and, for node:N, *node; for `target` and for the fault parameters
 * that name nodes.  -1 with msg "KEY = 'V': expected ..." otherwise. */
int scenario_role_parse(const char *key, const char *v, enum role *role, int *node,
			char *msg, size_t n);

/* Master m's replicas: [layout] replicas.N, or [cluster] replicas. */
int scenario_replicas_of(const struct scenario *s, int m);
/* "master.2", "replica.1.0": a [layout] node as written. */
const char *layout_node_name(const struct layout_node *n, char *buf, size_t len);

/* "source", "node:3", ...: as written in scenario files. */
const char *scenario_role_name(enum role r, int node, char *buf, size_t n);
/* True when `value` satisfies `x` (always true when unset). */
bool expect_num_holds(const struct expect_num *x, long long value);

#endif
