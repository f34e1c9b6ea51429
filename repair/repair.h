/*
 * repair.h - the bundled repair engine: assess -> plan -> apply, again
 * until nothing is left to do (or nothing more can be done), then a fresh
 * assessment gives the verdict.  Works on any cluster reachable from one
 * address; includes nothing of the harness.
 */
#ifndef SQ_REPAIR_REPAIR_H
#define SQ_REPAIR_REPAIR_H

#include <jansson.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>

#include "repair/apply.h"
#include "repair/plan.h"

/* What became of one salvage source, by the last look. */
struct source_outcome {
	char dir[PATH_MAX];
	bool read;
	char error[256];          /* why not read */
	long long keys;           /* in its files */
	long long salvaged;       /* copied to the cluster by this repair */
	long long same;           /* found there with the same value */
	long long superseded;     /* found there with a newer value */
	long long conflicts;      /* found there with another value */
	long long missing;        /* still missing from the cluster */
	long long undecided;      /* lacked by its node's promoted replica, which
				     may not have had them: in the stash */
	long long deleted_since;  /* lacked by a promoted replica that had them:
				     in the stash (successor.h) */
	bool backup;              /* a dead master's RDB in a backup (--from-backup):
				     salvaged keys are restored from it */
	char addr[80];            /* whose files: "127.0.0.1:7001", or "" */
};

struct repair_outcome {
	bool healthy;            /* the final assessment found nothing to do,
				    and this repair put back all it changed */
	long long decisions;     /* other values set aside in the stash: the
				    cluster is healthy, a person decides */
	int rounds;              /* plans applied */
	struct apply_result total;
	char left[2048];         /* what is left, when not healthy */
	char unsettled[256];     /* why the last wait for the cluster to take
				    in a round gave up (20 s), or "" */
	json_t *report;          /* plans, results, verdict (owned; may be NULL) */
	struct source_outcome *sources; /* one per salvage source (owned) */
	size_t nsources;
	long long backup_time_ms; /* --from-backup: when it was taken (0: none) */
	char backup_time[32];
};

/* Repairs (or, with dry_run, only plans) the cluster at host:port.  Each
 * plan is printed to `out` (NULL: not printed).  Returns 0 when the run
 * went through (healthy or not: see outcome), -1 with `e` when an action
 * failed or no node answered; the outcome is filled either way. */
int repair_run(const char *host, int port, const struct repair_opts *o,
	       const struct repair_env *env, bool dry_run, FILE *out,
	       struct repair_outcome *res, struct err *e);
void repair_outcome_release(struct repair_outcome *res);

/* outcome.c: the result, from one table of counts, so that the line has
 * every count report.json has.  "healthy", "healthy, a decision waits"
 * or "not healthy". */
const char *repair_outcome_word(const struct repair_outcome *res);
/* "healthy: 12 keys moved to their owners, 0 already on their owners,
 * ..." into buf. */
void repair_outcome_line(const struct repair_outcome *res, char *buf, size_t n);
/* The line, then a line per salvage source, where the stash is, the
 * decisions waiting, and what is left. */
void repair_outcome_print(const struct repair_outcome *res, FILE *f);
/* report.json's "result": healthy, every count of the line by name
 * (keys_moved, keys_same, duplicates_stashed, keys_salvaged,
 * salvage_same, superseded, conflicts_set_aside, conflicts_kept,
 * undecided, deleted_since,
 * restarted, forgotten, missing_from_sources, not_put_back), stash,
 * conflict_examples, not_put_back_list, held (owner, slots, nslots, ms
 * each: how long slots refused clients until their keys were back),
 * sources (dir, read, error, keys, salvaged, same, superseded,
 * conflicts, undecided, deleted_since, missing each) and left.  A new object. */
json_t *repair_outcome_json(const struct repair_outcome *res);

#endif
