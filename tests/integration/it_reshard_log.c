/*
 * The reshard driver's commands, as sent on the wire: every command is
 * recorded through the connection tap (conn_trace_set) and the log is
 * compared, command by command, with the protocol: one slot at a time
 * exactly as redis-cli orders it, and in rounds with the same order
 * within each slot.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/conn.h"
#include "cluster/fetch.h"
#include "cluster/server.h"
#include "cluster/slot.h"
#include "harness/local/localcluster.h"
#include "harness/reshard/reshard.h"
#include "tests/support/itutil.h"
#include "tests/support/runner.h"

static struct local_cluster lc;

struct cmdlog {
	char text[8192];
	int src, dst;          /* node indexes in lc */
	char src_id[NODE_ID_LEN + 1], dst_id[NODE_ID_LEN + 1];
};

static const char *
role(const struct cmdlog *l, int port)
{
	if (port == lc.nodes[l->src].port)
		return "src";
	if (port == lc.nodes[l->dst].port)
		return "dst";
	return "other";
}

/* Node ids become "SRC"/"DST"; MIGRATE is shortened to its target role
 * and key count, so the expected logs stay readable. */
static void
sent(void *arg, const struct conn *c, int argc, const char *const *argv,
     const size_t *lens)
{
	struct cmdlog *l = arg;
	size_t len = strlen(l->text);
	int i, keys = 0;

	(void)lens;
	if (strcmp(argv[0], "MIGRATE") == 0) {
		for (i = 0; i < argc && strcmp(argv[i], "KEYS") != 0; i++)
			;
		keys = argc - i - 1;
		snprintf(l->text + len, sizeof(l->text) - len, "%s:MIGRATE->%s %d\n",
			 role(l, conn_port(c)), role(l, atoi(argv[2])), keys);
		return;
	}
	if (strcmp(argv[0], "CLUSTER") != 0 || argc < 3 ||
	    (strcmp(argv[1], "SETSLOT") != 0 && strcmp(argv[1], "GETKEYSINSLOT") != 0))
		return; /* CLUSTER NODES and the like: how it looks, not what it does */
	len += (size_t)snprintf(l->text + len, sizeof(l->text) - len, "%s:",
				role(l, conn_port(c)));
	for (i = 1; i < argc && len < sizeof(l->text); i++) {
		const char *a = strcmp(argv[i], l->src_id) == 0   ? "SRC"
				: strcmp(argv[i], l->dst_id) == 0 ? "DST"
								  : argv[i];
		len += (size_t)snprintf(l->text + len, sizeof(l->text) - len, "%s%s", a,
					i + 1 < argc ? " " : "\n");
	}
}

/* Three keys in the slot of "{t}", and two empty slots of the same
 * master: the plan is [tagged, empty, empty]. */
static void
setup_with(struct cmdlog *l, int *slots, int replicas)
{
	struct local_cluster_opts o = it_cluster_opts();
	struct err e = ERR_INIT;
	unsigned tag = key_slot("t", 1);
	struct conn *c;
	int i;

	it_require_redis("reshard_log");
	o.persistence = PERSIST_NONE;
	o.replicas = replicas;
	ck_assert_msg(local_cluster_start(&lc, &o, &e) == 0, "%s", e.msg);
	for (i = 0; i < o.masters; i++)
		if ((long)tag >= (long)i * CLUSTER_SLOTS / o.masters)
			l->src = i;
	l->dst = (l->src + 1) % o.masters;
	snprintf(l->src_id, sizeof(l->src_id), "%s", lc.nodes[l->src].id);
	snprintf(l->dst_id, sizeof(l->dst_id), "%s", lc.nodes[l->dst].id);
	c = it_conn(lc.nodes[l->src].port);
	ck_assert_int_eq(conn_cmd_ok(c, &e, "SET", "{t}1", "v", NULL), 0);
	ck_assert_int_eq(conn_cmd_ok(c, &e, "SET", "{t}2", "v", NULL), 0);
	ck_assert_msg(conn_cmd_ok(c, &e, "SET", "{t}3", "v", NULL) == 0, "%s (slot %u)",
		      e.msg, tag);
	conn_free(c);
	slots[0] = (int)tag;
	/* neighbours inside the same master's range */
	slots[1] = (long)tag + 2 < (long)(l->src + 1) * CLUSTER_SLOTS / o.masters
			   ? (int)tag + 1
			   : (int)tag - 1;
	slots[2] = slots[1] > (int)tag ? (int)tag + 2 : (int)tag - 2;
}

