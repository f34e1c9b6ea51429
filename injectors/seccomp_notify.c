/*
 * seccomp_notify.c - a supervisor for a seccomp user-notification filter;
 * see seccomp_notify.h.
 *
 * The thread polls three descriptors: an eventfd that says stop or
 * flush, the supervisor's end of the socket pair until the child's
 * listener (or its failure note) has come through it, and then the
 * listener itself.  Deferred calls wait in a small array with their due
 * times; the earliest one sets poll's timeout, so nothing spins and a
 * delayed call never holds up the others.
 */
#include "injectors/seccomp_notify.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/filter.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define LOG_MODULE "injectors/seccomp"
#include "common/clock.h"
#include "common/fs.h"
#include "common/log.h"
#include "common/xmalloc.h"

/* Linux 6.6: wake the supervisor on the trapped task's CPU, which cuts
 * the latency of every answer; older kernels refuse it, which is fine. */
#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#endif
#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (1UL << 0)
#endif

/* What the child sends with its listener, or instead of it. */
struct child_note {
	int err; /* 0: the listener is attached */
	int step;
	int pid;
};

enum child_step { STEP_RLIMIT, STEP_NNP, STEP_FILTER, STEP_SEND };

static const char *const step_names[] = {
	"raise RLIMIT_NOFILE", "set no_new_privs", "load the filter", "send the listener",
};

struct pending {
	struct seccomp_notif req;
	uint64_t due_ms;
};

enum handover { WAITING, READY, FAILED };

struct seccomp_sup {
	seccomp_sup_fn *fn;
	void *arg;
	/* the exported program, read by the child after fork */
	struct sock_filter *insns;
	unsigned short ninsns;
	int sock[2]; /* [0] the supervisor's end, [1] the child's */
	int wake;    /* eventfd: stop or flush */
	pthread_t thread;
	atomic_bool stop;
	atomic_bool flush;
	/* the supervisor thread's own */
	int listener;
	bool sock_done;
	struct seccomp_notif *req; /* sized as the kernel says */
	struct seccomp_notif_resp *resp;
	size_t req_size, resp_size;
	struct pending *pend;
	size_t npend, cappend;
	/* the listener's handover, under lock */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	enum handover state;
	char why[256];
};

static void
wake(struct seccomp_sup *sup)
{
	uint64_t one = 1;

	/* EAGAIN means the counter is already non-zero: awake anyway */
	if (write(sup->wake, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_warn("wake the supervisor: %s", strerror(errno));
}

static void
answer(struct seccomp_sup *sup, const struct seccomp_notif *req, int error, unsigned flags)
{
	if (sup->listener < 0)
		return;
	memset(sup->resp, 0, sup->resp_size);
	sup->resp->id = req->id;
	sup->resp->error = error;
	sup->resp->flags = flags;
	/* ENOENT: a signal interrupted the call, or its task died */
	if (ioctl(sup->listener, SECCOMP_IOCTL_NOTIF_SEND, sup->resp) < 0 && errno != ENOENT)
		log_warn("answer system call %d of pid %u: %s", req->data.nr, req->pid,
			 strerror(errno));
}

void
seccomp_sup_continue(struct seccomp_sup *sup, const struct seccomp_notif *req)
{
	answer(sup, req, 0, SECCOMP_USER_NOTIF_FLAG_CONTINUE);
}

void
seccomp_sup_fail(struct seccomp_sup *sup, const struct seccomp_notif *req, int err)
{
	answer(sup, req, -err, 0);
}

void
seccomp_sup_defer(struct seccomp_sup *sup, const struct seccomp_notif *req, unsigned ms)
{
	xgrow(&sup->pend, &sup->cappend, sup->npend + 1, sizeof(*sup->pend));
	sup->pend[sup->npend].req = *req;
	sup->pend[sup->npend].due_ms = clock_now_ms() + ms;
	sup->npend++;
}

int
seccomp_sup_send_fd(struct seccomp_sup *sup, const struct seccomp_notif *req, int fd,
		    int at, unsigned fd_flags, struct err *e)
{
	struct seccomp_notif_addfd a = {
		.id = req->id,
		.flags = SECCOMP_ADDFD_FLAG_SEND | (at >= 0 ? SECCOMP_ADDFD_FLAG_SETFD : 0),
		.srcfd = (unsigned)fd,
		.newfd = at >= 0 ? (unsigned)at : 0,
		.newfd_flags = fd_flags,
	};
	int r;

	if (sup->listener < 0)
		return err_set(e, ENOENT, "no listener");
	r = ioctl(sup->listener, SECCOMP_IOCTL_NOTIF_ADDFD, &a);
	if (r < 0)
		return err_set(e, errno, "install a descriptor at %d in pid %u: %s", at, req->pid,
			       strerror(errno));
	return r;
}

bool
seccomp_sup_is_valid(struct seccomp_sup *sup, const struct seccomp_notif *req)
{
	uint64_t id = req->id;

	return sup->listener >= 0 && ioctl(sup->listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) == 0;
}

/* Receives the child's note and, with it, the listener. */
static void
take_listener(struct seccomp_sup *sup)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} u;
	struct child_note note = {0, 0, 0};
	struct iovec iov = {&note, sizeof(note)};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
			   .msg_controllen = sizeof(u.buf)};
	struct cmsghdr *c;
	ssize_t n;
	uint64_t sync = SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP;
	int fd = -1;

	memset(&u, 0, sizeof(u));
	n = recvmsg(sup->sock[0], &m, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	c = n > 0 ? CMSG_FIRSTHDR(&m) : NULL;
	if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
	    c->cmsg_len == CMSG_LEN(sizeof(int)))
		memcpy(&fd, CMSG_DATA(c), sizeof(fd));
	sup->sock_done = true;
	pthread_mutex_lock(&sup->lock);
	if (n == (ssize_t)sizeof(note) && note.err == 0 && fd >= 0) {
		sup->listener = fd;
		fd = -1;
		sup->state = READY;
		if (ioctl(sup->listener, SECCOMP_IOCTL_NOTIF_SET_FLAGS, sync) < 0)
			log_debug("synchronous wake-up not available: %s", strerror(errno));
	} else if (n == (ssize_t)sizeof(note) && note.err != 0 && note.step >= 0 &&
		   note.step <= STEP_SEND) {
		sup->state = FAILED;
		snprintf(sup->why, sizeof(sup->why), "in the child (pid %d): %s: %s", note.pid,
			 step_names[note.step], strerror(note.err));
	} else {
		sup->state = FAILED;
		snprintf(sup->why, sizeof(sup->why), "no listener from the child: %s",
			 n < 0 ? strerror(errno) : "malformed message");
	}
	pthread_cond_broadcast(&sup->cond);
	pthread_mutex_unlock(&sup->lock);
	if (fd >= 0)
		close(fd);
}

