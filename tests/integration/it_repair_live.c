/*
 * The repair engine under live traffic: writers (harness/workload) keep
 * overwriting their keys, every write in a ledger, while a node dies
 * mid-reshard and the engine repairs the cluster, or while it resolves
 * duplicates.  Afterwards no acknowledged write is lost or rolled back,
 * the verdict is healthy, and nothing the files held was counted as a
 * conflict when the cluster's value was newer by construction.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cluster/fetch.h"
#include "cluster/slot.h"
#include "common/clock.h"
#include "common/xmalloc.h"
#include "harness/workload/writers.h"
#include "tests/integration/repair_util.h"
#include "tests/support/itutil.h"
#include "tests/support/runner.h"

#define LIVE_KEYS 3000

static struct ledger led;
static struct writers *wr;

/* Until every writers' key has an acknowledged write later than
 * then[i] (the writers' marks; 0: none yet), at most `secs`. */
static void
written_after(const long long *then, int secs, const char *what)
{
	long long *now = xcalloc(LIVE_KEYS, sizeof(*now));
	uint64_t deadline = clock_now_ms() + (uint64_t)secs * 1000;
	struct err e = ERR_INIT;
	size_t i;

	do {
		clock_sleep_ms(20);
		ck_assert_msg(writers_mark(wr, now, 2000, &e) == 0, "%s", e.msg);
		for (i = 0; i < LIVE_KEYS && now[i] > then[i]; i++)
			;
	} while (i < LIVE_KEYS && clock_now_ms() < deadline);
	ck_assert_msg(i == LIVE_KEYS, "writers' key %zu not written %s in %d s", i, what, secs);
	free(now);
}

/* Writers on LIVE_KEYS keys, until every key was written once: each
 * key's own write, not LIVE_KEYS writes in all (under load one writer
 * lagged, and keys of its share were not there yet to be copied: the
 * duplicates test then counted fewer). */
static void
live_start(void)
{
	struct writers_opts o = {.host = "127.0.0.1", .port = rp_lc.nodes[0].port,
				 .writers = 4, .timeout_ms = 1000};
	long long *none = xcalloc(LIVE_KEYS, sizeof(*none));
	struct err e = ERR_INIT;
	char tag[32];

	snprintf(tag, sizeof(tag), "live%ld", (long)getpid());
	ledger_init(&led, LIVE_KEYS, "sqlive:", tag);
	wr = writers_start(&o, &led, &e);
	ck_assert_msg(wr != NULL, "%s", e.msg);
	written_after(none, 20, "once");
	free(none);
}

/* Until every writers' key has an acknowledged write after this call
 * (at most 10 s): copies of them taken before are older then. */
static void
all_written_again(void)
{
	long long *then = xcalloc(LIVE_KEYS, sizeof(*then));
	struct err e = ERR_INIT;

	ck_assert_msg(writers_mark(wr, then, 2000, &e) == 0, "%s", e.msg);
	written_after(then, 10, "again");
	free(then);
}

/* Lets the writers go on for `ms`, stops them, and reads every key
 * back: nothing acknowledged is lost. */
static void
live_stop_and_check(unsigned ms)
{
	struct ledger_result r;
	struct err e = ERR_INIT;
	long long before = writers_acked(wr);

	clock_sleep_ms(ms);
	ck_assert_msg(writers_acked(wr) > before, "the writers made no progress after the repair");
	writers_stop(wr, NULL, NULL);
	wr = NULL;
	ck_assert_msg(ledger_check(&led, "127.0.0.1", rp_lc.nodes[0].port, 1000, &r, &e) == 0 ||
		      ledger_check(&led, "127.0.0.1", rp_lc.nodes[2].port, 1000, &r, &e) == 0,
		      "%s", e.msg);
	fprintf(stderr, "live: %lld writes acknowledged, %lld failed, %lld unknown; "
		"%lld keys: %lld kept, %lld lost, %lld foreign, %lld unread\n", led.acked,
		led.failed, led.unknown, r.keys, r.kept, r.lost, r.foreign, r.unread);
	ck_assert_msg(r.lost == 0, "%lld acknowledged writes lost: %s", r.lost, r.examples[0]);
	ck_assert_msg(r.foreign == 0, "%lld foreign values: %s", r.foreign, r.examples[0]);
	ck_assert_int_eq(r.unread, 0);
	ck_assert_int_eq(r.keys, LIVE_KEYS);
	ledger_release(&led);
}