static void
setup(struct cmdlog *l, int *slots)
{
	setup_with(l, slots, 0);
}

/* The first n slots of `slots` from l's source to its target, with the
 * tap t on every command and reply: reshard_run's result. */
static int
try_traced(const struct cmdlog *l, int *slots, size_t n, const struct reshard_opts *o,
	   const struct conn_trace *t, struct reshard_progress *pr, struct err *e)
{
	struct reshard_plan plan = {0};
	int rc;

	snprintf(plan.source, sizeof(plan.source), "%s", l->src_id);
	snprintf(plan.target, sizeof(plan.target), "%s", l->dst_id);
	plan.slots = slots;
	plan.nslots = n;
	conn_trace_set(t);
	rc = reshard_run(&plan, "127.0.0.1", lc.nodes[0].port, o, NULL, pr, e);
	conn_trace_set(NULL);
	return rc;
}

/* try_traced, which must complete. */
static void
run_traced(const struct cmdlog *l, int *slots, size_t n, const struct reshard_opts *o,
	   const struct conn_trace *t, struct reshard_progress *pr)
{
	struct err e = ERR_INIT;

	ck_assert_msg(try_traced(l, slots, n, o, t, pr, &e) == 0, "%s", e.msg);
}

static void
run_logged(struct cmdlog *l, int *slots, int round)
{
	struct conn_trace t = {.sent = sent, .arg = l};
	struct reshard_opts o = {.pipeline = 2, .timeout_ms = 5000, .slots_per_round = round};
	struct reshard_progress pr;

	run_traced(l, slots, 2, &o, &t, &pr);
	ck_assert_int_eq(pr.slots_done, 2);
	ck_assert_int_eq(pr.keys_moved, 3);
}

/* got against want, where Valkey 8's SETSLOT lines carry the driver's
 * TIMEOUT (5000 ms here): Valkey waits for the replicas to take a
 * SETSLOT before the primary applies it, Redis 7.0 knows no such
 * argument. */
static void
assert_log(const char *got, const char *want)
{
	char full[4096];
	const char *line, *end, *setslot;
	bool valkey = it_on_valkey();
	size_t len = 0;

	for (line = want; *line; line = end + 1) {
		end = strchr(line, '\n');
		ck_assert_ptr_nonnull(end);
		setslot = strstr(line, "SETSLOT");
		len += (size_t)snprintf(full + len, sizeof(full) - len, "%.*s%s\n",
					(int)(end - line), line,
					valkey && setslot && setslot < end ? " TIMEOUT 5000" : "");
		ck_assert_uint_lt(len, sizeof(full));
	}
	ck_assert_str_eq(got, full);
}

START_TEST(test_one_slot_at_a_time_in_redis_cli_order)
{
	struct cmdlog l = {0};
	char want[2048];
	int slots[3], a, b;

	setup(&l, slots);
	run_logged(&l, slots, 1);
	a = slots[0], b = slots[1];
	snprintf(want, sizeof(want),
		 "dst:SETSLOT %d IMPORTING SRC\n"
		 "src:SETSLOT %d MIGRATING DST\n"
		 "src:GETKEYSINSLOT %d 2\n"
		 "src:MIGRATE->dst 2\n"
		 "src:GETKEYSINSLOT %d 2\n"
		 "src:MIGRATE->dst 1\n"
		 "dst:SETSLOT %d NODE DST\n"
		 "src:SETSLOT %d NODE DST\n"
		 "other:SETSLOT %d NODE DST\n"
		 "dst:SETSLOT %d IMPORTING SRC\n"
		 "src:SETSLOT %d MIGRATING DST\n"
		 "src:GETKEYSINSLOT %d 2\n"
		 "dst:SETSLOT %d NODE DST\n"
		 "src:SETSLOT %d NODE DST\n"
		 "other:SETSLOT %d NODE DST\n",
		 a, a, a, a, a, a, a, b, b, b, b, b, b);
	assert_log(l.text, want);
	local_cluster_stop(&lc, false);
}
END_TEST

/* The log of a round of slots a (3 keys) and b (empty) at pipeline 2:
 * its opening, up to the first MIGRATE, and the rest. */
