/*
 * Integration tests of the wire layer on real servers: cluster/conn.c's
 * pipelines (integers into an array, several connections at once from
 * one thread) and cluster/snapshot.c's waves.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cluster/conn.h"
#include "cluster/snapshot.h"
#include "common/clock.h"
#include "common/proc.h"
#include "harness/local/localcluster.h"
#include "repair/private_server.h"
#include "tests/support/itutil.h"
#include "tests/support/runner.h"

/* conn_read_integers: a pipeline's integer replies land in the array, a
 * reply of another kind fails naming the command and the server's words,
 * and the connection reads ordinary replies afterwards. */
START_TEST(test_read_integers_into_an_array)
{
	struct private_server s = {.name = "integers", .proc = PROC_INIT};
	const char *incr[] = {"INCRBY", "n", "5"}, *str[] = {"SET", "s", "x"},
		   *bad[] = {"INCR", "s"};
	struct err e = ERR_INIT;
	long long v[4] = {0};
	struct reply *r;

	ck_assert_msg(private_server_dir(&s, NULL, &e) == 0, "%s", e.msg);
	ck_assert_msg(private_server_start(&s, it_server(), NULL, 2000, 20000, &e) == 0, "%s",
		      e.msg);
	conn_append_argv(s.c, 3, incr, NULL);
	conn_append_argv(s.c, 3, incr, NULL);
	conn_append_argv(s.c, 3, incr, NULL);
	ck_assert_int_eq(conn_flush(s.c, &e), 0);
	ck_assert_msg(conn_read_integers(s.c, v, 3, "INCRBY", &e) == 0, "%s", e.msg);
	ck_assert(v[0] == 5 && v[1] == 10 && v[2] == 15 && v[3] == 0);
	conn_append_argv(s.c, 3, str, NULL);
	conn_append_argv(s.c, 2, bad, NULL);
	ck_assert_int_eq(conn_flush(s.c, &e), 0);
	ck_assert_int_eq(conn_read_integers(s.c, v, 2, "SET/INCR", &e), -1);
	ck_assert_msg(strstr(e.msg, "'SET/INCR' on '") && strstr(e.msg, "not an integer"), "%s",
		      e.msg);
	/* the INCR's error is still to come, read as usual */
	r = conn_read_reply(s.c, &e);
	ck_assert_msg(r && r->type == REPLY_ERROR, "%s", r ? "not an error" : e.msg);
	reply_free(r);
	ck_assert_int_eq(conn_cmd_int(s.c, &v[0], &e, "INCR", "n", NULL), 0);
	ck_assert_int_eq(v[0], 16);
	private_server_stop(&s, false);
}
END_TEST

/* conn_fan_integers' fill: one INCRBY n 1 a call, `left` of them. */
struct incrs {
	int left;
};

static size_t
give_incr(void *arg, char *buf, size_t cap)
{
	static const char cmd[] = "*3\r\n$6\r\nINCRBY\r\n$1\r\nn\r\n$1\r\n1\r\n";
	struct incrs *in = arg;

	if (in->left == 0 || cap < sizeof(cmd))
		return 0;
	in->left--;
	memcpy(buf, cmd, sizeof(cmd) - 1);
	return sizeof(cmd) - 1;
}

static size_t
give_text(void *arg, char *buf, size_t cap)
{
	const char **text = arg;
	size_t n = *text ? strlen(*text) : 0;

	if (n == 0 || n > cap)
		return 0;
	memcpy(buf, *text, n);
	*text = NULL;
	return n;
}

/* conn_fan_integers: on three connections at once, one counts through
 * 2000 commands given one at a time (on a link used before, its replies
 * split across reads), one fails on a reply that is not an
 * integer, one on a link the server closed; the failures are each
 * part's own, and the good connection answers as usual afterwards. */