static void
answer_one(struct seccomp_sup *sup)
{
	memset(sup->req, 0, sup->req_size);
	if (ioctl(sup->listener, SECCOMP_IOCTL_NOTIF_RECV, sup->req) < 0) {
		if (errno == EINTR || errno == ENOENT)
			return; /* the task was killed after poll saw its call */
		/* Closing the listener makes trapped calls fail with ENOSYS:
		 * better than leaving the node hung on a call nobody answers. */
		log_error("receive a trapped call: %s; the filter is abandoned", strerror(errno));
		close(sup->listener);
		sup->listener = -1;
		return;
	}
	sup->fn(sup->arg, sup, sup->req, false);
}

/* Poll's timeout: until the earliest deferred call is due, or -1. */
static int
next_timeout(const struct seccomp_sup *sup)
{
	uint64_t first = UINT64_MAX, now;
	size_t i;

	if (sup->npend == 0)
		return -1;
	for (i = 0; i < sup->npend; i++)
		if (sup->pend[i].due_ms < first)
			first = sup->pend[i].due_ms;
	now = clock_now_ms();
	if (first <= now)
		return 0;
	return first - now > INT_MAX ? INT_MAX : (int)(first - now);
}

/* Takes the due calls (all of them when `all`) out of the array, then
 * gives them back to the callback, which may defer others meanwhile. */
static void
run_due(struct seccomp_sup *sup, bool all)
{
	struct pending *due = NULL;
	size_t i, n = 0, cap = 0;
	uint64_t now = clock_now_ms();

	for (i = 0; i < sup->npend;) {
		if (!all && sup->pend[i].due_ms > now) {
			i++;
			continue;
		}
		xgrow(&due, &cap, n + 1, sizeof(*due));
		due[n++] = sup->pend[i];
		sup->pend[i] = sup->pend[--sup->npend];
	}
	for (i = 0; i < n; i++)
		sup->fn(sup->arg, sup, &due[i].req, true);
	free(due);
}

