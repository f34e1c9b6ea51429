/*
 * itutil.h - helpers for integration tests on real redis-server processes.
 */
#ifndef SQ_TESTS_ITUTIL_H
#define SQ_TESTS_ITUTIL_H

#include <stdbool.h>
#include <sys/types.h>

#include <jansson.h>

#include "cluster/conn.h"
#include "harness/local/localcluster.h"

/* Skips the running test unless redis-server is on PATH. */
void it_require_redis(const char *suite);
/* Skips the running test unless valkey-server is on PATH (ci/deps.sh
 * installs it from bookworm-backports). */
void it_require_valkey(const char *suite);

/* The server binary every integration test starts: $SHARDQUAKE_SERVER's
 * ("redis", "valkey" or a path), as the command line reads it, else
 * redis-server on PATH.  make check plays the suites once each way. */
const char *it_server(void);
/* True when it_server() is a Valkey. */
bool it_on_valkey(void);
/* LOCAL_CLUSTER_OPTS_INIT with it_server(): every test's cluster plays
 * on the server make check asks for, without each test saying so. */
struct local_cluster_opts it_cluster_opts(void);

/* True while `pid` exists (and is not a zombie of ours). */
bool it_pid_alive(pid_t pid);

/* A connection to 127.0.0.1:port that the test cannot do without. */
struct conn *it_conn(int port);

/* Runs a shell command, returns its exit status (-1 if it did not exit). */
int it_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A new directory $TMPDIR/STEM-XXXXXX into out (size n): under the
 * integration run's private TMPDIR, so a failed test leaves nothing. */
void it_mkdtemp(char *out, size_t n, const char *stem);

/* The report.json of the run under `dir` (a --results directory) whose
 * name starts with `scenario`; the test fails when there is none.
 * json_decref() it. */
json_t *it_report(const char *dir, const char *scenario);

#endif
