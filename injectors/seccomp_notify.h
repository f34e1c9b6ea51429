/*
 * seccomp_notify.h - a supervisor for a seccomp user-notification filter.
 *
 * A supervisor is one thread of the harness that answers the system
 * calls a filter traps in a child process: in all of its threads and in
 * the processes it forks, since the filter and its listener are
 * inherited.  The filter is built with libseccomp in the parent and
 * loaded by the child itself between fork and exec, which then hands
 * the listener to the supervisor over a socket pair (SCM_RIGHTS), so
 * that nothing but async-signal-safe system calls runs in the child.
 *
 *   seccomp_sup_new()         parent, before fork: exports the filter,
 *                             makes the socket pair, starts the thread
 *   seccomp_sup_in_child()    child, after fork, before exec
 *   seccomp_sup_wait_ready()  parent: the listener arrived (or why not)
 *   seccomp_sup_free()        parent: stops the thread, closes all
 *
 * The policy is a callback run on the supervisor thread for every
 * trapped call; it answers the call with one of the answer functions
 * below, or defers it (a delay) and is called again for it later.  A
 * trapped call that is never answered blocks its task, so every path
 * of a callback answers or defers.
 *
 * The names are seccomp_sup_*: libseccomp already owns seccomp_notify_*.
 */
#ifndef SQ_INJECTORS_SECCOMP_NOTIFY_H
#define SQ_INJECTORS_SECCOMP_NOTIFY_H

#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/err.h"

struct seccomp_sup;

/* Answers (or defers) the trapped call `req`.  `deferred` is true when
 * the call comes back from seccomp_sup_defer(): its delay is over or
 * was cut short by seccomp_sup_flush(). */
typedef void seccomp_sup_fn(void *arg, struct seccomp_sup *sup,
			    const struct seccomp_notif *req, bool deferred);

/* Exports the filter `ctx` (borrowed: the caller releases it), and
 * starts the supervisor thread calling fn(arg, ...).  Returns a new
 * supervisor; free it with seccomp_sup_free().  NULL and `e` set on
 * failure, with nothing left behind. */
struct seccomp_sup *seccomp_sup_new(scmp_filter_ctx ctx, seccomp_sup_fn *fn,
				    void *arg, struct err *e);

/* Stops the thread (deferred calls still pending are let through first),
 * joins it and closes every descriptor.  NULL is a no-op. */
void seccomp_sup_free(struct seccomp_sup *sup);

/* In the child, after fork and before exec: raises RLIMIT_NOFILE to at
 * least `nofile` (0: leaves it), sets no_new_privs, loads the filter
 * and sends its listener to the supervisor.  Only async-signal-safe
 * system calls.  On any failure it tells the supervisor which step
 * failed and why, and calls _exit(127): the child never goes on
 * unfiltered.  A NULL `sup` is such a failure. */
void seccomp_sup_in_child(const struct seccomp_sup *sup, unsigned long nofile);

/* Waits up to `timeout_ms` for the listener.  Returns 0 once the
 * supervisor has it; -1 with `e` set when the child reported a failure
 * ("in the child (pid 123): load the filter: Invalid argument") or when
 * nothing came in time. */
int seccomp_sup_wait_ready(struct seccomp_sup *sup, int timeout_ms, struct err *e);

/* Brings every deferred call back to the callback now (any thread). */
void seccomp_sup_flush(struct seccomp_sup *sup);

/* Whether this machine can run a supervisor whose child needs
 * RLIMIT_NOFILE of `nofile` and receives descriptors at nofile - 1 with
 * SECCOMP_ADDFD_FLAG_SETFD | SECCOMP_ADDFD_FLAG_SEND: tried for real
 * on a forked child.  0, or -1 with `e` naming what is missing. */
int seccomp_sup_probe(unsigned long nofile, struct err *e);

/*
 * Answers, on the supervisor thread only.  A call whose task was
 * interrupted by a signal or died meanwhile needs no answer: those
 * failures are ignored, others are logged.
 */
/* Lets the call run as if it had not been trapped. */
void seccomp_sup_continue(struct seccomp_sup *sup, const struct seccomp_notif *req);
/* The call fails with `err` (an errno value) without running. */
void seccomp_sup_fail(struct seccomp_sup *sup, const struct seccomp_notif *req, int err);
/* The callback gets the call again after `ms` milliseconds. */
void seccomp_sup_defer(struct seccomp_sup *sup, const struct seccomp_notif *req,
		       unsigned ms);
/* Installs our descriptor `fd` in the task at number `at` (-1: the
 * lowest free one) with `fd_flags` (O_CLOEXEC or 0), and answers the
 * call with that number, atomically.  `fd` stays ours.  Returns the
 * number, or -1 with `e` set (code ENOENT: the call is gone). */
int seccomp_sup_send_fd(struct seccomp_sup *sup, const struct seccomp_notif *req,
			int fd, int at, unsigned fd_flags, struct err *e);
/* True while the call still waits for its answer: check it after
 * reading the task's memory or /proc, which may belong to a new process
 * with the same pid once the task has died. */
bool seccomp_sup_is_valid(struct seccomp_sup *sup, const struct seccomp_notif *req);

/*
 * Reading what a trapped task asked for, on the supervisor thread.
 */
/* The NUL-terminated string at `addr` in task `pid`, into out (size n).
 * -1 and `e` set when unreadable or longer than n - 1. */
int seccomp_sup_read_str(pid_t pid, uint64_t addr, char *out, size_t n, struct err *e);
/* The directory that holds the last component of `path` as task `pid`
 * resolves it (relative to its working directory, to its descriptor
 * `dirfd`, or to its root), opened O_PATH; the last component is left in
 * *leaf (a pointer into `path`).  Returns the descriptor (ours: close
 * it), or -1 and `e` set. */
int seccomp_sup_open_parent(pid_t pid, int dirfd, const char *path, const char **leaf,
			    struct err *e);
/* True when task `pid` has nothing open at descriptor number `fd`. */
bool seccomp_sup_fd_is_free(pid_t pid, int fd);

#endif
