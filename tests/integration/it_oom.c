/*
 * Integration tests of the oom fault on real redis-server processes:
 * the kernel's OOM killer kills a node whose memory cgroup was cut (the
 * group's oom_kill counter moves, the wait status is SIGKILL), a full
 * node answers -OOM under maxmemory and takes writes again once
 * healed, and nothing is left in the cgroup hierarchy afterwards.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cluster/conn.h"
#include "common/clock.h"
#include "common/fs.h"
#include "common/xmalloc.h"
#include "harness/local/localcluster.h"
#include "injectors/injector.h"
#include "injectors/memcg.h"
#include "tests/support/itutil.h"
#include "tests/support/runner.h"

extern const struct injector_ops oom_injector;

#define MB (1 << 20)

struct node {
	struct proc proc;
	struct target t;
	struct fault *f;
	char dir[PATH_MAX];
	char tag[32];
	int port;
};

static int
child_hook(void *arg)
{
	struct node *n = arg;

	return n->f->ops->in_child ? n->f->ops->in_child(n->f, &n->t) : 0;
}

static int
command(void *arg, const char *const *argv, char *out, size_t n, struct err *e)
{
	struct node *nd = arg;

	return conn_ask_text("127.0.0.1", nd->port, 2000, argv, out, n, e);
}

static int
free_port(void)
{
	int port = 20000 + (int)(getpid() % 20000);

	while (!port_pair_is_free(port))
		port++;
	return port;
}

/* A standalone redis-server with the fault's prepare() and in_child(). */
static void
start(struct node *n, const char *mechanism, int headroom_mb)
{
	char headroom[16], port[16], conf[PATH_MAX + 16];
	struct param p[] = {{"mechanism", mechanism, 1}, {"headroom_mb", headroom, 2}};
	struct params ps = {p, 2};
	struct err e = ERR_INIT;
	const char *argv[16];
	uint64_t deadline;
	struct conn *c = NULL;

	it_require_redis("oom");
	memset(n, 0, sizeof(*n));
	snprintf(headroom, sizeof(headroom), "%d", headroom_mb);
	n->f = fault_new(&oom_injector, &ps, &e);
	ck_assert_msg(n->f != NULL, "%s", e.msg);
	if (oom_injector.check(n->f, &e) < 0) {
		fault_free(n->f);
		test_skip("oom: %s", e.msg);
	}
	it_mkdtemp(n->dir, sizeof(n->dir), "sq-oom");
	n->port = free_port();
	snprintf(n->tag, sizeof(n->tag), "sq%d-%d", (int)getpid(), n->port);
	n->t = (struct target){.proc = &n->proc, .dir = n->dir, .port = n->port, .tag = n->tag,
			       .command = command, .command_arg = n};
	ck_assert_msg(oom_injector.prepare(n->f, &n->t, &e) == 0, "%s", e.msg);
	snprintf(port, sizeof(port), "%d", n->port);
	snprintf(conf, sizeof(conf), "%s/redis.log", n->dir);
	argv[0] = it_server();
	argv[1] = "--port";
	argv[2] = port;
	argv[3] = "--bind";
	argv[4] = "127.0.0.1";
	argv[5] = "--dir";
	argv[6] = n->dir;
	argv[7] = "--save";
	argv[8] = "";
	argv[9] = "--appendonly";
	argv[10] = "no";
	argv[11] = "--logfile";
	argv[12] = conf;
	argv[13] = NULL;
	n->proc.argv = argv;
	n->proc.in_child = child_hook;
	n->proc.in_child_arg = n;
	ck_assert_msg(proc_start(&n->proc, &e) == 0, "%s", e.msg);
	n->proc.argv = NULL;
	deadline = clock_now_ms() + 10000;
	while ((c = conn_open("127.0.0.1", n->port, 500, NULL)) == NULL) {
		ck_assert_msg(clock_now_ms() < deadline && proc_is_running(&n->proc),
			      "redis-server on %d did not start", n->port);
		clock_sleep_ms(10);
	}
	conn_free(c);
}

static void
stop(struct node *n)
{
	proc_kill(&n->proc);
	fault_free(n->f); /* reverts and releases */
	fs_rm_rf(n->dir, NULL);
}

/* SET key value-of-size-bytes; the reply's type, or -1 when the
 * connection broke. */
static int
set_big(struct conn *c, int i, size_t size, char *err, size_t n)
{
	char key[32], *val = xmalloc(size);
	const char *argv[3] = {"SET", key, val};
	size_t lens[3] = {3, 0, size}, k;
	struct reply *r;
	int type;

	for (k = 0; k < size; k++)
		val[k] = (char)('a' + (k * 7 + (size_t)i * 13 + k / 97) % 26);
	lens[1] = (size_t)snprintf(key, sizeof(key), "big:%d", i);
	r = conn_cmd_argv(c, 3, argv, lens, NULL);
	free(val);
	if (r == NULL)
		return -1;
	type = r->type;
	if (r->type == REPLY_ERROR)
		snprintf(err, n, "%s", r->str);
	reply_free(r);
	return type;
}

