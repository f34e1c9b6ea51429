/*
 * Integration tests of the verifier: a healthy cluster has no findings;
 * then the cluster is broken on purpose, one way per test, and the
 * verifier must report exactly that class with exactly that count.
 */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/fetch.h"
#include "cluster/server.h"
#include "cluster/slot.h"
#include "cluster/snapshot.h"
#include "common/clock.h"
#include "common/xmalloc.h"
#include "harness/local/load.h"
#include "harness/local/localcluster.h"
#include "tests/support/itutil.h"
#include "tests/support/runner.h"
#include "verifier/placed.h"
#include "verifier/verify.h"

#define KEYS 100000

static struct local_cluster lc;
static struct dataset ds = {.keys = KEYS, .seed = 5, .value_size = 32};

static void
up(void)
{
	struct local_cluster_opts o = it_cluster_opts();
	struct err e = ERR_INIT;

	it_require_redis("verify");
	o.persistence = PERSIST_NONE;
	o.node_timeout_ms = 1000;
	ck_assert_msg(local_cluster_start(&lc, &o, &e) == 0, "%s", e.msg);
	ck_assert_msg(dataset_load(&ds, "127.0.0.1", lc.nodes[0].port, 0, &e) == 0, "%s", e.msg);
}

static struct verdict
verify(int timeout_ms)
{
	struct verify_opts o = {.dataset = &ds, .timeout_ms = timeout_ms};
	struct err e = ERR_INIT;
	struct verdict v;

	ck_assert_msg(verify_cluster("127.0.0.1", lc.nodes[0].port, &o, &v, &e) == 0,
		      "%s", e.msg);
	return v;
}

/* Asserts every class is 0 except those listed as (kind, count) pairs,
 * ended by -1. */
static void
expect_only(const struct verdict *v, ...)
{
	long long want[F_COUNT_] = {0};
	va_list ap;
	int k;

	va_start(ap, v);
	while ((k = va_arg(ap, int)) >= 0)
		want[k] = va_arg(ap, long long);
	va_end(ap);
	for (k = 0; k < F_COUNT_; k++)
		ck_assert_msg(v->f[k].count == want[k], "%s: %lld, expected %lld (first: %s)",
			      finding_json_name(k), v->f[k].count, want[k],
			      v->f[k].nexamples ? v->f[k].examples[0] : "-");
}

/* The master owning `slot` in the layout local_cluster_start made. */
static int
owner_of(unsigned slot)
{
	int i, m = lc.opts.masters, o = 0;

	for (i = 0; i < m; i++)
		if ((long)slot >= (long)i * CLUSTER_SLOTS / m)
			o = i;
	return o;
}

/* Key index of the n-th dataset key (from 0) whose slot `owner_of` gives `m`. */
static long long
key_on(int m, int nth)
{
	char k[DATASET_KEY_MAX];
	long long i;

	for (i = 0; i < KEYS; i++) {
		size_t len = dataset_key(i, k);
		if (owner_of(key_slot(k, len)) == m && nth-- == 0)
			return i;
	}
	ck_abort_msg("no key on master %d", m);
	return -1;
}

static void
run_cmd(int node, const char *a0, const char *a1, const char *a2, const char *a3,
	const char *a4)
{
	struct err e = ERR_INIT;
	struct conn *c = it_conn(lc.nodes[node].port);
	struct reply *r = conn_cmd(c, &e, a0, a1, a2, a3, a4, NULL);

	ck_assert_msg(r != NULL, "%s", e.msg);
	ck_assert_msg(r->type != REPLY_ERROR, "%s %s: %s", a0, a1 ? a1 : "", r->str);
	reply_free(r);
	conn_free(c);
}

START_TEST(test_verify_healthy_cluster_has_no_findings)
{
	struct verdict v;

	up();
	v = verify(2000);
	expect_only(&v, -1);
	ck_assert(verdict_is_healthy(&v));
	ck_assert_int_eq(v.keys_scanned, KEYS);
	ck_assert_int_eq(v.nodes, 3);
	verdict_release(&v);
	local_cluster_stop(&lc, false);
}
END_TEST

