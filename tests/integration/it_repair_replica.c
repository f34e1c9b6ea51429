/*
 * The repair engine and replicas: a dead master's live replica is
 * promoted only with the user's consent (--failover); without it the plan
 * says what it would promote and the result is not healthy.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/fetch.h"
#include "tests/integration/repair_util.h"
#include "tests/support/itutil.h"
#include "tests/support/runner.h"

/* Node i says it is a master. */
static bool
is_master(int i)
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

/* Without --failover: the plan names the replica it would promote and
 * the flag, promotes nothing, and the repair ends not healthy (exit 1);
 * --dry-run shows the promotion either way; with --failover (and
 * --allow-data-loss: the dead master's files are not given) the replica
 * serves its master's slots, and nothing is lost. */
START_TEST(test_promotion_only_with_consent)
{
	char dir[PATH_MAX], want[128], *out;
	int port;

	dead_master_with_a_kept_replica();
	port = rp_lc.nodes[0].port;
	it_mkdtemp(dir, sizeof(dir), "sq-it-replica");
	snprintf(want, sizeof(want), "its replica 127.0.0.1:%d", rp_lc.nodes[5].port);
	ck_assert_int_eq(rp_cli(dir, "repair --dry-run 127.0.0.1:%d", port), 1);
	out = rp_read(dir, "out");
	ck_assert_msg(strstr(out, want) && strstr(out, "run again with --failover") &&
		      !strstr(out, "promote:"), "%s", out);
	free(out);
	ck_assert_int_eq(rp_cli(dir, "repair --dry-run --failover 127.0.0.1:%d", port), 1);
	out = rp_read(dir, "out");
	ck_assert_msg(strstr(out, "1. promote: ") && strstr(out, want), "%s", out);
	free(out);
	ck_assert_int_eq(rp_cli(dir, "repair 127.0.0.1:%d", port), 1);
	out = rp_read(dir, "out");
	ck_assert_msg(strstr(out, "not healthy") && strstr(out, "--failover") &&
		      strstr(out, "0 replicas promoted"), "%s", out);
	free(out);
	ck_assert(!is_master(5));
	ck_assert_int_eq(rp_cli(dir, "repair --failover --allow-data-loss 127.0.0.1:%d", port), 0);
	out = rp_read(dir, "out");
	ck_assert_msg(strstr(out, "1 replicas promoted"), "%s", out);
	free(out);
	ck_assert(is_master(5));
	rp_assert_healthy(0, 0);
	it_sh("rm -rf %s", dir);
	rp_down();
}
END_TEST

Suite *
repair_replica_suite(void)
{
	Suite *s = suite_create("repair_replica");
	TCase *tc = tcase_create("replicas");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_promotion_only_with_consent);
	suite_add_tcase(s, tc);
	return s;
}
