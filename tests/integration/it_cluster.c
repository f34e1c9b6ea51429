/*
 * Integration tests of harness/local/localcluster.c, harness/local/load.c and the
 * `cluster up|down` command, on real redis-server processes.
 */
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cluster/topology.h"
#include "common/clock.h"
#include "common/proc.h"
#include "harness/local/load.h"
#include "harness/local/localcluster.h"
#include "tests/support/itutil.h"
#include "tests/support/runner.h"

static struct topology
nodes_of(int port)
{
	struct topology t = TOPOLOGY_INIT;
	struct err e = ERR_INIT;
	struct conn *c = it_conn(port);
	char *text = conn_cmd_str(c, &e, "CLUSTER", "NODES", NULL);

	ck_assert_msg(text != NULL, "%s", e.msg);
	ck_assert_msg(topology_parse(&t, text, &e) == 0, "%s", e.msg);
	free(text);
	conn_free(c);
	return t;
}

START_TEST(test_cluster_up_forms_masters_and_replicas)
{
	struct local_cluster_opts o = it_cluster_opts();
	struct local_cluster lc;
	struct err e = ERR_INIT;
	pid_t pids[6];
	size_t i, j;

	it_require_redis("cluster");
	o.masters = 3;
	o.replicas = 1;
	o.persistence = PERSIST_NONE;
	ck_assert_msg(local_cluster_start(&lc, &o, &e) == 0, "%s", e.msg);
	ck_assert_uint_eq(lc.n, 6);
	for (i = 0; i < lc.n; i++) {
		struct topology t = nodes_of(lc.nodes[i].port);
		int owner[CLUSTER_SLOTS];

		pids[i] = lc.nodes[i].proc.pid;
		ck_assert_uint_eq(t.n, 6);
		ck_assert_int_eq(topology_slot_owners(&t, owner), CLUSTER_SLOTS);
		for (j = 0; j < lc.n; j++) {
			const struct cluster_node *n = topology_find(&t, lc.nodes[j].id);

			ck_assert_ptr_nonnull(n);
			ck_assert_int_eq(n->port, lc.nodes[j].port);
			if (lc.nodes[j].is_master) {
				ck_assert(n->flags & NODE_MASTER);
				ck_assert_int_eq(cluster_node_slot_count(n),
						 (int)(j == 0 ? 5461 : j == 1 ? 5461 : 5462));
			} else {
				ck_assert(n->flags & NODE_REPLICA);
				ck_assert_str_eq(n->master_id,
						 lc.nodes[lc.nodes[j].master].id);
			}
		}
		topology_release(&t);
	}
	local_cluster_stop(&lc, false);
	for (i = 0; i < 6; i++)
		ck_assert_msg(!it_pid_alive(pids[i]), "node pid %d survived stop", (int)pids[i]);
}
END_TEST

START_TEST(test_load_puts_every_key_on_its_owner)
{
	struct local_cluster_opts o = it_cluster_opts();
	struct dataset d = {.keys = 100000, .seed = 11, .value_size = 24};
	struct local_cluster lc;
	struct err e = ERR_INIT;
	long long total = 0, n;
	char key[DATASET_KEY_MAX], val[24];
	struct reply *r;
	size_t i;

	it_require_redis("cluster");
	o.persistence = PERSIST_NONE;
	ck_assert_msg(local_cluster_start(&lc, &o, &e) == 0, "%s", e.msg);
	ck_assert_msg(dataset_load(&d, "127.0.0.1", lc.nodes[1].port, 0, &e) == 0,
		      "%s", e.msg);
	for (i = 0; i < lc.n; i++) {
		struct conn *c = it_conn(lc.nodes[i].port);

		ck_assert_int_eq(conn_cmd_int(c, &n, &e, "DBSIZE", NULL), 0);
		ck_assert_int_gt(n, 30000); /* about a third each */
		total += n;
		conn_free(c);
	}
	ck_assert_int_eq(total, 100000);
	/* a value read back, through whichever node owns it */
	{
		struct conn *c = it_conn(lc.nodes[0].port);
		size_t kl = dataset_key(99999, key);

		r = conn_cmd(c, &e, "GET", key, NULL);
		ck_assert_ptr_nonnull(r);
		if (r->type == REPLY_ERROR) { /* MOVED: ask the owner */
			char host[64];
			int port, slot;

			ck_assert_int_eq(sscanf(r->str, "MOVED %d %63[^:]:%d", &slot, host, &port), 3);
			ck_assert_int_eq(slot, (int)key_slot(key, kl));
			reply_free(r);
			conn_free(c);
			c = it_conn(port);
			r = conn_cmd(c, &e, "GET", key, NULL);
		}
		dataset_value(&d, 99999, val);
		ck_assert_int_eq(r->type, REPLY_STRING);
		ck_assert_uint_eq(r->len, 24);
		ck_assert(memcmp(r->str, val, 24) == 0);
		reply_free(r);
		conn_free(c);
	}
	local_cluster_stop(&lc, false);
}
END_TEST

