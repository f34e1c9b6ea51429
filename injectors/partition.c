/*
 * partition.c - the network between nodes, or between a node and its
 * clients, stops carrying packets.  Needs the cluster in network
 * namespaces ([cluster] network = netns); the links are cut by netlink
 * rules in the receiving namespaces (injectors/netcut.h): packets vanish
 * silently, connects time out, nobody gets an error, as in a real
 * partition.  revert() removes exactly the rules it added.
 *
 *   mode      = isolate | pair | one-way | majority   (default isolate)
 *   peer      = ROLE          pair, one-way: the other end (source,
 *                             target, bystander, node:N, ...)
 *   direction = out | in      one-way: the target's packets to the peer
 *                             are lost (out, the default), or the peer's
 *                             to the target (in)
 *   with      = ROLE,ROLE     majority: nodes on the target's side; the
 *                             clients and every other node are on the
 *                             other side (default: the target alone)
 *   clients   = yes | no      isolate: cut the clients off too (yes)
 *   hold_ms   = 0             inject() returns only once the cut has
 *                             lasted this long: the reshard (and any
 *                             later fault) goes on with the link cut
 *                             for that long already, as when a cut
 *                             goes unnoticed for a while (a replica's
 *                             data grows old: see
 *                             kill-source-replica-too-stale.ini)
 *
 * At the packet level, one-way means one direction's packets are lost;
 * for TCP that breaks the link both ways (a handshake needs both), which
 * is what a one-way firewall rule or a half-broken route does to Redis.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/xmalloc.h"
#include "injectors/injector.h"
#include "injectors/netcut.h"

enum partition_mode { PART_ISOLATE, PART_PAIR, PART_ONE_WAY, PART_MAJORITY };

#define WITH_MAX 16

struct partition_priv {
	int mode;
	char peer[32];
	bool in;          /* one-way: the peer's packets are lost */
	bool clients;     /* isolate: from the clients too */
	char with[WITH_MAX][32];
	int nwith;
	struct netcut *nc;
	char what[160];   /* what was cut, for describe() */
	int peer_node;
	long long hold_ms;
};

static const char *const modes[] = {"isolate", "pair", "one-way", "majority", NULL};

/* The index in `words` of key's value into *out (def when absent); an
 * unknown word is an error naming the line and what is `expected`. */
static int
word(const struct params *p, const char *key, const char *const *words, int def, int *out,
     const char *expected, struct err *e)
{
	const char *v = params_get(p, key);
	int i;

	*out = def;
	if (v == NULL)
		return 0;
	for (i = 0; words[i]; i++)
		if (strcmp(words[i], v) == 0) {
			*out = i;
			return 0;
		}
	return err_set(e, EINVAL, "line %d: %s = '%s': expected %s", params_line(p, key), key, v,
		       expected);
}

/* Its own keys, for the scenario loader's messages as for parse(). */
static const char *const partition_keys[] = {"mode", "peer", "direction", "with", "clients",
					     "hold_ms", NULL};

static int
partition_parse(struct fault *f, const struct params *p, struct err *e)
{
	static const char *const dirs[] = {"out", "in", NULL};
	static const char *const yn[] = {"no", "yes", NULL};
	struct partition_priv *k = f->priv;
	const char *peer = params_get(p, "peer"), *with = params_get(p, "with");
	int dir, cl;

	if (params_check_keys(p, "partition", partition_keys, e) < 0 ||
	    word(p, "mode", modes, PART_ISOLATE, &k->mode, "isolate, pair, one-way or majority",
		 e) < 0 ||
	    word(p, "direction", dirs, 0, &dir, "out or in", e) < 0 ||
	    word(p, "clients", yn, 1, &cl, "yes or no", e) < 0 ||
	    params_duration_ms(p, "hold_ms", 0, &k->hold_ms, e) < 0)
		return -1;
	k->in = dir == 1;
	k->clients = cl == 1;
	if ((k->mode == PART_PAIR || k->mode == PART_ONE_WAY) && peer == NULL)
		return err_set(e, EINVAL, "line %d: mode = %s needs peer = ROLE, the other end",
			       params_line(p, "mode"), modes[k->mode]);
	if (peer && k->mode != PART_PAIR && k->mode != PART_ONE_WAY)
		return err_set(e, EINVAL, "line %d: peer goes with mode = pair or one-way",
			       params_line(p, "peer"));
	if (params_get(p, "direction") && k->mode != PART_ONE_WAY)
		return err_set(e, EINVAL, "line %d: direction goes with mode = one-way",
			       params_line(p, "direction"));
	if (with && k->mode != PART_MAJORITY)
		return err_set(e, EINVAL, "line %d: with goes with mode = majority",
			       params_line(p, "with"));
	if (params_get(p, "clients") && k->mode != PART_ISOLATE)
		return err_set(e, EINVAL, "line %d: clients goes with mode = isolate",
			       params_line(p, "clients"));
	if (peer)
		snprintf(k->peer, sizeof(k->peer), "%s", peer);
	while (with && *with) {
		size_t len = strcspn(with, ",");

		if (k->nwith == WITH_MAX || len == 0 || len >= sizeof(k->with[0]))
			return err_set(e, EINVAL, "line %d: with = '%s': expected up to %d roles "
				       "separated by commas", params_line(p, "with"),
				       params_get(p, "with"), WITH_MAX);
		memcpy(k->with[k->nwith], with, len);
		k->with[k->nwith++][len] = '\0';
		with += len + (with[len] == ',');
	}
	return 0;
}

