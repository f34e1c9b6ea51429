/* repair_util.c - see repair_util.h. */
#include "tests/integration/repair_util.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/conn.h"
#include "cluster/fetch.h"
#include "common/clock.h"
#include "common/fs.h"
#include "repair/private_server.h"
#include "tests/support/itutil.h"
#include "tests/support/runner.h"

struct local_cluster rp_lc;
bool rp_keep_stash;
struct dataset rp_ds = {.keys = 20000, .seed = 13, .value_size = 16};

void
rp_up(int masters, int replicas, enum persistence p, long long keys)
{
	struct local_cluster_opts o = it_cluster_opts();
	struct err e = ERR_INIT;

	it_require_redis("repair");
	o.masters = masters;
	o.replicas = replicas;
	o.persistence = p;
	o.node_timeout_ms = 1000;
	ck_assert_msg(local_cluster_start(&rp_lc, &o, &e) == 0, "%s", e.msg);
	rp_ds.keys = keys;
	if (keys)
		ck_assert_msg(dataset_load(&rp_ds, "127.0.0.1", rp_lc.nodes[0].port, 0, &e) == 0,
			      "%s", e.msg);
}

long long
rp_dbsize(int i)
{
	struct conn *c = it_conn(rp_lc.nodes[i].port);
	long long n = -1;

	ck_assert_int_eq(conn_cmd_int(c, &n, NULL, "DBSIZE", NULL), 0);
	conn_free(c);
	return n;
}

void
rp_wait_flagged(int from, int who)
{
	uint64_t deadline = clock_now_ms() + 15000;
	struct topology t = TOPOLOGY_INIT;
	const struct cluster_node *n;
	bool failed = false;

	while (!failed && clock_now_ms() < deadline) {
		if (topology_fetch_addr("127.0.0.1", rp_lc.nodes[from].port, 1000, &t, NULL) == 0) {
			n = topology_find(&t, rp_lc.nodes[who].id);
			failed = n && (n->flags & NODE_FAIL);
		}
		topology_release(&t);
		if (!failed)
			clock_sleep_ms(100);
	}
	ck_assert_msg(failed, "node %d never flagged failed by node %d", who, from);
}

/* Until replica i has its master's link up and its whole stream. */
void
rp_wait_synced(int i)
{
	uint64_t deadline = clock_now_ms() + 20000;
	struct conn *c = conn_open("127.0.0.1", rp_lc.nodes[i].port, 1000, NULL);
	char up[16] = "", off[32] = "", moff[32] = "";
	bool ok = false;

	ck_assert_ptr_nonnull(c);
	while (!ok && clock_now_ms() < deadline) {
		char *info = conn_cmd_str(c, NULL, "INFO", "replication", NULL);
		struct conn *m = conn_open("127.0.0.1", rp_lc.nodes[rp_lc.nodes[i].master].port,
					   1000, NULL);
		char *minfo = m ? conn_cmd_str(m, NULL, "INFO", "replication", NULL) : NULL;

		if (info && minfo) {
			info_field(info, "master_link_status", up, sizeof(up));
			info_field(info, "slave_repl_offset", off, sizeof(off));
			info_field(minfo, "master_repl_offset", moff, sizeof(moff));
			ok = strcmp(up, "up") == 0 && strcmp(off, moff) == 0;
		}
		free(info);
		free(minfo);
		conn_free(m);
		if (!ok)
			clock_sleep_ms(50);
	}
	conn_free(c);
	ck_assert_msg(ok, "replica %d never caught up (link %s, %s of %s)", i, up, off, moff);
}

void
rp_wait_aof_written(int i)
{
	uint64_t deadline = clock_now_ms() + 10000;
	struct conn *c = it_conn(rp_lc.nodes[i].port);
	char len[32] = "", *info;
	bool done = false;

	while (!done && clock_now_ms() < deadline) {
		info = conn_cmd_str(c, NULL, "INFO", "persistence", NULL);
		done = info && ((info_field(info, "aof_enabled", len, sizeof(len)) == 0 &&
				 strcmp(len, "0") == 0) || /* no AOF: nothing to write */
				(info_field(info, "aof_buffer_length", len, sizeof(len)) == 0 &&
				 strcmp(len, "0") == 0));
		free(info);
		if (!done)
			clock_sleep_ms(20);
	}
	conn_free(c);
	ck_assert_msg(done, "node %d never wrote its AOF buffer (%s bytes left)", i, len);
}

