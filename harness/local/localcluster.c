/*
 * localcluster.c - start, form and stop a cluster of local nodes; see
 * localcluster.h.
 *
 * Formation is done directly, as redis-cli --cluster create does, but
 * without its fixed one-second sleeps: each master gets its slot range
 * and a distinct config epoch while it still knows nobody, every node
 * meets the first one, each replica meets its master and replicates it
 * as soon as it knows it, and then we poll every node until all report
 * cluster_state:ok and the same view.  Redis itself keeps a new master's
 * state "fail" for 2 s after start (CLUSTER_WRITABLE_DELAY), which is
 * the floor of any cluster start.
 */
#include "harness/local/localcluster.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cluster/fetch.h"
#include "common/buf.h"
#include "common/clock.h"
#include "common/fs.h"
#include "common/log.h"
#include "common/port.h"
#include "common/rng.h"
#include "common/xmalloc.h"
#include "harness/local/node.h"
#include "injectors/netns.h"

#define PING_TIMEOUT_MS 10000
#define POLL_MS         10

static bool
port_is_free(int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons((uint16_t)port),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1, ok;

	if (fd < 0)
		return false;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	ok = bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	close(fd);
	return ok;
}

bool
port_pair_is_free(int port)
{
	return port > 0 && port + 10000 < 65536 && port_is_free(port) &&
	       port_is_free(port + 10000);
}

/* The lowest ephemeral port: outgoing connections take ports from there
 * up, so a node or bus port there may be taken between our check and
 * redis's bind. */
static int
ephemeral_low(void)
{
	FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
	int low = 32768;

	if (f) {
		if (fscanf(f, "%d", &low) != 1)
			low = 32768;
		fclose(f);
	}
	return low;
}

/* Picks n ports: base, base+1, ... when given (all must be free), else
 * free ones below the ephemeral range (bus ports included), from a start
 * that differs between processes, so that tests running side by side
 * rarely race for the same ports. */
/* Gives back the ports of nodes[first..n) claimed from other
 * shardquake processes. */
static void
release_ports(struct local_cluster *lc, size_t first)
{
	size_t i;

	for (i = first; i < lc->n; i++)
		if (lc->nodes[i].port_lock > 0) {
			port_release(lc->nodes[i].port, lc->nodes[i].port_lock - 1);
			lc->nodes[i].port_lock = 0;
		}
}

/* Ports for nodes[first..n), each claimed (port_claim()) for the
 * cluster's life: another shardquake process finds a killed node's port
 * free until its restart, and must not take it. */
static int
pick_ports(struct local_cluster *lc, int base, size_t first, struct err *e)
{
	int lo = 10000, hi = ephemeral_low() - 10000, span, port, tries;
	struct rng r;
	size_t i;

	if (base > 0) {
		for (i = first; i < lc->n; i++)
			if (!port_pair_is_free(base + (int)i))
				return err_set(e, EADDRINUSE,
					       "port %d or its bus port %d is in use",
					       base + (int)i, base + (int)i + 10000);
		for (i = first; i < lc->n; i++)
			lc->nodes[i].port = base + (int)i;
		return 0;
	}
	if (hi - lo < 1000) { /* an unusual ephemeral range: use what is above */
		lo = 20000;
		hi = 55000;
	}
	span = hi - lo;
	rng_init(&r, (uint64_t)getpid() ^ clock_now_us());
	port = lo + (int)rng_below(&r, (uint64_t)span);
	release_ports(lc, first);
	for (i = first, tries = 0; i < lc->n && tries < span; tries++) {
		int fd;

		if (++port >= hi)
			port = lo;
		if (!port_pair_is_free(port) || (fd = port_claim(port)) == -1)
			continue;
		lc->nodes[i].port_lock = fd >= 0 ? fd + 1 : 0;
		lc->nodes[i++].port = port;
	}
	if (i < lc->n)
		return err_set(e, EADDRINUSE, "no %zu free port pairs on 127.0.0.1",
			       lc->n - first);
	return 0;
}

