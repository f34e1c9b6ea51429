/*
 * settle.c - waiting until the cluster has noticed what the faults did: a dead
 * node flagged fail by every other (and a dead master's replica promoted
 * by the cluster's own failover, where one can be), a paused or
 * restarted one back.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/conn.h"
#include "cluster/fetch.h"
#include "cluster/stale.h"
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

/* A dead node that no majority of masters is left to flag fail (two
 * masters of three killed): "fail?" everywhere for twice the node
 * timeout is as far as the cluster will go, and without fail no replica
 * of it starts an election.  Where a majority is left, it will flag it
 * fail: false. */
static bool
no_majority(struct run *run, const struct armed *a)
{
	struct topology t = TOPOLOGY_INIT;
	int asked, n, masters = 0, up = 0;
	size_t i, k;

	for (i = 0; i < run->lc.n && masters == 0; i++) {
		if (!proc_is_running(&run->lc.nodes[i].proc) ||
		    topology_fetch_addr(run->lc.nodes[i].host, run->lc.nodes[i].port, 500, &t,
					NULL) < 0)
			continue;
		for (k = 0; k < t.n; k++)
			if ((t.nodes[k].flags & NODE_MASTER) && cluster_node_slot_count(&t.nodes[k]) > 0) {
				masters++;
				up += !(t.nodes[k].flags & (NODE_FAIL | NODE_PFAIL));
			}
		topology_release(&t);
	}
	if (masters == 0 || up > masters / 2)
		return false;
	n = run_flagging(run, a->node, NODE_FAIL | NODE_PFAIL, &asked);
	return n == asked &&
	       timeline_ms(&run->tl) - a->fired_ms >= 2 * (uint64_t)run->s->node_timeout_ms + 500;
}

/* Whether replica `n` of a dead master will never start an election
 * (cluster/stale.h): then it is not waited for. */
static bool
too_stale(const struct local_node *n, char *why, size_t len)
{
	struct conn *c = conn_open(n->host, n->port, 300, NULL);
	bool stale = c && replica_too_stale(c, why, len);

	conn_free(c);
	return stale;
}

/* The node of ours with cluster id `id`, or -1. */
static int
node_by_id(const struct run *run, const char *id)
{
	size_t i;

	for (i = 0; i < run->lc.n; i++)
		if (strcmp(run->lc.nodes[i].id, id) == 0)
			return (int)i;
	return -1;
}

/* A dead master's failover, which the cluster runs by itself once the
 * master is flagged fail: still under way while any running node sees a
 * replica of it, not failed, that may take over (no nofailover flag,
 * not too stale for good: too_stale()): the replica has not won its
 * election yet, or the news has not reached every node.  Waited for so
 * that the repair finds what the cluster did and never races it with a
 * takeover of its own.  `stale` (per node) keeps what too_stale() found,
 * final, said once in the timeline under the phase's `name`. */
static bool
failover_pending(struct run *run, int dead, bool *stale, const char *name)
{
	struct topology t = TOPOLOGY_INIT;
	const struct cluster_node *n;
	bool pending = false;
	char why[256];
	size_t i, k;
	int r;

	for (i = 0; i < run->lc.n && !pending; i++) {
		if ((int)i == dead || !proc_is_running(&run->lc.nodes[i].proc) ||
		    topology_fetch_addr(run->lc.nodes[i].host, run->lc.nodes[i].port, 500, &t,
					NULL) < 0)
			continue;
		for (k = 0; k < t.n && !pending; k++) {
			n = &t.nodes[k];
			if (!(n->flags & NODE_REPLICA) ||
			    (n->flags & (NODE_NOFAILOVER | NODE_FAIL | NODE_PFAIL)) ||
			    strcmp(n->master_id, run->lc.nodes[dead].id) != 0)
				continue;
			r = node_by_id(run, n->id);
			if (r >= 0 && !stale[r] && too_stale(&run->lc.nodes[r], why, sizeof(why))) {
				stale[r] = true;
				timeline_add(&run->tl, "%s: node %d on port %d, replica of the dead "
					     "master on port %d, will not fail over: %s", name, r,
					     run->lc.nodes[r].port, run->lc.nodes[dead].port, why);
			}
			pending = r < 0 || !stale[r];
		}
		topology_release(&t);
	}
	return pending;
}

/* What became of each dead master's replicas: promoted by the cluster's
 * own failover, or still its replicas; in the timeline and in
 * report.json's "failovers" (dead, replica: ports; promoted).  Counted
 * again, from scratch, after each phase that may see a failover before
 * the repair: `name`'s. */