static void
round_of_two(int a, int b, char *opening, size_t on, char *rest, size_t rn)
{
	snprintf(opening, on,
		 "dst:SETSLOT %d IMPORTING SRC\n"
		 "dst:SETSLOT %d IMPORTING SRC\n"
		 "src:SETSLOT %d MIGRATING DST\n"
		 "src:SETSLOT %d MIGRATING DST\n"
		 "src:GETKEYSINSLOT %d 2\n"
		 "src:GETKEYSINSLOT %d 2\n"
		 "src:MIGRATE->dst 2\n",
		 a, b, a, b, a, b);
	snprintf(rest, rn,
		 "src:GETKEYSINSLOT %d 2\n"
		 "src:MIGRATE->dst 1\n"
		 "dst:SETSLOT %d NODE DST\n"
		 "dst:SETSLOT %d NODE DST\n"
		 "src:SETSLOT %d NODE DST\n"
		 "src:SETSLOT %d NODE DST\n"
		 "other:SETSLOT %d NODE DST\n"
		 "other:SETSLOT %d NODE DST\n",
		 a, a, b, a, b, a, b);
}

START_TEST(test_a_round_keeps_the_order_within_each_slot)
{
	struct cmdlog l = {0};
	char want[2048], opening[1024], rest[1024];
	int slots[3];

	setup(&l, slots);
	run_logged(&l, slots, 2);
	round_of_two(slots[0], slots[1], opening, sizeof(opening), rest, sizeof(rest));
	snprintf(want, sizeof(want), "%s%s", opening, rest);
	assert_log(l.text, want);
	local_cluster_stop(&lc, false);
}
END_TEST

/* Two rounds: the second opens (IMPORTING, MIGRATING, its first
 * GETKEYSINSLOT) while the first one's MIGRATEs run, each slot still in
 * the one-slot order.  Not from a Valkey 8 source with replicas: its
 * SETSLOT waits for them, and nothing is queued behind it (one timeout
 * per queued slot if a replica does not answer), so the rounds follow
 * each other. */
static void
two_rounds(int replicas)
{
	struct cmdlog l = {0};
	struct conn_trace t = {.sent = sent, .arg = &l};
	struct reshard_opts o = {.pipeline = 2, .timeout_ms = 5000, .slots_per_round = 2};
	struct reshard_progress pr;
	char want[2048], opening[1024], rest[1024], second[512], ahead[512];
	bool in_turn = replicas > 0 && it_on_valkey();
	int slots[3], c;

	setup_with(&l, slots, replicas);
	run_traced(&l, slots, 3, &o, &t, &pr);
	ck_assert_int_eq(pr.slots_done, 3);
	ck_assert_int_eq(pr.keys_moved, 3);
	c = slots[2];
	round_of_two(slots[0], slots[1], opening, sizeof(opening), rest, sizeof(rest));
	snprintf(ahead, sizeof(ahead),
		 "dst:SETSLOT %d IMPORTING SRC\n"
		 "src:SETSLOT %d MIGRATING DST\n"
		 "src:GETKEYSINSLOT %d 2\n",
		 c, c, c);
	snprintf(second, sizeof(second),
		 "dst:SETSLOT %d NODE DST\n"
		 "src:SETSLOT %d NODE DST\n"
		 "other:SETSLOT %d NODE DST\n",
		 c, c, c);
	snprintf(want, sizeof(want), "%s%s%s%s%s", opening, in_turn ? "" : ahead, rest,
		 in_turn ? ahead : "", second);
	assert_log(l.text, want);
	local_cluster_stop(&lc, false);
}

START_TEST(test_the_next_round_opens_behind_the_migrates)
{
	two_rounds(0);
}
END_TEST

START_TEST(test_a_source_that_waits_for_replicas_moves_rounds_in_turn)
{
	two_rounds(1);
}
END_TEST

/* The state slot is open in, in t's own node's view; -1: not open. */
static int
open_state(const struct topology *t, int slot)
{
	const struct cluster_node *me = topology_myself(t);
	size_t i;

	for (i = 0; me && i < me->nopen; i++)
		if (me->open[i].slot == slot)
			return (int)me->open[i].state;
	return -1;
}

/* Acts once on the first GETKEYSINSLOT answer that names keys, through
 * a connection of its own to port, before the driver goes on. */
struct first_keys {
	bool done;
	int port;
	void (*act)(struct conn *d, const struct reply *keys);
};

static void
first_keys_replied(void *arg, const struct conn *c, const struct reply *r, const char *failure)
{
	struct first_keys *k = arg;
	struct conn *d;

	(void)c;
	(void)failure;
	if (k->done || r == NULL || r->type != REPLY_ARRAY || r->nelem == 0 ||
	    r->elem[0]->type != REPLY_STRING)
		return;
	k->done = true; /* before its own commands come through here */
	d = it_conn(k->port);
	k->act(d, r);
	conn_free(d);
}

