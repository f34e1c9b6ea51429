/*
 * Integration tests of what differs between Redis 7.0 and Valkey 8.0 in
 * a reshard with replicas (issue 11), each played on both servers
 * (_i & 1: 0 Redis, 1 Valkey; Valkey's skipped, with the reason, where
 * valkey-server is not installed):
 *
 * - Valkey replicates CLUSTER SETSLOT to a primary's replicas before it
 *   applies it, and answers NOREPLICAS when one does not acknowledge in
 *   time (a paused replica): the reshard driver stops within its
 *   timeout and names the command and the error, or goes on where the
 *   step cannot matter (the source letting go); Redis never waits;
 * - a target killed mid-slot, its replica promoted: on Valkey the
 *   promoted replica imports the slot and the source's migration
 *   re-pairs with it; on Redis the source keeps migrating to the dead
 *   node; the repair ends healthy with every key on both;
 * - a master with no slots, killed: whether its replica is promoted.
 *
 * Measured here (Valkey 8.0.1, Redis 7.0.15): see each test.
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/fetch.h"
#include "common/clock.h"
#include "harness/reshard/reshard.h"
#include "harness/run/repair_step.h"
#include "tests/integration/repair_util.h"
#include "tests/support/itutil.h"
#include "tests/support/runner.h"

#define TIMEOUT_MS 1000

static const char *const server_names[] = {"redis", "valkey"};

/* Test _i plays on Redis (even) or Valkey (odd): skipped without it. */
static bool
use_server(int i)
{
	bool valkey = i & 1;

	if (valkey)
		it_require_valkey("valkey_shapes");
	/* rp_up and the repair's private servers read it */
	setenv("SHARDQUAKE_SERVER", server_names[valkey], 1);
	return valkey;
}

/* The index of master m's (first) replica. */
static int
replica_of(int m)
{
	size_t i;

	for (i = 0; i < rp_lc.n; i++)
		if (rp_lc.nodes[i].master == m)
			return (int)i;
	ck_abort_msg("master %d has no replica", m);
	return -1;
}

/* Node i's view of itself, into *t (release it); its entry. */
static const struct cluster_node *
myself(int i, struct topology *t)
{
	struct err e = ERR_INIT;
	const struct cluster_node *me;

	ck_assert_msg(topology_fetch_addr("127.0.0.1", rp_lc.nodes[i].port, 1000, t, &e) == 0,
		      "%s", e.msg);
	me = topology_myself(t);
	ck_assert_ptr_nonnull(me);
	return me;
}

/* Until replica i's link to its primary is up again (at most 10 s). */
static void
wait_link_up(int i)
{
	uint64_t deadline = clock_now_ms() + 10000;
	struct conn *c = it_conn(rp_lc.nodes[i].port);
	char st[16] = "";
	char *info;

	while (strcmp(st, "up") != 0 && clock_now_ms() < deadline) {
		info = conn_cmd_str(c, NULL, "INFO", "replication", NULL);
		if (info == NULL || info_field(info, "master_link_status", st, sizeof(st)) < 0)
			st[0] = '\0';
		free(info);
		if (strcmp(st, "up") != 0)
			clock_sleep_ms(50);
	}
	conn_free(c);
	ck_assert_msg(strcmp(st, "up") == 0, "replica %d: link to its primary never up", i);
}

/* Until node `from` sees node i as a master (that serves slots, with
 * `slots`), at most ms: whether it does. */
static bool
wait_master(int from, int i, bool slots, int ms)
{
	uint64_t deadline = clock_now_ms() + (uint64_t)ms;
	struct topology t = TOPOLOGY_INIT;
	const struct cluster_node *n;
	bool master;

	for (;;) {
		myself(from, &t);
		n = topology_find(&t, rp_lc.nodes[i].id);
		master = n && (n->flags & NODE_MASTER) && (!slots || n->nranges > 0);
		topology_release(&t);
		if (master || clock_now_ms() >= deadline)
			return master;
		clock_sleep_ms(50);
	}
}

static void
pause_node(int i, int sig)
{
	ck_assert_int_eq(kill(rp_lc.nodes[i].proc.pid, sig), 0);
}

/* The repair, with restarts of dead nodes, must end healthy: no slot
 * open on any node, replicas included, every key; then the cluster
 * stops. */
static void
repair_healthy(void)
{
	struct repair_opts o = {.timeout_ms = 2000, .can_restart = true};
	struct repair_env env = {.restart = repair_step_restart, .restart_arg = &rp_lc};
	struct repair_outcome res;
	struct err e = ERR_INIT;

	ck_assert_msg(rp_repair(&o, &env, &res, &e) == 0, "%s", e.msg);
	ck_assert_msg(res.healthy, "repair: %s", res.left);
	repair_outcome_release(&res);
	rp_assert_no_open_slots();
	rp_assert_healthy(0, 0);
	rp_down();
}

