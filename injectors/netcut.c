/*
 * netcut.c - cutting and degrading the sandbox network; see netcut.h.
 *
 * Each change is kept as what is needed to build it again (where, from
 * whom, which protocol), and undone by sending the same object in a
 * delete request: the kernel removes the one matching rule or qdisc.
 */
#define LOG_MODULE "injectors/netcut"

#include "injectors/netcut.h"

#include <errno.h>
#include <linux/fib_rules.h>
#include <linux/pkt_sched.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/route/qdisc.h>
#include <netlink/route/qdisc/netem.h>
#include <netlink/route/rule.h>
#include <netlink/route/tc.h>

#include "common/log.h"
#include "common/xmalloc.h"

/* What a cut drops: the IP protocols, so that ARP still works. */
static const struct {
	uint8_t proto;
	const char *name;
} cut_protos[] = {
    {IPPROTO_TCP, "tcp"},
    {IPPROTO_UDP, "udp"},
    {IPPROTO_ICMP, "icmp"},
};

enum change_kind { CHANGE_RULE, CHANGE_NETEM };

struct change {
	enum change_kind kind;
	const struct netns_node *at;   /* whose namespace */
	const struct netns_node *from; /* CHANGE_RULE: whose packets drop */
	size_t proto;                  /* CHANGE_RULE: index in cut_protos */
};

struct netcut {
	struct change *v;
	size_t n, cap;
};

static void *
must(void *p)
{
	if (p == NULL)
		fatalx("out of memory");
	return p;
}

/* "node 3" or "the harness", for messages. */
static const char *
end_name(const struct netns_node *n, char *buf, size_t size)
{
	if (n->index < 0)
		return "the harness";
	snprintf(buf, size, "node %d", n->index);
	return buf;
}

struct netcut *
netcut_new(void)
{
	return xcalloc(1, sizeof(struct netcut));
}

size_t
netcut_changes(const struct netcut *nc)
{
	return nc->n;
}

static void
remember(struct netcut *nc, const struct change *c)
{
	xgrow(&nc->v, &nc->cap, nc->n + 1, sizeof(*nc->v));
	nc->v[nc->n++] = *c;
}

/* --- rules --- */

static struct rtnl_rule *
rule_of(const struct change *c)
{
	struct rtnl_rule *r = must(rtnl_rule_alloc());
	struct nl_addr *src = netns_nl_addr(c->from->addr, 32);

	rtnl_rule_set_family(r, AF_INET);
	rtnl_rule_set_prio(r, NETNS_RULE_PREF_CUT);
	rtnl_rule_set_src(r, src);
	rtnl_rule_set_iif(r, c->at->ifname);
	rtnl_rule_set_ipproto(r, cut_protos[c->proto].proto);
	rtnl_rule_set_action(r, FR_ACT_BLACKHOLE);
	nl_addr_put(src);
	return r;
}

/* "from 198.18.0.11 iif eth0 ipproto tcp blackhole", as `ip rule` says
 * it, into buf. */
static const char *
rule_text(const struct change *c, char *buf, size_t size)
{
	snprintf(buf, size, "from %s iif %s ipproto %s blackhole",
		 c->from->addr_str, c->at->ifname, cut_protos[c->proto].name);
	return buf;
}

static int
rule_err(struct err *e, int rc, const char *verb, const struct change *c)
{
	char b[32], text[96];

	return netns_nl_err(e, rc, "%s rule '%s' in %s", verb,
			    rule_text(c, text, sizeof(text)),
			    end_name(c->at, b, sizeof(b)));
}

static int
rule_add(struct netcut *nc, const struct change *c, struct err *e)
{
	struct rtnl_rule *r = rule_of(c);
	int rc = rtnl_rule_add(c->at->sk, r, 0); /* a copy of our own */

	rtnl_rule_put(r);
	if (rc < 0)
		return rule_err(e, rc, "add", c);
	remember(nc, c);
	return 0;
}

/* --- netem --- */

static struct rtnl_qdisc *
root_qdisc_of(const struct netns_node *n)
{
	struct rtnl_qdisc *q = must(rtnl_qdisc_alloc());

	rtnl_tc_set_ifindex(TC_CAST(q), n->ifindex);
	rtnl_tc_set_parent(TC_CAST(q), TC_H_ROOT);
	if (rtnl_tc_set_kind(TC_CAST(q), "netem") < 0)
		BUG("libnl without netem");
	return q;
}

/* Sets `p` on `q` (a root netem with its interface set) and adds it in
 * the namespace of `sk`, replacing whatever root qdisc is there.  Also
 * the probe of netcut_check_degrade(), hence no `struct netns_node`. */