/* Issue 12: SETSLOT STABLE on both sides of a half-moved slot leaves the
 * moved keys on a node that does not own the slot; redis-cli --cluster
 * check is blind to it, and so was verify without a dataset. */
START_TEST(test_verify_without_keys_finds_keys_of_a_slot_not_owned)
{
	struct verify_opts o = {.timeout_ms = 2000};
	struct err e = ERR_INIT;
	struct verdict v;
	char slot[16], port[16], *text;
	struct conn *c;
	struct reply *keys;
	size_t i;

	up();
	/* a healthy cluster: checked, nothing */
	ck_assert_int_eq(verify_cluster("127.0.0.1", lc.nodes[0].port, &o, &v, &e), 0);
	ck_assert(v.f[F_MISPLACED].checked);
	expect_only(&v, -1);
	verdict_release(&v);
	/* half of slot 100 moved from master 0 to master 1, then STABLE */
	snprintf(slot, sizeof(slot), "100");
	snprintf(port, sizeof(port), "%d", lc.nodes[1].port);
	run_cmd(1, "CLUSTER", "SETSLOT", slot, "IMPORTING", lc.nodes[0].id);
	run_cmd(0, "CLUSTER", "SETSLOT", slot, "MIGRATING", lc.nodes[1].id);
	c = it_conn(lc.nodes[0].port);
	keys = conn_cmd(c, &e, "CLUSTER", "GETKEYSINSLOT", slot, "3", NULL);
	ck_assert_msg(keys && keys->nelem == 3, "%s", e.msg);
	for (i = 0; i < keys->nelem; i++)
		reply_free(conn_cmd(c, &e, "MIGRATE", "127.0.0.1", port, keys->elem[i]->str, "0",
				    "5000", NULL));
	reply_free(keys);
	conn_free(c);
	run_cmd(0, "CLUSTER", "SETSLOT", slot, "STABLE", NULL);
	run_cmd(1, "CLUSTER", "SETSLOT", slot, "STABLE", NULL);
	ck_assert_int_eq(it_sh("redis-cli --cluster check 127.0.0.1:%d >/dev/null 2>&1",
			       lc.nodes[0].port), 0);
	ck_assert_int_eq(verify_cluster("127.0.0.1", lc.nodes[0].port, &o, &v, &e), 0);
	expect_only(&v, F_MISPLACED, 3LL, -1);
	text = v.f[F_MISPLACED].examples[0];
	ck_assert_msg(strstr(text, "3 keys of slot 100 (owned by 127.0.0.1:") &&
		      strstr(text, ", e.g. 'sq:"), "%s", text);
	verdict_release(&v);
	/* on a snapshot that kept no link, the counts open their own */
	{
		struct snapshot s;

		ck_assert_msg(snapshot_take(&s, "127.0.0.1", lc.nodes[0].port, 2000, &e) == 0,
			      "%s", e.msg);
		memset(&v, 0, sizeof(v));
		placed_count(&s, 2000, 5, &v);
		snapshot_release(&s);
		expect_only(&v, F_MISPLACED, 3LL, -1);
		ck_assert_msg(strstr(v.f[F_MISPLACED].examples[0], "3 keys of slot 100 (owned by"),
			      "%s", v.f[F_MISPLACED].examples[0]);
		verdict_release(&v);
	}
	/* kept links the servers have closed since: counted on new ones */
	{
		struct snapshot s;
		long long id;
		char ids[32];
		struct conn *k;
		size_t n;

		ck_assert_msg(snapshot_take_kept(&s, "127.0.0.1", lc.nodes[0].port, 2000, &e) == 0,
			      "%s", e.msg);
		for (n = 0; n < s.n; n++) {
			ck_assert(s.nodes[n].c != NULL);
			ck_assert_int_eq(conn_cmd_int(s.nodes[n].c, &id, &e, "CLIENT", "ID", NULL), 0);
			snprintf(ids, sizeof(ids), "%lld", id);
			k = it_conn(s.nodes[n].port);
			ck_assert_int_eq(conn_cmd_int(k, &id, &e, "CLIENT", "KILL", "ID", ids, NULL), 0);
			ck_assert_int_eq(id, 1);
			conn_free(k);
		}
		memset(&v, 0, sizeof(v));
		placed_count(&s, 2000, 5, &v);
		snapshot_release(&s);
		expect_only(&v, F_MISPLACED, 3LL, -1);
		verdict_release(&v);
	}
	/* --no-misplaced: the count is not run, and says so */
	o.no_misplaced = true;
	ck_assert_int_eq(verify_cluster("127.0.0.1", lc.nodes[0].port, &o, &v, &e), 0);
	ck_assert(!v.f[F_MISPLACED].checked);
	ck_assert(verdict_is_healthy(&v));
	verdict_release(&v);
	o.no_misplaced = false;
	/* a node that runs no script is counted slot by slot all the same */
	run_cmd(1, "ACL", "SETUSER", "default", "-@scripting", NULL);
	ck_assert_int_eq(verify_cluster("127.0.0.1", lc.nodes[0].port, &o, &v, &e), 0);
	expect_only(&v, F_MISPLACED, 3LL, -1);
	verdict_release(&v);
	local_cluster_stop(&lc, false);
}
END_TEST

