/*
 * server.h - which server a cluster runs, Redis or Valkey, and the
 * binary that reads its files and DUMP payloads.
 *
 * A Valkey 8 node writes RDB version 11 files and DUMP payloads that a
 * Redis 7.0 server refuses, so any private server of the repair engine
 * (the salvage's rescue server, the duplicates' stash) must be the
 * cluster's own kind.  Valkey answers INFO with server_name:valkey (its
 * redis_version is a compatibility number, 7.2.4 for 8.0).
 */
#ifndef SQ_CLUSTER_SERVER_H
#define SQ_CLUSTER_SERVER_H

#include <stdbool.h>
#include <stddef.h>

#include "cluster/conn.h"

#include "common/err.h"

/* `--server redis|valkey|PATH` as a binary to exec: "redis-server",
 * "valkey-server", or PATH itself; NULL stays NULL (the caller's
 * default, redis-server on PATH). */
const char *server_binary(const char *arg);

/* The server when neither a command line nor a scenario names one:
 * $SHARDQUAKE_SERVER as server_binary() reads it, or NULL (redis-server
 * on PATH).  What a user (or make check, for its Valkey half) sets to play
 * everything on Valkey without a flag on every command. */
const char *server_default(void);

/* "redis" or "valkey" for a binary named so (by its last path
 * component; NULL: redis), else that component, into buf (size n):
 * what junit names and reports show.  Returns buf. */
const char *server_label(const char *binary, char *buf, size_t n);

/* The binary of the kind of server at host:port: "valkey-server" or
 * "redis-server".  -1 with `e` set when the node cannot be asked. */
int server_binary_at(const char *host, int port, int timeout_ms, const char **binary,
		     struct err *e);

/* True when `binary` (NULL: redis-server) can be run: a path that is
 * executable, or a name found on PATH as execvp would. */
bool server_installed(const char *binary);

/* The major version of the Valkey node behind c; 0 for Redis, or when
 * it cannot be asked.  Valkey 8 replicates CLUSTER SETSLOT to replicas
 * before it applies it (a TIMEOUT argument, NOREPLICAS) and has CLUSTER
 * SLOT-STATS. */
int server_valkey_major_of(struct conn *c);

/* True when the node behind c is Valkey 8 or later, whose primary ends
 * an import, and takes the slot itself, as soon as the source's gossip
 * does not claim the slot (Redis 7.0 keeps the import until told).
 * False when it is not, or cannot be asked. */
bool server_ends_unclaimed_imports(struct conn *c);

#endif