static int
node_dir(struct local_cluster *lc, struct local_node *n, const struct local_cluster_opts *o,
	 struct err *e)
{
	snprintf(n->dir, sizeof(n->dir), "%s/node-%d", lc->dir, n->port);
	/* a node of an earlier cluster in the same place: start afresh */
	if (fs_rm_rf(n->dir, e) < 0 || node_write_config(n, o, e) < 0)
		return -1;
	return 0;
}

static int
prepare_dirs(struct local_cluster *lc, const struct local_cluster_opts *o,
	     struct err *e)
{
	size_t i;

	if (lc->dir[0]) {
		/* a second attempt: the base directory is there already */
	} else if (o->dir) {
		if (realpath(o->dir, lc->dir) == NULL) {
			if (fs_mkdir_p(o->dir, e) < 0)
				return -1;
			if (realpath(o->dir, lc->dir) == NULL)
				return err_set(e, errno, "resolve '%s': %s", o->dir,
					       strerror(errno));
		}
	} else {
		const char *tmp = getenv("TMPDIR");

		snprintf(lc->dir, sizeof(lc->dir), "%s/shardquake-XXXXXX",
			 tmp && *tmp ? tmp : "/tmp");
		if (mkdtemp(lc->dir) == NULL)
			return err_set(e, errno, "mkdtemp '%s': %s", lc->dir,
				       strerror(errno));
		lc->own_dir = true;
	}
	/* node-PORT/appendonlydir/... must fit in PATH_MAX below it */
	if (strlen(lc->dir) > PATH_MAX - 128)
		return err_set(e, ENAMETOOLONG, "directory '%s' is too long", lc->dir);
	for (i = 0; i < lc->n; i++)
		if (node_dir(lc, &lc->nodes[i], o, e) < 0)
			return -1;
	return 0;
}

/* Node i's namespace and address, where the cluster has namespaces. */
static int
node_net(struct local_cluster *lc, size_t i, struct err *e)
{
	struct local_node *n = &lc->nodes[i];

	if (lc->opts.network != NET_NETNS)
		return 0;
	if (lc->net == NULL && (lc->net = netns_net_new(e)) == NULL)
		return err_prefix(e, "the cluster's bridge: ");
	n->ns = netns_node_new(lc->net, (int)i, e);
	if (n->ns == NULL)
		return err_prefix(e, "node %zu's network namespace: ", i);
	snprintf(n->host, sizeof(n->host), "%s", n->ns->addr_str);
	return 0;
}

/* With replicas_of: the masters, then master 0's replicas, master 1's ... */
static void
layout_grouped(struct local_cluster *lc, const struct local_cluster_opts *o)
{
	size_t i = (size_t)o->masters;
	int m, k;

	for (m = 0; m < o->masters; m++)
		for (k = 0; k < o->replicas_of[m]; k++)
			lc->nodes[i++].master = m;
}

static void
layout(struct local_cluster *lc, const struct local_cluster_opts *o)
{
	size_t i, replicas = (size_t)o->masters * (size_t)o->replicas;
	int m;

	if (o->replicas_of)
		for (m = 0, replicas = 0; m < o->masters; m++)
			replicas += (size_t)o->replicas_of[m];
	lc->n = (size_t)o->masters + replicas;
	lc->nodes = xcalloc(lc->n, sizeof(*lc->nodes));
	for (i = 0; i < lc->n; i++) {
		snprintf(lc->nodes[i].host, sizeof(lc->nodes[i].host), "127.0.0.1");
		lc->nodes[i].is_master = i < (size_t)o->masters;
		lc->nodes[i].master =
			lc->nodes[i].is_master ? -1
					       : (int)((i - (size_t)o->masters) %
						       (size_t)o->masters);
	}
	if (o->replicas_of)
		layout_grouped(lc, o);
}

