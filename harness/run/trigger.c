/*
 * trigger.c - aiming and firing the faults of a run; see trigger.h.
 *
 * A fault fires at the first reshard event that matches its step and
 * slot (and, at the keys step, once its key count is reached: the
 * keys_until hook makes the driver shrink the batch that crosses it, so
 * the count is exact).  "time" faults fire at the first event at or
 * after their time.
 */
#include "harness/run/trigger.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/xmalloc.h"
#include "injectors/netns.h"
#include "harness/local/node.h"

/* The node a fault aims at, by the cluster's layout (localcluster.h):
 * masters 0..m-1, then the replicas, replica k of master k % m; a master
 * added for to = new comes last.  Known before any node starts, so that
 * prepare() can run before the target's first start. */
static int
resolve(const struct scenario *s, enum role role, int node)
{
	int m, nodes = s->masters * (1 + s->replicas);

	switch (role) {
	/* from = all: master 0 gives first; to = new: the master added last */
	case ROLE_SOURCE: return s->from == RESHARD_FROM_ALL ? 0 : s->from;
	case ROLE_TARGET: return s->to == RESHARD_TO_NEW ? nodes : s->to;
	case ROLE_BYSTANDER:
		for (m = 0; m < s->masters; m++)
			if (m != s->from && m != s->to)
				return m;
		return -1;
	case ROLE_SOURCE_REPLICA:
		return s->replicas ? s->masters + (s->from == RESHARD_FROM_ALL ? 0 : s->from) : -1;
	case ROLE_TARGET_REPLICA:
		return s->replicas && s->to != RESHARD_TO_NEW ? s->masters + s->to : -1;
	case ROLE_NODE:
		return node < nodes + (s->to == RESHARD_TO_NEW) ? node : -1;
	}
	return -1;
}

/* The harness's way to start a node again from its own files. */
static int
restart_node(void *arg, struct err *e)
{
	struct armed *a = arg;
	struct local_cluster *lc = a->set->lc;
	struct local_node *n = &lc->nodes[a->node];
	struct conn *c;

	if (node_start(n, &lc->opts, e) < 0)
		return -1;
	c = node_wait_ping(n, 10000, e);
	if (c == NULL)
		return -1;
	conn_free(c);
	return 0;
}

/* One command to the fault's node; the reply as text. */
static int
node_command(void *arg, const char *const *argv, char *out, size_t n, struct err *e)
{
	struct armed *a = arg;
	const struct local_node *nd = &a->set->lc->nodes[a->node];

	return conn_ask_text(nd->host, nd->port, 2000, argv, out, n, e);
}

/* A role named in a fault's parameters ("peer = source"): its node. */
static int
role_node(void *arg, const char *role)
{
	struct armed *a = arg;
	enum role r;
	int node = 0;

	if (scenario_role_parse("role", role, &r, &node, NULL, 0) < 0)
		return -1;
	node = resolve(a->set->s, r, node);
	return node < (int)a->set->lc->n ? node : -1;
}

/* Node i's end of the sandbox network, the clients' for -1. */
static const struct netns_node *
net_end(void *arg, int node)
{
	struct armed *a = arg;
	struct local_cluster *lc = a->set->lc;

	if (lc->net == NULL || node >= (int)lc->n)
		return NULL;
	return node < 0 ? &lc->net->host : lc->nodes[node].ns;
}

/* Points a fault's target at its node as it is now. */
static void
aim(struct armed *a)
{
	struct local_node *n = &a->set->lc->nodes[a->node];

	a->target.proc = &n->proc;
	a->target.dir = n->dir;
	a->target.port = n->port;
	snprintf(a->tag, sizeof(a->tag), "sq%d-%d", (int)getpid(), n->port);
	a->target.tag = a->tag;
}

int
trigger_arm(struct trigger_set *ts, const struct scenario *s,
	    struct local_cluster *lc, struct err *e)
{
	struct params p;
	size_t i;
	char role[32];

