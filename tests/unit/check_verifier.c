/*
 * Unit tests of the verifier's pure checks, on snapshots built by hand
 * from CLUSTER NODES text: no server needed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/support/runner.h"
#include "verifier/checks.h"
#include "verifier/placed.h"
#include "cluster/snapshot.h"

#define A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define C "cccccccccccccccccccccccccccccccccccccccc"

/* The three masters' lines; `mine` gets "myself," in front of its flags. */
static void
view_text(char *out, size_t n, char mine, const char *b_flags, const char *a_slots,
	  const char *b_slots, const char *c_slots)
{
	snprintf(out, n,
		 A " 127.0.0.1:7000@17000 %smaster - 0 0 1 connected %s\n"
		 B " 127.0.0.1:7001@17001 %s%s - 0 0 2 connected %s\n"
		 C " 127.0.0.1:7002@17002 %smaster - 0 0 3 connected %s\n",
		 mine == 'a' ? "myself," : "", a_slots, mine == 'b' ? "myself," : "",
		 b_flags, b_slots, mine == 'c' ? "myself," : "", c_slots);
}

static void
add(struct snapshot *s, const char *id, int port, const char *text, const char *state)
{
	struct err e = ERR_INIT;
	int i = snapshot_add(s, id, "127.0.0.1", port);

	if (text == NULL) {
		snprintf(s->nodes[i].error, sizeof(s->nodes[i].error), "connection refused");
		return;
	}
	ck_assert_msg(topology_parse(&s->nodes[i].view, text, &e) == 0, "%s", e.msg);
	s->nodes[i].reachable = true;
	snprintf(s->nodes[i].state, sizeof(s->nodes[i].state), "%s", state);
}

static void
healthy(struct snapshot *s)
{
	char t[1024];

	memset(s, 0, sizeof(*s));
	view_text(t, sizeof(t), 'a', "master", "0-5460", "5461-10922", "10923-16383");
	add(s, A, 7000, t, "ok");
	view_text(t, sizeof(t), 'b', "master", "0-5460", "5461-10922", "10923-16383");
	add(s, B, 7001, t, "ok");
	view_text(t, sizeof(t), 'c', "master", "0-5460", "5461-10922", "10923-16383");
	add(s, C, 7002, t, "ok");
	snapshot_index(s);
}

static struct verdict
run(struct snapshot *s)
{
	struct verdict v;

	memset(&v, 0, sizeof(v));
	checks_run(s, &v, 5);
	return v;
}

START_TEST(test_checks_healthy_snapshot_has_no_findings)
{
	struct snapshot s;
	struct verdict v;

	healthy(&s);
	v = run(&s);
	ck_assert_int_eq(verdict_findings(&v), 0);
	ck_assert(v.f[F_UNCOVERED].checked && !v.f[F_LOST].checked);
	verdict_release(&v);
	snapshot_release(&s);
}
END_TEST

START_TEST(test_checks_uncovered_slots_counted_and_shown_as_ranges)
{
	struct snapshot s;
	struct verdict v;
	char t[1024];

	memset(&s, 0, sizeof(s));
	view_text(t, sizeof(t), 'a', "master", "0-5460", "5461-10900", "10923-16383");
	add(&s, A, 7000, t, "fail");
	snapshot_index(&s);
	v = run(&s);
	ck_assert_int_eq(v.f[F_UNCOVERED].count, 22);
	ck_assert_str_eq(v.f[F_UNCOVERED].examples[0], "slots 10901-10922 not covered by any node");
	ck_assert_int_eq(v.f[F_STATE].count, 1);
	verdict_release(&v);
	snapshot_release(&s);
}
END_TEST