struct pauser {
	int victim;     /* node SIGSTOPped at the first keys step with keys moved */
	bool paused;
};

static int
pause_at_keys(void *arg, const struct reshard_event *ev, struct err *e)
{
	struct pauser *p = arg;

	(void)e;
	if (!p->paused && ev->step == STEP_KEYS && ev->slot_moved > 0) {
		pause_node(p->victim, SIGSTOP);
		p->paused = true;
	}
	return 0;
}

/* Master 0's slots `list` to master 1, one slot a round, SETSLOTs timed
 * out after TIMEOUT_MS; hooks may be NULL.  rc, with *ms its time. */
static int
reshard(const char *list, const struct reshard_hooks *h, struct reshard_progress *pr,
	uint64_t *ms, struct err *e)
{
	struct reshard_plan plan = {0};
	struct reshard_opts o = {.pipeline = 5, .timeout_ms = TIMEOUT_MS, .slots_per_round = 1};
	uint64_t t0;
	int rc;

	snprintf(plan.source, sizeof(plan.source), "%s", rp_lc.nodes[0].id);
	snprintf(plan.target, sizeof(plan.target), "%s", rp_lc.nodes[1].id);
	ck_assert_msg(reshard_plan_list(&plan, "127.0.0.1", rp_lc.nodes[0].port, list, e) == 0,
		      "%s", e->msg);
	t0 = clock_now_ms();
	rc = reshard_run(&plan, "127.0.0.1", rp_lc.nodes[0].port, &o, h, pr, e);
	*ms = clock_now_ms() - t0;
	reshard_plan_release(&plan);
	return rc;
}

/* A cluster whose target's replica is paused, then master 0's slots
 * `list` resharded to master 1: its rc, with *rep the paused replica. */
static int
reshard_target_replica_paused(const char *list, int *rep, struct reshard_progress *pr,
			      uint64_t *ms, struct err *e)
{
	rp_up(3, 1, PERSIST_NONE, 20000);
	*rep = replica_of(1);
	pause_node(*rep, SIGSTOP);
	return reshard(list, NULL, pr, ms, e);
}

/* The target's replica is paused before the reshard.  Valkey: the first
 * SETSLOT to the target (IMPORTING) waits TIMEOUT_MS and answers
 * NOREPLICAS; the driver stops before the slot's first step, within its
 * timeout, naming the command and the error.  Redis: the reshard does
 * not notice.  Once the replica is back, the same reshard again ends
 * with no slot open anywhere (the replica applied the IMPORTING its
 * primary refused, and the NODE after it) and every key. */
START_TEST(test_paused_target_replica_before_reshard)
{
	bool valkey = use_server(_i);
	struct reshard_progress pr;
	struct err e = ERR_INIT;
	uint64_t ms;
	int rep, rc = reshard_target_replica_paused("0-2", &rep, &pr, &ms, &e);

	fprintf(stderr, "valkey_shapes [%s]: reshard with the target's replica paused: %s in "
		"%llu ms%s%s\n", server_names[_i & 1], rc == 0 ? "done" : "stopped",
		(unsigned long long)ms, rc ? ": " : "", rc ? e.msg : "");
	if (valkey) {
		ck_assert_int_eq(rc, -1);
		ck_assert_msg(strstr(e.msg, "'CLUSTER SETSLOT 0 IMPORTING' on '127.0.0.1:") &&
				      strstr(e.msg, ": NOREPLICAS "),
			      "%s", e.msg);
		ck_assert(pr.stopped && !pr.at_reached && pr.at.slot == 0);
		ck_assert_int_eq(pr.keys_moved, 0);
		ck_assert_msg(ms < TIMEOUT_MS + 800, "waited %llu ms", (unsigned long long)ms);
	} else {
		ck_assert_msg(rc == 0, "%s", e.msg);
		ck_assert_int_eq(pr.slots_done, 3);
	}
	pause_node(rep, SIGCONT);
	wait_link_up(rep);
	rc = reshard(valkey ? "0-2" : "3-5", NULL, &pr, &ms, &e);
	ck_assert_msg(rc == 0, "%s", e.msg);
	ck_assert_int_eq(pr.slots_done, 3);
	ck_assert_msg(local_cluster_wait_ready(&rp_lc, 10000, &e) == 0, "%s", e.msg);
	rp_assert_no_open_slots();
	rp_assert_healthy(0, 0);
	rp_down();
}
END_TEST

/* The same stop, then the repair instead of a second reshard.  Valkey:
 * the primary refused SETSLOT IMPORTING (NOREPLICAS) but its replica,
 * once back, applies it from the replication stream: the replica
 * imports a slot its primary does not.  `verify` reports that open
 * slot; the repair must close it (SETSLOT STABLE on the primary, which
 * replicates it: the plan's "stable" action). */
