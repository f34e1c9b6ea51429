/*
 * The repair engine on open slots and stray keys, each state built by
 * hand with redis commands on a real cluster: after the repair the
 * verifier finds nothing (every dataset key once, on its owner, with its
 * value), redis-cli --cluster check agrees, and a second run plans
 * nothing.
 */
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/fetch.h"
#include "common/xmalloc.h"
#include "tests/integration/repair_util.h"
#include "tests/support/itutil.h"
#include "tests/support/runner.h"

static const struct repair_opts opts = {.timeout_ms = 2000};

/* Repairs (`stashed` equal duplicates expected; -1: any), checks the
 * result three ways, tears down. */
static void
repair_and_judge_stashed(long long stashed)
{
	struct repair_outcome res;
	struct err e = ERR_INIT;

	ck_assert_msg(rp_repair(&opts, NULL, &res, &e) == 0, "%s", e.msg);
	ck_assert_msg(res.healthy, "left: %s", res.left);
	if (stashed >= 0)
		ck_assert_int_eq(res.total.stashed, stashed);
	repair_outcome_release(&res);
	rp_assert_healthy(0, 0);
	rp_assert_redis_cli_check(0);
	/* safe to run twice: the second run has nothing to do */
	ck_assert_msg(rp_repair(&opts, NULL, &res, &e) == 0, "%s", e.msg);
	ck_assert(res.healthy);
	ck_assert_int_eq(res.rounds, 0);
	ck_assert_int_eq(res.total.keys_moved, 0);
	repair_outcome_release(&res);
	rp_down();
}

static void
repair_and_judge(void)
{
	repair_and_judge_stashed(0);
}

START_TEST(test_half_migrated_slot_is_finished)
{
	int slot;

	rp_up(3, 0, PERSIST_NONE, 20000);
	slot = rp_slot_with_keys(0, 0, 4);
	rp_half(0, 1, slot, rp_count(0, slot) / 2);
	repair_and_judge();
}
END_TEST

START_TEST(test_migrating_on_the_source_only)
{
	char s[16];
	int slot;

	rp_up(3, 0, PERSIST_NONE, 20000);
	slot = rp_slot_with_keys(0, 0, 2);
	snprintf(s, sizeof(s), "%d", slot);
	rp_ok(0, "CLUSTER", "SETSLOT", s, "MIGRATING", rp_lc.nodes[1].id, NULL);
	repair_and_judge();
}
END_TEST

START_TEST(test_importing_on_the_target_only_with_copies)
{
	char s[16];
	int slot;

	rp_up(3, 0, PERSIST_NONE, 20000);
	slot = rp_slot_with_keys(0, 0, 3);
	snprintf(s, sizeof(s), "%d", slot);
	rp_ok(1, "CLUSTER", "SETSLOT", s, "IMPORTING", rp_lc.nodes[0].id, NULL);
	/* the same values on both sides: the copies are stashed */
	rp_move(0, 1, slot, 2, 1);
	repair_and_judge_stashed(2);
}
END_TEST

START_TEST(test_target_node_source_still_migrating)
{
	char s[16];
	int slot;

	rp_up(3, 0, PERSIST_NONE, 20000);
	slot = rp_slot_with_keys(0, 0, 2);
	snprintf(s, sizeof(s), "%d", slot);
	rp_half(0, 1, slot, rp_count(0, slot));
	rp_ok(1, "CLUSTER", "SETSLOT", s, "NODE", rp_lc.nodes[1].id, NULL);
	repair_and_judge();
}
END_TEST

START_TEST(test_source_node_target_still_importing)
{
	char s[16];
	int slot;

	rp_up(3, 0, PERSIST_NONE, 20000);
	slot = rp_slot_with_keys(0, 0, 2);
	snprintf(s, sizeof(s), "%d", slot);
	rp_half(0, 1, slot, rp_count(0, slot));
	rp_ok(0, "CLUSTER", "SETSLOT", s, "NODE", rp_lc.nodes[1].id, NULL);
	repair_and_judge();
}
END_TEST

START_TEST(test_forty_open_slots_at_once)
{
	int i, s0 = -1, s2 = -1;

	rp_up(3, 0, PERSIST_NONE, 50000);
	/* 21 half-moved slots from master 0 to 1, 21 from master 2 to 1 */
	for (i = 0; i < 21; i++) {
		s0 = rp_slot_with_keys(0, s0 + 1, 2);
		rp_half(0, 1, s0, rp_count(0, s0) / 2);
		s2 = rp_slot_with_keys(2, s2 + 1, 2);
		rp_half(2, 1, s2, rp_count(2, s2) / 2);
	}
	repair_and_judge();
}
END_TEST