START_TEST(test_verify_counts_deleted_keys_as_lost)
{
	char k[DATASET_KEY_MAX];
	struct verdict v;
	int i;

	up();
	for (i = 0; i < 7; i++) {
		long long idx = key_on(i % 3, i);

		dataset_key(idx, k);
		run_cmd(i % 3, "DEL", k, NULL, NULL, NULL);
	}
	v = verify(2000);
	expect_only(&v, F_LOST, 7LL, -1);
	verdict_release(&v);
	local_cluster_stop(&lc, false);
}
END_TEST

START_TEST(test_verify_counts_overwritten_values_as_corrupt)
{
	char k[DATASET_KEY_MAX];
	struct verdict v;
	int i;

	up();
	for (i = 0; i < 5; i++) {
		dataset_key(key_on(1, i), k);
		run_cmd(1, "SET", k, "not the dataset's value", NULL, NULL);
	}
	v = verify(2000);
	expect_only(&v, F_CORRUPT, 5LL, -1);
	verdict_release(&v);
	local_cluster_stop(&lc, false);
}
END_TEST

START_TEST(test_verify_reports_slot_left_migrating)
{
	struct verdict v;

	up();
	run_cmd(0, "CLUSTER", "SETSLOT", "100", "MIGRATING", lc.nodes[1].id);
	v = verify(2000);
	expect_only(&v, F_OPEN_SLOTS, 1LL, -1);
	ck_assert_ptr_nonnull(strstr(v.f[F_OPEN_SLOTS].examples[0], "slot 100 migrating to"));
	verdict_release(&v);
	local_cluster_stop(&lc, false);
}
END_TEST

/* Writes `key` (len bytes, any) = `val` onto `node`, which need not own
 * its slot: there the way a half-done migration leaves keys, IMPORTING,
 * ASKING + SET, STABLE. */
static void
plant_raw(int node, const char *key, size_t len, const char *val, size_t vlen)
{
	char slot[16];
	int owner = owner_of(key_slot(key, len));
	struct err e = ERR_INIT;
	struct conn *c = it_conn(lc.nodes[node].port);
	struct reply *r;
	const char *argv[3] = {"SET", key, val};
	size_t lens[3] = {3, len, vlen};

	snprintf(slot, sizeof(slot), "%u", key_slot(key, len));
	if (owner != node) {
		ck_assert_int_eq(conn_cmd_ok(c, &e, "CLUSTER", "SETSLOT", slot, "IMPORTING",
					     lc.nodes[owner].id, NULL), 0);
		ck_assert_int_eq(conn_cmd_ok(c, &e, "ASKING", NULL), 0);
	}
	r = conn_cmd_argv(c, 3, argv, lens, &e);
	ck_assert_msg(r && r->type == REPLY_STATUS, "SET: %s", r ? r->str : e.msg);
	reply_free(r);
	if (owner != node)
		ck_assert_int_eq(conn_cmd_ok(c, &e, "CLUSTER", "SETSLOT", slot, "STABLE", NULL),
				 0);
	conn_free(c);
}

