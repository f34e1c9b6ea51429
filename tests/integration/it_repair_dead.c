/*
 * The repair engine when a node is gone: restarted from its files,
 * salvaged from them (the node forgotten), given up with
 * --allow-data-loss (the loss exact), refused without it; a replica
 * promoted while its master was migrating; a node paused during the
 * repair (no hang, its slots left alone).
 */
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/fetch.h"
#include "common/clock.h"
#include "common/fs.h"
#include "harness/run/repair_step.h"
#include "tests/integration/repair_util.h"
#include "tests/support/itutil.h"
#include "tests/support/runner.h"

/* A slot of master 0 half moved to master 1, then `victim` killed. */
static void
half_then_kill(int victim)
{
	int slot;

	rp_up(3, 0, PERSIST_AOF, 20000);
	slot = rp_slot_with_keys(0, 0, 4);
	rp_half(0, 1, slot, rp_count(0, slot) / 2);
	clock_sleep_ms(1100); /* appendfsync everysec */
	proc_kill(&rp_lc.nodes[victim].proc);
	rp_wait_flagged(2, victim);
}

static void
restart_case(int victim)
{
	struct repair_opts o = {.timeout_ms = 2000, .can_restart = true};
	struct repair_env env = {.restart = repair_step_restart, .restart_arg = &rp_lc};
	struct repair_outcome res;
	struct err e = ERR_INIT;

	half_then_kill(victim);
	ck_assert_msg(rp_repair(&o, &env, &res, &e) == 0, "%s", e.msg);
	ck_assert_msg(res.healthy, "left: %s", res.left);
	ck_assert_int_eq(res.total.restarted, 1);
	repair_outcome_release(&res);
	rp_assert_healthy(2, 0);
	rp_assert_redis_cli_check(2);
	rp_down();
}

static void
salvage_case(int victim)
{
	struct salvage_src sv = {.host = "127.0.0.1"};
	struct repair_opts o = {.timeout_ms = 2000, .salvage = &sv, .nsalvage = 1};
	struct repair_outcome res;
	struct err e = ERR_INIT;

	half_then_kill(victim);
	sv.port = rp_lc.nodes[victim].port;
	snprintf(sv.dir, sizeof(sv.dir), "%s", rp_lc.nodes[victim].dir);
	ck_assert_msg(rp_repair(&o, NULL, &res, &e) == 0, "%s", e.msg);
	ck_assert_msg(res.healthy, "left: %s", res.left);
	ck_assert_int_gt(res.total.keys_salvaged, 0);
	ck_assert_int_eq(res.total.forgotten, 1);
	repair_outcome_release(&res);
	rp_assert_healthy(2, 0);
	rp_assert_redis_cli_check(2);
	rp_down();
}

START_TEST(test_dead_target_mid_slot_restarted)
{
	restart_case(1);
}
END_TEST

START_TEST(test_dead_source_mid_slot_restarted)
{
	restart_case(0);
}
END_TEST

START_TEST(test_dead_target_mid_slot_salvaged)
{
	salvage_case(1);
}
END_TEST

START_TEST(test_dead_source_mid_slot_salvaged)
{
	salvage_case(0);
}
END_TEST

START_TEST(test_dead_master_replaced_by_a_new_one)
{
	struct salvage_src sv = {.host = "127.0.0.1"};
	struct repair_opts o = {.timeout_ms = 2000, .salvage = &sv, .nsalvage = 1};
	struct repair_outcome res;
	struct topology t = TOPOLOGY_INIT;
	struct err e = ERR_INIT;
	const struct cluster_node *n;

	half_then_kill(1);
	sv.port = rp_lc.nodes[1].port;
	snprintf(sv.dir, sizeof(sv.dir), "%s", rp_lc.nodes[1].dir);
	ck_assert_msg(local_cluster_add_master(&rp_lc, false, &e) == 0, "%s", e.msg);
	ck_assert_msg(rp_repair(&o, NULL, &res, &e) == 0, "%s", e.msg);
	ck_assert_msg(res.healthy, "left: %s", res.left);
	repair_outcome_release(&res);
	rp_assert_healthy(0, 0);
	/* the newcomer took every slot of the dead master; the others kept theirs */
	ck_assert_int_eq(topology_fetch_addr("127.0.0.1", rp_lc.nodes[0].port, 1000, &t, &e), 0);
	n = topology_find(&t, rp_lc.nodes[3].id);
	ck_assert_ptr_nonnull(n);
	ck_assert_int_eq(cluster_node_slot_count(n), 5461);
	ck_assert_int_eq(cluster_node_slot_count(topology_find(&t, rp_lc.nodes[2].id)), 5462);
	topology_release(&t);
	rp_down();
}
END_TEST

