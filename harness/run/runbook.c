/*
 * runbook.c - the repair step's outside programs: redis-cli --cluster fix
 * (repair_step.c) and a runbook of the user's own ([repair] engine =
 * exec), each a child of ours with a time limit, its output in the run's
 * results, graded afterwards by the verifier like the bundled engine.
 *
 * A runbook is run by `sh -c COMMAND` in the scenario file's directory,
 * in a process group of its own (what it starts is stopped with it on a
 * timeout or Ctrl-C), with the cluster described in its environment:
 *
 *   SQ_ENTRY        host:port of a node that answers
 *   SQ_NODES        every node, host:port, space-separated
 *   SQ_LIVE         the nodes that run
 *   SQ_FAILED       the nodes that are down
 *   SQ_FAILED_IDS   their node ids, in the same order
 *   SQ_FAILED_DIRS  their data directories (nodes.conf, AOF, RDB), same order
 *   SQ_RESULTS      the run's results directory
 *   SQ_REDIS_SERVER the redis-server the cluster runs
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/clock.h"
#include "common/fs.h"
#include "common/utf8.h"
#include "common/xmalloc.h"
#include "harness/run/repair_step.h"
#include "harness/run/run_int.h"

extern char **environ;

void
runbook_last_words(const char *path, char *out, size_t n)
{
	char *text = fs_read_file(path, NULL, NULL), *line, *save = NULL, *p, *q;

	out[0] = '\0';
	for (line = text ? strtok_r(text, "\n", &save) : NULL; line;
	     line = strtok_r(NULL, "\n", &save)) {
		for (p = q = line; *p; p++) {
			if (*p == '\033') { /* ESC [ ... m */
				while (*p && *p != 'm')
					p++;
				if (!*p)
					break;
				continue;
			}
			*q++ = *p;
		}
		*q = '\0';
		if (strspn(line, " \t") < strlen(line))
			snprintf(out, n, "%s", line);
	}
	free(text);
	utf8_sanitize(out);
}

/* In the child, before exec: the environment prepared by the parent
 * (assigning a pointer is all a child of a threaded process may do). */
static int
use_env(void *arg)
{
	environ = arg;
	return 0;
}

int
runbook_child(struct runbook_child *c, volatile sig_atomic_t *interrupted, struct err *e)
{
	struct proc p = PROC_INIT;
	uint64_t t0 = clock_now_ms();

	p.argv = c->argv;
	p.cwd = c->cwd;
	p.out_path = c->log;
	p.new_pgrp = true;
	if (c->env) {
		p.in_child = use_env;
		p.in_child_arg = c->env;
	}
	c->timed_out = false;
	if (proc_start(&p, e) < 0)
		return err_prefix(e, "run %s: ", c->argv[0]);
	while (proc_wait(&p, 50, NULL) < 0) {
		bool stop = interrupted && *interrupted;

		if (stop || clock_now_ms() - t0 > (uint64_t)c->timeout_ms) {
			kill(-p.pid, SIGKILL); /* and whatever it started */
			proc_kill(&p);
			if (stop)
				return err_set(e, 0, "interrupted");
			c->timed_out = true;
		}
	}
	c->status = p.status;
	c->ms = clock_now_ms() - t0;
	runbook_last_words(c->log, c->last, sizeof(c->last));
	return 0;
}

/* NAME=the nodes i (running or not, as `up` says; -1: all), `what` of
 * each, space-separated. */
static char *
node_list(const struct local_cluster *lc, const char *name, int up, char what)
{
	struct buf b = BUF_INIT;
	size_t i;

	buf_addf(&b, "%s=", name);
	for (i = 0; i < lc->n; i++) {
		const struct local_node *n = &lc->nodes[i];
		int running = proc_is_running((struct proc *)&n->proc);

		if (up >= 0 && running != up)
			continue;
		if (b.len > strlen(name) + 1)
			buf_addf(&b, " ");
		if (what == 'a')
			buf_addf(&b, "%s:%d", n->host, n->port);
		else if (what == 'i')
			buf_addf(&b, "%s", n->id);
		else
			buf_addf(&b, "%s", n->dir);
	}
	return buf_detach(&b);
}

/* The process's environment and the SQ_ variables, a new array. */
static char **
runbook_env(struct repair_step *st, const char *host, int port)
{
	char **env;
	size_t n = 0, k = 0, i;
	char *extra[8];

	extra[0] = node_list(st->lc, "SQ_NODES", -1, 'a');
	extra[1] = node_list(st->lc, "SQ_LIVE", 1, 'a');
	extra[2] = node_list(st->lc, "SQ_FAILED", 0, 'a');
	extra[3] = node_list(st->lc, "SQ_FAILED_IDS", 0, 'i');
	extra[4] = node_list(st->lc, "SQ_FAILED_DIRS", 0, 'd');
	extra[5] = xasprintf("SQ_ENTRY=%s:%d", host, port);
	extra[6] = xasprintf("SQ_RESULTS=%s", st->dir);
	extra[7] = xasprintf("SQ_REDIS_SERVER=%s",
		  st->lc->opts.redis_server ? st->lc->opts.redis_server : "redis-server");
	while (environ[n])
		n++;
	env = xcalloc(n + 9, sizeof(*env));
	for (i = 0; i < n; i++)
		if (strncmp(environ[i], "SQ_", 3) != 0)
			env[k++] = xstrdup(environ[i]);
	for (i = 0; i < 8; i++)
		env[k++] = extra[i];
	return env;
}

static void
env_free(char **env)
{
	size_t i;

	for (i = 0; env && env[i]; i++)
		free(env[i]);
	free(env);
}

int
runbook_run(struct repair_step *st, const char *host, int port, struct err *e)
{
	const char *argv[] = {"sh", "-c", st->s->repair_command, NULL};
	struct runbook_child c = {.argv = argv, .timeout_ms = st->s->repair_timeout_ms};
	char dir[PATH_MAX], log[PATH_MAX + 32];
	const char *slash;
	int rc, code;

	slash = strrchr(st->s->path, '/');
	snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - st->s->path) : 1,
		 slash ? st->s->path : ".");
	snprintf(log, sizeof(log), "%s/runbook.log", st->dir);
	c.cwd = dir;
	c.log = log;
	c.env = runbook_env(st, host, port);
	rc = runbook_child(&c, st->interrupted, e);
	env_free(c.env);
	if (rc < 0)
		return -1;
	code = WIFEXITED(c.status) ? WEXITSTATUS(c.status) : -1;
	st->healthy = code == 0 && !c.timed_out;
	st->report = json_pack("{s:s, s:s, s:s, s:i, s:b, s:I, s:s, s:s}", "engine", "exec",
			       "command", st->s->repair_command, "cwd", dir, "exit", code,
			       "timed_out", c.timed_out, "ms", (json_int_t)c.ms, "last_line",
			       c.last, "log", "runbook.log");
	snprintf(st->summary, sizeof(st->summary), "runbook '%s' %s %d%s%s",
		 st->s->repair_command,
		 c.timed_out ? "timed out, status" : "exited", code, c.last[0] ? ": " : "", c.last);
	utf8_sanitize(st->summary);
	clock_sleep_ms(2000); /* let the cluster take in what it did */
	return 0;
}
