/*
 * layout.c - the [layout] phase: a cluster started with the scenario's
 * slot map and loaded is turned into the broken state the scenario
 * describes (uncovered slots, open slots half moved, failed nodes).
 *
 * Uncovered slots: their keys are part of the dataset, and a slot nobody
 * owns cannot be written to, so the cluster starts with each uncovered
 * slot given to the master that owns the slot before it (or the first
 * covered one), is loaded, and only then does every node drop the slot
 * (CLUSTER DELSLOTSRANGE): the keys stay on that master, in a slot no one
 * serves, as an operator's DELSLOTS or a forgotten owner leaves them.  A
 * repair finds them there (redis-cli --cluster fix and ours give the
 * slot to the node that has its keys); nothing is lost that a repair
 * could not bring back.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/conn.h"
#include "cluster/fetch.h"
#include "common/clock.h"
#include "common/xmalloc.h"
#include "harness/run/run_int.h"

#define CMD_TIMEOUT_MS 10000

void
run_layout_owner(const struct scenario *s, short owner[CLUSTER_SLOTS])
{
	short prev = -1;
	int i;

	for (i = 0; i < CLUSTER_SLOTS && prev < 0; i++)
		prev = s->layout.owner[i];
	if (prev < 0)
		prev = 0; /* nothing covered at all: master 0 holds the keys */
	for (i = 0; i < CLUSTER_SLOTS; i++) {
		if (s->layout.owner[i] >= 0)
			prev = s->layout.owner[i];
		owner[i] = prev;
	}
}

/* The index in lc->nodes of a [layout] node: masters first, then the
 * replicas grouped by master (local_cluster_opts.replicas_of). */
static int
node_of(const struct local_cluster *lc, const struct layout_node *x)
{
	int k = 0;
	size_t i;

	if (x->replica < 0)
		return x->master;
	for (i = 0; i < lc->n; i++)
		if (lc->nodes[i].master == x->master && k++ == x->replica)
			return (int)i;
	return -1; /* scenario_check() made sure it exists */
}

static struct conn *
open_node(struct run *run, int i, struct err *e)
{
	const struct local_node *n = &run->lc.nodes[i];

	return conn_open(n->host, n->port, CMD_TIMEOUT_MS, e);
}

/* CLUSTER DELSLOTSRANGE of the uncovered slots on every node. */
static int
uncover(struct run *run, int *count, struct err *e)
{
	const short *owner = run->s->layout.owner;
	char a[8], b[8];
	size_t i;
	int s, first;

	*count = 0;
	for (s = 0; s < CLUSTER_SLOTS; s++)
		*count += owner[s] < 0;
	for (i = 0; i < run->lc.n && *count; i++) {
		struct conn *c = open_node(run, (int)i, e);

		if (c == NULL)
			return -1;
		for (s = 0; s < CLUSTER_SLOTS; s++) {
			if (owner[s] >= 0)
				continue;
			for (first = s; s + 1 < CLUSTER_SLOTS && owner[s + 1] < 0; s++)
				;
			snprintf(a, sizeof(a), "%d", first);
			snprintf(b, sizeof(b), "%d", s);
			if (conn_cmd_ok(c, e, "CLUSTER", "DELSLOTSRANGE", a, b, NULL) < 0) {
				conn_free(c);
				return -1;
			}
		}
		conn_free(c);
	}
	return 0;
}

/* MIGRATE of `count` keys of the slot from src to dst, one command. */
static int
move_keys(struct conn *src, const struct local_node *dst, int slot, long long count,
	  struct err *e)
{
	char s[8], n[24], port[8], tmo[16];
	struct reply *keys, *r;
	const char **argv;
	size_t i;
	int rc = 0;

