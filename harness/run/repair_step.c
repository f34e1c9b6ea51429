/* repair_step.c - a scenario's repair phase; see repair_step.h. */
#include "harness/run/repair_step.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "cluster/conn.h"
#include "common/clock.h"
#include "common/fs.h"
#include "common/proc.h"
#include "common/utf8.h"
#include "common/xmalloc.h"
#include "harness/local/node.h"
#include "harness/run/run_int.h"
#include "injectors/netns.h"
#include "repair/repair.h"
#include "verifier/ledger.h"

/* A node of the local cluster that answers, for the engine to start
 * from: its index, or -1. */
static int
entry_node(struct local_cluster *lc)
{
	size_t i;

	for (i = 0; i < lc->n; i++) {
		struct local_node *n = &lc->nodes[i];
		struct conn *c;
		struct reply *r;
		bool ok;

		if (!proc_is_running(&n->proc) ||
		    (c = conn_open(n->host, n->port, 500, NULL)) == NULL)
			continue;
		r = conn_cmd(c, NULL, "PING", NULL);
		ok = r && r->type == REPLY_STATUS;
		reply_free(r);
		conn_free(c);
		if (ok)
			return (int)i;
	}
	return -1;
}

/* The engine's restart: the harness starts its own node again from its
 * own files, never a second process on a node that is only paused. */
int
repair_step_restart(void *arg, const char *host, int port, const char *id, struct err *e)
{
	struct local_cluster *lc = arg;
	int i = local_cluster_find_port(lc, port);
	struct conn *c;

	(void)host;
	(void)id;
	if (i < 0)
		return err_set(e, 0, "port %d is not a node of this cluster", port);
	if (proc_is_running(&lc->nodes[i].proc))
		return err_set(e, 0, "node %d runs but does not answer (paused?): not starting "
			       "a second one", port);
	if (node_start(&lc->nodes[i], &lc->opts, e) < 0 ||
	    (c = node_wait_ping(&lc->nodes[i], 30000, e)) == NULL)
		return -1;
	conn_free(c);
	return 0;
}

/* The ledger's order of two values of its keys, for the engine. */
static int
ledger_cmp(void *l, const char *key, size_t klen, const char *a, size_t alen, const char *b,
	   size_t blen)
{
	return ledger_order(l, key, klen, a, alen, b, blen);
}

static int
bundled(struct repair_step *st, const char *host, int port, struct err *e)
{
	struct salvage_src *sv = xcalloc(st->lc->n + 1, sizeof(*sv));
	struct repair_opts o = {.timeout_ms = 1000};
	struct value_order order;
	struct repair_env env = {.restart_arg = st->lc, .interrupted = st->interrupted};
	struct repair_outcome res;
	struct audit audit;
	char path[PATH_MAX + 32], line[1024];
	FILE *af;
	size_t i;
	int rc;

	snprintf(path, sizeof(path), "%s/audit.log", st->dir);
	if ((af = fopen(path, "w")) == NULL) {
		free(sv);
		return err_set(e, errno, "create '%s': %s", path, strerror(errno));
	}
	o.allow_data_loss = st->s->repair_allow_loss;
	o.from_backup = st->s->repair_from_backup ? st->backup_dir : NULL;
	o.can_restart = st->s->repair_restart;
	o.allow_failover = st->s->repair_failover;
	/* the scenario's clients (its data set, its writers' ledger) only
	 * write: a key a promoted replica lacks was never received by it */
	o.never_deleted = true;
	/* its writers number their writes: of two values, the later stays */
	order = (struct value_order){.cmp = ledger_cmp, .arg = (void *)st->ledger};
	o.order = st->ledger ? &order : NULL;
	env.restart = st->s->repair_restart ? repair_step_restart : NULL;
	env.redis_server = st->lc->opts.redis_server;
	env.stash_dir = st->dir; /* duplicates kept with the run's results */
	/* nodes in namespaces reach the harness (and its stash) on the bridge */
	env.local_host = st->lc->net ? st->lc->net->host.addr_str : NULL;
	for (i = 0; st->s->repair_salvage && i < st->lc->n; i++)
		if (!proc_is_running(&st->lc->nodes[i].proc)) {
			snprintf(sv[o.nsalvage].host, sizeof(sv[0].host), "%s",
				 st->lc->nodes[i].host);
			sv[o.nsalvage].port = st->lc->nodes[i].port;
			snprintf(sv[o.nsalvage].dir, sizeof(sv[0].dir), "%s", st->lc->nodes[i].dir);
			o.nsalvage++;
		}
	o.salvage = sv;
	audit_start(&audit, af);
	env.audit = &audit;
	rc = repair_run(host, port, &o, &env, false, af, &res, e);
	audit_pause(&audit);
	fclose(af);
	free(sv);
	st->healthy = res.healthy;
	st->decisions = res.decisions;
	st->report = res.report;
	res.report = NULL;
	/* the same counts as report.json's, from the engine's one table */
	repair_outcome_line(&res, line, sizeof(line));
	snprintf(st->summary, sizeof(st->summary), "shardquake%s: %s%s%s",
		 st->added_port ? " (with a new master for the dead one)" : "", line,
		 rc < 0 ? "; stopped: " : res.healthy ? "" : "; left: ",
		 rc < 0 ? e->msg : res.healthy ? "" : res.left);
	repair_outcome_release(&res);
	return 0;
}