/* What redis-cli --cluster fix does with a dead master when forced, the
 * keys it loses although the node's AOF is intact, and shardquake
 * bringing every one of them back from that AOF afterwards. */
START_TEST(test_forced_redis_cli_fix_loses_keys_salvage_brings_them_back)
{
	struct salvage_src sv = {.host = "127.0.0.1"};
	struct repair_opts o = {.timeout_ms = 2000, .salvage = &sv, .nsalvage = 1};
	struct verify_opts vo = {.dataset = &rp_ds, .timeout_ms = 1000};
	struct repair_outcome res;
	struct err e = ERR_INIT;
	struct verdict v;
	long long held;

	rp_up(3, 0, PERSIST_AOF, 20000);
	held = rp_dbsize(2);
	clock_sleep_ms(1100); /* appendfsync everysec */
	proc_kill(&rp_lc.nodes[2].proc);
	rp_wait_flagged(0, 2);
	/* plain fix refuses; forced, it hands the dead master's slots to the
	 * others and says all is well */
	ck_assert_int_ne(it_sh("yes yes | redis-cli --cluster fix 127.0.0.1:%d --cluster-yes "
			       ">/dev/null 2>&1", rp_lc.nodes[0].port), 0);
	ck_assert_int_eq(it_sh("yes yes | redis-cli --cluster fix 127.0.0.1:%d --cluster-yes "
			       "--cluster-fix-with-unreachable-masters >/dev/null 2>&1",
			       rp_lc.nodes[0].port), 0);
	clock_sleep_ms(1000);
	ck_assert_msg(verify_cluster("127.0.0.1", rp_lc.nodes[0].port, &vo, &v, &e) == 0, "%s",
		      e.msg);
	ck_assert_int_eq(v.f[F_LOST].count + v.f[F_UNREACHABLE_KEYS].count, held);
	verdict_release(&v);
	/* the keys are in node 2's files all along */
	sv.port = rp_lc.nodes[2].port;
	snprintf(sv.dir, sizeof(sv.dir), "%s", rp_lc.nodes[2].dir);
	ck_assert_msg(rp_repair(&o, NULL, &res, &e) == 0, "%s", e.msg);
	ck_assert_msg(res.healthy, "left: %s", res.left);
	ck_assert_int_eq(res.total.keys_salvaged, held);
	repair_outcome_release(&res);
	rp_assert_healthy(0, 0);
	rp_down();
}
END_TEST

/* Restarted without its files, a node comes back as another, empty node
 * on the same port: the engine must not take it for the one the cluster
 * lost, nor restart it again; given up, the lost one's slots go on. */
START_TEST(test_restart_without_files_is_another_node)
{
	struct repair_opts o = {.timeout_ms = 2000, .can_restart = true, .allow_data_loss = true};
	struct repair_env env = {.restart = repair_step_restart, .restart_arg = &rp_lc};
	struct repair_outcome res;
	struct err e = ERR_INIT;
	char path[PATH_MAX + 32];
	long long held;

	rp_up(3, 0, PERSIST_AOF, 20000);
	held = rp_dbsize(2);
	proc_kill(&rp_lc.nodes[2].proc);
	snprintf(path, sizeof(path), "%s/nodes.conf", rp_lc.nodes[2].dir);
	ck_assert_int_eq(fs_rm_rf(path, &e), 0);
	snprintf(path, sizeof(path), "%s/appendonlydir", rp_lc.nodes[2].dir);
	ck_assert_int_eq(fs_rm_rf(path, &e), 0);
	rp_wait_flagged(0, 2);
	ck_assert_msg(rp_repair(&o, &env, &res, &e) == 0, "%s", e.msg);
	ck_assert_msg(res.healthy, "left: %s", res.left);
	ck_assert_int_eq(res.total.restarted, 1);
	ck_assert_int_eq(res.total.forgotten, 1);
	repair_outcome_release(&res);
	rp_assert_healthy(0, held);
	rp_down();
}
END_TEST

START_TEST(test_dead_node_with_its_files_gone)
{
	struct repair_opts o = {.timeout_ms = 2000};
	struct repair_outcome res;
	struct err e = ERR_INIT;
	long long held;

	rp_up(3, 0, PERSIST_AOF, 20000);
	held = rp_dbsize(2);
	proc_kill(&rp_lc.nodes[2].proc);
	ck_assert_int_eq(fs_rm_rf(rp_lc.nodes[2].dir, &e), 0);
	rp_wait_flagged(0, 2);
	/* without --allow-data-loss: nothing is given away */
	ck_assert_msg(rp_repair(&o, NULL, &res, &e) == 0, "%s", e.msg);
	ck_assert(!res.healthy);
	ck_assert_int_eq(res.rounds, 0);
	ck_assert_ptr_nonnull(strstr(res.left, "--allow-data-loss"));
	repair_outcome_release(&res);
	/* with it: every other key kept, the loss exactly what node 2 held */
	o.allow_data_loss = true;
	ck_assert_msg(rp_repair(&o, NULL, &res, &e) == 0, "%s", e.msg);
	ck_assert_msg(res.healthy, "left: %s", res.left);
	repair_outcome_release(&res);
	rp_assert_healthy(0, held);
	rp_assert_redis_cli_check(0);
	rp_down();
}
END_TEST

