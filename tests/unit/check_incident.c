/*
 * Unit tests of `incident import`: CLUSTER NODES views read and merged
 * (roles, replicas, slot owners by epoch, open slots and their direction,
 * failed nodes, uncovered ranges), every error with its FILE:LINE, and
 * the scenario written loading back with the same [layout].
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness/incident/incident.h"
#include "harness/scenario/scenario.h"
#include "tests/support/runner.h"

#define A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define C "cccccccccccccccccccccccccccccccccccccccc"
#define RA "1111111111111111111111111111111111111111"
#define RB "2222222222222222222222222222222222222222"
#define RC "3333333333333333333333333333333333333333"

/* The lines of the six nodes, `me` flagged myself, `mig` appended to B's
 * line when it is myself; C failed, as the others see it. */
static char *
view(const char *me, const char *extra_b)
{
	static const char *const fmt =
		A " 10.0.1.11:6379@16379 %smaster - 0 1795999404576 1 connected 0-5460\n"
		B " 10.0.1.12:6379@16379 %smaster - 0 1795999404576 2 connected 5461-10921%s\n"
		C " 10.0.1.13:6379@16379 master,fail - 1795999401052 1795999400548 3 disconnected 10922-16383\n"
		RA " 10.0.1.14:6379@16379 %sslave " A " 0 1795999404576 1 connected\n"
		RB " 10.0.1.15:6379@16379 %sslave " B " 0 1795999404576 2 connected\n"
		RC " 10.0.1.16:6379@16379 %sslave " C " 0 1795999404577 3 connected\n";
	char *out;

	if (asprintf(&out, fmt, strcmp(me, A) == 0 ? "myself," : "",
		     strcmp(me, B) == 0 ? "myself," : "", strcmp(me, B) == 0 ? extra_b : "",
		     strcmp(me, RA) == 0 ? "myself," : "", strcmp(me, RB) == 0 ? "myself," : "",
		     strcmp(me, RC) == 0 ? "myself," : "") < 0)
		abort();
	return out;
}

static void
add(struct incident *inc, const char *path, char *text)
{
	struct err e = ERR_INIT;

	ck_assert_msg(incident_add_text(inc, path, text, &e) == 0, "%s", e.msg);
	free(text);
}

/* The shipped incident's shape: C, the target of slot 5461, died; its
 * replica was not promoted. */
static void
oom_target(struct incident *inc)
{
	struct err e = ERR_INIT;

	add(inc, "n1.txt", view(A, ""));
	add(inc, "n2.txt", view(B, " [5461->-" C "]"));
	add(inc, "n4.txt", view(RA, ""));
	add(inc, "n6.txt", view(RC, ""));
	ck_assert_msg(incident_add_text(inc, "info.txt", "cluster_state:fail\r\n"
					"cluster_slots_assigned:16384\r\n", &e) == 0, "%s", e.msg);
	ck_assert_msg(incident_merge(inc, &e) == 0, "%s", e.msg);
}

static int
node(const struct incident *inc, const char *id)
{
	size_t i;

	for (i = 0; i < inc->n; i++)
		if (strcmp(inc->nodes[i].id, id) == 0)
			return (int)i;
	ck_abort_msg("no node %s", id);
	return -1;
}

/* The scenario written for a merged incident, loaded back. */
static struct scenario *
write_and_load(const struct incident *inc, const char *engine)
{
	struct incident_opts o = {.keys = 10, .moved_pct = 50, .engine = engine,
				  .node_timeout_ms = 1000};
	char path[] = "/tmp/sq-incident-XXXXXX";
	struct err e = ERR_INIT;
	struct scenario *s;
	FILE *f;
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	f = fdopen(fd, "w");
	ck_assert_int_eq(incident_write(inc, &o, f, &e), 0);
	fclose(f);
	s = scenario_load(path, &e);
	ck_assert_msg(s != NULL, "%s", e.msg);
	unlink(path);
	return s;
}