/* redis-cli --cluster fix, answering yes to every question. */
static int
redis_cli(struct repair_step *st, const char *host, int port, struct err *e)
{
	char addr[80], log[PATH_MAX + 32];
	const char *argv[] = {"redis-cli", "--cluster", "fix", addr, "--cluster-yes", NULL};
	struct runbook_child c = {.argv = argv, .log = log, .timeout_ms = 120000};
	int code;

	snprintf(addr, sizeof(addr), "%s:%d", host, port);
	snprintf(log, sizeof(log), "%s/redis-cli-fix.log", st->dir);
	/* our own child, in a process group of its own: an interrupted run
	 * stops it for sure, and so does our 120 s limit; --cluster-yes
	 * answers its questions */
	if (runbook_child(&c, st->interrupted, e) < 0)
		return -1;
	code = WIFEXITED(c.status) ? WEXITSTATUS(c.status) : -1;
	st->healthy = code == 0;
	st->report = json_pack("{s:s, s:i, s:I, s:s}", "engine", "redis-cli", "exit", code,
			       "ms", (json_int_t)c.ms, "last_line", c.last);
	snprintf(st->summary, sizeof(st->summary), "redis-cli --cluster fix %s %d: %s",
		 c.timed_out ? "timed out after 120 s, status" : "exited", code, c.last);
	utf8_sanitize(st->summary);
	/* let the cluster take in what it did */
	clock_sleep_ms(2000);
	return 0;
}

int
repair_step_run(struct repair_step *st, struct err *e)
{
	int i = entry_node(st->lc), port;
	char host[sizeof(st->lc->nodes[0].host)];

	if (i < 0)
		return err_set(e, 0, "no node of the cluster answers");
	/* copied: adding a master moves the nodes array */
	snprintf(host, sizeof(host), "%s", st->lc->nodes[i].host);
	port = st->lc->nodes[i].port;
	if (st->s->repair_replace) {
		/* an empty master: the engine gives it a dead master's slots */
		if (local_cluster_add_master(st->lc, false, e) < 0)
			return -1;
		st->added_port = st->lc->nodes[st->lc->n - 1].port;
	}
	if (st->s->engine == ENGINE_REDIS_CLI)
		return redis_cli(st, host, port, e);
	if (st->s->engine == ENGINE_EXEC)
		return runbook_run(st, host, port, e);
	return bundled(st, host, port, e);
}
