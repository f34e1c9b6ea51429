/*
 * disk_overhead.c - what the disk fault costs a node before it fires.
 *
 * Starts two redis-server processes with AOF (appendfsync everysec), one
 * plain and one under the disk fault's filter and supervisor (not
 * fired), runs `redis-benchmark -t set -P 16 -n N -q` against each, and
 * prints both rates and filtered / unfiltered; the target is 0.90 or
 * more.  Runs alternate between the two nodes, BENCH_RUNS times each
 * (default 11, at most 50), each node going first every other round, so
 * that the machine's drift weighs on both.
 * The ratio judged is the median of the rounds' own ratios: on a busy
 * machine the rates move in phases (seen here: both nodes from 400k to
 * 930k SET/s within one invocation), and the two runs of a round, back
 * to back, meet the same phase, while a ratio of medians or of best
 * rates compares runs made under different loads.  Those two ratios
 * are printed beside it.
 *
 * Placement: where there are two CPUs or more, both nodes (and the
 * supervisor, a thread of this program) run on one and redis-benchmark
 * on another, so that the two nodes meet the same conditions and the
 * client never competes with the node it measures (on this project's
 * 2-CPU machine, unpinned runs of one node spread over 2x).
 * BENCH_PIN=0 leaves placement to the scheduler.
 *
 *   disk_overhead [N]        N requests per run, default 200000
 *
 * Exit status: 0 at or above the target, 1 below it, 2 on a failure to
 * measure, 3 when this machine cannot run the fault at all.
 */
#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cluster/conn.h"
#include "common/clock.h"
#include "common/fs.h"
#include "common/port.h"
#include "injectors/injector.h"

#define TARGET 0.90

/* The CPUs of the nodes and of the client, or -1: not pinned. */
static int node_cpu = -1, client_cpu = -1;

extern const struct injector_ops disk_injector;

struct node {
	struct proc proc;
	struct target t;
	struct fault *f;
	char dir[PATH_MAX];
	char log[PATH_MAX + 16];
	char port_s[16];
};

static int
in_child(void *arg)
{
	struct node *n = arg;

	return n->f->ops->in_child(n->f, &n->t);
}

/* Waits up to 10 s for the node to answer PING. */
static int
wait_up(struct node *n, struct err *e)
{
	uint64_t deadline = clock_now_ms() + 10000;
	struct conn *c = NULL;
	struct reply *r;
	bool up = false;

	while (!up && clock_now_ms() < deadline) {
		if (!proc_is_running(&n->proc))
			return err_set(e, 0, "redis-server %s (see %s)",
				       proc_describe_status(n->proc.status), n->log);
		if (c == NULL)
			c = conn_open("127.0.0.1", n->t.port, 2000, NULL);
		if (c && (r = conn_cmd(c, NULL, "PING", NULL)) != NULL) {
			up = r->type == REPLY_STATUS;
			reply_free(r);
		}
		if (c && conn_is_broken(c)) {
			conn_free(c);
			c = NULL;
		}
		if (!up)
			clock_sleep_ms(20);
	}
	conn_free(c);
	return up ? 0 : err_set(e, ETIMEDOUT, "redis-server on %d did not answer in 10 s",
				n->t.port);
}

/* Starts a node in a new directory under `top`, under the fault `f`'s
 * filter when f is not NULL. */
static int
start(struct node *n, const char *top, struct fault *f, struct err *e)
{
	const char *argv[] = {"redis-server", "--port", n->port_s, "--bind", "127.0.0.1",
			      "--appendonly", "yes", "--appendfsync", "everysec", "--dir",
			      n->dir, "--logfile", n->log, "--save", "", NULL};
	int port;

	snprintf(n->dir, sizeof(n->dir), "%s/node-%s", top, f ? "filtered" : "plain");
	snprintf(n->log, sizeof(n->log), "%s/redis.log", n->dir);
	if (fs_mkdir_p(n->dir, e) < 0 || (port = port_free_loopback(e)) < 0)
		return -1;
	snprintf(n->port_s, sizeof(n->port_s), "%d", port);
	n->f = f;
	n->t = (struct target){.proc = &n->proc, .dir = n->dir, .port = port, .tag = "bench"};
	n->proc.argv = argv;
	if (f) {
		if (f->ops->prepare(f, &n->t, e) < 0)
			return -1;
		n->proc.in_child = in_child;
		n->proc.in_child_arg = n;
	}
	if (proc_start(&n->proc, e) < 0)
		return -1;
	n->proc.argv = NULL;
	return wait_up(n, e);
}

/* Pins this thread, and so the nodes and supervisors started after,
 * to the first CPU it may use; redis-benchmark will go to the second. */
static void
pin(void)
{
	const char *env = getenv("BENCH_PIN");
	cpu_set_t set;
	int cpu, n = 0;

	if ((env && strcmp(env, "0") == 0) || sched_getaffinity(0, sizeof(set), &set) < 0)
		return;
	for (cpu = 0; cpu < CPU_SETSIZE && n < 2; cpu++)
		if (CPU_ISSET(cpu, &set))
			*(n++ == 0 ? &node_cpu : &client_cpu) = cpu;
	CPU_ZERO(&set);
	if (n == 2)
		CPU_SET(node_cpu, &set);
	if (n < 2 || sched_setaffinity(0, sizeof(set), &set) < 0)
		node_cpu = client_cpu = -1;
}