START_TEST(test_replica_promoted_while_its_master_migrated)
{
	/* the old master is gone for good (its keys live on in the promoted
	 * replica and in the migration's target): giving it up loses nothing */
	struct repair_opts o = {.timeout_ms = 2000, .allow_data_loss = true};
	struct repair_outcome res;
	struct err e = ERR_INIT;
	int slot, replica = 3; /* nodes 3, 4, 5 replicate masters 0, 1, 2 */
	long long total;

	rp_up(3, 1, PERSIST_NONE, 20000);
	ck_assert_int_eq(rp_lc.nodes[replica].master, 0);
	rp_wait_synced(replica);
	slot = rp_slot_with_keys(0, 0, 4);
	rp_half(0, 1, slot, rp_count(0, slot) / 2);
	rp_wait_synced(replica); /* the replica has seen the DELs */
	proc_kill(&rp_lc.nodes[0].proc);
	rp_wait_flagged(1, 0);
	/* the replica takes over; it knows nothing of the migration */
	{
		uint64_t deadline = clock_now_ms() + 20000;
		struct topology t = TOPOLOGY_INIT;
		bool promoted = false;

		while (!promoted && clock_now_ms() < deadline) {
			if (topology_fetch_addr("127.0.0.1", rp_lc.nodes[replica].port, 1000, &t,
						NULL) == 0)
				promoted = topology_myself(&t) &&
					   cluster_node_has_slot(topology_myself(&t), slot);
			topology_release(&t);
			if (!promoted)
				clock_sleep_ms(100);
		}
		ck_assert_msg(promoted, "the replica was never promoted");
	}
	ck_assert_int_gt(rp_count(1, slot), 0); /* keys split between two nodes */
	total = rp_count(1, slot) + rp_count(replica, slot);
	ck_assert_msg(rp_repair(&o, NULL, &res, &e) == 0, "%s", e.msg);
	ck_assert_msg(res.healthy, "left: %s", res.left);
	repair_outcome_release(&res);
	/* Redis: the promoted replica knows nothing of the migration and
	 * owns the slot: node 1's keys go back to it.  Valkey 8 replicates
	 * SETSLOT to replicas and re-pairs node 1's import with the new
	 * primary once its gossip reaches node 1: an open migration like any
	 * other, finished forward; before that, the slot goes back as on
	 * Redis.  Either way every key is on one node. */
	if (it_on_valkey())
		ck_assert_msg((rp_count(replica, slot) == 0 && rp_count(1, slot) == total) ||
			      (rp_count(1, slot) == 0 && rp_count(replica, slot) == total),
			      "slot %d: %lld keys on the promoted replica, %lld on node 1, of %lld",
			      slot, rp_count(replica, slot), rp_count(1, slot), total);
	else
		ck_assert_int_eq(rp_count(1, slot), 0);
	rp_assert_healthy(1, 0);
	rp_down();
}
END_TEST

START_TEST(test_paused_node_does_not_hang_the_repair)
{
	struct repair_opts o = {.timeout_ms = 500};
	struct repair_outcome res;
	struct err e = ERR_INIT;
	uint64_t t0;
	int slot;

	rp_up(3, 0, PERSIST_NONE, 20000);
	slot = rp_slot_with_keys(0, 0, 4);
	rp_half(0, 1, slot, rp_count(0, slot) / 2);
	ck_assert_int_eq(proc_signal(&rp_lc.nodes[2].proc, SIGSTOP, &e), 0);
	t0 = clock_now_ms();
	ck_assert_msg(rp_repair(&o, NULL, &res, &e) == 0, "%s", e.msg);
	ck_assert_msg(clock_now_ms() - t0 < 60000, "the repair took %llu ms",
		      (unsigned long long)(clock_now_ms() - t0));
	ck_assert(!res.healthy);
	ck_assert_msg(strstr(res.left, "nodes down") != NULL, "left: %s", res.left);
	repair_outcome_release(&res);
	/* the open slot between the two others is closed all the same */
	ck_assert_int_eq(rp_count(0, slot), 0);
	ck_assert_int_eq(proc_signal(&rp_lc.nodes[2].proc, SIGCONT, &e), 0);
	/* once it is back, nothing was lost and nobody took its slots */
	{
		uint64_t deadline = clock_now_ms() + 15000;
		struct repair_outcome r2;

		do {
			clock_sleep_ms(200);
			ck_assert_int_eq(rp_repair(&o, NULL, &r2, &e), 0);
			if (r2.healthy)
				break;
			repair_outcome_release(&r2);
		} while (clock_now_ms() < deadline);
		ck_assert_msg(r2.healthy, "left: %s", r2.left);
		repair_outcome_release(&r2);
	}
	rp_assert_healthy(2, 0);
	rp_down();
}
END_TEST