START_TEST(test_start_fails_cleanly_on_bad_binary)
{
	struct local_cluster_opts o = it_cluster_opts();
	struct local_cluster lc;
	struct err e = ERR_INIT;

	o.redis_server = "/nonexistent/redis-server";
	ck_assert_int_eq(local_cluster_start(&lc, &o, &e), -1);
	ck_assert_msg(strstr(e.msg, "start '/nonexistent/redis-server': No such file") != NULL,
		      "%s", e.msg);
	ck_assert_uint_eq(lc.n, 0);
}
END_TEST

START_TEST(test_start_refuses_base_port_in_use)
{
	struct local_cluster_opts o = it_cluster_opts();
	struct local_cluster a, b;
	struct err e = ERR_INIT;
	char want[64];

	it_require_redis("cluster");
	o.masters = 1;
	o.persistence = PERSIST_NONE;
	ck_assert_msg(local_cluster_start(&a, &o, &e) == 0, "%s", e.msg);
	o.base_port = a.nodes[0].port;
	ck_assert_int_eq(local_cluster_start(&b, &o, &e), -1);
	snprintf(want, sizeof(want), "port %d or its bus port %d is in use",
		 o.base_port, o.base_port + 10000);
	ck_assert_str_eq(e.msg, want);
	local_cluster_stop(&a, false);
}
END_TEST

/* A redis-server that dies at start: the error quotes its log. */
START_TEST(test_start_reports_node_log_when_it_dies)
{
	struct local_cluster_opts o = it_cluster_opts();
	struct local_cluster lc;
	struct err e = ERR_INIT;
	char script[] = "/tmp/sq-fake-redis-XXXXXX";
	int fd;

	it_require_redis("cluster");
	fd = mkstemp(script);
	ck_assert_int_ge(fd, 0);
	dprintf(fd, "#!/bin/sh\necho 'fatal: pretend the disk is full'\nexit 1\n");
	close(fd);
	chmod(script, 0755);
	o.redis_server = script;
	o.masters = 1;
	ck_assert_int_eq(local_cluster_start(&lc, &o, &e), -1);
	unlink(script);
	ck_assert_msg(strstr(e.msg, "exited with status 1: fatal: pretend the disk is full"),
		      "%s", e.msg);
}
END_TEST

START_TEST(test_cli_cluster_up_base_port_then_down)
{
	const char *bin = getenv("SQ_BIN") ? getenv("SQ_BIN") : "build/shardquake";
	char dir[PATH_MAX], pids_path[PATH_MAX + 16];
	int base = 0, port, pid, n = 0;
	pid_t seen[3];
	FILE *f;

	it_require_redis("cluster");
	it_mkdtemp(dir, sizeof(dir), "sq-it-cli");
	/* three consecutive free pairs */
	for (port = 24000 + (getpid() % 4000); port < 40000 && !base; port += 3)
		if (port_pair_is_free(port) && port_pair_is_free(port + 1) &&
		    port_pair_is_free(port + 2))
			base = port;
	ck_assert_int_gt(base, 0);
	ck_assert_int_eq(it_sh("%s cluster up --masters 3 --base-port %d --keys 1000 "
			       "--persistence none --dir %s > %s/up.out 2>&1",
			       bin, base, dir, dir), 0);
	snprintf(pids_path, sizeof(pids_path), "%s/cluster.pids", dir);
	f = fopen(pids_path, "r");
	ck_assert_ptr_nonnull(f);
	while (n < 3 && fscanf(f, "%d %d", &port, &pid) == 2) {
		ck_assert_int_eq(port, base + n); /* masters in order */
		seen[n++] = pid;
	}
	fclose(f);
	ck_assert_int_eq(n, 3);
	ck_assert(it_pid_alive(seen[0])); /* survived the command's exit */
	ck_assert_int_eq(it_sh("%s cluster down --dir %s > /dev/null", bin, dir), 0);
	for (n = 0; n < 3; n++)
		ck_assert(!it_pid_alive(seen[n]));
	ck_assert_int_eq(it_sh("%s cluster down --dir %s 2>/dev/null", bin, dir), 1);
	it_sh("rm -rf %s", dir);
}
END_TEST