	ts->lc = lc;
	ts->s = s;
	ts->v = xcalloc(s->nfaults + 1, sizeof(*ts->v));
	for (i = 0; i < s->nfaults; i++) {
		struct armed *a = &ts->v[i];

		a->set = ts;
		a->spec = &s->faults[i];
		a->node = resolve(s, a->spec->role, a->spec->node);
		if (a->node < 0)
			return err_set(e, 0, "[%s]: no node plays %s in this cluster",
				       a->spec->name,
				       scenario_role_name(a->spec->role, a->spec->node, role, sizeof(role)));
		p = (struct params){a->spec->params, a->spec->nparams};
		a->fault = fault_new(a->spec->ops, &p, e);
		if (a->fault == NULL)
			return -1;
		a->target.restart = restart_node;
		a->target.restart_arg = a;
		a->target.command = node_command;
		a->target.command_arg = a;
		a->target.role_node = role_node;
		a->target.net_end = net_end;
		a->target.net_arg = a;
		a->target.node = a->node;
		ts->n++;
	}
	return 0;
}

int
trigger_check(const struct trigger_set *ts, struct err *e)
{
	size_t i;

	for (i = 0; i < ts->n; i++) {
		const struct armed *a = &ts->v[i];

		if (a->spec->ops->check && a->spec->ops->check(a->fault, e) < 0)
			return err_prefix(e, "[%s] %s: ", a->spec->name, a->spec->ops->name);
	}
	return 0;
}

/* In the node's process, after fork: every in_child() of its faults,
 * from the first one (arg) on. */
static int
in_child(void *arg)
{
	struct armed *first = arg, *a;
	struct trigger_set *ts = first->set;
	int err;

	for (a = first; a < ts->v + ts->n; a++)
		if (a->node == first->node && a->spec->ops->in_child &&
		    (err = a->spec->ops->in_child(a->fault, &a->target)) != 0)
			return err;
	return 0;
}

int
trigger_before_start(void *arg, struct local_node *n, struct err *e)
{
	struct trigger_set *ts = arg;
	int node = (int)(n - ts->lc->nodes);
	struct armed *first = NULL;
	size_t i;

	for (i = 0; i < ts->n; i++) {
		struct armed *a = &ts->v[i];

		if (a->node != node)
			continue;
		aim(a);
		if (a->spec->ops->prepare && a->spec->ops->prepare(a->fault, &a->target, e) < 0)
			return err_prefix(e, "[%s] %s: ", a->spec->name, a->spec->ops->name);
		if (a->spec->ops->in_child && first == NULL)
			first = a;
	}
	n->in_child = first ? in_child : NULL;
	n->in_child_arg = first;
	return 0;
}

void
trigger_retarget(struct trigger_set *ts)
{
	size_t i;

	for (i = 0; i < ts->n; i++)
		if (ts->v[i].node < (int)ts->lc->n)
			aim(&ts->v[i]);
}

int
trigger_heal(struct trigger_set *ts, int when)
{
	struct err e = ERR_INIT;
	size_t i;
	int healed = 0;

	for (i = 0; i < ts->n; i++) {
		struct armed *a = &ts->v[i];

		if (!a->fired || a->healed || a->spec->heal != when || !a->spec->ops->revert)
			continue;
		a->healed = true;
		if (a->spec->ops->revert(a->fault, &e) < 0) {
			timeline_add(ts->tl, "fault [%s]: heal failed: %s", a->spec->name, e.msg);
			continue;
		}
		timeline_add(ts->tl, "fault [%s]: healed", a->spec->name);
		healed++;
	}
	return healed;
}

void
trigger_heal_all(struct trigger_set *ts)
{
	struct err e = ERR_INIT;
	size_t i;

	for (i = 0; i < ts->n; i++) {
		struct armed *a = &ts->v[i];

		if (a->spec->ops->revert && a->spec->ops->revert(a->fault, &e) < 0 && ts->tl)
			timeline_add(ts->tl, "fault [%s]: undo failed: %s", a->spec->name, e.msg);
		a->healed = a->healed || a->fired;
	}
}

void
trigger_observe(struct trigger_set *ts)
{
	size_t i;

	for (i = 0; i < ts->n; i++) {
		struct armed *a = &ts->v[i];

		/* a healed fault keeps what it did while in effect */
		if (a->fired && !a->failed && !a->healed && a->spec->ops->describe) {
			char was[sizeof(a->effect)];

			snprintf(was, sizeof(was), "%s", a->effect);
			a->spec->ops->describe(a->fault, a->effect, sizeof(a->effect));
			if (a->spec->ops->evidence) {
				memset(&a->evidence, 0, sizeof(a->evidence));
				a->spec->ops->evidence(a->fault, &a->evidence);
			}
			if (strcmp(was, a->effect) != 0)
				timeline_add(ts->tl, "fault [%s]: %s", a->spec->name, a->effect);
		}
	}
}

