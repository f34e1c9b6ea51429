/*
 * netns.c - the sandbox network: namespaces, bridge, veths, addresses;
 * see netns.h.
 *
 * A netlink socket stays in the namespace it was opened in, whichever
 * thread uses it later.  So each node's namespace is made by a
 * short-lived thread that unshares, opens the namespace's fd and a route
 * socket there, and exits; from then on the harness's thread configures
 * the node through that socket, and the harness's own socket (net->host.sk)
 * does the bridge side.  No thread ever switches back and forth.
 */
#define LOG_MODULE "injectors/netns"

#include "injectors/netns.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fib_rules.h>
#include <linux/rtnetlink.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <netlink/addr.h>
#include <netlink/cache.h>
#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/bridge.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/rule.h>

#include "common/log.h"
#include "common/xmalloc.h"

#define NS_SELF "/proc/thread-self/ns/net"

/* libnl allocators return NULL only when out of memory: like xmalloc(). */
static void *
must(void *p)
{
	if (p == NULL)
		fatalx("out of memory");
	return p;
}

static int
nl_errno(int nlerr)
{
	switch (nlerr < 0 ? -nlerr : nlerr) {
	case NLE_PERM:
		return EPERM;
	case NLE_NOACCESS:
		return EACCES;
	case NLE_OBJ_NOTFOUND:
		return ENOENT;
	case NLE_EXIST:
		return EEXIST;
	case NLE_NODEV:
		return ENODEV;
	case NLE_BUSY:
		return EBUSY;
	case NLE_INVAL:
		return EINVAL;
	case NLE_OPNOTSUPP:
		return EOPNOTSUPP;
	case NLE_NOMEM:
		return ENOMEM;
	default:
		return 0;
	}
}