START_TEST(test_incident_merges_views)
{
	struct incident inc = INCIDENT_INIT;
	struct scenario *s;
	int a, b, c, rc;

	oom_target(&inc);
	a = node(&inc, A);
	b = node(&inc, B);
	c = node(&inc, C);
	rc = node(&inc, RC);
	ck_assert_uint_eq(inc.n, 6);
	ck_assert_uint_eq(inc.nmasters, 3);
	ck_assert_int_eq(inc.masters[0], a);
	ck_assert_int_eq(inc.masters[1], b);
	ck_assert_int_eq(inc.masters[2], c);
	ck_assert_int_eq(inc.owner[0], a);
	ck_assert_int_eq(inc.owner[5461], b);
	ck_assert_int_eq(inc.owner[16383], c);
	/* replicas counted, each of its master */
	ck_assert(!inc.nodes[rc].master);
	ck_assert_int_eq(inc.nodes[rc].master_of, c);
	ck_assert_int_eq(inc.nodes[rc].index, 0);
	/* the open slot, from its owner to the importer */
	ck_assert_uint_eq(inc.nopen, 1);
	ck_assert_int_eq(inc.open[0].slot, 5461);
	ck_assert_int_eq(inc.open[0].from, b);
	ck_assert_int_eq(inc.open[0].to, c);
	ck_assert(inc.open[0].migrating_seen && !inc.open[0].importing_seen);
	/* C: flagged fail, no file of its own; its replica not promoted */
	ck_assert(inc.nodes[c].failed);
	ck_assert(!inc.nodes[b].failed);
	ck_assert(!inc.nodes[node(&inc, RB)].failed); /* no file, not flagged: running */
	ck_assert(inc.nodes[rc].nofailover);
	ck_assert_uint_eq(inc.ninputs, 5);
	ck_assert_str_eq(inc.inputs[4], "info.txt: CLUSTER INFO, cluster_state:fail (noted only)");
	/* its notes (long, with full ids) still make a file that loads */
	s = write_and_load(&inc, "shardquake");
	ck_assert_uint_eq(s->layout.nopen, 1);
	ck_assert_int_eq(s->layout.open[0].from, 1);
	ck_assert_int_eq(s->layout.open[0].to, 2);
	ck_assert_int_eq(s->layout.failed[0].master, 2);
	ck_assert_int_eq(s->layout.nofailover[0].replica, 0);
	ck_assert(s->repair_salvage && !s->repair_allow_loss);
	scenario_free(s);
	incident_release(&inc);
}
END_TEST

/* Importing seen from the target's own file: the same direction. */
START_TEST(test_incident_importing_side)
{
	struct incident inc = INCIDENT_INIT;
	struct err e = ERR_INIT;
	char *t;

	/* A's own line imports 5461 from B */
	if (asprintf(&t, A " 10.0.1.11:6379@16379 myself,master - 0 0 1 connected 0-5460 "
		     "[5461-<-" B "]\n" B " 10.0.1.12:6379@16379 master - 0 1 2 connected "
		     "5461-16383\n") < 0)
		abort();
	add(&inc, "a.txt", t);
	ck_assert_msg(incident_merge(&inc, &e) == 0, "%s", e.msg);
	ck_assert_uint_eq(inc.nopen, 1);
	ck_assert_int_eq(inc.open[0].from, node(&inc, B));
	ck_assert_int_eq(inc.open[0].to, node(&inc, A));
	ck_assert(inc.open[0].importing_seen && !inc.open[0].migrating_seen);
	incident_release(&inc);
}
END_TEST

/* Valkey 8: a replica's own line mirrors its master's open slot. */
START_TEST(test_incident_replica_mirrors_open_slot)
{
	struct incident inc = INCIDENT_INIT;
	struct err e = ERR_INIT;
	char *v = view(RB, ""), *t, *at = strstr(v, "connected\n" RC);

	/* RB's own line, the one before RC's, ends with B's open slot */
	if (asprintf(&t, "%.*sconnected [5461->-" C "]%s", (int)(at - v), v,
		     at + strlen("connected")) < 0)
		abort();
	free(v);
	add(&inc, "n2.txt", view(B, " [5461->-" C "]"));
	add(&inc, "n5.txt", t);
	ck_assert_msg(incident_merge(&inc, &e) == 0, "%s", e.msg);
	ck_assert_uint_eq(inc.nopen, 1);
	ck_assert_int_eq(inc.open[0].from, node(&inc, B));
	ck_assert_int_eq(inc.open[0].to, node(&inc, C));
	incident_release(&inc);
}
END_TEST

