/*
 * Unit tests of the repair planner on hand-made assessments: each node's
 * own CLUSTER NODES, who answers, keys per slot.  The plan is pure, so
 * what apply would do is checked here without a cluster.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "repair/plan.h"
#include "repair/served.h"
#include "repair/slotset.h"
#include "tests/support/runner.h"

#define IDA "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define IDB "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define IDC "cccccccccccccccccccccccccccccccccccccccc"
#define IDD "dddddddddddddddddddddddddddddddddddddddd"

static struct assessment a;
static bool a_forgot_c;                /* A's view has no line for C at all */
static bool all_forgot_c;              /* no view has C, nor the snapshot */
static bool replica_c;                 /* D on 7003, a replica of C, answers */
static const char *d_extra = "";       /* appended to D's own line in its view */
static const char *ranges[3] = {"0-5460", "5461-10921", "10922-16383"};

/* Three masters A, B, C on 7000-7002; `extra[i]` is appended to node i's
 * own line in its own view; `epochs` are the config epochs; C answers
 * unless `c_down`, and then the others flag it failed. */
static void
build(const char *const extra[3], const unsigned epochs[3], bool c_down)
{
	static const char *const ids[4] = {IDA, IDB, IDC, IDD};
	int i, j, n = all_forgot_c ? 2 : replica_c ? 4 : 3;
	struct err e = ERR_INIT;
	char text[4096];

	memset(&a, 0, sizeof(a));
	for (i = 0; i < n; i++)
		snapshot_add(&a.snap, ids[i], "127.0.0.1", 7000 + i);
	for (i = 0; i < n; i++) {
		size_t len = 0;

		if (i == 2 && c_down)
			continue;
		for (j = 0; j < n; j++)
			if (j == 3) /* D: C's replica */
				len += (size_t)snprintf(text + len, sizeof(text) - len,
							"%s 127.0.0.1:7003@17003 %sslave %s 0 0 3 "
							"connected%s\n", IDD, i == j ? "myself," : "",
							IDC, i == j ? d_extra : "");
			else if (!(i == 0 && j == 2 && a_forgot_c))
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
	a.nodes = calloc(4, sizeof(*a.nodes));
	for (i = 0; i < n; i++)
		if (a.snap.nodes[i].reachable && i != 3)
			a.nodes[i].keys = calloc(CLUSTER_SLOTS, sizeof(long long));
	assess_index(&a);
	a.full = true;
}

/* A salvage source on a->src: DIR, the node it is (-1: none knows it),
 * read, with `keys` keys in each of the slots [first, last], `lacking`
 * of them missing from the cluster. */
static struct asource *
source(const char *dir, const char *id, int node, int first, int last, long long keys,
       long long lacking)
{
	struct asource *s;
	int slot;

	a.src = realloc(a.src, (a.nsrc + 1) * sizeof(*a.src));
	s = &a.src[a.nsrc++];
	memset(s, 0, sizeof(*s));
	s->dir = dir;
	snprintf(s->id, sizeof(s->id), "%s", id);
	snprintf(s->host, sizeof(s->host), "127.0.0.1");
	s->port = 7002;
	s->node = node;
	s->read = true;
	s->held = calloc(CLUSTER_SLOTS, sizeof(long long));
	s->lacking = calloc(CLUSTER_SLOTS, sizeof(long long));
	for (slot = first; slot <= last; slot++) {
		s->held[slot] = keys;
		s->lacking[slot] = lacking;
		s->keys += keys;
		s->lacking_total += lacking;
	}
	return s;
}

/* The first line of what the plan sees that has `what` in it, or NULL. */
static const char *
seen(const struct plan *p, const char *what)
{
	size_t i;

	for (i = 0; i < p->nseen; i++)
		if (strstr(p->seen[i], what))
			return p->seen[i];
	return NULL;
}

/* The first action of that kind, or NULL. */
static const struct action *
action(const struct plan *p, enum action_kind k)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		if (p->v[i].kind == k)
			return &p->v[i];
	return NULL;
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

/* Who served each slot at the first look: its one live claimant; a slot
 * two masters claim, or whose only claimant is down, was served by
 * nobody (which value is newer there, nobody can tell). */
START_TEST(test_served_slots_have_one_live_claimant)
{
	static const char *const claim[3] = {" 12000", NULL, NULL};
	static const unsigned ep[3] = {9, 2, 3};
	struct served sv = {0};

	build(claim, ep, false);
	served_take(&sv, &a);
	ck_assert(served_by(&sv, &a, 0, 0));
	ck_assert(!served_by(&sv, &a, 1, 0));
	ck_assert(served_by(&sv, &a, 1, 5461));
	ck_assert(served_by(&sv, &a, 2, 16383));
	ck_assert(!served_by(&sv, &a, 0, 12000));
	ck_assert(!served_by(&sv, &a, 2, 12000));
	served_release(&sv);
	assess_release(&a);
	build(none, epochs123, true);
	served_take(&sv, &a);
	ck_assert(!served_by(&sv, &a, 2, 16383));
	ck_assert(served_by(&sv, &a, 0, 100));
	ck_assert(!served_by(&sv, &a, -1, 100));
	served_release(&sv);
	ck_assert(!served_by(&sv, &a, 0, 100)); /* never taken: nobody */
	assess_release(&a);
}
END_TEST

/* A dead master's replica too stale for the cluster's own failover rule
 * (its link down longer than the validity factor allows): not promoted,
 * consent or not -- it lacks the writes its master took since. */
START_TEST(test_too_stale_replica_is_not_promoted)
{
	struct repair_opts o = plain;
	struct plan p;

	o.allow_failover = true;
	replica_c = true;
	build(none, epochs123, true);
	replica_c = false;
	a.nodes[3].stale = true;
	snprintf(a.nodes[3].stale_why, sizeof(a.nodes[3].stale_why), "link down for 9 s");
	plan_build(&a, &o, &p);
	ck_assert_ptr_null(action(&p, ACT_PROMOTE));
	ck_assert(p.nnotes >= 1);
	ck_assert_ptr_nonnull(strstr(p.notes[0], "is too stale to take its place (link down "
					      "for 9 s)"));
	plan_release(&p);
	assess_release(&a);
}
END_TEST

/* A replica whose own view has a slot open that its primary has stable
 * (Valkey 8: a SETSLOT its primary refused with NOREPLICAS, applied from
 * the replication stream once the replica was back): SETSLOT STABLE on
 * the primary, which Valkey passes on; on Redis 7.0, which does not, a
 * note, and nothing healthy about it. */
START_TEST(test_replica_open_slot_is_closed_through_its_primary)
{
	struct repair_opts o = plain;
	const struct action *x;
	struct plan p;

	replica_c = true;
	d_extra = " [10922-<-" IDB "]";
	build(none, epochs123, false);
	replica_c = false;
	d_extra = "";
	a.valkey_major = 8;
	plan_build(&a, &o, &p);
	ck_assert_uint_eq(p.n, 1);
	ck_assert_ptr_nonnull(x = action(&p, ACT_STABLE));
	ck_assert_int_eq(x->node, 2);
	ck_assert_int_eq(x->slot, 10922);
	ck_assert_int_eq(x->from, 3);
	ck_assert_ptr_nonnull(strstr(x->reason, "importing in the own view of replica "
					     "127.0.0.1:7003"));
	ck_assert_str_eq(action_kind_name(ACT_STABLE), "stable");
	plan_release(&p);
	a.valkey_major = 0;
	plan_build(&a, &o, &p);
	ck_assert_uint_eq(p.n, 0);
	ck_assert_uint_eq(p.nnotes, 1);
	ck_assert_ptr_nonnull(strstr(p.notes[0], "passes no SETSLOT on to replicas"));
	plan_release(&p);
	assess_release(&a);
}
END_TEST

/* A dead master that serves slots, its replica answering, the user
 * allowing a failover: the replica is promoted first, as the cluster's
 * own failover would, and nothing else is planned until the cluster is
 * assessed again; not twice. */
START_TEST(test_dead_master_with_a_replica_has_it_promoted)
{
	struct repair_opts o = plain;
	const struct action *x;
	struct plan p;

	o.allow_failover = true;
	replica_c = true;
	build(none, epochs123, true);
	replica_c = false;
	plan_build(&a, &o, &p);
	ck_assert_uint_eq(p.n, 1);
	ck_assert_ptr_nonnull(x = action(&p, ACT_PROMOTE));
	ck_assert_int_eq(x->node, 3);
	ck_assert_int_eq(x->from, 2);
	ck_assert(p.restart_first);
	ck_assert_ptr_nonnull(strstr(x->reason, "127.0.0.1:7003"));
	ck_assert_str_eq(action_kind_name(ACT_PROMOTE), "promote");
	plan_release(&p);
	o.no_promote = true;
	plan_build(&a, &o, &p);
	ck_assert_ptr_null(action(&p, ACT_PROMOTE));
	plan_release(&p);
	assess_release(&a);
}
END_TEST

/* The same without the user's consent: no promotion, a note that says
 * which replica it would promote and how to allow it, and the plan goes
 * on as without the replica (here: the dead master kept, its slots left
 * alone; with --allow-data-loss, given away). */
START_TEST(test_promotion_waits_for_consent)
{
	struct repair_opts o = plain;
	struct plan p;
	size_t i;
	bool said = false;

	replica_c = true;
	build(none, epochs123, true);
	replica_c = false;
	plan_build(&a, &o, &p);
	ck_assert_ptr_null(action(&p, ACT_PROMOTE));
	ck_assert(!p.restart_first);
	ck_assert_ptr_null(action(&p, ACT_COVER));
	for (i = 0; i < p.nnotes; i++)
		said |= strstr(p.notes[i], "127.0.0.1:7003") && strstr(p.notes[i], "--failover");
	ck_assert_msg(said, "no note names the replica and --failover");
	plan_release(&p);
	o.allow_data_loss = true;
	plan_build(&a, &o, &p);
	ck_assert_ptr_null(action(&p, ACT_PROMOTE));
	ck_assert_ptr_nonnull(action(&p, ACT_COVER));
	plan_release(&p);
	assess_release(&a);
}
END_TEST

/* A replica may hold keys no master has where its counts differ from
 * its master's, or anywhere when its master is down. */
START_TEST(test_replica_slots_where_it_differs_from_its_master)
{
	bool *only = calloc(CLUSTER_SLOTS, sizeof(bool));

	replica_c = true;
	build(none, epochs123, false);
	a.nodes[3].keys = calloc(CLUSTER_SLOTS, sizeof(long long));
	a.nodes[2].keys[11000] = a.nodes[3].keys[11000] = 5; /* in step */
	a.nodes[3].keys[11001] = 3;                          /* the master has none */
	a.nodes[3].keys[100] = 2;                            /* a slot its master lost */
	ck_assert_int_eq(assess_master_of(&a, 3), 2);
	ck_assert_int_eq(assess_master_of(&a, 2), -1);
	ck_assert_int_eq(assess_replica_slots(&a, 3, only), 2);
	ck_assert(only[11001] && only[100] && !only[11000]);
	ck_assert_int_eq(assess_keys(&a, 3, 11001), 0); /* a master's count only */
	ck_assert_int_eq(assess_held(&a, 3, 11001), 3);
	ck_assert_int_eq(assess_replica_slots(&a, 0, only), 0); /* a master */
	assess_release(&a);
	build(none, epochs123, true);
	replica_c = false;
	a.nodes[3].keys = calloc(CLUSTER_SLOTS, sizeof(long long));
	a.nodes[3].keys[11000] = 5;
	ck_assert_int_eq(assess_replica_slots(&a, 3, only), 1);
	assess_release(&a);
	free(only);
}
END_TEST

/* A dead master whose live replica holds its keys, no consent to promote
 * it: the replica stands for its files: the slots go to the others, its
 * keys are salvaged from it, the dead master is forgotten; the plan sees
 * what the replica holds.  With consent the promotion comes first, alone. */
START_TEST(test_replica_source_stands_for_a_dead_master)
{
	struct repair_opts o = plain;
	const struct action *x;
	struct asource *s;
	struct plan p;

	replica_c = true;
	build(none, epochs123, true);
	replica_c = false;
	s = source("replica 127.0.0.1:7003", IDD, 3, 10922, 16383, 2, 2);
	s->replica = true;
	s->replica_of = 2;
	ck_assert_ptr_eq(assess_source_of(&a, 2), s);
	plan_build(&a, &o, &p);
	ck_assert_ptr_null(action(&p, ACT_PROMOTE));
	ck_assert_ptr_nonnull(x = action(&p, ACT_COVER));
	ck_assert_ptr_nonnull(strstr(x->reason, "salvaged from its replica next"));
	ck_assert(!x->data_loss);
	ck_assert_ptr_nonnull(x = action(&p, ACT_SALVAGE));
	ck_assert_int_eq(x->node, 2); /* a failed pass keeps the master */
	ck_assert_ptr_nonnull(strstr(x->reason, "DUMP"));
	ck_assert_ptr_nonnull(x = action(&p, ACT_FORGET));
	ck_assert_int_eq(x->node, 2);
	ck_assert_ptr_nonnull(seen(&p, "replica 127.0.0.1:7003 (dddddddd, of 127.0.0.1:7002, "
				       "which is down) holds 10924 keys"));
	plan_release(&p);
	o.allow_failover = true;
	plan_build(&a, &o, &p);
	ck_assert_uint_eq(p.n, 1);
	ck_assert_ptr_nonnull(action(&p, ACT_PROMOTE));
	plan_release(&p);
	/* a replica in step with its master: nothing said, nothing done */
	s->lacking_total = 0;
	memset(s->lacking, 0, CLUSTER_SLOTS * sizeof(long long));
	o.allow_failover = false;
	plan_build(&a, &o, &p);
	ck_assert_ptr_null(action(&p, ACT_SALVAGE));
	ck_assert_ptr_null(seen(&p, "replica 127.0.0.1:7003"));
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
	struct plan p;

	build(none, epochs123, true);
	source("/data/7002", IDC, 2, 10922, 16383, 2, 2);
	plan_build(&a, &plain, &p);
	ck_assert_uint_eq(p.n, 4);
	ck_assert(!p.v[0].data_loss);
	ck_assert_int_eq(p.v[2].kind, ACT_SALVAGE);
	ck_assert_int_eq(p.v[2].src, 0);
	ck_assert_int_eq(p.v[3].kind, ACT_FORGET);
	ck_assert_int_eq(p.keys_lost, 0);
	plan_release(&p);
	assess_release(&a);
}
END_TEST

/* Files that could not be read give nothing up: the dead master is
 * kept, and the note says why. */
START_TEST(test_unread_source_gives_nothing_up)
{
	struct asource *s;
	struct plan p;

	build(none, epochs123, true);
	s = source("/data/7002", IDC, 2, 0, -1, 0, 0);
	s->read = false;
	snprintf(s->error, sizeof(s->error), "no AOF directory nor .rdb file");
	plan_build(&a, &plain, &p);
	ck_assert_uint_eq(p.n, 0);
	ck_assert_uint_eq(p.nnotes, 2);
	ck_assert_ptr_nonnull(strstr(p.notes[0], "could not be read: no AOF"));
	ck_assert_ptr_nonnull(strstr(p.notes[1], "its files /data/7002 could not be read"));
	plan_release(&p);
	assess_release(&a);
}
END_TEST

/* Issue 12: every node forgot C.  Its slots have no owner anywhere; its
 * files, named, are read: the slots are covered, the keys salvaged, and
 * the plan says what it sees. */
START_TEST(test_forget_everywhere_then_the_files_are_read)
{
	const struct action *x;
	const char *line;
	struct plan p;

	all_forgot_c = true;
	build(none, epochs123, false);
	all_forgot_c = false;
	source("/data/7002", IDC, -1, 10922, 16383, 2, 2);
	plan_build(&a, &plain, &p);
	ck_assert_ptr_nonnull(x = action(&p, ACT_COVER));
	ck_assert_msg(strstr(x->reason, "5462 of their keys are in salvage sources"), "%s",
		      x->reason);
	ck_assert_ptr_nonnull(x = action(&p, ACT_SALVAGE));
	ck_assert_int_eq(x->src, 0);
	ck_assert_int_eq(x->node, -1);
	ck_assert_ptr_null(action(&p, ACT_FORGET));
	line = seen(&p, "have no owner in any node's view");
	ck_assert_msg(line && strstr(line, "slots 10922-16383 have no owner") &&
		      strstr(line, "CLUSTER FORGET") && strstr(line, "holds 10924 of their keys"),
		      "%s", line ? line : "(none)");
	/* per source, per slot range, before anything changes */
	line = seen(&p, "/data/7002 (127.0.0.1:7002, cccccccc, which no node knows any more) "
		    "holds 10924 keys, 10924 missing from the cluster: slots 10922-16383 "
		    "(served by nobody): 10924 keys, 10924 missing");
	ck_assert_ptr_nonnull(line);
	plan_release(&p);
	assess_release(&a);
}
END_TEST

/* Issue 12: after the forget, redis-cli --cluster fix gave C's slots,
 * empty, to A.  Nothing is open or uncovered; only the files say keys
 * are missing, and the salvage brings them back. */
START_TEST(test_fix_after_forget_salvages_into_the_empty_slots)
{
	const char *line;
	struct plan p;

	ranges[0] = "0-5460 10922-16383";
	all_forgot_c = true;
	build(none, epochs123, false);
	all_forgot_c = false;
	ranges[0] = "0-5460";
	source("/data/7002", IDC, -1, 10922, 16383, 1, 1);
	plan_build(&a, &plain, &p);
	ck_assert_uint_eq(p.n, 1);
	ck_assert_int_eq(p.v[0].kind, ACT_SALVAGE);
	ck_assert_uint_eq(p.nnotes, 0);
	line = seen(&p, "are served by 127.0.0.1:7000, which lacks 5462 of their keys");
	ck_assert_msg(line && strstr(line, "slots 10922-16383") &&
		      strstr(line, "empty there, as after redis-cli --cluster fix"), "%s",
		      line ? line : "(none)");
	plan_release(&p);
	assess_release(&a);
}
END_TEST

/* A source whose keys the cluster has is compared once, then left. */
START_TEST(test_source_already_in_the_cluster_is_compared_once)
{
	struct asource *s;
	struct plan p;

	build(none, epochs123, false);
	s = source("/data/replica", IDB, 1, 5461, 5470, 3, 0);
	plan_build(&a, &plain, &p);
	ck_assert_uint_eq(p.n, 1);
	ck_assert_int_eq(p.v[0].kind, ACT_SALVAGE);
	ck_assert_ptr_nonnull(strstr(p.v[0].reason, "the cluster has all its 30 keys"));
	plan_release(&p);
	s->compared = true;
	plan_build(&a, &plain, &p);
	ck_assert_uint_eq(p.n, 0);
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
	/* and it is said, with what would bring its keys back */
	ck_assert_ptr_nonnull(seen(&p, "127.0.0.1:7002 (cccccccc) is forgotten by 127.0.0.1:7000 "
				   "but still known to 127.0.0.1:7001"));
	ck_assert_ptr_nonnull(seen(&p, "--salvage 127.0.0.1:7002=DIR"));
	plan_release(&p);
	assess_release(&a);
	/* its files named: its slots covered, its keys salvaged, forgotten
	 * by every node */
	a_forgot_c = true;
	build(none, epochs123, true);
	a_forgot_c = false;
	source("/data/7002", IDC, 2, 10922, 16383, 1, 1);
	plan_build(&a, &plain, &p);
	ck_assert_ptr_nonnull(action(&p, ACT_COVER));
	ck_assert_ptr_nonnull(action(&p, ACT_SALVAGE));
	ck_assert_ptr_nonnull(action(&p, ACT_FORGET));
	ck_assert_ptr_nonnull(seen(&p, "its files: /data/7002"));
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
	tcase_add_test(tc, test_unread_source_gives_nothing_up);
	tcase_add_test(tc, test_forget_everywhere_then_the_files_are_read);
	tcase_add_test(tc, test_fix_after_forget_salvages_into_the_empty_slots);
	tcase_add_test(tc, test_source_already_in_the_cluster_is_compared_once);
	tcase_add_test(tc, test_a_partial_forget_does_not_hide_a_dead_owner);
	tcase_add_test(tc, test_dead_slotless_target_of_a_migration_is_kept);
	tcase_add_test(tc, test_restart_comes_first);
	tcase_add_test(tc, test_covered_slots_are_named_as_a_set);
	tcase_add_test(tc, test_dead_master_note_counts_owned_slots_only);
	tcase_add_test(tc, test_failed_over_master_is_described_as_replaced);
	tcase_add_test(tc, test_served_slots_have_one_live_claimant);
	tcase_add_test(tc, test_dead_master_with_a_replica_has_it_promoted);
	tcase_add_test(tc, test_replica_open_slot_is_closed_through_its_primary);
	tcase_add_test(tc, test_too_stale_replica_is_not_promoted);
	tcase_add_test(tc, test_promotion_waits_for_consent);
	tcase_add_test(tc, test_replica_slots_where_it_differs_from_its_master);
	tcase_add_test(tc, test_replica_source_stands_for_a_dead_master);
	suite_add_tcase(s, tc);
	tc = tcase_create("text");
	tcase_add_test(tc, test_slot_sets_are_printed_as_sets);
	suite_add_tcase(s, tc);
	return s;
}
