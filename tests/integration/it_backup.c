/*
 * Backups on real clusters: `shardquake backup` writes every master's
 * RDB and the slot map they go with; `repair --from-backup` brings a
 * dead master's keys back from it, says which keys the backup could not
 * have, and leaves the backup as it was.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cluster/backup.h"
#include "cluster/fetch.h"
#include "cluster/slot.h"
#include "tests/integration/repair_util.h"
#include "tests/support/itutil.h"
#include "tests/support/runner.h"

/* The backup in dir agrees with the cluster: one entry per master of
 * CLUSTER NODES, with its slots and its DBSIZE, and its RDB file. */
static void
assert_backup_matches(const char *dir)
{
	struct topology t = TOPOLOGY_INIT;
	struct backup b;
	struct err e = ERR_INIT;
	char path[PATH_MAX + 64];
	struct stat st;
	size_t i, k, masters = 0;

	ck_assert_msg(backup_read(dir, &b, &e) == 0, "%s", e.msg);
	ck_assert_int_eq(topology_fetch_addr("127.0.0.1", rp_lc.nodes[0].port, 2000, &t, &e), 0);
	for (i = 0; i < t.n; i++) {
		const struct cluster_node *n = &t.nodes[i];
		const struct backup_master *m;

		if (!(n->flags & NODE_MASTER))
			continue;
		masters++;
		m = backup_find(&b, n->id);
		ck_assert_msg(m != NULL, "master %s not in the backup", n->id);
		ck_assert_int_eq(m->port, n->port);
		ck_assert_int_eq(m->nranges, n->nranges);
		for (k = 0; k < n->nranges; k++) {
			ck_assert_int_eq(m->ranges[k].first, n->ranges[k].first);
			ck_assert_int_eq(m->ranges[k].last, n->ranges[k].last);
		}
		ck_assert_int_eq(m->keys, rp_dbsize(local_cluster_find_port(&rp_lc, n->port)));
		snprintf(path, sizeof(path), "%s/%s", dir, m->rdb);
		ck_assert_int_eq(stat(path, &st), 0);
		ck_assert_int_eq(st.st_size, m->bytes);
		ck_assert_int_gt(st.st_size, 0);
	}
	ck_assert_int_eq(masters, b.n);
	ck_assert_int_eq(backup_keys(&b), rp_ds.keys);
	ck_assert_int_le(b.time_ms, b.done_ms);
	topology_release(&t);
	backup_release(&b);
}

START_TEST(test_backup_keeps_every_master_and_the_slot_map)
{
	char dir[PATH_MAX], bdir[PATH_MAX + 8], *out, *err;

	rp_up(3, 1, PERSIST_AOF, 20000);
	it_mkdtemp(dir, sizeof(dir), "sq-it-backup");
	snprintf(bdir, sizeof(bdir), "%s/b", dir);
	ck_assert_int_eq(rp_cli(dir, "backup 127.0.0.1:%d %s", rp_lc.nodes[0].port, bdir), 0);
	out = rp_read(dir, "out");
	ck_assert_msg(strstr(out, "backup of 3 masters, 20000 keys, at "), "%s", out);
	free(out);
	assert_backup_matches(bdir);
	/* AOF nodes keep no RDB of their own: their directories as before */
	ck_assert_int_ne(it_sh("ls %s/*.rdb 2>/dev/null | grep -q .", rp_lc.nodes[0].dir), 0);
	/* a second backup into the same directory is refused, said plainly */
	ck_assert_int_eq(rp_cli(dir, "backup 127.0.0.1:%d %s", rp_lc.nodes[0].port, bdir), 1);
	err = rp_read(dir, "err");
	ck_assert_msg(strstr(err, "holds a backup already"), "%s", err);
	free(err);
	ck_assert_int_eq(rp_cli(dir, "backup 127.0.0.1:%d", rp_lc.nodes[0].port), 2);
	it_sh("rm -rf %s", dir);
	rp_down();
}
END_TEST

/* A master that cannot save (its directory gone with its disk): the
 * BGSAVE fails, and the command says which node and how, exit 1. */
START_TEST(test_backup_fails_when_a_bgsave_fails)
{
	char dir[PATH_MAX], want[64], *err;

	rp_up(3, 0, PERSIST_NONE, 1000);
	it_mkdtemp(dir, sizeof(dir), "sq-it-backup");
	ck_assert_int_eq(it_sh("rm -rf %s", rp_lc.nodes[1].dir), 0);
	ck_assert_int_eq(rp_cli(dir, "backup 127.0.0.1:%d %s/b", rp_lc.nodes[0].port, dir), 1);
	err = rp_read(dir, "err");
	snprintf(want, sizeof(want), "BGSAVE on '127.0.0.1:%d' failed", rp_lc.nodes[1].port);
	ck_assert_msg(strstr(err, want), "%s", err);
	free(err);
	it_sh("rm -rf %s", dir);
	rp_down();
}
END_TEST

/* A key of master 1's slots (the even split of 3), written on it. */
static void
write_on_master1(const char *prefix, char *name, size_t n)
{
	struct conn *c = it_conn(rp_lc.nodes[1].port);
	unsigned k, slot;

	for (k = 0;; k++) {
		snprintf(name, n, "%s%u", prefix, k);
		slot = key_slot(name, strlen(name));
		if (slot >= 5461 && slot <= 10921)
			break;
	}
	ck_assert_int_eq(conn_cmd_ok(c, NULL, "SET", name, "after", NULL), 0);
	conn_free(c);
}