/* The end of the node a role names; -1 with `e` when there is none. */
static const struct netns_node *
end_of(struct target *t, const char *role, int *node, struct err *e)
{
	const struct netns_node *n;

	*node = t->role_node ? t->role_node(t->net_arg, role) : -1;
	if (*node < 0)
		return err_set(e, 0, "no node plays %s", role), NULL;
	n = t->net_end(t->net_arg, *node);
	if (n == NULL)
		return err_set(e, 0, "node %d (%s) has no network namespace", *node, role), NULL;
	return n;
}

static int
cut_majority(struct partition_priv *k, struct target *t, const struct netns_node *me,
	     struct err *e)
{
	const struct netns_node *a[WITH_MAX + 1], **b, *x;
	size_t na = 0, nb = 0;
	int i, node, rc;
	bool mine;

	a[na++] = me;
	for (i = 0; i < k->nwith; i++) {
		if ((x = end_of(t, k->with[i], &node, e)) == NULL)
			return -1;
		if (x != me)
			a[na++] = x;
	}
	/* the other side: the clients and every node not on ours */
	for (i = 0; t->net_end(t->net_arg, i); i++)
		;
	b = xcalloc((size_t)i + 2, sizeof(*b));
	b[nb++] = t->net_end(t->net_arg, -1);
	for (i = 0; (x = t->net_end(t->net_arg, i)) != NULL; i++) {
		size_t j;

		for (j = 0, mine = false; j < na; j++)
			mine |= a[j] == x;
		if (!mine)
			b[nb++] = x;
	}
	rc = netcut_split(k->nc, a, na, b, nb, e);
	free(b);
	snprintf(k->what, sizeof(k->what), "%zu node%s cut off from %zu nodes and the clients",
		 na, na == 1 ? "" : "s", nb - 1);
	return rc;
}