/* ADDSLOTSRANGE of every run of slots the owner map gives master i. */
static int
add_owned(struct local_cluster *lc, size_t i, struct conn *c, struct err *e)
{
	const short *owner = lc->opts.owner;
	const char **argv = xcalloc(2 + CLUSTER_SLOTS, sizeof(*argv));
	char (*num)[8] = xcalloc(CLUSTER_SLOTS, sizeof(*num));
	struct reply *r;
	int argc = 2, s, first, rc = 0;

	argv[0] = "CLUSTER";
	argv[1] = "ADDSLOTSRANGE";
	for (s = 0; s < CLUSTER_SLOTS; s++) {
		if (owner[s] != (short)i)
			continue;
		for (first = s; s + 1 < CLUSTER_SLOTS && owner[s + 1] == (short)i; s++)
			;
		snprintf(num[argc - 2], sizeof(num[0]), "%d", first);
		argv[argc] = num[argc - 2];
		argc++;
		snprintf(num[argc - 2], sizeof(num[0]), "%d", s);
		argv[argc] = num[argc - 2];
		argc++;
	}
	if (argc > 2) {
		r = conn_cmd_argv(c, argc, argv, NULL, e);
		if (r == NULL)
			rc = -1;
		else if (r->type == REPLY_ERROR)
			rc = err_set(e, 0, "'CLUSTER ADDSLOTSRANGE' on '%s': %s", conn_addr(c), r->str);
		reply_free(r);
	}
	free(num);
	free(argv);
	return rc;
}

/* Each master: its id, its slots and a distinct epoch, while alone. */
static int
setup_node(struct local_cluster *lc, size_t i, struct conn *c, struct err *e)
{
	struct local_node *n = &lc->nodes[i];
	char first[16], last[16], epoch[16];
	char *id;
	int m = lc->opts.masters;

	id = conn_cmd_str(c, e, "CLUSTER", "MYID", NULL);
	if (id == NULL)
		return -1;
	snprintf(n->id, sizeof(n->id), "%s", id);
	free(id);
	snprintf(epoch, sizeof(epoch), "%zu", i + 1);
	if (conn_cmd_ok(c, e, "CLUSTER", "SET-CONFIG-EPOCH", epoch, NULL) < 0)
		return -1;
	if (!n->is_master)
		return 0;
	if (lc->opts.owner)
		return add_owned(lc, i, c, e);
	snprintf(first, sizeof(first), "%ld", (long)i * CLUSTER_SLOTS / m);
	snprintf(last, sizeof(last), "%ld", ((long)i + 1) * CLUSTER_SLOTS / m - 1);
	return conn_cmd_ok(c, e, "CLUSTER", "ADDSLOTSRANGE", first, last, NULL);
}

static int
meet(struct conn *c, const struct local_node *peer, struct err *e)
{
	char p[16];

	snprintf(p, sizeof(p), "%d", peer->port);
	return conn_cmd_ok(c, e, "CLUSTER", "MEET", peer->host, p, NULL);
}

/* True when the node behind `c` knows `id` past the handshake. */
static bool
knows(struct conn *c, const char *id)
{
	struct topology t = TOPOLOGY_INIT;
	const struct cluster_node *n;
	bool ok = false;

	if (topology_fetch(c, &t, NULL) == 0) {
		n = topology_find(&t, id);
		ok = n && !(n->flags & (NODE_HANDSHAKE | NODE_NOADDR));
	}
	topology_release(&t);
	return ok;
}

static int
replicate(struct local_cluster *lc, struct conn **conns, int timeout_ms,
	  struct err *e)
{
	uint64_t deadline = clock_now_ms() + (uint64_t)timeout_ms;
	size_t i;

	for (i = 0; i < lc->n; i++) {
		struct local_node *n = &lc->nodes[i];
		const char *mid;

		if (n->is_master)
			continue;
		mid = lc->nodes[n->master].id;
		while (!knows(conns[i], mid)) {
			if (clock_now_ms() >= deadline)
				return err_set(e, ETIMEDOUT,
					       "node %d never learned of its master %d",
					       n->port, lc->nodes[n->master].port);
			clock_sleep_ms(POLL_MS);
		}
		if (conn_cmd_ok(conns[i], e, "CLUSTER", "REPLICATE", mid, NULL) < 0)
			return err_prefix(e, "node %d: ", n->port);
	}
	return 0;
}

