/*
 * The repair engine and replicas: a dead master's live replica is
 * promoted only with the user's consent (--failover); without it the
 * replica is a salvage source, as is any replica that holds keys no
 * master has.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/fetch.h"
#include "common/clock.h"
#include "tests/integration/repair_util.h"
#include "tests/support/itutil.h"
#include "tests/support/runner.h"

/* 3 masters with a replica each (nodes 3, 4, 5 replicate 0, 1, 2);
 * master 2 killed once its replica, kept from a failover of its own, has
 * every key; the keys it held. */
static long long
dead_master_with_a_kept_replica(void)
{
	rp_up(3, 1, PERSIST_AOF, 20000);
	ck_assert_int_eq(rp_lc.nodes[5].master, 2);
	rp_ok(5, "CONFIG", "SET", "cluster-replica-no-failover", "yes", NULL);
	rp_wait_synced(5);
	return rp_kill(2);
}

/* Its files gone too: the replica holds the only copy of its keys. */
static long long
dead_master_files_gone(void)
{
	long long held = dead_master_with_a_kept_replica();

	ck_assert_int_eq(it_sh("rm -rf %s/*", rp_lc.nodes[2].dir), 0);
	return held;
}

/* (a) Without --failover: the plan names the replica it would promote
 * and the flag, and what the replica holds that the cluster lacks; it
 * promotes nothing and salvages the replica's keys instead (the dead
 * master's slots to the others, the replica following them): healthy,
 * nothing lost.  --dry-run shows the promotion either way. */
START_TEST(test_without_consent_the_replica_is_salvaged)
{
	char dir[PATH_MAX], want[128], seen[128], *out;
	long long held;
	int port;

	held = dead_master_files_gone();
	port = rp_lc.nodes[0].port;
	it_mkdtemp(dir, sizeof(dir), "sq-it-replica");
	snprintf(want, sizeof(want), "its replica 127.0.0.1:%d", rp_lc.nodes[5].port);
	snprintf(seen, sizeof(seen), "seen: replica 127.0.0.1:%d (", rp_lc.nodes[5].port);
	ck_assert_int_eq(rp_cli(dir, "repair --dry-run 127.0.0.1:%d", port), 1);
	out = rp_read(dir, "out");
	ck_assert_msg(strstr(out, want) && strstr(out, "run again with --failover") &&
		      !strstr(out, "promote:") && strstr(out, seen) &&
		      strstr(out, "salvage: read replica"), "%s", out);
	free(out);
	ck_assert_int_eq(rp_cli(dir, "repair --dry-run --failover 127.0.0.1:%d", port), 1);
	out = rp_read(dir, "out");
	ck_assert_msg(strstr(out, "1. promote: ") && strstr(out, want), "%s", out);
	free(out);
	ck_assert_int_eq(rp_cli(dir, "repair 127.0.0.1:%d", port), 0);
	out = rp_read(dir, "out");
	snprintf(want, sizeof(want), "%lld salvaged", held);
	ck_assert_msg(strstr(out, "0 replicas promoted") && strstr(out, want) &&
		      strstr(out, "1 forgotten"), "%s", out);
	free(out);
	ck_assert(!rp_is_master(5));
	rp_assert_healthy(0, 0);
	it_sh("rm -rf %s", dir);
	rp_down();
}
END_TEST

/* (b) The same with consent: the replica is promoted and serves its
 * master's slots with the keys it replicated; nothing to salvage.  (The
 * dead master, files gone, is then given up: --allow-data-loss, which
 * loses nothing here.) */
START_TEST(test_with_consent_the_replica_is_promoted)
{
	struct repair_opts o = {.timeout_ms = 2000, .allow_failover = true,
				.allow_data_loss = true};
	struct repair_outcome res;
	struct err e = ERR_INIT;

	dead_master_files_gone();
	ck_assert_msg(rp_repair(&o, NULL, &res, &e) == 0, "%s", e.msg);
	ck_assert_msg(res.healthy, "left: %s", res.left);
	ck_assert_int_eq(res.total.promoted, 1);
	ck_assert_int_eq(res.total.keys_salvaged, 0);
	ck_assert_int_eq(res.total.forgotten, 1);
	repair_outcome_release(&res);
	ck_assert(rp_is_master(5));
	rp_assert_healthy(0, 0);
	rp_down();
}
END_TEST

/* With consent, and slots left uncovered besides (DELSLOTSRANGE on every
 * live node, as an incident's were): the promotion round is followed by one
 * that covers them.  No node says cluster_state:ok before that, so the
 * wait between the rounds must not ask for it: it waited its whole 20 s
 * limit, every time.  Judged by why a wait gave up, not by the time: on a
 * loaded machine a wait may give up on flags of a node slow to answer. */
START_TEST(test_promotion_then_uncovered_slots_no_wait)
{
	struct repair_opts o = {.timeout_ms = 2000, .allow_failover = true,
				.allow_data_loss = true};
	struct repair_outcome res;
	struct err e = ERR_INIT;
	size_t i;

	dead_master_with_a_kept_replica();
	for (i = 0; i < rp_lc.n; i++)
		if (i != 2)
			rp_ok((int)i, "CLUSTER", "DELSLOTSRANGE", "5451", "5460", NULL);
	rp_wait_flagged(0, 2);
	ck_assert_msg(rp_repair(&o, NULL, &res, &e) == 0, "%s", e.msg);
	ck_assert_msg(res.healthy, "left: %s", res.left);
	ck_assert_int_eq(res.total.promoted, 1);
	ck_assert_msg(strstr(res.unsettled, "cluster_state") == NULL,
		      "a wait gave up on a cluster_state:ok that uncovered slots never give: %s",
		      res.unsettled);
	repair_outcome_release(&res);
	ck_assert(rp_is_master(5));
	rp_assert_healthy(0, 0);
	rp_down();
}
END_TEST

