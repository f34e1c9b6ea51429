/*
 * oom.c - the node runs out of memory in the middle of the migration.
 *
 *   mechanism   = cgroup | maxmemory   (default cgroup)
 *   headroom_mb = 5                    (1 .. 4096)
 *
 * cgroup: the node runs in a memory cgroup of its own from its first
 * instruction (prepare() makes it, in_child() joins it before exec: v1
 * does not move memory already charged).  Firing has the node's
 * allocator give back its free pages (MEMORY PURGE), has the kernel
 * reclaim all it can from the group (file cache, lazily freed pages:
 * memcg_squeeze()), then lowers the group's limit to what the node
 * still holds plus headroom_mb, so the next
 * memory-hungry step (a batch RESTOREd into the target, a MIGRATE's
 * payload on the source, a fork for an AOF rewrite) makes the kernel's
 * OOM killer kill it: SIGKILL from the kernel, counted in the group's
 * oom_kill.  A watcher notes when the node died.  revert() lifts the
 * limit; release() removes the group.
 *
 * maxmemory: what a full node does without dying: CONFIG SET maxmemory
 * to used_memory plus headroom_mb with maxmemory-policy noeviction, so
 * the node answers the migration's RESTORE with -OOM.  revert() puts
 * both settings back.  The evidence is the node's count of -OOM replies
 * (INFO errorstats).
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/pidfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/clock.h"
#include "injectors/injector.h"
#include "injectors/memcg.h"

#define MB (1024LL * 1024LL)

enum oom_mechanism { OOM_CGROUP, OOM_MAXMEMORY };

struct oom_priv {
	int mechanism;
	long long headroom_mb;
	struct memcg cg;
	/* cgroup, once fired */
	long long usage, limit, kills_before;
	uint64_t fired_ms;
	pthread_t watcher;
	bool watching;
	int pidfd, stopfd;
	long long died_after_ms; /* -1 while alive; set by the watcher */
	pthread_mutex_t lock;
	/* maxmemory, once fired */
	char old_maxmemory[32], old_policy[32];
	long long used_memory, oom_before;
	bool set;
};

/* Its own keys, for the scenario loader's messages as for parse(). */
static const char *const oom_keys[] = {"mechanism", "headroom_mb", NULL};

static int
oom_parse(struct fault *f, const struct params *p, struct err *e)
{
	struct oom_priv *k = f->priv;
	const char *mech = params_get(p, "mechanism"), *head = params_get(p, "headroom_mb");
	char *end;

	if (params_check_keys(p, "oom", oom_keys, e) < 0)
		return -1;
	k->mechanism = OOM_CGROUP;
	if (mech && strcmp(mech, "maxmemory") == 0)
		k->mechanism = OOM_MAXMEMORY;
	else if (mech && strcmp(mech, "cgroup") != 0)
		return err_set(e, EINVAL, "line %d: mechanism = '%s': expected cgroup or maxmemory",
			       params_line(p, "mechanism"), mech);
	k->headroom_mb = 5;
	if (head) {
		errno = 0;
		k->headroom_mb = strtoll(head, &end, 10);
		if (errno || end == head || *end || k->headroom_mb < 1 || k->headroom_mb > 4096)
			return err_set(e, EINVAL, "line %d: headroom_mb = '%s': expected a whole "
				       "number of megabytes from 1 to 4096",
				       params_line(p, "headroom_mb"), head);
	}
	k->pidfd = k->stopfd = -1;
	k->died_after_ms = -1;
	pthread_mutex_init(&k->lock, NULL);
	return 0;
}

static int
oom_check(const struct fault *f, struct err *e)
{
	const struct oom_priv *k = f->priv;
	enum memcg_version v;
	char base[PATH_MAX];

	if (k->mechanism == OOM_MAXMEMORY)
		return 0;
	if (geteuid() != 0)
		return err_set(e, EPERM, "a memory cgroup needs root");
	return memcg_base(base, sizeof(base), &v, e);
}

static int
oom_prepare(struct fault *f, struct target *t, struct err *e)
{
	struct oom_priv *k = f->priv;

	if (k->mechanism != OOM_CGROUP)
		return 0;
	return memcg_create(&k->cg, t->tag, e);
}

static int
oom_in_child(struct fault *f, struct target *t)
{
	struct oom_priv *k = f->priv;

	(void)t;
	/* a node outside its group would never be OOM-killed: better it
	 * does not start at all */
	if (k->mechanism == OOM_CGROUP && memcg_join_self(&k->cg) < 0)
		return errno ? errno : EIO;
	return 0;
}

