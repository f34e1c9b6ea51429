/* proc.c - child processes; see proc.h. */
#include "common/proc.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/clock.h"

/* Runs in the child; reports errno through `fd` and exits on failure. */
static void
child(struct proc *p, int fd, pid_t parent)
{
	int err, in, out;

	if (p->detach)
		setsid();
	else if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
		_exit(127);
	/* what the harness has open (connections, logs, other nodes' pipes)
	 * is not the child's: closed at exec, still usable by in_child */
	if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
		for (in = 3; in < 1024; in++)
			fcntl(in, F_SETFD, FD_CLOEXEC);
	if (p->new_pgrp && !p->detach)
		setpgid(0, 0);
	in = open("/dev/null", O_RDONLY);
	if (in >= 0) {
		dup2(in, STDIN_FILENO);
		close(in);
	}
	if (p->out_path) {
		out = open(p->out_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (out < 0)
			goto fail;
		dup2(out, STDOUT_FILENO);
		dup2(out, STDERR_FILENO);
	}
	if (p->cwd && chdir(p->cwd) < 0)
		goto fail;
	if (p->in_child && (err = p->in_child(p->in_child_arg)) != 0) {
		err = -err; /* negative: the hook failed, not exec */
		goto report;
	}
	execvp(p->argv[0], (char *const *)p->argv);
fail:
	err = errno;
report:
	if (write(fd, &err, sizeof(err)) < 0)
		_exit(127);
	_exit(127);
}

int
proc_start(struct proc *p, struct err *e)
{
	int fds[2], child_errno;
	pid_t parent = getpid(), pid;
	ssize_t n;

	if (pipe2(fds, O_CLOEXEC) < 0)
		return err_set(e, errno, "pipe: %s", strerror(errno));
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return err_set(e, errno, "fork: %s", strerror(errno));
	}
	if (pid == 0) {
		close(fds[0]);
		child(p, fds[1], parent);
	}
	close(fds[1]);
	do
		n = read(fds[0], &child_errno, sizeof(child_errno));
	while (n < 0 && errno == EINTR);
	close(fds[0]);
	if (n == sizeof(child_errno)) {
		waitpid(pid, NULL, 0);
		if (child_errno < 0)
			return err_set(e, -child_errno, "start '%s': before exec: %s", p->argv[0],
				       strerror(-child_errno));
		return err_set(e, child_errno, "start '%s': %s", p->argv[0],
			       strerror(child_errno));
	}
	p->pid = pid;
	p->reaped = false;
	p->status = 0;
	return 0;
}

static bool
reap(struct proc *p, int flags)
{
	pid_t r;

	if (p->pid == 0 || p->reaped)
		return true;
	do
		r = waitpid(p->pid, &p->status, flags);
	while (r < 0 && errno == EINTR);
	if (r == p->pid || (r < 0 && errno == ECHILD)) {
		p->reaped = true;
		return true;
	}
	return false;
}

int
proc_signal(struct proc *p, int sig, struct err *e)
{
	if (p->pid == 0 || reap(p, WNOHANG))
		return err_set(e, ESRCH, "signal %d to pid %d: not a running child",
			       sig, (int)p->pid);
	if (kill(p->pid, sig) < 0)
		return err_set(e, errno, "signal %d to pid %d: %s", sig,
			       (int)p->pid, strerror(errno));
	return 0;
}

bool
proc_is_running(struct proc *p)
{
	return p->pid != 0 && !reap(p, WNOHANG);
}

int
proc_wait(struct proc *p, int timeout_ms, struct err *e)
{
	uint64_t deadline = clock_now_ms() + (uint64_t)(timeout_ms < 0 ? 0 : timeout_ms);

	if (timeout_ms < 0) {
		reap(p, 0);
		return 0;
	}
	while (!reap(p, WNOHANG)) {
		if (clock_now_ms() >= deadline)
			return err_set(e, ETIMEDOUT, "pid %d still running after %d ms",
				       (int)p->pid, timeout_ms);
		clock_sleep_ms(5);
	}
	return 0;
}

void
proc_kill(struct proc *p)
{
	if (p->pid == 0 || reap(p, WNOHANG))
		return;
	kill(p->pid, SIGKILL);
	reap(p, 0);
}

const char *
proc_describe_status(int status)
{
	static char s[96];

	if (WIFEXITED(status))
		snprintf(s, sizeof(s), "exited with status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(s, sizeof(s), "killed by signal %d (%s)", WTERMSIG(status),
			 strsignal(WTERMSIG(status)));
	else
		snprintf(s, sizeof(s), "stopped (status 0x%x)", (unsigned)status);
	return s;
}

void
proc_link(pid_t pid, const char *what, char *out, size_t n)
{
	char path[64];
	ssize_t len;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, what);
	len = readlink(path, out, n - 1);
	out[len > 0 ? len : 0] = '\0';
}