static int
netem_put(struct nl_sock *sk, struct rtnl_qdisc *q,
	  const struct netcut_netem *p, const char *ifname, struct err *e)
{
	double loss = p->loss_pct / 100.0;
	int rc;

	rtnl_netem_set_delay(q, (int)(p->delay_ms * 1000));
	if (p->jitter_ms)
		rtnl_netem_set_jitter(q, (int)(p->jitter_ms * 1000));
	/* the kernel's scale: UINT32_MAX is 100%; libnl passes it on as is */
	if (loss > 0)
		rtnl_netem_set_loss(q, (int)(uint32_t)(loss * UINT32_MAX));
	rc = rtnl_qdisc_add(sk, q, NLM_F_CREATE | NLM_F_REPLACE);
	if (rc == -NLE_OBJ_NOTFOUND) /* the kernel knows no such kind */
		return err_set(e, ENOENT,
			       "add netem on '%s': %s (no sch_netem "
			       "in this kernel?)",
			       ifname, nl_geterror(rc));
	if (rc < 0)
		return netns_nl_err(e, rc, "add netem on '%s'", ifname);
	return 0;
}

static int
check_netem(const struct netcut_netem *q, struct err *e)
{
	if (!(q->loss_pct >= 0 && q->loss_pct <= 100))
		return err_set(e, EINVAL, "loss %g%%: expected 0 to 100",
			       q->loss_pct);
	if (q->delay_ms > NETCUT_MAX_DELAY_MS ||
	    q->jitter_ms > NETCUT_MAX_DELAY_MS)
		return err_set(e, EINVAL,
			       "delay %u ms, jitter %u ms: at most %u",
			       q->delay_ms, q->jitter_ms, NETCUT_MAX_DELAY_MS);
	return 0;
}

int
netcut_degrade(struct netcut *nc, const struct netns_node *n,
	       const struct netcut_netem *q, struct err *e)
{
	struct change c = {.kind = CHANGE_NETEM, .at = n};
	struct rtnl_qdisc *qd;
	char b[32];
	size_t i;
	int rc;

	if (check_netem(q, e) < 0)
		return err_prefix(e, "degrade %s: ", end_name(n, b, sizeof(b)));
	qd = root_qdisc_of(n);
	rc = netem_put(n->sk, qd, q, n->ifname, e);
	rtnl_qdisc_put(qd);
	if (rc < 0)
		return err_prefix(e, "degrade %s: ", end_name(n, b, sizeof(b)));
	for (i = 0; i < nc->n; i++)
		if (nc->v[i].kind == CHANGE_NETEM && nc->v[i].at == n)
			return 0; /* replaced: still one qdisc to remove */
	remember(nc, &c);
	return 0;
}

/* --- undoing --- */

/* Undoes one change; one already gone is no error. */
static int
undo(const struct change *c, struct err *e)
{
	struct rtnl_qdisc *q;
	char b[32];
	int rc;

	if (c->kind == CHANGE_RULE) {
		struct rtnl_rule *r = rule_of(c);

		rc = rtnl_rule_delete(c->at->sk, r, 0);
		rtnl_rule_put(r);
		if (rc < 0 && rc != -NLE_OBJ_NOTFOUND)
			return rule_err(e, rc, "delete", c);
		return 0;
	}
	q = root_qdisc_of(c->at);
	/* with its kind, so that only a netem is deleted; ENODEV: the
	 * interface went with its namespace */
	rc = rtnl_qdisc_delete(c->at->sk, q);
	rtnl_qdisc_put(q);
	if (rc < 0 && rc != -NLE_OBJ_NOTFOUND && rc != -NLE_NODEV)
		return netns_nl_err(e, rc, "delete netem on '%s' in %s",
				    c->at->ifname,
				    end_name(c->at, b, sizeof(b)));
	return 0;
}

/* Undoes the changes from index `mark` on, newest first.  Those undone
 * leave the list; those that failed stay, in order.  -1 with `e` naming
 * the first failure. */
static int
undo_to(struct netcut *nc, size_t mark, struct err *e)
{
	struct err first = ERR_INIT, cur = ERR_INIT;
	size_t i = nc->n, kept = nc->n;

	while (i-- > mark) {
		if (undo(&nc->v[i], &cur) == 0) {
			memmove(&nc->v[i], &nc->v[i + 1],
				(kept - i - 1) * sizeof(*nc->v));
			kept--;
		} else if (first.msg[0] == '\0') {
			first = cur;
		}
	}
	nc->n = kept;
	if (first.msg[0] == '\0')
		return 0;
	*e = first;
	return -1;
}