/* (c) A replica holding keys its master lacks (as a Redis 7.0 replica
 * keeps what its master's slot clean-up dropped; made here on either
 * server by deleting them on the master without replicating the DELs):
 * the keys come back to the slot's owner from the replica. */
START_TEST(test_keys_only_a_replica_holds_come_back)
{
	static const char script[] = "redis.set_repl(redis.REPL_NONE) "
				     "for _, k in ipairs(KEYS) do redis.call('DEL', k) end "
				     "return #KEYS";
	struct repair_opts o = {.timeout_ms = 2000};
	struct repair_outcome res;
	struct err e = ERR_INIT;
	struct reply *keys;
	struct conn *c;
	const char *argv[64];
	char s[16], nk[16];
	size_t i, argc = 0;
	int slot;

	rp_up(3, 1, PERSIST_NONE, 20000);
	ck_assert_int_eq(rp_lc.nodes[3].master, 0);
	rp_wait_synced(3);
	slot = rp_slot_with_keys(0, 0, 4);
	c = it_conn(rp_lc.nodes[0].port);
	snprintf(s, sizeof(s), "%d", slot);
	keys = conn_cmd(c, &e, "CLUSTER", "GETKEYSINSLOT", s, "50", NULL);
	ck_assert_msg(keys && keys->type == REPLY_ARRAY && keys->nelem >= 4, "%s", e.msg);
	snprintf(nk, sizeof(nk), "%zu", keys->nelem);
	argv[argc++] = "EVAL";
	argv[argc++] = script;
	argv[argc++] = nk;
	for (i = 0; i < keys->nelem; i++)
		argv[argc++] = keys->elem[i]->str;
	reply_free(conn_cmd_argv(c, (int)argc, argv, NULL, &e));
	conn_free(c);
	ck_assert_int_eq(rp_count(0, slot), 0);
	ck_assert_int_eq(rp_count(3, slot), (long long)keys->nelem);
	ck_assert_msg(rp_repair(&o, NULL, &res, &e) == 0, "%s", e.msg);
	ck_assert_msg(res.healthy, "left: %s", res.left);
	ck_assert_int_eq(res.total.keys_salvaged, (long long)keys->nelem);
	ck_assert_int_eq(res.total.promoted, 0);
	repair_outcome_release(&res);
	ck_assert_int_eq(rp_count(0, slot), (long long)keys->nelem);
	reply_free(keys);
	rp_assert_healthy(0, 0);
	rp_down();
}
END_TEST

/* (d) Redis 7.0 itself: a master loses a slot to a higher epoch claim
 * and drops its keys of it (its slot clean-up), which 7.0 does not
 * replicate: its replica keeps them, and only it.  It answers MOVED for
 * them (its master does not serve the slot), so a copy of its data is
 * read as an RDB: the keys come back to the slot's new owner.  Valkey 8
 * replicates the clean-up: its replica keeps nothing, the keys are gone
 * for good, and the repair has nothing to bring back. */
START_TEST(test_keys_a_master_cleaned_up_come_back_from_its_replica)
{
	struct repair_opts o = {.timeout_ms = 2000};
	struct repair_outcome res;
	struct err e = ERR_INIT;
	char s[16];
	long long held;
	int slot;
	bool valkey = it_on_valkey();

	rp_up(3, 1, PERSIST_NONE, 20000);
	rp_wait_synced(3);
	slot = rp_slot_with_keys(0, 0, 2);
	held = rp_count(0, slot);
	snprintf(s, sizeof(s), "%d", slot);
	/* master 1 takes the slot, empty, with the highest epoch */
	rp_ok(1, "CLUSTER", "SETSLOT", s, "NODE", rp_lc.nodes[1].id, NULL);
	rp_ok(1, "CLUSTER", "BUMPEPOCH", NULL);
	{
		uint64_t deadline = clock_now_ms() + 10000;

		while (rp_count(0, slot) != 0 && clock_now_ms() < deadline)
			clock_sleep_ms(50);
	}
	ck_assert_int_eq(rp_count(0, slot), 0);
	ck_assert_int_eq(rp_count(1, slot), 0);
	if (valkey) {
		rp_wait_synced(3);
		ck_assert_int_eq(rp_count(3, slot), 0);
		rp_down();
		return;
	}
	ck_assert_int_eq(rp_count(3, slot), held);
	ck_assert_msg(rp_repair(&o, NULL, &res, &e) == 0, "%s", e.msg);
	ck_assert_msg(res.healthy, "left: %s", res.left);
	/* each source's share, when the keys were counted twice */
	for (size_t k = 0; res.total.keys_salvaged != held && k < res.nsources; k++)
		fprintf(stderr, "source %s: %lld salvaged, %lld the same (%d rounds)\n",
			res.sources[k].dir, res.sources[k].salvaged, res.sources[k].same, res.rounds);
	ck_assert_int_eq(res.total.keys_salvaged, held);
	repair_outcome_release(&res);
	ck_assert_int_eq(rp_count(1, slot), held);
	rp_assert_healthy(0, 0);
	rp_down();
}
END_TEST

Suite *
repair_replica_suite(void)
{
	Suite *s = suite_create("repair_replica");
	TCase *tc = tcase_create("replicas");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_without_consent_the_replica_is_salvaged);
	tcase_add_test(tc, test_with_consent_the_replica_is_promoted);
	tcase_add_test(tc, test_promotion_then_uncovered_slots_no_wait);
	tcase_add_test(tc, test_keys_only_a_replica_holds_come_back);
	tcase_add_test(tc, test_keys_a_master_cleaned_up_come_back_from_its_replica);
	suite_add_tcase(s, tc);
	return s;
}