START_TEST(test_paused_target_replica_then_repair)
{
	bool valkey = use_server(_i);
	struct reshard_progress pr;
	struct err e = ERR_INIT;
	uint64_t ms;
	int rep;

	ck_assert_int_eq(reshard_target_replica_paused("0", &rep, &pr, &ms, &e), valkey ? -1 : 0);
	pause_node(rep, SIGCONT);
	wait_link_up(rep);
	repair_healthy();
}
END_TEST

/* A replica paused once the slot's first keys moved (_i >> 1: 0 the
 * target's, 1 the source's).  Valkey: the target's SETSLOT NODE answers
 * NOREPLICAS and the reshard stops at the keys step, all keys moved,
 * within its timeout; the source's NOREPLICAS to SETSLOT NODE is let go
 * (the target owns the slot at a newer epoch) and the reshard ends.
 * Redis: it ends either way.  After SIGCONT the repair ends healthy with
 * every key and no slot open on any node, replicas included. */
START_TEST(test_paused_replica_mid_slot)
{
	bool valkey = use_server(_i), target = (_i >> 1) == 0;
	struct pauser p = {0};
	struct reshard_hooks h = {.on_step = pause_at_keys, .arg = &p};
	struct reshard_progress pr;
	struct err e = ERR_INIT;
	char list[16];
	uint64_t ms;
	int rc, slot;

	rp_up(3, 1, PERSIST_NONE, 100000);
	p.victim = replica_of(target ? 1 : 0);
	slot = rp_slot_with_keys(0, 0, 8);
	snprintf(list, sizeof(list), "%d", slot);
	rc = reshard(list, &h, &pr, &ms, &e);
	fprintf(stderr, "valkey_shapes [%s]: reshard with the %s's replica paused mid-slot: %s "
		"in %llu ms%s%s\n", server_names[_i & 1], target ? "target" : "source",
		rc == 0 ? "done" : "stopped", (unsigned long long)ms, rc ? ": " : "",
		rc ? e.msg : "");
	ck_assert(p.paused);
	ck_assert_msg(ms < TIMEOUT_MS + 800, "waited %llu ms", (unsigned long long)ms);
	if (valkey && target) {
		ck_assert_int_eq(rc, -1);
		ck_assert_msg(strstr(e.msg, " NODE' on '127.0.0.1:") &&
				      strstr(e.msg, ": NOREPLICAS ") && strstr(e.msg, "step keys"),
			      "%s", e.msg);
		ck_assert(pr.at_reached && pr.at.step == STEP_KEYS && pr.at.slot == slot);
		ck_assert_int_eq(rp_count(0, slot), 0);
	} else {
		ck_assert_msg(rc == 0, "%s", e.msg);
		ck_assert_int_eq(pr.slots_done, 1);
	}
	pause_node(p.victim, SIGCONT);
	wait_link_up(p.victim);
	repair_healthy();
}
END_TEST

/* The migration's view of the source (node 0) and of the node `to`:
 * whether the source migrates `slot` to `peer`, and `to` imports it
 * from the source. */
static void
open_states(int to, int slot, const char *peer, bool *migrates, bool *imports)
{
	struct topology t = TOPOLOGY_INIT;
	const struct cluster_node *me = myself(0, &t);
	size_t k;

	*migrates = *imports = false;
	for (k = 0; k < me->nopen; k++)
		if (me->open[k].slot == slot && me->open[k].state == SLOT_MIGRATING)
			*migrates = strcmp(me->open[k].peer, peer) == 0;
	topology_release(&t);
	me = myself(to, &t);
	for (k = 0; k < me->nopen; k++)
		if (me->open[k].slot == slot && me->open[k].state == SLOT_IMPORTING)
			*imports = strcmp(me->open[k].peer, rp_lc.nodes[0].id) == 0;
	topology_release(&t);
}

/* The target SIGKILLed with half a slot moved; the cluster promotes its
 * replica.  Valkey (PR 445): the promoted replica imports the slot (it
 * was replicated the IMPORTING) and the source's migration re-pairs with
 * it.  Redis 7.0: the promoted replica imports nothing and the source
 * keeps migrating to the dead node.  The repair (restarting the dead
 * node) ends healthy with every key on both. */