void
trigger_disarm(struct trigger_set *ts)
{
	size_t i;

	for (i = 0; i < ts->n; i++)
		fault_free(ts->v[i].fault);
	free(ts->v);
	ts->v = NULL;
	ts->n = 0;
}

/* The key count a keys-step fault waits for in its slot. */
static long long
point_of(const struct fault_spec *f, long long slot_keys)
{
	if (f->point < 0)
		return 0;
	if (f->point_pct)
		return (slot_keys * f->point + 50) / 100;
	return f->point;
}

static bool
matches(struct trigger_set *ts, const struct armed *a, const struct reshard_event *ev)
{
	const struct fault_spec *f = a->spec;

	if (a->fired)
		return false;
	if (f->step == STEP_TIME)
		return timeline_ms(ts->tl) >= ts->reshard_t0_ms + (uint64_t)f->after_ms;
	if (f->step != (int)ev->step || f->slot_index != ev->slot_index)
		return false;
	if (f->step == STEP_KEYS)
		return ev->slot_moved >= point_of(f, ev->slot_keys) ||
		       ev->slot_moved >= ev->slot_keys;
	return true;
}

static void
fire(struct trigger_set *ts, struct armed *a, const struct reshard_event *ev)
{
	struct err e = ERR_INIT;

	a->fired = true;
	a->at = *ev;
	a->fired_ms = timeline_ms(ts->tl);
	timeline_add(ts->tl, "fault [%s] %s on port %d: firing at slot %d (%d of plan), step %s, %lld of %lld keys moved",
		     a->spec->name, a->spec->ops->name, a->target.port, ev->slot,
		     ev->slot_index, reshard_step_name(ev->step), ev->slot_moved, ev->slot_keys);
	if (a->spec->ops->inject(a->fault, &a->target, &e) < 0) {
		a->failed = true;
		snprintf(a->effect, sizeof(a->effect), "inject failed: %s", e.msg);
	} else if (a->spec->ops->describe) {
		a->spec->ops->describe(a->fault, a->effect, sizeof(a->effect));
	}
	if (!a->failed && a->spec->ops->evidence) {
		memset(&a->evidence, 0, sizeof(a->evidence));
		a->spec->ops->evidence(a->fault, &a->evidence);
	}
	timeline_add(ts->tl, "fault [%s]: %s", a->spec->name, a->effect);
}

static int
on_step(void *arg, const struct reshard_event *ev, struct err *e)
{
	struct trigger_set *ts = arg;
	size_t i;

	timeline_add(ts->tl, "reshard %s slot %d (%d of plan), %lld/%lld keys",
		     reshard_step_name(ev->step), ev->slot, ev->slot_index,
		     ev->slot_moved, ev->slot_keys);
	/* nothing fires once the user asked the run to stop */
	if (ts->interrupted && *ts->interrupted)
		return err_set(e, 0, "interrupted");
	for (i = 0; i < ts->n; i++)
		if (matches(ts, &ts->v[i], ev))
			fire(ts, &ts->v[i], ev);
	return 0;
}

static long long
keys_until(void *arg, int slot_index, long long moved, long long slot_keys)
{
	struct trigger_set *ts = arg;
	long long best = -1, left;
	size_t i;

	for (i = 0; i < ts->n; i++) {
		const struct fault_spec *f = ts->v[i].spec;

		if (ts->v[i].fired || f->step != STEP_KEYS || f->slot_index != slot_index ||
		    f->point < 0)
			continue;
		/* 0: the point is reached (point = 0, or a share that rounds
		 * to the keys moved so far): the driver reports it now */
		left = point_of(f, slot_keys) - moved;
		if (left < 0)
			left = 0;
		if (best < 0 || left < best)
			best = left;
	}
	return best;
}

struct reshard_hooks
trigger_hooks(struct trigger_set *ts)
{
	struct reshard_hooks h = {.on_step = on_step, .keys_until = keys_until, .arg = ts};

	return h;
}
