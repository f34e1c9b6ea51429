/*
 * source.c - salvage sources: who they were, their rescue servers, and
 * their inventory against the cluster; see source.h.
 */
#include "repair/source.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cluster/slot.h"
#include "common/fs.h"
#include "common/xmalloc.h"

#define SLOTS_PER_FLUSH 512

/* Who a backup's RDB was: backup.json said it. */
static void
from_backup(struct source *s)
{
	size_t i;
	int slot;

	snprintf(s->id, sizeof(s->id), "%s", s->spec->id);
	s->conf_slots = xcalloc(CLUSTER_SLOTS, sizeof(bool));
	for (i = 0; i < s->spec->nranges; i++)
		for (slot = s->spec->ranges[i].first; slot <= s->spec->ranges[i].last; slot++)
			if (slot >= 0 && slot < CLUSTER_SLOTS)
				s->conf_slots[slot] = true;
}

/* Who the files were: the own line of DIR/nodes.conf ("vars" lines
 * aside, it is CLUSTER NODES text).  The user's address wins over it. */
static void
identify(struct source *s)
{
	char path[PATH_MAX + 32], *text, *clean, *line, *save = NULL;
	const struct cluster_node *me;
	struct topology t = TOPOLOGY_INIT;
	struct err e = ERR_INIT;
	size_t i, len = 0;
	int slot;

	snprintf(s->host, sizeof(s->host), "%s", s->spec->host);
	s->port = s->spec->port;
	if (s->spec->backup) {
		from_backup(s);
		return;
	}
	snprintf(path, sizeof(path), "%s/nodes.conf", s->spec->dir);
	if ((text = fs_read_file(path, NULL, &e)) == NULL) {
		snprintf(s->conf_note, sizeof(s->conf_note), "no nodes.conf in it");
		return;
	}
	clean = xcalloc(strlen(text) + 1, 1);
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		if (strncmp(line, "vars ", 5) != 0 && line[0])
			len += (size_t)sprintf(clean + len, "%s\n", line);
	free(text);
	if (topology_parse(&t, clean, &e) < 0 || (me = topology_myself(&t)) == NULL) {
		snprintf(s->conf_note, sizeof(s->conf_note), "its nodes.conf says nothing: %s",
			 e.msg[0] ? e.msg : "no line of its own");
		goto out;
	}
	snprintf(s->id, sizeof(s->id), "%s", me->id);
	for (i = 0; i < t.n; i++)
		if (strcmp(t.nodes[i].master_id, me->id) == 0) {
			s->facts.replicas = xreallocarray(s->facts.replicas, s->facts.nreplicas + 1,
							  sizeof(*s->facts.replicas));
			memcpy(s->facts.replicas[s->facts.nreplicas++], t.nodes[i].id,
			       sizeof(*s->facts.replicas));
		}
	if (!s->host[0] && me->ip[0]) {
		snprintf(s->host, sizeof(s->host), "%s", me->ip);
		s->port = me->port;
	}
	if (me->nranges) {
		s->conf_slots = xcalloc(CLUSTER_SLOTS, sizeof(bool));
		for (i = 0; i < me->nranges; i++)
			for (slot = me->ranges[i].first; slot <= me->ranges[i].last; slot++)
				if (slot >= 0 && slot < CLUSTER_SLOTS)
					s->conf_slots[slot] = true;
	}
out:
	topology_release(&t);
	free(clean);
}

/* What a node left in its directory: an AOF directory (whatever its name:
 * the one holding a *.manifest, whose name gives appendfilename) or an
 * RDB file (*.rdb); the newer wins when there are both. */
struct files {
	char aofdir[256], aofname[256], rdb[256];
	time_t aof_mtime, rdb_mtime;
};

static bool
ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n > k && strcmp(s + n - k, suffix) == 0;
}