START_TEST(test_fan_integers_each_part_its_own)
{
	struct private_server s = {.name = "fan", .proc = PROC_INIT};
	struct incrs in = {2000};
	const char *bad = "*3\r\n$3\r\nSET\r\n$1\r\ns\r\n$1\r\nx\r\n"
			  "*2\r\n$4\r\nINCR\r\n$1\r\ns\r\n";
	const char *late = "*1\r\n$6\r\nDBSIZE\r\n";
	long long *got = calloc(2000, sizeof(*got)), two[2] = {0}, one = 0, id = 0;
	struct conn *c[3];
	struct conn_fan f[3];
	struct err e = ERR_INIT;
	int i;

	ck_assert_msg(private_server_dir(&s, NULL, &e) == 0, "%s", e.msg);
	ck_assert_msg(private_server_start(&s, it_server(), NULL, 2000, 20000, &e) == 0, "%s",
		      e.msg);
	for (i = 0; i < 3; i++)
		ck_assert_msg((c[i] = conn_open("127.0.0.1", atoi(s.port_s), 2000, &e)) != NULL,
			      "%s", e.msg);
	/* a link that answered before: its reader holds the bytes it read */
	ck_assert_int_eq(conn_cmd_int(c[0], &one, &e, "INCRBY", "n", "0", NULL), 0);
	ck_assert_int_eq(conn_cmd_int(c[2], &id, &e, "CLIENT", "ID", NULL), 0);
	{
		char ids[32];
		struct reply *r;

		snprintf(ids, sizeof(ids), "%lld", id);
		r = conn_cmd(s.c, &e, "CLIENT", "KILL", "ID", ids, NULL);
		ck_assert_msg(r && r->type == REPLY_INTEGER && r->integer == 1, "%s", e.msg);
		reply_free(r);
	}
	f[0] = (struct conn_fan){.c = c[0], .fill = give_incr, .arg = &in, .out = got, .n = 2000};
	f[1] = (struct conn_fan){.c = c[1], .fill = give_text, .arg = &bad, .out = two, .n = 2};
	f[2] = (struct conn_fan){.c = c[2], .fill = give_text, .arg = &late, .out = &one, .n = 1};
	ck_assert_uint_eq(conn_fan_integers(f, 3, "SET/INCR"), 2);
	ck_assert_msg(!f[0].failed, "%s", f[0].e.msg);
	for (i = 0; i < 2000; i++)
		ck_assert_int_eq(got[i], i + 1);
	ck_assert(f[1].failed && conn_is_broken(c[1]));
	ck_assert_msg(strstr(f[1].e.msg, "'SET/INCR' on '") && strstr(f[1].e.msg, "not an integer"),
		      "%s", f[1].e.msg);
	ck_assert(f[2].failed && conn_is_broken(c[2]));
	ck_assert_msg(strstr(f[2].e.msg, "closed") || strstr(f[2].e.msg, "reset"), "%s",
		      f[2].e.msg);
	/* the good connection is blocking again, and in step */
	ck_assert_int_eq(conn_cmd_int(c[0], &one, &e, "INCR", "n", NULL), 0);
	ck_assert_int_eq(one, 2001);
	for (i = 0; i < 3; i++)
		conn_free(c[i]);
	free(got);
	private_server_stop(&s, false);
}
END_TEST

/* conn_fan_integers: a part times out on its own link's timeout, while
 * another link streams on; fanned together, the silent one would wait
 * for the longest timeout (5 s here) once the other was done. */
START_TEST(test_fan_times_out_a_silent_link_alone)
{
	struct private_server a = {.name = "fan-a", .proc = PROC_INIT},
			      b = {.name = "fan-b", .proc = PROC_INIT};
	struct incrs in = {2000};
	const char *late = "*1\r\n$6\r\nDBSIZE\r\n";
	long long *got = calloc(2000, sizeof(*got)), one = 0;
	struct conn *c[2];
	struct conn_fan f[2];
	struct err e = ERR_INIT;
	uint64_t t0, took;
	size_t failed;

	ck_assert_msg(private_server_dir(&a, NULL, &e) == 0, "%s", e.msg);
	ck_assert_msg(private_server_dir(&b, NULL, &e) == 0, "%s", e.msg);
	ck_assert_msg(private_server_start(&a, it_server(), NULL, 2000, 20000, &e) == 0, "%s",
		      e.msg);
	ck_assert_msg(private_server_start(&b, it_server(), NULL, 2000, 20000, &e) == 0, "%s",
		      e.msg);
	ck_assert((c[0] = conn_open("127.0.0.1", atoi(a.port_s), 5000, &e)) != NULL);
	ck_assert((c[1] = conn_open("127.0.0.1", atoi(b.port_s), 300, &e)) != NULL);
	ck_assert_int_eq(proc_signal(&b.proc, SIGSTOP, &e), 0);
	f[0] = (struct conn_fan){.c = c[0], .fill = give_incr, .arg = &in, .out = got, .n = 2000};
	f[1] = (struct conn_fan){.c = c[1], .fill = give_text, .arg = &late, .out = &one, .n = 1};
	t0 = clock_now_ms();
	failed = conn_fan_integers(f, 2, "INCRBY");
	took = clock_now_ms() - t0;
	proc_signal(&b.proc, SIGCONT, NULL);
	ck_assert_uint_eq(failed, 1);
	ck_assert_msg(!f[0].failed, "%s", f[0].e.msg);
	ck_assert_int_eq(got[1999], 2000);
	ck_assert_msg(f[1].failed && strstr(f[1].e.msg, "timed out"), "%s", f[1].e.msg);
	ck_assert_msg(took < 4000, "the silent link failed after %llu ms",
		      (unsigned long long)took);
	conn_free(c[0]);
	conn_free(c[1]);
	free(got);
	private_server_stop(&a, false);
	private_server_stop(&b, false);
}
END_TEST

