/*
 * Integration tests of the reshard driver on real clusters: the steps
 * come in protocol order, a "50% of the keys of the 3rd slot" trigger
 * lands exactly (counted on both nodes), the dataset survives a
 * reshard, and a dead target stops it where a production tool would.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/server.h"
#include "cluster/slot.h"
#include "harness/local/load.h"
#include "harness/local/localcluster.h"
#include "harness/reshard/reshard.h"
#include "tests/support/itutil.h"
#include "tests/support/runner.h"
#include "verifier/verify.h"

static struct local_cluster lc;

static void
up(long long keys)
{
	struct local_cluster_opts o = it_cluster_opts();
	struct dataset d = {.keys = keys, .seed = 9, .value_size = 16};
	struct err e = ERR_INIT;

	it_require_redis("reshard");
	o.persistence = PERSIST_NONE;
	ck_assert_msg(local_cluster_start(&lc, &o, &e) == 0, "%s", e.msg);
	if (keys)
		ck_assert_msg(dataset_load(&d, "127.0.0.1", lc.nodes[0].port, 0, &e) == 0,
			      "%s", e.msg);
}

struct recorder {
	char log[8192];
	int stop_slot_index;   /* stop on STEP_KEYS of this slot ... */
	long long stop_at;     /* ... once this many keys moved */
	int kill_at_step;      /* kill the target at this step of slot 2, or -1 */
	int kill_slot_index;   /* ... of this slot instead, when not 0 */
	bool pause;            /* ... or stop it (SIGSTOP) instead */
	bool stopped;
};

static int
record(void *arg, const struct reshard_event *ev, struct err *e)
{
	struct recorder *r = arg;
	size_t len = strlen(r->log);

	snprintf(r->log + len, sizeof(r->log) - len, "%d:%s ", ev->slot_index,
		 reshard_step_name(ev->step));
	if (ev->step == STEP_KEYS && ev->slot_index == r->stop_slot_index &&
	    ev->slot_moved >= r->stop_at) {
		r->stopped = true;
		return err_set(e, 0, "fault point reached at %lld keys", ev->slot_moved);
	}
	if (ev->slot_index == (r->kill_slot_index ? r->kill_slot_index : 2) &&
	    (int)ev->step == r->kill_at_step) {
		if (r->pause)
			kill(lc.nodes[1].proc.pid, SIGSTOP);
		else
			proc_kill(&lc.nodes[1].proc);
	}
	return 0;
}

static long long
until(void *arg, int slot_index, long long moved, long long total)
{
	struct recorder *r = arg;

	(void)total;
	return slot_index == r->stop_slot_index && moved <= r->stop_at ? r->stop_at - moved : -1;
}

static long long
count_in_slot(int node, int slot)
{
	struct conn *c = it_conn(lc.nodes[node].port);
	struct err e = ERR_INIT;
	char s[16];
	long long n = -1;

	snprintf(s, sizeof(s), "%d", slot);
	ck_assert_msg(conn_cmd_int(c, &n, &e, "CLUSTER", "COUNTKEYSINSLOT", s, NULL) == 0,
		      "%s", e.msg);
	conn_free(c);
	return n;
}

START_TEST(test_reshard_steps_in_protocol_order)
{
	struct reshard_plan plan = {0};
	struct reshard_opts o = {5, 5000, false, 1};
	struct recorder r = {.stop_slot_index = -1, .kill_at_step = -1};
	struct reshard_hooks h = {.on_step = record, .arg = &r};
	struct reshard_progress pr;
	struct err e = ERR_INIT;
	int slots[2] = {0, 1};

	up(0);
	snprintf(plan.source, sizeof(plan.source), "%s", lc.nodes[0].id);
	snprintf(plan.target, sizeof(plan.target), "%s", lc.nodes[1].id);
	plan.slots = slots;
	plan.nslots = 2;
	ck_assert_msg(reshard_run(&plan, "127.0.0.1", lc.nodes[0].port, &o, &h, &pr, &e) == 0,
		      "%s", e.msg);
	/* empty slots pass the keys step once each */
	ck_assert_str_eq(r.log, "1:importing 1:migrating 1:keys 1:node-target 1:node-source "
				"1:slot-done 2:importing 2:migrating 2:keys 2:node-target "
				"2:node-source 2:slot-done ");
	ck_assert_int_eq(pr.slots_done, 2);
	local_cluster_stop(&lc, false);
}
END_TEST

/* 1000 keys in the third slot of the plan; the keys step of that slot
 * stops the reshard once `stop_at` keys have moved. */