/* In redis-benchmark's process before exec: async-signal-safe. */
static int
pin_client(void *arg)
{
	cpu_set_t set;

	(void)arg;
	CPU_ZERO(&set);
	CPU_SET(client_cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set) < 0 ? errno : 0;
}

/* One redis-benchmark run against `port`: its SET rate. */
static int
bench(const char *top, int port, const char *requests, double *rate, struct err *e)
{
	char port_s[16], out[PATH_MAX + 16];
	const char *argv[] = {"redis-benchmark", "-p", port_s, "-t", "set", "-P", "16",
			      "-n", requests, "-q", NULL};
	struct proc p = PROC_INIT;
	char *text, *end, *set;

	snprintf(port_s, sizeof(port_s), "%d", port);
	snprintf(out, sizeof(out), "%s/benchmark.out", top);
	unlink(out);
	p.argv = argv;
	p.out_path = out;
	if (client_cpu >= 0)
		p.in_child = pin_client;
	if (proc_start(&p, e) < 0)
		return -1;
	proc_wait(&p, -1, NULL);
	if ((text = fs_read_file(out, NULL, e)) == NULL)
		return -1;
	/* progress lines end in \r; the last "SET: N requests per second" counts */
	end = strstr(text, " requests per second");
	for (set = end; set && set > text && strncmp(set, "SET: ", 5) != 0;)
		set--;
	*rate = end && set && strncmp(set, "SET: ", 5) == 0 ? strtod(set + 5, NULL) : 0;
	free(text);
	if (*rate <= 0)
		return err_set(e, 0, "redis-benchmark on %d: no SET rate in its output (%s)", port,
			       proc_describe_status(p.status));
	return 0;
}

#define MAX_RUNS 50

static int
by_rate(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double
median_of(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(double), by_rate);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Runs alternately against both nodes: the best and median rate of
 * each, and the median of the rounds' filtered / unfiltered ratios. */
static int
measure(const char *top, struct node *nodes, const char *requests, double *best,
	double *median, double *paired, struct err *e)
{
	const char *env = getenv("BENCH_RUNS");
	int runs = env && atoi(env) > 0 ? atoi(env) : 11, r, i, j;
	double rates[2][MAX_RUNS], ratios[MAX_RUNS];

	if (runs > MAX_RUNS)
		runs = MAX_RUNS;
	for (r = 0; r < runs; r++)
		for (j = 0; j < 2; j++) {
			i = j ^ (r & 1); /* each node goes first every other round */
			if (bench(top, nodes[i].t.port, requests, &rates[i][r], e) < 0)
				return -1;
			printf("  run %d %-10s %10.0f SET/s\n", r + 1,
			       i ? "filtered" : "unfiltered", rates[i][r]);
		}
	for (r = 0; r < runs; r++)
		ratios[r] = rates[1][r] / rates[0][r];
	*paired = median_of(ratios, runs);
	for (i = 0; i < 2; i++) {
		median[i] = median_of(rates[i], runs);
		best[i] = rates[i][runs - 1];
	}
	return 0;
}

int
main(int argc, char **argv)
{
	const char *requests = argc > 1 ? argv[1] : "200000", *tmp = getenv("TMPDIR");
	struct node nodes[2];
	struct err e = ERR_INIT;
	struct fault *f;
	double best[2], median[2], ratio;
	char top[PATH_MAX];
	int rc = 2;

	memset(nodes, 0, sizeof(nodes));
	pin();
	if (node_cpu >= 0)
		printf("nodes and supervisor on CPU %d, redis-benchmark on CPU %d "
		       "(BENCH_PIN=0: unpinned)\n",
		       node_cpu, client_cpu);
	if ((f = fault_new(&disk_injector, NULL, &e)) == NULL) {
		fprintf(stderr, "disk_overhead: %s\n", e.msg);
		return 2;
	}
	if (disk_injector.check(f, &e) < 0) {
		fprintf(stderr, "disk_overhead: skipped: %s\n", e.msg);
		fault_free(f);
		return 3;
	}
	snprintf(top, sizeof(top), "%s/shardquake-bench-disk-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (mkdtemp(top) == NULL) {
		fprintf(stderr, "disk_overhead: mkdtemp '%s': %s\n", top, strerror(errno));
		fault_free(f);
		return 2;
	}
	if (start(&nodes[0], top, NULL, &e) < 0 || start(&nodes[1], top, f, &e) < 0 ||
	    measure(top, nodes, requests, best, median, &ratio, &e) < 0) {
		fprintf(stderr, "disk_overhead: %s\n", e.msg);
		goto out_stop;
	}
	printf("disk filter overhead (SET -P 16, AOF everysec):\n"
	       "  unfiltered median %10.0f SET/s, best %10.0f\n"
	       "  filtered   median %10.0f SET/s, best %10.0f\n"
	       "  filtered/unfiltered %.3f, the median of the rounds' ratios "
	       "(target >= %.2f): %s\n"
	       "  (%.3f of the median rates, %.3f of the best rates)\n",
	       median[0], best[0], median[1], best[1], ratio, TARGET,
	       ratio >= TARGET ? "ok" : "BELOW TARGET", median[1] / median[0],
	       best[1] / best[0]);
	rc = ratio >= TARGET ? 0 : 1;
out_stop:
	proc_kill(&nodes[0].proc);
	proc_kill(&nodes[1].proc);
	fault_free(f); /* after the node's death: stops the supervisor */
	if (fs_rm_rf(top, &e) < 0)
		fprintf(stderr, "disk_overhead: %s\n", e.msg);
	return rc;
}
