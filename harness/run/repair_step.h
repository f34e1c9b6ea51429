/*
 * repair_step.h - a scenario's repair phase: the bundled engine (with the
 * harness's own ways to restart a node and to find a dead node's files),
 * or redis-cli --cluster fix for comparison.
 */
#ifndef SQ_HARNESS_REPAIR_STEP_H
#define SQ_HARNESS_REPAIR_STEP_H

#include <jansson.h>
#include <signal.h>
#include <stdbool.h>

#include "harness/local/localcluster.h"
#include "harness/scenario/scenario.h"

struct repair_step {
	/* in */
	const struct scenario *s;
	struct local_cluster *lc;
	const char *dir;           /* the run's results: audit.log, redis-cli-fix.log */
	volatile sig_atomic_t *interrupted; /* SIGINT/SIGTERM seen: stop soon */
	const char *backup_dir;    /* the run's backup, NULL: none taken */
	const struct ledger *ledger; /* the writers' (their values' order), NULL */
	/* out */
	bool healthy;              /* as the engine judged it */
	long long decisions;       /* the bundled engine's values set aside for a
				      person (-1: another engine) */
	int added_port;            /* replace = yes: the new master's, else 0 */
	char summary[600];         /* one line for the progress output */
	json_t *report;            /* owned by the caller afterwards */
};

/* The engine's restart hook for a local cluster (arg): starts the node on
 * `port` again from its own files; refuses a node that still runs. */
int repair_step_restart(void *arg, const char *host, int port, const char *id, struct err *e);

/* Runs the scenario's engine on the cluster (replace = yes: after adding
 * an empty master for it; lc->nodes moves).  -1 with `e` when the engine
 * could not run at all (an engine that ran and failed is a summary). */
int repair_step_run(struct repair_step *st, struct err *e);

#endif