static void
note_failovers(struct run *run, const char *name)
{
	struct topology t = TOPOLOGY_INIT;
	const struct cluster_node *me;
	json_t *list = json_array();
	size_t i, j;

	run->promoted = 0;
	for (i = 0; i < run->ts.n; i++) {
		int d = run->ts.v[i].node;

		if (!run->ts.v[i].fired || !run->lc.nodes[d].is_master ||
		    proc_is_running(&run->lc.nodes[d].proc))
			continue;
		for (j = 0; j < run->lc.n; j++) {
			bool promoted;

			if (run->lc.nodes[j].master != d || !proc_is_running(&run->lc.nodes[j].proc) ||
			    topology_fetch_addr(run->lc.nodes[j].host, run->lc.nodes[j].port, 500,
						&t, NULL) < 0)
				continue;
			promoted = (me = topology_myself(&t)) != NULL && (me->flags & NODE_MASTER);
			topology_release(&t);
			run->promoted += promoted;
			timeline_add(&run->tl, "%s: node %zu on port %d, replica of the dead master "
				     "on port %d, %s", name, j, run->lc.nodes[j].port, run->lc.nodes[d].port,
				     promoted ? "was promoted by the cluster's own failover"
					      : "is still its replica (not promoted)");
			json_array_append_new(list, json_pack("{s:i, s:i, s:b}", "dead",
							       run->lc.nodes[d].port, "replica",
							       run->lc.nodes[j].port, "promoted",
							       promoted));
		}
	}
	if (json_array_size(list) > 0)
		json_object_set_new(run->report, "failovers", list);
	else
		json_decref(list);
	if (strcmp(name, "settle") != 0)
		timeline_add(&run->tl, "%s: %d replica%s of dead masters promoted by the "
			     "cluster's own failover so far", name, run->promoted,
			     run->promoted == 1 ? "" : "s");
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
 * flagged fail by all others (or fail? where no majority is left to
 * agree) and a dead master's replica promoted where the cluster does
 * that, a node cut off is flagged by those that
 * can tell, a paused, restarted or healed one answers again.  `name` is
 * the phase's ("settle", or "heal" once faults were undone). */
void
run_settle(struct run *run, const char *name)
{
	uint64_t t0 = timeline_ms(&run->tl), start = clock_now_ms();
	uint64_t limit = (uint64_t)run->s->node_timeout_ms * 4 + 10000;
	uint64_t *since = xcalloc(run->ts.n + 1, sizeof(*since)); /* per fault */
	bool *stale = xcalloc(run->lc.n + 1, sizeof(*stale));      /* per node */
	/* a failover's election starts 0.5-1 s after the fail flag and takes
	 * at most twice the node timeout: one that has not ended by then
	 * will not (no majority to vote; a replica too stale for good is
	 * known at once, by too_stale()) */
	uint64_t window = 2 * (uint64_t)run->s->node_timeout_ms + 3000;
	bool settled = false;
	size_t i;

	while (!settled && clock_now_ms() - start < limit && !run_interrupted(run)) {
		settled = true;
		for (i = 0; i < run->ts.n && settled; i++) {
			const struct armed *a = &run->ts.v[i];

			if (!a->fired)
				continue;
			if (!proc_is_running(&run->lc.nodes[a->node].proc)) {
				if (flagged_everywhere(run, a->node)) {
					if (since[i] == 0)
						since[i] = clock_now_ms();
					settled = clock_now_ms() - since[i] >= window ||
						  !failover_pending(run, a->node, stale, name);
				} else {
					settled = no_majority(run, a);
				}
			}
			else if (a->fault && a->spec->ops->effect_pending &&
				 a->spec->ops->effect_pending(a->fault))
				settled = false; /* what it does is still to come */
			else if (unreachable(a) && !a->healed)
				settled = noticed(run, a);
			else
				settled = back(run, a->node, &since[i]);
		}
		if (!settled)
			clock_sleep_ms(50);
	}
	free(since);
	free(stale);
	/* a cut healed onto a dead master may let its replica win an
	 * election after all (too_stale()): a heal before the repair counts
	 * them again */
	if (strcmp(name, "settle") == 0 || json_object_get(run->phases, "repair") == NULL)
		note_failovers(run, name);
	json_object_set_new(run->report, strcmp(name, "settle") == 0 ? "settled" : "healed",
			    json_boolean(settled));
	run_phase_done(run, name, t0, "%s",
		       !settled ? "gave up waiting: the state is as it is"
		       : strcmp(name, "settle") == 0 ? "the cluster noticed every fault"
						       : "faults undone, the cluster took the nodes back");
}