START_TEST(test_checks_disagreement_names_both_views)
{
	struct snapshot s;
	struct verdict v;
	char t[1024];

	healthy(&s);
	topology_release(&s.nodes[2].view);
	view_text(t, sizeof(t), 'c', "master", "0-5459", "5460-10922", "10923-16383");
	topology_parse(&s.nodes[2].view, t, NULL);
	v = run(&s);
	ck_assert_int_eq(v.f[F_DISAGREEMENT].count, 1);
	ck_assert_str_eq(v.f[F_DISAGREEMENT].examples[0],
			 "slot 5460: 127.0.0.1:7000 says aaaaaaaa (127.0.0.1:7000), 127.0.0.1:7002 says "
			 "bbbbbbbb (127.0.0.1:7001)");
	verdict_release(&v);
	snapshot_release(&s);
}
END_TEST

/* Views compare by node id, whatever order each lists its nodes in; an
 * owner the reference does not know differs from every one it does. */
START_TEST(test_checks_agreement_by_id_not_by_line_order)
{
	struct snapshot s;
	struct verdict v;
	char t[1024];

	healthy(&s);
	topology_release(&s.nodes[2].view);
	snprintf(t, sizeof(t),
		 C " 127.0.0.1:7002@17002 myself,master - 0 0 3 connected 10923-16383\n"
		 "dddddddddddddddddddddddddddddddddddddddd 127.0.0.1:7003@17003 master - 0 0 4 "
		 "connected 0-10\n"
		 A " 127.0.0.1:7000@17000 master - 0 0 1 connected 11-5460\n"
		 B " 127.0.0.1:7001@17001 master - 0 0 2 connected 5461-10922\n");
	ck_assert_int_eq(topology_parse(&s.nodes[2].view, t, NULL), 0);
	v = run(&s);
	ck_assert_int_eq(v.f[F_DISAGREEMENT].count, 11);
	ck_assert_str_eq(v.f[F_DISAGREEMENT].examples[0],
			 "slot 0: 127.0.0.1:7000 says aaaaaaaa (127.0.0.1:7000), 127.0.0.1:7002 says "
			 "dddddddd");
	verdict_release(&v);
	snapshot_release(&s);
}
END_TEST

START_TEST(test_checks_open_slots_on_both_sides)
{
	struct snapshot s;
	struct verdict v;
	char t[1024];

	healthy(&s);
	topology_release(&s.nodes[0].view);
	topology_release(&s.nodes[1].view);
	view_text(t, sizeof(t), 'a', "master", "0-5460 [77->-" B "]", "5461-10922", "10923-16383");
	topology_parse(&s.nodes[0].view, t, NULL);
	view_text(t, sizeof(t), 'b', "master", "0-5460", "5461-10922 [77-<-" A "]", "10923-16383");
	topology_parse(&s.nodes[1].view, t, NULL);
	v = run(&s);
	ck_assert_int_eq(v.f[F_OPEN_SLOTS].count, 2);
	ck_assert_str_eq(v.f[F_OPEN_SLOTS].examples[0], "127.0.0.1:7000: slot 77 migrating to bbbbbbbb (127.0.0.1:7001)");
	ck_assert_str_eq(v.f[F_OPEN_SLOTS].examples[1], "127.0.0.1:7001: slot 77 importing from aaaaaaaa (127.0.0.1:7000)");
	ck_assert_int_eq(verdict_findings(&v), 2);
	verdict_release(&v);
	snapshot_release(&s);
}
END_TEST