static int
form(struct local_cluster *lc, struct conn **conns, struct err *e)
{
	size_t i;

	for (i = 0; i < lc->n; i++)
		if (setup_node(lc, i, conns[i], e) < 0)
			return err_prefix(e, "node %d: ", lc->nodes[i].port);
	for (i = 1; i < lc->n; i++) {
		if (meet(conns[0], &lc->nodes[i], e) < 0)
			return -1;
		if (!lc->nodes[i].is_master &&
		    meet(conns[i], &lc->nodes[lc->nodes[i].master], e) < 0)
			return -1;
	}
	return replicate(lc, conns, lc->opts.ready_timeout_ms, e);
}

static int
start_all(struct local_cluster *lc, struct conn **conns, struct err *e)
{
	size_t i;

	for (i = 0; i < lc->n; i++)
		if (node_start(&lc->nodes[i], &lc->opts, e) < 0)
			return -1;
	for (i = 0; i < lc->n; i++) {
		conns[i] = node_wait_ping(&lc->nodes[i], PING_TIMEOUT_MS, e);
		if (conns[i] == NULL)
			return -1;
	}
	return 0;
}

int
local_cluster_write_pids(const struct local_cluster *lc, struct err *e)
{
	struct buf b = BUF_INIT;
	char path[PATH_MAX + 16];
	size_t i;
	int rc;

	for (i = 0; i < lc->n; i++)
		buf_addf(&b, "%d %d\n", lc->nodes[i].port,
			 (int)lc->nodes[i].proc.pid);
	snprintf(path, sizeof(path), "%s/cluster.pids", lc->dir);
	rc = fs_write_file(path, buf_str(&b), b.len, e);
	buf_release(&b);
	return rc;
}

int
local_cluster_start(struct local_cluster *lc, const struct local_cluster_opts *o,
		    struct err *e)
{
	struct conn **conns;
	size_t i;
	int rc = -1, attempt;

	if (o->masters < 1 || o->replicas < 0 || o->masters > 1000 ||
	    o->replicas > 10)
		return err_set(e, EINVAL, "bad cluster shape: %d masters, %d replicas",
			       o->masters, o->replicas);
	for (i = 0; o->replicas_of && i < (size_t)o->masters; i++)
		if (o->replicas_of[i] < 0 || o->replicas_of[i] > 10)
			return err_set(e, EINVAL, "bad cluster shape: master %zu with %d replicas",
				       i, o->replicas_of[i]);
	for (i = 0; o->owner && i < CLUSTER_SLOTS; i++)
		if (o->owner[i] < 0 || o->owner[i] >= o->masters)
			return err_set(e, EINVAL, "bad slot map: slot %zu to master %d of %d",
				       i, o->owner[i], o->masters);
	*lc = (struct local_cluster)LOCAL_CLUSTER_INIT;
	lc->opts = *o;
	if (lc->opts.ready_timeout_ms <= 0)
		lc->opts.ready_timeout_ms = 30000;
	layout(lc, o);
	conns = xcalloc(lc->n, sizeof(*conns));
	for (i = 0; i < lc->n; i++)
		if (node_net(lc, i, e) < 0)
			goto out;
	if (pick_ports(lc, o->base_port, 0, e) < 0 || prepare_dirs(lc, o, e) < 0)
		goto out;
	for (attempt = 0; start_all(lc, conns, e) < 0; attempt++) {
		/* free ports can be taken between our check and redis's bind:
		 * start again elsewhere, unless the user chose the ports */
		if (o->base_port > 0 || attempt == 2 || strstr(e->msg, "Failed listening") == NULL)
			goto out;
		for (i = 0; i < lc->n; i++) {
			proc_kill(&lc->nodes[i].proc);
			conn_free(conns[i]);
			conns[i] = NULL;
			fs_rm_rf(lc->nodes[i].dir, NULL);
		}
		if (pick_ports(lc, 0, 0, e) < 0 || prepare_dirs(lc, o, e) < 0)
			goto out;
	}
	if (form(lc, conns, e) < 0)
		goto out;
	if (o->detach && local_cluster_write_pids(lc, e) < 0)
		goto out;
	rc = local_cluster_wait_ready(lc, lc->opts.ready_timeout_ms, e);
out:
	for (i = 0; i < lc->n; i++)
		conn_free(conns[i]);
	free(conns);
	/* borrowed for the start alone: never read through a stale pointer */
	lc->opts.owner = NULL;
	lc->opts.replicas_of = NULL;
	if (rc < 0)
		local_cluster_stop(lc, !lc->own_dir);
	return rc;
}