/* Slots nobody claims stay uncovered; masters number by first slot. */
START_TEST(test_incident_uncovered_and_order)
{
	struct incident inc = INCIDENT_INIT;
	struct err e = ERR_INIT;
	struct scenario *s;

	add(&inc, "b.txt", strdup(B " 10.0.1.12:6379@16379 myself,master - 0 0 2 connected 0-99 "
				  "200-300 302\n" A " 10.0.1.11:6379@16379 master - 0 0 1 "
				  "connected 400-16383\n"));
	ck_assert_msg(incident_merge(&inc, &e) == 0, "%s", e.msg);
	ck_assert_int_eq(inc.owner[100], -1);
	ck_assert_int_eq(inc.owner[301], -1);
	ck_assert_int_eq(inc.masters[0], node(&inc, B));
	s = write_and_load(&inc, "shardquake");
	ck_assert_int_eq(s->masters, 2);
	ck_assert_int_eq(s->layout.owner[0], 0);
	ck_assert_int_eq(s->layout.owner[100], -1);
	ck_assert_int_eq(s->layout.owner[302], 0);
	ck_assert_int_eq(s->layout.owner[400], 1);
	ck_assert_uint_eq(s->layout.nfailed, 0);
	scenario_free(s);
	incident_release(&inc);
}
END_TEST

/* Thousands of ranges go on in master.0.2, .3 ...: every line loads. */
START_TEST(test_incident_long_lists_wrap)
{
	struct incident inc = INCIDENT_INIT;
	struct err e = ERR_INIT;
	struct scenario *s;
	char *t, *p;
	int i;

	t = malloc(200000);
	p = t + sprintf(t, A " 1.2.3.4:6379@16379 myself,master - 0 0 1 connected");
	for (i = 0; i < 16384; i += 2)
		p += sprintf(p, " %d", i);
	p += sprintf(p, "\n" B " 1.2.3.5:6379@16379 master - 0 0 2 connected");
	for (i = 1; i < 16384; i += 2)
		p += sprintf(p, " %d", i);
	sprintf(p, "\n");
	add(&inc, "frag.txt", t);
	ck_assert_msg(incident_merge(&inc, &e) == 0, "%s", e.msg);
	s = write_and_load(&inc, "redis-cli");
	for (i = 0; i < 16384; i++)
		ck_assert_int_eq(s->layout.owner[i], i % 2);
	scenario_free(s);
	incident_release(&inc);
}
END_TEST

/* A stale view (lower epoch) that disagrees is noted, not an error. */
START_TEST(test_incident_stale_view_is_noted)
{
	struct incident inc = INCIDENT_INIT;
	struct err e = ERR_INIT;

	add(&inc, "old.txt", strdup(A " 1.2.3.4:6379@16379 myself,master - 0 0 1 connected 0-100\n"
				    B " 1.2.3.5:6379@16379 master - 0 0 2 connected 101-16383\n"));
	add(&inc, "new.txt", strdup(A " 1.2.3.4:6379@16379 master - 0 0 1 connected 0-99\n"
				    B " 1.2.3.5:6379@16379 myself,master - 0 0 4 connected 100-16383\n"));
	ck_assert_msg(incident_merge(&inc, &e) == 0, "%s", e.msg);
	ck_assert_int_eq(inc.owner[100], node(&inc, B));
	ck_assert_uint_eq(inc.nnotes, 1);
	ck_assert_msg(strstr(inc.notes[0], "old.txt is older") != NULL, "%s", inc.notes[0]);
	incident_release(&inc);
}
END_TEST

/* A failover: C died, RC took its slots at a new epoch; C serves
 * nothing, RC has no replica (replicas.N), RA is flagged fail? only. */
