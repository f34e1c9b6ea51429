/*
 * A dead master's files salvaged onto its replica, promoted since (its
 * successor): a key the successor lacks is restored only when the facts
 * say it was never received (repair/successor.h).  An RDB's replication
 * offset proves the successor had every write of the files: what it
 * lacks was deleted since.  An AOF proves nothing: what it lacks waits
 * in the stash for a decision, unless clients never delete keys.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/fetch.h"
#include "common/clock.h"
#include "common/xmalloc.h"
#include "cluster/slot.h"
#include "repair/successor.h"
#include "tests/integration/repair_util.h"
#include "tests/support/itutil.h"
#include "tests/support/runner.h"
#include "verifier/ledger.h"

/* The name of a key node 5 holds in one of master 2's slots after
 * `after`, into buf; its slot. */
static int
a_key_of(int after, char *buf, size_t n)
{
	struct conn *c = it_conn(rp_lc.nodes[5].port);
	struct reply *r = NULL;
	char num[16];
	int slot;

	for (slot = after > 2 * CLUSTER_SLOTS / 3 ? after : 2 * CLUSTER_SLOTS / 3;
	     slot < CLUSTER_SLOTS; slot++) {
		snprintf(num, sizeof(num), "%d", slot);
		r = conn_cmd(c, NULL, "CLUSTER", "GETKEYSINSLOT", num, "1", NULL);
		ck_assert(r && r->type == REPLY_ARRAY);
		if (r->nelem == 1)
			break;
		reply_free(r);
		r = NULL;
	}
	ck_assert_msg(r != NULL, "node 5 holds no key of master 2's slots");
	snprintf(buf, n, "%s", r->elem[0]->str);
	reply_free(r);
	conn_free(c);
	return slot;
}

/* The changed key's value before, to put back once the repair has
 * judged it: the data set's check reads every value. */
static char was[4096];
static size_t was_len;

static void
put_back(const char *key)
{
	const char *argv[3] = {"SET", key, was};
	size_t lens[3] = {3, strlen(key), was_len};
	struct conn *c = it_conn(rp_lc.nodes[5].port);
	struct reply *r = conn_cmd_argv(c, 3, argv, lens, NULL);

	ck_assert(r && r->type != REPLY_ERROR);
	reply_free(r);
	conn_free(c);
}

static long long
exists(int i, const char *key)
{
	struct conn *c = it_conn(rp_lc.nodes[i].port);
	long long n = -1;

	ck_assert(conn_cmd_int(c, &n, NULL, "EXISTS", key, NULL) == 0);
	conn_free(c);
	return n;
}

/* Master 2 killed once its replica, node 5, has its whole stream, and
 * node 5 promoted (TAKEOVER, as the cluster's own failover would), by
 * `deadline`. */
static void
promote_successor(uint64_t deadline)
{
	rp_wait_synced(5);
	rp_kill(2);
	rp_ok(5, "CLUSTER", "FAILOVER", "TAKEOVER", NULL);
	while (!rp_is_master(5) && clock_now_ms() < deadline)
		clock_sleep_ms(50);
	ck_assert_msg(rp_is_master(5), "node 5 was never promoted");
}

/* 3 masters with a replica each (5 replicates 2); master 2 killed with
 * its replica in step, which is then promoted (TAKEOVER, as the
 * cluster's own failover would) and deletes one of the dead master's
 * keys (into gone) and writes another (into changed). */
static void
successor_deletes_and_writes(enum persistence p, char *gone, char *changed, size_t n)
{
	uint64_t deadline = clock_now_ms() + 20000;
	char *info = NULL, v[8] = "";

	rp_up(3, 1, p, 2000);
	ck_assert_int_eq(rp_lc.nodes[5].master, 2);
	rp_ok(5, "CONFIG", "SET", "cluster-replica-no-failover", "yes", NULL);
	if (p == PERSIST_RDB) { /* an RDB saved with its place in the history */
		struct conn *c = it_conn(rp_lc.nodes[2].port);

		rp_ok(2, "BGSAVE", NULL);
		do {
			clock_sleep_ms(20);
			free(info);
			info = conn_cmd_str(c, NULL, "INFO", "persistence", NULL);
		} while (info && info_field(info, "rdb_bgsave_in_progress", v, sizeof(v)) == 0 &&
			 strcmp(v, "1") == 0 && clock_now_ms() < deadline);
		ck_assert_str_eq(v, "0");
		free(info);
		conn_free(c);
	}
	promote_successor(deadline);
	a_key_of(a_key_of(0, gone, n) + 1, changed, n);
	{
		struct conn *c = it_conn(rp_lc.nodes[5].port);
		struct reply *r = conn_cmd(c, NULL, "GET", changed, NULL);

		ck_assert(r && r->type == REPLY_STRING && r->len < sizeof(was));
		memcpy(was, r->str, r->len);
		was_len = r->len;
		reply_free(r);
		conn_free(c);
	}
	rp_ok(5, "DEL", gone, NULL);
	rp_ok(5, "SET", changed, "written-since", NULL);
}