void
local_cluster_stop(struct local_cluster *lc, bool keep_files)
{
	struct err e = ERR_INIT;
	size_t i;

	for (i = 0; i < lc->n; i++)
		proc_kill(&lc->nodes[i].proc);
	release_ports(lc, 0);
	/* the namespaces go once no process is in them */
	for (i = 0; i < lc->n; i++) {
		netns_node_free(lc->nodes[i].ns);
		lc->nodes[i].ns = NULL;
	}
	netns_net_free(lc->net);
	lc->net = NULL;
	if (lc->own_dir && !keep_files && lc->dir[0] && fs_rm_rf(lc->dir, &e) < 0)
		log_warn("%s", e.msg);
	free(lc->nodes);
	lc->nodes = NULL;
	lc->n = 0;
}

/* Until every running node but the new one knows it. */
static int
known_by_all(struct local_cluster *lc, const struct local_node *n, struct err *e)
{
	uint64_t deadline = clock_now_ms() + (uint64_t)lc->opts.ready_timeout_ms;
	size_t i;

	for (i = 0; i + 1 < lc->n; i++) {
		struct conn *c;
		bool ok = false;

		if (!proc_is_running(&lc->nodes[i].proc))
			continue;
		if ((c = node_wait_ping(&lc->nodes[i], PING_TIMEOUT_MS, e)) == NULL)
			return -1;
		while (!(ok = knows(c, n->id)) && clock_now_ms() < deadline)
			clock_sleep_ms(POLL_MS);
		conn_free(c);
		if (!ok)
			return err_set(e, ETIMEDOUT, "node %d never learned of node %d",
				       lc->nodes[i].port, n->port);
	}
	return 0;
}

int
local_cluster_add_master(struct local_cluster *lc, bool wait_ready, struct err *e)
{
	struct local_node *n;
	struct conn *c = NULL;
	char *id;
	int rc = -1, base = lc->opts.base_port, peer = -1;
	struct local_node p;
	size_t i;

	for (i = 0; i < lc->n && peer < 0; i++)
		if (proc_is_running(&lc->nodes[i].proc))
			peer = (int)i;
	if (peer < 0)
		return err_set(e, 0, "adding a master: no node of the cluster runs");
	p = lc->nodes[peer]; /* a copy: lc->nodes moves below */

	lc->nodes = xrealloc(lc->nodes, (lc->n + 1) * sizeof(*lc->nodes));
	n = &lc->nodes[lc->n++];
	memset(n, 0, sizeof(*n));
	n->is_master = true;
	n->master = -1;
	snprintf(n->host, sizeof(n->host), "127.0.0.1");
	if (node_net(lc, lc->n - 1, e) < 0 || pick_ports(lc, base, lc->n - 1, e) < 0 ||
	    node_dir(lc, n, &lc->opts, e) < 0 || node_start(n, &lc->opts, e) < 0 ||
	    (c = node_wait_ping(n, PING_TIMEOUT_MS, e)) == NULL)
		goto out;
	if ((id = conn_cmd_str(c, e, "CLUSTER", "MYID", NULL)) == NULL)
		goto out;
	snprintf(n->id, sizeof(n->id), "%s", id);
	free(id);
	/* no SET-CONFIG-EPOCH: it starts at 0 and takes a fresh epoch
	 * when it is handed its first slot */
	if (meet(c, &p, e) < 0)
		goto out;
	rc = wait_ready ? local_cluster_wait_ready(lc, lc->opts.ready_timeout_ms, e)
			: known_by_all(lc, n, e);
out:
	conn_free(c);
	if (rc < 0) {
		err_prefix(e, "adding a master: ");
		proc_kill(&n->proc);
		netns_node_free(n->ns);
		n->ns = NULL;
		lc->n--;
	}
	return rc;
}

int
local_cluster_find_port(const struct local_cluster *lc, int port)
{
	size_t i;

	for (i = 0; i < lc->n; i++)
		if (lc->nodes[i].port == port)
			return (int)i;
	return -1;
}
