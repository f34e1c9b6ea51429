/*
 * load.c - load a dataset: one thread per master, each sending SET for
 * the keys of its own slots, `pipeline` commands per round trip.
 */
#include "harness/local/load.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/conn.h"
#include "cluster/fetch.h"
#include "cluster/slot.h"
#include "cluster/topology.h"
#include "common/log.h"
#include "common/xmalloc.h"

#define LOAD_TIMEOUT_MS 10000

struct loader {
	const struct dataset *d;
	const int *owner;     /* slot -> node index */
	int me;               /* node index this thread loads */
	char host[64];
	int port;
	int pipeline;
	struct err e;
	int rc;
};

/* Reads `n` replies; each must be +OK. */
static int
drain(struct conn *c, int n, long long first_key, struct err *e)
{
	struct reply *r;
	int i, rc = 0;

	for (i = 0; i < n; i++) {
		r = conn_read_reply(c, e);
		if (r == NULL)
			return -1;
		if (rc == 0 && r->type != REPLY_STATUS)
			rc = err_set(e, 0, "SET near key %lld on '%s': %s", first_key,
				     conn_addr(c), r->type == REPLY_ERROR ? r->str : "bad reply");
		reply_free(r);
	}
	return rc;
}

static void *
load_node(void *arg)
{
	struct loader *l = arg;
	const struct dataset *d = l->d;
	char key[DATASET_KEY_MAX], *val = xmalloc(dataset_value_max(d));
	const char *argv[3] = {"SET", key, val};
	size_t lens[3] = {3, 0, d->value_size};
	long long i, batch_first = 0;
	struct conn *c;
	int queued = 0;

	l->rc = -1;
	c = conn_open(l->host, l->port, LOAD_TIMEOUT_MS, &l->e);
	if (c == NULL)
		goto out;
	for (i = 0; i < d->keys; i++) {
		lens[1] = dataset_key(i, key);
		if (l->owner[key_slot(key, lens[1])] != l->me)
			continue;
		if (queued == 0)
			batch_first = i;
		dataset_value(d, i, val);
		lens[2] = dataset_value_len(d, i);
		conn_append_argv(c, 3, argv, lens); /* hiredis copies the args */
		if (++queued == l->pipeline) {
			if (drain(c, queued, batch_first, &l->e) < 0)
				goto out;
			queued = 0;
		}
	}
	if (queued && drain(c, queued, batch_first, &l->e) < 0)
		goto out;
	l->rc = 0;
out:
	conn_free(c);
	free(val);
	return NULL;
}

/* The slot owners as the node at host:port sees them. */
static int
read_owners(const char *host, int port, struct topology *t, int *owner,
	    struct err *e)
{
	int covered;

	if (topology_fetch_addr(host, port, LOAD_TIMEOUT_MS, t, e) < 0)
		return -1;
	covered = topology_slot_owners(t, owner);
	if (covered != CLUSTER_SLOTS)
		return err_set(e, 0, "'%s:%d' sees only %d of %d slots covered",
			       host, port, covered, CLUSTER_SLOTS);
	return 0;
}

int
dataset_load(const struct dataset *d, const char *host, int port, int pipeline,
	     struct err *e)
{
	struct topology t = TOPOLOGY_INIT;
	int *owner = xmalloc(sizeof(int) * CLUSTER_SLOTS);
	struct loader *ls = NULL;
	pthread_t *th = NULL;
	size_t i;
	int rc = -1;

	if (read_owners(host, port, &t, owner, e) < 0)
		goto out;
	ls = xcalloc(t.n, sizeof(*ls));
	th = xcalloc(t.n, sizeof(*th));
	for (i = 0; i < t.n; i++) {
		const struct cluster_node *n = &t.nodes[i];

		ls[i] = (struct loader){.d = d, .owner = owner, .me = (int)i,
					.port = n->port,
					.pipeline = pipeline > 0 ? pipeline : 1000};
		snprintf(ls[i].host, sizeof(ls[i].host), "%s", n->ip[0] ? n->ip : host);
		if (cluster_node_slot_count(n) == 0)
			continue;
		if (pthread_create(&th[i], NULL, load_node, &ls[i]) != 0)
			fatalx("cannot create a loader thread");
	}
	rc = 0;
	for (i = 0; i < t.n; i++) {
		if (cluster_node_slot_count(&t.nodes[i]) == 0)
			continue;
		pthread_join(th[i], NULL);
		if (ls[i].rc < 0 && rc == 0) {
			*e = ls[i].e;
			rc = -1;
		}
	}
out:
	free(ls);
	free(th);
	free(owner);
	topology_release(&t);
	return rc;
}
