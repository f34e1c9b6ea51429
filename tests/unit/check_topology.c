/*
 * Unit tests of the CLUSTER NODES parser: real outputs of redis 7.0.15
 * (tests/fixtures/cluster-nodes/) and every kind of malformed line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/topology.h"
#include "common/fs.h"
#include "tests/support/runner.h"

#define FIXTURE "tests/fixtures/cluster-nodes/"

static struct topology
parse_fixture(const char *name)
{
	struct topology t = TOPOLOGY_INIT;
	struct err e = ERR_INIT;
	char path[256], *text;

	snprintf(path, sizeof(path), FIXTURE "%s", name);
	text = fs_read_file(path, NULL, &e);
	ck_assert_msg(text != NULL, "%s", e.msg);
	ck_assert_msg(topology_parse(&t, text, &e) == 0, "%s: %s", name, e.msg);
	free(text);
	return t;
}

START_TEST(test_topology_healthy_masters_and_replicas)
{
	struct topology t = parse_fixture("healthy-3m3r.txt");
	int owner[CLUSTER_SLOTS], masters = 0, replicas = 0;
	size_t i;

	ck_assert_uint_eq(t.n, 6);
	ck_assert_int_eq(topology_slot_owners(&t, owner), CLUSTER_SLOTS);
	for (i = 0; i < t.n; i++) {
		const struct cluster_node *n = &t.nodes[i];

		ck_assert_str_eq(n->ip, "127.0.0.1");
		ck_assert_int_eq(n->cport, n->port + 10000);
		ck_assert(n->connected);
		if (n->flags & NODE_MASTER) {
			masters++;
			ck_assert_str_eq(n->master_id, "");
			ck_assert_int_ge(cluster_node_slot_count(n), 5461);
		} else {
			replicas++;
			ck_assert(n->flags & NODE_REPLICA);
			ck_assert_ptr_nonnull(topology_find(&t, n->master_id));
			ck_assert_int_eq(cluster_node_slot_count(n), 0);
		}
	}
	ck_assert_int_eq(masters, 3);
	ck_assert_int_eq(replicas, 3);
	ck_assert_ptr_nonnull(topology_myself(&t));
	ck_assert(topology_myself(&t)->flags & NODE_MASTER);
	topology_release(&t);
}
END_TEST

START_TEST(test_topology_failed_master_flags_and_link)
{
	struct topology t = parse_fixture("master-failed.txt");
	const struct cluster_node *dead = NULL;
	char flags[64];
	size_t i;

	for (i = 0; i < t.n; i++)
		if (t.nodes[i].flags & NODE_FAIL)
			dead = &t.nodes[i];
	ck_assert_ptr_nonnull(dead);
	ck_assert(!dead->connected);
	ck_assert_int_gt(dead->ping_sent, 0);
	ck_assert_str_eq(node_flags_str(dead->flags, flags, sizeof(flags)), "master,fail");
	ck_assert_str_eq(dead->hostname, "node-c.example");
	ck_assert_int_eq(cluster_node_slot_count(dead), 5462);
	ck_assert(cluster_node_has_slot(dead, 16383));
	ck_assert(!cluster_node_has_slot(dead, 0));
	ck_assert_ptr_eq(topology_find_addr(&t, "127.0.0.1", dead->port), dead);
	topology_release(&t);
}
END_TEST

START_TEST(test_topology_migrating_and_importing_markers)
{
	struct topology src = parse_fixture("migrating-source.txt");
	struct topology dst = parse_fixture("importing-target.txt");
	const struct cluster_node *s = topology_myself(&src), *d = topology_myself(&dst);

	ck_assert_uint_eq(s->nopen, 1);
	ck_assert_int_eq(s->open[0].slot, 100);
	ck_assert_int_eq(s->open[0].state, SLOT_MIGRATING);
	ck_assert_str_eq(s->open[0].peer, d->id);
	ck_assert_uint_eq(d->nopen, 1);
	ck_assert_int_eq(d->open[0].state, SLOT_IMPORTING);
	ck_assert_str_eq(d->open[0].peer, s->id);
	/* the marker is not a slot range: the slot still belongs to the source */
	ck_assert(cluster_node_has_slot(s, 100));
	ck_assert(!cluster_node_has_slot(d, 100));
	topology_release(&src);
	topology_release(&dst);
}
END_TEST

START_TEST(test_topology_hostname_after_cport)
{
	struct topology t = parse_fixture("hostname.txt");
	size_t i, with = 0;

	for (i = 0; i < t.n; i++)
		if (strcmp(t.nodes[i].hostname, "node-c.example") == 0) {
			with++;
			ck_assert_str_eq(t.nodes[i].ip, "127.0.0.1");
		}
	ck_assert_uint_eq(with, 1);
	topology_release(&t);
}
END_TEST