START_TEST(test_checks_dead_master_unserved_failed_unreachable)
{
	struct snapshot s;
	struct verdict v;
	char t[1024];

	memset(&s, 0, sizeof(s));
	view_text(t, sizeof(t), 'a', "master,fail", "0-5460", "5461-10922", "10923-16383");
	add(&s, A, 7000, t, "fail");
	add(&s, B, 7001, NULL, NULL);
	view_text(t, sizeof(t), 'c', "master,fail", "0-5460", "5461-10922", "10923-16383");
	add(&s, C, 7002, t, "fail");
	snapshot_index(&s);
	v = run(&s);
	ck_assert_int_eq(v.f[F_UNSERVED].count, 5462);
	ck_assert_str_eq(v.f[F_UNSERVED].examples[0], "slots 5461-10922 owned by a node that is down");
	ck_assert_int_eq(v.f[F_FAILED_NODES].count, 1); /* two reporters, one node */
	ck_assert_str_eq(v.f[F_FAILED_NODES].examples[0], "bbbbbbbb (127.0.0.1:7001) flagged fail");
	ck_assert_int_eq(v.f[F_UNREACHABLE_NODES].count, 1);
	ck_assert_int_eq(v.f[F_STATE].count, 2);
	ck_assert_int_eq(v.f[F_UNCOVERED].count, 0);
	verdict_release(&v);
	snapshot_release(&s);
}
END_TEST

START_TEST(test_finding_add_keeps_counting_past_examples)
{
	struct finding f;
	int i;

	memset(&f, 0, sizeof(f));
	for (i = 0; i < 100; i++)
		finding_add(&f, 3, "key %d", i);
	ck_assert_int_eq(f.count, 100);
	ck_assert_int_eq(f.nexamples, 3);
	ck_assert_str_eq(f.examples[2], "key 2");
	for (i = 0; i < f.nexamples; i++)
		free(f.examples[i]);
}
END_TEST

/* Without a dataset: keys a master holds of slots it does not own, one
 * example per slot, every key counted. */
START_TEST(test_placed_counts_keys_of_slots_not_owned)
{
	struct placed p = {0};
	struct snapshot s;
	struct verdict v;

	healthy(&s);
	memset(&v, 0, sizeof(v));
	p.keys = calloc(CLUSTER_SLOTS, sizeof(long long));
	p.example = calloc(CLUSTER_SLOTS, sizeof(char *));
	p.keys[77] = 5;      /* A's slot */
	p.keys[6000] = 40;   /* B's own: not counted */
	p.keys[12000] = 2;   /* C's slot */
	p.example[77] = strdup("sq:1");
	placed_record(&s, 1, &p, &v, 5);
	ck_assert(v.f[F_MISPLACED].checked);
	ck_assert_int_eq(v.f[F_MISPLACED].count, 7);
	ck_assert_int_eq(v.f[F_MISPLACED].nexamples, 2);
	ck_assert_str_eq(v.f[F_MISPLACED].examples[0],
			 "5 keys of slot 77 (owned by 127.0.0.1:7000) on 127.0.0.1:7001, e.g. 'sq:1'");
	ck_assert_int_eq(verdict_findings(&v), 7);
	placed_release(&p);
	/* a master whose keys are all in its slots: nothing */
	placed_record(&s, 0, &p, &v, 5);
	ck_assert_int_eq(v.f[F_MISPLACED].count, 7);
	/* one that failed: unreachable, not healthy */
	p.failed = true;
	snprintf(p.error, sizeof(p.error), "timed out");
	placed_record(&s, 2, &p, &v, 5);
	ck_assert_int_eq(v.f[F_UNREACHABLE_NODES].count, 1);
	verdict_release(&v);
	snapshot_release(&s);
}
END_TEST

Suite *
verifier_suite(void)
{
	Suite *s = suite_create("verifier");
	TCase *tc = tcase_create("checks");

	tcase_add_test(tc, test_checks_healthy_snapshot_has_no_findings);
	tcase_add_test(tc, test_checks_uncovered_slots_counted_and_shown_as_ranges);
	tcase_add_test(tc, test_checks_disagreement_names_both_views);
	tcase_add_test(tc, test_checks_agreement_by_id_not_by_line_order);
	tcase_add_test(tc, test_checks_open_slots_on_both_sides);
	tcase_add_test(tc, test_checks_dead_master_unserved_failed_unreachable);
	tcase_add_test(tc, test_finding_add_keeps_counting_past_examples);
	tcase_add_test(tc, test_placed_counts_keys_of_slots_not_owned);
	suite_add_tcase(s, tc);
	return s;
}