/*
 * `cluster up` and `cluster down` as a user runs them.  The nodes of
 * `up` are detached (they outlive the command): a test that fails before
 * its `down` would leave them running, so each test uses a directory
 * named here, and the case's teardown, in Check's own process, runs
 * `down` on every one of them.
 */
static const char *const cli_dirs[] = {"sq-it-down-restarted", "sq-it-down-in-use",
				       "sq-it-up-force", NULL};

static const char *
sq_bin(void)
{
	return getenv("SQ_BIN") ? getenv("SQ_BIN") : "build/shardquake";
}

static void
cli_dir(char *out, size_t n, const char *name)
{
	const char *top = getenv("TMPDIR");

	snprintf(out, n, "%s/%s", top && *top ? top : "/tmp", name);
}

static void
cli_teardown(void)
{
	const char *const *d;
	char dir[PATH_MAX];

	for (d = cli_dirs; *d; d++) {
		cli_dir(dir, sizeof(dir), *d);
		it_sh("test -d %s && %s cluster down --dir %s > /dev/null 2>&1", dir, sq_bin(), dir);
	}
}

/* The "PORT PID" lines of DIR/cluster.pids; returns how many. */
static int
read_pids(const char *dir, int *ports, pid_t *pids, int max)
{
	char path[PATH_MAX + 16];
	int n = 0, port, pid;
	FILE *f;

	snprintf(path, sizeof(path), "%s/cluster.pids", dir);
	f = fopen(path, "r");
	ck_assert_msg(f != NULL, "no %s", path);
	while (n < max && fscanf(f, "%d %d", &port, &pid) == 2) {
		ports[n] = port;
		pids[n++] = pid;
	}
	fclose(f);
	return n;
}

/* Until `pid` is gone (bounded: 10 s). */
static bool
gone(pid_t pid)
{
	uint64_t deadline = clock_now_ms() + 10000;

	while (it_pid_alive(pid) && clock_now_ms() < deadline)
		clock_sleep_ms(10);
	return !it_pid_alive(pid);
}

/* Until a server answers PING on `port` (bounded: 10 s). */
static bool
answers(int port)
{
	uint64_t deadline = clock_now_ms() + 10000;
	bool ok = false;

	while (!ok && clock_now_ms() < deadline) {
		struct conn *c = conn_open("127.0.0.1", port, 500, NULL);
		struct reply *r = c ? conn_cmd(c, NULL, "PING", NULL) : NULL;

		ok = r && r->type == REPLY_STATUS;
		reply_free(r);
		conn_free(c);
		if (!ok)
			clock_sleep_ms(20);
	}
	return ok;
}

/* Kills the node on ports[i] that `up` started and starts it again as
 * our child: by hand, as a user or a repair's --restart-cmd would, with
 * a new pid.  argv: the new command line. */
static void
restart_by_hand(pid_t old, int port, struct proc *p, const char *const *argv, const char *cwd)
{
	struct err e = ERR_INIT;

	ck_assert_int_eq(kill(old, SIGKILL), 0);
	ck_assert(gone(old));
	*p = (struct proc)PROC_INIT;
	p->argv = argv;
	p->cwd = cwd;
	p->out_path = "/dev/null"; /* one has no logfile: its log is not this suite's */
	ck_assert_msg(proc_start(p, &e) == 0, "%s", e.msg);
	ck_assert_msg(answers(port), "node %d restarted by hand does not answer", port);
	ck_assert_int_ne(p->pid, old);
}

