/*
 * Integration tests of the cluster-aware client on a real cluster:
 * routing, MOVED after a real migration, ASK during one, and a paused
 * node failing the call within its timeout.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cluster/client.h"
#include "cluster/server.h"
#include "cluster/slot.h"
#include "common/clock.h"
#include "harness/local/localcluster.h"
#include "tests/support/itutil.h"
#include "tests/support/runner.h"

static struct local_cluster lc;

static void
up(void)
{
	struct local_cluster_opts o = it_cluster_opts();
	struct err e = ERR_INIT;

	it_require_redis("client");
	o.persistence = PERSIST_NONE;
	ck_assert_msg(local_cluster_start(&lc, &o, &e) == 0, "%s", e.msg);
}

static int
owner_of(unsigned slot)
{
	int i, o = 0;

	for (i = 0; i < lc.opts.masters; i++)
		if ((long)slot >= (long)i * CLUSTER_SLOTS / lc.opts.masters)
			o = i;
	return o;
}

static struct reply *
cmd(struct cluster_client *cc, const char *a0, const char *a1, const char *a2)
{
	const char *argv[3] = {a0, a1, a2};
	struct err e = ERR_INIT;
	struct reply *r = cluster_client_cmd(cc, a2 ? 3 : 2, argv, NULL, &e);

	ck_assert_msg(r != NULL, "%s", e.msg);
	return r;
}

START_TEST(test_client_routes_every_key_to_its_owner)
{
	struct err e = ERR_INIT;
	struct cluster_client *cc;
	char k[32], v[32];
	struct reply *r;
	int i;

	up();
	cc = cluster_client_new("127.0.0.1", lc.nodes[2].port, 2000, &e);
	ck_assert_msg(cc != NULL, "%s", e.msg);
	for (i = 0; i < 1000; i++) {
		snprintf(k, sizeof(k), "k%d", i);
		snprintf(v, sizeof(v), "v%d", i);
		reply_free(cmd(cc, "SET", k, v));
	}
	ck_assert_int_eq(cluster_client_stats(cc)->moved, 0);
	for (i = 0; i < 1000; i += 37) { /* on the owner itself, asked directly */
		struct conn *c;

		snprintf(k, sizeof(k), "k%d", i);
		c = it_conn(lc.nodes[owner_of(key_slot(k, strlen(k)))].port);
		r = conn_cmd(c, &e, "GET", k, NULL);
		ck_assert_int_eq(r->type, REPLY_STRING);
		snprintf(v, sizeof(v), "v%d", i);
		ck_assert_str_eq(r->str, v);
		reply_free(r);
		conn_free(c);
	}
	cluster_client_free(cc);
	local_cluster_stop(&lc, false);
}
END_TEST

static void
setslot(int node, int slot, const char *how, const char *id)
{
	struct err e = ERR_INIT;
	struct conn *c = it_conn(lc.nodes[node].port);
	char s[16];

	snprintf(s, sizeof(s), "%d", slot);
	ck_assert_msg(conn_cmd_ok(c, &e, "CLUSTER", "SETSLOT", s, how, id, NULL) == 0, "%s", e.msg);
	conn_free(c);
}

START_TEST(test_client_follows_ask_then_moved)
{
	const char *key = "{k}1";
	unsigned slot = key_slot(key, strlen(key));
	int src, dst;
	char addr[64], port[16];
	struct err e = ERR_INIT;
	struct cluster_client *cc;
	struct reply *r;
	struct conn *c;

	up();
	src = owner_of(slot); /* once the cluster's shape is known */
	dst = (src + 1) % 3;
	cc = cluster_client_new("127.0.0.1", lc.nodes[0].port, 2000, &e);
	ck_assert_msg(cc != NULL, "%s", e.msg);
	reply_free(cmd(cc, "SET", key, "moving"));
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", lc.nodes[src].port);
	setslot(dst, (int)slot, "IMPORTING", lc.nodes[src].id);
	setslot(src, (int)slot, "MIGRATING", lc.nodes[dst].id);
	c = it_conn(lc.nodes[src].port);
	snprintf(port, sizeof(port), "%d", lc.nodes[dst].port);
	r = conn_cmd(c, &e, "MIGRATE", "127.0.0.1", port, key, "0", "5000", NULL);
	ck_assert_msg(r && r->type == REPLY_STATUS, "MIGRATE: %s", r ? r->str : e.msg);
	reply_free(r);
	conn_free(c);
	r = cmd(cc, "GET", key, NULL);
	ck_assert_int_eq(r->type, REPLY_STRING);
	ck_assert_str_eq(r->str, "moving");
	reply_free(r);
	ck_assert_int_eq(cluster_client_stats(cc)->ask, 1);
	ck_assert_str_eq(cluster_client_node_for_slot(cc, slot), addr); /* unchanged */
	/* as the protocol does it: the target first, then the source */
	setslot(dst, (int)slot, "NODE", lc.nodes[dst].id);
	setslot(src, (int)slot, "NODE", lc.nodes[dst].id);
	r = cmd(cc, "GET", key, NULL);
	ck_assert_str_eq(r->str, "moving");
	reply_free(r);
	ck_assert_int_eq(cluster_client_stats(cc)->moved, 1);
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", lc.nodes[dst].port);
	ck_assert_str_eq(cluster_client_node_for_slot(cc, slot), addr);
	cluster_client_free(cc);
	local_cluster_stop(&lc, false);
}
END_TEST

START_TEST(test_client_paused_node_fails_within_timeout)
{
	struct err e = ERR_INIT;
	struct cluster_client *cc;
	const char *argv[2] = {"GET", NULL};
	char k[32], want[64];
	uint64_t t0;
	int i;

	up();
	cc = cluster_client_new("127.0.0.1", lc.nodes[0].port, 300, &e);
	ck_assert_msg(cc != NULL, "%s", e.msg);
	for (i = 0; owner_of(key_slot(k, (size_t)snprintf(k, sizeof(k), "p%d", i))) != 1; i++)
		;
	argv[1] = k;
	ck_assert_int_eq(proc_signal(&lc.nodes[1].proc, SIGSTOP, &e), 0);
	t0 = clock_now_ms();
	ck_assert_ptr_null(cluster_client_cmd(cc, 2, argv, NULL, &e));
	ck_assert_uint_lt(clock_now_ms() - t0, 5000);
	snprintf(want, sizeof(want), "127.0.0.1:%d", lc.nodes[1].port);
	ck_assert_msg(strstr(e.msg, want) != NULL, "%s", e.msg);
	proc_signal(&lc.nodes[1].proc, SIGCONT, &e);
	cluster_client_free(cc);
	local_cluster_stop(&lc, false);
}
END_TEST

Suite *
client_suite(void)
{
	Suite *s = suite_create("client");
	TCase *tc = tcase_create("redirects");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_client_routes_every_key_to_its_owner);
	tcase_add_test(tc, test_client_follows_ask_then_moved);
	tcase_add_test(tc, test_client_paused_node_fails_within_timeout);
	suite_add_tcase(s, tc);
	return s;
}
