/*
 * client.h - a cluster-aware client: routes each command to the master
 * owning its key's slot and follows the cluster's redirections, as a
 * production client does.
 *
 *   -MOVED slot host:port   the slot lives elsewhere: remember it, learn
 *                           the whole map again (CLUSTER SLOTS), resend
 *   -ASK slot host:port     the key is being migrated: send ASKING and
 *                           the command there once; the map is unchanged
 *   -TRYAGAIN               a multi-key command met a slot in migration:
 *                           retry after a short wait
 *   -CLUSTERDOWN            retry a few times, then hand the error back
 *
 * A connection that fails is reopened and the map learnt again from any
 * node; a node that does not answer fails the call after its timeout,
 * never a hang.  At most CLUSTER_CLIENT_MAX_REDIRECTS redirections.
 */
#ifndef SQ_CLUSTER_CLIENT_H
#define SQ_CLUSTER_CLIENT_H

#include <stddef.h>

#include "cluster/conn.h"

#define CLUSTER_CLIENT_MAX_REDIRECTS 16

enum redirect_kind { REDIRECT_MOVED, REDIRECT_ASK };

struct cluster_redirect {
	enum redirect_kind kind;
	int slot;
	char host[256];
	int port;
};

/* Parses "MOVED 3999 127.0.0.1:6381" or "ASK ..." (an error reply's text,
 * without the '-'); the port follows the last colon ("::1:7000").
 * Returns 0, or -1 for anything else. */
int cluster_redirect_parse(const char *msg, struct cluster_redirect *out);

struct cluster_client_stats {
	long long moved, ask, tryagain, clusterdown, reconnects;
};

struct cluster_client;

/* Connects to host:port and learns the slot map.  Returns a new client;
 * free it with cluster_client_free().  NULL and `e` set on failure. */
struct cluster_client *cluster_client_new(const char *host, int port, int timeout_ms,
					  struct err *e);
void cluster_client_free(struct cluster_client *cc);

/* Sends one command whose key is argv[1] (no key: any node) and returns
 * its reply (reply_free() it), after following redirections.  An error
 * reply other than a redirection is returned as it is; NULL and `e` set
 * when no node could answer. */
struct reply *cluster_client_cmd(struct cluster_client *cc, int argc,
				 const char *const *argv, const size_t *lens,
				 struct err *e);

/* Learns the slot map again from any node that answers. */
int cluster_client_refresh(struct cluster_client *cc, struct err *e);

/* "host:port" of the master the client believes owns `slot`, or NULL;
 * borrowed, valid until the client is freed. */
const char *cluster_client_node_for_slot(const struct cluster_client *cc, unsigned slot);
/* The client's own connection to that master (opened when first
 * needed), or NULL: borrowed, for pipelining commands of the slot's keys
 * with conn_append_argv(); read every reply before the next
 * cluster_client_cmd().  A redirection comes back as an error reply. */
struct conn *cluster_client_conn_for_slot(struct cluster_client *cc, unsigned slot);

const struct cluster_client_stats *cluster_client_stats(const struct cluster_client *cc);

#endif
