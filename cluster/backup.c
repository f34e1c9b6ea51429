/* backup.c - a BGSAVE of every master, kept with its slot map; see backup.h. */
#include "cluster/backup.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cluster/conn.h"
#include "cluster/fetch.h"
#include "common/clock.h"
#include "common/fs.h"
#include "common/xmalloc.h"

#define SAVE_WAIT_MS 120000
#define POLL_MS 20

/* One master while it saves. */
struct job {
	struct conn *c;
	char addr[80];
	char dir[PATH_MAX], dbfile[256];
	bool own_rdb;          /* it keeps an RDB of its own: leave the file */
	long long saves;       /* rdb_saves before ours (-1: not said) */
	bool done;
};

static long long
realtime_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
iso_time(long long ms, char *out, size_t n)
{
	time_t s = (time_t)(ms / 1000);
	struct tm tm;
	char buf[24];

	gmtime_r(&s, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, n, "%s.%03lldZ", buf, ms % 1000);
}

/* INFO persistence's field into out; "" when absent. */
static int
persistence(struct job *j, const char *field, char *out, size_t n, struct err *e)
{
	char *text = conn_cmd_str(j->c, e, "INFO", "persistence", NULL);

	if (text == NULL)
		return err_prefix(e, "'%s': ", j->addr);
	if (info_field(text, field, out, n) < 0)
		out[0] = '\0';
	free(text);
	return 0;
}

/* Until no fork of its own runs (a save or an AOF rewrite): BGSAVE
 * would be refused or only scheduled. */
static int
wait_idle(struct job *j, uint64_t deadline, struct err *e)
{
	char rdb[8], aof[8];

	for (;;) {
		if (persistence(j, "rdb_bgsave_in_progress", rdb, sizeof(rdb), e) < 0 ||
		    persistence(j, "aof_rewrite_in_progress", aof, sizeof(aof), e) < 0)
			return -1;
		if (strcmp(rdb, "1") != 0 && strcmp(aof, "1") != 0)
			return 0;
		if (clock_now_ms() > deadline)
			return err_set(e, 0, "'%s' is still saving or rewriting its AOF", j->addr);
		clock_sleep_ms(POLL_MS);
	}
}

/* Where its RDB goes, whether it keeps one of its own, and its count of
 * saves so far. */
static int
prepare(struct job *j, const struct cluster_node *n, const char *host, int timeout_ms,
	uint64_t deadline, struct err *e)
{
	char save[256], path[PATH_MAX + 300], saves[32];

	snprintf(j->addr, sizeof(j->addr), "%s:%d", n->ip[0] ? n->ip : host, n->port);
	if ((j->c = conn_open(n->ip[0] ? n->ip : host, n->port, timeout_ms, e)) == NULL)
		return err_prefix(e, "master %.8s: ", n->id);
	if (conn_config_get(j->c, "dir", j->dir, sizeof(j->dir), e) < 0 ||
	    conn_config_get(j->c, "dbfilename", j->dbfile, sizeof(j->dbfile), e) < 0 ||
	    conn_config_get(j->c, "save", save, sizeof(save), e) < 0)
		return -1;
	snprintf(path, sizeof(path), "%s/%s", j->dir, j->dbfile);
	j->own_rdb = save[0] != '\0' || access(path, F_OK) == 0;
	if (wait_idle(j, deadline, e) < 0 ||
	    persistence(j, "rdb_saves", saves, sizeof(saves), e) < 0)
		return -1;
	j->saves = saves[0] ? atoll(saves) : -1;
	return 0;
}

/* DBSIZE, then BGSAVE, which must start now. */
static int
start_save(struct job *j, struct backup_master *m, struct err *e)
{
	struct reply *r;
	int rc = 0;

	if (conn_cmd_int(j->c, &m->keys, e, "DBSIZE", NULL) < 0)
		return -1;
	if ((r = conn_cmd(j->c, e, "BGSAVE", NULL)) == NULL)
		return err_prefix(e, "BGSAVE on '%s': ", j->addr);
	if (r->type == REPLY_ERROR)
		rc = err_set(e, 0, "BGSAVE on '%s': %s", j->addr, r->str);
	else if (r->type != REPLY_STATUS || strstr(r->str, "started") == NULL)
		rc = err_set(e, 0, "BGSAVE on '%s': did not start: %s", j->addr,
			     r->str ? r->str : "unexpected reply");
	reply_free(r);
	return rc;
}