long long
rp_kill(int victim)
{
	long long held = rp_dbsize(victim);
	size_t i;

	rp_wait_aof_written(victim);
	proc_kill(&rp_lc.nodes[victim].proc);
	for (i = 0; i < rp_lc.n; i++)
		if ((int)i != victim && proc_is_running(&rp_lc.nodes[i].proc))
			rp_wait_flagged((int)i, victim);
	return held;
}

bool
rp_is_master(int i)
{
	struct topology t = TOPOLOGY_INIT;
	struct err e = ERR_INIT;
	bool m;

	ck_assert_msg(topology_fetch_addr("127.0.0.1", rp_lc.nodes[i].port, 1000, &t, &e) == 0,
		      "%s", e.msg);
	m = topology_myself(&t) && (topology_myself(&t)->flags & NODE_MASTER);
	topology_release(&t);
	return m;
}

struct salvage_src
rp_source(int i, bool bare)
{
	struct salvage_src s;

	memset(&s, 0, sizeof(s));
	if (!bare) {
		snprintf(s.host, sizeof(s.host), "127.0.0.1");
		s.port = rp_lc.nodes[i].port;
	}
	snprintf(s.dir, sizeof(s.dir), "%s", rp_lc.nodes[i].dir);
	return s;
}

void
rp_down(void)
{
	local_cluster_stop(&rp_lc, false);
}

void
rp_ok(int i, ...)
{
	const char *argv[16];
	struct conn *c = it_conn(rp_lc.nodes[i].port);
	struct reply *r;
	struct err e = ERR_INIT;
	va_list ap;
	int argc = 0;

	va_start(ap, i);
	while (argc < 16 && (argv[argc] = va_arg(ap, const char *)) != NULL)
		argc++;
	va_end(ap);
	r = conn_cmd_argv(c, argc, argv, NULL, &e);
	ck_assert_msg(r != NULL, "%s", e.msg);
	ck_assert_msg(r->type != REPLY_ERROR, "%s %s ... on node %d: %s", argv[0],
		      argc > 1 ? argv[1] : "", i, r->str);
	reply_free(r);
	conn_free(c);
}

long long
rp_count(int i, int slot)
{
	struct conn *c = it_conn(rp_lc.nodes[i].port);
	struct err e = ERR_INIT;
	long long n = -1;
	char s[16];

	snprintf(s, sizeof(s), "%d", slot);
	ck_assert_msg(conn_cmd_int(c, &n, &e, "CLUSTER", "COUNTKEYSINSLOT", s, NULL) == 0, "%s",
		      e.msg);
	conn_free(c);
	return n;
}

int
rp_slot_with_keys(int i, int after, long long min)
{
	int m = rp_lc.opts.masters, slot;
	int first = (int)((long)i * CLUSTER_SLOTS / m), last = (int)(((long)i + 1) * CLUSTER_SLOTS / m);

	for (slot = after > first ? after : first; slot < last; slot++)
		if (rp_count(i, slot) >= min)
			return slot;
	ck_abort_msg("master %d has no slot with %lld keys", i, min);
	return -1;
}