static void *
supervise(void *arg)
{
	struct seccomp_sup *sup = arg;
	struct pollfd pf[3];
	uint64_t count;
	size_t i;

	for (;;) {
		pf[0] = (struct pollfd){sup->wake, POLLIN, 0};
		pf[1] = (struct pollfd){sup->sock_done ? -1 : sup->sock[0], POLLIN, 0};
		pf[2] = (struct pollfd){sup->listener, POLLIN, 0};
		if (poll(pf, 3, next_timeout(sup)) < 0) {
			if (errno != EINTR) {
				log_warn("poll: %s", strerror(errno));
				clock_sleep_ms(10);
			}
			continue;
		}
		if (pf[0].revents & POLLIN) {
			if (read(sup->wake, &count, sizeof(count)) < 0 && errno != EAGAIN)
				log_warn("read the wake-up count: %s", strerror(errno));
			if (atomic_load(&sup->stop))
				break;
			if (atomic_exchange(&sup->flush, false))
				run_due(sup, true);
		}
		if (pf[1].revents)
			take_listener(sup);
		if (pf[2].revents & POLLIN) {
			answer_one(sup);
		} else if (pf[2].revents & (POLLHUP | POLLERR | POLLNVAL)) {
			/* every task of the filter has exited */
			close(sup->listener);
			sup->listener = -1;
		}
		if (sup->npend > 0)
			run_due(sup, false);
	}
	for (i = 0; i < sup->npend; i++)
		seccomp_sup_continue(sup, &sup->pend[i].req);
	sup->npend = 0;
	return NULL;
}

/* seccomp_export_bpf() writes to a descriptor (libseccomp 2.5 has no
 * export to memory): a memfd, read back whole. */
static int
export_filter(struct seccomp_sup *sup, scmp_filter_ctx ctx, struct err *e)
{
	int fd = memfd_create("sq-seccomp-bpf", MFD_CLOEXEC), rc = -1;
	off_t len;

	if (fd < 0)
		return err_set(e, errno, "memfd_create: %s", strerror(errno));
	if ((rc = seccomp_export_bpf(ctx, fd)) < 0) {
		err_set(e, -rc, "export the seccomp filter: %s", strerror(-rc));
		rc = -1;
		goto out_close;
	}
	rc = -1;
	len = lseek(fd, 0, SEEK_END);
	if (len <= 0 || len % (off_t)sizeof(struct sock_filter) != 0 ||
	    len / (off_t)sizeof(struct sock_filter) > BPF_MAXINSNS) {
		err_set(e, EINVAL, "the exported seccomp filter has %lld bytes", (long long)len);
		goto out_close;
	}
	sup->insns = xmalloc((size_t)len);
	if (pread(fd, sup->insns, (size_t)len, 0) != len) {
		err_set(e, errno, "read back the seccomp filter: %s", strerror(errno));
		free(sup->insns);
		sup->insns = NULL;
		goto out_close;
	}
	sup->ninsns = (unsigned short)(len / (off_t)sizeof(struct sock_filter));
	rc = 0;
out_close:
	close(fd);
	return rc;
}

/* Buffers as large as the running kernel's structures, as seccomp(2)
 * asks: a newer kernel's may have grown. */
static int
size_buffers(struct seccomp_sup *sup, struct err *e)
{
	struct seccomp_notif_sizes sz;

	if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sz) < 0)
		return err_set(e, errno, "seccomp user notification: %s", strerror(errno));
	sup->req_size = sz.seccomp_notif > sizeof(*sup->req) ? sz.seccomp_notif : sizeof(*sup->req);
	sup->resp_size = sz.seccomp_notif_resp > sizeof(*sup->resp) ? sz.seccomp_notif_resp
								   : sizeof(*sup->resp);
	sup->req = xcalloc(1, sup->req_size);
	sup->resp = xcalloc(1, sup->resp_size);
	return 0;
}

/* Starts the thread, with every signal blocked and, where the harness
 * may (CAP_SYS_NICE), at the lowest real-time priority: it stands in
 * for the kernel on the node's system calls, and a wake-up that waits
 * behind busy threads is seen here to cost a pipelined node up to a
 * quarter of its throughput.  It never spins (poll blocks), and the
 * kernel's real-time throttling bounds it anyway. */
static int
start_thread(struct seccomp_sup *sup, struct err *e)
{
	struct sched_param sp = {.sched_priority = 1};
	pthread_condattr_t ca;
	sigset_t all, old;
	int rc;

	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&sup->cond, &ca);
	pthread_condattr_destroy(&ca);
	pthread_mutex_init(&sup->lock, NULL);
	/* the harness's signals (Ctrl-C) are for its other threads */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&sup->thread, NULL, supervise, sup);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc == 0) {
		if ((rc = pthread_setschedparam(sup->thread, SCHED_FIFO, &sp)) != 0)
			log_debug("supervisor at normal priority: %s", strerror(rc));
		return 0;
	}
	pthread_cond_destroy(&sup->cond);
	pthread_mutex_destroy(&sup->lock);
	return err_set(e, rc, "start the supervisor thread: %s", strerror(rc));
}

