/*
 * Unit tests of the repair planner on hand-made assessments: each node's
 * own CLUSTER NODES, who answers, keys per slot.  The plan is pure, so
 * what apply would do is checked here without a cluster.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "repair/plan.h"
#include "repair/slotset.h"
#include "tests/support/runner.h"

#define IDA "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define IDB "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define IDC "cccccccccccccccccccccccccccccccccccccccc"

static struct assessment a;
static bool a_forgot_c;                /* A's view has no line for C at all */
static const char *ranges[3] = {"0-5460", "5461-10921", "10922-16383"};

/* Three masters A, B, C on 7000-7002; `extra[i]` is appended to node i's
 * own line in its own view; `epochs` are the config epochs; C answers
 * unless `c_down`, and then the others flag it failed. */
static void
build(const char *const extra[3], const unsigned epochs[3], bool c_down)
{
	static const char *const ids[3] = {IDA, IDB, IDC};
	char text[4096];
	struct err e = ERR_INIT;
	int i, j;

	memset(&a, 0, sizeof(a));
	for (i = 0; i < 3; i++)
		snapshot_add(&a.snap, ids[i], "127.0.0.1", 7000 + i);
	for (i = 0; i < 3; i++) {
		size_t len = 0;

		if (i == 2 && c_down)
			continue;
		for (j = 0; j < 3; j++)
			if (!(i == 0 && j == 2 && a_forgot_c))
			len += (size_t)snprintf(text + len, sizeof(text) - len,
						"%s 127.0.0.1:%d@%d %s%s - 0 0 %u connected %s%s\n",
						ids[j], 7000 + j, 17000 + j, i == j ? "myself," : "",
						j == 2 && c_down ? "master,fail" : "master", epochs[j],
						ranges[j], i == j && extra[i] ? extra[i] : "");
		ck_assert_msg(topology_parse(&a.snap.nodes[i].view, text, &e) == 0, "%s", e.msg);
		a.snap.nodes[i].reachable = true;
		snprintf(a.snap.nodes[i].state, sizeof(a.snap.nodes[i].state), "ok");
	}
	snapshot_index(&a.snap);
	a.nodes = calloc(3, sizeof(*a.nodes));
	for (i = 0; i < 3; i++)
		if (a.snap.nodes[i].reachable)
			a.nodes[i].keys = calloc(CLUSTER_SLOTS, sizeof(long long));
	assess_index(&a);
}

static const unsigned epochs123[3] = {1, 2, 3};
static const char *const none[3] = {NULL, NULL, NULL};
static const struct repair_opts plain = {.timeout_ms = 1000};

START_TEST(test_healthy_cluster_plans_nothing)
{
	struct plan p;

	build(none, epochs123, false);
	a.nodes[0].keys[7] = 10;
	plan_build(&a, &plain, &p);
	ck_assert_uint_eq(p.n, 0);
	ck_assert_uint_eq(p.nnotes, 0);
	plan_release(&p);
	assess_release(&a);
}
END_TEST

START_TEST(test_migration_open_on_both_sides_is_finished)
{
	static const char *const open[3] = {" [5->-" IDB "]", " [5-<-" IDA "]", NULL};
	struct plan p;

	build(open, epochs123, false);
	a.nodes[0].keys[5] = 6;
	a.nodes[1].keys[5] = 4;
	plan_build(&a, &plain, &p);
	ck_assert_uint_eq(p.n, 1);
	ck_assert_int_eq(p.v[0].kind, ACT_FIX);
	ck_assert_int_eq(p.v[0].slot, 5);
	ck_assert_int_eq(p.v[0].node, 1);  /* the target */
	ck_assert(p.v[0].forward);
	ck_assert_int_eq(p.v[0].keys, 6); /* what is left on the source */
	ck_assert_ptr_nonnull(strstr(p.v[0].reason, "finish it"));
	plan_release(&p);
	assess_release(&a);
}
END_TEST