/* Writes dataset key idx, with its value, onto `node`. */
static void
plant(int node, long long idx)
{
	char k[DATASET_KEY_MAX], val[32];
	size_t len = dataset_key(idx, k);

	dataset_value(&ds, idx, val);
	plant_raw(node, k, len, val, sizeof(val));
}

/* True when one of the examples of class k contains `text`. */
static bool
example_has(const struct verdict *v, enum finding_kind k, const char *text)
{
	int i;

	for (i = 0; i < v->f[k].nexamples; i++)
		if (strstr(v->f[k].examples[i], text))
			return true;
	return false;
}

START_TEST(test_verify_reports_misplaced_and_duplicated_keys)
{
	char k[DATASET_KEY_MAX];
	long long copied, moved;
	struct verdict v;

	up();
	copied = key_on(0, 0);
	moved = key_on(0, 1);
	plant(2, copied); /* the owner keeps it too: misplaced and duplicated */
	plant(2, moved);
	dataset_key(moved, k);
	run_cmd(0, "DEL", k, NULL, NULL, NULL); /* only the stray copy is left */
	v = verify(2000);
	expect_only(&v, F_MISPLACED, 2LL, F_DUPLICATED, 1LL, -1);
	verdict_release(&v);
	local_cluster_stop(&lc, false);
}
END_TEST

/* The MGET of a slot reads only the keys the dataset puts there: a
 * slot holding anything else (a key of another type, for which MGET
 * says nil; extra keys, binary names, a live workload's) must still be
 * read key by key, as a SCAN did; and a slot far larger than a batch
 * of reads. */
START_TEST(test_verify_reads_slots_holding_other_keys)
{
	struct verify_opts o = {.dataset = &ds, .timeout_ms = 2000, .max_examples = 20,
				.skip_prefix = "sqlive:"};
	static const char bin[] = {'x', '\0', '\xff', '\xfe', '{', 'b'};
	char k[DATASET_KEY_MAX], big[64];
	struct err e = ERR_INIT;
	struct verdict v;
	struct conn *c;
	struct reply *r;
	long long hashed, deleted, rewritten;
	unsigned slot;
	int i, owner;

	up();
	/* a dataset key of the wrong type: GET answers WRONGTYPE */
	hashed = key_on(1, 0);
	dataset_key(hashed, k);
	run_cmd(1, "DEL", k, NULL, NULL, NULL);
	run_cmd(1, "HSET", k, "f", "v", NULL);
	/* extra keys in owned slots, one with a binary name */
	plant_raw(owner_of(key_slot("other:1", 7)), "other:1", 7, "v", 1);
	plant_raw(owner_of(key_slot(bin, sizeof(bin))), bin, sizeof(bin), "v", 1);
	/* a live workload's keys: neither extra nor anything else */
	plant_raw(owner_of(key_slot("sqlive:1", 8)), "sqlive:1", 8, "v", 1);
	/* 12000 extra keys in the slot of a dataset key, one of that slot's
	 * dataset keys deleted and another rewritten */
	deleted = key_on(2, 0);
	dataset_key(deleted, k);
	slot = key_slot(k, strlen(k));
	owner = owner_of(slot);
	c = it_conn(lc.nodes[owner].port);
	for (i = 0; i < 12000; i++) {
		snprintf(big, sizeof(big), "{%s}extra:%d", k, i);
		conn_append_argv(c, 3, (const char *[]){"SET", big, "v"}, NULL);
	}
	for (i = 0; i < 12000; i++) {
		r = conn_read_reply(c, &e);
		ck_assert_msg(r && r->type == REPLY_STATUS, "%s", r ? r->str : e.msg);
		reply_free(r);
	}
	conn_free(c);
	run_cmd(owner, "DEL", k, NULL, NULL, NULL);
	for (rewritten = deleted + 1; rewritten < KEYS; rewritten++) {
		dataset_key(rewritten, k);
		if (key_slot(k, strlen(k)) == slot)
			break;
	}
	ck_assert_int_lt(rewritten, KEYS);
	run_cmd(owner, "SET", k, "not the dataset's value", NULL, NULL);
	ck_assert_int_eq(verify_cluster("127.0.0.1", lc.nodes[0].port, &o, &v, &e), 0);
	expect_only(&v, F_UNCHECKED, 1LL, F_EXTRA, 12002LL, F_LOST, 1LL, F_CORRUPT, 1LL, -1);
	ck_assert_msg(example_has(&v, F_UNCHECKED, ": GET answered 'WRONGTYPE"), "%s",
		      v.f[F_UNCHECKED].examples[0]);
	ck_assert(example_has(&v, F_EXTRA, "extra:") && example_has(&v, F_EXTRA, " on 127.0.0.1:"));
	ck_assert_msg(strstr(v.f[F_CORRUPT].examples[0], ": wrong value"), "%s",
		      v.f[F_CORRUPT].examples[0]);
	ck_assert_int_eq(v.keys_scanned, KEYS + 12003 - 1);
	verdict_release(&v);
	/* a node that runs no script is read all the same */
	run_cmd(2, "ACL", "SETUSER", "default", "-@scripting", NULL);
	ck_assert_int_eq(verify_cluster("127.0.0.1", lc.nodes[0].port, &o, &v, &e), 0);
	expect_only(&v, F_UNCHECKED, 1LL, F_EXTRA, 12002LL, F_LOST, 1LL, F_CORRUPT, 1LL, -1);
	verdict_release(&v);
	local_cluster_stop(&lc, false);
}
END_TEST

