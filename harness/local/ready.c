/*
 * ready.c - waiting until a local cluster is whole: every running node
 * says cluster_state:ok, knows every node past the handshake, and all of
 * them agree on who owns each slot and who replicates whom.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/conn.h"
#include "cluster/fetch.h"
#include "common/clock.h"
#include "common/xmalloc.h"
#include "harness/local/localcluster.h"

#define POLL_MS 10

/* What one node believes, reduced to what must agree. */
struct view {
	char owner[CLUSTER_SLOTS][NODE_ID_LEN + 1];
	struct topology t;
};

static int
read_view(struct conn *c, struct view *v, size_t expect_nodes, struct err *e)
{
	char *text, state[32] = "";
	int owner[CLUSTER_SLOTS], s;
	size_t i;

	text = conn_cmd_str(c, e, "CLUSTER", "INFO", NULL);
	if (text == NULL)
		return -1;
	info_field(text, "cluster_state", state, sizeof(state));
	free(text);
	if (strcmp(state, "ok") != 0)
		return err_set(e, 0, "'%s' says cluster_state:%s", conn_addr(c), state);
	topology_release(&v->t);
	if (topology_fetch(c, &v->t, e) < 0)
		return -1;
	if (v->t.n != expect_nodes)
		return err_set(e, 0, "'%s' knows %zu nodes, not %zu", conn_addr(c),
			       v->t.n, expect_nodes);
	for (i = 0; i < v->t.n; i++)
		if (v->t.nodes[i].flags & (NODE_HANDSHAKE | NODE_NOADDR | NODE_PFAIL))
			return err_set(e, 0, "'%s' sees node %s in handshake or unreachable",
				       conn_addr(c), v->t.nodes[i].id);
	topology_slot_owners(&v->t, owner);
	for (s = 0; s < CLUSTER_SLOTS; s++)
		strcpy(v->owner[s], owner[s] < 0 ? "" : v->t.nodes[owner[s]].id);
	return 0;
}

/* Compares roles: every node of `a` is in `b` with the same master. */
static int
same_roles(const struct view *a, const struct view *b, struct err *e)
{
	const struct cluster_node *x, *y;
	size_t i;

	for (i = 0; i < a->t.n; i++) {
		x = &a->t.nodes[i];
		y = topology_find(&b->t, x->id);
		if (y == NULL || strcmp(x->master_id, y->master_id) != 0 ||
		    (x->flags & NODE_MASTER) != (y->flags & NODE_MASTER))
			return err_set(e, 0, "nodes disagree on the role of %s", x->id);
	}
	return 0;
}

static int
check_once(struct local_cluster *lc, struct conn **conns, struct view *views,
	   struct err *e)
{
	size_t i, first = lc->n, expect = lc->n;
	struct err ce;

	for (i = 0; i < lc->n; i++) {
		if (!proc_is_running(&lc->nodes[i].proc))
			continue;
		if (conns[i] == NULL || conn_is_broken(conns[i])) {
			conn_free(conns[i]);
			conns[i] = conn_open(lc->nodes[i].host, lc->nodes[i].port, 1000, e);
			if (conns[i] == NULL)
				return -1;
		}
		if (read_view(conns[i], &views[i], expect, e) < 0)
			return -1;
		if (first == lc->n) {
			first = i;
			continue;
		}
		if (memcmp(views[first].owner, views[i].owner,
			   sizeof(views[i].owner)) != 0)
			return err_set(e, 0, "node %d and node %d disagree on slots",
				       lc->nodes[first].port, lc->nodes[i].port);
		if (same_roles(&views[first], &views[i], &ce) < 0)
			return err_set(e, 0, "%s", ce.msg);
	}
	if (first == lc->n)
		return err_set(e, ESRCH, "no node is running");
	return 0;
}

int
local_cluster_wait_ready(struct local_cluster *lc, int timeout_ms, struct err *e)
{
	uint64_t deadline = clock_now_ms() + (uint64_t)timeout_ms;
	struct conn **conns = xcalloc(lc->n, sizeof(*conns));
	struct view *views = xcalloc(lc->n, sizeof(*views));
	struct err last = ERR_INIT;
	size_t i;
	int rc;

	while ((rc = check_once(lc, conns, views, &last)) < 0 &&
	       last.code != ESRCH && clock_now_ms() < deadline)
		clock_sleep_ms(POLL_MS);
	if (rc < 0)
		err_set(e, last.code ? last.code : ETIMEDOUT,
			"cluster not ready after %d ms: %s", timeout_ms, last.msg);
	for (i = 0; i < lc->n; i++) {
		conn_free(conns[i]);
		topology_release(&views[i].t);
	}
	free(conns);
	free(views);
	return rc;
}