START_TEST(test_keys_on_a_node_that_does_not_own_their_slot)
{
	char s[16];
	int slot;

	rp_up(3, 0, PERSIST_NONE, 20000);
	slot = rp_slot_with_keys(0, 0, 4);
	snprintf(s, sizeof(s), "%d", slot);
	/* two keys only on node 2, two more on both: misplaced, duplicated */
	rp_ok(2, "CLUSTER", "SETSLOT", s, "IMPORTING", rp_lc.nodes[0].id, NULL);
	rp_move(0, 2, slot, 2, 0);
	rp_move(0, 2, slot, 2, 1);
	rp_ok(2, "CLUSTER", "SETSLOT", s, "STABLE", NULL);
	repair_and_judge_stashed(2);
}
END_TEST

/* Master 0 (epoch 1) claims a slot of master 2 (epoch 3) and holds
 * copies of two of its keys.  Gossip settles such a dispute on its own
 * within moments (the lower epoch gives way, dropping its copies); the
 * repair, started at once, sees it or what gossip left: either way every
 * key ends on master 2. */
START_TEST(test_two_masters_claiming_one_slot)
{
	char s[16];
	int slot;

	rp_up(3, 0, PERSIST_NONE, 20000);
	slot = rp_slot_with_keys(2, 0, 3);
	snprintf(s, sizeof(s), "%d", slot);
	rp_copy_unowned(2, 0, slot, 2);
	/* no IMPORTING now: NODE itself claims without bumping the epoch */
	rp_ok(0, "CLUSTER", "SETSLOT", s, "NODE", rp_lc.nodes[0].id, NULL);
	/* the copies are stashed, unless gossip made node 0 drop them first */
	repair_and_judge_stashed(-1);
}
END_TEST

/* The first key of the slot on node i, as a new string. */
static char *
first_key(int i, int slot)
{
	struct conn *c = it_conn(rp_lc.nodes[i].port);
	struct err e = ERR_INIT;
	struct reply *keys;
	char s[16], *key;

	snprintf(s, sizeof(s), "%d", slot);
	keys = conn_cmd(c, &e, "CLUSTER", "GETKEYSINSLOT", s, "1", NULL);
	ck_assert_msg(keys && keys->nelem == 1, "%s", e.msg);
	key = xstrdup(keys->elem[0]->str);
	reply_free(keys);
	conn_free(c);
	return key;
}

/* `cmd key arg` on node i after ASKING. */
static void
ask_cmd(int i, const char *cmd, const char *key, const char *arg)
{
	struct conn *c = it_conn(rp_lc.nodes[i].port);
	struct err e = ERR_INIT;
	struct reply *r;

	reply_free(conn_cmd(c, &e, "ASKING", NULL));
	r = conn_cmd(c, &e, cmd, key, arg, NULL);
	ck_assert_msg(r && r->type != REPLY_ERROR, "%s %s", cmd, r ? r->str : e.msg);
	reply_free(r);
	conn_free(c);
}

/* The result of `cmd key` on node i (asking first), as a new reply. */
static struct reply *
ask(int i, const char *cmd, const char *key)
{
	struct conn *c = it_conn(rp_lc.nodes[i].port);
	struct err e = ERR_INIT;
	struct reply *r;

	reply_free(conn_cmd(c, &e, "ASKING", NULL));
	r = conn_cmd(c, &e, cmd, key, NULL);
	ck_assert_msg(r != NULL, "%s", e.msg);
	conn_free(c);
	return r;
}

/* The repair of a cluster with one other value on node 2: it ends
 * healthy in one round, that value set aside in the stash's database 1
 * (named in conflicts.txt), no slot left open, the owner's value
 * untouched; a second run has nothing to do.  `superseded`: the owner
 * served the slot, so node 2's value is older by construction (no
 * decision waits); else a conflict, for a person to decide.  The
 * outcome's stash path into `stash` (the stash is kept for the caller
 * to read; rp_stash_drop() it). */