/* Keys a master holds in slots it does not own: dataset keys there are
 * misplaced (and duplicated when held twice or more), other keys extra,
 * whatever their names. */
START_TEST(test_verify_reports_keys_in_slots_not_owned)
{
	static const char bin[] = {'\xc3', '\x28', '\0', 's', 'q', ':', '1'};
	long long thrice, stray;
	char k[DATASET_KEY_MAX];
	struct verdict v;

	up();
	thrice = key_on(0, 3);
	plant(1, thrice); /* on its owner and on both others */
	plant(2, thrice);
	stray = key_on(1, 4);
	plant(0, stray); /* only on a node that does not own it */
	dataset_key(stray, k);
	run_cmd(1, "DEL", k, NULL, NULL, NULL);
	/* not dataset keys, on nodes that do not own their slots */
	plant_raw((owner_of(key_slot("sq:100000", 9)) + 1) % 3, "sq:100000", 9, "v", 1);
	plant_raw((owner_of(key_slot(bin, sizeof(bin))) + 2) % 3, bin, sizeof(bin), "v", 1);
	v = verify(2000);
	expect_only(&v, F_MISPLACED, 3LL, F_DUPLICATED, 1LL, F_EXTRA, 2LL, -1);
	dataset_key(thrice, k);
	ck_assert(example_has(&v, F_DUPLICATED, " held by 3 nodes"));
	ck_assert(example_has(&v, F_MISPLACED, ", which does not own its slot"));
	ck_assert(example_has(&v, F_EXTRA, "sq:100000 on 127.0.0.1:"));
	ck_assert_int_eq(v.keys_scanned, KEYS + 4);
	verdict_release(&v);
	local_cluster_stop(&lc, false);
}
END_TEST

/* A slot left migrating, a key of it gone: MGET answers TRYAGAIN for the
 * whole slot; its keys are read one by one and the one gone is lost. */
START_TEST(test_verify_reads_migrating_slot_key_by_key)
{
	char k[DATASET_KEY_MAX], s[16];
	struct verdict v;
	long long gone;
	unsigned slot;

	up();
	gone = key_on(0, 0);
	slot = key_slot(k, dataset_key(gone, k));
	snprintf(s, sizeof(s), "%u", slot);
	run_cmd(0, "CLUSTER", "SETSLOT", s, "MIGRATING", lc.nodes[1].id);
	run_cmd(0, "DEL", k, NULL, NULL, NULL);
	v = verify(2000);
	expect_only(&v, F_OPEN_SLOTS, 1LL, F_LOST, 1LL, -1);
	ck_assert(example_has(&v, F_LOST, k));
	verdict_release(&v);
	local_cluster_stop(&lc, false);
}
END_TEST