void
rp_move(int src, int dst, int slot, long long n, int copy)
{
	struct conn *c = it_conn(rp_lc.nodes[src].port);
	struct err e = ERR_INIT;
	const char **argv;
	struct reply *keys, *r;
	char s[16], cnt[32], port[16];
	size_t i, argc = 0;

	snprintf(s, sizeof(s), "%d", slot);
	snprintf(cnt, sizeof(cnt), "%lld", n);
	snprintf(port, sizeof(port), "%d", rp_lc.nodes[dst].port);
	keys = conn_cmd(c, &e, "CLUSTER", "GETKEYSINSLOT", s, cnt, NULL);
	ck_assert_msg(keys && keys->type == REPLY_ARRAY, "%s", e.msg);
	ck_assert_int_eq((long long)keys->nelem, n);
	argv = calloc(keys->nelem + 8, sizeof(*argv));
	argv[argc++] = "MIGRATE";
	argv[argc++] = "127.0.0.1";
	argv[argc++] = port;
	argv[argc++] = "";
	argv[argc++] = "0";
	argv[argc++] = "5000";
	if (copy)
		argv[argc++] = "COPY";
	argv[argc++] = "KEYS";
	for (i = 0; i < keys->nelem; i++)
		argv[argc++] = keys->elem[i]->str;
	r = conn_cmd_argv(c, (int)argc, argv, NULL, &e);
	ck_assert_msg(r && r->type != REPLY_ERROR, "MIGRATE: %s", r ? r->str : e.msg);
	reply_free(r);
	reply_free(keys);
	free(argv);
	conn_free(c);
}

void
rp_open(int src, int dst, int slot)
{
	char s[16];

	snprintf(s, sizeof(s), "%d", slot);
	rp_ok(dst, "CLUSTER", "SETSLOT", s, "IMPORTING", rp_lc.nodes[src].id, NULL);
	rp_ok(src, "CLUSTER", "SETSLOT", s, "MIGRATING", rp_lc.nodes[dst].id, NULL);
}

void
rp_half(int src, int dst, int slot, long long n)
{
	rp_open(src, dst, slot);
	rp_move(src, dst, slot, n, 0);
}

void
rp_copy_unowned(int src, int dst, int slot, long long n)
{
	char s[16];

	snprintf(s, sizeof(s), "%d", slot);
	rp_ok(dst, "CLUSTER", "SETSLOT", s, "IMPORTING", rp_lc.nodes[src].id, NULL);
	rp_move(src, dst, slot, n, 1);
	rp_ok(dst, "CLUSTER", "SETSLOT", s, "STABLE", NULL);
}

int
rp_repair(const struct repair_opts *o, const struct repair_env *env, struct repair_outcome *res,
	  struct err *e)
{
	struct repair_env en = env ? *env : (struct repair_env){0};
	struct audit audit;
	size_t i;
	int port = -1, rc;
	FILE *af = fopen("/dev/null", "w");

	for (i = 0; i < rp_lc.n && port < 0; i++)
		if (proc_is_running(&rp_lc.nodes[i].proc))
			port = rp_lc.nodes[i].port;
	audit_start(&audit, getenv("SQ_AUDIT") ? stderr : af);
	en.audit = &audit;
	rc = repair_run("127.0.0.1", port, o, &en, false, NULL, res, e);
	audit_pause(&audit);
	fclose(af);
	if (res->total.stash[0]) { /* what it kept: the test looks, then cleans */
		ck_assert_int_gt(res->total.stashed + res->decisions + res->total.superseded, 0);
		if (!rp_keep_stash)
			rp_stash_drop(res->total.stash);
	}
	return rc;
}

static void
stash_dir(const char *dump_rdb, char *dir, size_t n)
{
	snprintf(dir, n, "%s", dump_rdb);
	ck_assert_ptr_nonnull(strrchr(dir, '/'));
	*strrchr(dir, '/') = '\0';
}

char *
rp_stash_get(const char *dump_rdb, int db, const char *key)
{
	struct private_server s = {.name = "stash-read", .proc = PROC_INIT};
	struct err e = ERR_INIT;
	struct reply *r;
	char dbs[8], *v = NULL;

	stash_dir(dump_rdb, s.dir, sizeof(s.dir));
	ck_assert_msg(private_server_start(&s, it_server(), NULL, 2000, 20000, &e) == 0,
		      "%s", e.msg);
	snprintf(dbs, sizeof(dbs), "%d", db);
	ck_assert_int_eq(conn_cmd_ok(s.c, &e, "SELECT", dbs, NULL), 0);
	r = conn_cmd(s.c, &e, "GET", key, NULL);
	ck_assert_msg(r != NULL, "%s", e.msg);
	if (r->type == REPLY_STRING)
		v = strdup(r->str);
	reply_free(r);
	private_server_stop(&s, true);
	return v;
}