START_TEST(test_importing_only_rolls_back_to_the_owner)
{
	static const char *const open[3] = {NULL, " [5-<-" IDA "]", NULL};
	struct plan p;

	build(open, epochs123, false);
	a.nodes[0].keys[5] = 6;
	a.nodes[1].keys[5] = 4;
	plan_build(&a, &plain, &p);
	ck_assert_uint_eq(p.n, 1);
	ck_assert_int_eq(p.v[0].node, 0);
	ck_assert(!p.v[0].forward);
	ck_assert_int_eq(p.v[0].keys, 4);
	plan_release(&p);
	assess_release(&a);
}
END_TEST

START_TEST(test_disputed_slot_goes_to_the_highest_epoch)
{
	static const char *const claim[3] = {" 12000", NULL, NULL};
	static const unsigned ep[3] = {9, 2, 3};
	struct plan p;

	build(claim, ep, false);
	a.nodes[0].keys[12000] = 2;
	a.nodes[2].keys[12000] = 5;
	plan_build(&a, &plain, &p);
	ck_assert_uint_eq(p.n, 1);
	ck_assert_int_eq(p.v[0].slot, 12000);
	ck_assert_int_eq(p.v[0].node, 0); /* epoch 9 beats 3, whatever the keys */
	ck_assert_int_eq(p.v[0].keys, 5);
	ck_assert_ptr_nonnull(strstr(p.v[0].reason, "claimed by 2 masters"));
	plan_release(&p);
	assess_release(&a);
}
END_TEST

START_TEST(test_stray_keys_go_to_the_owner)
{
	struct plan p;

	build(none, epochs123, false);
	a.nodes[2].keys[42] = 3; /* C holds keys of A's slot 42 */
	plan_build(&a, &plain, &p);
	ck_assert_uint_eq(p.n, 1);
	ck_assert_int_eq(p.v[0].slot, 42);
	ck_assert_int_eq(p.v[0].node, 0);
	ck_assert_int_eq(p.v[0].keys, 3);
	plan_release(&p);
	assess_release(&a);
}
END_TEST

START_TEST(test_dead_master_is_left_alone_without_a_way_to_recover)
{
	struct plan p;

	build(none, epochs123, true);
	plan_build(&a, &plain, &p);
	ck_assert_uint_eq(p.n, 0);
	ck_assert_uint_eq(p.nnotes, 1);
	ck_assert_ptr_nonnull(strstr(p.notes[0], "serves 5462 slots"));
	ck_assert_ptr_nonnull(strstr(p.notes[0], "--allow-data-loss"));
	plan_release(&p);
	assess_release(&a);
}
END_TEST

START_TEST(test_dead_master_given_up_spreads_its_slots_then_is_forgotten)
{
	struct repair_opts o = {.timeout_ms = 1000, .allow_data_loss = true};
	struct plan p;

	build(none, epochs123, true);
	plan_build(&a, &o, &p);
	ck_assert_uint_eq(p.n, 3);
	ck_assert_int_eq(p.v[0].kind, ACT_COVER);
	ck_assert_int_eq(p.v[1].kind, ACT_COVER);
	ck_assert_uint_eq(p.v[0].nslots + p.v[1].nslots, 5462);
	ck_assert_int_ne(p.v[0].node, p.v[1].node);
	ck_assert(p.v[0].data_loss && p.v[1].data_loss);
	ck_assert_int_eq(p.v[2].kind, ACT_FORGET);
	ck_assert_int_eq(p.v[2].node, 2);
	ck_assert_int_eq(p.keys_lost, -1);
	plan_release(&p);
	assess_release(&a);
}
END_TEST