/* Notes when the node died, however that came about. */
static void *
watch(void *arg)
{
	struct oom_priv *k = arg;
	struct pollfd p[2] = {{.fd = k->pidfd, .events = POLLIN},
			      {.fd = k->stopfd, .events = POLLIN}};

	while (poll(p, 2, -1) < 0 && errno == EINTR)
		;
	if (p[0].revents) {
		pthread_mutex_lock(&k->lock);
		k->died_after_ms = (long long)(clock_now_ms() - k->fired_ms);
		pthread_mutex_unlock(&k->lock);
	}
	return NULL;
}

static int
start_watcher(struct oom_priv *k, pid_t pid, struct err *e)
{
	k->pidfd = pidfd_open(pid, 0);
	if (k->pidfd < 0)
		return err_set(e, errno, "pidfd_open %d: %s", (int)pid, strerror(errno));
	k->stopfd = eventfd(0, EFD_CLOEXEC);
	if (k->stopfd < 0 || pthread_create(&k->watcher, NULL, watch, k) != 0) {
		int saved = errno ? errno : EAGAIN;

		close(k->pidfd);
		if (k->stopfd >= 0)
			close(k->stopfd);
		k->pidfd = k->stopfd = -1;
		return err_set(e, saved, "start a watcher: %s", strerror(saved));
	}
	k->watching = true;
	return 0;
}

static void
stop_watcher(struct oom_priv *k)
{
	uint64_t one = 1;

	if (!k->watching)
		return;
	if (write(k->stopfd, &one, sizeof(one)) < 0) {
		/* an eventfd write fails only on overflow: the watcher wakes anyway */
	}
	pthread_join(k->watcher, NULL);
	close(k->pidfd);
	close(k->stopfd);
	k->pidfd = k->stopfd = -1;
	k->watching = false;
}

/* Lowers the limit to usage + headroom.  v1 refuses a limit it cannot
 * reclaim down to (EBUSY) when the node grew meanwhile: squeeze, read
 * it again and retry. */
static int
inject_cgroup(struct oom_priv *k, struct target *t, struct err *e)
{
	int tries;

	if (k->cg.path[0] == '\0')
		return err_set(e, 0, "node %d was not started in a memory cgroup", t->port);
	if (memcg_oom_kills(&k->cg, &k->kills_before, e) < 0)
		return -1;
	/* the allocator keeps pages it freed (a load's query buffers, keys
	 * moved away) and would hand them out again before the kernel is
	 * asked: have it return them, so that the headroom is the headroom */
	if (t->command) {
		const char *purge[] = {"MEMORY", "PURGE", NULL};
		char reply[256];

		t->command(t->command_arg, purge, reply, sizeof(reply), NULL);
	}
	k->fired_ms = clock_now_ms();
	if (start_watcher(k, t->proc->pid, e) < 0)
		return -1;
	for (tries = 0;; tries++) {
		struct err le = ERR_INIT;

		/* what the node really holds: the kernel would take back its
		 * file cache and lazily freed pages before any kill, so they
		 * are no headroom */
		if (memcg_squeeze(&k->cg, e) < 0 || memcg_usage(&k->cg, &k->usage, e) < 0)
			break;
		k->limit = k->usage + k->headroom_mb * MB;
		if (memcg_set_limit(&k->cg, k->limit, &le) == 0)
			return 0;
		if (le.code != EBUSY || tries == 10) {
			err_set(e, le.code, "%s", le.msg);
			break;
		}
	}
	stop_watcher(k);
	return -1;
}

static int
ask(struct target *t, char *out, size_t n, struct err *e, const char *a0, const char *a1,
    const char *a2, const char *a3, const char *a4)
{
	const char *argv[] = {a0, a1, a2, a3, a4, NULL};

	if (t->command == NULL)
		return err_set(e, 0, "the harness gave no way to send commands to node %d",
			       t->port);
	if (t->command(t->command_arg, argv, out, n, e) < 0)
		return err_prefix(e, "node %d: ", t->port);
	if (out[0] == '-')
		return err_set(e, 0, "node %d: %s %s: %s", t->port, a0, a1 ? a1 : "", out + 1);
	return 0;
}

/* The second line of a CONFIG GET reply as text ("maxmemory\n0"). */
static void
config_value(const char *reply, char *out, size_t n)
{
	const char *nl = strchr(reply, '\n');

	snprintf(out, n, "%s", nl ? nl + 1 : "");
	out[strcspn(out, "\n")] = '\0';
}

