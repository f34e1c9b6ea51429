/*
 * proc.h - child processes: spawn, signal, wait (git's run-command).
 *
 * A `struct proc` is caller-owned; fill in `argv` (and optionally the
 * other inputs), then proc_start().  The child gets PR_SET_PDEATHSIG
 * SIGKILL so that it never outlives the harness, has its stdin on
 * /dev/null and its stdout/stderr on `out_path` when set.
 */
#ifndef SQ_COMMON_PROC_H
#define SQ_COMMON_PROC_H

#include <stdbool.h>
#include <sys/types.h>

#include "common/err.h"

struct proc {
	/* inputs */
	const char *const *argv; /* argv[0] is looked up on PATH */
	const char *cwd;         /* optional */
	const char *out_path;    /* optional: stdout and stderr appended here */
	bool new_pgrp;           /* optional: setpgid(0, 0) in the child */
	bool detach;             /* optional: setsid(), no PDEATHSIG: the child
				    outlives us (a cluster left running) */
	/* Optional: run in the child after fork, before exec (fault hooks);
	 * async-signal-safe.  Returns 0, or an errno value: the child then
	 * exits and proc_start() fails with "before exec: <error>". */
	int (*in_child)(void *arg);
	void *in_child_arg;
	/* state */
	pid_t pid;    /* 0 when not running */
	int status;   /* wait status once reaped */
	bool reaped;
};

#define PROC_INIT {0}

/* Forks and execs.  On failure (fork, or exec reported back through a
 * close-on-exec pipe) returns -1 with `e` set and no child left. */
int proc_start(struct proc *p, struct err *e);

/* Sends `sig` to the child if it is still ours and not yet reaped.
 * Returns 0, or -1 with `e` set (no such child, or kill failed). */
int proc_signal(struct proc *p, int sig, struct err *e);

/* Non-blocking: true while the child has not exited (reaps it if it has). */
bool proc_is_running(struct proc *p);

/* Waits up to `timeout_ms` (negative: forever) for the child to exit.
 * Returns 0 once reaped, -1 with `e` set on timeout. */
int proc_wait(struct proc *p, int timeout_ms, struct err *e);

/* SIGKILLs the child if running and reaps it.  Safe to call twice. */
void proc_kill(struct proc *p);

/* "exited with status 3", "killed by signal 9 (Killed)": borrowed, static. */
const char *proc_describe_status(int status);

/* readlink() of /proc/PID/WHAT ("cwd", "exe") into out (size n); "" when
 * it cannot be read (a zombie has no cwd). */
void proc_link(pid_t pid, const char *what, char *out, size_t n);

#endif