/* Kills the newest rescue server when the salvage phase begins (the
 * highest pid: started last): the last source named fails half way. */
static void
kill_last_rescue(void *arg, const char *phase, long long done, long long total)
{
	int *killed = arg;

	(void)done;
	(void)total;
	if (*killed == 0 && strcmp(phase, "salvage") == 0) {
		*killed = 1;
		/* redis-server rewrites its command line: found by its directory
		 * (from /proc: procps is not on a fresh Debian), below this
		 * run's own TMPDIR: make check plays other suites' rescue
		 * servers meanwhile */
		ck_assert_int_eq(it_sh("last=0; for d in /proc/[0-9]*; do p=${d#/proc/}; "
				       "case $(readlink $d/cwd) in \"$TMPDIR\"/shardquake-rescue-*) "
				       "case $(cat $d/comm 2>/dev/null) in redis-server|"
				       "valkey-server) ;; *) continue;; esac; "
				       "[ $p -gt $last ] && last=$p;; esac; done; "
				       "[ $last -gt 0 ] && kill -9 $last"), 0);
	}
}

/* Two masters dead, the files of both named, the second source's rescue
 * server dies during the salvage: the first one's keys come back and
 * its node is forgotten; the slots are claimed all the same (the cluster
 * serves), the second node is not forgotten, the result counts what was
 * done and says what is left; a second run with the second node's files
 * brings the rest back. */
START_TEST(test_a_failed_source_does_not_hide_the_work_done)
{
	int killed = 0;
	struct repair_env env = {.progress = kill_last_rescue, .progress_arg = &killed};
	struct salvage_src sv[2];
	struct repair_opts o = {.timeout_ms = 2000, .salvage = sv, .nsalvage = 2};
	struct repair_outcome res;
	struct err e = ERR_INIT;
	long long held3, held4;

	rp_up(5, 0, PERSIST_AOF, 20000);
	held3 = rp_dbsize(3);
	held4 = rp_dbsize(4);
	rp_wait_aof_written(3);
	proc_kill(&rp_lc.nodes[3].proc);
	rp_kill(4);
	rp_wait_flagged(0, 3);
	sv[0] = rp_source(3, false);
	sv[1] = rp_source(4, false);
	ck_assert_int_eq(rp_repair(&o, &env, &res, &e), -1);
	ck_assert_int_eq(killed, 1);
	ck_assert_msg(strstr(e.msg, sv[1].dir), "%s", e.msg);
	ck_assert(!res.healthy);
	ck_assert_int_eq(res.total.keys_salvaged, held3);
	ck_assert_int_eq(res.total.forgotten, 1);
	ck_assert_int_eq(res.total.nunrestored, 0);
	ck_assert_msg(strstr(res.left, sv[1].dir), "left: %s", res.left);
	repair_outcome_release(&res);
	rp_assert_no_open_slots();
	/* the rest, from the second node's files */
	o.salvage = &sv[1];
	o.nsalvage = 1;
	ck_assert_msg(rp_repair(&o, NULL, &res, &e) == 0, "%s", e.msg);
	ck_assert_msg(res.healthy, "left: %s", res.left);
	ck_assert_int_eq(res.total.keys_salvaged, held4);
	ck_assert_int_eq(res.total.forgotten, 1);
	repair_outcome_release(&res);
	rp_assert_healthy(0, 0);
	rp_down();
}
END_TEST

Suite *
repair_dead_suite(void)
{
	Suite *s = suite_create("repair_dead");
	TCase *tc = tcase_create("dead-nodes");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_dead_target_mid_slot_restarted);
	tcase_add_test(tc, test_dead_source_mid_slot_restarted);
	tcase_add_test(tc, test_dead_target_mid_slot_salvaged);
	tcase_add_test(tc, test_dead_source_mid_slot_salvaged);
	tcase_add_test(tc, test_dead_master_replaced_by_a_new_one);
	tcase_add_test(tc, test_forced_redis_cli_fix_loses_keys_salvage_brings_them_back);
	tcase_add_test(tc, test_restart_without_files_is_another_node);
	tcase_add_test(tc, test_dead_node_with_its_files_gone);
	tcase_add_test(tc, test_replica_promoted_while_its_master_migrated);
	tcase_add_test(tc, test_paused_node_does_not_hang_the_repair);
	tcase_add_test(tc, test_a_failed_source_does_not_hide_the_work_done);
	suite_add_tcase(s, tc);
	return s;
}