static int
inject_maxmemory(struct oom_priv *k, struct target *t, struct err *e)
{
	char buf[8192], limit[32];

	if (ask(t, buf, sizeof(buf), e, "CONFIG", "GET", "maxmemory", NULL, NULL) < 0)
		return -1;
	config_value(buf, k->old_maxmemory, sizeof(k->old_maxmemory));
	if (ask(t, buf, sizeof(buf), e, "CONFIG", "GET", "maxmemory-policy", NULL, NULL) < 0)
		return -1;
	config_value(buf, k->old_policy, sizeof(k->old_policy));
	if (ask(t, buf, sizeof(buf), e, "INFO", "errorstats", NULL, NULL, NULL) < 0)
		return -1;
	k->oom_before = info_num(buf, "errorstat_OOM:count=");
	if (k->oom_before < 0)
		k->oom_before = 0;
	if (ask(t, buf, sizeof(buf), e, "INFO", "memory", NULL, NULL, NULL) < 0)
		return -1;
	k->used_memory = info_num(buf, "used_memory:");
	if (k->used_memory < 0)
		return err_set(e, 0, "node %d: INFO memory has no used_memory", t->port);
	snprintf(limit, sizeof(limit), "%lld", k->used_memory + k->headroom_mb * MB);
	if (ask(t, buf, sizeof(buf), e, "CONFIG", "SET", "maxmemory-policy", "noeviction",
		NULL) < 0)
		return -1;
	k->set = true; /* from here on, revert() has something to put back */
	if (ask(t, buf, sizeof(buf), e, "CONFIG", "SET", "maxmemory", limit, NULL) < 0)
		return -1;
	k->limit = k->used_memory + k->headroom_mb * MB;
	k->fired_ms = clock_now_ms();
	return 0;
}

static int oom_revert(struct fault *f, struct err *e);

static int
oom_inject(struct fault *f, struct target *t, struct err *e)
{
	struct oom_priv *k = f->priv;
	int rc;

	f->target = t;
	rc = k->mechanism == OOM_CGROUP ? inject_cgroup(k, t, e) : inject_maxmemory(k, t, e);
	if (rc < 0) {
		oom_revert(f, NULL); /* all or nothing */
		return err_prefix(e, "oom node %d: ", t->port);
	}
	f->injected = true;
	return 0;
}

static int
oom_revert(struct fault *f, struct err *e)
{
	struct oom_priv *k = f->priv;
	char buf[256];

	if (k->mechanism == OOM_CGROUP) {
		if (k->cg.path[0] && memcg_set_limit(&k->cg, -1, e) < 0)
			return -1;
		return 0;
	}
	if (!k->set || f->target == NULL)
		return 0;
	if (ask(f->target, buf, sizeof(buf), e, "CONFIG", "SET", "maxmemory",
		k->old_maxmemory[0] ? k->old_maxmemory : "0", NULL) < 0 ||
	    ask(f->target, buf, sizeof(buf), e, "CONFIG", "SET", "maxmemory-policy",
		k->old_policy[0] ? k->old_policy : "noeviction", NULL) < 0)
		return -1;
	k->set = false;
	return 0;
}

static void
oom_release(struct fault *f)
{
	struct oom_priv *k = f->priv;

	stop_watcher(k);
	memcg_remove(&k->cg, NULL);
	pthread_mutex_destroy(&k->lock);
}

static void
describe_cgroup(const struct fault *f, const struct oom_priv *k, char *out, size_t n)
{
	struct proc *p = f->target->proc;
	long long kills = -1, after;
	char status[128];

	memcg_oom_kills(&k->cg, &kills, NULL);
	pthread_mutex_lock((pthread_mutex_t *)&k->lock);
	after = k->died_after_ms;
	pthread_mutex_unlock((pthread_mutex_t *)&k->lock);
	snprintf(status, sizeof(status), "%s", p->reaped ? proc_describe_status(p->status)
							 : "still running");
	if (kills > k->kills_before)
		snprintf(out, n, "node %d OOM-killed by the kernel %lld ms after its cgroup "
			 "limit was set to %lld MB (usage %lld MB + %lld MB); oom_kill %lld; %s",
			 f->target->port, after, k->limit / MB, k->usage / MB, k->headroom_mb,
			 kills, status);
	else
		snprintf(out, n, "node %d: cgroup limit set to %lld MB (usage %lld MB + %lld "
			 "MB); no OOM kill yet (oom_kill %lld); %s%s",
			 f->target->port, k->limit / MB, k->usage / MB, k->headroom_mb, kills,
			 status, after >= 0 ? ", died of something else" : "");
}

