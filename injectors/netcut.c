/*
 * netcut.c - cutting the sandbox network; see netcut.h.
 *
 * Each change is kept as what is needed to build it again (where, from
 * whom, which protocol), and undone by sending the same object in a
 * delete request: the kernel removes the one matching rule.
 */
#define LOG_MODULE "injectors/netcut"

#include "injectors/netcut.h"

#include <errno.h>
#include <linux/fib_rules.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/route/rule.h>

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

struct change {
	const struct netns_node *at;   /* whose namespace */
	const struct netns_node *from; /* whose packets drop */
	size_t proto;                  /* index in cut_protos */
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

/* --- undoing --- */

/* Undoes one change; one already gone is no error. */
static int
undo(const struct change *c, struct err *e)
{
	struct rtnl_rule *r = rule_of(c);
	int rc = rtnl_rule_delete(c->at->sk, r, 0);

	rtnl_rule_put(r);
	if (rc < 0 && rc != -NLE_OBJ_NOTFOUND)
		return rule_err(e, rc, "delete", c);
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
	struct change c = {.at = to, .from = from};
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