char *
rp_stash_list(const char *dump_rdb)
{
	char dir[PATH_MAX], path[PATH_MAX + 32], *text;
	struct err e = ERR_INIT;

	stash_dir(dump_rdb, dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/conflicts.txt", dir);
	text = fs_read_file(path, NULL, &e);
	ck_assert_msg(text != NULL, "%s", e.msg);
	return text;
}

void
rp_stash_drop(const char *dump_rdb)
{
	char dir[PATH_MAX];

	stash_dir(dump_rdb, dir, sizeof(dir));
	ck_assert_int_eq(fs_rm_rf(dir, NULL), 0);
}

void
rp_assert_no_open_slots(void)
{
	struct topology t = TOPOLOGY_INIT;
	const struct cluster_node *me;
	struct err e = ERR_INIT;
	size_t i;

	for (i = 0; i < rp_lc.n; i++) {
		if (!proc_is_running(&rp_lc.nodes[i].proc))
			continue;
		ck_assert_msg(topology_fetch_addr("127.0.0.1", rp_lc.nodes[i].port, 1000, &t, &e) == 0,
			      "%s", e.msg);
		me = topology_myself(&t);
		ck_assert_ptr_nonnull(me);
		ck_assert_msg(me->nopen == 0, "node %zu has slot %d %s", i, me->open[0].slot,
			      me->open[0].state == SLOT_IMPORTING ? "importing" : "migrating");
		topology_release(&t);
	}
}

void
rp_assert_healthy_extra(int i, long long lost, long long extra_max)
{
	struct verify_opts vo = {.dataset = &rp_ds, .timeout_ms = 1000};
	struct err e = ERR_INIT;
	struct verdict v;
	enum finding_kind k;

	ck_assert_msg(verify_cluster("127.0.0.1", rp_lc.nodes[i].port, &vo, &v, &e) == 0, "%s",
		      e.msg);
	for (k = 0; k < F_COUNT_; k++)
		if (k == F_EXTRA)
			ck_assert_msg(v.f[k].count <= extra_max, "extra_keys: %lld (%s)",
				      v.f[k].count, v.f[k].nexamples ? v.f[k].examples[0] : "");
		else
			ck_assert_msg(v.f[k].count == (k == F_LOST ? lost : 0), "%s: %lld (%s)",
				      finding_json_name(k), v.f[k].count,
				      v.f[k].nexamples ? v.f[k].examples[0] : "");
	verdict_release(&v);
}

void
rp_assert_healthy(int i, long long lost)
{
	rp_assert_healthy_extra(i, lost, 0);
}

int
rp_cli(const char *dir, const char *fmt, ...)
{
	const char *bin = getenv("SQ_BIN") ? getenv("SQ_BIN") : "build/shardquake";
	char abs[PATH_MAX], *args;
	va_list ap;
	int rc;

	ck_assert_msg(realpath(bin, abs) != NULL, "no shardquake binary at '%s'", bin);
	va_start(ap, fmt);
	ck_assert_int_ge(vasprintf(&args, fmt, ap), 0);
	va_end(ap);
	rc = it_sh("cd '%s' && '%s' %s >out 2>err", dir, abs, args);
	free(args);
	return rc;
}

char *
rp_read(const char *dir, const char *name)
{
	char path[PATH_MAX + 64], *text;
	struct err e = ERR_INIT;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	text = fs_read_file(path, NULL, &e);
	ck_assert_msg(text != NULL, "%s", e.msg);
	return text;
}

void
rp_assert_redis_cli_check(int i)
{
	ck_assert_int_eq(it_sh("redis-cli --cluster check 127.0.0.1:%d >/dev/null 2>&1",
			       rp_lc.nodes[i].port), 0);
}
