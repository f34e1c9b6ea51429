/* client.c - the cluster-aware client; see client.h. */
#include "cluster/client.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/slot.h"
#include "common/clock.h"
#include "common/xmalloc.h"

#define MAX_CONN_FAILURES 2
#define MAX_CLUSTERDOWN   3

struct node {
	char addr[300]; /* "host:port" */
	char host[256];
	int port;
	struct conn *c;
};

struct cluster_client {
	int timeout_ms;
	struct node **nodes; /* stable pointers: slot_node points into them */
	size_t n, cap;
	struct node *slot_node[CLUSTER_SLOTS];
	struct cluster_client_stats stats;
};

int
cluster_redirect_parse(const char *msg, struct cluster_redirect *out)
{
	struct cluster_redirect r;
	const char *addr, *colon;
	char kind[8], rest[300];
	char *end;
	long slot, port;
	int used = 0;

	if (sscanf(msg, "%7s %ld %299s%n", kind, &slot, rest, &used) != 3 || msg[used] != '\0')
		return -1;
	if (strcmp(kind, "MOVED") == 0)
		r.kind = REDIRECT_MOVED;
	else if (strcmp(kind, "ASK") == 0)
		r.kind = REDIRECT_ASK;
	else
		return -1;
	if (slot < 0 || slot >= CLUSTER_SLOTS)
		return -1;
	addr = rest;
	colon = strrchr(addr, ':');
	if (colon == NULL || colon == addr || (size_t)(colon - addr) >= sizeof(r.host))
		return -1;
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (errno || *end || end == colon + 1 || port < 1 || port > 65535)
		return -1;
	snprintf(r.host, sizeof(r.host), "%.*s", (int)(colon - addr), addr);
	r.slot = (int)slot;
	r.port = (int)port;
	*out = r;
	return 0;
}

static struct node *
node_get(struct cluster_client *cc, const char *host, int port)
{
	struct node *n;
	size_t i;

	for (i = 0; i < cc->n; i++)
		if (cc->nodes[i]->port == port && strcmp(cc->nodes[i]->host, host) == 0)
			return cc->nodes[i];
	xgrow(&cc->nodes, &cc->cap, cc->n + 1, sizeof(*cc->nodes));
	n = xcalloc(1, sizeof(*n));
	snprintf(n->host, sizeof(n->host), "%s", host);
	n->port = port;
	snprintf(n->addr, sizeof(n->addr), "%s:%d", host, port);
	cc->nodes[cc->n++] = n;
	return n;
}

/* The node's connection, opened or reopened as needed. */
static struct conn *
node_conn(struct cluster_client *cc, struct node *n, struct err *e)
{
	if (n->c && !conn_is_broken(n->c))
		return n->c;
	if (n->c) {
		cc->stats.reconnects++;
		if (conn_reconnect(n->c, e) < 0)
			return NULL;
		return n->c;
	}
	n->c = conn_open(n->host, n->port, cc->timeout_ms, e);
	return n->c;
}

/* Reads a CLUSTER SLOTS reply into the map. */
static int
learn(struct cluster_client *cc, const struct reply *r, const char *fallback,
      struct err *e)
{
	const struct reply *range, *master;
	long long a, b, s;
	size_t i;

	if (r->type != REPLY_ARRAY)
		return err_set(e, 0, "'CLUSTER SLOTS': %s", r->type == REPLY_ERROR ? r->str : "not an array");
	for (i = 0; i < r->nelem; i++) {
		range = r->elem[i];
		if (range->type != REPLY_ARRAY || range->nelem < 3)
			return err_set(e, 0, "'CLUSTER SLOTS': malformed range %zu", i);
		master = range->elem[2];
		a = range->elem[0]->integer;
		b = range->elem[1]->integer;
		if (master->type != REPLY_ARRAY || master->nelem < 2 || a < 0 || b >= CLUSTER_SLOTS || a > b)
			return err_set(e, 0, "'CLUSTER SLOTS': malformed range %zu", i);
		for (s = a; s <= b; s++)
			cc->slot_node[s] = node_get(cc, master->elem[0]->len ? master->elem[0]->str : fallback,
						    (int)master->elem[1]->integer);
	}
	return 0;
}

static int
refresh_from(struct cluster_client *cc, struct node *n, struct err *e)
{
	struct conn *c = node_conn(cc, n, e);
	struct reply *r;
	int rc;

	if (c == NULL)
		return -1;
	r = conn_cmd(c, e, "CLUSTER", "SLOTS", NULL);
	if (r == NULL)
		return -1;
	memset(cc->slot_node, 0, sizeof(cc->slot_node));
	rc = learn(cc, r, n->host, e);
	reply_free(r);
	return rc;
}