/* Issue 14: `down` said "stopped 5 nodes", left the sixth, restarted by
 * hand, running and deleted its directory under it.  One node restarted
 * from its own redis.conf (found by its working directory), one from
 * elsewhere with only its nodes.conf (found by what it answers on its
 * port): `down` stops both, then removes every folder. */
START_TEST(test_cli_cluster_down_stops_nodes_restarted_by_hand)
{
	char dir[PATH_MAX], conf[PATH_MAX + 32], nodes[PATH_MAX + 32], port1[16];
	char elsewhere[PATH_MAX];
	int ports[3];
	pid_t pids[3];
	struct proc again[2];
	const char *argv0[] = {it_server(), conf, NULL};
	const char *argv1[] = {it_server(), "--port", port1, "--bind", "127.0.0.1",
			       "--cluster-enabled", "yes", "--cluster-config-file", nodes,
			       "--save", "", "--appendonly", "no", NULL};
	struct err e = ERR_INIT;
	int i;

	it_require_redis("cluster");
	cli_dir(dir, sizeof(dir), cli_dirs[0]);
	it_mkdtemp(elsewhere, sizeof(elsewhere), "sq-it-elsewhere");
	ck_assert_int_eq(it_sh("%s cluster up --masters 3 --persistence none --dir %s > "
			       "/dev/null", sq_bin(), dir), 0);
	ck_assert_int_eq(read_pids(dir, ports, pids, 3), 3);
	snprintf(conf, sizeof(conf), "%s/node-%d/redis.conf", dir, ports[0]);
	restart_by_hand(pids[0], ports[0], &again[0], argv0, "/");
	snprintf(port1, sizeof(port1), "%d", ports[1]);
	snprintf(nodes, sizeof(nodes), "%s/node-%d/nodes.conf", dir, ports[1]);
	restart_by_hand(pids[1], ports[1], &again[1], argv1, elsewhere);

	ck_assert_int_eq(it_sh("%s cluster down --dir %s > %s/out 2>&1", sq_bin(), dir,
			       elsewhere), 0);
	ck_assert_int_eq(it_sh("grep -qx 'stopped 3 nodes in %s' %s/out", dir, elsewhere), 0);
	for (i = 0; i < 2; i++)
		ck_assert_msg(proc_wait(&again[i], 10000, &e) == 0, "node %d restarted by hand "
			      "still runs: %s", ports[i], e.msg);
	ck_assert(gone(pids[2]));
	ck_assert_int_eq(it_sh("test ! -e %s", dir), 0);
	it_sh("rm -rf %s", elsewhere);
}
END_TEST

/* A folder some process still uses is never removed: `down` stops the
 * nodes, keeps that folder, names the process and exits 1; once it is
 * gone, `down` again removes the rest. */
START_TEST(test_cli_cluster_down_keeps_a_folder_in_use)
{
	char dir[PATH_MAX], node[PATH_MAX + 32];
	const char *argv[] = {"sleep", "120", NULL};
	struct proc shell = PROC_INIT;
	struct err e = ERR_INIT;
	int ports[1];
	pid_t pids[1];

	it_require_redis("cluster");
	cli_dir(dir, sizeof(dir), cli_dirs[1]);
	ck_assert_int_eq(it_sh("%s cluster up --masters 1 --persistence none --dir %s > "
			       "/dev/null", sq_bin(), dir), 0);
	ck_assert_int_eq(read_pids(dir, ports, pids, 1), 1);
	snprintf(node, sizeof(node), "%s/node-%d", dir, ports[0]);
	shell.argv = argv;
	shell.cwd = node; /* a user's shell, cd'd into the node's folder */
	ck_assert_msg(proc_start(&shell, &e) == 0, "%s", e.msg);

	ck_assert_int_eq(it_sh("%s cluster down --dir %s > %s.out 2>&1", sq_bin(), dir, dir), 1);
	ck_assert(gone(pids[0]));
	ck_assert_int_eq(it_sh("grep -q 'left %s: pid %d (sleep) has its working directory "
			       "in it' %s.out", node, (int)shell.pid, dir), 0);
	ck_assert_int_eq(it_sh("test -f %s/redis.conf", node), 0);

	proc_kill(&shell);
	ck_assert_int_eq(it_sh("%s cluster down --dir %s > %s.out 2>&1", sq_bin(), dir, dir), 0);
	ck_assert_int_eq(it_sh("test ! -e %s", dir), 0);
	it_sh("rm -f %s.out", dir);
}
END_TEST