/* The repair while the writers go on: healthy, no decision waiting. */
static void
live_repair(const struct repair_opts *o, struct repair_outcome *res)
{
	struct err e = ERR_INIT;
	char line[1024];

	ck_assert_msg(rp_repair(o, NULL, res, &e) == 0, "%s", e.msg);
	repair_outcome_line(res, line, sizeof(line));
	fprintf(stderr, "repair: %s\n", line);
	ck_assert_msg(res->healthy, "left: %s", res->left);
	ck_assert_int_eq(res->decisions, 0);
}

/* The writers stopped and their ledger read back; the dataset verified
 * from node i (the writers' keys its only extra keys), and redis-cli
 * agrees; the cluster down. */
static void
live_end(int i)
{
	live_stop_and_check(1000);
	rp_assert_healthy_extra(i, 0, LIVE_KEYS);
	rp_assert_redis_cli_check(i);
	rp_down();
}

/* Slots of master i holding writers' keys: up to `max` of them into
 * slots[], how many. */
static int
writer_slots(int i, int *slots, int max)
{
	struct topology t = TOPOLOGY_INIT;
	struct err e = ERR_INIT;
	const struct cluster_node *me;
	char name[64];
	size_t k;
	int n = 0, slot, j;

	ck_assert_msg(topology_fetch_addr("127.0.0.1", rp_lc.nodes[i].port, 1000, &t, &e) == 0,
		      "%s", e.msg);
	me = topology_myself(&t);
	for (k = 0; k < led.n && n < max; k++) {
		ledger_key_name(&led, k, name, sizeof(name));
		slot = (int)key_slot(name, strlen(name));
		for (j = 0; j < n && slots[j] != slot; j++)
			;
		if (j == n && cluster_node_has_slot(me, slot))
			slots[n++] = slot;
	}
	topology_release(&t);
	return n;
}

/* A slot of master 0 holding a writers' key, all but one key moved to
 * master 1 under traffic (the writers follow ASK), `victim` killed, then
 * repaired from its files while the writers go on. */
static void
kill_mid_slot_and_repair(int victim)
{
	struct salvage_src sv;
	struct repair_opts o = {.timeout_ms = 2000, .salvage = &sv, .nsalvage = 1};
	struct repair_outcome res;
	int slot;

	rp_up(3, 0, PERSIST_AOF, 20000);
	live_start();
	ck_assert_int_eq(writer_slots(0, &slot, 1), 1);
	rp_half(0, 1, slot, rp_count(0, slot) - 1);
	rp_kill(victim);
	clock_sleep_ms(500); /* clients meet the dead node */
	sv = rp_source(victim, false);
	live_repair(&o, &res);
	ck_assert_int_gt(res.total.keys_salvaged, 0);
	ck_assert_int_eq(res.total.forgotten, 1);
	repair_outcome_release(&res);
	live_end(2);
}

/* Duplicates under traffic: every key of ten slots of master 0 that hold
 * writers' keys copied to master 1, which does not own them; the writers
 * go on writing on 0, so 1's copies of their keys grow old.  The repair
 * takes 1's copies away: the old ones superseded (0 served those slots
 * all along), the equal ones stashed; no decision waits. */
START_TEST(test_live_duplicates_on_a_non_owner)
{
	struct repair_opts o = {.timeout_ms = 2000};
	struct repair_outcome res;
	int slots[10], n, i;

	rp_up(3, 0, PERSIST_NONE, 20000);
	live_start();
	n = writer_slots(0, slots, 10);
	ck_assert_int_eq(n, 10);
	for (i = 0; i < n; i++)
		rp_copy_unowned(0, 1, slots[i], rp_count(0, slots[i]));
	all_written_again(); /* on 0: 1's copies are all older */
	live_repair(&o, &res);
	ck_assert_int_ge(res.total.superseded, 10);
	ck_assert_int_gt(res.total.stashed, 0);
	repair_outcome_release(&res);
	live_end(2);
}
END_TEST

