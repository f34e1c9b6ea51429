/*
 * runner.h - plays one scenario: cluster up, load, reshard with faults
 * fired at their points, settle, verify, check the expectations, and
 * write results/<run-id>/ (report.json, junit.xml, timeline.log, and
 * the nodes' directories with their logs).
 */
#ifndef SQ_HARNESS_RUNNER_H
#define SQ_HARNESS_RUNNER_H

#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "harness/scenario/scenario.h"

struct run_opts {
	const char *results;      /* parent of run directories (default "results") */
	bool keep;                /* leave the cluster running afterwards */
	bool has_seed;            /* --seed given: overrides the scenario's */
	uint64_t seed;
	const char *redis_server; /* NULL: on PATH */
	volatile sig_atomic_t *interrupted; /* set by a signal handler: stop soon */
	/* Why scenarios with [cluster] network = netns cannot run here (they
	 * are skipped with it), or NULL: the harness is in a private
	 * network namespace of its own. */
	const char *no_netns;
	/* Optional: called once the cluster is in its broken state (faults
	 * fired, or a [layout] built, and settled), just before the repair;
	 * the cluster is borrowed for the call.  For tests that compare it. */
	void (*before_repair)(void *arg, const struct local_cluster *lc);
	void *hook_arg;
};

enum run_status { RUN_PASSED, RUN_FAILED, RUN_SKIPPED };

struct run_result {
	enum run_status status;
	char reason[1024];      /* the first failed expectation, or the error */
	char dir[PATH_MAX];     /* results/<run-id> */
	double seconds;
	char server[32];        /* "redis", "valkey": who played it */
};

/* Runs the scenario; the outcome is in `r`, never in the return value
 * of a step: a harness error is a failed run with its reason. */
void runner_run(const struct scenario *s, const struct run_opts *o,
		struct run_result *r);
/* The server binary `s` plays with: the command line's, else its own
 * [cluster] server, else $SHARDQUAKE_SERVER's; NULL: redis-server on
 * PATH. */
const char *runner_server(const struct scenario *s, const struct run_opts *o);

/* summary.json of these runs as an object (summary.c; json_decref()
 * it), and written to `path`. */
struct json_t;
struct json_t *summary_json(const struct scenario *const *s, const struct run_result *r,
			    size_t n);
int summary_write(const char *path, const struct scenario *const *s,
		  const struct run_result *r, size_t n, struct err *e);

/* Writes a JUnit XML file of these runs to `path`. */
int junit_write(const char *path, const struct scenario *const *s,
		const struct run_result *r, size_t n, struct err *e);

#endif