/* True once node `who` flags node `dead` as failed. */
static bool
flags_fail(int who, int dead)
{
	struct conn *c = it_conn(lc.nodes[who].port);
	char *text = conn_cmd_str(c, NULL, "CLUSTER", "NODES", NULL), *line;
	bool failed = false;

	line = text ? strstr(text, lc.nodes[dead].id) : NULL;
	if (line)
		failed = strncmp(strchr(line, ' ') + 1 + strcspn(strchr(line, ' ') + 1, " ") + 1,
				 "master,fail ", 12) == 0;
	free(text);
	conn_free(c);
	return failed;
}

START_TEST(test_verify_reports_killed_master)
{
	char k[DATASET_KEY_MAX];
	uint64_t deadline;
	long long i, on_dead = 0;
	struct verdict v;

	up();
	proc_kill(&lc.nodes[2].proc);
	deadline = clock_now_ms() + 20000;
	while (!(flags_fail(0, 2) && flags_fail(1, 2)) && clock_now_ms() < deadline)
		clock_sleep_ms(50);
	ck_assert_msg(flags_fail(0, 2), "the killed master was never flagged fail");
	for (i = 0; i < KEYS; i++) {
		size_t len = dataset_key(i, k);
		on_dead += owner_of(key_slot(k, len)) == 2;
	}
	v = verify(500);
	expect_only(&v, F_UNSERVED, (long long)(CLUSTER_SLOTS - 2 * CLUSTER_SLOTS / 3),
		    F_STATE, 2LL, F_FAILED_NODES, 1LL, F_UNREACHABLE_NODES, 1LL,
		    F_UNREACHABLE_KEYS, on_dead, F_UNCHECKED, (long long)KEYS - on_dead, -1);
	ck_assert_ptr_nonnull(strstr(v.f[F_UNCHECKED].examples[0], "CLUSTERDOWN"));
	verdict_release(&v);
	local_cluster_stop(&lc, false);
}
END_TEST

START_TEST(test_verify_does_not_hang_on_paused_node)
{
	struct err e = ERR_INIT;
	struct verdict v;
	uint64_t t0;

	up();
	ck_assert_int_eq(proc_signal(&lc.nodes[1].proc, SIGSTOP, &e), 0);
	t0 = clock_now_ms();
	v = verify(300);
	ck_assert_uint_lt(clock_now_ms() - t0, 5000);
	ck_assert_int_ge(v.f[F_UNREACHABLE_NODES].count, 1);
	ck_assert_int_eq(v.reachable, 2);
	ck_assert(!verdict_is_healthy(&v));
	verdict_release(&v);
	proc_signal(&lc.nodes[1].proc, SIGCONT, &e);
	local_cluster_stop(&lc, false);
}
END_TEST

Suite *
verify_suite(void)
{
	Suite *s = suite_create("verify");
	TCase *tc = tcase_create("broken");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_verify_healthy_cluster_has_no_findings);
	tcase_add_test(tc, test_verify_without_keys_finds_keys_of_a_slot_not_owned);
	tcase_add_test(tc, test_verify_counts_deleted_keys_as_lost);
	tcase_add_test(tc, test_verify_counts_overwritten_values_as_corrupt);
	tcase_add_test(tc, test_verify_reports_slot_left_migrating);
	tcase_add_test(tc, test_verify_reports_misplaced_and_duplicated_keys);
	tcase_add_test(tc, test_verify_reads_slots_holding_other_keys);
	tcase_add_test(tc, test_verify_reports_keys_in_slots_not_owned);
	tcase_add_test(tc, test_verify_reads_migrating_slot_key_by_key);
	tcase_add_test(tc, test_verify_reports_killed_master);
	tcase_add_test(tc, test_verify_does_not_hang_on_paused_node);
	suite_add_tcase(s, tc);
	return s;
}