/* Told that clients never delete keys, a second repair restores the key
 * the successor lacks, whatever the facts said; then every key of the
 * data set is back, the changed one put back as it was. */
static void
restored_when_never_deleted(struct repair_opts *o, const char *gone, const char *changed)
{
	struct repair_outcome res;
	struct err e = ERR_INIT;

	o->never_deleted = true;
	ck_assert_msg(rp_repair(o, NULL, &res, &e) == 0, "%s", e.msg);
	ck_assert_msg(res.healthy, "left: %s", res.left);
	ck_assert_int_eq(res.total.keys_salvaged, 1);
	ck_assert_int_eq(res.total.undecided, 0);
	ck_assert_int_eq(res.total.deleted_since, 0);
	ck_assert_int_eq(exists(5, gone), 1);
	repair_outcome_release(&res);
	put_back(changed);
	rp_assert_healthy(0, 0);
	rp_down();
}

/* RDB: the successor had every write of the files (their repl-offset is
 * below its second_repl_offset): the deleted key stays deleted, the
 * other value is the newer; both in the stash, no decision waits.  With
 * --never-deleted a second repair restores it. */
START_TEST(test_rdb_offsets_tell_a_deleted_key)
{
	char gone[128], changed[128], *v;
	struct salvage_src src;
	struct repair_opts o = {.timeout_ms = 2000, .salvage = &src, .nsalvage = 1};
	struct repair_outcome res;
	struct err e = ERR_INIT;
	long long off;
	char id[41];

	successor_deletes_and_writes(PERSIST_RDB, gone, changed, sizeof(gone));
	src = rp_source(2, false);
	{
		char path[PATH_MAX + 16];

		snprintf(path, sizeof(path), "%s/dump.rdb", rp_lc.nodes[2].dir);
		ck_assert_int_eq(rdb_repl_info(path, id, sizeof(id), &off), 0);
		ck_assert_int_eq(strlen(id), 40);
		ck_assert_int_ge(off, 1);
	}
	rp_keep_stash = true;
	ck_assert_msg(rp_repair(&o, NULL, &res, &e) == 0, "%s", e.msg);
	rp_keep_stash = false;
	ck_assert_msg(res.healthy, "left: %s", res.left);
	ck_assert_int_eq(res.total.deleted_since, 1);
	ck_assert_int_eq(res.total.undecided, 0);
	ck_assert_int_eq(res.total.keys_salvaged, 0);
	ck_assert_int_eq(res.total.superseded, 1);
	ck_assert_int_eq(res.decisions, 0);
	ck_assert_int_eq(exists(5, gone), 0);
	ck_assert_int_eq(res.sources[0].deleted_since, 1);
	ck_assert_int_eq(res.sources[0].missing, 0);
	v = rp_stash_get(res.total.stash, 1, gone);
	ck_assert_msg(v != NULL, "the deleted key's copy is not in the stash");
	free(v);
	v = rp_stash_list(res.total.stash);
	ck_assert_msg(strstr(v, "deleted since: slot") && strstr(v, gone), "%s", v);
	free(v);
	rp_stash_drop(res.total.stash);
	repair_outcome_release(&res);
	restored_when_never_deleted(&o, gone, changed);
}
END_TEST

/* AOF: no offset, so the key the successor lacks is undecided: in the
 * stash, a decision waits, nothing restored blindly; and the other
 * value is a conflict, not superseded.  Told that clients never delete
 * keys, a second repair restores it. */
START_TEST(test_aof_leaves_it_undecided)
{
	char gone[128], changed[128];
	struct salvage_src src;
	struct repair_opts o = {.timeout_ms = 2000, .salvage = &src, .nsalvage = 1};
	struct repair_outcome res;
	struct err e = ERR_INIT;

	successor_deletes_and_writes(PERSIST_AOF, gone, changed, sizeof(gone));
	src = rp_source(2, false);
	ck_assert_msg(rp_repair(&o, NULL, &res, &e) == 0, "%s", e.msg);
	ck_assert_msg(res.healthy, "left: %s", res.left);
	ck_assert_int_eq(res.total.undecided, 1);
	ck_assert_int_eq(res.total.deleted_since, 0);
	ck_assert_int_eq(res.total.keys_salvaged, 0);
	ck_assert_int_eq(res.total.superseded, 0);
	ck_assert_int_eq(res.decisions, 2);
	ck_assert_msg(strstr(res.total.conflict[0], gone) || strstr(res.total.conflict[1], gone),
		      "%s", res.total.conflict[0]);
	ck_assert_int_eq(exists(5, gone), 0);
	repair_outcome_release(&res);
	restored_when_never_deleted(&o, gone, changed);
}
END_TEST

/* A scenario's ledger as the repair's order of writes; a client writes
 * key `race` (a later write still) the first time the repair compares
 * its two values. */
struct racing {
	struct ledger l;
	char race[32];
	size_t race_idx;
	bool raced;
};