START_TEST(test_dead_master_salvaged_loses_nothing)
{
	struct salvage_src sv = {.host = "127.0.0.1", .port = 7002, .dir = "/data/7002"};
	struct repair_opts o = {.timeout_ms = 1000, .salvage = &sv, .nsalvage = 1};
	struct plan p;

	build(none, epochs123, true);
	plan_build(&a, &o, &p);
	ck_assert_uint_eq(p.n, 4);
	ck_assert(!p.v[0].data_loss);
	ck_assert_int_eq(p.v[2].kind, ACT_SALVAGE);
	ck_assert_int_eq(p.v[3].kind, ACT_FORGET);
	ck_assert_int_eq(p.keys_lost, 0);
	plan_release(&p);
	assess_release(&a);
}
END_TEST

START_TEST(test_a_partial_forget_does_not_hide_a_dead_owner)
{
	struct plan p;

	a_forgot_c = true; /* the entry node forgot C; B still names it */
	build(none, epochs123, true);
	a_forgot_c = false;
	plan_build(&a, &plain, &p);
	ck_assert_uint_eq(p.n, 0);
	ck_assert_uint_eq(p.nnotes, 1);
	ck_assert_ptr_nonnull(strstr(p.notes[0], "is down"));
	plan_release(&p);
	assess_release(&a);
}
END_TEST

START_TEST(test_dead_slotless_target_of_a_migration_is_kept)
{
	/* C joined empty, A was moving slot 7 to it: C may hold its keys */
	static const char *const open[3] = {" [7->-" IDC "]", NULL, NULL};
	static const unsigned ep[3] = {1, 2, 0};
	struct repair_opts o = {.timeout_ms = 1000};
	struct plan p;

	ranges[0] = "0-8191";
	ranges[1] = "8192-16383";
	ranges[2] = "";
	build(open, ep, true);
	a.nodes[0].keys[7] = 3;
	plan_build(&a, &o, &p);
	ck_assert_uint_eq(p.n, 0); /* neither closed nor forgotten */
	ck_assert_uint_eq(p.nnotes, 1);
	ck_assert_ptr_nonnull(strstr(p.notes[0], "may hold keys"));
	plan_release(&p);
	assess_release(&a);
	/* given up, it goes: the slot is closed, the node forgotten */
	o.allow_data_loss = true;
	build(open, ep, true);
	a.nodes[0].keys[7] = 3;
	plan_build(&a, &o, &p);
	ck_assert_uint_eq(p.n, 2);
	ck_assert_int_eq(p.v[0].kind, ACT_FIX);
	ck_assert_int_eq(p.v[1].kind, ACT_FORGET);
	plan_release(&p);
	assess_release(&a);
	ranges[0] = "0-5460";
	ranges[1] = "5461-10921";
	ranges[2] = "10922-16383";
}
END_TEST

START_TEST(test_restart_comes_first)
{
	struct repair_opts o = {.timeout_ms = 1000, .can_restart = true, .allow_data_loss = true};
	struct plan p;

	build(none, epochs123, true);
	plan_build(&a, &o, &p);
	ck_assert_uint_eq(p.n, 1);
	ck_assert_int_eq(p.v[0].kind, ACT_RESTART);
	ck_assert(p.restart_first);
	plan_release(&p);
	assess_release(&a);
}
END_TEST

START_TEST(test_slot_sets_are_printed_as_sets)
{
	bool *in = calloc(CLUSTER_SLOTS, sizeof(bool));
	static const int some[] = {3, 4, 5, 9, 16383};
	char buf[64];
	int slot;

	ck_assert_str_eq(slotset_str(in, buf, sizeof(buf)), "");
	for (slot = 0; slot <= 8191; slot++)
		in[slot] = slot != 5461;
	ck_assert_str_eq(slotset_str(in, buf, sizeof(buf)), "0-5460,5462-8191");
	ck_assert_int_eq(slotset_count(in), 8191);
	ck_assert_str_eq(slotset_str_array(some, 5, buf, sizeof(buf)), "3-5,9,16383");
	/* what does not fit is cut between ranges, and the total said */
	for (slot = 0; slot < CLUSTER_SLOTS; slot++)
		in[slot] = slot % 2 == 0;
	slotset_str(in, buf, sizeof(buf));
	ck_assert_msg(strstr(buf, ",... (8192 slots in all)") != NULL, "%s", buf);
	ck_assert_int_lt((int)strlen(buf), (int)sizeof(buf));
	free(in);
}
END_TEST

