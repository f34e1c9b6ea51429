/*
 * restart.c - the node crashes and comes back: SIGKILL, then after
 * delay_ms it is started again from its own files (nodes.conf, AOF or
 * RDB), as a supervisor would restart it.
 *
 *   delay_ms    = 1000
 *   aof_written = yes | no   (as kill's: the SIGKILL waits, at most 3 s,
 *                             until its acknowledged writes are in its
 *                             AOF file; no: at once)
 */
#include <signal.h>
#include <stdio.h>

#include "common/clock.h"
#include "injectors/injector.h"

struct restart_priv {
	long long delay_ms;
	bool aof_written;
	long long aof_wait_ms; /* -1: it still held writes back when killed */
	int status;
};

/* Its own keys, for the scenario loader's messages as for parse(). */
static const char *const restart_keys[] = {"delay_ms", "aof_written", NULL};

static int
restart_parse(struct fault *f, const struct params *p, struct err *e)
{
	struct restart_priv *k = f->priv;

	if (params_check_keys(p, "restart", restart_keys, e) < 0 ||
	    params_yes_no(p, "aof_written", true, &k->aof_written, e) < 0)
		return -1;
	return params_duration_ms(p, "delay_ms", 1000, &k->delay_ms, e);
}

static int
restart_inject(struct fault *f, struct target *t, struct err *e)
{
	struct restart_priv *k = f->priv;

	if (t->restart == NULL)
		return err_set(e, 0, "restart node %d: the harness cannot restart it",
			       t->port);
	if (k->aof_written)
		k->aof_wait_ms = target_aof_caught_up(t, TARGET_AOF_WAIT_MS);
	if (proc_signal(t->proc, SIGKILL, e) < 0)
		return err_prefix(e, "restart node %d: ", t->port);
	proc_wait(t->proc, -1, NULL);
	k->status = t->proc->status;
	f->target = t;
	f->injected = true;
	clock_sleep_ms((unsigned)k->delay_ms);
	if (t->restart(t->restart_arg, e) < 0)
		return err_prefix(e, "restart node %d: ", t->port);
	return 0;
}

static void
restart_describe(const struct fault *f, char *out, size_t n)
{
	const struct restart_priv *k = f->priv;

	snprintf(out, n, "node %d %s, started again after %lld ms",
		 f->target ? f->target->port : 0, proc_describe_status(k->status),
		 k->delay_ms);
}

static void
restart_evidence(const struct fault *f, struct evidence *ev)
{
	const struct restart_priv *k = f->priv;

	evidence_add(ev, "wait_status", "%s", proc_describe_status(k->status));
	if (k->aof_written)
		evidence_num(ev, "aof_wait_ms", k->aof_wait_ms);
}

const struct injector_ops restart_injector = {
	.name = "restart",
	.params = restart_keys,
	.priv_size = sizeof(struct restart_priv),
	.parse = restart_parse,
	.inject = restart_inject,
	.describe = restart_describe,
	.evidence = restart_evidence,
};
