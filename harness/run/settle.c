/*
 * settle.c - waiting until the cluster has noticed what the faults did: a dead
 * node flagged fail by every other, a paused or restarted one back.
 */
#include <stdlib.h>
#include <string.h>

#include "cluster/conn.h"
#include "cluster/fetch.h"
#include "common/clock.h"
#include "common/xmalloc.h"
#include "harness/run/run_int.h"

int
run_flagging(struct run *run, int node, unsigned flags, int *asked)
{
	struct topology t = TOPOLOGY_INIT;
	const struct cluster_node *n;
	int count = 0;
	size_t i;

	*asked = 0;
	for (i = 0; i < run->lc.n; i++) {
		if ((int)i == node || !proc_is_running(&run->lc.nodes[i].proc))
			continue;
		(*asked)++;
		if (topology_fetch_addr(run->lc.nodes[i].host, run->lc.nodes[i].port, 500, &t, NULL) == 0 &&
		    (n = topology_find(&t, run->lc.nodes[node].id)) && (n->flags & flags))
			count++;
		topology_release(&t);
	}
	return count;
}

/* True when every running node but `dead` flags `dead` as fail. */
static bool
flagged_everywhere(struct run *run, int dead)
{
	int asked, n = run_flagging(run, dead, NODE_FAIL, &asked);

	return n == asked;
}

bool
run_answers(struct run *run, int node)
{
	struct conn *c = conn_open(run->lc.nodes[node].host, run->lc.nodes[node].port, 300, NULL);
	struct reply *r = c ? conn_cmd(c, NULL, "PING", NULL) : NULL;
	bool ok = r && r->type == REPLY_STATUS;

	reply_free(r);
	conn_free(c);
	return ok;
}

static bool
state_ok(struct run *run, int node)
{
	struct conn *c = conn_open(run->lc.nodes[node].host, run->lc.nodes[node].port, 300, NULL);
	char *info = c ? conn_cmd_str(c, NULL, "CLUSTER", "INFO", NULL) : NULL;
	char state[16] = "";

	if (info)
		info_field(info, "cluster_state", state, sizeof(state));
	free(info);
	conn_free(c);
	return strcmp(state, "ok") == 0;
}

static bool
all_ok(struct run *run)
{
	size_t i;

	for (i = 0; i < run->lc.n; i++)
		if (proc_is_running(&run->lc.nodes[i].proc) && !state_ok(run, (int)i))
			return false;
	return true;
}

/* A node that is running again has settled once it answers, no node
 * flags it failed any more, and then either every running node says
 * cluster_state:ok or 3 s went by (redis gives a restarted master 2 s
 * before it may turn ok; another fault may keep the cluster failed). */
static bool
back(struct run *run, int node, uint64_t *since)
{
	if (!run_answers(run, node) ||
	    run_flagging(run, node, NODE_FAIL | NODE_PFAIL, &(int){0}) > 0) {
		*since = 0; /* others still think it failed: redis clears that later */
		return false;
	}
	if (*since == 0)
		*since = clock_now_ms();
	return all_ok(run) || clock_now_ms() - *since >= 3000;
}

/* A node cut off by a fault still in effect: the cluster has noticed once
 * every other node the harness reaches flags it (failed or probably
 * failed), or, when only some can tell (a cut between two nodes), once
 * twice the node timeout has gone by since the cut: redis has decided
 * what it will by then. */
static bool
noticed(struct run *run, const struct armed *a)
{
	int asked, n = run_flagging(run, a->node, NODE_FAIL | NODE_PFAIL, &asked);
	uint64_t since = timeline_ms(&run->tl) - a->fired_ms;

	return (asked > 0 && n == asked) ||
	       since >= 2 * (uint64_t)run->s->node_timeout_ms + 500;
}

/* While in effect, the fault keeps its node from answering: it is noticed,
 * not waited for. */
static bool
unreachable(const struct armed *a)
{
	const struct injector_ops *ops = a->spec->ops;

	return (ops->flags & INJ_UNREACHABLE) ||
	       (ops->until_reverted && a->fault && ops->until_reverted(a->fault));
}

/* Waits until the cluster has noticed every fault: a dead node is
 * flagged fail by all others, a node cut off is flagged by those that
 * can tell, a paused, restarted or healed one answers again.  `name` is
 * the phase's ("settle", or "heal" once faults were undone). */
void
run_settle(struct run *run, const char *name)
{
	uint64_t t0 = timeline_ms(&run->tl), start = clock_now_ms();
	uint64_t limit = (uint64_t)run->s->node_timeout_ms * 4 + 10000;
	uint64_t *since = xcalloc(run->ts.n + 1, sizeof(*since)); /* per fault */
	bool settled = false;
	size_t i;

	while (!settled && clock_now_ms() - start < limit && !run_interrupted(run)) {
		settled = true;
		for (i = 0; i < run->ts.n && settled; i++) {
			const struct armed *a = &run->ts.v[i];

			if (!a->fired)
				continue;
			if (!proc_is_running(&run->lc.nodes[a->node].proc))
				settled = flagged_everywhere(run, a->node);
			else if (unreachable(a) && !a->healed)
				settled = noticed(run, a);
			else
				settled = back(run, a->node, &since[i]);
		}
		if (!settled)
			clock_sleep_ms(50);
	}
	free(since);
	json_object_set_new(run->report, strcmp(name, "settle") == 0 ? "settled" : "healed",
			    json_boolean(settled));
	run_phase_done(run, name, t0, "%s",
		       !settled ? "gave up waiting: the state is as it is"
		       : strcmp(name, "settle") == 0 ? "the cluster noticed every fault"
						       : "faults undone, the cluster took the nodes back");
}