static void
repair_one_conflict(const char *key, char *stash, size_t n, bool superseded)
{
	struct repair_outcome res;
	struct err e = ERR_INIT;
	char *list;
	struct reply *r;

	rp_keep_stash = true;
	ck_assert_msg(rp_repair(&opts, NULL, &res, &e) == 0, "%s", e.msg);
	rp_keep_stash = false;
	ck_assert_msg(res.healthy, "left: %s", res.left);
	ck_assert_int_eq(res.rounds, 1);
	ck_assert_int_eq(res.total.conflicts, superseded ? 0 : 1);
	ck_assert_int_eq(res.total.superseded, superseded ? 1 : 0);
	ck_assert_int_eq(res.total.conflicts_kept, 0);
	ck_assert_int_eq(res.decisions, superseded ? 0 : 1);
	ck_assert_int_eq(res.total.nunrestored, 0);
	if (!superseded) {
		ck_assert_ptr_nonnull(strstr(res.total.conflict[0], key));
		ck_assert_ptr_nonnull(strstr(res.total.conflict[0], "in the stash"));
	}
	ck_assert(res.total.stash[0]);
	snprintf(stash, n, "%s", res.total.stash);
	list = rp_stash_list(stash);
	ck_assert_msg(strstr(list, key) && strstr(list, "1\t"), "%s", list);
	ck_assert_msg((strstr(list, "superseded") != NULL) == superseded, "%s", list);
	free(list);
	repair_outcome_release(&res);
	rp_assert_no_open_slots();
	/* node 2 holds it no more: every key once, on its owner, unchanged */
	r = ask(2, "EXISTS", key);
	ck_assert_int_eq(r->integer, 0);
	reply_free(r);
	rp_assert_healthy(0, 0);
	rp_assert_redis_cli_check(0);
	ck_assert_msg(rp_repair(&opts, NULL, &res, &e) == 0, "%s", e.msg);
	ck_assert(res.healthy);
	ck_assert_int_eq(res.rounds, 0);
	repair_outcome_release(&res);
}

enum conflict_shape {
	LEFT_IMPORTING,  /* the slot left importing on node 2 */
	MADE_STABLE,     /* made stable again there, as by hand */
	ORPHANED,        /* then unassigned on every node: nobody served it */
};

/* Node 2 imports a slot of master 0 with a copy of its first key (COPY),
 * then `cmd` changes that copy on node 2 (ASKING first); the slot is
 * then left as `shape` says.  The key's name; free() it. */
static char *
conflict_case(const char *cmd, const char *arg, enum conflict_shape shape)
{
	char s[16], *key;
	int slot;
	size_t i;

	rp_up(3, 0, PERSIST_NONE, 20000);
	slot = rp_slot_with_keys(0, 0, 2);
	snprintf(s, sizeof(s), "%d", slot);
	rp_ok(2, "CLUSTER", "SETSLOT", s, "IMPORTING", rp_lc.nodes[0].id, NULL);
	key = first_key(0, slot);
	rp_move(0, 2, slot, 1, 1);
	ask_cmd(2, cmd, key, arg);
	if (shape != LEFT_IMPORTING)
		rp_ok(2, "CLUSTER", "SETSLOT", s, "STABLE", NULL);
	for (i = 0; shape == ORPHANED && i < rp_lc.n; i++)
		rp_ok((int)i, "CLUSTER", "DELSLOTS", s, NULL);
	return key;
}

/* Two values of one key in a slot nobody served (no node claims it):
 * which is newer nobody can know.  A conflict: the holder of most keys
 * keeps its own, the other is set aside for a person to decide. */
START_TEST(test_different_values_are_a_conflict_set_aside)
{
	char *key = conflict_case("SET", "another value", ORPHANED), stash[PATH_MAX], *v;
	struct reply *r;

	repair_one_conflict(key, stash, sizeof(stash), false);
	/* both values are still there: the owner's, and the other one in
	 * the stash's database 1 */
	r = ask(0, "GET", key);
	ck_assert_str_ne(r->str, "another value");
	reply_free(r);
	v = rp_stash_get(stash, 1, key);
	ck_assert_ptr_nonnull(v);
	ck_assert_str_eq(v, "another value");
	free(v);
	rp_stash_drop(stash);
	free(key);
	rp_down();
}
END_TEST

/* Issue 14: the other value on a node that does not own the slot, the
 * slot stable everywhere.  The repair used to try the same fix in rounds
 * 2 and 3, end "not healthy", and leave the slot importing there.  Issue
 * 13: master 0 served the slot all along, so node 2's copy is the older
 * one: superseded, kept in the stash, no decision waits. */
