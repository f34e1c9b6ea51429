/* snapshot.c - discovering nodes and recording their views; see snapshot.h. */
#include "cluster/snapshot.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/conn.h"
#include "cluster/fetch.h"
#include "common/xmalloc.h"

int
snapshot_find_id(const struct snapshot *s, const char *id)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (s->nodes[i].id[0] && strcmp(s->nodes[i].id, id) == 0)
			return (int)i;
	return -1;
}

int
snapshot_find_addr(const struct snapshot *s, const char *host, int port)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (s->nodes[i].port == port && strcmp(s->nodes[i].host, host) == 0)
			return (int)i;
	return -1;
}

int
snapshot_add(struct snapshot *s, const char *id, const char *host, int port)
{
	struct snap_node *n;

	s->nodes = xreallocarray(s->nodes, s->n + 1, sizeof(*s->nodes));
	n = &s->nodes[s->n];
	memset(n, 0, sizeof(*n));
	snprintf(n->id, sizeof(n->id), "%s", id ? id : "");
	snprintf(n->host, sizeof(n->host), "%s", host);
	n->port = port;
	return (int)s->n++;
}

/* Asks one node for its view; fills reachable/error/state/view/id, and
 * c when the link is to be kept. */
static void
probe(struct snap_node *n, int timeout_ms, bool keep)
{
	struct err e = ERR_INIT;
	struct conn *c = conn_open(n->host, n->port, timeout_ms, &e);
	char *info = NULL;
	const struct cluster_node *me;

	if (c == NULL)
		goto fail;
	info = conn_cmd_str(c, &e, "CLUSTER", "INFO", NULL);
	if (info == NULL)
		goto fail;
	if (topology_fetch(c, &n->view, &e) < 0)
		goto fail;
	info_field(info, "cluster_state", n->state, sizeof(n->state));
	me = topology_myself(&n->view);
	if (me && n->id[0] && strcmp(me->id, n->id) != 0) {
		/* the address answers, but as another node: the one the
		 * cluster knows there is gone (restarted without its files) */
		err_set(&e, 0, "'%s:%d' answers as another node, %.8s, not %.8s: its "
			"nodes.conf is gone", n->host, n->port, me->id, n->id);
		topology_release(&n->view);
		n->state[0] = '\0';
		goto fail;
	}
	if (me && n->id[0] == '\0')
		snprintf(n->id, sizeof(n->id), "%s", me->id);
	n->reachable = true;
	if (keep) {
		n->c = c;
		c = NULL;
	}
	goto out;
fail:
	snprintf(n->error, sizeof(n->error), "%s", e.msg);
out:
	free(info);
	conn_free(c);
}

/* Adds every node a view knows of (by id, else by address). */
static void
learn(struct snapshot *s, size_t from, const char *fallback_host)
{
	/* a copy: snapshot_add() below may move s->nodes, and the view
	 * with it (its own array of nodes stays where it is) */
	const struct topology t = s->nodes[from].view;
	const struct cluster_node *n;
	const char *host;
	size_t i;
	int k;

	for (i = 0; i < t.n; i++) {
		n = &t.nodes[i];
		if (n->flags & NODE_HANDSHAKE)
			continue;
		if (snapshot_find_id(s, n->id) >= 0)
			continue;
		host = n->ip[0] ? n->ip : fallback_host;
		k = snapshot_find_addr(s, host, n->port);
		if (k >= 0 && s->nodes[k].id[0] == '\0')
			snprintf(s->nodes[k].id, sizeof(s->nodes[k].id), "%s", n->id);
		else if (k < 0)
			snapshot_add(s, n->id, host, n->port);
	}
}

/* Nodes asked at once, at most: nodes that do not answer cost their wave
 * one timeout per 16 of them, not one each. */
#define WAVE_THREADS 16

/* A wave: the nodes [next, to) of s, asked by as many threads as there
 * are nodes (the caller's among them), at most WAVE_THREADS. */
struct wave {
	struct snapshot *s;
	size_t next, to;
	int timeout_ms;
	bool keep;
	pthread_mutex_t mu;
};

static void *
wave_worker(void *arg)
{
	struct wave *w = arg;
	size_t i;

	for (;;) {
		pthread_mutex_lock(&w->mu);
		i = w->next++;
		pthread_mutex_unlock(&w->mu);
		if (i >= w->to)
			return NULL;
		probe(&w->s->nodes[i], w->timeout_ms, w->keep);
	}
}

/* Asks the nodes [from, to) of s, all at once (s->nodes stays put: no
 * node is added while they are asked); one by one, in the calling
 * thread, when its commands are tapped (an audit log sees every probe,
 * in order, as a tap sees only its own thread). */
static void
ask_wave(struct snapshot *s, size_t from, size_t to, int timeout_ms, bool keep)
{
	struct wave w = {.s = s, .next = from, .to = to, .timeout_ms = timeout_ms, .keep = keep};
	pthread_t t[WAVE_THREADS];
	size_t k, n = 0;

	pthread_mutex_init(&w.mu, NULL);
	for (k = 1; k < to - from && n < WAVE_THREADS - 1 && !conn_trace_on(); k++)
		if (pthread_create(&t[n], NULL, wave_worker, &w) == 0)
			n++;
	wave_worker(&w);
	for (k = 0; k < n; k++)
		pthread_join(t[k], NULL);
	pthread_mutex_destroy(&w.mu);
}

static int
take(struct snapshot *s, const char *host, int port, int timeout_ms, bool keep, struct err *e)
{
	size_t from = 0, to, i;

	memset(s, 0, sizeof(*s));
	snapshot_add(s, NULL, host, port);
	/* in waves: the address given, then every node its view names,
	 * then any node only those views name, and so on */
	while (from < s->n) {
		to = s->n;
		ask_wave(s, from, to, timeout_ms, keep);
		for (i = from; i < to; i++)
			if (s->nodes[i].reachable)
				learn(s, i, host);
		from = to;
	}
	snapshot_index(s);
	if (s->ref < 0)
		return err_set(e, 0, "no node answered: %s", s->nodes[0].error);
	return 0;
}

int
snapshot_take(struct snapshot *s, const char *host, int port, int timeout_ms, struct err *e)
{
	return take(s, host, port, timeout_ms, false, e);
}

int
snapshot_take_kept(struct snapshot *s, const char *host, int port, int timeout_ms,
		   struct err *e)
{
	return take(s, host, port, timeout_ms, true, e);
}

void
snapshot_index(struct snapshot *s)
{
	int owner[CLUSTER_SLOTS], slot, *as_node;
	const struct topology *view;
	size_t i;

	s->ref = -1;
	for (i = 0; i < s->n && s->ref < 0; i++)
		if (s->nodes[i].reachable)
			s->ref = (int)i;
	for (slot = 0; slot < CLUSTER_SLOTS; slot++)
		s->owner[slot] = -1;
	if (s->ref < 0)
		return;
	view = &s->nodes[s->ref].view;
	topology_slot_owners(view, owner);
	/* each node of the view as a snapshot index, once, not per slot */
	as_node = xcalloc(view->n + 1, sizeof(*as_node));
	for (i = 0; i < view->n; i++)
		as_node[i] = snapshot_find_id(s, view->nodes[i].id);
	for (slot = 0; slot < CLUSTER_SLOTS; slot++)
		if (owner[slot] >= 0)
			s->owner[slot] = as_node[owner[slot]];
	free(as_node);
}

void
snapshot_release(struct snapshot *s)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		topology_release(&s->nodes[i].view);
		conn_free(s->nodes[i].c);
	}
	free(s->nodes);
	s->nodes = NULL;
	s->n = 0;
}
