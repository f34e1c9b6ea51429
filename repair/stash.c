/* stash.c - a private home for verified duplicates; see stash.h. */
#include "repair/stash.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/fs.h"
#include "common/port.h"

static int
start(struct stash *s, struct err *e)
{
	const char *tmp = s->parent ? s->parent : getenv("TMPDIR");
	char log[PATH_MAX + 16];
	const char *argv[20];
	uint64_t deadline;
	int port, n = 0;

	snprintf(s->dir, sizeof(s->dir), "%s/shardquake-stash-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (mkdtemp(s->dir) == NULL)
		return err_set(e, errno, "mkdtemp '%s': %s", s->dir, strerror(errno));
	/* redis-server opens its log after moving into --dir: absolute paths */
	if (fs_absolute(s->dir, sizeof(s->dir), e) < 0)
		return -1;
	if ((port = port_free_loopback(e)) < 0)
		return -1;
	snprintf(s->port_s, sizeof(s->port_s), "%d", port);
	snprintf(log, sizeof(log), "%s/stash.log", s->dir);
	argv[n++] = s->redis_server ? s->redis_server : "redis-server";
	argv[n++] = "--port";
	argv[n++] = s->port_s;
	argv[n++] = "--bind";
	argv[n++] = "127.0.0.1";
	argv[n++] = "--dir";
	argv[n++] = s->dir;
	argv[n++] = "--logfile";
	argv[n++] = log;
	argv[n++] = "--save";
	argv[n++] = "";
	argv[n++] = "--appendonly";
	argv[n++] = "no";
	argv[n] = NULL;
	s->proc.argv = argv;
	if (proc_start(&s->proc, e) < 0)
		return -1;
	s->proc.argv = NULL;
	for (deadline = clock_now_ms() + 10000; clock_now_ms() < deadline; clock_sleep_ms(20)) {
		struct reply *r;

		if (!proc_is_running(&s->proc))
			return err_set(e, 0, "the stash redis-server %s (see %s)",
				       proc_describe_status(s->proc.status), log);
		if ((s->c = conn_open("127.0.0.1", port, s->timeout_ms, NULL)) == NULL)
			continue;
		r = conn_cmd(s->c, NULL, "PING", NULL);
		if (r && r->type == REPLY_STATUS) {
			reply_free(r);
			return 0;
		}
		reply_free(r);
		conn_free(s->c);
		s->c = NULL;
	}
	return err_set(e, ETIMEDOUT, "the stash redis-server did not answer in 10 s");
}

struct conn *
stash_conn(struct stash *s, struct err *e)
{
	if (s->c == NULL && start(s, e) < 0) {
		proc_kill(&s->proc);
		return NULL;
	}
	return s->c;
}

int
stash_close(struct stash *s, char *where, size_t n, struct err *e)
{
	int rc = 0;

	if (where && n)
		where[0] = '\0';
	if (s->c && s->kept > 0) {
		if (conn_cmd_ok(s->c, e, "SAVE", NULL) < 0)
			rc = err_prefix(e, "saving the stash: ");
		else if (where)
			snprintf(where, n, "%s/dump.rdb", s->dir);
	}
	conn_free(s->c);
	s->c = NULL;
	proc_kill(&s->proc);
	if (s->dir[0] && s->kept == 0 && rc == 0)
		fs_rm_rf(s->dir, NULL);
	return rc;
}