/* `up` on a directory with a cluster stopped it unasked.  Now it
 * refuses, running or stopped, and --force stops it and removes all its
 * node folders (not only those whose ports the new cluster takes). */
START_TEST(test_cli_cluster_up_needs_force_over_a_cluster)
{
	char dir[PATH_MAX];
	int ports[2], ports2[2];
	pid_t pids[2], pids2[2];

	it_require_redis("cluster");
	cli_dir(dir, sizeof(dir), cli_dirs[2]);
	ck_assert_int_eq(it_sh("%s cluster up --masters 2 --persistence none --dir %s > "
			       "/dev/null", sq_bin(), dir), 0);
	ck_assert_int_eq(read_pids(dir, ports, pids, 2), 2);
	ck_assert_int_eq(it_sh("%s cluster up --masters 1 --dir %s > %s.out 2>&1", sq_bin(), dir,
			       dir), 1);
	ck_assert_int_eq(it_sh("grep -q 'a cluster runs in %s .* give --force to replace it' "
			       "%s.out", dir, dir), 0);
	ck_assert(it_pid_alive(pids[0]) && it_pid_alive(pids[1]));

	ck_assert_int_eq(it_sh("%s cluster up --masters 1 --persistence none --force --dir %s "
			       "> %s.out 2>&1", sq_bin(), dir, dir), 0);
	ck_assert(gone(pids[0]) && gone(pids[1]));
	ck_assert_int_eq(read_pids(dir, ports2, pids2, 2), 1);
	/* the old folders are gone, whatever ports the new node took */
	ck_assert_int_eq(it_sh("test \"$(ls %s)\" = \"$(printf 'cluster.pids\\nnode-%d')\"", dir,
			       ports2[0]), 0);

	/* the folders of a stopped cluster are not removed unasked either */
	ck_assert_int_eq(it_sh("%s cluster down --keep-files --dir %s > /dev/null", sq_bin(),
			       dir), 0);
	ck_assert_int_eq(it_sh("%s cluster up --masters 1 --dir %s > %s.out 2>&1", sq_bin(), dir,
			       dir), 1);
	ck_assert_int_eq(it_sh("grep -q 'holds the node folders of a stopped cluster' %s.out",
			       dir), 0);
	ck_assert_int_eq(it_sh("test -d %s/node-%d", dir, ports2[0]), 0);
	ck_assert_int_eq(it_sh("%s cluster up --masters 1 --persistence none --force --dir %s "
			       "> /dev/null 2>&1 && %s cluster down --dir %s > /dev/null", sq_bin(),
			       dir, sq_bin(), dir), 0);
	ck_assert_int_eq(it_sh("test ! -e %s", dir), 0);
	it_sh("rm -f %s.out", dir);
}
END_TEST

Suite *
cluster_suite(void)
{
	Suite *s = suite_create("cluster");
	TCase *tc = tcase_create("local");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_cluster_up_forms_masters_and_replicas);
	tcase_add_test(tc, test_load_puts_every_key_on_its_owner);
	tcase_add_test(tc, test_start_fails_cleanly_on_bad_binary);
	tcase_add_test(tc, test_start_refuses_base_port_in_use);
	tcase_add_test(tc, test_start_reports_node_log_when_it_dies);
	tcase_add_test(tc, test_cli_cluster_up_base_port_then_down);
	suite_add_tcase(s, tc);
	tc = tcase_create("cli");
	tcase_set_timeout(tc, 120);
	tcase_add_unchecked_fixture(tc, NULL, cli_teardown);
	tcase_add_test(tc, test_cli_cluster_down_stops_nodes_restarted_by_hand);
	tcase_add_test(tc, test_cli_cluster_down_keeps_a_folder_in_use);
	tcase_add_test(tc, test_cli_cluster_up_needs_force_over_a_cluster);
	suite_add_tcase(s, tc);
	return s;
}