static void
find_manifest(const char *dir, const char *sub, struct files *f)
{
	char path[PATH_MAX + 512];
	struct dirent *d;
	struct stat st;
	DIR *dp;

	snprintf(path, sizeof(path), "%s/%s", dir, sub);
	if ((dp = opendir(path)) == NULL)
		return;
	while ((d = readdir(dp)) != NULL) {
		if (!ends_with(d->d_name, ".manifest"))
			continue;
		snprintf(path, sizeof(path), "%s/%s/%s", dir, sub, d->d_name);
		if (stat(path, &st) < 0 || st.st_mtime < f->aof_mtime)
			continue;
		snprintf(f->aofdir, sizeof(f->aofdir), "%s", sub);
		snprintf(f->aofname, sizeof(f->aofname), "%.*s",
			 (int)(strlen(d->d_name) - strlen(".manifest")), d->d_name);
		f->aof_mtime = st.st_mtime;
	}
	closedir(dp);
}

static int
find_files(const char *dir, struct files *f, struct err *e)
{
	char path[PATH_MAX + 512];
	struct dirent *d;
	struct stat st;
	DIR *dp;

	memset(f, 0, sizeof(*f));
	if ((dp = opendir(dir)) == NULL)
		return err_set(e, errno, "open '%s': %s", dir, strerror(errno));
	while ((d = readdir(dp)) != NULL) {
		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
		if (stat(path, &st) < 0)
			continue;
		if (S_ISDIR(st.st_mode))
			find_manifest(dir, d->d_name, f);
		else if (S_ISREG(st.st_mode) && ends_with(d->d_name, ".rdb") &&
			 st.st_mtime >= f->rdb_mtime) {
			snprintf(f->rdb, sizeof(f->rdb), "%s", d->d_name);
			f->rdb_mtime = st.st_mtime;
		}
	}
	closedir(dp);
	if (!f->aofdir[0] && !f->rdb[0])
		return err_set(e, ENOENT, "no AOF directory (with a .manifest) nor .rdb file in '%s'",
			       dir);
	if (f->aofdir[0] && f->rdb[0] && f->rdb_mtime > f->aof_mtime)
		f->aofdir[0] = '\0'; /* AOF turned off since: the RDB is newer */
	return 0;
}

/* Copies the persistence files and starts redis-server on them; returns
 * once it has loaded them and answers. */
static int
rescue_start(struct source *s, const char *redis_server, int timeout_ms, struct err *e)
{
	char from[PATH_MAX + 512], to[PATH_MAX + 512];
	const char *extra[8];
	struct files f;
	bool aof;
	int n = 0;

	if (find_files(s->spec->dir, &f, e) < 0)
		return -1;
	aof = f.aofdir[0] != '\0';
	s->srv.name = "rescue";
	if (private_server_dir(&s->srv, NULL, e) < 0)
		return -1;
	snprintf(from, sizeof(from), "%s/%s", s->spec->dir, aof ? f.aofdir : f.rdb);
	snprintf(to, sizeof(to), "%s/%s", s->srv.dir, aof ? f.aofdir : f.rdb);
	if (fs_copy_tree(from, to, e) < 0)
		return -1;
	snprintf(s->file, sizeof(s->file), "%s", aof ? f.aofname : f.rdb);
	/* an RDB says where in its node's history it was saved (an AOF
	 * does not): successor.h */
	if (!aof)
		rdb_repl_info(from, s->facts.replid, sizeof(s->facts.replid), &s->facts.offset);
	snprintf(s->sub, sizeof(s->sub), "%s", aof ? f.aofdir : "");
	if (aof) {
		extra[n++] = "--appendonly";
		extra[n++] = "yes";
		extra[n++] = "--appenddirname";
		extra[n++] = s->sub;
		extra[n++] = "--appendfilename";
	} else {
		extra[n++] = "--dbfilename";
	}
	extra[n++] = s->file;
	extra[n] = NULL;
	if (private_server_start(&s->srv, redis_server, extra, timeout_ms, 60000, e) < 0)
		return -1;
	/* the copies leave it with MIGRATE ... COPY, which may wait longer */
	if (conn_set_timeout(s->srv.c, conn_migrate_wait_ms(timeout_ms), e) < 0)
		return -1;
	return conn_cmd_int(s->srv.c, &s->keys, e, "DBSIZE", NULL);
}

