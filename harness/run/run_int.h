/*
 * run_int.h - what the files of one run share (runner.c, phase.c, settle.c,
 * expect.c, report.c): the run's state and the phases they export to
 * one another.  Not for use outside harness/run/.
 */
#ifndef SQ_HARNESS_RUN_RUN_INT_H
#define SQ_HARNESS_RUN_RUN_INT_H

#include <jansson.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "cluster/backup.h"
#include "harness/reshard/reshard.h"
#include "harness/run/runner.h"
#include "harness/run/trigger.h"
#include "harness/workload/writers.h"
#include "verifier/ledger.h"
#include "verifier/verify.h"

struct run {
	const struct scenario *s;
	const struct run_opts *o;
	struct run_result *r;
	struct dataset d;
	struct local_cluster lc;
	bool cluster_up;
	struct timeline tl;
	struct trigger_set ts;
	json_t *report, *phases, *expects;
	json_t *spans;         /* each phase: name, from_ms, to_ms */
	struct reshard_progress progress;
	bool reshard_completed;
	char reshard_error[ERR_MSG_MAX];
	struct verdict v;
	bool verified;
	struct writers *writers;  /* [workload]: running from the load on */
	struct ledger ledger;
	struct ledger_result ledger_result;
	struct outages outages;   /* what the writers could not do, per slot */
	struct series series;     /* what they did over time */
	bool ledger_checked;
	int promoted;          /* replicas of dead masters the cluster promoted (settle) */
	long long decisions;   /* the bundled engine's values set aside for a person,
				  -1 when it did not run */
	long long *ledger_seen;   /* per ledger key, the write read back (ledger.h) */
	/* [reshard] backup = yes */
	bool backed_up;
	char backup_dir[PATH_MAX];
	struct backup backup;
	long long *backup_mark;   /* per ledger key, its last acknowledged write
				     when the backup was asked for */
	bool expected;         /* phase_expect ran */
	bool expect_unchecked; /* it runs only to list what was not checked */
};

/* phase.c: one progress line and the phase's time in the report; the
 * run fails with the first reason given (later ones are dropped); the
 * user asked the run to stop. */
void run_phase_done(struct run *run, const char *name, uint64_t t0, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
int run_fail(struct run *run, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
bool run_interrupted(const struct run *run);

/* settle.c: node `node` answers PING; waiting until the cluster has
 * noticed every fault that fired. */
bool run_answers(struct run *run, int node);
void run_settle(struct run *run, const char *name);
/* How many running nodes other than `node` flag it with any of `flags`
 * (enum node_flag); *asked says how many were asked. */
int run_flagging(struct run *run, int node, unsigned flags, int *asked);

/* backup.c: the run's backup just before its reshard ([reshard] backup =
 * yes; 0, or a failed run); after the ledger is read back, its lost
 * writes sorted into report.json's "backup": written after the backup,
 * or before it. */
int run_backup(struct run *run);
void run_backup_ledger(struct run *run);

/* layout.c: the slot map a [layout] cluster starts with: the layout's,
 * each uncovered slot given to the master of the slot before it until
 * the load is done; then run_layout() turns the loaded cluster into the
 * layout's broken state (uncovered, open and failed), 0 or a failed run. */
void run_layout_owner(const struct scenario *s, short owner[CLUSTER_SLOTS]);
int run_layout(struct run *run);

/* workload.c: the writers started after the load (the run waits until
 * every key was written once); stopped (after a short tail when `tail`:
 * the repaired cluster serves them again); their ledger read back from
 * host:port into report.json's "workload", and kept as ledger.tsv.  The
 * key prefix the verifier passes over, NULL without a workload. */
int run_workload_start(struct run *run);
void run_workload_stop(struct run *run, bool tail);
void run_workload_check(struct run *run, const char *host, int port);
const char *run_workload_prefix(const struct run *run);

/* runbook.c: an outside program of the repair step, its own process
 * group, killed on the time limit or a signal; its output into `log`,
 * whose last line with words (colours stripped) goes to `last`. */
struct runbook_child {
	const char *const *argv;
	const char *cwd;         /* NULL: ours */
	char **env;              /* NULL: ours */
	const char *log;
	long long timeout_ms;
	/* out */
	int status;              /* wait status */
	bool timed_out;
	uint64_t ms;
	char last[256];
};
int runbook_child(struct runbook_child *c, volatile sig_atomic_t *interrupted, struct err *e);
void runbook_last_words(const char *path, char *out, size_t n);
/* [repair] engine = exec: the scenario's command (see runbook.c for its
 * environment), graded by its exit status; summary and report in st. */
struct repair_step;
int runbook_run(struct repair_step *st, const char *host, int port, struct err *e);

/* expect.c: the scenario's [expect] graded against the verdict (or,
 * for a run that stopped early, listed as not checked). */
void run_expect(struct run *run);

/* slotmap.c: the slot map now, appended to report.json's "slot_maps"
 * as `point` ("before_fault", "after_fault", "after_repair") with a
 * label for people; an "error" in it when no node answers. */
void run_slot_map(struct run *run, const char *point, const char *label);

/* report.c: a reshard event as JSON; report.json and junit.xml. */
json_t *run_event_json(const struct reshard_event *ev);
void run_write_results(struct run *run);

#endif