/* Three slots of master 0 holding writers' keys, open on both sides
 * towards master 1 (migrating, importing) while clients write: half of
 * their keys moved (the writers then write those by ASK on 1), or, with
 * `copies`, every key copied as by MIGRATEs whose replies were lost (on
 * both sides, the writers going on writing on 0, which still serves
 * them: 1's copies grow old).  The repair finishes forward: master 1
 * holds the slots (clients refused) until every key is in, where it has
 * an older copy that copy goes to the stash (superseded) and 0's newer
 * value takes its place; then it claims them.  Nothing a client wrote is
 * lost. */
static void
half_moved_case(bool copies)
{
	struct repair_opts o = {.timeout_ms = 2000};
	struct repair_outcome res;
	int slots[3], i;

	rp_up(3, 0, PERSIST_NONE, 20000);
	live_start();
	ck_assert_int_eq(writer_slots(0, slots, 3), 3);
	for (i = 0; i < 3; i++) {
		rp_open(0, 1, slots[i]);
		if (copies)
			rp_move(0, 1, slots[i], rp_count(0, slots[i]), 1);
		else
			rp_move(0, 1, slots[i], rp_count(0, slots[i]) / 2, 0);
	}
	all_written_again(); /* 1's copies are all older */
	live_repair(&o, &res);
	ck_assert_int_gt(res.total.keys_moved, 0);
	ck_assert_int_ge(res.total.nheld, 1);
	ck_assert_int_eq(res.total.held[0].nslots, 3);
	if (copies)
		ck_assert_int_ge(res.total.superseded, 3);
	repair_outcome_release(&res);
	for (i = 0; i < 3; i++) /* master 1 owns them now */
		ck_assert_int_eq(rp_count(0, slots[i]), 0);
	live_end(2);
}

START_TEST(test_live_half_moved_slot_finished)
{
	half_moved_case(false);
}
END_TEST

START_TEST(test_live_copies_on_the_target_are_older)
{
	half_moved_case(true);
}
END_TEST

/* A person ran the usual runbook first: redis-cli --cluster fix gave the
 * dead master's slots, empty, to the others, and clients wrote there
 * since.  The repair with the dead node's files brings back what the
 * cluster lacks; what clients rewrote since is newer: the files' values
 * superseded, not conflicts. */
START_TEST(test_live_salvage_after_a_forced_fix)
{
	struct salvage_src sv;
	struct repair_opts o = {.timeout_ms = 2000, .salvage = &sv, .nsalvage = 1};
	struct repair_outcome res;

	rp_up(3, 0, PERSIST_AOF, 20000);
	live_start();
	rp_kill(2);
	ck_assert_int_eq(it_sh("yes yes | redis-cli --cluster fix 127.0.0.1:%d --cluster-yes "
			       "--cluster-fix-with-unreachable-masters >/dev/null 2>&1",
			       rp_lc.nodes[0].port), 0);
	clock_sleep_ms(1500); /* the writers find the slots again, and rewrite their keys */
	sv = rp_source(2, false);
	live_repair(&o, &res);
	ck_assert_int_gt(res.total.keys_salvaged, 0);
	ck_assert_int_gt(res.total.superseded, 0);
	repair_outcome_release(&res);
	live_end(0);
}
END_TEST

START_TEST(test_live_target_killed_mid_slot)
{
	kill_mid_slot_and_repair(1);
}
END_TEST

START_TEST(test_live_source_killed_mid_slot)
{
	kill_mid_slot_and_repair(0);
}
END_TEST

Suite *
repair_live_suite(void)
{
	Suite *s = suite_create("repair_live");
	TCase *tc = tcase_create("live-traffic");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_live_target_killed_mid_slot);
	tcase_add_test(tc, test_live_source_killed_mid_slot);
	tcase_add_test(tc, test_live_duplicates_on_a_non_owner);
	tcase_add_test(tc, test_live_half_moved_slot_finished);
	tcase_add_test(tc, test_live_copies_on_the_target_are_older);
	tcase_add_test(tc, test_live_salvage_after_a_forced_fix);
	suite_add_tcase(s, tc);
	return s;
}