void
sources_open(struct sources *s, const struct salvage_src *spec, size_t n,
	     const char *redis_server, int timeout_ms)
{
	struct err e = ERR_INIT;
	size_t i;

	memset(s, 0, sizeof(*s));
	s->v = xcalloc(n + 1, sizeof(*s->v));
	s->n = n;
	s->redis_server = redis_server;
	s->timeout_ms = timeout_ms;
	for (i = 0; i < n; i++) {
		s->v[i].spec = &spec[i];
		source_open_files(&s->v[i], redis_server, timeout_ms, &e);
	}
}

int
source_open_files(struct source *src, const char *redis_server, int timeout_ms, struct err *e)
{
	src->srv.proc = (struct proc)PROC_INIT;
	src->facts.offset = -1;
	identify(src);
	if (rescue_start(src, redis_server, timeout_ms, e) < 0) {
		snprintf(src->error, sizeof(src->error), "%s", e->msg);
		private_server_stop(&src->srv, false);
		return -1;
	}
	src->read = true;
	return 0;
}

void
sources_close(struct sources *s)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		private_server_stop(&s->v[i].srv, false);
		free(s->v[i].conf_slots);
		succ_facts_release(&s->v[i].facts);
		keyset_release(&s->v[i].withheld);
		free(s->v[i].own);
		free(s->v[i].only);
		if (s->v[i].fetched[0])
			fs_rm_rf(s->v[i].fetched, NULL);
	}
	free(s->v);
	memset(s, 0, sizeof(*s));
}

/* Every key of the rescue server, with its slot, sorted by slot; the
 * SCAN pages they point into are kept in *pages. */
struct keyref {
	const struct reply *key;
	int slot;
	bool present;
};

static int
by_slot(const void *x, const void *y)
{
	const struct keyref *a = x, *b = y;

	return a->slot - b->slot;
}

/* A replica's keys in the slots it is read for (sorted by slot, as
 * listed). */
static int
list_replica(struct source *src, struct keyref **out, size_t *nout, struct reply ***pages,
	     size_t *npages, struct err *e)
{
	struct reply **keys = NULL;
	size_t nkeys = 0, i;
	int from = 0, rc = 0;

	while (rc == 0 && from < CLUSTER_SLOTS)
		rc = replica_list(src, &from, CLUSTER_SLOTS, &keys, &nkeys, pages, npages, e);
	*out = xcalloc(nkeys + 1, sizeof(**out));
	for (i = 0; rc == 0 && i < nkeys; i++)
		(*out)[i] = (struct keyref){.key = keys[i],
					    .slot = (int)key_slot(keys[i]->str, keys[i]->len)};
	*nout = rc == 0 ? nkeys : 0;
	free(keys);
	return rc;
}

static int
scan_all(struct source *src, struct keyref **out, size_t *nout, struct reply ***pages,
	 size_t *npages, struct err *e)
{
	struct reply *page;
	char cursor[32] = "0";
	size_t cap = 0, i;

	*out = NULL;
	*nout = 0;
	if (src->replica)
		return list_replica(src, out, nout, pages, npages, e);
	do {
		page = conn_cmd(src->srv.c, e, "SCAN", cursor, "COUNT", "1000", NULL);
		if (page == NULL)
			return -1;
		*pages = xreallocarray(*pages, *npages + 1, sizeof(**pages));
		(*pages)[(*npages)++] = page;
		if (page->type != REPLY_ARRAY || page->nelem != 2 ||
		    page->elem[1]->type != REPLY_ARRAY)
			return err_set(e, 0, "'SCAN' on the rescue server of '%s': unexpected reply",
				       src->spec->dir);
		snprintf(cursor, sizeof(cursor), "%s", page->elem[0]->str);
		xgrow(out, &cap, *nout + page->elem[1]->nelem + 1, sizeof(**out));
		for (i = 0; i < page->elem[1]->nelem; i++) {
			const struct reply *k = page->elem[1]->elem[i];
			int slot = (int)key_slot(k->str, k->len);

			if (src->spec->only && !src->spec->only[slot])
				continue;
			(*out)[(*nout)++] = (struct keyref){.key = k, .slot = slot};
		}
	} while (strcmp(cursor, "0") != 0);
	qsort(*out, *nout, sizeof(**out), by_slot);
	return 0;
}