struct seccomp_sup *
seccomp_sup_new(scmp_filter_ctx ctx, seccomp_sup_fn *fn, void *arg, struct err *e)
{
	struct seccomp_sup *sup = xcalloc(1, sizeof(*sup));

	sup->fn = fn;
	sup->arg = arg;
	sup->listener = -1;
	sup->state = WAITING;
	if (size_buffers(sup, e) < 0)
		goto out_free;
	if (export_filter(sup, ctx, e) < 0)
		goto out_free;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sup->sock) < 0) {
		err_set(e, errno, "socketpair: %s", strerror(errno));
		goto out_free;
	}
	if ((sup->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0) {
		err_set(e, errno, "eventfd: %s", strerror(errno));
		goto out_sock;
	}
	if (start_thread(sup, e) < 0)
		goto out_wake;
	return sup;
out_wake:
	close(sup->wake);
out_sock:
	close(sup->sock[0]);
	close(sup->sock[1]);
out_free:
	free(sup->insns);
	free(sup->req);
	free(sup->resp);
	free(sup);
	return NULL;
}

void
seccomp_sup_free(struct seccomp_sup *sup)
{
	if (sup == NULL)
		return;
	atomic_store(&sup->stop, true);
	wake(sup);
	pthread_join(sup->thread, NULL);
	if (sup->listener >= 0)
		close(sup->listener);
	close(sup->sock[0]);
	close(sup->sock[1]);
	close(sup->wake);
	pthread_cond_destroy(&sup->cond);
	pthread_mutex_destroy(&sup->lock);
	free(sup->pend);
	free(sup->insns);
	free(sup->req);
	free(sup->resp);
	free(sup);
}

void
seccomp_sup_flush(struct seccomp_sup *sup)
{
	if (sup == NULL)
		return;
	atomic_store(&sup->flush, true);
	wake(sup);
}

int
seccomp_sup_wait_ready(struct seccomp_sup *sup, int timeout_ms, struct err *e)
{
	struct timespec until;
	int rc = 0;

	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += timeout_ms / 1000;
	until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&sup->lock);
	while (sup->state == WAITING && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&sup->cond, &sup->lock, &until);
	if (sup->state == READY)
		rc = 0;
	else if (sup->state == FAILED)
		rc = err_set(e, 0, "%s", sup->why);
	else
		rc = err_set(e, ETIMEDOUT,
			     "no seccomp listener from the node after %d ms "
			     "(was it started with in_child?)",
			     timeout_ms);
	pthread_mutex_unlock(&sup->lock);
	return rc;
}

/* Async-signal-safe: sends `note` and, when fd >= 0, the descriptor. */
static int
send_note(int sock, int fd, int err, int step)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} u;
	struct child_note note = {err, step, (int)getpid()};
	struct iovec iov = {&note, sizeof(note)};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
	struct cmsghdr *c;

	if (fd >= 0) {
		memset(&u, 0, sizeof(u));
		m.msg_control = u.buf;
		m.msg_controllen = sizeof(u.buf);
		c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(fd));
	}
	return sendmsg(sock, &m, MSG_NOSIGNAL) == (ssize_t)sizeof(note) ? 0 : -1;
}

void
seccomp_sup_in_child(const struct seccomp_sup *sup, unsigned long nofile)
{
	struct sock_fprog prog;
	struct rlimit rl;
	int step = STEP_RLIMIT, fd, err;

	if (sup == NULL)
		_exit(127);
	if (nofile > 0) {
		if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
			goto fail;
		if (rl.rlim_cur < nofile) {
			rl.rlim_cur = nofile;
			if (rl.rlim_max < nofile)
				rl.rlim_max = nofile;
			if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
				goto fail;
		}
	}
	step = STEP_NNP;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		goto fail;
	step = STEP_FILTER;
	prog.len = sup->ninsns;
	prog.filter = sup->insns;
	/* SPEC_ALLOW: this filter injects faults, it sandboxes nothing, so
	 * no speculation mitigation should slow the node down because of it */
	fd = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
			  SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_SPEC_ALLOW, &prog);
	if (fd < 0)
		goto fail;
	step = STEP_SEND;
	if (send_note(sup->sock[1], fd, 0, 0) < 0)
		goto fail;
	/* the node must not hold its own listener */
	close(fd);
	return;
fail:
	err = errno;
	send_note(sup->sock[1], -1, err ? err : EIO, step);
	_exit(127);
}