/* A tap: the ports the calling thread sent CLUSTER NODES to, in order. */
struct probes {
	int ports[16];
	int n;
};

static void
saw_probe(void *arg, const struct conn *c, int argc, const char *const *argv,
	  const size_t *lens)
{
	struct probes *p = arg;

	(void)lens;
	if (argc == 2 && strcasecmp(argv[0], "CLUSTER") == 0 &&
	    strcasecmp(argv[1], "NODES") == 0 && p->n < 16)
		p->ports[p->n++] = conn_port(c);
}

/* The snapshot asks the nodes a view names all at once: two paused nodes
 * cost one timeout, where one after the other they would cost 3 s at
 * least.  Tapped (an audit), it asks them one by one, in the calling
 * thread: every probe seen, in order. */
START_TEST(test_snapshot_asks_nodes_in_waves)
{
	struct probes p = {{0}, 0};
	struct conn_trace t = {.sent = saw_probe, .arg = &p};
	struct local_cluster_opts o = it_cluster_opts();
	struct local_cluster lc = LOCAL_CLUSTER_INIT;
	struct err e = ERR_INIT;
	struct snapshot s;
	uint64_t t0, took;
	size_t i, down = 0;
	int rc;

	it_require_redis("wire");
	o.persistence = PERSIST_NONE;
	ck_assert_msg(local_cluster_start(&lc, &o, &e) == 0, "%s", e.msg);
	conn_trace_set(&t);
	ck_assert_msg(snapshot_take(&s, "127.0.0.1", lc.nodes[0].port, 2000, &e) == 0, "%s",
		      e.msg);
	conn_trace_set(NULL);
	ck_assert_uint_eq(s.n, lc.n);
	ck_assert_int_eq(p.n, (int)s.n);
	for (i = 0; i < s.n; i++)
		ck_assert_int_eq(p.ports[i], s.nodes[i].port);
	snapshot_release(&s);
	ck_assert_int_eq(proc_signal(&lc.nodes[1].proc, SIGSTOP, &e), 0);
	ck_assert_int_eq(proc_signal(&lc.nodes[2].proc, SIGSTOP, &e), 0);
	t0 = clock_now_ms();
	rc = snapshot_take(&s, "127.0.0.1", lc.nodes[0].port, 1500, &e);
	took = clock_now_ms() - t0;
	proc_signal(&lc.nodes[1].proc, SIGCONT, NULL);
	proc_signal(&lc.nodes[2].proc, SIGCONT, NULL);
	ck_assert_msg(rc == 0, "%s", e.msg);
	for (i = 0; i < s.n; i++)
		down += !s.nodes[i].reachable;
	snapshot_release(&s);
	ck_assert_uint_eq(down, 2);
	ck_assert_msg(took < 2900, "two paused nodes took %llu ms", (unsigned long long)took);
	local_cluster_stop(&lc, false);
}
END_TEST

Suite *
wire_suite(void)
{
	Suite *s = suite_create("wire");
	TCase *tc = tcase_create("wire");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_read_integers_into_an_array);
	tcase_add_test(tc, test_fan_integers_each_part_its_own);
	tcase_add_test(tc, test_fan_times_out_a_silent_link_alone);
	tcase_add_test(tc, test_snapshot_asks_nodes_in_waves);
	suite_add_tcase(s, tc);
	return s;
}
