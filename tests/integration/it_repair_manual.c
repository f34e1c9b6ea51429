/*
 * Repair after a human (issue 12): each state is built by following
 * part of the usual manual runbook with redis-cli alone on a local
 * cluster (forget the failed node; --cluster fix after the forget;
 * SETSLOT STABLE on both sides of a half-moved slot; a forget on some
 * nodes only), then the repair is given the dead node's files, and the
 * dataset verified: not one key lost.
 */
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/slot.h"
#include "common/clock.h"
#include "tests/integration/repair_util.h"
#include "tests/support/itutil.h"
#include "tests/support/runner.h"

static const struct repair_opts plain = {.timeout_ms = 2000};

/* redis-cli CLUSTER FORGET of node `who` on node `on`. */
static void
forget_on(int on, int who)
{
	ck_assert_int_eq(it_sh("redis-cli -p %d CLUSTER FORGET %s | grep -qx OK",
			       rp_lc.nodes[on].port, rp_lc.nodes[who].id), 0);
}

/* The runbook's fix, answering yes to everything, and until nodes 0 and
 * 1 say cluster_state:ok (at most 10 s). */
static void
redis_cli_fix(void)
{
	uint64_t deadline = clock_now_ms() + 10000;
	int i;

	ck_assert_int_eq(it_sh("yes yes | redis-cli --cluster fix 127.0.0.1:%d --cluster-yes "
			       ">/dev/null 2>&1", rp_lc.nodes[0].port), 0);
	for (i = 0; i < 2; i++)
		while (it_sh("redis-cli -p %d CLUSTER INFO | grep -q '^cluster_state:ok'",
			     rp_lc.nodes[i].port) != 0 && clock_now_ms() < deadline)
			clock_sleep_ms(50);
}

/* The dataset's lost keys, by the verifier from node 0. */
static long long
lost_now(void)
{
	struct verify_opts vo = {.dataset = &rp_ds, .timeout_ms = 1000};
	struct err e = ERR_INIT;
	struct verdict v;
	long long n;

	ck_assert_msg(verify_cluster("127.0.0.1", rp_lc.nodes[0].port, &vo, &v, &e) == 0, "%s",
		      e.msg);
	n = v.f[F_LOST].count + v.f[F_UNREACHABLE_KEYS].count;
	verdict_release(&v);
	return n;
}

/* The repair with node `dead`'s files (bare: DIR alone), healthy, every
 * key it held salvaged, nothing lost. */
static void
repair_with_files(int dead, bool bare, long long held)
{
	struct salvage_src sv = rp_source(dead, bare);
	struct repair_opts o = plain;
	struct repair_outcome res;
	struct err e = ERR_INIT;

	o.salvage = &sv;
	o.nsalvage = 1;
	ck_assert_msg(rp_repair(&o, NULL, &res, &e) == 0, "%s", e.msg);
	ck_assert_msg(res.healthy, "left: %s", res.left);
	ck_assert_int_eq(res.total.keys_salvaged, held);
	ck_assert_int_eq(res.nsources, 1);
	ck_assert(res.sources[0].read);
	ck_assert_int_eq(res.sources[0].keys, held);
	ck_assert_int_eq(res.sources[0].missing, 0);
	repair_outcome_release(&res);
	rp_assert_healthy(0, 0);
	rp_assert_redis_cli_check(0);
	/* and again: the files are read, nothing is missing, nothing to do */
	ck_assert_msg(rp_repair(&o, NULL, &res, &e) == 0, "%s", e.msg);
	ck_assert_msg(res.healthy, "left: %s", res.left);
	ck_assert_int_eq(res.total.keys_salvaged, 0);
	ck_assert_int_eq(res.total.salvage_same, held);
	repair_outcome_release(&res);
}

/* The runbook's forget step: every live node forgets the dead master.
 * Its slots have no owner now; its keys are in its files alone. */