START_TEST(test_other_value_on_a_stable_non_owner_is_superseded)
{
	char *key = conflict_case("SET", "written by hand", MADE_STABLE), stash[PATH_MAX], *v;

	repair_one_conflict(key, stash, sizeof(stash), true);
	v = rp_stash_get(stash, 1, key);
	ck_assert_ptr_nonnull(v);
	ck_assert_str_eq(v, "written by hand");
	free(v);
	rp_stash_drop(stash);
	free(key);
	rp_down();
}
END_TEST

/* The same bytes but another life: a copy that expires is no copy of a
 * key that does not (REPLACE would make the owner's key expire); the
 * owner served the slot, so it is the older one. */
START_TEST(test_same_value_other_ttl_is_superseded)
{
	char *key = conflict_case("PEXPIRE", "600000", LEFT_IMPORTING), stash[PATH_MAX];
	struct reply *r;

	repair_one_conflict(key, stash, sizeof(stash), true);
	/* the owner's key still lives for ever */
	r = ask(0, "PTTL", key);
	ck_assert_int_eq(r->integer, -1);
	reply_free(r);
	rp_stash_drop(stash);
	free(key);
	rp_down();
}
END_TEST

/* A repair that fails half-way (here: the stash cannot start, on the
 * first duplicate) closes the IMPORTING state it opened on the holder:
 * the cluster is left as it was found, every key where it was. */
START_TEST(test_a_failed_repair_closes_the_states_it_opened)
{
	struct repair_env env = {.redis_server = "/nonexistent/redis-server"};
	struct repair_outcome res;
	struct verify_opts vo = {.dataset = &rp_ds, .timeout_ms = 1000};
	struct err e = ERR_INIT;
	struct verdict v;
	char s[16];
	int slot;

	rp_up(3, 0, PERSIST_NONE, 20000);
	slot = rp_slot_with_keys(0, 0, 4);
	snprintf(s, sizeof(s), "%d", slot);
	rp_copy_unowned(0, 2, slot, 2); /* copies: duplicates on node 2 */
	ck_assert_int_eq(rp_repair(&opts, &env, &res, &e), -1);
	ck_assert_msg(strstr(e.msg, "stash"), "%s", e.msg);
	ck_assert(!res.healthy);
	ck_assert_int_eq(res.total.nunrestored, 0);
	repair_outcome_release(&res);
	rp_assert_no_open_slots();
	/* the copies are where they were: duplicated, nothing lost */
	ck_assert_int_eq(verify_cluster("127.0.0.1", rp_lc.nodes[0].port, &vo, &v, &e), 0);
	ck_assert_int_eq(v.f[F_LOST].count, 0);
	ck_assert_int_eq(v.f[F_DUPLICATED].count, 2);
	verdict_release(&v);
	rp_down();
}
END_TEST

/* Stray keys of a slot of master 0 on node 2 (copies: duplicates), the
 * slot stable everywhere; the slot. */
static int
strays_on_node_2(void)
{
	int slot;

	rp_up(3, 0, PERSIST_NONE, 20000);
	slot = rp_slot_with_keys(0, 0, 4);
	rp_copy_unowned(0, 2, slot, 2);
	return slot;
}

/* What a progress callback does when the repair enters `phase`: raise
 * the interrupt flag, or pause node `pause` (-1: none). */
struct at_phase {
	const char *phase;
	volatile sig_atomic_t flag;
	int pause;
	bool done;
};

static void
at_phase(void *arg, const char *phase, long long done, long long total)
{
	struct at_phase *ap = arg;
	struct err e = ERR_INIT;

	(void)done;
	(void)total;
	if (ap->done || strcmp(phase, ap->phase) != 0)
		return;
	ap->done = true;
	if (ap->pause >= 0)
		ck_assert_int_eq(proc_signal(&rp_lc.nodes[ap->pause].proc, SIGSTOP, &e), 0);
	else
		ap->flag = 1;
}

/* CONFIG GET name on node i, into out. */
static void
config_get(int i, const char *name, char *out, size_t n)
{
	struct conn *c = it_conn(rp_lc.nodes[i].port);
	struct err e = ERR_INIT;
	struct reply *r = conn_cmd(c, &e, "CONFIG", "GET", name, NULL);

	ck_assert_msg(r && r->type == REPLY_ARRAY && r->nelem == 2, "%s", e.msg);
	snprintf(out, n, "%s", r->elem[1]->str);
	reply_free(r);
	conn_free(c);
}

/* SIGINT in the middle of the moves: the repair stops there, and what it
 * opened (IMPORTING on the holder) and relaxed is put back. */