static void
stop_in_third_slot(long long stop_at)
{
	struct reshard_plan plan = {0};
	struct reshard_opts o = {64, 5000, false, 1}; /* 500 is no multiple of 64 */
	struct recorder r = {.stop_slot_index = 3, .stop_at = stop_at, .kill_at_step = -1};
	struct reshard_hooks h = {.on_step = record, .keys_until = until, .arg = &r};
	struct reshard_progress pr;
	struct err e = ERR_INIT;
	unsigned tag = key_slot("t", 1);
	int slots[3], i, src = 0, dst;
	struct conn *c;
	char k[32];

	up(0);
	for (i = 0; i < lc.opts.masters; i++)
		if ((long)tag >= (long)i * CLUSTER_SLOTS / lc.opts.masters)
			src = i;
	dst = (src + 1) % lc.opts.masters;
	c = it_conn(lc.nodes[src].port);
	for (i = 0; i < 1000; i++) {
		snprintf(k, sizeof(k), "{t}:%d", i);
		ck_assert_int_eq(conn_cmd_ok(c, &e, "SET", k, "v", NULL), 0);
	}
	conn_free(c);
	/* two other slots of the source first, the tagged one third */
	slots[0] = src * CLUSTER_SLOTS / lc.opts.masters;
	slots[1] = slots[0] + 1;
	if (slots[0] == (int)tag || slots[1] == (int)tag)
		slots[0] += 2, slots[1] += 2;
	slots[2] = (int)tag;
	snprintf(plan.source, sizeof(plan.source), "%s", lc.nodes[src].id);
	snprintf(plan.target, sizeof(plan.target), "%s", lc.nodes[dst].id);
	plan.slots = slots;
	plan.nslots = 3;
	ck_assert_int_eq(reshard_run(&plan, "127.0.0.1", lc.nodes[0].port, &o, &h, &pr, &e), -1);
	ck_assert(r.stopped);
	snprintf(k, sizeof(k), "fault point reached at %lld keys", stop_at);
	ck_assert_msg(strstr(e.msg, k) != NULL, "%s", e.msg);
	ck_assert_int_eq(pr.at.slot_index, 3);
	ck_assert_int_eq(pr.at.slot_moved, stop_at);
	ck_assert_int_eq(count_in_slot(src, (int)tag), 1000 - stop_at);
	ck_assert_int_eq(count_in_slot(dst, (int)tag), stop_at);
	local_cluster_stop(&lc, false);
}

START_TEST(test_reshard_keys_trigger_lands_exactly_on_half)
{
	stop_in_third_slot(500);
}
END_TEST

/* A point of 0 keys (or a share that rounds down to 0) is reported
 * before the first key of the slot moves, not after a whole batch. */
START_TEST(test_reshard_keys_trigger_at_zero_fires_before_any_key_moves)
{
	stop_in_third_slot(0);
}
END_TEST

START_TEST(test_reshard_keeps_every_key)
{
	struct dataset d = {.keys = 50000, .seed = 9, .value_size = 16};
	struct verify_opts vo = {.dataset = &d};
	struct reshard_plan plan = {0};
	struct reshard_opts o = {100, 5000, false, 64}; /* 200 slots: 3 full rounds and a short one */
	struct reshard_progress pr;
	struct err e = ERR_INIT;
	struct verdict v;

	up(d.keys);
	snprintf(plan.source, sizeof(plan.source), "%s", lc.nodes[2].id);
	snprintf(plan.target, sizeof(plan.target), "%s", lc.nodes[0].id);
	ck_assert_msg(reshard_plan_count(&plan, "127.0.0.1", lc.nodes[0].port, 200, &e) == 0,
		      "%s", e.msg);
	ck_assert_msg(reshard_run(&plan, "127.0.0.1", lc.nodes[0].port, &o, NULL, &pr, &e) == 0,
		      "%s", e.msg);
	ck_assert_int_eq(pr.slots_done, 200);
	ck_assert_int_gt(pr.keys_moved, 0);
	ck_assert_int_eq(verify_cluster("127.0.0.1", lc.nodes[0].port, &vo, &v, &e), 0);
	ck_assert_msg(verdict_is_healthy(&v), "%lld findings", verdict_findings(&v));
	verdict_release(&v);
	reshard_plan_release(&plan);
	local_cluster_stop(&lc, false);
}
END_TEST

/* 20000 keys; 5 slots of master 0 go to master 1 one at a time, and
 * the recorder's fault hits master 1 in slot 2: the reshard must stop. */
static void
run_until_stopped(struct recorder *r, int timeout_ms, struct reshard_progress *pr,
		  struct err *e)
{
	struct reshard_plan plan = {0};
	struct reshard_opts o = {10, timeout_ms, false, 1};
	struct reshard_hooks h = {.on_step = record, .arg = r};

	up(20000);
	snprintf(plan.source, sizeof(plan.source), "%s", lc.nodes[0].id);
	snprintf(plan.target, sizeof(plan.target), "%s", lc.nodes[1].id);
	ck_assert_int_eq(reshard_plan_count(&plan, "127.0.0.1", lc.nodes[0].port, 5, e), 0);
	ck_assert_int_eq(reshard_run(&plan, "127.0.0.1", lc.nodes[0].port, &o, &h, pr, e), -1);
	reshard_plan_release(&plan);
}

