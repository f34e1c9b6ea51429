/*
 * trigger.c - aiming and firing the faults of a run; see trigger.h.
 *
 * A fault fires at the first reshard event that matches its step and
 * slot (and, at the keys step, once its key count is reached: the
 * keys_until hook makes the driver shrink the batch that crosses it, so
 * the count is exact).  "time" faults fire at the first event at or
 * after their time.
 */
#include "harness/trigger.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"
#include "harness/node.h"

static int
find_replica(const struct local_cluster *lc, int master)
{
	size_t i;

	for (i = 0; i < lc->n; i++)
		if (!lc->nodes[i].is_master && lc->nodes[i].master == master)
			return (int)i;
	return -1;
}

static int
resolve(const struct scenario *s, const struct fault_spec *f,
	const struct local_cluster *lc)
{
	int m;

	switch (f->role) {
	/* from = all: master 0 gives first; to = new: the master added last */
	case ROLE_SOURCE: return s->from == RESHARD_FROM_ALL ? 0 : s->from;
	case ROLE_TARGET: return s->to == RESHARD_TO_NEW ? (int)lc->n - 1 : s->to;
	case ROLE_BYSTANDER:
		for (m = 0; m < s->masters; m++)
			if (m != s->from && m != s->to)
				return m;
		return -1;
	case ROLE_SOURCE_REPLICA:
		return find_replica(lc, s->from == RESHARD_FROM_ALL ? 0 : s->from);
	case ROLE_TARGET_REPLICA: return find_replica(lc, s->to);
	case ROLE_NODE: return f->node < (int)lc->n ? f->node : -1;
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

int
trigger_arm(struct trigger_set *ts, const struct scenario *s,
	    struct local_cluster *lc, struct err *e)
{
	struct params p;
	size_t i;
	char role[32];

	ts->lc = lc;
	ts->v = xcalloc(s->nfaults + 1, sizeof(*ts->v));
	for (i = 0; i < s->nfaults; i++) {
		struct armed *a = &ts->v[i];

		a->set = ts;
		a->spec = &s->faults[i];
		a->node = resolve(s, a->spec, lc);
		if (a->node < 0)
			return err_set(e, 0, "[%s]: no node plays %s in this cluster",
				       a->spec->name,
				       scenario_role_name(a->spec->role, a->spec->node, role, sizeof(role)));
		p = (struct params){a->spec->params, a->spec->nparams};
		a->fault = fault_new(a->spec->ops, &p, e);
		if (a->fault == NULL)
			return -1;
		a->target.proc = &lc->nodes[a->node].proc;
		a->target.dir = lc->nodes[a->node].dir;
		a->target.port = lc->nodes[a->node].port;
		a->target.restart = restart_node;
		a->target.restart_arg = a;
		ts->n++;
	}
	return 0;
}

void
trigger_retarget(struct trigger_set *ts)
{
	size_t i;

	for (i = 0; i < ts->n; i++) {
		ts->v[i].target.proc = &ts->lc->nodes[ts->v[i].node].proc;
		ts->v[i].target.dir = ts->lc->nodes[ts->v[i].node].dir;
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
