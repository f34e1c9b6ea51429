/* salvage.c - a dead node's keys from its files; see salvage.h. */
#include "repair/salvage.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cluster/fetch.h"
#include "common/fs.h"
#include "common/xmalloc.h"
#include "repair/private_server.h"

struct rescue {
	struct private_server srv;
	char file[256], sub[256]; /* what it loads */
};

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
rescue_start(struct rescue *r, const char *dir, const char *redis_server, int timeout_ms,
	     struct err *e)
{
	char from[PATH_MAX + 512], to[PATH_MAX + 512];
	const char *extra[8];
	struct files f;
	bool aof;
	int n = 0;

	if (find_files(dir, &f, e) < 0)
		return -1;
	aof = f.aofdir[0] != '\0';
	r->srv.name = "rescue";
	if (private_server_dir(&r->srv, NULL, e) < 0)
		return -1;
	snprintf(from, sizeof(from), "%s/%s", dir, aof ? f.aofdir : f.rdb);
	snprintf(to, sizeof(to), "%s/%s", r->srv.dir, aof ? f.aofdir : f.rdb);
	if (fs_copy_tree(from, to, e) < 0)
		return -1;
	snprintf(r->file, sizeof(r->file), "%s", aof ? f.aofname : f.rdb);
	snprintf(r->sub, sizeof(r->sub), "%s", aof ? f.aofdir : "");
	if (aof) {
		extra[n++] = "--appendonly";
		extra[n++] = "yes";
		extra[n++] = "--appenddirname";
		extra[n++] = r->sub;
		extra[n++] = "--appendfilename";
	} else {
		extra[n++] = "--dbfilename";
	}
	extra[n++] = r->file;
	extra[n] = NULL;
	return private_server_start(&r->srv, redis_server, extra, timeout_ms, 60000, e);
}

struct owners {
	struct topology t;
	int owner[CLUSTER_SLOTS];
	struct conn **c;
	const char *host;
	int timeout_ms;
};

/* The current owners, from the first reachable master. */
static int
owners_load(struct owners *o, const struct assessment *a, int timeout_ms, struct err *e)
{
	size_t i;

	for (i = 0; i < a->snap.n; i++)
		if (a->nodes[i].reachable && a->nodes[i].master) {
			o->host = a->snap.nodes[i].host;
			if (topology_fetch_addr(a->snap.nodes[i].host, a->snap.nodes[i].port,
						timeout_ms, &o->t, e) < 0)
				return -1;
			topology_slot_owners(&o->t, o->owner);
			o->c = xcalloc(o->t.n + 1, sizeof(*o->c));
			o->timeout_ms = timeout_ms;
			return 0;
		}
	return err_set(e, 0, "no reachable master to salvage keys to");
}

static struct conn *
owner_conn(struct owners *o, int k, struct err *e)
{
	const struct cluster_node *n = &o->t.nodes[k];

	if (o->c[k] == NULL)
		o->c[k] = conn_open(n->ip[0] ? n->ip : o->host, n->port, o->timeout_ms, e);
	return o->c[k];
}

/* One SCAN page: every key to its owner, grouped by owner. */
static int
place(struct rescue *r, struct owners *o, const struct reply *page, struct move_result *mr,
      long long *unplaced, struct err *e)
{
	struct reply **group = xcalloc(page->nelem + 1, sizeof(*group));
	bool *bad = xcalloc(page->nelem + 1, sizeof(*bad));
	size_t i, k, n;
	struct move_opts mo = {.timeout_ms = o->timeout_ms};
	struct conn *dst;
	int rc = 0;

	for (k = 0; k < o->t.n && rc == 0; k++) {
		for (i = 0, n = 0; i < page->nelem; i++)
			if (o->owner[key_slot(page->elem[i]->str, page->elem[i]->len)] == (int)k)
				group[n++] = page->elem[i];
		if (n == 0)
			continue;
		if ((dst = owner_conn(o, (int)k, e)) == NULL ||
		    move_keys(r->srv.c, dst, group, n, &mo, bad, mr, e) < 0)
			rc = -1;
	}
	for (i = 0; i < page->nelem; i++)
		if (o->owner[key_slot(page->elem[i]->str, page->elem[i]->len)] < 0)
			(*unplaced)++;
	free(group);
	free(bad);
	return rc;
}

int
salvage_node(const struct salvage_src *src, const struct assessment *a,
	     const char *redis_server, int timeout_ms, long long *moved, struct err *e)
{
	struct rescue r = {.srv = {.proc = PROC_INIT}};
	struct owners o = {.t = TOPOLOGY_INIT};
	struct move_result mr = {0};
	struct reply *page = NULL;
	char cursor[32] = "0";
	long long unplaced = 0, loaded = 0;
	size_t i;
	int rc = -1;

	*moved = 0;
	if (rescue_start(&r, src->dir, redis_server, timeout_ms, e) < 0 ||
	    owners_load(&o, a, timeout_ms, e) < 0)
		goto out;
	if (conn_set_timeout(r.srv.c, conn_migrate_wait_ms(timeout_ms), e) < 0)
		goto out;
	/* nothing loaded is not "nothing to salvage": a node whose files
	 * hold no key is given up with --allow-data-loss, knowingly */
	if (conn_cmd_int(r.srv.c, &loaded, e, "DBSIZE", NULL) < 0)
		goto out;
	if (loaded == 0) {
		err_set(e, 0, "the rescue redis-server loaded no key from '%s/%s%s%s': if "
			"%s:%d held none, give it up with --allow-data-loss", src->dir, r.sub,
			r.sub[0] ? "/" : "", r.file, src->host, src->port);
		goto out;
	}
	do {
		page = conn_cmd(r.srv.c, e, "SCAN", cursor, "COUNT", "1000", NULL);
		if (page == NULL)
			goto out;
		if (page->type != REPLY_ARRAY || page->nelem != 2 ||
		    page->elem[1]->type != REPLY_ARRAY) {
			err_set(e, 0, "'SCAN' on the rescue server: unexpected reply");
			goto out;
		}
		snprintf(cursor, sizeof(cursor), "%s", page->elem[0]->str);
		if (place(&r, &o, page->elem[1], &mr, &unplaced, e) < 0)
			goto out;
		reply_free(page);
		page = NULL;
	} while (strcmp(cursor, "0") != 0);
	*moved = mr.moved;
	if (mr.conflicts || unplaced) {
		err_set(e, 0, "%lld keys of %s:%d stay in its files: %lld conflict with another "
			"value on their owner (first: '%s'), %lld are of slots nobody owns",
			mr.conflicts + unplaced, src->host, src->port, mr.conflicts,
			mr.conflicts ? mr.conflict[0] : "", unplaced);
		goto out;
	}
	rc = 0;
out:
	reply_free(page);
	for (i = 0; o.c && i < o.t.n; i++)
		conn_free(o.c[i]);
	free(o.c);
	topology_release(&o.t);
	private_server_stop(&r.srv, false);
	return rc;
}