static int
order_racing(void *arg, const char *key, size_t klen, const char *a, size_t alen,
	     const char *b, size_t blen)
{
	struct racing *o = arg;
	char v[64];

	if (!o->raced && klen == strlen(o->race) && memcmp(key, o->race, klen) == 0) {
		o->raced = true;
		ledger_value(&o->l, o->race_idx, 11, v, sizeof(v));
		rp_ok(5, "SET", o->race, v, NULL);
	}
	return ledger_order(&o->l, key, klen, a, alen, b, blen);
}

/* Key idx of the ledger holds its write `seq` on node 5 (stash NULL),
 * or in database 1 of the stash. */
static void
holds(const char *stash, const struct ledger *l, size_t idx, long long seq)
{
	char key[32], want[64], *got = NULL;
	struct conn *c;
	struct reply *r;

	ledger_key_name(l, idx, key, sizeof(key));
	ledger_value(l, idx, seq, want, sizeof(want));
	if (stash) {
		got = rp_stash_get(stash, 1, key);
	} else {
		c = it_conn(rp_lc.nodes[5].port);
		r = conn_cmd(c, NULL, "GET", key, NULL);
		if (r && r->type == REPLY_STRING)
			got = xstrndup(r->str, r->len);
		reply_free(r);
		conn_free(c);
	}
	ck_assert_msg(got && strcmp(got, want) == 0, "%s %s: %s, expected %s",
		      stash ? "stash" : "node 5", key, got ? got : "(none)", want);
	free(got);
}

/* Issue 11: where the writes are numbered (a scenario's ledger), of the
 * files' value and the successor's the later write stays, whichever
 * side holds it, and no decision waits:
 *  - the successor's is later: the files' set aside, superseded;
 *  - the files' is later (a write the replica never received): the
 *    successor's copied to the stash, and replaced;
 *  - the files' is later, but a client writes a later one still while
 *    the repair compares: the client's stays, the files' is superseded. */
START_TEST(test_the_later_write_stays)
{
	static const long long files[3] = {5, 7, 7}, since[3] = {9, 3, 4};
	struct racing ord = {.raced = false};
	struct value_order order = {.cmp = order_racing, .arg = &ord};
	struct salvage_src src;
	struct repair_opts o = {.timeout_ms = 2000, .salvage = &src, .nsalvage = 1,
				.order = &order};
	struct repair_outcome res;
	struct err e = ERR_INIT;
	char k[3][32], v[64];
	size_t idx[3], i, n;

	ledger_init(&ord.l, 1000, "sqlive:", "t1");
	for (i = 0, n = 0; n < 3 && i < ord.l.n; i++) { /* keys of master 2's slots */
		ledger_key_name(&ord.l, i, k[n], sizeof(k[n]));
		if (key_slot(k[n], strlen(k[n])) > 2 * CLUSTER_SLOTS / 3 + 1)
			idx[n++] = i;
	}
	ck_assert_int_eq(n, 3);
	snprintf(ord.race, sizeof(ord.race), "%s", k[2]);
	ord.race_idx = idx[2];
	rp_up(3, 1, PERSIST_AOF, 2000);
	ck_assert_int_eq(rp_lc.nodes[5].master, 2);
	rp_ok(5, "CONFIG", "SET", "cluster-replica-no-failover", "yes", NULL);
	for (i = 0; i < 3; i++) {
		ledger_value(&ord.l, idx[i], files[i], v, sizeof(v));
		rp_ok(2, "SET", k[i], v, NULL);
	}
	promote_successor(clock_now_ms() + 20000);
	for (i = 0; i < 3; i++) {
		ledger_value(&ord.l, idx[i], since[i], v, sizeof(v));
		rp_ok(5, "SET", k[i], v, NULL);
	}
	src = rp_source(2, false);
	rp_keep_stash = true;
	ck_assert_msg(rp_repair(&o, NULL, &res, &e) == 0, "%s", e.msg);
	rp_keep_stash = false;
	ck_assert_msg(res.healthy, "left: %s", res.left);
	ck_assert(ord.raced);
	ck_assert_int_eq(res.decisions, 0);
	ck_assert_int_eq(res.total.conflicts, 0);
	ck_assert_int_eq(res.total.undecided, 0);
	ck_assert_int_eq(res.total.superseded, 3);
	ck_assert_int_eq(res.total.keys_salvaged, 1);
	for (i = 0; i < 3; i++) {
		holds(NULL, &ord.l, idx[i], i == 0 ? 9 : i == 1 ? 7 : 11);
		holds(res.total.stash, &ord.l, idx[i], i == 0 ? 5 : i == 1 ? 3 : 7);
	}
	rp_stash_drop(res.total.stash);
	repair_outcome_release(&res);
	ledger_release(&ord.l);
	rp_assert_healthy_extra(0, 0, 3);
	rp_down();
}
END_TEST

Suite *
successor_suite(void)
{
	Suite *s = suite_create("successor");
	TCase *tc = tcase_create("successor");

	tcase_set_timeout(tc, 180);
	tcase_add_test(tc, test_rdb_offsets_tell_a_deleted_key);
	tcase_add_test(tc, test_aof_leaves_it_undecided);
	tcase_add_test(tc, test_the_later_write_stays);
	suite_add_tcase(s, tc);
	return s;
}