/* Whether its BGSAVE is over: 1 done, 0 not yet, -1 failed. */
static int
save_done(struct job *j, struct err *e)
{
	char busy[8], status[16], saves[32];

	if (persistence(j, "rdb_bgsave_in_progress", busy, sizeof(busy), e) < 0)
		return -1;
	if (strcmp(busy, "1") == 0)
		return 0;
	if (persistence(j, "rdb_last_bgsave_status", status, sizeof(status), e) < 0 ||
	    persistence(j, "rdb_saves", saves, sizeof(saves), e) < 0)
		return -1;
	if (strcmp(status, "ok") != 0)
		return err_set(e, 0, "BGSAVE on '%s' failed (rdb_last_bgsave_status:%s; its log "
			       "says why)", j->addr, status);
	if (j->saves >= 0 && saves[0] && atoll(saves) <= j->saves)
		return 0; /* not counted yet */
	return 1;
}

static int
wait_saves(struct job *jobs, size_t n, uint64_t deadline, struct err *e)
{
	size_t i, left = n;
	int rc;

	while (left) {
		for (i = 0; i < n; i++) {
			if (jobs[i].done)
				continue;
			if ((rc = save_done(&jobs[i], e)) < 0)
				return -1;
			if (rc == 1) {
				jobs[i].done = true;
				left--;
			}
		}
		if (left && clock_now_ms() > deadline)
			return err_set(e, ETIMEDOUT, "BGSAVE not finished after %d s",
				       SAVE_WAIT_MS / 1000);
		if (left)
			clock_sleep_ms(POLL_MS);
	}
	return 0;
}

/* The RDB into DIR/node-PORT/dump.rdb; the master's own file removed
 * when it keeps none of its own. */
static int
copy_rdb(struct job *j, struct backup_master *m, const char *dir, struct err *e)
{
	char from[PATH_MAX + 300], to[PATH_MAX + 64];
	struct stat st;

	snprintf(from, sizeof(from), "%s/%s", j->dir, j->dbfile);
	snprintf(m->rdb, sizeof(m->rdb), "node-%d/dump.rdb", m->port);
	snprintf(to, sizeof(to), "%s/node-%d", dir, m->port);
	if (fs_mkdir_p(to, e) < 0)
		return -1;
	snprintf(to, sizeof(to), "%s/%s", dir, m->rdb);
	if (fs_copy_tree(from, to, e) < 0)
		return err_prefix(e, "copy the RDB of '%s' (the backup runs on the nodes' "
				  "host): ", j->addr);
	if (stat(to, &st) < 0)
		return err_set(e, errno, "stat '%s': %s", to, strerror(errno));
	m->bytes = (long long)st.st_size;
	if (!j->own_rdb && unlink(from) < 0)
		return err_set(e, errno, "remove '%s' after copying it: %s", from, strerror(errno));
	return 0;
}

static bool
same_map(const struct topology *a, const struct topology *b)
{
	int oa[CLUSTER_SLOTS], ob[CLUSTER_SLOTS], slot;
	size_t i;

	topology_slot_owners(a, oa);
	topology_slot_owners(b, ob);
	for (slot = 0; slot < CLUSTER_SLOTS; slot++)
		if ((oa[slot] < 0) != (ob[slot] < 0) ||
		    (oa[slot] >= 0 && strcmp(a->nodes[oa[slot]].id, b->nodes[ob[slot]].id) != 0))
			return false;
	for (i = 0; i < b->n; i++)
		if (b->nodes[i].nopen)
			return false;
	return true;
}

static bool
is_master(const struct cluster_node *n)
{
	return (n->flags & NODE_MASTER) != 0;
}

/* The masters, each of which must be up; none may have a slot open. */
static int
check_masters(const struct topology *t, struct err *e)
{
	size_t i;

	for (i = 0; i < t->n; i++) {
		const struct cluster_node *n = &t->nodes[i];

		if (!is_master(n))
			continue;
		if (n->flags & (NODE_FAIL | NODE_PFAIL))
			return err_set(e, 0, "master %s:%d (%.8s) is failing: a backup needs every "
				       "master", n->ip, n->port, n->id);
		if (n->nopen)
			return err_set(e, 0, "master %s:%d has slot %d open: back up before or "
				       "after a migration, not during one", n->ip, n->port,
				       n->open[0].slot);
	}
	return 0;
}