/* Backup, then a key written on master 1; master 1 dies with its files;
 * the repair brings back every key the backup had, and the backup is as
 * it was (the rescue server read a copy). */
START_TEST(test_repair_from_backup_restores_a_dead_masters_keys)
{
	char dir[PATH_MAX], late[64], want[128], *out;
	struct conn *c;
	struct reply *r;
	long long held;

	rp_up(3, 0, PERSIST_AOF, 20000);
	held = rp_dbsize(1);
	it_mkdtemp(dir, sizeof(dir), "sq-it-backup");
	ck_assert_int_eq(rp_cli(dir, "backup 127.0.0.1:%d b", rp_lc.nodes[0].port), 0);
	ck_assert_int_eq(it_sh("cd %s/b && find . -type f -exec md5sum {} + | sort >../before",
			       dir), 0);
	write_on_master1("late:", late, sizeof(late));
	ck_assert_int_eq(rp_kill(1), held + 1);
	ck_assert_int_eq(it_sh("rm -rf %s/appendonlydir %s/nodes.conf", rp_lc.nodes[1].dir,
			       rp_lc.nodes[1].dir), 0);
	ck_assert_int_eq(rp_cli(dir, "repair 127.0.0.1:%d --from-backup b --audit audit.log",
				rp_lc.nodes[0].port), 0);
	out = rp_read(dir, "out");
	snprintf(want, sizeof(want), "backup of 127.0.0.1:%d (b/node-%d, taken ",
		 rp_lc.nodes[1].port, rp_lc.nodes[1].port);
	ck_assert_msg(strstr(out, want), "%s", out);
	snprintf(want, sizeof(want), "%lld keys, %lld restored, 0 already there", held, held);
	ck_assert_msg(strstr(out, want), "%s", out);
	free(out);
	/* every key the backup had: the whole dataset, none lost */
	rp_assert_healthy(0, 0);
	/* the key written after the backup died with the node */
	c = it_conn(rp_lc.nodes[0].port);
	r = conn_cmd(c, NULL, "EXISTS", late, NULL);
	ck_assert_int_eq(r->integer, 0);
	reply_free(r);
	conn_free(c);
	ck_assert_int_eq(it_sh("cd %s/b && find . -type f -exec md5sum {} + | sort >../after && "
			       "cmp ../before ../after", dir), 0);
	it_sh("rm -rf %s", dir);
	rp_down();
}
END_TEST

/* The scenario: a backup before the reshard, the target and its disk lost
 * mid-slot, the repair from the backup; report.json says what the backup
 * held and which acknowledged writes it could not have, by name. */
START_TEST(test_scenario_lose_disk_with_backup)
{
	const char *bin = getenv("SQ_BIN") ? getenv("SQ_BIN") : "build/shardquake";
	char dir[PATH_MAX];
	json_t *rep, *b, *late, *srcs, *src;
	size_t i;
	bool restored = false;

	it_require_redis("backup");
	it_mkdtemp(dir, sizeof(dir), "sq-it-backup-run");
	ck_assert_int_eq(it_sh("%s run --results %s scenarios/lose-disk-target-mid-slot-backup.ini "
			       ">%s/out 2>&1", bin, dir, dir), 0);
	rep = it_report(dir, "lose-disk-target-mid-slot-backup");
	b = json_object_get(rep, "backup");
	ck_assert_ptr_nonnull(b);
	ck_assert_str_eq(json_string_value(json_object_get(b, "dir")), "backup");
	ck_assert_int_eq(json_array_size(json_object_get(b, "masters")), 3);
	ck_assert_int_gt(json_integer_value(json_object_get(b, "keys")), 200000);
	ck_assert_ptr_nonnull(json_object_get(json_object_get(rep, "phases_ms"), "backup"));
	late = json_object_get(b, "writes_not_in_backup");
	ck_assert_int_gt(json_integer_value(json_object_get(late, "count")), 0);
	ck_assert_msg(strstr(json_string_value(json_array_get(json_object_get(late, "examples"), 0)),
			     "sqlive:"), "no key named");
	ck_assert_int_eq(json_integer_value(json_object_get(
				 json_object_get(b, "writes_lost_though_backed_up"), "count")), 0);
	ck_assert_int_eq(json_integer_value(json_object_get(
				 json_object_get(json_object_get(rep, "verdict"), "lost_keys"), "count")),
			 0);
	srcs = json_object_get(json_object_get(json_object_get(json_object_get(rep, "repair"),
							       "detail"), "result"), "sources");
	json_array_foreach(srcs, i, src)
		restored |= json_is_true(json_object_get(src, "backup")) &&
			    json_integer_value(json_object_get(src, "salvaged")) > 60000;
	ck_assert_msg(restored, "no backup source restored the target's keys");
	json_decref(rep);
	it_sh("rm -rf %s", dir);
}
END_TEST

Suite *
backup_suite(void)
{
	Suite *s = suite_create("backup");
	TCase *tc = tcase_create("backup");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_backup_keeps_every_master_and_the_slot_map);
	tcase_add_test(tc, test_backup_fails_when_a_bgsave_fails);
	tcase_add_test(tc, test_repair_from_backup_restores_a_dead_masters_keys);
	tcase_add_test(tc, test_scenario_lose_disk_with_backup);
	suite_add_tcase(s, tc);
	return s;
}
