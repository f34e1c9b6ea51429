/*
 * Unit tests of trigger matching: faults of a scenario file, aimed at a
 * cluster that exists only on paper, fed the reshard driver's events by
 * hand.  The injector is a fake that counts; which event fires what, and
 * the batch limits asked of the driver, are the real code's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness/run/trigger.h"
#include "tests/support/runner.h"

static int injected[4];

static int
fake_inject(struct fault *f, struct target *t, struct err *e)
{
	(void)f;
	(void)e;
	injected[t->port]++;
	return 0;
}

static const struct injector_ops fake_ops = {.name = "fake", .inject = fake_inject};

static struct scenario *sc;
static struct local_node nodes[3];
static struct local_cluster lc = {.nodes = nodes, .n = 3};
static struct timeline tl;
static struct trigger_set ts;
static struct reshard_hooks hooks;

/* Faults: A kills the target at 50% of slot 2's keys, B the source at
 * node-target of slot 3, C the bystander after 0 ms. */
static void
arm(void)
{
	static const char text[] =
		"[scenario]\nname = t\n[cluster]\nmasters = 3\n"
		"[reshard]\nfrom = 0\nto = 1\nslots = 3\n"
		"[fault A]\nkind = kill\ntarget = target\nat = keys\nslot = 2\npoint = 50%\n"
		"[fault B]\nkind = kill\ntarget = source\nat = node-target\nslot = 3\n"
		"[fault C]\nkind = kill\ntarget = bystander\nat = time\nafter = 0\n";
	char path[] = "/tmp/sq-trigger-XXXXXX";
	struct err e = ERR_INIT;
	FILE *f;
	size_t i;
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	f = fdopen(fd, "w");
	fputs(text, f);
	fclose(f);
	sc = scenario_load(path, &e);
	unlink(path);
	ck_assert_msg(sc != NULL, "%s", e.msg);
	for (i = 0; i < sc->nfaults; i++)
		sc->faults[i].ops = &fake_ops;
	for (i = 0; i < 3; i++) {
		nodes[i].port = (int)i; /* the fake counts by port */
		nodes[i].is_master = true;
		nodes[i].master = -1;
	}
	memset(injected, 0, sizeof(injected));
	memset(&ts, 0, sizeof(ts));
	ck_assert_int_eq(timeline_open(&tl, NULL), 0);
	tl.quiet = 1;
	ck_assert_msg(trigger_arm(&ts, sc, &lc, &e) == 0, "%s", e.msg);
	trigger_retarget(&ts); /* as once the cluster is up */
	ts.tl = &tl;
	hooks = trigger_hooks(&ts);
}

static void
disarm(void)
{
	trigger_disarm(&ts);
	timeline_close(&tl);
	scenario_free(sc);
}

static void
step(enum reshard_step s, int index, long long moved, long long keys)
{
	struct reshard_event ev = {.step = s, .slot = 100 + index, .slot_index = index,
				   .slot_keys = keys, .slot_moved = moved};
	struct err e = ERR_INIT;

	ck_assert_int_eq(hooks.on_step(hooks.arg, &ev, &e), 0);
}

START_TEST(test_keys_fault_fires_once_at_its_point)
{
	arm();
	/* not its slot: no limit asked */
	ck_assert_int_eq(hooks.keys_until(hooks.arg, 1, 0, 100), -1);
	step(STEP_KEYS, 1, 100, 100);
	ck_assert_int_eq(injected[1], 0);
	/* its slot: the driver is told to stop at 50 of 101 (rounded) */
	ck_assert_int_eq(hooks.keys_until(hooks.arg, 2, 0, 101), 51);
	ck_assert_int_eq(hooks.keys_until(hooks.arg, 2, 40, 101), 11);
	step(STEP_KEYS, 2, 40, 101);
	ck_assert_int_eq(injected[1], 0);
	step(STEP_KEYS, 2, 51, 101);
	ck_assert_int_eq(injected[1], 1);
	ck_assert_int_eq(ts.v[0].at.slot_moved, 51);
	/* fired: no more limits, no second shot */
	ck_assert_int_eq(hooks.keys_until(hooks.arg, 2, 51, 101), -1);
	step(STEP_KEYS, 2, 101, 101);
	ck_assert_int_eq(injected[1], 1);
	disarm();
}
END_TEST

START_TEST(test_keys_fault_fires_on_a_slot_with_fewer_keys)
{
	arm();
	/* 50% of 0 keys is here already: the driver must report it now,
	 * before a batch moves; 50% of 1 key is one key away */
	ck_assert_int_eq(hooks.keys_until(hooks.arg, 2, 0, 0), 0);
	ck_assert_int_eq(hooks.keys_until(hooks.arg, 2, 0, 1), 1);
	/* an empty slot passes the keys step once: 50% of 0 is reached */
	step(STEP_KEYS, 2, 0, 0);
	ck_assert_int_eq(injected[1], 1);
	disarm();
}
END_TEST

START_TEST(test_step_fault_needs_its_step_and_slot)
{
	arm();
	step(STEP_NODE_TARGET, 2, 0, 0);
	step(STEP_NODE_SOURCE, 3, 0, 0);
	step(STEP_KEYS, 3, 5, 5);
	ck_assert_int_eq(injected[0], 0);
	step(STEP_NODE_TARGET, 3, 5, 5);
	ck_assert_int_eq(injected[0], 1);
	ck_assert_int_eq(ts.v[1].at.slot, 103);
	ck_assert_int_eq(ts.v[1].at.step, STEP_NODE_TARGET);
	step(STEP_NODE_TARGET, 3, 5, 5);
	ck_assert_int_eq(injected[0], 1);
	disarm();
}
END_TEST

START_TEST(test_roles_aim_at_their_nodes_and_time_fires_first)
{
	arm();
	ck_assert_int_eq(ts.v[0].node, 1); /* target */
	ck_assert_int_eq(ts.v[1].node, 0); /* source */
	ck_assert_int_eq(ts.v[2].node, 2); /* bystander */
	step(STEP_IMPORTING, 1, 0, 0);
	ck_assert_int_eq(injected[2], 1);
	ck_assert_int_eq(injected[0] + injected[1], 0);
	disarm();
}
END_TEST

START_TEST(test_interrupt_stops_the_reshard)
{
	volatile int stop = 1;
	struct reshard_event ev = {.step = STEP_IMPORTING, .slot_index = 1};
	struct err e = ERR_INIT;

	arm();
	ts.interrupted = &stop;
	ck_assert_int_eq(hooks.on_step(hooks.arg, &ev, &e), -1);
	ck_assert_str_eq(e.msg, "interrupted");
	disarm();
}
END_TEST

Suite *
trigger_suite(void)
{
	Suite *s = suite_create("trigger");
	TCase *tc = tcase_create("match");

	tcase_add_test(tc, test_keys_fault_fires_once_at_its_point);
	tcase_add_test(tc, test_keys_fault_fires_on_a_slot_with_fewer_keys);
	tcase_add_test(tc, test_step_fault_needs_its_step_and_slot);
	tcase_add_test(tc, test_roles_aim_at_their_nodes_and_time_fires_first);
	tcase_add_test(tc, test_interrupt_stops_the_reshard);
	suite_add_tcase(s, tc);
	return s;
}