static void
fill_master(struct backup_master *m, const struct cluster_node *n, const char *host)
{
	snprintf(m->id, sizeof(m->id), "%s", n->id);
	snprintf(m->host, sizeof(m->host), "%s", n->ip[0] ? n->ip : host);
	m->port = n->port;
	m->nranges = n->nranges;
	m->ranges = xcalloc(n->nranges + 1, sizeof(*m->ranges));
	memcpy(m->ranges, n->ranges, n->nranges * sizeof(*m->ranges));
}

int
backup_take(const char *host, int port, const char *dir, int timeout_ms, struct backup *b,
	    struct err *e)
{
	struct topology t = TOPOLOGY_INIT, after = TOPOLOGY_INIT;
	struct backup nb = {0};
	struct job *jobs = NULL;
	char path[PATH_MAX + 32];
	uint64_t deadline = clock_now_ms() + SAVE_WAIT_MS;
	size_t i, k;
	int rc = -1;

	snprintf(path, sizeof(path), "%s/%s", dir, BACKUP_JSON);
	if (access(path, F_OK) == 0)
		return err_set(e, EEXIST, "'%s' holds a backup already", dir);
	if (fs_mkdir_p(dir, e) < 0 || topology_fetch_addr(host, port, timeout_ms, &t, e) < 0 ||
	    check_masters(&t, e) < 0)
		goto out;
	snprintf(nb.from, sizeof(nb.from), "%s:%d", host, port);
	jobs = xcalloc(t.n + 1, sizeof(*jobs));
	nb.m = xcalloc(t.n + 1, sizeof(*nb.m));
	for (i = 0; i < t.n; i++)
		if (is_master(&t.nodes[i])) {
			fill_master(&nb.m[nb.n], &t.nodes[i], host);
			if (prepare(&jobs[nb.n++], &t.nodes[i], host, timeout_ms, deadline, e) < 0)
				goto out;
		}
	if (nb.n == 0) {
		err_set(e, 0, "'%s:%d' knows no master", host, port);
		goto out;
	}
	/* every fork as close to the others as we can ask for them */
	nb.time_ms = realtime_ms();
	iso_time(nb.time_ms, nb.time, sizeof(nb.time));
	for (k = 0; k < nb.n; k++)
		if (start_save(&jobs[k], &nb.m[k], e) < 0)
			goto out;
	if (wait_saves(jobs, nb.n, deadline, e) < 0)
		goto out;
	nb.done_ms = realtime_ms();
	if (topology_fetch_addr(host, port, timeout_ms, &after, e) < 0)
		goto out;
	if (!same_map(&t, &after)) {
		err_set(e, 0, "the slot map changed during the backup (a slot moved or was "
			"opened): take it again when no slot migrates");
		goto out;
	}
	for (k = 0; k < nb.n; k++)
		if (copy_rdb(&jobs[k], &nb.m[k], dir, e) < 0)
			goto out;
	if (backup_write(&nb, dir, e) < 0)
		goto out;
	*b = nb;
	memset(&nb, 0, sizeof(nb));
	rc = 0;
out:
	for (i = 0; jobs && i < t.n; i++)
		conn_free(jobs[i].c);
	free(jobs);
	backup_release(&nb);
	topology_release(&t);
	topology_release(&after);
	return rc;
}

void
backup_release(struct backup *b)
{
	size_t i;

	for (i = 0; b->m && i < b->n; i++)
		free(b->m[i].ranges);
	free(b->m);
	memset(b, 0, sizeof(*b));
}

long long
backup_keys(const struct backup *b)
{
	long long n = 0;
	size_t i;

	for (i = 0; i < b->n; i++)
		n += b->m[i].keys;
	return n;
}

const struct backup_master *
backup_find(const struct backup *b, const char *id)
{
	size_t i;

	for (i = 0; i < b->n; i++)
		if (strcmp(b->m[i].id, id) == 0)
			return &b->m[i];
	return NULL;
}