START_TEST(test_incident_after_failover)
{
	struct incident inc = INCIDENT_INIT;
	struct err e = ERR_INIT;
	struct scenario *s;

	add(&inc, "a.txt", strdup(
		A " 10.0.1.11:6379@16379 myself,master - 0 0 1 connected 0-5460\n"
		B " 10.0.1.12:6379@16379 master - 0 1795999404576 2 connected 5461-10921\n"
		C " 10.0.1.13:6379@16379 master,fail - 1795999401052 1795999400548 3 disconnected\n"
		RA " 10.0.1.14:6379@16379 slave,fail? " A " 1795999401052 0 1 disconnected\n"
		RB " 10.0.1.15:6379@16379 slave " B " 0 1795999404576 2 connected\n"
		RC " 10.0.1.16:6379@16379 master - 0 1795999404577 4 connected 10922-16383\n"));
	ck_assert_msg(incident_merge(&inc, &e) == 0, "%s", e.msg);
	ck_assert_uint_eq(inc.nmasters, 4);
	ck_assert_int_eq(inc.masters[2], node(&inc, RC));
	ck_assert_int_eq(inc.masters[3], node(&inc, C)); /* no slots: last */
	ck_assert(inc.nodes[node(&inc, C)].failed);
	ck_assert(inc.nodes[node(&inc, RA)].failed);
	s = write_and_load(&inc, "shardquake");
	ck_assert_int_eq(s->masters, 4);
	ck_assert_int_eq(s->layout.owner[10922], 2);
	ck_assert_int_eq(scenario_replicas_of(s, 0), 1);
	ck_assert_int_eq(scenario_replicas_of(s, 2), 0);
	ck_assert_int_eq(scenario_replicas_of(s, 3), 0);
	ck_assert_uint_eq(s->layout.nfailed, 2);
	ck_assert_int_eq(s->layout.failed[0].master, 3);   /* C, master.3 */
	ck_assert_int_eq(s->layout.failed[0].replica, -1);
	ck_assert_int_eq(s->layout.failed[1].master, 0);   /* RA, replica.0.0 */
	ck_assert_int_eq(s->layout.failed[1].replica, 0);
	ck_assert_uint_eq(s->layout.nnofailover, 0);
	ck_assert(s->repair_salvage && s->repair_allow_loss); /* C: nothing to salvage */
	scenario_free(s);
	incident_release(&inc);
}
END_TEST

/* A node in handshake is no node of the incident (yet): left out, said. */
START_TEST(test_incident_handshake_left_out)
{
	struct incident inc = INCIDENT_INIT;
	struct err e = ERR_INIT;

	add(&inc, "a.txt", strdup(A " 1.2.3.4:6379@16379 myself,master - 0 0 1 connected 0-16383\n"
				  C " 1.2.3.9:6379@16379 handshake - 1795999404576 0 0 "
				  "disconnected\n"));
	ck_assert_msg(incident_merge(&inc, &e) == 0, "%s", e.msg);
	ck_assert_uint_eq(inc.n, 1);
	ck_assert_uint_eq(inc.nmasters, 1);
	ck_assert_uint_eq(inc.nnotes, 1);
	ck_assert_str_eq(inc.notes[0], "a.txt:2: a node in handshake (1.2.3.9:6379) left out");
	incident_release(&inc);
}
END_TEST

static const struct {
	const char *a, *b; /* a.txt, b.txt (NULL: none) */
	const char *msg;
} bad_rows[] = {
	/* two owners at the same epoch */
	{A " 1.2.3.4:6379@16379 myself,master - 0 0 1 connected 0-16383\n"
	 B " 1.2.3.5:6379@16379 master - 0 0 1 connected\n",
	 A " 1.2.3.4:6379@16379 master - 0 0 1 connected 0-16382\n"
	 B " 1.2.3.5:6379@16379 myself,master - 0 0 1 connected 16383\n",
	 "b.txt:2: slot 16383 is claimed by " B " here and by " A " in a.txt:1, both at "
	 "config epoch 1: two owners"},
	/* two owners in one view */
	{A " 1.2.3.4:6379@16379 myself,master - 0 0 1 connected 0-10\n"
	 B " 1.2.3.5:6379@16379 master - 0 0 2 connected 10-16383\n", NULL,
	 "a.txt:2: slot 10 is served by " B " here and by " A " on line 1: two owners"},
	/* unknown id in an open slot */
	{A " 1.2.3.4:6379@16379 myself,master - 0 0 1 connected 0-16383 [5->-" C "]\n", NULL,
	 "a.txt:1: unknown node id " C " in slot 5 migrating to it: no line of this file "
	 "describes it"},
	/* unknown master id */
	{"\n" A " 1.2.3.4:6379@16379 myself,master - 0 0 1 connected 0-16383\n"
	 RA " 1.2.3.6:6379@16379 slave " C " 0 0 1 connected\n", NULL,
	 "a.txt:3: unknown node id " C " as the master of " RA ": no line of this file "
	 "describes it"},
	/* a truncated line */
	{A " 1.2.3.4:6379@16379 myself,master - 0 0 1 connected 0-16383\n"
	 B " 1.2.3.5:6379@16379 master - 0\n", NULL,
	 "a.txt:2: 5 fields: expected at least 8 (id, address, flags, master, ping, pong, "
	 "epoch, link state) (a truncated line?)"},
	/* a node id of 39 hex digits */
	{A " 1.2.3.4:6379@16379 myself,master - 0 0 1 connected 0-16383\n"
	 "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb 1.2.3.5:6379@16379 master - 0 0 2 connected\n",
	 NULL,
	 "a.txt:2: bad node id 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb': expected 40 hex digits"},
	/* a bad slot */
	{A " 1.2.3.4:6379@16379 myself,master - 0 0 1 connected 0-16384\n", NULL,
	 "a.txt:1: bad slot '0-16384': expected N, N-M, [N->-ID] or [N-<-ID]"},
	/* no myself */
	{A " 1.2.3.4:6379@16379 master - 0 0 1 connected 0-16383\n", NULL,
	 "a.txt:1: no line is flagged myself: expected CLUSTER NODES as one node gives it"},
	/* two files of one node */
	{A " 1.2.3.4:6379@16379 myself,master - 0 0 1 connected 0-16383\n",
	 A " 1.2.3.4:6379@16379 myself,master - 0 0 1 connected 0-16383\n",
	 "b.txt:1: a second view of node " A ": a.txt is already its CLUSTER NODES"},
	/* not a known kind */
	{"hello\nworld\n", NULL,
	 "a.txt:1: not CLUSTER NODES, CLUSTER INFO or redis-cli --cluster check output: a "
	 "CLUSTER NODES line starts with a node id of 40 hex digits"},
	/* no CLUSTER NODES at all */
	{"cluster_state:ok\n", NULL,
	 "no CLUSTER NODES file among the inputs: save one with 'redis-cli -h HOST -p PORT "
	 "cluster nodes > FILE' from each node you can reach"},
	/* open from two directions */
	{A " 1.2.3.4:6379@16379 myself,master - 0 0 1 connected 0-100 [5->-" B "]\n"
	 B " 1.2.3.5:6379@16379 master - 0 0 2 connected 101-16383\n",
	 A " 1.2.3.4:6379@16379 master - 0 0 1 connected 0-100\n"
	 B " 1.2.3.5:6379@16379 myself,master - 0 0 2 connected 101-16383 [5-<-" C "]\n"
	 C " 1.2.3.6:6379@16379 master - 0 0 3 connected\n",
	 "b.txt:2: slot 5 is open from " C " to " B " here, but from " A " to " B " in a.txt:1"},
};

