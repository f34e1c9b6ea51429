/*
 * kill.c - the node dies: SIGKILL, or SIGTERM with a grace period and
 * then SIGKILL, as a Kubernetes pod eviction does.
 *
 *   signal      = KILL | TERM   (default KILL)
 *   grace_ms    = 10000         (TERM only: how long before SIGKILL)
 *   aof_written = yes | no      (default yes: a SIGKILL waits, at most
 *                                3 s, until the node's acknowledged
 *                                writes are in its AOF file; no: at once,
 *                                in Redis's everysec window: injector.h)
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "common/clock.h"
#include "injectors/injector.h"

struct kill_priv {
	int sig;
	bool aof_written;
	long long aof_wait_ms; /* -1: it still held writes back when killed */
	long long grace_ms;
	long long took_ms;
	bool escalated;
	int status;
};

/* Its own keys, for the scenario loader's messages as for parse(). */
static const char *const kill_keys[] = {"signal", "grace_ms", "aof_written", NULL};

static int
kill_parse(struct fault *f, const struct params *p, struct err *e)
{
	struct kill_priv *k = f->priv;
	const char *sig = params_get(p, "signal");

	if (params_check_keys(p, "kill", kill_keys, e) < 0)
		return -1;
	k->sig = SIGKILL;
	if (sig && strcmp(sig, "TERM") == 0)
		k->sig = SIGTERM;
	else if (sig && strcmp(sig, "KILL") != 0)
		return err_set(e, EINVAL, "line %d: signal = '%s': expected KILL or TERM",
			       params_line(p, "signal"), sig);
	if (params_duration_ms(p, "grace_ms", 10000, &k->grace_ms, e) < 0 ||
	    params_yes_no(p, "aof_written", true, &k->aof_written, e) < 0)
		return -1;
	if (k->sig == SIGKILL && params_get(p, "grace_ms"))
		return err_set(e, EINVAL, "line %d: grace_ms goes with signal = TERM only",
			       params_line(p, "grace_ms"));
	return 0;
}

static int
kill_inject(struct fault *f, struct target *t, struct err *e)
{
	struct kill_priv *k = f->priv;
	uint64_t t0;

	/* SIGTERM: the node writes its AOF out as it shuts down */
	if (k->sig == SIGKILL && k->aof_written)
		k->aof_wait_ms = target_aof_caught_up(t, TARGET_AOF_WAIT_MS);
	t0 = clock_now_ms();
	if (proc_signal(t->proc, k->sig, e) < 0)
		return err_prefix(e, "kill node %d: ", t->port);
	f->target = t;
	f->injected = true;
	if (k->sig == SIGTERM &&
	    proc_wait(t->proc, (int)k->grace_ms, NULL) < 0) {
		k->escalated = true;
		proc_kill(t->proc);
	}
	proc_wait(t->proc, -1, NULL);
	k->status = t->proc->status;
	k->took_ms = (long long)(clock_now_ms() - t0);
	return 0;
}

static void
kill_describe(const struct fault *f, char *out, size_t n)
{
	const struct kill_priv *k = f->priv;

	if (k->sig == SIGKILL)
		snprintf(out, n, "node %d %s", f->target ? f->target->port : 0,
			 proc_describe_status(k->status));
	else
		snprintf(out, n, "node %d got SIGTERM; %s after %lld ms%s",
			 f->target ? f->target->port : 0,
			 proc_describe_status(k->status), k->took_ms,
			 k->escalated ? " (grace ran out: SIGKILL)" : "");
}

static void
kill_evidence(const struct fault *f, struct evidence *ev)
{
	const struct kill_priv *k = f->priv;

	evidence_add(ev, "signal", "%s", k->sig == SIGKILL ? "KILL" : "TERM");
	evidence_add(ev, "wait_status", "%s", proc_describe_status(k->status));
	evidence_num(ev, "took_ms", k->took_ms);
	if (k->sig == SIGKILL && k->aof_written)
		evidence_num(ev, "aof_wait_ms", k->aof_wait_ms);
	if (k->sig == SIGTERM)
		evidence_add(ev, "escalated", "%s", k->escalated ? "yes" : "no");
}

const struct injector_ops kill_injector = {
	.name = "kill",
	.params = kill_keys,
	.priv_size = sizeof(struct kill_priv),
	.parse = kill_parse,
	.inject = kill_inject,
	.describe = kill_describe,
	.evidence = kill_evidence,
};
