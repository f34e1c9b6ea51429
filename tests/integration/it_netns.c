/*
 * Integration tests of the sandbox network (netns) and of cutting and
 * degrading it (netcut): real namespaces, real packets.  Each test is
 * its own process (Check's fork mode) and first moves into a private
 * network namespace, so that whatever it makes dies with it.  Servers
 * and clients inside a node's namespace are forked children that join
 * it with netns_node_join(), as the harness's nodes will.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/fs.h"
#include "common/proc.h"
#include "injectors/netcut.h"
#include "injectors/netns.h"
#include "tests/support/itutil.h"
#include "tests/support/runner.h"

#define PORT   7000
#define CUT_MS 500 /* how long a connect may take before "timed out" */
#define DGRAMS 20

static struct netns_net *net;
static struct netns_node *node[3];
static int nnodes;
static pid_t servers[8];
static int nservers;
static int connect_ms = CUT_MS; /* what dial() waits for */
static struct err e = ERR_INIT; /* each test is a process of its own */

/* A call that returns 0, or -1 with `e` set, must succeed. */
#define OK(call) ck_assert_msg((call) == 0, "%s", e.msg)

/* Skips the test unless it can have a private network namespace; the
 * test is in one from then on. */
static void
enter(void)
{
	static bool entered;

	if (entered)
		return;
	entered = true;

	if (geteuid() != 0)
		test_skip("netns: needs root (CAP_SYS_ADMIN, CAP_NET_ADMIN)");
	if (netns_enter_private(&e) < 0) {
		if (e.code == EPERM)
			test_skip("netns: %s", e.msg);
		ck_abort_msg("%s", e.msg);
	}
}

static void
up(int n)
{
	int i;

	enter();
	net = netns_net_new(&e);
	ck_assert_msg(net != NULL, "%s", e.msg);
	for (i = 0; i < n; i++) {
		node[i] = netns_node_new(net, i, &e);
		ck_assert_msg(node[i] != NULL, "%s", e.msg);
	}
	nnodes = n;
}

static void
down(void)
{
	while (nservers > 0) {
		kill(servers[--nservers], SIGKILL);
		waitpid(servers[nservers], NULL, 0);
	}
	while (nnodes > 0)
		netns_node_free(node[--nnodes]);
	netns_net_free(net);
	net = NULL;
}

static struct sockaddr_in
sockaddr_of(const struct netns_node *n)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};

	sa.sin_addr.s_addr = htonl(n->addr);
	sa.sin_port = htons(PORT);
	return sa;
}

/* Connects to `to`:PORT from the calling process's namespace: 0 and the
 * (blocking) socket in *out, or the errno (ETIMEDOUT once connect_ms
 * pass). */
static int
dial(const struct netns_node *to, int *out)
{
	struct sockaddr_in sa = sockaddr_of(to);
	int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), err = 0;
	struct pollfd p = {.fd = s, .events = POLLOUT};
	socklen_t len = sizeof(err);

	if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		err = errno;
		if (err == EINPROGRESS)
			err = poll(&p, 1, connect_ms) == 1 ? 0 : ETIMEDOUT;
		if (err == 0)
			getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &len);
	}
	if (err != 0) {
		close(s);
		return err;
	}
	fcntl(s, F_SETFL, 0);
	*out = s;
	return 0;
}

/* --- children: each runs in one end's namespace and reports by its exit
 * status; they die with the test (PDEATHSIG) --- */

static pid_t
child_in(const struct netns_node *at, int (*fn)(const struct netns_node *, int),
	 int arg)
{
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (at->fd >= 0 && netns_node_join(at) < 0)
			_exit(125);
		_exit(fn(at, arg));
	}
	return pid;
}

static int
exit_status(pid_t pid)
{
	int st;

	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(WIFEXITED(st), "child %s", proc_describe_status(st));
	return WEXITSTATUS(st);
}