START_TEST(test_incident_error_row)
{
	struct incident inc = INCIDENT_INIT;
	struct err e = ERR_INIT;
	int rc;

	rc = incident_add_text(&inc, "a.txt", bad_rows[_i].a, &e);
	if (rc == 0 && bad_rows[_i].b)
		rc = incident_add_text(&inc, "b.txt", bad_rows[_i].b, &e);
	if (rc == 0)
		rc = incident_merge(&inc, &e);
	ck_assert_int_eq(rc, -1);
	ck_assert_str_eq(e.msg, bad_rows[_i].msg);
	incident_release(&inc);
}
END_TEST

/* redis-cli --cluster check output, colours and all: noted only. */
START_TEST(test_incident_check_output_is_noted)
{
	struct incident inc = INCIDENT_INIT;
	struct err e = ERR_INIT;

	ck_assert_int_eq(incident_add_text(&inc, "check.txt",
					   "\x1b[0m127.0.0.1:11052 (e2d4ae37...) -> 6671 keys | 5461 slots | 1 slaves.\n"
					   "\x1b[29;1m>>> Performing Cluster Check (using node 127.0.0.1:11052)\n"
					   "\x1b[0mM: " A " 127.0.0.1:11052\n", &e), 0);
	ck_assert_uint_eq(inc.nviews, 0);
	ck_assert_uint_eq(inc.ninputs, 1);
	incident_release(&inc);
}
END_TEST

Suite *
incident_suite(void)
{
	Suite *s = suite_create("incident");
	TCase *tc = tcase_create("import");

	tcase_add_test(tc, test_incident_merges_views);
	tcase_add_test(tc, test_incident_importing_side);
	tcase_add_test(tc, test_incident_replica_mirrors_open_slot);
	tcase_add_test(tc, test_incident_uncovered_and_order);
	tcase_add_test(tc, test_incident_long_lists_wrap);
	tcase_add_test(tc, test_incident_stale_view_is_noted);
	tcase_add_test(tc, test_incident_handshake_left_out);
	tcase_add_test(tc, test_incident_after_failover);
	tcase_add_loop_test(tc, test_incident_error_row, 0, sizeof(bad_rows) / sizeof(bad_rows[0]));
	tcase_add_test(tc, test_incident_check_output_is_noted);
	suite_add_tcase(s, tc);
	return s;
}