static void
oom_describe(const struct fault *f, char *out, size_t n)
{
	const struct oom_priv *k = f->priv;
	char buf[8192];
	long long now = -1;

	if (f->target == NULL) {
		snprintf(out, n, "not fired");
		return;
	}
	if (k->mechanism == OOM_CGROUP) {
		describe_cgroup(f, k, out, n);
		return;
	}
	/* no errorstat_OOM line: no -OOM reply yet */
	if (ask(f->target, buf, sizeof(buf), NULL, "INFO", "errorstats", NULL, NULL, NULL) == 0)
		now = info_num(buf, "errorstat_OOM:count=") < 0 ? 0
							       : info_num(buf, "errorstat_OOM:count=");
	snprintf(out, n, "node %d: maxmemory set to %lld MB (used %lld MB + %lld MB, "
		 "noeviction); %s%lld -OOM replies since",
		 f->target->port, k->limit / MB, k->used_memory / MB, k->headroom_mb,
		 now < 0 ? "node not answering; " : "",
		 now < 0 ? 0 : now - k->oom_before);
}

static void
oom_evidence(const struct fault *f, struct evidence *ev)
{
	const struct oom_priv *k = f->priv;
	char buf[8192];
	long long kills = -1, after, now = -1;

	if (f->target == NULL)
		return;
	evidence_add(ev, "mechanism", "%s", k->mechanism == OOM_CGROUP ? "cgroup" : "maxmemory");
	evidence_num(ev, "limit_bytes", k->limit);
	if (k->mechanism == OOM_CGROUP) {
		struct proc *p = f->target->proc;

		evidence_num(ev, "usage_bytes", k->usage);
		evidence_add(ev, "cgroup", "%s", k->cg.path);
		if (memcg_oom_kills(&k->cg, &kills, NULL) == 0)
			evidence_num(ev, "oom_kill", kills - k->kills_before);
		pthread_mutex_lock((pthread_mutex_t *)&k->lock);
		after = k->died_after_ms;
		pthread_mutex_unlock((pthread_mutex_t *)&k->lock);
		if (after >= 0)
			evidence_num(ev, "died_after_ms", after);
		if (p->reaped)
			evidence_add(ev, "wait_status", "%s", proc_describe_status(p->status));
		return;
	}
	evidence_num(ev, "used_memory", k->used_memory);
	if (ask(f->target, buf, sizeof(buf), NULL, "INFO", "errorstats", NULL, NULL, NULL) == 0) {
		now = info_num(buf, "errorstat_OOM:count=");
		evidence_num(ev, "oom_replies", (now < 0 ? 0 : now) - k->oom_before);
	}
}

/* The cgroup's kill is still to come: the node lives, its limit was set
 * less than OOM_WAIT_MS ago (on a loaded machine the next memory-hungry
 * step, and the kernel's reclaim before the kill, take seconds), or less
 * than OOM_WAIT_MAX_MS ago while the group is still pressed against its
 * limit: on two loaded cores a node stuck in reclaim answered now and
 * then for over 10 s before the kill, and the repair met it dead with
 * nobody telling it to salvage its files. */
#define OOM_WAIT_MS 10000
#define OOM_WAIT_MAX_MS 60000

static bool
oom_effect_pending(const struct fault *f)
{
	struct oom_priv *k = f->priv;
	long long after, usage;
	uint64_t elapsed;

	if (k->mechanism != OOM_CGROUP || !f->injected || !k->watching)
		return false;
	pthread_mutex_lock(&k->lock);
	after = k->died_after_ms;
	pthread_mutex_unlock(&k->lock);
	if (after >= 0)
		return false;
	elapsed = clock_now_ms() - k->fired_ms;
	return elapsed < OOM_WAIT_MS ||
	       (elapsed < OOM_WAIT_MAX_MS && memcg_usage(&k->cg, &usage, NULL) == 0 &&
		usage + MB >= k->limit);
}

const struct injector_ops oom_injector = {
	.effect_pending = oom_effect_pending,
	.name = "oom",
	.params = oom_keys,
	.priv_size = sizeof(struct oom_priv),
	.parse = oom_parse,
	.check = oom_check,
	.prepare = oom_prepare,
	.in_child = oom_in_child,
	.inject = oom_inject,
	.revert = oom_revert,
	.release = oom_release,
	.describe = oom_describe,
	.evidence = oom_evidence,
};
