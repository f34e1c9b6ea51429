/*
 * replica_source.c - live replicas as salvage sources: which replicas,
 * which of their slots, their keys listed and read in place; see
 * source.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"
#include "repair/source.h"

#define LIST_SLOTS_MAX 512

/* The replica source of node id, or NULL. */
static struct source *
find_replica(struct sources *s, const char *id)
{
	size_t k;

	for (k = 0; k < s->n; k++)
		if (s->v[k].replica && strcmp(s->v[k].id, id) == 0)
			return &s->v[k];
	return NULL;
}

/* A READONLY connection to the replica: it answers reads of its master's
 * slots itself instead of redirecting them. */
static void
connect_replica(struct source *src, int timeout_ms)
{
	struct err e = ERR_INIT;

	if (src->srv.c && !conn_is_broken(src->srv.c))
		return;
	conn_free(src->srv.c);
	src->read = false;
	if ((src->srv.c = conn_open(src->own->host, src->own->port, timeout_ms, &e)) == NULL ||
	    conn_cmd_ok(src->srv.c, &e, "READONLY", NULL) < 0) {
		snprintf(src->error, sizeof(src->error), "%s", e.msg);
		return;
	}
	src->error[0] = '\0';
	src->read = true;
}

static struct source *
add_replica(struct sources *s, const struct snap_node *sn)
{
	struct source *src;

	s->v = xreallocarray(s->v, s->n + 2, sizeof(*s->v));
	src = &s->v[s->n++];
	memset(src, 0, sizeof(*src));
	src->srv.proc = (struct proc)PROC_INIT;
	src->replica = true;
	src->own = xcalloc(1, sizeof(*src->own));
	src->only = xcalloc(CLUSTER_SLOTS, sizeof(bool));
	snprintf(src->own->host, sizeof(src->own->host), "%s", sn->host);
	src->own->port = sn->port;
	snprintf(src->own->dir, sizeof(src->own->dir), "replica %s:%d", sn->host, sn->port);
	src->own->only = src->only;
	src->spec = src->own;
	snprintf(src->id, sizeof(src->id), "%s", sn->id);
	snprintf(src->host, sizeof(src->host), "%s", sn->host);
	src->port = sn->port;
	return src;
}

/* Of the slots in only[], those replica i can read: its master serves
 * them in its own view (a READONLY replica answers MOVED for the
 * others); the others counted into *unread, their keys into *ukeys. */
static int
readable(const struct assessment *a, int i, bool *only, int *unread, long long *ukeys)
{
	int *owner = xcalloc(CLUSTER_SLOTS, sizeof(int)), m = assess_master_of(a, i), slot, n = 0;
	const struct topology *v = &a->snap.nodes[i].view;

	topology_slot_owners(v, owner);
	*unread = 0;
	*ukeys = 0;
	for (slot = 0; slot < CLUSTER_SLOTS; slot++) {
		if (!only[slot])
			continue;
		if (m >= 0 && owner[slot] >= 0 &&
		    strcmp(v->nodes[owner[slot]].id, a->snap.nodes[m].id) == 0) {
			n++;
			continue;
		}
		only[slot] = false;
		(*unread)++;
		*ukeys += assess_held(a, i, slot);
	}
	free(owner);
	return n;
}

void
sources_add_replicas(struct sources *s, const struct assessment *a, int timeout_ms)
{
	bool *only = xcalloc(CLUSTER_SLOTS, sizeof(bool));
	struct source *src;
	size_t i;

	for (i = 0; i < a->snap.n; i++) {
		const struct snap_node *sn = &a->snap.nodes[i];
		int unread = 0;
		long long ukeys = 0;
		bool has = a->nodes[i].reachable && !a->nodes[i].master &&
			   assess_replica_slots(a, (int)i, only) > 0 &&
			   readable(a, (int)i, only, &unread, &ukeys) >= 0;

		if ((src = find_replica(s, sn->id)) == NULL && !has)
			continue;
		if (src == NULL)
			src = add_replica(s, sn);
		src->unread_slots = unread;
		src->unread_keys = ukeys;
		if (has) {
			memcpy(src->only, only, CLUSTER_SLOTS * sizeof(bool));
			connect_replica(src, timeout_ms);
		} else {
			memset(src->only, 0, CLUSTER_SLOTS * sizeof(bool));
		}
	}
	free(only);
}

int
replica_list(struct source *src, int *from, long long limit, struct reply ***keys,
	     size_t *nkeys, struct reply ***pages, size_t *npages, struct err *e)
{
	const char *argv[4] = {"CLUSTER", "GETKEYSINSLOT", NULL, "1000000000"};
	int slots[LIST_SLOTS_MAX], n = 0, k, slot;
	size_t cap = *nkeys, j;
	struct reply *r;
	char num[16];

	for (slot = *from; slot < CLUSTER_SLOTS && n < LIST_SLOTS_MAX && n < limit; slot++) {
		if (!src->only[slot])
			continue;
		snprintf(num, sizeof(num), "%d", slot);
		argv[2] = num;
		conn_append_argv(src->srv.c, 4, argv, NULL);
		slots[n++] = slot;
	}
	*from = slot;
	if (n && conn_flush(src->srv.c, e) < 0)
		return -1;
	for (k = 0; k < n; k++) {
		if ((r = conn_read_reply(src->srv.c, e)) == NULL)
			return -1;
		*pages = xreallocarray(*pages, *npages + 1, sizeof(**pages));
		(*pages)[(*npages)++] = r;
		if (r->type != REPLY_ARRAY)
			return err_set(e, 0, "'CLUSTER GETKEYSINSLOT %d' on '%s': %s", slots[k],
				       conn_addr(src->srv.c),
				       r->type == REPLY_ERROR ? r->str : "unexpected reply");
		xgrow(keys, &cap, *nkeys + r->nelem + 1, sizeof(**keys));
		for (j = 0; j < r->nelem; j++)
			(*keys)[(*nkeys)++] = r->elem[j];
	}
	return 0;
}

void
replica_relax(struct source *src, char *was, size_t n)
{
	struct reply *r = conn_cmd(src->srv.c, NULL, "CONFIG", "GET",
				   "cluster-allow-reads-when-down", NULL);

	was[0] = '\0';
	if (r && r->type == REPLY_ARRAY && r->nelem == 2 && r->elem[1]->type == REPLY_STRING)
		snprintf(was, n, "%s", r->elem[1]->str);
	reply_free(r);
	if (strcmp(was, "no") == 0 &&
	    conn_cmd_ok(src->srv.c, NULL, "CONFIG", "SET", "cluster-allow-reads-when-down", "yes",
			NULL) < 0)
		was[0] = '\0';
}

void
replica_unrelax(struct source *src, const char *was)
{
	if (strcmp(was, "no") == 0)
		conn_cmd_ok(src->srv.c, NULL, "CONFIG", "SET", "cluster-allow-reads-when-down", "no",
			    NULL);
}