	snprintf(s, sizeof(s), "%d", slot);
	snprintf(n, sizeof(n), "%lld", count);
	keys = conn_cmd(src, e, "CLUSTER", "GETKEYSINSLOT", s, n, NULL);
	if (keys == NULL)
		return -1;
	if (keys->type != REPLY_ARRAY || keys->nelem == 0) {
		reply_free(keys);
		return 0;
	}
	argv = xcalloc(keys->nelem + 8, sizeof(*argv));
	snprintf(port, sizeof(port), "%d", dst->port);
	snprintf(tmo, sizeof(tmo), "%d", CMD_TIMEOUT_MS);
	argv[0] = "MIGRATE";
	argv[1] = dst->host;
	argv[2] = port;
	argv[3] = "";
	argv[4] = "0";
	argv[5] = tmo;
	argv[6] = "KEYS";
	for (i = 0; i < keys->nelem; i++)
		argv[7 + i] = keys->elem[i]->str;
	r = conn_cmd_argv(src, (int)(7 + keys->nelem), argv, NULL, e);
	if (r == NULL)
		rc = -1;
	else if (r->type == REPLY_ERROR)
		rc = err_set(e, 0, "'MIGRATE' of slot %d on '%s': %s", slot, conn_addr(src), r->str);
	reply_free(r);
	free(argv);
	reply_free(keys);
	return rc;
}

/* IMPORTING on the destination, MIGRATING on the source, then the share
 * of the slot's keys moved, as a reshard stopped midway leaves it. */
static int
open_slot(struct run *run, const struct layout_open *o, long long *moved, struct err *e)
{
	const struct local_node *src = &run->lc.nodes[o->from], *dst = &run->lc.nodes[o->to];
	struct conn *cs = NULL, *cd = NULL;
	char slot[8];
	long long keys = 0;
	int rc = -1;

	snprintf(slot, sizeof(slot), "%d", o->slot);
	if ((cs = open_node(run, o->from, e)) == NULL || (cd = open_node(run, o->to, e)) == NULL)
		goto out;
	if (conn_cmd_ok(cd, e, "CLUSTER", "SETSLOT", slot, "IMPORTING", src->id, NULL) < 0 ||
	    conn_cmd_ok(cs, e, "CLUSTER", "SETSLOT", slot, "MIGRATING", dst->id, NULL) < 0 ||
	    conn_cmd_int(cs, &keys, e, "CLUSTER", "COUNTKEYSINSLOT", slot, NULL) < 0)
		goto out;
	keys = keys * o->pct / 100;
	if (keys > 0 && move_keys(cs, dst, o->slot, keys, e) < 0)
		goto out;
	*moved += keys;
	rc = 0;
out:
	conn_free(cs);
	conn_free(cd);
	return rc;
}

/* Every master's replicas have what it was sent (WAIT), so that a
 * replica promoted later has the keys its master had. */
static void
sync_replicas(struct run *run)
{
	int m;

	for (m = 0; m < run->s->masters; m++) {
		char n[8];
		long long acked;
		struct conn *c;

		if (scenario_replicas_of(run->s, m) == 0)
			continue;
		snprintf(n, sizeof(n), "%d", scenario_replicas_of(run->s, m));
		if ((c = open_node(run, m, NULL)) == NULL)
			continue;
		if (conn_cmd_int(c, &acked, NULL, "WAIT", n, "5000", NULL) == 0 &&
		    acked < scenario_replicas_of(run->s, m))
			timeline_add(&run->tl, "layout: only %lld of master %d's replicas caught up",
				     acked, m);
		conn_free(c);
	}
}

static int
no_failover(struct run *run, struct err *e)
{
	const struct layout *l = &run->s->layout;
	size_t i;

	for (i = 0; i < l->nnofailover; i++) {
		struct conn *c = open_node(run, node_of(&run->lc, &l->nofailover[i]), e);
		int rc;

		if (c == NULL)
			return -1;
		rc = conn_cmd_ok(c, e, "CONFIG", "SET", "cluster-replica-no-failover", "yes", NULL);
		conn_free(c);
		if (rc < 0)
			return -1;
	}
	return 0;
}