static int
by_name(const void *x, const void *y)
{
	const struct reply *a = *(struct reply *const *)x, *b = *(struct reply *const *)y;
	size_t n = a->len < b->len ? a->len : b->len;
	int c = memcmp(a->str, b->str, n);

	return c ? c : (a->len > b->len) - (a->len < b->len);
}

/* Marks present the keys of one slot (ks[0..n)) that node's reply, all
 * its keys of the slot, names. */
static void
mark_present(struct keyref *ks, size_t n, struct reply *names)
{
	size_t i;

	if (names->type != REPLY_ARRAY || names->nelem == 0)
		return;
	qsort(names->elem, names->nelem, sizeof(*names->elem), by_name);
	for (i = 0; i < n; i++) {
		const struct reply *k = ks[i].key;

		if (bsearch(&k, names->elem, names->nelem, sizeof(*names->elem), by_name))
			ks[i].present = true;
	}
}

/* Who may hold a slot's keys: its owner when it answers, else every
 * reachable master that holds keys of it (every one, when the counts
 * were not all taken). */
static bool
asked(const struct assessment *a, int node, int slot)
{
	int owner = a->snap.owner[slot];

	if (!assess_live_master(a, node))
		return false;
	if (a->full && assess_keys(a, node, slot) == 0)
		return false; /* it has none: no need to ask */
	if (assess_live_master(a, owner))
		return node == owner;
	return true;
}

/* The keys of `node` in the slots of ks: GETKEYSINSLOT for each slot
 * asked there, pipelined.  A node that fails is as one that has none:
 * its keys count as lacking, and a salvage pass looks again. */
static void
ask_node(const struct assessment *a, int node, struct keyref *ks, size_t n)
{
	const struct snap_node *sn = &a->snap.nodes[node];
	const char *argv[4] = {"CLUSTER", "GETKEYSINSLOT", NULL, "1000000000"};
	size_t *first = xcalloc(SLOTS_PER_FLUSH + 1, sizeof(size_t));
	size_t *count = xcalloc(SLOTS_PER_FLUSH + 1, sizeof(size_t));
	struct conn *c = conn_open(sn->host, sn->port, a->timeout_ms, NULL);
	struct reply *r;
	char num[16];
	size_t i = 0, j, k, q;

	while (c && i < n) {
		for (q = 0; i < n && q < SLOTS_PER_FLUSH; i = j) {
			for (j = i; j < n && ks[j].slot == ks[i].slot; j++)
				;
			if (!asked(a, node, ks[i].slot))
				continue;
			snprintf(num, sizeof(num), "%d", ks[i].slot);
			argv[2] = num;
			conn_append_argv(c, 4, argv, NULL);
			first[q] = i;
			count[q++] = j - i;
		}
		if (q && conn_flush(c, NULL) < 0)
			break;
		for (k = 0; k < q; k++) {
			if ((r = conn_read_reply(c, NULL)) == NULL)
				goto out;
			mark_present(ks + first[k], count[k], r);
			reply_free(r);
		}
	}
out:
	conn_free(c);
	free(first);
	free(count);
}

