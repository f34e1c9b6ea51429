/*
 * A rebalance to a new, empty master on a real cluster: the harness adds
 * the node, the plan gives it an even share from every master, the
 * driver moves it (in rounds, from three sources in turn), and every key
 * is still where it belongs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/fetch.h"
#include "cluster/server.h"
#include "harness/local/load.h"
#include "harness/local/localcluster.h"
#include "harness/reshard/reshard.h"
#include "tests/support/itutil.h"
#include "tests/support/runner.h"
#include "verifier/verify.h"

START_TEST(test_rebalance_to_a_new_master_keeps_every_key)
{
	struct local_cluster lc;
	struct local_cluster_opts o = it_cluster_opts();
	struct dataset d = {.keys = 30000, .seed = 5, .value_size = 16};
	struct verify_opts vo = {.dataset = &d};
	struct reshard_plan plan = {0};
	struct reshard_opts ro = {.pipeline = 100, .timeout_ms = 5000, .slots_per_round = 300};
	struct reshard_progress pr;
	struct topology t = TOPOLOGY_INIT;
	struct err e = ERR_INIT;
	struct verdict v;
	size_t i;

	it_require_redis("rebalance");
	o.persistence = PERSIST_NONE;
	ck_assert_msg(local_cluster_start(&lc, &o, &e) == 0, "%s", e.msg);
	ck_assert_msg(dataset_load(&d, "127.0.0.1", lc.nodes[0].port, 0, &e) == 0, "%s", e.msg);
	ck_assert_msg(local_cluster_add_master(&lc, true, &e) == 0, "%s", e.msg);
	ck_assert_uint_eq(lc.n, 4);
	snprintf(plan.target, sizeof(plan.target), "%s", lc.nodes[3].id);
	ck_assert_msg(reshard_plan_rebalance(&plan, "127.0.0.1", lc.nodes[0].port, &e) == 0,
		      "%s", e.msg);
	/* 5461 + 5461 + 5462 slots: 1365, 1365 and 1366 to the new node */
	ck_assert_uint_eq(plan.nslots, 4096);
	ck_assert_str_eq(plan.sources[0], lc.nodes[0].id);
	ck_assert_int_eq(plan.slots[0], 5461 - 1365);
	ck_assert_str_eq(plan.sources[4095], lc.nodes[2].id);
	ck_assert_int_eq(plan.slots[4095], 16383);
	ck_assert_msg(reshard_run(&plan, "127.0.0.1", lc.nodes[0].port, &ro, NULL, &pr, &e) == 0,
		      "%s", e.msg);
	ck_assert_int_eq(pr.slots_done, 4096);
	ck_assert_msg(topology_fetch_addr("127.0.0.1", lc.nodes[1].port, 2000, &t, &e) == 0,
		      "%s", e.msg);
	for (i = 0; i < lc.n; i++) {
		const struct cluster_node *n = topology_find(&t, lc.nodes[i].id);

		ck_assert_ptr_nonnull(n);
		ck_assert_int_eq(cluster_node_slot_count(n), 4096);
	}
	topology_release(&t);
	ck_assert_int_eq(verify_cluster("127.0.0.1", lc.nodes[3].port, &vo, &v, &e), 0);
	ck_assert_msg(verdict_is_healthy(&v), "%lld findings", verdict_findings(&v));
	verdict_release(&v);
	reshard_plan_release(&plan);
	local_cluster_stop(&lc, false);
}
END_TEST

Suite *
rebalance_suite(void)
{
	Suite *s = suite_create("rebalance");
	TCase *tc = tcase_create("new-master");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_rebalance_to_a_new_master_keeps_every_key);
	suite_add_tcase(s, tc);
	return s;
}