int
cluster_client_refresh(struct cluster_client *cc, struct err *e)
{
	size_t i;

	for (i = 0; i < cc->n; i++)
		if (refresh_from(cc, cc->nodes[i], e) == 0)
			return 0;
	return err_prefix(e, "no node gave its slot map: ");
}

struct cluster_client *
cluster_client_new(const char *host, int port, int timeout_ms, struct err *e)
{
	struct cluster_client *cc = xcalloc(1, sizeof(*cc));

	cc->timeout_ms = timeout_ms > 0 ? timeout_ms : 2000;
	if (refresh_from(cc, node_get(cc, host, port), e) < 0) {
		cluster_client_free(cc);
		return NULL;
	}
	return cc;
}

void
cluster_client_free(struct cluster_client *cc)
{
	size_t i;

	if (cc == NULL)
		return;
	for (i = 0; i < cc->n; i++) {
		conn_free(cc->nodes[i]->c);
		free(cc->nodes[i]);
	}
	free(cc->nodes);
	free(cc);
}

const char *
cluster_client_node_for_slot(const struct cluster_client *cc, unsigned slot)
{
	return slot < CLUSTER_SLOTS && cc->slot_node[slot] ? cc->slot_node[slot]->addr : NULL;
}

struct conn *
cluster_client_conn_for_slot(struct cluster_client *cc, unsigned slot)
{
	return slot < CLUSTER_SLOTS && cc->slot_node[slot] ? node_conn(cc, cc->slot_node[slot], NULL)
							   : NULL;
}

const struct cluster_client_stats *
cluster_client_stats(const struct cluster_client *cc)
{
	return &cc->stats;
}

/* Sends the command on `n` (after ASKING when asked to). */
static struct reply *
send_to(struct cluster_client *cc, struct node *n, bool asking, int argc,
	const char *const *argv, const size_t *lens, struct err *e)
{
	struct conn *c = node_conn(cc, n, e);

	if (c == NULL)
		return NULL;
	if (asking && conn_cmd_ok(c, e, "ASKING", NULL) < 0)
		return NULL;
	return conn_cmd_argv(c, argc, argv, lens, e);
}

/* Decides what to do with a redirection; returns the next node, or NULL
 * when the reply is the answer. */
static struct node *
redirected(struct cluster_client *cc, const struct reply *r, unsigned slot,
	   int tries, int *downs, bool *asking)
{
	struct cluster_redirect rd;

	*asking = false;
	if (r->type != REPLY_ERROR)
		return NULL;
	if (cluster_redirect_parse(r->str, &rd) == 0) {
		struct node *to = node_get(cc, rd.host, rd.port);

		if (rd.kind == REDIRECT_ASK) {
			cc->stats.ask++;
			*asking = true;
			return to;
		}
		cc->stats.moved++;
		cluster_client_refresh(cc, NULL);
		cc->slot_node[rd.slot] = to; /* what the owner itself says wins */
		return to;
	}
	if (reply_is_error(r, "TRYAGAIN")) {
		cc->stats.tryagain++;
		clock_sleep_ms(10u * (unsigned)(tries + 1));
		return cc->slot_node[slot];
	}
	if (reply_is_error(r, "CLUSTERDOWN") && (*downs)++ < MAX_CLUSTERDOWN) {
		cc->stats.clusterdown++;
		clock_sleep_ms(50);
		cluster_client_refresh(cc, NULL);
		return cc->slot_node[slot];
	}
	return NULL;
}

struct reply *
cluster_client_cmd(struct cluster_client *cc, int argc, const char *const *argv,
		   const size_t *lens, struct err *e)
{
	unsigned slot = argc > 1 ? key_slot(argv[1], lens ? lens[1] : strlen(argv[1])) : 0;
	struct node *n = cc->slot_node[slot] ? cc->slot_node[slot] : cc->nodes[0], *next;
	struct reply *r;
	bool asking = false;
	int tries, conn_failures = 0, downs = 0;

	for (tries = 0; tries <= CLUSTER_CLIENT_MAX_REDIRECTS; tries++) {
		r = send_to(cc, n, asking, argc, argv, lens, e);
		if (r == NULL) {
			if (++conn_failures > MAX_CONN_FAILURES)
				return NULL;
			cluster_client_refresh(cc, NULL);
			asking = false;
			n = cc->slot_node[slot] ? cc->slot_node[slot] : n;
			continue;
		}
		next = redirected(cc, r, slot, tries, &downs, &asking);
		if (next == NULL)
			return r;
		reply_free(r);
		n = next;
	}
	err_set(e, ELOOP, "'%s' for slot %u: more than %d redirections", argv[0], slot,
		CLUSTER_CLIENT_MAX_REDIRECTS);
	return NULL;
}
