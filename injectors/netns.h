/*
 * netns.h - the sandbox network: the harness's own network namespace,
 * a bridge in it, and one namespace per node joined to the bridge by a
 * veth pair.  Everything goes through netlink (libnl-route-3); no `ip`.
 *
 *   harness namespace (private)          node namespace i
 *   +----------------------------+       +-------------------------+
 *   | sqb<pid> 198.18.0.1/15     |       |                         |
 *   |   `- sqv<pid>-<i> ---------+-veth--+- eth0 198.18.0.(10+i)/15 |
 *   | lo                         |       | lo                      |
 *   +----------------------------+       +-------------------------+
 *
 * Addresses are in 198.18.0.0/15 (RFC 2544, benchmarking) and nothing
 * else; the kernel's prefix route for the /15 reaches every node and
 * the harness, there is no default route and no forwarding.
 *
 * The harness first moves itself into a private namespace
 * (netns_enter_private()), so that the bridge, the veths and, through
 * them, the nodes' namespaces die with it even after SIGKILL: nothing
 * is ever created in the host's namespace.
 *
 * Every namespace made here (the private one and each node's) has its
 * IPv4 `local` routing rule moved from priority 0 to
 * NETNS_RULE_PREF_LOCAL, so that netcut's rules at NETNS_RULE_PREF_CUT
 * are looked up before local delivery (see netcut.h).
 *
 * Not thread-safe: one thread at a time uses a net and its nodes.
 */
#ifndef SQ_INJECTORS_NETNS_H
#define SQ_INJECTORS_NETNS_H

#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/err.h"

struct nl_addr;
struct nl_sock;

/* 198.18.0.0/15; the harness is .0.1, node i is .0.(10 + i) onwards. */
#define NETNS_NET_ADDR   0xc6120000u /* host byte order */
#define NETNS_PREFIX_LEN 15
#define NETNS_HOST_ADDR  (NETNS_NET_ADDR + 1)
#define NETNS_NODE_FIRST (NETNS_NET_ADDR + 10)
#define NETNS_MAX_NODES  1000 /* keeps "sqv<pid>-<i>" within IFNAMSIZ */

/* Routing rule priorities in every namespace made here. */
#define NETNS_RULE_PREF_CUT   100
#define NETNS_RULE_PREF_LOCAL 200

struct netns_net;

/*
 * One end of the sandbox network: a node, or the harness itself (the
 * clients' side, net->host).  Read-only outside netns.c.
 */
struct netns_node {
	struct netns_net *net; /* borrowed: the network it is on */
	int index;             /* node index; -1 for the harness */
	uint32_t addr;         /* host byte order, inside 198.18.0.0/15 */
	char addr_str[INET_ADDRSTRLEN]; /* "198.18.0.10" */
	int fd;             /* the namespace (O_CLOEXEC); -1: the harness's */
	struct nl_sock *sk; /* route socket opened inside the namespace */
	char ifname[IFNAMSIZ]; /* its interface there: "eth0", or the bridge */
	int ifindex;           /* of ifname, in its namespace */
	char veth[IFNAMSIZ]; /* harness side of its veth; "" for the harness */
	struct netns_node *next; /* the net's list of nodes */
};

struct netns_net {
	char bridge[IFNAMSIZ]; /* "sqb<pid>" */
	int bridge_ifindex;
	struct netns_node host; /* the harness: sk, bridge, 198.18.0.1 */
	struct netns_node *nodes;
};

/*
 * Moves the calling thread into a new network namespace and brings its
 * `lo` up (a new namespace starts with it down), through libnl; moves
 * the `local` rule as said above.  Call it in the main thread before any
 * thread is started: namespaces are per thread, and only threads started
 * afterwards follow it.  All or nothing: on failure the thread is back in
 * the namespace it was in; e->code is EPERM without the capabilities
 * (CAP_SYS_ADMIN for unshare(2), then CAP_NET_ADMIN).
 */
int netns_enter_private(struct err *e);

/*
 * Creates the bridge "sqb<pid>" with 198.18.0.1/15, up, in the calling
 * thread's namespace, which must be the private one: refused (EPERM)
 * where the `local` rule is still at priority 0, so that nothing is ever
 * made in the host's namespace.  Returns a new net; free it with
 * netns_net_free() once its nodes are freed.  NULL and `e` set on failure.
 */
struct netns_net *netns_net_new(struct err *e);

/* Deletes the bridge and frees `net`; NULL is a no-op.  Its nodes must
 * have been freed (a BUG otherwise). */
void netns_net_free(struct netns_net *net);

/*
 * A new namespace for node `index` (0 <= index < NETNS_MAX_NODES, unique
 * on `net`), made by a short-lived thread that unshares and opens its
 * /proc/thread-self/ns/net, so no process lingers to hold it.  In it: lo
 * and eth0 up, eth0 198.18.0.(10+index)/15, the other end "sqv<pid>-<i>"
 * on the bridge and up.  Returns the node, owned by the caller; free it
 * with netns_node_free() before `net`.  NULL and `e` set on failure,
 * with nothing left behind.
 */
struct netns_node *netns_node_new(struct netns_net *net, int index,
				  struct err *e);

/* Deletes the node's veth (its eth0 goes with it), closes its namespace
 * and socket, and frees it; the namespace is gone once no process is in
 * it.  NULL is a no-op. */
void netns_node_free(struct netns_node *n);

/*
 * Moves the calling thread into the node's namespace: setns(2) on the
 * fd.  For a node's process after fork, before exec; async-signal-safe
 * (no allocation, no lock).  Returns 0, or -1 with errno set (EBADF for
 * net->host, whose namespace the child is in already).
 */
int netns_node_join(const struct netns_node *n);

/* Pure helpers, exposed for the unit tests. */

/* The address of node `index` (host byte order) into *out; -1 when the
 * index is out of range (and *out unchanged). */
int netns_node_addr(int index, uint32_t *out);

/* True when `addr` (host byte order) is inside 198.18.0.0/15. */
bool netns_addr_in_sandbox(uint32_t addr);

/* The harness-side names: "sqb<pid>" and "sqv<pid>-<index>".  -1 when the
 * name would not fit IFNAMSIZ (16 bytes with its NUL). */
int netns_bridge_name(char out[IFNAMSIZ], pid_t pid);
int netns_veth_name(char out[IFNAMSIZ], pid_t pid, int index);

/* Sets `e` from a libnl error (`nlerr`, negative NLE_*): the message is
 * fmt followed by ": " and nl_geterror(); e->code is the closest errno
 * (EPERM, ENOENT, EEXIST, ENODEV...) or 0.  Always returns -1. */
int netns_nl_err(struct err *e, int nlerr, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A new libnl address for `addr` (host byte order) with `prefixlen`;
 * put it with nl_addr_put(). */
struct nl_addr *netns_nl_addr(uint32_t addr, int prefixlen);

#endif