/* Servers on `at`'s address, PORT: a TCP echo (one client at a time), or
 * a UDP counter (exits with the number of datagrams once 500 ms pass
 * without one).  Each writes a byte on ready_fd once it is bound; down()
 * stops the TCP ones. */
static int ready_fd = -1;

static int
tcp_echo(const struct netns_node *at, int unused)
{
	struct sockaddr_in sa = sockaddr_of(at);
	int s = socket(AF_INET, SOCK_STREAM, 0), c, one = 1;
	char buf[512];
	ssize_t n;

	(void)unused;
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(s, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(s, 64) < 0)
		return errno;
	if (write(ready_fd, "r", 1) != 1)
		return 1;
	for (;;) {
		c = accept(s, NULL, NULL);
		if (c < 0)
			continue;
		while ((n = read(c, buf, sizeof(buf))) > 0)
			if (write(c, buf, (size_t)n) != n)
				break;
		close(c);
	}
}

static int
udp_count(const struct netns_node *at, int unused)
{
	struct sockaddr_in sa = sockaddr_of(at);
	int s = socket(AF_INET, SOCK_DGRAM, 0), count = 0;
	struct pollfd p = {.fd = s, .events = POLLIN};
	char buf[64];

	(void)unused;
	if (bind(s, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return 255;
	if (write(ready_fd, "r", 1) != 1)
		return 255;
	while (poll(&p, 1, 500) == 1)
		if (recv(s, buf, sizeof(buf), 0) >= 0)
			count++;
	return count > 254 ? 254 : count;
}

static pid_t
server(const struct netns_node *at, int (*fn)(const struct netns_node *, int))
{
	int fds[2];
	pid_t pid;
	char c;

	ck_assert_int_eq(pipe(fds), 0);
	ready_fd = fds[1];
	pid = child_in(at, fn, 0);
	close(fds[1]);
	ck_assert_msg(read(fds[0], &c, 1) == 1,
		      "server in node %d did not start: %d", at->index,
		      exit_status(pid));
	close(fds[0]);
	return pid;
}

static void
echo_servers(void)
{
	int i;

	for (i = 0; i < nnodes; i++)
		servers[nservers++] = server(node[i], tcp_echo);
}

static int
tcp_connect(const struct netns_node *at, int arg)
{
	int s, rc;

	(void)at;
	rc = dial(node[arg], &s);
	if (rc == 0)
		close(s);
	return rc;
}

/* From `from` to node `to`: 0 or the errno. */
static int
try_connect(const struct netns_node *from, int to)
{
	return exit_status(child_in(from, tcp_connect, to));
}

#define assert_reaches(from, to)                                               \
	ck_assert_msg(try_connect((from), (to)) == 0,                          \
		      "%s cannot connect to node %d", (from)->addr_str, (to))

/* Cut: the connect neither succeeds nor fails, it times out: nobody on
 * the path said anything (no EINVAL, no "No route to host"). */
static void
assert_times_out(const struct netns_node *from, int to)
{
	uint64_t t0 = clock_now_ms();
	int rc = try_connect(from, to);

	ck_assert_msg(rc == ETIMEDOUT, "%s to node %d: %s, not a timeout",
		      from->addr_str, to, strerror(rc));
	ck_assert_uint_ge(clock_now_ms() - t0, (unsigned)connect_ms - 50);
}

/* Whether the echo of a byte written on `s` comes back within `ms`. */
static bool
echoes_within(int s, int ms)
{
	struct pollfd p = {.fd = s, .events = POLLIN};
	char c = 'x';

	ck_assert_int_eq(write(s, &c, 1), 1);
	if (poll(&p, 1, ms) != 1)
		return false;
	ck_assert_int_eq(read(s, &c, 1), 1);
	return true;
}

/* A connection from the test (the harness) to node i's server. */
static int
open_to(int i)
{
	int s = -1;

	ck_assert_int_eq(dial(node[i], &s), 0);
	return s;
}

/* Sends DGRAMS datagrams to node `arg`: 0, or the errno of a failed send. */
static int
udp_send(const struct netns_node *at, int arg)
{
	struct sockaddr_in sa = sockaddr_of(node[arg]);
	struct sockaddr *to = (struct sockaddr *)&sa;
	int s = socket(AF_INET, SOCK_DGRAM, 0), i;

	(void)at;
	for (i = 0; i < DGRAMS; i++) {
		if (sendto(s, "x", 1, 0, to, sizeof(sa)) < 0)
			return errno;
		usleep(1000);
	}
	return 0;
}

/* Datagrams from `from` that node `to` received. */
static int
udp_delivered(const struct netns_node *from, int to)
{
	pid_t rx = server(node[to], udp_count);

	ck_assert_int_eq(exit_status(child_in(from, udp_send, to)), 0);
	return exit_status(rx);
}

/* --- tests --- */

START_TEST(test_netns_nodes_and_harness_reach_each_other)
{
	up(3);
	echo_servers();
	assert_reaches(node[0], 1);
	assert_reaches(node[2], 0);
	assert_reaches(&net->host, 2);
	ck_assert_str_eq(node[2]->addr_str, "198.18.0.12");
	down();
}
END_TEST

/*
 * One-way, netcut_block(1 -> 0): packets from node 1 no longer reach
 * node 0.  Datagrams from node 0 still reach node 1; those of node 1 are
 * lost, and its sendto() is not told.  TCP fails BOTH ways, each connect
 * timing out: from node 0 its SYN-ACK is lost, from node 1 its SYN.
 */
START_TEST(test_netns_block_drops_one_way_and_tcp_both_ways)
{
	struct netcut *nc = netcut_new(), *nc2 = netcut_new();

	up(2);
	echo_servers();
	OK(netcut_block(nc, node[1], node[0], &e));
	ck_assert_uint_eq(netcut_changes(nc), 3);
	/* ARP still works (the rules drop IP protocols only): node 1, which
	 * has never resolved node 0, is not told "No route to host" after
	 * the 3 s an ARP failure takes; its connect just goes unanswered */
	connect_ms = 4000;
	assert_times_out(node[1], 0);
	connect_ms = CUT_MS;
	assert_times_out(node[0], 1);
	assert_reaches(&net->host, 1); /* the harness is not cut */
	assert_reaches(&net->host, 0);
	ck_assert_int_eq(udp_delivered(node[0], 1), DGRAMS);
	ck_assert_int_eq(udp_delivered(node[1], 0), 0);

	OK(netcut_heal(nc, &e));
	ck_assert_uint_eq(netcut_changes(nc), 0);
	assert_reaches(node[0], 1);
	assert_reaches(node[1], 0);
	ck_assert_int_eq(udp_delivered(node[1], 0), DGRAMS);
	OK(netcut_heal(nc, &e)); /* twice */

	/* overlapping cuts: each netcut keeps the pair cut until it heals */
	OK(netcut_pair(nc, node[0], node[1], &e));
	OK(netcut_pair(nc2, node[0], node[1], &e));
	OK(netcut_heal(nc, &e));
	assert_times_out(node[0], 1);
	netcut_free(nc2); /* heals */
	assert_reaches(node[0], 1);
	netcut_free(nc);
	down();
}
END_TEST

START_TEST(test_netns_isolate_cuts_clients_and_peers)
{
	struct netcut *nc = netcut_new();
	struct pollfd p;
	int c;

	up(3);
	echo_servers();
	c = open_to(1);
	ck_assert(echoes_within(c, 1000));
	OK(netcut_isolate(nc, node[1], &e));
	/* an open connection stalls: its cached route does not bypass the
	 * rules (adding one flushes the route cache) */
	ck_assert(!echoes_within(c, CUT_MS));
	assert_times_out(&net->host, 1); /* clients */
	assert_times_out(node[0], 1);
	assert_times_out(node[1], 2);
	assert_reaches(node[0], 2); /* the others are untouched */
	assert_reaches(&net->host, 0);

	OK(netcut_heal(nc, &e));
	assert_reaches(&net->host, 1);
	assert_reaches(node[1], 2);
	/* and the open connection resumes: TCP retransmits the held byte */
	p = (struct pollfd){.fd = c, .events = POLLIN};
	ck_assert_int_eq(poll(&p, 1, 5000), 1);
	close(c);
	netcut_free(nc);
	down();
}
END_TEST

START_TEST(test_netns_split_keeps_each_side_whole)
{
	struct netcut *nc = netcut_new();
	const struct netns_node *major[3], *minor[1];

	up(3);
	echo_servers();
	major[0] = node[0];
	major[1] = node[1];
	major[2] = &net->host; /* the clients are with the majority */
	minor[0] = node[2];
	OK(netcut_split(nc, major, 3, minor, 1, &e));
	ck_assert_uint_eq(netcut_changes(nc), 3 * 2 * 3);
	assert_reaches(node[0], 1);
	assert_reaches(&net->host, 0);
	assert_times_out(node[0], 2);
	assert_times_out(node[2], 1);
	assert_times_out(&net->host, 2);
	OK(netcut_heal(nc, &e));
	assert_reaches(&net->host, 2);
	assert_reaches(node[2], 0);
	netcut_free(nc);
	down();
}
END_TEST

/* A 1-byte echo's round trip over an open connection, in ms. */
static uint64_t
rtt_ms(int s)
{
	uint64_t t0 = clock_now_ms();

	ck_assert(echoes_within(s, 5000));
	return clock_now_ms() - t0;
}

START_TEST(test_netns_degrade_delays_round_trip)
{
	struct netcut_netem q = {.delay_ms = 100};
	struct netcut *nc;
	int s;

	up(1);
	if (netcut_check_degrade(&e) < 0) {
		if (e.code == ENOENT || e.code == EPERM)
			test_skip("netns degrade: %s", e.msg);
		ck_abort_msg("%s", e.msg);
	}
	nc = netcut_new();
	echo_servers();
	s = open_to(0);
	ck_assert_uint_lt(rtt_ms(s), 50);
	OK(netcut_degrade(nc, node[0], &q, &e));
	ck_assert_uint_ge(rtt_ms(s), 100);
	OK(netcut_heal(nc, &e));
	ck_assert_uint_lt(rtt_ms(s), 50);
	close(s);
	netcut_free(nc);
	down();
}
END_TEST

static int
count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

/* Whether link `name` exists in the test's (the harness's) namespace:
 * if_nametoindex() asks the kernel through a socket made there. */
static bool
link_exists(const char *name)
{
	return if_nametoindex(name) != 0;
}

START_TEST(test_netns_teardown_leaves_nothing)
{
	struct netcut *nc;
	char bridge[IFNAMSIZ], veth[2][IFNAMSIZ];
	int fds, i;

	enter();
	fds = count_fds();
	up(2);
	nc = netcut_new();
	OK(netcut_isolate(nc, node[0], &e));
	snprintf(bridge, sizeof(bridge), "%s", net->bridge);
	for (i = 0; i < 2; i++) {
		snprintf(veth[i], sizeof(veth[i]), "%s", node[i]->veth);
		ck_assert(link_exists(veth[i]));
		ck_assert_msg(netns_addr_in_sandbox(node[i]->addr), "%s",
			      node[i]->addr_str);
	}
	ck_assert(link_exists(bridge));
	netcut_free(nc);
	down();
	for (i = 0; i < 2; i++)
		ck_assert_msg(!link_exists(veth[i]), "%s left behind", veth[i]);
	ck_assert_msg(!link_exists(bridge), "%s left behind", bridge);
	ck_assert_int_eq(count_fds(), fds);
}
END_TEST

/* A namespace netns_enter_private() did not make, as the host's: the net
 * is refused there, and no bridge is made. */
START_TEST(test_netns_net_refused_outside_private_namespace)
{
	char bridge[IFNAMSIZ];

	if (geteuid() != 0)
		test_skip("netns: needs root (CAP_SYS_ADMIN, CAP_NET_ADMIN)");
	if (unshare(CLONE_NEWNET) < 0) /* throwaway, so a failure is harmless */
		test_skip("netns: unshare: %s", strerror(errno));
	ck_assert_ptr_null(netns_net_new(&e));
	ck_assert_int_eq(e.code, EPERM);
	ck_assert_int_eq(netns_bridge_name(bridge, getpid()), 0);
	ck_assert(!link_exists(bridge));
}
END_TEST

static int
join_in_child(void *arg)
{
	return netns_node_join(arg) < 0 ? errno : 0;
}

/* "+PONG" from redis at `n`:PORT over a new connection from the harness:
 * 0, or the errno of the connect (ETIMEDOUT after CUT_MS). */
static int
redis_ping(const struct netns_node *n)
{
	char buf[16] = "";
	int s, rc = dial(n, &s);

	if (rc != 0)
		return rc;
	ck_assert_int_eq(write(s, "PING\r\n", 6), 6);
	ck_assert_int_gt(read(s, buf, sizeof(buf) - 1), 0);
	close(s);
	ck_assert_str_eq(buf, "+PONG\r\n");
	return 0;
}

START_TEST(test_netns_redis_in_node_reachable_from_harness)
{
	char dir[512], log[600], port[16];
	/* clang-format off */
	const char *argv[] = {it_server(), "--bind", NULL, "--port", port,
			      "--save", "", "--appendonly", "no",
			      "--protected-mode", "no", "--dir", dir, NULL};
	/* clang-format on */
	struct proc p = PROC_INIT;
	struct netcut *nc;
	uint64_t deadline;

	it_require_redis("netns");
	up(1);
	it_mkdtemp(dir, sizeof(dir), "netns");
	snprintf(log, sizeof(log), "%s/redis.log", dir);
	snprintf(port, sizeof(port), "%d", PORT);
	argv[2] = node[0]->addr_str;
	p.argv = argv;
	p.out_path = log;
	p.in_child = join_in_child;
	p.in_child_arg = node[0];
	OK(proc_start(&p, &e));
	deadline = clock_now_ms() + 10000;
	while (redis_ping(node[0]) != 0) {
		ck_assert_msg(proc_is_running(&p),
			      "redis-server exited, see %s", log);
		ck_assert_msg(clock_now_ms() < deadline,
			      "redis-server not up, see %s", log);
		clock_sleep_ms(20);
	}

	nc = netcut_new();
	OK(netcut_isolate(nc, node[0], &e));
	ck_assert_int_eq(redis_ping(node[0]), ETIMEDOUT);
	OK(netcut_heal(nc, &e));
	ck_assert_int_eq(redis_ping(node[0]), 0);
	netcut_free(nc);

	proc_kill(&p);
	down();
	OK(fs_rm_rf(dir, &e));
}
END_TEST

Suite *
netns_suite(void)
{
	Suite *s = suite_create("netns");
	TCase *tc = tcase_create("netns");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_netns_nodes_and_harness_reach_each_other);
	tcase_add_test(tc, test_netns_block_drops_one_way_and_tcp_both_ways);
	tcase_add_test(tc, test_netns_isolate_cuts_clients_and_peers);
	tcase_add_test(tc, test_netns_split_keeps_each_side_whole);
	tcase_add_test(tc, test_netns_degrade_delays_round_trip);
	tcase_add_test(tc, test_netns_teardown_leaves_nothing);
	tcase_add_test(tc, test_netns_net_refused_outside_private_namespace);
	tcase_add_test(tc, test_netns_redis_in_node_reachable_from_harness);
	suite_add_tcase(s, tc);
	return s;
}