START_TEST(test_topology_lonely_node_has_empty_ip)
{
	struct topology t = parse_fixture("lonely-node.txt");

	ck_assert_uint_eq(t.n, 1);
	ck_assert_str_eq(t.nodes[0].ip, "");
	ck_assert_int_eq(t.nodes[0].port, 32007);
	ck_assert_int_eq(t.nodes[0].cport, 42007);
	ck_assert_uint_eq(t.nodes[0].flags, NODE_MYSELF | NODE_MASTER);
	ck_assert_int_eq(cluster_node_slot_count(&t.nodes[0]), 0);
	topology_release(&t);
}
END_TEST

#define ID "0123456789abcdef0123456789abcdef01234567"
#define OK_PREFIX ID " 127.0.0.1:7000@17000 myself,master - 0 0 1 connected"

static const struct {
	const char *text;
	const char *msg;
} bad_rows[] = {
	{ID " 127.0.0.1:7000@17000 master - 0 0 1\n",
	 "line 1: 7 fields: expected at least 8 (id, address, flags, master, ping, pong, epoch, link state)"},
	{"xyz 127.0.0.1:7000@17000 master - 0 0 1 connected\n",
	 "line 1: bad node id 'xyz': expected 40 hex digits"},
	{ID " 127.0.0.1:7000 master - 0 0 1 connected\n",
	 "line 1: bad address '127.0.0.1:7000': expected IP:PORT@CPORT"},
	{ID " 127.0.0.1:70000@17000 master - 0 0 1 connected\n",
	 "line 1: bad address '127.0.0.1:70000@17000': expected IP:PORT@CPORT"},
	{ID " 127.0.0.1:7000@17000 master,leader - 0 0 1 connected\n",
	 "line 1: unknown flag 'leader'"},
	{ID " 127.0.0.1:7000@17000 slave 123 0 0 1 connected\n",
	 "line 1: bad master id '123': expected '-' or 40 hex digits"},
	{ID " 127.0.0.1:7000@17000 master - x 0 1 connected\n",
	 "line 1: bad ping/pong time 'x 0': expected numbers"},
	{ID " 127.0.0.1:7000@17000 master - 0 0 e connected\n",
	 "line 1: bad config epoch 'e': expected a number"},
	{ID " 127.0.0.1:7000@17000 master - 0 0 1 linked\n",
	 "line 1: bad link state 'linked': expected connected or disconnected"},
	{OK_PREFIX " 0-100\n" OK_PREFIX " 12x\n",
	 "line 2: bad slot '12x': expected N, N-M, [N->-ID] or [N-<-ID]"},
	{OK_PREFIX " 10-5\n", "line 1: bad slot range '10-5': first slot after last"},
	{OK_PREFIX " 16384\n",
	 "line 1: bad slot '16384': expected N, N-M, [N->-ID] or [N-<-ID]"},
	{OK_PREFIX " [5->-abc]\n",
	 "line 1: bad slot '[5->-abc]': expected N, N-M, [N->-ID] or [N-<-ID]"},
};

START_TEST(test_topology_rejects_malformed_row)
{
	struct topology t = TOPOLOGY_INIT;
	struct err e = ERR_INIT;

	ck_assert_int_eq(topology_parse(&t, bad_rows[_i].text, &e), -1);
	ck_assert_str_eq(e.msg, bad_rows[_i].msg);
	ck_assert_uint_eq(t.n, 0);
	ck_assert_ptr_null(t.nodes);
}
END_TEST

START_TEST(test_topology_accepts_crlf_blank_lines_and_empty_text)
{
	struct topology t = TOPOLOGY_INIT;
	struct err e = ERR_INIT;

	ck_assert_int_eq(topology_parse(&t, OK_PREFIX " 0-16383\r\n\r\n\n", &e), 0);
	ck_assert_uint_eq(t.n, 1);
	ck_assert_int_eq(cluster_node_slot_count(&t.nodes[0]), CLUSTER_SLOTS);
	topology_release(&t);
	ck_assert_int_eq(topology_parse(&t, "", &e), 0);
	ck_assert_uint_eq(t.n, 0);
	ck_assert_ptr_null(topology_myself(&t));
}
END_TEST

Suite *
topology_suite(void)
{
	Suite *s = suite_create("topology");
	TCase *tc = tcase_create("parse");

	tcase_add_test(tc, test_topology_healthy_masters_and_replicas);
	tcase_add_test(tc, test_topology_failed_master_flags_and_link);
	tcase_add_test(tc, test_topology_migrating_and_importing_markers);
	tcase_add_test(tc, test_topology_hostname_after_cport);
	tcase_add_test(tc, test_topology_lonely_node_has_empty_ip);
	tcase_add_loop_test(tc, test_topology_rejects_malformed_row, 0,
			    (int)(sizeof(bad_rows) / sizeof(bad_rows[0])));
	tcase_add_test(tc, test_topology_accepts_crlf_blank_lines_and_empty_text);
	suite_add_tcase(s, tc);
	return s;
}