static int
partition_inject(struct fault *f, struct target *t, struct err *e)
{
	struct partition_priv *k = f->priv;
	const struct netns_node *me = t->net_end ? t->net_end(t->net_arg, t->node) : NULL;
	const struct netns_node *peer;
	int rc = -1;

	if (me == NULL)
		return err_set(e, 0, "partition node %d: the cluster is not in network "
			       "namespaces ([cluster] network = netns)", t->port);
	if (k->nc == NULL)
		k->nc = netcut_new();
	f->target = t;
	switch (k->mode) {
	case PART_ISOLATE:
		if (k->clients) {
			rc = netcut_isolate(k->nc, me, e);
			snprintf(k->what, sizeof(k->what), "isolated from every node and the clients");
		} else {
			const struct netns_node *a[1] = {me}, **b, *x;
			size_t nb = 0;
			int i;

			for (i = 0; t->net_end(t->net_arg, i); i++)
				;
			b = xcalloc((size_t)i + 1, sizeof(*b));
			for (i = 0; (x = t->net_end(t->net_arg, i)) != NULL; i++)
				if (x != me)
					b[nb++] = x;
			rc = netcut_split(k->nc, a, 1, b, nb, e);
			free(b);
			snprintf(k->what, sizeof(k->what), "isolated from every node (clients still "
				 "reach it)");
		}
		break;
	case PART_PAIR:
	case PART_ONE_WAY:
		if ((peer = end_of(t, k->peer, &k->peer_node, e)) == NULL)
			break;
		if (peer == me) {
			err_set(e, 0, "peer = %s is the target itself", k->peer);
			break;
		}
		if (k->mode == PART_PAIR) {
			rc = netcut_pair(k->nc, me, peer, e);
			snprintf(k->what, sizeof(k->what), "cut from node %d (%s) both ways",
				 k->peer_node, k->peer);
		} else {
			rc = k->in ? netcut_block(k->nc, peer, me, e) : netcut_block(k->nc, me, peer, e);
			snprintf(k->what, sizeof(k->what), "%s node %d (%s) lost (one-way)",
				 k->in ? "packets from" : "its packets to", k->peer_node, k->peer);
		}
		break;
	case PART_MAJORITY:
		rc = cut_majority(k, t, me, e);
		break;
	}
	if (rc < 0)
		return err_prefix(e, "partition node %d: ", t->port);
	f->injected = true;
	if (k->hold_ms > 0) {
		size_t len = strlen(k->what);

		clock_sleep_ms((unsigned)k->hold_ms);
		snprintf(k->what + len, sizeof(k->what) - len, ", held %lld ms before the "
			 "reshard went on", k->hold_ms);
	}
	return 0;
}

static int
partition_revert(struct fault *f, struct err *e)
{
	struct partition_priv *k = f->priv;

	return k->nc ? netcut_heal(k->nc, e) : 0;
}

static void
partition_release(struct fault *f)
{
	struct partition_priv *k = f->priv;

	netcut_free(k->nc);
	k->nc = NULL;
}

/* Whether a TCP connect from the harness to `addr`:port completes within
 * `ms`: the clients' view of the cut. */
static bool
reachable(const struct netns_node *n, int port, int ms)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				.sin_addr.s_addr = htonl(n->addr)};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), err = 0;
	struct pollfd p = {.fd = fd, .events = POLLOUT};
	socklen_t len = sizeof(err);
	bool ok = false;

	if (fd < 0)
		return false;
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0)
		ok = true;
	else if (errno == EINPROGRESS && poll(&p, 1, ms) == 1 &&
		 getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0)
		ok = true;
	close(fd);
	return ok;
}

static void
partition_describe(const struct fault *f, char *out, size_t n)
{
	const struct partition_priv *k = f->priv;
	struct target *t = f->target;
	const struct netns_node *me;

	if (t == NULL || !f->injected) {
		snprintf(out, n, "not fired");
		return;
	}
	me = t->net_end(t->net_arg, t->node);
	snprintf(out, n, "node %d %s: %zu netlink rules in place; from the clients, its port %s",
		 t->port, k->what, k->nc ? netcut_changes(k->nc) : 0,
		 me && reachable(me, t->port, 300) ? "answers" : "does not answer (connect timed out)");
}

static void
partition_evidence(const struct fault *f, struct evidence *ev)
{
	const struct partition_priv *k = f->priv;
	struct target *t = f->target;
	const struct netns_node *me;

	if (t == NULL || !f->injected)
		return;
	me = t->net_end(t->net_arg, t->node);
	evidence_add(ev, "mode", "%s", modes[k->mode]);
	evidence_add(ev, "cut", "%s", k->what);
	evidence_num(ev, "rules", k->nc ? (long long)netcut_changes(k->nc) : 0);
	if (me)
		evidence_add(ev, "address", "%s", me->addr_str);
	evidence_add(ev, "clients_reach_it", "%s",
		     me && reachable(me, t->port, 300) ? "yes" : "no");
}

static const char *const role_params[] = {"peer", "with", NULL};

const struct injector_ops partition_injector = {
	.name = "partition",
	.params = partition_keys,
	.priv_size = sizeof(struct partition_priv),
	.flags = INJ_NEEDS_NETNS | INJ_UNREACHABLE,
	.role_params = role_params,
	.parse = partition_parse,
	.inject = partition_inject,
	.revert = partition_revert,
	.release = partition_release,
	.describe = partition_describe,
	.evidence = partition_evidence,
};
