/*
 * from_backup.c - salvage sources from a backup (cluster/backup.h): one
 * per master of the backup that is dead now, read from its RDB.
 *
 * Dead means no reachable node has its id any more: killed, or come back
 * without its files as another node.  A master that still answers keeps
 * the keys of the slots it still serves: reading those from its backup
 * would only bring back keys deleted since.  But keys of the slots it
 * gave away since the backup (or has open, half given), to a node that
 * may be dead now, are read: a reshard's MIGRATE moved them after the
 * backup, and the backup of their old owner is the only copy left.  The
 * backup is never written to: the rescue server loads a copy (source.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/snapshot.h"
#include "common/xmalloc.h"
#include "repair/source.h"

/* The slots of m in the backup that live node k no longer serves alone:
 * another owns them now, or k has them open; NULL when none. */
static bool *
given_away(const struct snapshot *snap, int k, const struct backup_master *m)
{
	const struct cluster_node *me = topology_myself(&snap->nodes[k].view);
	bool *only = xcalloc(CLUSTER_SLOTS, sizeof(bool)), any = false;
	size_t i, j;
	int slot;

	for (i = 0; i < m->nranges; i++)
		for (slot = m->ranges[i].first; slot <= m->ranges[i].last; slot++) {
			if (snap->owner[slot] == k)
				continue;
			only[slot] = any = true;
		}
	for (j = 0; me && j < me->nopen; j++)
		if (me->open[j].state == SLOT_MIGRATING)
			only[me->open[j].slot] = any = true;
	if (!any) {
		free(only);
		return NULL;
	}
	return only;
}

int
sources_from_backup(const char *dir, const char *host, int port, int timeout_ms,
		    struct backup *b, struct salvage_src **out, size_t *n, struct err *e)
{
	struct snapshot snap;
	struct salvage_src *v;
	size_t i;
	int k;

	if (backup_read(dir, b, e) < 0)
		return err_prefix(e, "--from-backup: ");
	if (snapshot_take(&snap, host, port, timeout_ms, e) < 0) {
		backup_release(b);
		return -1;
	}
	v = xcalloc(b->n + 1, sizeof(*v));
	*n = 0;
	for (i = 0; i < b->n; i++) {
		const struct backup_master *m = &b->m[i];
		struct salvage_src *s;

		bool *only = NULL;

		k = snapshot_find_id(&snap, m->id);
		if (k >= 0 && snap.nodes[k].reachable && (only = given_away(&snap, k, m)) == NULL)
			continue;
		s = &v[(*n)++];
		s->only = only;
		snprintf(s->host, sizeof(s->host), "%s", m->host);
		s->port = m->port;
		/* node-PORT/dump.rdb: its directory holds that file alone */
		snprintf(s->dir, sizeof(s->dir), "%s/%.*s", dir,
			 (int)(strrchr(m->rdb, '/') ? strrchr(m->rdb, '/') - m->rdb : 0), m->rdb);
		s->backup = true;
		snprintf(s->id, sizeof(s->id), "%s", m->id);
		s->ranges = m->ranges;
		s->nranges = m->nranges;
	}
	snapshot_release(&snap);
	*out = v;
	return 0;
}