/* Until every running node flags every killed one failed; where no
 * majority of masters is left to agree on FAIL, "fail?" everywhere for
 * twice the node timeout is as far as the cluster will go. */
static bool
wait_flagged(struct run *run, const int *dead, size_t n)
{
	uint64_t start = clock_now_ms(), to = (uint64_t)run->s->node_timeout_ms;
	bool all_fail = false, all_flagged = false;
	int asked;
	size_t i;

	while (!run_interrupted(run) && clock_now_ms() - start < 4 * to + 10000) {
		all_fail = all_flagged = true;
		for (i = 0; i < n; i++) {
			int f = run_flagging(run, dead[i], NODE_FAIL, &asked);

			all_fail = all_fail && f == asked;
			all_flagged = all_flagged &&
				      run_flagging(run, dead[i], NODE_FAIL | NODE_PFAIL, &asked) == asked;
		}
		if (all_fail || (all_flagged && clock_now_ms() - start >= 2 * to + 500))
			break;
		clock_sleep_ms(50);
	}
	return all_fail;
}

static void
kill_failed(struct run *run, char *said, size_t len, bool *flagged)
{
	const struct layout *l = &run->s->layout;
	int *dead = xcalloc(l->nfailed + 1, sizeof(*dead));
	char name[32];
	size_t i, n = 0;

	said[0] = '\0';
	for (i = 0; i < l->nfailed; i++) {
		int k = node_of(&run->lc, &l->failed[i]);

		if (!proc_is_running(&run->lc.nodes[k].proc))
			continue;
		proc_kill(&run->lc.nodes[k].proc);
		dead[n++] = k;
		layout_node_name(&l->failed[i], name, sizeof(name));
		timeline_add(&run->tl, "layout: SIGKILL %s, node %d on port %d", name, k,
			     run->lc.nodes[k].port);
		snprintf(said + strlen(said), len - strlen(said), "%s%s (port %d)",
			 n > 1 ? ", " : "", name, run->lc.nodes[k].port);
	}
	*flagged = n == 0 || wait_flagged(run, dead, n);
	free(dead);
}

int
run_layout(struct run *run)
{
	const struct layout *l = &run->s->layout;
	uint64_t t0 = timeline_ms(&run->tl);
	struct err e = ERR_INIT;
	long long moved = 0;
	char killed[512] = "";
	bool flagged = true;
	int uncovered;
	size_t i;

	if (!l->set)
		return 0;
	/* slots first opened, then uncovered: a node with a slot uncovered
	 * says CLUSTERDOWN to MIGRATE */
	for (i = 0; i < l->nopen; i++)
		if (open_slot(run, &l->open[i], &moved, &e) < 0)
			return run_fail(run, "layout: open slot %d: %s", l->open[i].slot, e.msg);
	if (uncover(run, &uncovered, &e) < 0)
		return run_fail(run, "layout: uncovered slots: %s", e.msg);
	if (no_failover(run, &e) < 0)
		return run_fail(run, "layout: nofailover: %s", e.msg);
	sync_replicas(run);
	kill_failed(run, killed, sizeof(killed), &flagged);
	json_object_set_new(run->report, "layout",
			    json_pack("{s:i, s:i, s:I, s:i, s:b}", "uncovered_slots", uncovered,
				      "open_slots", (int)l->nopen, "keys_moved", (json_int_t)moved,
				      "failed_nodes", (int)l->nfailed, "flagged", flagged));
	run_phase_done(run, "layout", t0, "%d slots uncovered, %zu open (%lld keys moved), "
		       "%s%s%s", uncovered, l->nopen, moved, killed[0] ? "killed " : "no node killed",
		       killed, !killed[0] ? "" : flagged ? ", flagged fail everywhere"
							 : ", not flagged fail everywhere");
	return 0;
}
