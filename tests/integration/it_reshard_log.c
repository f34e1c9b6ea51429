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

/* Three keys in the slot of "{t}", and a second, empty slot of the same
 * master: the plan is [tagged, empty]. */
static void
setup(struct cmdlog *l, int *slots)
{
	struct local_cluster_opts o = it_cluster_opts();
	struct err e = ERR_INIT;
	unsigned tag = key_slot("t", 1);
	struct conn *c;
	int i;

	it_require_redis("reshard_log");
	o.persistence = PERSIST_NONE;
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
	/* a neighbour inside the same master's range */
	slots[1] = (long)tag + 1 < (long)(l->src + 1) * CLUSTER_SLOTS / o.masters
			   ? (int)tag + 1
			   : (int)tag - 1;
}

/* The first n slots of `slots` from l's source to its target, with the
 * tap t on every command and reply; the reshard must complete. */
static void
run_traced(const struct cmdlog *l, int *slots, size_t n, const struct reshard_opts *o,
	   const struct conn_trace *t, struct reshard_progress *pr)
{
	struct reshard_plan plan = {0};
	struct err e = ERR_INIT;

	snprintf(plan.source, sizeof(plan.source), "%s", l->src_id);
	snprintf(plan.target, sizeof(plan.target), "%s", l->dst_id);
	plan.slots = slots;
	plan.nslots = n;
	conn_trace_set(t);
	ck_assert_msg(reshard_run(&plan, "127.0.0.1", lc.nodes[0].port, o, NULL, pr, &e) == 0,
		      "%s", e.msg);
	conn_trace_set(NULL);
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
	int slots[2], a, b;

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

START_TEST(test_a_round_keeps_the_order_within_each_slot)
{
	struct cmdlog l = {0};
	char want[2048];
	int slots[2], a, b;

	setup(&l, slots);
	run_logged(&l, slots, 2);
	a = slots[0], b = slots[1];
	snprintf(want, sizeof(want),
		 "dst:SETSLOT %d IMPORTING SRC\n"
		 "dst:SETSLOT %d IMPORTING SRC\n"
		 "src:SETSLOT %d MIGRATING DST\n"
		 "src:SETSLOT %d MIGRATING DST\n"
		 "src:GETKEYSINSLOT %d 2\n"
		 "src:GETKEYSINSLOT %d 2\n"
		 "src:MIGRATE->dst 2\n"
		 "src:GETKEYSINSLOT %d 2\n"
		 "src:MIGRATE->dst 1\n"
		 "dst:SETSLOT %d NODE DST\n"
		 "dst:SETSLOT %d NODE DST\n"
		 "src:SETSLOT %d NODE DST\n"
		 "src:SETSLOT %d NODE DST\n"
		 "other:SETSLOT %d NODE DST\n"
		 "other:SETSLOT %d NODE DST\n",
		 a, b, a, b, a, b, a, a, b, a, b, a, b);
	assert_log(l.text, want);
	local_cluster_stop(&lc, false);
}
END_TEST

/* Deletes the keys of the first GETKEYSINSLOT answer it sees, so that
 * the MIGRATE that follows finds none of them (+NOKEY). */
struct vanish {
	bool done;
	int port;
};

static void
vanish_replied(void *arg, const struct conn *c, const struct reply *r, const char *failure)
{
	struct vanish *v = arg;
	struct err e = ERR_INIT;
	struct conn *d;
	size_t i;

	(void)c;
	(void)failure;
	if (v->done || r == NULL || r->type != REPLY_ARRAY || r->nelem == 0 ||
	    r->elem[0]->type != REPLY_STRING)
		return;
	v->done = true; /* before our own DELs come through here */
	d = it_conn(v->port);
	for (i = 0; i < r->nelem; i++)
		ck_assert_int_eq(conn_cmd_int(d, &(long long){0}, &e, "DEL", r->elem[i]->str, NULL), 0);
	conn_free(d);
}

/* Keys that vanish between GETKEYSINSLOT and MIGRATE (expired, deleted)
 * are not counted as moved: MIGRATE says +NOKEY. */
START_TEST(test_keys_gone_before_migrate_are_not_counted)
{
	struct cmdlog l = {0};
	struct vanish v = {0};
	struct conn_trace t = {.replied = vanish_replied, .arg = &v};
	struct reshard_opts o = {.pipeline = 10, .timeout_ms = 5000, .slots_per_round = 1};
	struct reshard_progress pr;
	int slots[2];

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
	tcase_add_test(tc, test_keys_gone_before_migrate_are_not_counted);
	suite_add_tcase(s, tc);
	return s;
}