START_TEST(test_forget_everywhere_then_repair_with_its_files)
{
	char dir[PATH_MAX], *out;
	long long held;

	rp_up(3, 0, PERSIST_AOF, 20000);
	held = rp_kill(2);
	forget_on(0, 2);
	forget_on(1, 2);
	/* the CLI, DIR alone: the dry run says what the files hold, per
	 * slot range, and what the cluster lacks, before anything changes */
	it_mkdtemp(dir, sizeof(dir), "sq-it-manual");
	ck_assert_int_eq(rp_cli(dir, "repair 127.0.0.1:%d --dry-run --salvage %s",
				rp_lc.nodes[0].port, rp_lc.nodes[2].dir), 1);
	out = rp_read(dir, "out");
	ck_assert_msg(strstr(out, "which no node knows any more) holds") &&
		      strstr(out, "slots 10922-1638") &&
		      strstr(out, "have no owner in any node's view") &&
		      strstr(out, "not healthy now"), "%s", out);
	free(out);
	it_sh("rm -rf %s", dir);
	repair_with_files(2, true, held);
	rp_down();
}
END_TEST

/* The forget, then redis-cli --cluster fix, which gives the dead node's
 * slots, empty, to the others: the cluster looks healthy and a third of
 * the keys is gone, until its files are read. */
START_TEST(test_fix_after_forget_then_repair_with_its_files)
{
	long long held;

	rp_up(3, 0, PERSIST_AOF, 20000);
	held = rp_kill(2);
	forget_on(0, 2);
	forget_on(1, 2);
	redis_cli_fix();
	ck_assert_int_eq(lost_now(), held); /* what the runbook loses */
	repair_with_files(2, false, held);
	rp_down();
}
END_TEST

/* The forget reached node 0 only: node 1 still names the dead master as
 * the owner of its slots. */
START_TEST(test_forget_on_some_nodes_only_then_repair_with_its_files)
{
	long long held;

	rp_up(3, 0, PERSIST_AOF, 20000);
	held = rp_kill(2);
	forget_on(0, 2);
	repair_with_files(2, true, held);
	rp_down();
}
END_TEST

/* SETSLOT STABLE on both sides of a half-moved slot: the owner kept the
 * slot, the target keeps the keys it received, and redis-cli --cluster
 * check sees nothing wrong. */
START_TEST(test_stable_on_a_half_moved_slot_then_repair)
{
	struct repair_outcome res;
	struct err e = ERR_INIT;
	long long moved;
	int slot;

	rp_up(3, 0, PERSIST_NONE, 20000);
	slot = rp_slot_with_keys(0, 0, 4);
	moved = rp_count(0, slot) / 2;
	rp_half(0, 1, slot, moved);
	ck_assert_int_eq(it_sh("redis-cli -p %d CLUSTER SETSLOT %d STABLE | grep -qx OK",
			       rp_lc.nodes[0].port, slot), 0);
	ck_assert_int_eq(it_sh("redis-cli -p %d CLUSTER SETSLOT %d STABLE | grep -qx OK",
			       rp_lc.nodes[1].port, slot), 0);
	rp_assert_redis_cli_check(0); /* blind to it */
	ck_assert_int_eq(lost_now(), 0);
	ck_assert_msg(rp_repair(&plain, NULL, &res, &e) == 0, "%s", e.msg);
	ck_assert_msg(res.healthy, "left: %s", res.left);
	ck_assert_int_eq(res.total.keys_moved, moved);
	repair_outcome_release(&res);
	ck_assert_int_eq(rp_count(1, slot), 0);
	rp_assert_healthy(0, 0);
	rp_down();
}
END_TEST

/* After the fix, a client wrote one of the dead node's keys anew: the
 * slot was served by its new owner since, so the client's value is the
 * newer one by construction (issue 13): the files' value is superseded,
 * set aside in the stash, no decision waits; every other key comes
 * back. */