static void
fill(struct asource *as, const struct source *s, const struct assessment *a)
{
	as->dir = s->spec->dir;
	as->backup = s->spec->backup;
	snprintf(as->id, sizeof(as->id), "%s", s->id);
	snprintf(as->host, sizeof(as->host), "%s", s->host);
	as->port = s->port;
	as->node = s->id[0] ? snapshot_find_id(&a->snap, s->id)
	       : s->host[0] ? snapshot_find_addr(&a->snap, s->host, s->port) : -1;
	as->read = s->read;
	snprintf(as->error, sizeof(as->error), "%s", s->error);
	as->keys = s->keys;
	/* a replica is read for keys no master has, not compared whole */
	as->compared = s->compared || s->replica;
	as->replica = s->replica;
	as->unread_slots = s->unread_slots;
	as->unread_keys = s->unread_keys;
	as->replica_of = s->replica && as->node >= 0 ? assess_master_of(a, as->node) : -1;
	if (s->conf_slots) {
		as->conf_slots = xmalloc(CLUSTER_SLOTS * sizeof(bool));
		memcpy(as->conf_slots, s->conf_slots, CLUSTER_SLOTS * sizeof(bool));
	}
}

static int
inventory_one(struct source *s, struct asource *as, const struct assessment *a, struct err *e)
{
	struct keyref *ks = NULL;
	struct reply **pages = NULL;
	size_t nk = 0, np = 0, i;
	int rc = -1;

	if (scan_all(s, &ks, &nk, &pages, &np, e) < 0) {
		err_prefix(e, "salvage source '%s': ", s->spec->dir);
		snprintf(s->error, sizeof(s->error), "%s", e->msg);
		goto out;
	}
	s->keys = (long long)nk;
	as->keys = s->keys;
	for (i = 0; i < a->snap.n; i++)
		if (assess_live_master(a, (int)i))
			ask_node(a, (int)i, ks, nk);
	as->held = xcalloc(CLUSTER_SLOTS, sizeof(long long));
	as->lacking = xcalloc(CLUSTER_SLOTS, sizeof(long long));
	for (i = 0; i < nk; i++) {
		as->held[ks[i].slot]++;
		/* a key a salvage set aside on purpose is not missing */
		if (!ks[i].present && !keyset_has(&s->withheld, ks[i].key->str, ks[i].key->len)) {
			as->lacking[ks[i].slot]++;
			as->lacking_total++;
		}
	}
	rc = 0;
out:
	for (i = 0; i < np; i++)
		reply_free(pages[i]);
	free(pages);
	free(ks);
	return rc;
}

/* A replica that does not list its keys now (loading its new master's
 * data after it followed it, say) holds nothing readable: no keys, so
 * that nothing is given up on its word, and it is asked again next time. */
static void
inventory_replica(struct source *s, struct asource *as, const struct assessment *a)
{
	struct err e = ERR_INIT;

	if (inventory_one(s, as, a, &e) == 0)
		return;
	s->keys = as->keys = as->lacking_total = 0;
	free(as->held);
	free(as->lacking);
	as->held = xcalloc(CLUSTER_SLOTS, sizeof(long long));
	as->lacking = xcalloc(CLUSTER_SLOTS, sizeof(long long));
	s->error[0] = '\0';
}

int
sources_inventory(struct sources *s, struct assessment *a, struct err *e)
{
	size_t k;
	int rc = 0;

	assess_release_sources(a);
	a->src = xcalloc(s->n + 1, sizeof(*a->src));
	a->nsrc = s->n;
	for (k = 0; k < s->n; k++) {
		fill(&a->src[k], &s->v[k], a);
		if (s->v[k].read && s->v[k].replica) {
			inventory_replica(&s->v[k], &a->src[k], a);
			continue;
		}
		if (s->v[k].read && inventory_one(&s->v[k], &a->src[k], a, e) < 0) {
			s->v[k].read = false;
			a->src[k].read = false;
			snprintf(a->src[k].error, sizeof(a->src[k].error), "%s", s->v[k].error);
			rc = -1;
		}
	}
	return rc;
}