START_TEST(test_oom_cgroup_gets_the_node_killed_by_the_kernel)
{
	struct node n;
	struct err e = ERR_INIT;
	char effect[512], cgpath[PATH_MAX + 64], line[256];
	struct conn *c;
	struct stat st;
	FILE *f;
	int i, type = 0;
	bool inside = false;

	start(&n, "cgroup", 2);
	/* the node is in its own group from its first instruction */
	snprintf(cgpath, sizeof(cgpath), "/proc/%d/cgroup", (int)n.proc.pid);
	f = fopen(cgpath, "r");
	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f))
		inside |= strstr(line, n.tag) != NULL;
	fclose(f);
	ck_assert_msg(inside, "redis-server is not in cgroup %s", n.tag);

	c = it_conn(n.port);
	for (i = 0; i < 10; i++)
		ck_assert_int_eq(set_big(c, i, MB, line, sizeof(line)), REPLY_STATUS);
	ck_assert_msg(oom_injector.inject(n.f, &n.t, &e) == 0, "%s", e.msg);
	oom_injector.describe(n.f, effect, sizeof(effect));
	ck_assert_msg(strstr(effect, "no OOM kill yet") != NULL, "%s", effect);
	/* 1 MB values on top of a 2 MB headroom: the kernel steps in */
	for (i = 10; i < 60 && (type = set_big(c, i, MB, line, sizeof(line))) >= 0; i++)
		;
	conn_free(c);
	ck_assert_msg(type < 0, "the node took 50 MB over its limit");
	ck_assert_int_eq(proc_wait(&n.proc, 5000, NULL), 0);
	ck_assert(WIFSIGNALED(n.proc.status) && WTERMSIG(n.proc.status) == SIGKILL);
	oom_injector.describe(n.f, effect, sizeof(effect));
	ck_assert_msg(strstr(effect, "OOM-killed by the kernel") != NULL, "%s", effect);
	ck_assert_msg(strstr(effect, "oom_kill 1") != NULL, "%s", effect);
	ck_assert_msg(strstr(effect, "killed by signal 9") != NULL, "%s", effect);

	/* release removes the group */
	{
		char base[PATH_MAX], dir[PATH_MAX + 64];
		enum memcg_version v;

		ck_assert_int_eq(memcg_base(base, sizeof(base), &v, NULL), 0);
		snprintf(dir, sizeof(dir), "%s/%s", base, n.tag);
		ck_assert_int_eq(stat(dir, &st), 0);
		stop(&n);
		ck_assert_msg(stat(dir, &st) < 0 && errno == ENOENT, "%s is left behind", dir);
	}
}
END_TEST

START_TEST(test_oom_maxmemory_answers_oom_until_healed)
{
	struct node n;
	struct err e = ERR_INIT;
	char effect[512], err[256], *val;
	struct conn *c;
	int i, type = REPLY_STATUS;

	start(&n, "maxmemory", 1);
	c = it_conn(n.port);
	for (i = 0; i < 5; i++)
		ck_assert_int_eq(set_big(c, i, MB, err, sizeof(err)), REPLY_STATUS);
	ck_assert_msg(oom_injector.inject(n.f, &n.t, &e) == 0, "%s", e.msg);
	for (i = 5; i < 10 && (type = set_big(c, i, MB, err, sizeof(err))) == REPLY_STATUS; i++)
		;
	ck_assert_int_eq(type, REPLY_ERROR);
	ck_assert_msg(strncmp(err, "OOM", 3) == 0, "%s", err);
	oom_injector.describe(n.f, effect, sizeof(effect));
	ck_assert_msg(strstr(effect, "-OOM replies") && !strstr(effect, " 0 -OOM"), "%s",
		      effect);
	/* healed: the old settings are back and writes work again */
	ck_assert_msg(oom_injector.revert(n.f, &e) == 0, "%s", e.msg);
	ck_assert_int_eq(set_big(c, 99, MB, err, sizeof(err)), REPLY_STATUS);
	val = conn_cmd_str(c, NULL, "INFO", "memory", NULL);
	ck_assert_ptr_nonnull(val);
	ck_assert_msg(strstr(val, "maxmemory:0\r\n") != NULL, "maxmemory not restored");
	free(val);
	ck_assert_int_eq(oom_injector.revert(n.f, &e), 0); /* twice is fine */
	conn_free(c);
	stop(&n);
}
END_TEST

/* clean removes a group whose run is gone, and only that one. */
START_TEST(test_memcg_clean_removes_only_dead_runs_groups)
{
	char base[PATH_MAX], dead[PATH_MAX + 64], live[PATH_MAX + 64];
	enum memcg_version v;
	struct err e = ERR_INIT;
	struct stat st;
	pid_t pid;
	int removed, status;

	if (geteuid() != 0 || memcg_base(base, sizeof(base), &v, &e) < 0)
		test_skip("oom: %s", geteuid() != 0 ? "not root" : e.msg);
	/* a pid that existed and is gone */
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(0);
	waitpid(pid, &status, 0);
	snprintf(dead, sizeof(dead), "%s/sq%d-7000", base, (int)pid);
	snprintf(live, sizeof(live), "%s/sq%d-7000", base, (int)getpid());
	ck_assert_int_eq(mkdir(dead, 0755), 0);
	ck_assert_int_eq(mkdir(live, 0755), 0);
	ck_assert_msg(memcg_clean(&removed, &e) == 0, "%s", e.msg);
	ck_assert_int_ge(removed, 1);
	ck_assert(stat(dead, &st) < 0);
	ck_assert_int_eq(stat(live, &st), 0);
	ck_assert_int_eq(rmdir(live), 0);
}
END_TEST

Suite *
oom_suite(void)
{
	Suite *s = suite_create("oom");
	TCase *tc = tcase_create("real");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_oom_cgroup_gets_the_node_killed_by_the_kernel);
	tcase_add_test(tc, test_oom_maxmemory_answers_oom_until_healed);
	tcase_add_test(tc, test_memcg_clean_removes_only_dead_runs_groups);
	suite_add_tcase(s, tc);
	return s;
}