START_TEST(test_reshard_stops_when_target_dies)
{
	struct recorder r = {.stop_slot_index = -1, .kill_at_step = STEP_MIGRATING};
	struct reshard_progress pr;
	struct err e = ERR_INIT;

	run_until_stopped(&r, 1000, &pr, &e);
	ck_assert(pr.stopped);
	ck_assert_int_eq(pr.slots_done, 1);
	ck_assert_int_eq(pr.at.slot_index, 2);
	ck_assert_msg(strstr(e.msg, "reshard stopped at slot") != NULL, "%s", e.msg);
	local_cluster_stop(&lc, false);
}
END_TEST

/* The target dies once slot 2 is done: the reshard stops at slot 3,
 * before its first step, and says so (not "slot 2, slot-done"). */
/* In rounds of 10, the target dies as the second round opens, while the
 * first round's MIGRATEs are on their way: the run stops in the first
 * round, before any slot is given to the target, with every answer the
 * source owes read, and says where. */
START_TEST(test_reshard_in_rounds_stops_when_the_target_dies_ahead)
{
	struct recorder r = {.stop_slot_index = -1, .kill_at_step = STEP_IMPORTING,
			     .kill_slot_index = 15};
	struct reshard_opts o = {10, 1000, false, 10};
	struct reshard_hooks h = {.on_step = record, .arg = &r};
	struct reshard_plan plan = {0};
	struct reshard_progress pr;
	struct err e = ERR_INIT;

	up(20000);
	snprintf(plan.source, sizeof(plan.source), "%s", lc.nodes[0].id);
	snprintf(plan.target, sizeof(plan.target), "%s", lc.nodes[1].id);
	ck_assert_int_eq(reshard_plan_count(&plan, "127.0.0.1", lc.nodes[0].port, 30, &e), 0);
	ck_assert_int_eq(reshard_run(&plan, "127.0.0.1", lc.nodes[0].port, &o, &h, &pr, &e), -1);
	ck_assert_msg(strstr(r.log, "20:importing") != NULL, "%s", r.log);
	ck_assert_msg(strstr(r.log, "node-target") == NULL, "%s", r.log);
	ck_assert(pr.stopped);
	ck_assert_int_eq(pr.slots_done, 0);
	ck_assert_msg(pr.at.slot_index >= 1 && pr.at.slot_index <= 10, "%d: %s",
		      pr.at.slot_index, e.msg);
	ck_assert_msg(strstr(e.msg, "reshard stopped at slot") != NULL, "%s", e.msg);
	reshard_plan_release(&plan);
	local_cluster_stop(&lc, false);
}
END_TEST

START_TEST(test_reshard_stop_before_a_slot_names_that_slot)
{
	struct recorder r = {.stop_slot_index = -1, .kill_at_step = STEP_SLOT_DONE};
	struct reshard_progress pr;
	struct err e = ERR_INIT;

	run_until_stopped(&r, 1000, &pr, &e);
	ck_assert_int_eq(pr.slots_done, 2);
	ck_assert_int_eq(pr.at.slot_index, 3);
	ck_assert(!pr.at_reached);
	ck_assert_msg(strstr(e.msg, "(3 of 5), before its first step") != NULL, "%s", e.msg);
	local_cluster_stop(&lc, false);
}
END_TEST

/* A target that stops answering mid-slot: the source's MIGRATE gives up
 * and says so, and the driver, waiting longer than MIGRATE does, reports
 * that (the target's fault), not a timeout of its own on the source. */
START_TEST(test_reshard_blames_a_paused_target_not_the_source)
{
	struct recorder r = {.stop_slot_index = -1, .kill_at_step = STEP_MIGRATING, .pause = true};
	struct reshard_progress pr;
	struct err e = ERR_INIT;

	run_until_stopped(&r, 500, &pr, &e);
	kill(lc.nodes[1].proc.pid, SIGCONT);
	ck_assert_int_eq(pr.at.slot_index, 2);
	ck_assert_msg(strstr(e.msg, "'MIGRATE' of slot") != NULL && strstr(e.msg, "IOERR") != NULL,
		      "%s", e.msg);
	local_cluster_stop(&lc, false);
}
END_TEST

Suite *
reshard_suite(void)
{
	Suite *s = suite_create("reshard");
	TCase *tc = tcase_create("driver");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_reshard_steps_in_protocol_order);
	tcase_add_test(tc, test_reshard_keys_trigger_lands_exactly_on_half);
	tcase_add_test(tc, test_reshard_keys_trigger_at_zero_fires_before_any_key_moves);
	tcase_add_test(tc, test_reshard_keeps_every_key);
	tcase_add_test(tc, test_reshard_stops_when_target_dies);
	tcase_add_test(tc, test_reshard_in_rounds_stops_when_the_target_dies_ahead);
	tcase_add_test(tc, test_reshard_stop_before_a_slot_names_that_slot);
	tcase_add_test(tc, test_reshard_blames_a_paused_target_not_the_source);
	suite_add_tcase(s, tc);
	return s;
}