START_TEST(test_covered_slots_are_named_as_a_set)
{
	struct repair_opts o = {.timeout_ms = 1000, .allow_data_loss = true};
	struct plan p;

	build(none, epochs123, true);
	plan_build(&a, &o, &p);
	ck_assert_int_eq(p.v[0].kind, ACT_COVER);
	ck_assert_msg(strstr(p.v[0].reason, "slots 10922-13652 of 127.0.0.1:7002 (cccccccc)") !=
		      NULL, "%s", p.v[0].reason);
	plan_release(&p);
	assess_release(&a);
}
END_TEST

/* A dead master's note counts the slots it owns, not one it imports. */
START_TEST(test_dead_master_note_counts_owned_slots_only)
{
	static const char *const open[3] = {" [7->-" IDC "]", NULL, NULL};
	struct plan p;

	build(open, epochs123, true);
	a.nodes[0].keys[7] = 3;
	plan_build(&a, &plain, &p);
	ck_assert_uint_eq(p.nnotes, 1);
	ck_assert_msg(strstr(p.notes[0], "serves 5462 slots (10922-16383) and has slots 7 open")
		      != NULL, "%s", p.notes[0]);
	plan_release(&p);
	assess_release(&a);
}
END_TEST

/* After a failover the old master serves nothing and a promoted replica
 * serves its slots: said so, not "serves 0 slots". */
START_TEST(test_failed_over_master_is_described_as_replaced)
{
	static const unsigned ep[3] = {1, 7, 3};
	struct plan p;

	ranges[1] = "5461-16383";
	ranges[2] = "";
	build(none, ep, true);
	a.nodes[1].promoted = true;
	plan_build(&a, &plain, &p);
	ck_assert_uint_eq(p.nnotes, 1);
	ck_assert_msg(strstr(p.notes[0], "was replaced by its replica: 127.0.0.1:7001") != NULL,
		      "%s", p.notes[0]);
	ck_assert_ptr_null(strstr(p.notes[0], "serves 0 slots"));
	plan_release(&p);
	assess_release(&a);
	ranges[1] = "5461-10921";
	ranges[2] = "10922-16383";
}
END_TEST

Suite *
plan_suite(void)
{
	Suite *s = suite_create("plan");
	TCase *tc = tcase_create("build");

	tcase_add_test(tc, test_healthy_cluster_plans_nothing);
	tcase_add_test(tc, test_migration_open_on_both_sides_is_finished);
	tcase_add_test(tc, test_importing_only_rolls_back_to_the_owner);
	tcase_add_test(tc, test_disputed_slot_goes_to_the_highest_epoch);
	tcase_add_test(tc, test_stray_keys_go_to_the_owner);
	tcase_add_test(tc, test_dead_master_is_left_alone_without_a_way_to_recover);
	tcase_add_test(tc, test_dead_master_given_up_spreads_its_slots_then_is_forgotten);
	tcase_add_test(tc, test_dead_master_salvaged_loses_nothing);
	tcase_add_test(tc, test_a_partial_forget_does_not_hide_a_dead_owner);
	tcase_add_test(tc, test_dead_slotless_target_of_a_migration_is_kept);
	tcase_add_test(tc, test_restart_comes_first);
	tcase_add_test(tc, test_covered_slots_are_named_as_a_set);
	tcase_add_test(tc, test_dead_master_note_counts_owned_slots_only);
	tcase_add_test(tc, test_failed_over_master_is_described_as_replaced);
	suite_add_tcase(s, tc);
	tc = tcase_create("text");
	tcase_add_test(tc, test_slot_sets_are_printed_as_sets);
	suite_add_tcase(s, tc);
	return s;
}