START_TEST(test_a_signal_mid_repair_puts_back_what_it_changed)
{
	struct at_phase stop = {.phase = "move", .pause = -1};
	struct repair_env env = {.progress = at_phase, .progress_arg = &stop,
				 .interrupted = &stop.flag};
	struct repair_outcome res;
	struct err e = ERR_INIT;
	char v[16];
	int i;

	strays_on_node_2();
	ck_assert_int_eq(rp_repair(&opts, &env, &res, &e), -1);
	ck_assert_str_eq(e.msg, "interrupted");
	ck_assert(stop.done);
	ck_assert_int_eq(res.total.nunrestored, 0);
	repair_outcome_release(&res);
	rp_assert_no_open_slots();
	for (i = 0; i < 3; i++) {
		config_get(i, "cluster-require-full-coverage", v, sizeof(v));
		ck_assert_str_eq(v, "yes");
		config_get(i, "cluster-allow-replica-migration", v, sizeof(v));
		ck_assert_str_eq(v, "yes");
	}
	rp_down();
}
END_TEST

/* A holder that stops answering in the middle: what could not be put
 * back on it is listed, with its address, for a person. */
START_TEST(test_what_cannot_be_put_back_is_listed)
{
	struct repair_opts fast = {.timeout_ms = 500};
	struct at_phase stop = {.phase = "move", .pause = 2};
	struct repair_env env = {.progress = at_phase, .progress_arg = &stop};
	struct repair_outcome res;
	struct topology t = TOPOLOGY_INIT;
	struct err e = ERR_INIT;
	char addr[32];
	int slot;

	slot = strays_on_node_2();
	ck_assert_int_eq(rp_repair(&fast, &env, &res, &e), -1);
	ck_assert(stop.done);
	ck_assert(!res.healthy);
	ck_assert_int_ge(res.total.nunrestored, 1);
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", rp_lc.nodes[2].port);
	ck_assert_msg(strstr(res.total.unrestored[0], addr) &&
		      strstr(res.total.unrestored[0], "importing"), "%s", res.total.unrestored[0]);
	ck_assert_msg(strstr(res.left, "not put back"), "%s", res.left);
	repair_outcome_release(&res);
	/* it was true: node 2, back, still imports the slot */
	ck_assert_int_eq(proc_signal(&rp_lc.nodes[2].proc, SIGCONT, &e), 0);
	ck_assert_int_eq(topology_fetch_addr("127.0.0.1", rp_lc.nodes[2].port, 2000, &t, &e), 0);
	ck_assert_int_eq((int)topology_myself(&t)->nopen, 1);
	ck_assert_int_eq(topology_myself(&t)->open[0].slot, slot);
	topology_release(&t);
	/* as the list says: its settings set back by hand, then a repair */
	rp_ok(2, "CONFIG", "SET", "cluster-require-full-coverage", "yes", NULL);
	rp_ok(2, "CONFIG", "SET", "cluster-allow-replica-migration", "yes", NULL);
	ck_assert_msg(rp_repair(&opts, NULL, &res, &e) == 0, "%s", e.msg);
	ck_assert_msg(res.healthy, "left: %s", res.left);
	repair_outcome_release(&res);
	rp_assert_healthy(0, 0);
	rp_down();
}
END_TEST

Suite *
repair_suite(void)
{
	Suite *s = suite_create("repair");
	TCase *tc = tcase_create("open-slots");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_half_migrated_slot_is_finished);
	tcase_add_test(tc, test_migrating_on_the_source_only);
	tcase_add_test(tc, test_importing_on_the_target_only_with_copies);
	tcase_add_test(tc, test_target_node_source_still_migrating);
	tcase_add_test(tc, test_source_node_target_still_importing);
	tcase_add_test(tc, test_forty_open_slots_at_once);
	tcase_add_test(tc, test_keys_on_a_node_that_does_not_own_their_slot);
	tcase_add_test(tc, test_two_masters_claiming_one_slot);
	tcase_add_test(tc, test_different_values_are_a_conflict_set_aside);
	tcase_add_test(tc, test_other_value_on_a_stable_non_owner_is_superseded);
	tcase_add_test(tc, test_same_value_other_ttl_is_superseded);
	tcase_add_test(tc, test_a_failed_repair_closes_the_states_it_opened);
	tcase_add_test(tc, test_a_signal_mid_repair_puts_back_what_it_changed);
	tcase_add_test(tc, test_what_cannot_be_put_back_is_listed);
	suite_add_tcase(s, tc);
	return s;
}