/* The first key written into the target, through ASKING: its MIGRATE
 * fails (BUSYKEY). */
static void
squat(struct conn *d, const struct reply *keys)
{
	struct err e = ERR_INIT;

	ck_assert_int_eq(conn_cmd_ok(d, &e, "ASKING", NULL), 0);
	ck_assert_msg(conn_cmd_ok(d, &e, "SET", keys->elem[0]->str, "theirs", NULL) == 0, "%s",
		      e.msg);
}

/* Every key deleted from the source: the MIGRATE that follows finds none
 * of them (+NOKEY). */
static void
vanish(struct conn *d, const struct reply *keys)
{
	struct err e = ERR_INIT;
	size_t i;

	for (i = 0; i < keys->nelem; i++)
		ck_assert_int_eq(conn_cmd_int(d, &(long long){0}, &e, "DEL", keys->elem[i]->str,
					      NULL), 0);
}

/* A MIGRATE that fails while the next round is queued behind it: the run
 * stops at that slot's keys step, the next round's answers are read
 * (not reported), and its slot is left open on both sides: up to two
 * rounds open, as the help says. */
START_TEST(test_a_failed_migrate_stops_with_the_next_round_open)
{
	struct cmdlog l = {0};
	struct first_keys q = {.act = squat};
	struct conn_trace t = {.replied = first_keys_replied, .arg = &q};
	struct reshard_opts o = {.pipeline = 10, .timeout_ms = 5000, .slots_per_round = 2};
	struct reshard_progress pr;
	struct err e = ERR_INIT;
	struct topology src, dst;
	int slots[3];

	setup(&l, slots);
	q.port = lc.nodes[l.dst].port;
	ck_assert_int_eq(try_traced(&l, slots, 3, &o, &t, &pr, &e), -1);
	ck_assert(q.done);
	ck_assert(pr.stopped);
	ck_assert_msg(strstr(e.msg, "BUSYKEY") != NULL, "%s", e.msg);
	ck_assert_int_eq(pr.at.slot, slots[0]);
	ck_assert_int_eq(pr.at.step, STEP_KEYS);
	ck_assert_int_eq(pr.slots_done, 0);
	ck_assert_msg(topology_fetch_addr("127.0.0.1", lc.nodes[l.src].port, 2000, &src, &e) == 0,
		      "%s", e.msg);
	ck_assert_msg(topology_fetch_addr("127.0.0.1", lc.nodes[l.dst].port, 2000, &dst, &e) == 0,
		      "%s", e.msg);
	ck_assert_int_eq(open_state(&src, slots[2]), SLOT_MIGRATING);
	ck_assert_int_eq(open_state(&dst, slots[2]), SLOT_IMPORTING);
	topology_release(&src);
	topology_release(&dst);
	local_cluster_stop(&lc, false);
}
END_TEST

/* Keys that vanish between GETKEYSINSLOT and MIGRATE (expired, deleted)
 * are not counted as moved: MIGRATE says +NOKEY. */
START_TEST(test_keys_gone_before_migrate_are_not_counted)
{
	struct cmdlog l = {0};
	struct first_keys v = {.act = vanish};
	struct conn_trace t = {.replied = first_keys_replied, .arg = &v};
	struct reshard_opts o = {.pipeline = 10, .timeout_ms = 5000, .slots_per_round = 1};
	struct reshard_progress pr;
	int slots[3];

	setup(&l, slots);
	v.port = lc.nodes[l.src].port;
	run_traced(&l, slots, 1, &o, &t, &pr);
	ck_assert(v.done);
	ck_assert_int_eq(pr.slots_done, 1);
	ck_assert_int_eq(pr.keys_moved, 0);
	local_cluster_stop(&lc, false);
}
END_TEST

Suite *
reshard_log_suite(void)
{
	Suite *s = suite_create("reshard_log");
	TCase *tc = tcase_create("commands");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_one_slot_at_a_time_in_redis_cli_order);
	tcase_add_test(tc, test_a_round_keeps_the_order_within_each_slot);
	tcase_add_test(tc, test_the_next_round_opens_behind_the_migrates);
	tcase_add_test(tc, test_a_source_that_waits_for_replicas_moves_rounds_in_turn);
	tcase_add_test(tc, test_a_failed_migrate_stops_with_the_next_round_open);
	tcase_add_test(tc, test_keys_gone_before_migrate_are_not_counted);
	suite_add_tcase(s, tc);
	return s;
}