int
netns_nl_err(struct err *e, int nlerr, const char *fmt, ...)
{
	char what[ERR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return err_set(e, nl_errno(nlerr), "%s: %s", what, nl_geterror(nlerr));
}

struct nl_addr *
netns_nl_addr(uint32_t addr, int prefixlen)
{
	uint32_t be = htonl(addr);
	struct nl_addr *a = must(nl_addr_build(AF_INET, &be, sizeof(be)));

	nl_addr_set_prefixlen(a, prefixlen);
	return a;
}

/* --- pure helpers --- */

int
netns_node_addr(int index, uint32_t *out)
{
	if (index < 0 || index >= NETNS_MAX_NODES)
		return -1;
	*out = NETNS_NODE_FIRST + (uint32_t)index;
	return 0;
}

bool
netns_addr_in_sandbox(uint32_t addr)
{
	uint32_t mask = ~((1u << (32 - NETNS_PREFIX_LEN)) - 1);

	return (addr & mask) == NETNS_NET_ADDR;
}

static int
name_fits(char out[IFNAMSIZ], const char *tmp, int n)
{
	if (n <= 0 || n >= IFNAMSIZ)
		return -1;
	memcpy(out, tmp, (size_t)n + 1);
	return 0;
}

int
netns_bridge_name(char out[IFNAMSIZ], pid_t pid)
{
	char tmp[64];
	int n = snprintf(tmp, sizeof(tmp), "sqb%ld", (long)pid);

	return name_fits(out, tmp, n);
}

int
netns_veth_name(char out[IFNAMSIZ], pid_t pid, int index)
{
	char tmp[64];
	int n;

	if (index < 0)
		return -1;
	n = snprintf(tmp, sizeof(tmp), "sqv%ld-%d", (long)pid, index);
	return name_fits(out, tmp, n);
}

static void
addr_to_str(uint32_t addr, char out[INET_ADDRSTRLEN])
{
	struct in_addr in = {.s_addr = htonl(addr)};

	inet_ntop(AF_INET, &in, out, INET_ADDRSTRLEN);
}

/* --- netlink steps; each names what failed --- */

/* A route socket in the calling thread's namespace; NULL and `e` set. */
static struct nl_sock *
route_socket(struct err *e)
{
	struct nl_sock *sk = must(nl_socket_alloc());
	int rc = nl_connect(sk, NETLINK_ROUTE);

	if (rc < 0) {
		nl_socket_free(sk);
		netns_nl_err(e, rc, "open a route netlink socket");
		return NULL;
	}
	return sk;
}

static int
link_ifindex(struct nl_sock *sk, const char *name, int *out, struct err *e)
{
	struct rtnl_link *link;
	int rc = rtnl_link_get_kernel(sk, 0, name, &link);

	if (rc < 0)
		return netns_nl_err(e, rc, "find link '%s'", name);
	*out = rtnl_link_get_ifindex(link);
	rtnl_link_put(link);
	return 0;
}

static int
link_set_up(struct nl_sock *sk, const char *name, struct err *e)
{
	struct rtnl_link *link, *change;
	int rc = rtnl_link_get_kernel(sk, 0, name, &link);

	if (rc < 0)
		return netns_nl_err(e, rc, "find link '%s'", name);
	change = must(rtnl_link_alloc());
	rtnl_link_set_flags(change, IFF_UP);
	rc = rtnl_link_change(sk, link, change, 0);
	rtnl_link_put(change);
	rtnl_link_put(link);
	if (rc < 0)
		return netns_nl_err(e, rc, "set link '%s' up", name);
	return 0;
}

/* Deletes link `name`; one already gone is no error. */
static int
link_delete(struct nl_sock *sk, const char *name, struct err *e)
{
	struct rtnl_link *link = must(rtnl_link_alloc());
	int rc;

	rtnl_link_set_name(link, name);
	rc = rtnl_link_delete(sk, link);
	rtnl_link_put(link);
	if (rc < 0 && rc != -NLE_OBJ_NOTFOUND && rc != -NLE_NODEV)
		return netns_nl_err(e, rc, "delete link '%s'", name);
	return 0;
}

static int
addr_add(struct nl_sock *sk, int ifindex, const char *ifname, uint32_t addr,
	 struct err *e)
{
	struct rtnl_addr *a = must(rtnl_addr_alloc());
	struct nl_addr *local = netns_nl_addr(addr, NETNS_PREFIX_LEN);
	char s[INET_ADDRSTRLEN];
	int rc;

	rtnl_addr_set_family(a, AF_INET);
	rtnl_addr_set_ifindex(a, ifindex);
	rc = rtnl_addr_set_local(a, local);
	if (rc == 0)
		rc = rtnl_addr_add(sk, a, NLM_F_EXCL);
	nl_addr_put(local);
	rtnl_addr_put(a);
	if (rc < 0) {
		addr_to_str(addr, s);
		return netns_nl_err(e, rc, "add address %s/%d on '%s'", s,
				    NETNS_PREFIX_LEN, ifname);
	}
	return 0;
}

/* Adds (or deletes) the IPv4 rule "from all lookup local" at `prio`. */
static int
local_rule(struct nl_sock *sk, uint32_t prio, bool add, struct err *e)
{
	struct rtnl_rule *r = must(rtnl_rule_alloc());
	int rc;

	rtnl_rule_set_family(r, AF_INET);
	rtnl_rule_set_prio(r, prio);
	rtnl_rule_set_table(r, RT_TABLE_LOCAL);
	if (add) {
		rtnl_rule_set_action(r, FR_ACT_TO_TBL);
		rc = rtnl_rule_add(sk, r, NLM_F_EXCL);
	} else {
		rc = rtnl_rule_delete(sk, r, 0);
	}
	rtnl_rule_put(r);
	if (rc < 0)
		return netns_nl_err(e, rc,
				    "%s rule 'lookup local' at priority %u",
				    add ? "add" : "delete", prio);
	return 0;
}

/* 1 when the `local` rule is still at priority 0 (a namespace not made
 * here, such as the host's), 0 when moved, -1 with `e` set. */
static int
local_rule_at_zero(struct nl_sock *sk, struct err *e)
{
	struct nl_cache *cache;
	struct nl_object *o;
	int rc, found = 0;

	rc = rtnl_rule_alloc_cache(sk, AF_INET, &cache);
	if (rc < 0)
		return netns_nl_err(e, rc, "list routing rules");
	for (o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
		struct rtnl_rule *r = (struct rtnl_rule *)o;

		/* the cache holds every family, whatever was asked */
		if (rtnl_rule_get_family(r) == AF_INET &&
		    rtnl_rule_get_prio(r) == 0 &&
		    rtnl_rule_get_table(r) == RT_TABLE_LOCAL)
			found = 1;
	}
	nl_cache_free(cache);
	return found;
}

/* What every namespace made here gets: lo up, and the `local` rule moved
 * behind NETNS_RULE_PREF_CUT (added at its new place before it leaves
 * the old one, so that local delivery never stops). */
static int
prepare_ns(struct nl_sock *sk, struct err *e)
{
	if (link_set_up(sk, "lo", e) < 0 ||
	    local_rule(sk, NETNS_RULE_PREF_LOCAL, true, e) < 0 ||
	    local_rule(sk, 0, false, e) < 0)
		return -1;
	return 0;
}

/* --- the harness's namespace --- */

int
netns_enter_private(struct err *e)
{
	struct nl_sock *sk;
	int old, rc = -1;

	old = open(NS_SELF, O_RDONLY | O_CLOEXEC);
	if (old < 0)
		return err_set(e, errno, "open '%s': %s", NS_SELF,
			       strerror(errno));
	if (unshare(CLONE_NEWNET) < 0) {
		err_set(e, errno, "enter a private network namespace: %s",
			strerror(errno));
		goto out_old;
	}
	sk = route_socket(e);
	if (sk == NULL)
		goto out_back;
	rc = prepare_ns(sk, e);
	nl_socket_free(sk);
	if (rc == 0)
		goto out_old;
	err_prefix(e, "private network namespace: ");
out_back:
	if (setns(old, CLONE_NEWNET) < 0)
		fatal("return to the namespace the harness started in");
	rc = -1;
out_old:
	close(old);
	return rc;
}

struct netns_net *
netns_net_new(struct err *e)
{
	struct netns_net *net = xcalloc(1, sizeof(*net));
	struct netns_node *h = &net->host;
	struct err undo = ERR_INIT;
	struct rtnl_link *br;
	int rc;

	if (netns_bridge_name(net->bridge, getpid()) < 0)
		BUG("bridge name longer than IFNAMSIZ");
	h->net = net;
	h->index = -1;
	h->addr = NETNS_HOST_ADDR;
	addr_to_str(h->addr, h->addr_str);
	h->fd = -1;
	memcpy(h->ifname, net->bridge, sizeof(h->ifname));
	h->sk = route_socket(e);
	if (h->sk == NULL)
		goto out_free;
	rc = local_rule_at_zero(h->sk, e);
	if (rc < 0)
		goto out_sk;
	if (rc == 1) {
		err_set(e, EPERM,
			"create bridge '%s': not in a namespace of "
			"netns_enter_private(), refused",
			net->bridge);
		goto out_sk;
	}
	br = must(rtnl_link_bridge_alloc());
	rtnl_link_set_name(br, net->bridge);
	rc = rtnl_link_add(h->sk, br, NLM_F_CREATE | NLM_F_EXCL);
	rtnl_link_put(br);
	if (rc < 0) {
		netns_nl_err(e, rc, "create bridge '%s'", net->bridge);
		goto out_sk;
	}
	if (link_ifindex(h->sk, net->bridge, &net->bridge_ifindex, e) < 0 ||
	    addr_add(h->sk, net->bridge_ifindex, net->bridge, h->addr, e) < 0 ||
	    link_set_up(h->sk, net->bridge, e) < 0)
		goto out_bridge;
	h->ifindex = net->bridge_ifindex;
	return net;

out_bridge:
	if (link_delete(h->sk, net->bridge, &undo) < 0)
		log_warn("%s", undo.msg);
out_sk:
	nl_socket_free(h->sk);
out_free:
	free(net);
	return NULL;
}

void
netns_net_free(struct netns_net *net)
{
	struct err e = ERR_INIT;

	if (net == NULL)
		return;
	if (net->nodes != NULL)
		BUG("netns_net_free() with nodes still on the bridge");
	if (link_delete(net->host.sk, net->bridge, &e) < 0)
		log_warn("%s", e.msg);
	nl_socket_free(net->host.sk);
	free(net);
}

/* --- a node's namespace --- */

struct birth {
	int fd;
	struct nl_sock *sk;
	struct err e;
};

/* The thread that makes the namespace: it ends right after, and the
 * namespace lives on through the fd and the socket. */
static void *
birth(void *arg)
{
	struct birth *b = arg;

	if (unshare(CLONE_NEWNET) < 0) {
		err_set(&b->e, errno, "new network namespace: %s",
			strerror(errno));
		return NULL;
	}
	b->fd = open(NS_SELF, O_RDONLY | O_CLOEXEC);
	if (b->fd < 0) {
		err_set(&b->e, errno, "open '%s': %s", NS_SELF,
			strerror(errno));
		return NULL;
	}
	b->sk = route_socket(&b->e);
	if (b->sk == NULL) {
		close(b->fd);
		b->fd = -1;
	}
	return NULL;
}

static int
new_namespace(struct netns_node *n, struct err *e)
{
	struct birth b = {.fd = -1, .sk = NULL, .e = ERR_INIT};
	pthread_t t;
	int rc;

	rc = pthread_create(&t, NULL, birth, &b);
	if (rc != 0)
		return err_set(e, rc, "start a thread: %s", strerror(rc));
	pthread_join(t, NULL);
	if (b.sk == NULL) {
		*e = b.e;
		return -1;
	}
	n->fd = b.fd;
	n->sk = b.sk;
	return 0;
}

/* The pair: n->veth on the bridge here, its peer n->ifname created
 * straight inside the node's namespace (so no name clash here). */
static int
veth_add(struct netns_net *net, struct netns_node *n, struct err *e)
{
	struct rtnl_link *veth = must(rtnl_link_veth_alloc());
	struct rtnl_link *peer;
	int rc;

	rtnl_link_set_name(veth, n->veth);
	rtnl_link_set_master(veth, net->bridge_ifindex);
	peer = rtnl_link_veth_get_peer(veth);
	rtnl_link_set_name(peer, n->ifname);
	rtnl_link_set_ns_fd(peer, n->fd);
	rtnl_link_put(peer);
	rc = rtnl_link_add(net->host.sk, veth, NLM_F_CREATE | NLM_F_EXCL);
	rtnl_link_put(veth); /* and the peer with it */
	if (rc < 0)
		return netns_nl_err(e, rc, "create veth '%s' on '%s'", n->veth,
				    net->bridge);
	return 0;
}

struct netns_node *
netns_node_new(struct netns_net *net, int index, struct err *e)
{
	struct err undo = ERR_INIT;
	struct netns_node *n, *o;
	uint32_t addr;

	if (netns_node_addr(index, &addr) < 0) {
		err_set(e, EINVAL, "node %d: index out of range (0 to %d)",
			index, NETNS_MAX_NODES - 1);
		return NULL;
	}
	for (o = net->nodes; o; o = o->next)
		if (o->index == index) {
			err_set(e, EEXIST, "node %d: already on '%s'", index,
				net->bridge);
			return NULL;
		}
	n = xcalloc(1, sizeof(*n));
	n->net = net;
	n->index = index;
	n->addr = addr;
	addr_to_str(addr, n->addr_str);
	snprintf(n->ifname, sizeof(n->ifname), "eth0");
	if (netns_veth_name(n->veth, getpid(), index) < 0)
		BUG("veth name longer than IFNAMSIZ");
	if (new_namespace(n, e) < 0)
		goto out_free;
	if (prepare_ns(n->sk, e) < 0 || veth_add(net, n, e) < 0)
		goto out_ns;
	if (link_set_up(net->host.sk, n->veth, e) < 0 ||
	    link_ifindex(n->sk, n->ifname, &n->ifindex, e) < 0 ||
	    addr_add(n->sk, n->ifindex, n->ifname, addr, e) < 0 ||
	    link_set_up(n->sk, n->ifname, e) < 0)
		goto out_veth;
	n->next = net->nodes;
	net->nodes = n;
	return n;

out_veth:
	if (link_delete(net->host.sk, n->veth, &undo) < 0)
		log_warn("%s", undo.msg);
out_ns:
	nl_socket_free(n->sk);
	close(n->fd);
out_free:
	free(n);
	err_prefix(e, "node %d: ", index);
	return NULL;
}

void
netns_node_free(struct netns_node *n)
{
	struct netns_node **pp;
	struct err e = ERR_INIT;

	if (n == NULL)
		return;
	if (link_delete(n->net->host.sk, n->veth, &e) < 0)
		log_warn("node %d: %s", n->index, e.msg);
	for (pp = &n->net->nodes; *pp; pp = &(*pp)->next)
		if (*pp == n) {
			*pp = n->next;
			break;
		}
	nl_socket_free(n->sk);
	close(n->fd);
	free(n);
}

int
netns_node_join(const struct netns_node *n)
{
	return setns(n->fd, CLONE_NEWNET);
}