START_TEST(test_target_killed_replica_promoted)
{
	bool valkey = use_server(_i), migrates_new, imports, migrates_dead, dummy;
	long long n;
	int slot, rep;

	rp_up(3, 1, PERSIST_AOF, 100000);
	rep = replica_of(1);
	slot = rp_slot_with_keys(0, 0, 8);
	n = rp_count(0, slot) / 2;
	rp_half(0, 1, slot, n);
	rp_ok(1, "WAIT", "1", "2000", NULL); /* the moved keys are on the replica */
	rp_kill(1);
	ck_assert_msg(wait_master(rep, rep, false, 10000), "the target's replica was never promoted");
	/* the source re-pairs (Valkey) as it hears of the promotion */
	ck_assert_msg(wait_master(0, rep, true, 10000), "the source never heard of the promotion");
	open_states(rep, slot, rp_lc.nodes[rep].id, &migrates_new, &imports);
	open_states(rep, slot, rp_lc.nodes[1].id, &migrates_dead, &dummy);
	fprintf(stderr, "valkey_shapes [%s]: target killed mid-slot, replica promoted: the "
		"source migrates to %s, the promoted replica %s\n", server_names[_i & 1],
		migrates_new ? "the promoted replica" : migrates_dead ? "the dead target" : "nobody",
		imports ? "imports the slot" : "imports nothing");
	ck_assert_int_eq(rp_count(rep, slot), n);
	ck_assert_int_eq(migrates_new, valkey);
	ck_assert_int_eq(migrates_dead, !valkey);
	ck_assert_int_eq(imports, valkey);
	repair_healthy();
}
END_TEST

/* Masters 0-2 own the slots, master 3 none; master 3 has one replica. */
static void
up_with_slotless_master(long long keys)
{
	static short owner[CLUSTER_SLOTS];
	static const int replicas_of[] = {0, 0, 0, 1};
	struct local_cluster_opts o = {
		.masters = 4,
		.redis_server = it_server(),
		.persistence = PERSIST_AOF,
		.node_timeout_ms = 1000,
		.owner = owner,
		.replicas_of = replicas_of,
	};
	struct err e = ERR_INIT;
	int s;

	it_require_redis("valkey_shapes");
	for (s = 0; s < CLUSTER_SLOTS; s++)
		owner[s] = (short)(s * 3 / CLUSTER_SLOTS);
	ck_assert_msg(local_cluster_start(&rp_lc, &o, &e) == 0, "%s", e.msg);
	rp_ds.keys = keys;
	ck_assert_msg(dataset_load(&rp_ds, "127.0.0.1", rp_lc.nodes[0].port, 0, &e) == 0, "%s",
		      e.msg);
}

/* A master with no slots and one replica, SIGKILLed.  Redis 7.0 never
 * promotes a replica of a master that serves no slot (nor counts it in
 * the failure quorum); Valkey 8 dropped that rule.  Whatever happened,
 * `verify` reports the dead node (exit 1) and nothing else: no slot
 * and no key is at stake; the repair (restarting it) ends healthy. */
START_TEST(test_slotless_master_killed)
{
	char dir[4096];
	bool valkey = use_server(_i), promoted;
	int rep, rc;
	char *out;

	up_with_slotless_master(5000);
	rep = replica_of(3);
	proc_kill(&rp_lc.nodes[3].proc);
	rp_wait_flagged(0, 3);
	/* an election starts within node timeout + 1 s of the fail */
	promoted = wait_master(rep, rep, false, 2 * 1000 + 3000);
	fprintf(stderr, "valkey_shapes [%s]: slot-less master killed: its replica %s\n",
		server_names[_i & 1], promoted ? "was promoted" : "was not promoted");
	ck_assert_int_eq(promoted, valkey);
	it_mkdtemp(dir, sizeof(dir), "sq-it-vks");
	rc = rp_cli(dir, "verify 127.0.0.1:%d --keys %lld --seed %llu --value-size %zu",
		    rp_lc.nodes[0].port, rp_ds.keys, (unsigned long long)rp_ds.seed,
		    rp_ds.value_size);
	out = rp_read(dir, "out");
	ck_assert_msg(rc == 1, "verify: exit %d\n%s", rc, out);
	ck_assert_msg(strstr(out, "FAIL  no failed nodes: 1 failed_nodes") &&
			      strstr(out, "ok    no lost keys") && strstr(out, "ok    slots covered"),
		      "%s", out);
	free(out);
	it_sh("rm -rf '%s'", dir);
	repair_healthy();
}
END_TEST

Suite *
valkey_shapes_suite(void)
{
	Suite *s = suite_create("valkey_shapes");
	TCase *tc = tcase_create("valkey_shapes");

	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, test_paused_target_replica_before_reshard, 0, 2);
	tcase_add_loop_test(tc, test_paused_target_replica_then_repair, 0, 2);
	tcase_add_loop_test(tc, test_paused_replica_mid_slot, 0, 4);
	tcase_add_loop_test(tc, test_target_killed_replica_promoted, 0, 2);
	tcase_add_loop_test(tc, test_slotless_master_killed, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}
