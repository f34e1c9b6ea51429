/*
 * private_server.h - a redis-server of the repair engine's own: on
 * loopback, not in cluster mode, in a private directory, a child of the
 * engine.  Salvage's rescue server and the duplicates' stash are both one.
 */
#ifndef SQ_REPAIR_PRIVATE_SERVER_H
#define SQ_REPAIR_PRIVATE_SERVER_H

#include <limits.h>
#include <stdbool.h>

#include "cluster/conn.h"
#include "common/err.h"
#include "common/proc.h"

struct private_server {
	const char *name;     /* "rescue", "stash": its directory, log, messages */
	const char *host;     /* where it listens, an address the cluster's
				 nodes reach (they MIGRATE into a stash);
				 NULL: 127.0.0.1 */
	char dir[PATH_MAX];   /* absolute: redis opens its log after moving there */
	char port_s[16];
	struct proc proc;
	struct conn *c;       /* once it answers */
};

/* Makes dir: parent/shardquake-NAME-XXXXXX (parent NULL: $TMPDIR, /tmp). */
int private_server_dir(struct private_server *s, const char *parent, struct err *e);
/* Starts redis-server (NULL: on PATH) in dir with `extra` options
 * (NULL-terminated, after the defaults: --save "" --appendonly no), and
 * waits up to wait_ms until it has loaded what it loads and answers. */
int private_server_start(struct private_server *s, const char *redis_server,
			 const char *const *extra, int timeout_ms, int wait_ms, struct err *e);
/* Stops it; removes its directory unless `keep`.  Safe when not started. */
void private_server_stop(struct private_server *s, bool keep);

#endif
