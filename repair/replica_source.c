/*
 * replica_source.c - live replicas as salvage sources: which replicas,
 * which of their slots, their keys listed and read in place; see
 * source.h.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "common/fs.h"
#include "common/xmalloc.h"
#include "repair/source.h"

#define LIST_SLOTS_MAX 512
#define FETCH_MS 120000

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

/* The client of the server's kind: redis-server -> redis-cli,
 * valkey-server -> valkey-cli (a path keeps its folder). */
static void
cli_for(const char *server, char *buf, size_t n)
{
	size_t len;

	snprintf(buf, n, "%s", server ? server : "redis-server");
	len = strlen(buf);
	if (len > 6 && strcmp(buf + len - 6, "server") == 0 && len - 6 + 4 < n)
		snprintf(buf + len - 6, n - (len - 6), "cli");
	else
		snprintf(buf, n, "redis-cli");
}

/* The replica's whole data as dir/dump.rdb: `CLI --rdb` has it send one
 * full sync, as to a replica of its own (it does while its own link to
 * its master is up). */
static int
fetch_rdb(const struct source *rep, const char *redis_server, const char *dir, struct err *e)
{
	char cli[PATH_MAX], port[16], file[PATH_MAX + 16], log[PATH_MAX + 16];
	const char *argv[] = {cli, "-h", rep->own->host, "-p", port, "--rdb", file, NULL};
	struct proc p = PROC_INIT;

	cli_for(redis_server, cli, sizeof(cli));
	snprintf(port, sizeof(port), "%d", rep->own->port);
	snprintf(file, sizeof(file), "%s/dump.rdb", dir);
	snprintf(log, sizeof(log), "%s/fetch.log", dir);
	p.argv = argv;
	p.out_path = log;
	if (proc_start(&p, e) < 0)
		return -1;
	if (proc_wait(&p, FETCH_MS, e) < 0) {
		proc_kill(&p);
		return err_prefix(e, "'%s --rdb' from %s: ", cli, rep->own->dir);
	}
	if (!WIFEXITED(p.status) || WEXITSTATUS(p.status) != 0)
		return err_set(e, 0, "'%s --rdb' from %s %s (see %s)", cli, rep->own->dir,
			       proc_describe_status(p.status), log);
	return 0;
}

/* The replica's link to its master is up and no sync is under way: it
 * can send a copy of its data now. */
static bool
link_up(struct source *rep)
{
	char *info;
	char up[16] = "", sync[16] = "";
	bool ok;

	if (rep->srv.c == NULL)
		return false;
	info = conn_cmd_str(rep->srv.c, NULL, "INFO", "replication", NULL);
	ok = info && info_field(info, "master_link_status", up, sizeof(up)) == 0 &&
	     strcmp(up, "up") == 0 &&
	     info_field(info, "master_sync_in_progress", sync, sizeof(sync)) == 0 &&
	     strcmp(sync, "0") == 0;
	free(info);
	return ok;
}

/* For the slots replica source `rep` holds keys of but cannot serve (its
 * master lost them): a copy of its data read as files, limited to those
 * slots; once per replica.  One that cannot be taken is a source not
 * read, with the reason: the plan says so. */
static void
add_rdb_copy(struct sources *s, size_t r, const bool *unread)
{
	struct source *src, *rep;
	struct err e = ERR_INIT;
	bool *only;

	s->v = xreallocarray(s->v, s->n + 2, sizeof(*s->v));
	rep = &s->v[r];
	rep->fetched_rdb = true;
	src = &s->v[s->n++];
	memset(src, 0, sizeof(*src));
	src->srv.proc = (struct proc)PROC_INIT;
	src->own = xcalloc(1, sizeof(*src->own));
	src->only = only = xcalloc(CLUSTER_SLOTS, sizeof(bool));
	memcpy(only, unread, CLUSTER_SLOTS * sizeof(bool));
	snprintf(src->own->host, sizeof(src->own->host), "%s", rep->own->host);
	src->own->port = rep->own->port;
	src->own->only = only;
	src->spec = src->own;
	snprintf(src->fetched, sizeof(src->fetched), "%s/shardquake-replica-XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(src->fetched) == NULL) {
		src->fetched[0] = '\0';
		snprintf(src->error, sizeof(src->error), "mkdtemp: %s", strerror(errno));
		return;
	}
	snprintf(src->own->dir, sizeof(src->own->dir), "%s", src->fetched);
	if (fetch_rdb(rep, s->redis_server, src->fetched, &e) < 0) {
		snprintf(src->error, sizeof(src->error), "%s", e.msg);
		return;
	}
	source_open_files(src, s->redis_server, s->timeout_ms, &e);
}

/* Of the slots in only[], those replica i can read: its master serves
 * them in its own view (a READONLY replica answers MOVED for the
 * others); the others counted into *unread, their keys into *ukeys. */
static int
readable(const struct assessment *a, int i, bool *only, bool *gone, int *unread,
	 long long *ukeys)
{
	int m = assess_master_of(a, i), slot, n = 0;

	/* by the cluster's view, not the replica's own: a replica that has
	 * not heard yet that its master lost a slot still answers for it,
	 * and its keys were read twice, live now and from a copy next round */
	*unread = 0;
	*ukeys = 0;
	memset(gone, 0, CLUSTER_SLOTS * sizeof(bool));
	for (slot = 0; slot < CLUSTER_SLOTS; slot++) {
		if (!only[slot])
			continue;
		if (m >= 0 && assess_ref_owner(a, slot) == m) {
			n++;
			continue;
		}
		only[slot] = false;
		gone[slot] = true;
		(*unread)++;
		*ukeys += assess_held(a, i, slot);
	}
	return n;
}

void
sources_add_replicas(struct sources *s, const struct assessment *a, int timeout_ms)
{
	bool *only = xcalloc(CLUSTER_SLOTS, sizeof(bool));
	bool *gone = xcalloc(CLUSTER_SLOTS, sizeof(bool));
	struct source *src;
	size_t i;

	for (i = 0; i < a->snap.n; i++) {
		const struct snap_node *sn = &a->snap.nodes[i];
		int unread = 0;
		long long ukeys = 0;
		bool has = a->nodes[i].reachable && !a->nodes[i].master &&
			   assess_replica_slots(a, (int)i, only) > 0 &&
			   readable(a, (int)i, only, gone, &unread, &ukeys) >= 0;

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
		/* a replica sends a copy only while its link is up (its
		 * master answers; not one it follows since moments ago) */
		if (unread && !src->fetched_rdb &&
		    assess_live_master(a, assess_master_of(a, (int)i)) && link_up(src))
			add_rdb_copy(s, (size_t)(src - s->v), gone);
	}
	free(only);
	free(gone);
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
	conn_config_get(src->srv.c, "cluster-allow-reads-when-down", was, n, NULL);
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