/* After a failed step of an all-or-nothing call: back to `mark`. */
static int
roll_back(struct netcut *nc, size_t mark)
{
	struct err u = ERR_INIT;

	if (undo_to(nc, mark, &u) < 0)
		log_warn("rolling back a failed cut: %s", u.msg);
	return -1;
}

int
netcut_heal(struct netcut *nc, struct err *e)
{
	if (undo_to(nc, 0, e) < 0)
		return err_prefix(e, "heal: ");
	return 0;
}

void
netcut_free(struct netcut *nc)
{
	struct err e = ERR_INIT;

	if (nc == NULL)
		return;
	if (netcut_heal(nc, &e) < 0)
		log_warn("%s", e.msg);
	free(nc->v);
	free(nc);
}

/* --- the modes --- */

static void
check_ends(const struct netns_node *a, const struct netns_node *b)
{
	if (a == b || a->net != b->net)
		BUG("netcut: an end cut from itself, or ends of two nets");
}

int
netcut_block(struct netcut *nc, const struct netns_node *from,
	     const struct netns_node *to, struct err *e)
{
	struct change c = {.kind = CHANGE_RULE, .at = to, .from = from};
	size_t mark = nc->n;
	char b1[32], b2[32];

	check_ends(from, to);
	for (c.proto = 0; c.proto < ARRAY_SIZE(cut_protos); c.proto++)
		if (rule_add(nc, &c, e) < 0) {
			roll_back(nc, mark);
			return err_prefix(e, "block %s -> %s: ",
					  end_name(from, b1, sizeof(b1)),
					  end_name(to, b2, sizeof(b2)));
		}
	return 0;
}

int
netcut_pair(struct netcut *nc, const struct netns_node *a,
	    const struct netns_node *b, struct err *e)
{
	size_t mark = nc->n;

	if (netcut_block(nc, a, b, e) < 0)
		return -1;
	if (netcut_block(nc, b, a, e) < 0)
		return roll_back(nc, mark);
	return 0;
}

int
netcut_isolate(struct netcut *nc, const struct netns_node *n, struct err *e)
{
	const struct netns_node *o;
	size_t mark = nc->n;

	if (netcut_pair(nc, n, &n->net->host, e) < 0)
		return -1;
	for (o = n->net->nodes; o; o = o->next)
		if (o != n && netcut_pair(nc, n, o, e) < 0)
			return roll_back(nc, mark);
	return 0;
}

int
netcut_split(struct netcut *nc, const struct netns_node *const *a, size_t na,
	     const struct netns_node *const *b, size_t nb, struct err *e)
{
	size_t mark = nc->n, i, j;

	for (i = 0; i < na; i++)
		for (j = 0; j < nb; j++)
			if (netcut_pair(nc, a[i], b[j], e) < 0)
				return roll_back(nc, mark);
	return 0;
}

/* --- can this kernel do netem? --- */

struct probe {
	struct err e;
	int rc;
};

/* In a namespace of its own, which dies with the thread: netem on lo. */
static void *
probe_netem(void *arg)
{
	static const struct netcut_netem q = {.delay_ms = 1};
	struct probe *p = arg;
	struct rtnl_qdisc *qd;
	struct nl_sock *sk;
	int rc;

	p->rc = -1;
	if (unshare(CLONE_NEWNET) < 0) {
		err_set(&p->e, errno, "new network namespace: %s",
			strerror(errno));
		return NULL;
	}
	sk = must(nl_socket_alloc());
	rc = nl_connect(sk, NETLINK_ROUTE);
	if (rc < 0) {
		netns_nl_err(&p->e, rc, "open a route netlink socket");
		goto out_sk;
	}
	qd = must(rtnl_qdisc_alloc());
	rtnl_tc_set_ifindex(TC_CAST(qd), 1); /* lo, in every namespace */
	rtnl_tc_set_parent(TC_CAST(qd), TC_H_ROOT);
	rtnl_tc_set_kind(TC_CAST(qd), "netem");
	p->rc = netem_put(sk, qd, &q, "lo", &p->e);
	rtnl_qdisc_put(qd);
out_sk:
	nl_socket_free(sk);
	return NULL;
}

int
netcut_check_degrade(struct err *e)
{
	struct probe p = {.e = ERR_INIT, .rc = -1};
	pthread_t t;
	int rc;

	rc = pthread_create(&t, NULL, probe_netem, &p);
	if (rc != 0)
		return err_set(e, rc, "start a thread: %s", strerror(rc));
	pthread_join(t, NULL);
	if (p.rc < 0) {
		*e = p.e;
		return -1;
	}
	return 0;
}
