/*
 * netcut.h - cutting and degrading the sandbox network of netns.h, and
 * healing exactly what was done.  The `partition` and `degrade` faults
 * stand on it.  Everything through netlink (libnl-route-3).
 *
 * A `struct netcut` is a list of every change it made (a routing rule,
 * a qdisc); netcut_heal() undoes them newest first and forgets each one
 * undone, so it is idempotent and a failed undo can be retried.
 *
 * How packets are cut: on ARRIVAL, never on departure.
 * netcut_block(from, to) adds, in `to`'s namespace, the routing rules
 *
 *	from <from's address> iif <to's interface> ipproto tcp|udp|icmp
 *	    blackhole   (priority NETNS_RULE_PREF_CUT)
 *
 * so `to` drops what `from` sends it, silently, as a network losing
 * packets would: nobody is told (no ICMP, no error to any socket), and
 * the `local` rule moved behind them by netns.c lets them apply to
 * packets for local addresses.  The alternative, a blackhole *route* to
 * `to` in `from`'s namespace, makes every new connect() and sendto() of
 * `from` fail at once with EINVAL (measured: 0 ms): a reshard would see
 * an instant error where a real partition gives a timeout.  Adding or
 * deleting a rule flushes the route cache, so established connections
 * are cut too (no cached input route bypasses the rules) and resume
 * once healed.  ARP is left alone (the rules match IP protocols only,
 * and ARP's route check has none), as behind a firewall dropping IP:
 * neighbours stay resolved and connects time out, where rules matching
 * ARP too made them fail with "No route to host" after 3 s, and for a
 * while after healing.  A connect to a cut peer fails only when TCP
 * gives up (133 s with the default tcp_syn_retries = 6), so callers
 * need their own timeouts, as against a real partition.  Other IP
 * protocols (SCTP, raw IP) pass; nothing here uses them.  IPv6 is not
 * cut (the nodes have IPv4 addresses only; link-local IPv6 exists but
 * is unused).
 *
 * What each mode means at the packet level, and so for TCP:
 * - one-way, netcut_block(from, to): packets from `from` to `to` are
 *   dropped; `to`'s packets still reach `from`.  UDP flows to->from
 *   only.  TCP works in NEITHER direction: a connect from `from` loses
 *   its SYN, a connect from `to` loses the SYN-ACK; both time out
 *   (nobody gets an error before TCP gives up).
 * - pair, netcut_pair(a, b): both of the above; symmetric.
 * - isolate, netcut_isolate(n): pair(n, x) for every other node of its
 *   net and for the harness (net->host, the clients' side).
 * - majority, netcut_split(side_a, side_b): pair(a, b) for every a in
 *   side_a and b in side_b; ends in neither side keep all their links.
 *   Put &net->host in a side to say where the clients are.
 *
 * Degrade: a netem qdisc as the root qdisc of the end's interface in its
 * namespace (a node's eth0: what the node sends is delayed or lost; the
 * bridge for net->host: what the harness sends).  One netem per end:
 * degrading it again replaces the parameters.
 *
 * Overlapping cuts: each netcut adds its own copy of a rule (no
 * NLM_F_EXCL) and deletes one copy at heal, so two netcuts blocking the
 * same pair each keep it cut until both have healed.
 *
 * The ends passed in are borrowed: heal (or free) a netcut before its
 * ends are freed.  Not thread-safe.
 */
#ifndef SQ_INJECTORS_NETCUT_H
#define SQ_INJECTORS_NETCUT_H

#include <stddef.h>

#include "common/err.h"
#include "injectors/netns.h"

struct netcut;

/* Returns a new, empty netcut; free it with netcut_free(). */
struct netcut *netcut_new(void);

/* Heals (failures go to the log) and frees; NULL is a no-op. */
void netcut_free(struct netcut *nc);

/* One-way: packets from `from` no longer reach `to` (see above).  All or
 * nothing; -1 with `e` set. */
int netcut_block(struct netcut *nc, const struct netns_node *from,
		 const struct netns_node *to, struct err *e);

/* `a` and `b` no longer reach each other.  All or nothing. */
int netcut_pair(struct netcut *nc, const struct netns_node *a,
		const struct netns_node *b, struct err *e);

/* `n` reaches nothing and nothing reaches it: every other node of its
 * net, and the harness.  All or nothing. */
int netcut_isolate(struct netcut *nc, const struct netns_node *n,
		   struct err *e);

/* No end of side `a` reaches an end of side `b`, nor the converse (a
 * majority/minority split).  The sides must not share an end.  All or
 * nothing. */
int netcut_split(struct netcut *nc, const struct netns_node *const *a,
		 size_t na, const struct netns_node *const *b, size_t nb,
		 struct err *e);

/* A netem qdisc's parameters. */
struct netcut_netem {
	unsigned delay_ms;  /* added to every packet sent */
	unsigned jitter_ms; /* +- around delay_ms */
	double loss_pct;    /* 0 to 100: packets dropped at random */
};

#define NETCUT_MAX_DELAY_MS 600000u

/* Puts netem with `q` on what `n` sends (see above).  -1 with `e` set;
 * e->code is ENOENT when the kernel has no netem (sch_netem). */
int netcut_degrade(struct netcut *nc, const struct netns_node *n,
		   const struct netcut_netem *q, struct err *e);

/* Undoes every change, newest first; one already gone (its namespace
 * destroyed, or removed by hand) counts as undone.  Returns 0, or -1
 * with `e` naming the first failure; what failed stays listed for the
 * next call.  Safe to call any number of times. */
int netcut_heal(struct netcut *nc, struct err *e);

/* How many changes are in place (rules and qdiscs). */
size_t netcut_changes(const struct netcut *nc);

/* Whether this kernel can add a netem qdisc: tried in a throwaway
 * namespace, so it touches nothing.  -1 with `e` set (ENOENT: no
 * sch_netem; EPERM: no CAP_NET_ADMIN). */
int netcut_check_degrade(struct err *e);

#endif