START_TEST(test_a_key_written_since_the_fix_supersedes_the_files)
{
	struct salvage_src sv;
	struct repair_opts o = plain;
	struct repair_outcome res;
	struct err e = ERR_INIT;
	char key[DATASET_KEY_MAX], *v;
	long long held, i;

	rp_up(3, 0, PERSIST_AOF, 20000);
	held = rp_kill(2);
	forget_on(0, 2);
	forget_on(1, 2);
	redis_cli_fix();
	for (i = 0; i < rp_ds.keys; i++) /* a key node 2 held (its slots: the last third) */
		if (key_slot(key, dataset_key(i, key)) >= 10922)
			break;
	ck_assert_int_eq(it_sh("redis-cli -c -p %d SET %s 'written since' | grep -qx OK",
			       rp_lc.nodes[0].port, key), 0);
	sv = rp_source(2, false);
	o.salvage = &sv;
	o.nsalvage = 1;
	rp_keep_stash = true;
	ck_assert_msg(rp_repair(&o, NULL, &res, &e) == 0, "%s", e.msg);
	rp_keep_stash = false;
	ck_assert_msg(res.healthy, "left: %s", res.left);
	ck_assert_int_eq(res.total.keys_salvaged, held - 1);
	ck_assert_int_eq(res.total.conflicts, 0);
	ck_assert_int_eq(res.total.superseded, 1);
	ck_assert_int_eq(res.decisions, 0);
	v = rp_stash_get(res.total.stash, 1, key);
	ck_assert_ptr_nonnull(v);
	ck_assert_str_ne(v, "written since");
	free(v);
	rp_stash_drop(res.total.stash);
	repair_outcome_release(&res);
	ck_assert_int_eq(it_sh("redis-cli -c -p %d GET %s | grep -qx 'written since'",
			       rp_lc.nodes[0].port, key), 0);
	ck_assert_int_eq(lost_now(), 0);
	rp_down();
}
END_TEST

/* Raises the interrupt flag when the repair enters its salvage phase. */
static void
stop_at_salvage(void *arg, const char *phase, long long done, long long total)
{
	(void)done;
	(void)total;
	if (strcmp(phase, "salvage") == 0)
		*(volatile sig_atomic_t *)arg = 1;
}

/* Ctrl-C as the files are about to be read: the repair stops, puts back
 * what it changed, leaves no rescue server or copy behind; the next run
 * brings every key back. */
START_TEST(test_a_signal_before_the_salvage_leaves_nothing_behind)
{
	volatile sig_atomic_t stop = 0;
	struct repair_env env = {.progress = stop_at_salvage, .progress_arg = (void *)&stop,
				 .interrupted = &stop};
	struct salvage_src sv;
	struct repair_opts o = plain;
	struct repair_outcome res;
	struct err e = ERR_INIT;
	long long held;

	rp_up(3, 0, PERSIST_AOF, 20000);
	held = rp_kill(2);
	forget_on(0, 2);
	forget_on(1, 2);
	sv = rp_source(2, true);
	o.salvage = &sv;
	o.nsalvage = 1;
	ck_assert_int_eq(rp_repair(&o, &env, &res, &e), -1);
	ck_assert_msg(strstr(e.msg, "interrupted"), "%s", e.msg);
	ck_assert(!res.healthy);
	ck_assert_int_eq(res.total.nunrestored, 0);
	repair_outcome_release(&res);
	rp_assert_no_open_slots();
	ck_assert_int_eq(it_sh("test -z \"$(ls -d $TMPDIR/shardquake-rescue-* 2>/dev/null)\""), 0);
	repair_with_files(2, true, held);
	rp_down();
}
END_TEST

/* A source that cannot be read is never "healthy": exit 1, and why. */
START_TEST(test_a_source_not_read_is_not_healthy)
{
	char dir[PATH_MAX], *out;

	rp_up(3, 0, PERSIST_NONE, 1000);
	it_mkdtemp(dir, sizeof(dir), "sq-it-manual");
	ck_assert_int_eq(rp_cli(dir, "repair 127.0.0.1:%d --salvage %s/nothing-here",
				rp_lc.nodes[0].port, dir), 1);
	out = rp_read(dir, "out");
	ck_assert_msg(strstr(out, "could not be read") && strstr(out, "not healthy"), "%s", out);
	free(out);
	it_sh("rm -rf %s", dir);
	rp_down();
}
END_TEST

Suite *
repair_manual_suite(void)
{
	Suite *s = suite_create("repair_manual");
	TCase *tc = tcase_create("runbook");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_forget_everywhere_then_repair_with_its_files);
	tcase_add_test(tc, test_fix_after_forget_then_repair_with_its_files);
	tcase_add_test(tc, test_forget_on_some_nodes_only_then_repair_with_its_files);
	tcase_add_test(tc, test_stable_on_a_half_moved_slot_then_repair);
	tcase_add_test(tc, test_a_key_written_since_the_fix_supersedes_the_files);
	tcase_add_test(tc, test_a_source_not_read_is_not_healthy);
	tcase_add_test(tc, test_a_signal_before_the_salvage_leaves_nothing_behind);
	suite_add_tcase(s, tc);
	return s;
}
