/* private_server.c - see private_server.h. */
#include "repair/private_server.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/fs.h"
#include "common/port.h"

int
private_server_dir(struct private_server *s, const char *parent, struct err *e)
{
	const char *tmp = parent ? parent : getenv("TMPDIR");

	snprintf(s->dir, sizeof(s->dir), "%s/shardquake-%s-XXXXXX", tmp && *tmp ? tmp : "/tmp",
		 s->name);
	if (mkdtemp(s->dir) == NULL)
		return err_set(e, errno, "mkdtemp '%s': %s", s->dir, strerror(errno));
	return fs_absolute(s->dir, sizeof(s->dir), e);
}

int
private_server_start(struct private_server *s, const char *redis_server,
		     const char *const *extra, int timeout_ms, int wait_ms, struct err *e)
{
	char log[PATH_MAX + 64];
	const char *argv[40];
	uint64_t deadline;
	struct reply *pong;
	int port, n = 0;

	if ((port = port_free_loopback(e)) < 0)
		return -1;
	snprintf(s->port_s, sizeof(s->port_s), "%d", port);
	snprintf(log, sizeof(log), "%s/%s.log", s->dir, s->name);
	argv[n++] = redis_server ? redis_server : "redis-server";
	argv[n++] = "--port";
	argv[n++] = s->port_s;
	argv[n++] = "--bind";
	argv[n++] = s->host ? s->host : "127.0.0.1";
	/* on another address than loopback, protected mode would answer
	 * every connection -DENIED (no password is set) */
	argv[n++] = "--protected-mode";
	argv[n++] = s->host ? "no" : "yes";
	argv[n++] = "--dir";
	argv[n++] = s->dir;
	argv[n++] = "--logfile";
	argv[n++] = log;
	argv[n++] = "--save";
	argv[n++] = "";
	argv[n++] = "--cluster-enabled";
	argv[n++] = "no";
	argv[n++] = "--appendonly";
	argv[n++] = "no";
	while (extra && *extra && n < 39)
		argv[n++] = *extra++;
	argv[n] = NULL;
	s->proc.argv = argv;
	if (proc_start(&s->proc, e) < 0)
		return -1;
	s->proc.argv = NULL;
	for (deadline = clock_now_ms() + (uint64_t)wait_ms; clock_now_ms() < deadline;
	     clock_sleep_ms(20)) {
		if (!proc_is_running(&s->proc))
			return err_set(e, 0, "the %s redis-server %s (see %s)", s->name,
				       proc_describe_status(s->proc.status), log);
		if (s->c == NULL)
			s->c = conn_open(s->host ? s->host : "127.0.0.1", port, timeout_ms, NULL);
		if (s->c && (pong = conn_cmd(s->c, NULL, "PING", NULL)) != NULL) {
			bool ok = pong->type == REPLY_STATUS;

			reply_free(pong);
			if (ok)
				return 0; /* LOADING answers an error */
		}
		if (s->c && conn_is_broken(s->c)) {
			conn_free(s->c);
			s->c = NULL;
		}
	}
	return err_set(e, ETIMEDOUT, "the %s redis-server did not answer in %d s", s->name,
		       wait_ms / 1000);
}

void
private_server_stop(struct private_server *s, bool keep)
{
	conn_free(s->c);
	s->c = NULL;
	proc_kill(&s->proc);
	if (s->dir[0] && !keep)
		fs_rm_rf(s->dir, NULL);
}
