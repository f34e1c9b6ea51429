/*
 * pause.c - the node freezes: SIGSTOP now, SIGCONT after duration_ms
 * (a long GC-like stall, a VM migration, a throttled container).  The
 * reshard goes on meanwhile and meets the frozen node's timeouts.
 *
 *   duration_ms = 5000   (0: until the fault is reverted at teardown)
 *
 * The SIGCONT comes from a timer thread (or revert()), long after
 * inject() returned: describe() says when it came, counted from the
 * SIGSTOP, so that the run's timeline and report show when the node
 * was let go, not only when it was meant to be.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/pidfd.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "injectors/injector.h"

struct pause_priv {
	long long duration_ms;
	int pidfd;           /* the stopped node itself, not a pid that may
			        be reused once a kill fault has reaped it */
	bool thread_started;
	bool resumed;
	uint64_t stopped_at_ms;        /* clock_now_ms() at the SIGSTOP */
	/* Written once by whoever resumes (the timer thread or revert()),
	 * read by describe() without the lock: -1 until then. */
	_Atomic long long cont_after_ms; /* SIGCONT this long after the SIGSTOP */
	_Atomic int cont_errno;          /* 0 delivered; ESRCH: the node was gone */
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
};

/* Its own keys, for the scenario loader's messages as for parse(). */
static const char *const pause_keys[] = {"duration_ms", NULL};

static int
pause_parse(struct fault *f, const struct params *p, struct err *e)
{
	struct pause_priv *k = f->priv;

	if (params_check_keys(p, "pause", pause_keys, e) < 0)
		return -1;
	return params_duration_ms(p, "duration_ms", 5000, &k->duration_ms, e);
}

/* Sends SIGCONT once, whoever comes first: the timer or revert(). */
static void
resume(struct pause_priv *k)
{
	pthread_mutex_lock(&k->lock);
	if (!k->resumed) {
		int rc = pidfd_send_signal(k->pidfd, SIGCONT, NULL, 0); /* ESRCH: gone */

		atomic_store(&k->cont_errno, rc < 0 ? errno : 0);
		atomic_store(&k->cont_after_ms, (long long)(clock_now_ms() - k->stopped_at_ms));
		k->resumed = true;
		pthread_cond_broadcast(&k->cond);
	}
	pthread_mutex_unlock(&k->lock);
}

static void *
timer(void *arg)
{
	struct pause_priv *k = arg;
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += k->duration_ms / 1000;
	until.tv_nsec += (k->duration_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&k->lock);
	while (!k->resumed &&
	       pthread_cond_timedwait(&k->cond, &k->lock, &until) != ETIMEDOUT)
		;
	pthread_mutex_unlock(&k->lock);
	resume(k);
	return NULL;
}

static int
pause_inject(struct fault *f, struct target *t, struct err *e)
{
	struct pause_priv *k = f->priv;

	pthread_mutex_init(&k->lock, NULL);
	pthread_cond_init(&k->cond, NULL);
	k->resumed = false;
	atomic_store(&k->cont_after_ms, -1);
	atomic_store(&k->cont_errno, 0);
	/* our unreaped child now (only this thread reaps), so the pidfd is it */
	k->pidfd = proc_is_running(t->proc) ? pidfd_open(t->proc->pid, 0) : -1;
	if (k->pidfd < 0 && proc_is_running(t->proc))
		return err_set(e, errno, "pause node %d: pidfd_open: %s", t->port,
			       strerror(errno));
	k->stopped_at_ms = clock_now_ms();
	if (proc_signal(t->proc, SIGSTOP, e) < 0) {
		if (k->pidfd >= 0)
			close(k->pidfd);
		return err_prefix(e, "pause node %d: ", t->port);
	}
	f->target = t;
	f->injected = true;
	if (k->duration_ms > 0) {
		if (pthread_create(&k->thread, NULL, timer, k) != 0) {
			resume(k);
			close(k->pidfd);
			f->injected = false;
			return err_set(e, EAGAIN, "pause node %d: cannot start the timer",
				       t->port);
		}
		k->thread_started = true;
	}
	return 0;
}

static int
pause_revert(struct fault *f, struct err *e)
{
	struct pause_priv *k = f->priv;

	(void)e;
	if (!f->injected)
		return 0;
	resume(k);
	if (k->thread_started) {
		pthread_join(k->thread, NULL);
		k->thread_started = false;
	}
	close(k->pidfd);
	f->injected = false;
	return 0;
}

/* "node 7001 stopped (SIGSTOP) for 3000 ms", then once resumed
 * ", SIGCONT after 3001 ms", or "; gone before its SIGCONT (after N
 * ms)" when another fault had killed it meanwhile. */
static void
pause_describe(const struct fault *f, char *out, size_t n)
{
	struct pause_priv *k = f->priv;
	long long after = atomic_load(&k->cont_after_ms);
	int port = f->target ? f->target->port : 0;
	size_t len;

	if (k->duration_ms > 0)
		snprintf(out, n, "node %d stopped (SIGSTOP) for %lld ms", port, k->duration_ms);
	else
		snprintf(out, n, "node %d stopped (SIGSTOP) until the run ends", port);
	if (after < 0)
		return;
	len = strlen(out);
	if (atomic_load(&k->cont_errno) == 0)
		snprintf(out + len, n - len, ", SIGCONT after %lld ms", after);
	else
		snprintf(out + len, n - len, "; gone before its SIGCONT (after %lld ms)", after);
}

static bool
pause_until_reverted(const struct fault *f)
{
	const struct pause_priv *k = f->priv;

	return k->duration_ms == 0;
}

const struct injector_ops pause_injector = {
	.until_reverted = pause_until_reverted,
	.name = "pause",
	.params = pause_keys,
	.priv_size = sizeof(struct pause_priv),
	.parse = pause_parse,
	.inject = pause_inject,
	.revert = pause_revert,
	.describe = pause_describe,
};
