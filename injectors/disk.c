/*
 * disk.c - the node's disk fails: once armed, its writes to the files
 * of its data dir fail with EIO, ENOSPC or EDQUOT, or take slow_ms
 * longer (a dying disk whose fsync stalls), while its sockets and its
 * log files go on working, so that it can tell what happened.
 *
 *   errno   = EIO | ENOSPC | EDQUOT   (default EIO)
 *   calls   = write,fsync             which calls fail, a comma list of:
 *             write      write, writev, pwrite64, pwritev, pwritev2, and
 *                        the output of sendfile and copy_file_range
 *             fsync      fsync, fdatasync, sync_file_range
 *             open       open, openat, creat for writing
 *             rename     rename, renameat, renameat2 (either name)
 *             ftruncate  ftruncate, fallocate
 *   slow_ms = 200      delay those calls by this much instead of failing
 *                      them (not with errno)
 *   logs    = redis.log,redis.out  the data dir's files that never fail
 *                      (the first one is read for what the node said)
 *
 * How.  A seccomp filter, loaded by the node between fork and exec,
 * traps the opens for writing; a supervisor thread of the harness
 * (seccomp_notify.c) answers them.  When the node opens a file of its
 * data dir, the supervisor opens it itself and installs it in the node
 * at a descriptor of a reserved range far above anything Redis uses
 * (SECCOMP_ADDFD_FLAG_SETFD | SECCOMP_ADDFD_FLAG_SEND: the number is the
 * open's result).  The filter traps write, fsync and the rest only on
 * descriptors of that range, so replies to clients never leave the
 * kernel; before the fault those trapped calls are let through
 * (SECCOMP_USER_NOTIF_FLAG_CONTINUE), after it they fail with the
 * errno, or are let through slow_ms later.  Renames are trapped by path.
 *
 * Limits.  A data descriptor moved below the range (dup2) escapes, and
 * so would writes through a shared mapping; Redis does neither.  openat2
 * and io_uring_setup answer ENOSYS, as on kernels without them, so that
 * nothing opens or writes a data file past the supervisor (glibc and
 * Redis 7.0 use neither).  The supervisor opens a file for the node only
 * when the node's file-system ids (and umask, for a new file) are the
 * harness's, as they are for its child; otherwise the node opens it
 * itself, out of reach of the fault, and describe() says so.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#define LOG_MODULE "injectors/disk"
#include "common/buf.h"
#include "common/log.h"
#include "common/xmalloc.h"
#include "injectors/injector.h"
#include "injectors/seccomp_notify.h"

/* The reserved descriptors: FD_SPAN numbers from a multiple of FD_SPAN,
 * so that one masked compare in the filter tests the range (libseccomp
 * takes one comparison per argument).  They sit at FD_BASE_MAX, or just
 * under the hard RLIMIT_NOFILE the node inherits when that is lower
 * (raising it needs CAP_SYS_RESOURCE, raising the soft limit does not),
 * and above FD_BASE_MIN: Redis allocates the lowest free numbers and
 * raises its own limit to maxclients + 32 = 10032 at most. */
#define FD_SPAN     1024
#define FD_BASE_MAX (40 * FD_SPAN)
#define FD_BASE_MIN (10 * FD_SPAN)

/* Bytes of the log read by describe() at most. */
#define LOG_SCAN_MAX (16 << 20)

enum call { CALL_WRITE, CALL_FSYNC, CALL_OPEN, CALL_RENAME, CALL_FTRUNCATE, CALL_N };

static const char *const call_names[CALL_N] = {"write", "fsync", "open", "rename", "ftruncate"};

#define BIT(c) (1u << (c))
#define FD_CALLS (BIT(CALL_WRITE) | BIT(CALL_FSYNC) | BIT(CALL_FTRUNCATE))

/* The calls that act on a descriptor, and the argument that holds it. */
static const struct fd_call {
	int nr;
	enum call kind;
	unsigned arg;
} fd_calls[] = {
	{SCMP_SYS(write), CALL_WRITE, 0},
	{SCMP_SYS(writev), CALL_WRITE, 0},
	{SCMP_SYS(pwrite64), CALL_WRITE, 0},
	{SCMP_SYS(pwritev), CALL_WRITE, 0},
	{SCMP_SYS(pwritev2), CALL_WRITE, 0},
	{SCMP_SYS(sendfile), CALL_WRITE, 0},
	{SCMP_SYS(copy_file_range), CALL_WRITE, 2},
	{SCMP_SYS(fsync), CALL_FSYNC, 0},
	{SCMP_SYS(fdatasync), CALL_FSYNC, 0},
	{SCMP_SYS(sync_file_range), CALL_FSYNC, 0},
	{SCMP_SYS(ftruncate), CALL_FTRUNCATE, 0},
	{SCMP_SYS(fallocate), CALL_FTRUNCATE, 0},
};

struct creds {
	unsigned umask, fsuid, fsgid;
};

struct disk_priv {
	/* parameters: set by parse, read-only afterwards */
	int err;           /* 0 when slow_ms is set */
	long long slow_ms; /* 0 when failing */
	unsigned calls;    /* BIT(enum call) */
	bool track;        /* data files go to the reserved range */
	char logs[256];    /* comma list of file names */
	/* set by prepare before the supervisor starts, read by it */
	int fd_base;        /* the reserved range */
	char dir[PATH_MAX]; /* the data dir, canonical */
	char log_path[PATH_MAX + 64];
	struct creds creds; /* the harness's */
	int port;
	struct seccomp_sup *sup;
	/* the supervisor thread's */
	int next_slot;
	/* shared: the supervisor counts, describe reads */
	atomic_bool armed;
	atomic_ulong hits[CALL_N]; /* failed or delayed since inject */
	atomic_ulong tracked;      /* data files opened in the reserved range */
	atomic_ulong untracked;    /* data files the node opened itself */
	/* the harness's */
	long long log_off;
	bool healed;
};

static int
parse_calls(struct disk_priv *k, const struct params *p, struct err *e)
{
	const char *v = params_get(p, "calls"), *s, *end;
	size_t len;
	int i;

	k->calls = BIT(CALL_WRITE) | BIT(CALL_FSYNC);
	if (v == NULL)
		return 0;
	k->calls = 0;
	for (s = v;; s = end + 1) {
		s += strspn(s, " ");
		end = s + strcspn(s, ",");
		for (len = (size_t)(end - s); len > 0 && s[len - 1] == ' ';)
			len--;
		for (i = 0; i < CALL_N; i++)
			if (strlen(call_names[i]) == len && strncmp(s, call_names[i], len) == 0)
				break;
		if (i == CALL_N)
			return err_set(e, EINVAL,
				       "line %d: calls = '%s': '%.*s' is not one of write, fsync, "
				       "open, rename, ftruncate",
				       params_line(p, "calls"), v, (int)len, s);
		k->calls |= BIT(i);
		if (*end == '\0')
			return 0;
	}
}

static int
parse_logs(struct disk_priv *k, const struct params *p, struct err *e)
{
	const char *v = params_get(p, "logs");
	const char *s;

	if (v == NULL)
		v = "redis.log,redis.out";
	for (s = v; *s; s++)
		if (*s == '/' || *s == ' ')
			break;
	if (*s || *v == '\0' || *v == ',' || strstr(v, ",,") || v[strlen(v) - 1] == ',' ||
	    strlen(v) >= sizeof(k->logs))
		return err_set(e, EINVAL,
			       "line %d: logs = '%s': expected file names of the data dir, "
			       "comma-separated",
			       params_line(p, "logs"), v);
	snprintf(k->logs, sizeof(k->logs), "%s", v);
	return 0;
}

static int
disk_parse(struct fault *f, const struct params *p, struct err *e)
{
	static const char *const keys[] = {"errno", "calls", "slow_ms", "logs", NULL};
	static const struct {
		const char *name;
		int err;
	} errs[] = {{"EIO", EIO}, {"ENOSPC", ENOSPC}, {"EDQUOT", EDQUOT}};
	struct disk_priv *k = f->priv;
	const char *v = params_get(p, "errno");
	size_t i;

	if (params_check_keys(p, "disk", keys, e) < 0)
		return -1;
	k->err = EIO;
	if (v) {
		for (i = 0; i < ARRAY_SIZE(errs) && strcmp(v, errs[i].name) != 0; i++)
			;
		if (i == ARRAY_SIZE(errs))
			return err_set(e, EINVAL,
				       "line %d: errno = '%s': expected EIO, ENOSPC or EDQUOT",
				       params_line(p, "errno"), v);
		k->err = errs[i].err;
	}
	if (params_duration_ms(p, "slow_ms", 0, &k->slow_ms, e) < 0)
		return -1;
	if (params_get(p, "slow_ms") && v)
		return err_set(e, EINVAL,
			       "line %d: slow_ms and errno (line %d) exclude each other: "
			       "a slow disk does not fail",
			       params_line(p, "slow_ms"), params_line(p, "errno"));
	if (params_get(p, "slow_ms") && k->slow_ms == 0)
		return err_set(e, EINVAL, "line %d: slow_ms = '%s': expected a delay of 1 ms or more",
			       params_line(p, "slow_ms"), params_get(p, "slow_ms"));
	if (k->slow_ms > 0)
		k->err = 0;
	if (parse_calls(k, p, e) < 0 || parse_logs(k, p, e) < 0)
		return -1;
	k->track = (k->calls & FD_CALLS) != 0;
	atomic_store(&k->armed, false);
	return 0;
}

static bool
is_log(const struct disk_priv *k, const char *name)
{
	size_t len = strlen(name), l;
	const char *s;

	for (s = k->logs; *s; s += l + (s[l] == ',')) {
		l = strcspn(s, ",");
		if (l == len && strncmp(s, name, len) == 0)
			return true;
	}
	return false;
}

/* Whether `leaf` in the directory `parent` (ours, O_PATH) is a data
 * file: under the data dir, and not one of its logs. */
static bool
is_data(const struct disk_priv *k, int parent, const char *leaf)
{
	char self[64], where[PATH_MAX];
	size_t dl = strlen(k->dir);
	ssize_t len;

	if (*leaf == '\0' || strcmp(leaf, ".") == 0 || strcmp(leaf, "..") == 0)
		return false;
	snprintf(self, sizeof(self), "/proc/self/fd/%d", parent);
	if ((len = readlink(self, where, sizeof(where) - 1)) < 0)
		return false;
	where[len] = '\0';
	if (strcmp(where, k->dir) == 0)
		return !is_log(k, leaf);
	return strncmp(where, k->dir, dl) == 0 && (where[dl] == '/' || dl == 1);
}

/* Resolves the path the task passed at `addr` (into buf, size n) as it
 * would.  Returns its parent directory (ours, O_PATH: close it) with
 * *leaf in buf, or -1 when that fails: the call then runs as it is,
 * and the kernel tells the task what is wrong with its path. */
static int
resolve(const struct seccomp_notif *req, int dirfd, uint64_t addr, char *buf, size_t n,
	const char **leaf)
{
	struct err e = ERR_INIT;
	int parent;

	if (seccomp_sup_read_str((pid_t)req->pid, addr, buf, n, &e) < 0)
		return -1;
	parent = seccomp_sup_open_parent((pid_t)req->pid, dirfd, buf, leaf, &e);
	if (parent < 0)
		log_debug("%s", e.msg);
	return parent;
}

/* Fails or defers the call when the fault covers it now, and says so. */
static bool
strike(struct disk_priv *k, struct seccomp_sup *sup, const struct seccomp_notif *req,
       enum call kind, bool deferred)
{
	if (!atomic_load(&k->armed) || !(k->calls & BIT(kind)))
		return false;
	if (k->slow_ms == 0) {
		atomic_fetch_add(&k->hits[kind], 1);
		seccomp_sup_fail(sup, req, k->err);
		return true;
	}
	if (deferred)
		return false; /* its delay is served */
	atomic_fetch_add(&k->hits[kind], 1);
	seccomp_sup_defer(sup, req, (unsigned)k->slow_ms);
	return true;
}

/* A task's umask and file-system ids, from /proc/PID/status. */
static int
creds_of(pid_t pid, struct creds *c)
{
	char path[64], line[128];
	int found = 0;
	FILE *fp;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if ((fp = fopen(path, "re")) == NULL)
		return -1;
	while (found < 3 && fgets(line, sizeof(line), fp))
		found += sscanf(line, "Umask: %o", &c->umask) == 1 ||
			 sscanf(line, "Uid: %*u %*u %*u %u", &c->fsuid) == 1 ||
			 sscanf(line, "Gid: %*u %*u %*u %u", &c->fsgid) == 1;
	fclose(fp);
	return found == 3 ? 0 : -1;
}

/* Whether an open by the supervisor is the open the task asked for:
 * the same file-system ids, and the same umask for a new file. */
static bool
same_creds(const struct disk_priv *k, pid_t pid, int flags)
{
	struct creds c;

	return creds_of(pid, &c) == 0 && c.fsuid == k->creds.fsuid &&
	       c.fsgid == k->creds.fsgid && (!(flags & O_CREAT) || c.umask == k->creds.umask);
}

static int
free_slot(struct disk_priv *k, pid_t pid)
{
	int i, at;

	for (i = 0; i < FD_SPAN; i++) {
		at = k->fd_base + (k->next_slot + i) % FD_SPAN;
		if (seccomp_sup_fd_is_free(pid, at)) {
			k->next_slot = (at - k->fd_base + 1) % FD_SPAN;
			return at;
		}
	}
	return -1;
}

/* Opens the data file for the task and answers its open with it, at a
 * descriptor of the reserved range, where the filter sees its writes.
 * Our open fails as the task's would (same credentials, same path):
 * the task gets that error. */
static void
open_for(struct disk_priv *k, struct seccomp_sup *sup, const struct seccomp_notif *req,
	 int parent, const char *leaf, int flags, mode_t mode)
{
	unsigned fd_flags = (flags & O_CLOEXEC) ? O_CLOEXEC : 0;
	struct err e = ERR_INIT;
	struct stat st;
	int fd, at;

	/* A FIFO or a device would block or surprise the supervisor: only
	 * regular files (or new ones) are taken over. */
	if (fstatat(parent, leaf, &st, 0) == 0 && !S_ISREG(st.st_mode)) {
		seccomp_sup_continue(sup, req);
		return;
	}
	if (!same_creds(k, (pid_t)req->pid, flags)) {
		atomic_fetch_add(&k->untracked, 1);
		seccomp_sup_continue(sup, req);
		return;
	}
	if ((fd = openat(parent, leaf, flags | O_CLOEXEC, mode)) < 0) {
		seccomp_sup_fail(sup, req, errno);
		return;
	}
	at = free_slot(k, (pid_t)req->pid);
	if (at >= 0 && seccomp_sup_send_fd(sup, req, fd, at, fd_flags, &e) >= 0) {
		atomic_fetch_add(&k->tracked, 1);
	} else if (at < 0 || e.code != ENOENT) {
		/* still the file the task asked for, only out of sight */
		log_warn("node %d: '%s' left untracked: %s", k->port, leaf,
			 at < 0 ? "no free reserved descriptor" : e.msg);
		if (seccomp_sup_send_fd(sup, req, fd, -1, fd_flags, &e) >= 0)
			atomic_fetch_add(&k->untracked, 1);
		else if (e.code != ENOENT)
			seccomp_sup_fail(sup, req, e.code);
	}
	close(fd);
}

static void
on_open(struct disk_priv *k, struct seccomp_sup *sup, const struct seccomp_notif *req,
	bool deferred)
{
	const __u64 *a = req->data.args;
	int dirfd = AT_FDCWD, flags, parent;
	char path[PATH_MAX];
	const char *leaf;
	uint64_t addr;
	mode_t mode;

	if (req->data.nr == SCMP_SYS(openat)) {
		dirfd = (int)a[0];
		addr = a[1];
		flags = (int)a[2];
		mode = (mode_t)a[3];
	} else if (req->data.nr == SCMP_SYS(open)) {
		addr = a[0];
		flags = (int)a[1];
		mode = (mode_t)a[2];
	} else { /* creat */
		addr = a[0];
		flags = O_CREAT | O_WRONLY | O_TRUNC;
		mode = (mode_t)a[1];
	}
	if (!k->track && !atomic_load(&k->armed)) {
		seccomp_sup_continue(sup, req);
		return;
	}
	parent = resolve(req, dirfd, addr, path, sizeof(path), &leaf);
	if (parent < 0 || !is_data(k, parent, leaf) || !seccomp_sup_is_valid(sup, req))
		seccomp_sup_continue(sup, req);
	else if (strike(k, sup, req, CALL_OPEN, deferred))
		;
	else if (k->track)
		open_for(k, sup, req, parent, leaf, flags, mode);
	else
		seccomp_sup_continue(sup, req);
	if (parent >= 0)
		close(parent);
}

/* Whether the path at `addr` names a data file (a rename's old or new). */
static bool
names_data(const struct disk_priv *k, const struct seccomp_notif *req, int dirfd,
	   uint64_t addr)
{
	char path[PATH_MAX];
	const char *leaf;
	int parent = resolve(req, dirfd, addr, path, sizeof(path), &leaf);
	bool data = parent >= 0 && is_data(k, parent, leaf);

	if (parent >= 0)
		close(parent);
	return data;
}

static void
on_rename(struct disk_priv *k, struct seccomp_sup *sup, const struct seccomp_notif *req,
	  bool deferred)
{
	const __u64 *a = req->data.args;
	bool is_rename = req->data.nr == SCMP_SYS(rename);
	int from_dir = is_rename ? AT_FDCWD : (int)a[0];
	int to_dir = is_rename ? AT_FDCWD : (int)a[2];

	if (atomic_load(&k->armed) &&
	    (names_data(k, req, from_dir, is_rename ? a[0] : a[1]) ||
	     names_data(k, req, to_dir, is_rename ? a[1] : a[3])) &&
	    seccomp_sup_is_valid(sup, req) && strike(k, sup, req, CALL_RENAME, deferred))
		return;
	seccomp_sup_continue(sup, req);
}

/* The supervisor's policy: every trapped call comes here. */
static void
disk_handle(void *arg, struct seccomp_sup *sup, const struct seccomp_notif *req,
	    bool deferred)
{
	struct disk_priv *k = arg;
	int nr = req->data.nr;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(fd_calls); i++)
		if (fd_calls[i].nr == nr) {
			if (!strike(k, sup, req, fd_calls[i].kind, deferred))
				seccomp_sup_continue(sup, req);
			return;
		}
	if (nr == SCMP_SYS(rename) || nr == SCMP_SYS(renameat) || nr == SCMP_SYS(renameat2))
		on_rename(k, sup, req, deferred);
	else
		on_open(k, sup, req, deferred);
}

/* The opens for writing: any of these flags set traps the call. */
static int
add_open_rules(scmp_filter_ctx ctx)
{
	static const unsigned wflags[] = {O_WRONLY, O_RDWR, O_CREAT, O_TRUNC};
	size_t i;
	int rc = 0;

	for (i = 0; rc == 0 && i < ARRAY_SIZE(wflags); i++) {
		rc = seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(openat), 1,
				      SCMP_A2(SCMP_CMP_MASKED_EQ, wflags[i], wflags[i]));
		if (rc == 0)
			rc = seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(open), 1,
					      SCMP_A1(SCMP_CMP_MASKED_EQ, wflags[i], wflags[i]));
	}
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(creat), 0);
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(openat2), 0);
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(io_uring_setup), 0);
	return rc;
}

static scmp_filter_ctx
build_filter(const struct disk_priv *k, struct err *e)
{
	static const int renames[] = {SCMP_SYS(rename), SCMP_SYS(renameat), SCMP_SYS(renameat2)};
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	size_t i;
	int rc = 0;

	if (ctx == NULL) {
		err_set(e, ENOMEM, "seccomp_init failed");
		return NULL;
	}
	for (i = 0; rc == 0 && i < ARRAY_SIZE(fd_calls); i++)
		if (k->calls & BIT(fd_calls[i].kind))
			rc = seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, fd_calls[i].nr, 1,
					      SCMP_CMP(fd_calls[i].arg, SCMP_CMP_MASKED_EQ,
						       ~(uint64_t)(FD_SPAN - 1),
						       (uint64_t)k->fd_base));
	if (rc == 0 && (k->track || (k->calls & BIT(CALL_OPEN))))
		rc = add_open_rules(ctx);
	for (i = 0; rc == 0 && (k->calls & BIT(CALL_RENAME)) && i < ARRAY_SIZE(renames); i++)
		rc = seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, renames[i], 0);
	if (rc == 0)
		return ctx;
	err_set(e, -rc, "build the seccomp filter: %s", strerror(-rc));
	seccomp_release(ctx);
	return NULL;
}

/* The first reserved descriptor for a node started now. */
static int
fd_range(int *base, struct err *e)
{
	rlim_t top = FD_BASE_MAX + FD_SPAN;
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return err_set(e, errno, "getrlimit: %s", strerror(errno));
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < top)
		top = rl.rlim_max;
	if ((rlim_t)FD_BASE_MIN + FD_SPAN > top)
		return err_set(e, EMFILE,
			       "the hard RLIMIT_NOFILE (%llu) leaves no room for %d reserved "
			       "descriptors above %d, and raising it needs CAP_SYS_RESOURCE",
			       (unsigned long long)rl.rlim_max, FD_SPAN, FD_BASE_MIN);
	*base = (int)(top / FD_SPAN * FD_SPAN) - FD_SPAN;
	return 0;
}

static int
disk_check(const struct fault *f, struct err *e)
{
	const struct disk_priv *k = f->priv;
	int base = 0;

	if (k->track && fd_range(&base, e) < 0)
		return err_prefix(e, "disk: ");
	if (seccomp_sup_probe(k->track ? (unsigned long)base + FD_SPAN : 0, e) < 0)
		return err_prefix(e, "disk: ");
	return 0;
}

static int
disk_prepare(struct fault *f, struct target *t, struct err *e)
{
	struct disk_priv *k = f->priv;
	scmp_filter_ctx ctx;

	seccomp_sup_free(k->sup); /* the previous start's: that process is gone */
	k->sup = NULL;
	k->port = t->port;
	if (realpath(t->dir, k->dir) == NULL)
		return err_set(e, errno, "disk node %d: data dir '%s': %s", t->port, t->dir,
			       strerror(errno));
	snprintf(k->log_path, sizeof(k->log_path), "%s/%.*s", k->dir,
		 (int)strcspn(k->logs, ","), k->logs);
	if (creds_of(getpid(), &k->creds) < 0)
		return err_set(e, EIO, "disk node %d: cannot read /proc/self/status", t->port);
	if (k->track && fd_range(&k->fd_base, e) < 0)
		return err_prefix(e, "disk node %d: ", t->port);
	if ((ctx = build_filter(k, e)) == NULL)
		return err_prefix(e, "disk node %d: ", t->port);
	k->sup = seccomp_sup_new(ctx, disk_handle, k, e);
	seccomp_release(ctx);
	if (k->sup == NULL)
		return err_prefix(e, "disk node %d: ", t->port);
	return 0;
}

static void
disk_in_child(struct fault *f, struct target *t)
{
	struct disk_priv *k = f->priv;

	(void)t;
	seccomp_sup_in_child(k->sup, k->track ? (unsigned long)k->fd_base + FD_SPAN : 0);
}

static int
disk_inject(struct fault *f, struct target *t, struct err *e)
{
	struct disk_priv *k = f->priv;
	struct stat st;
	int i;

	if (k->sup == NULL)
		return err_set(e, EINVAL, "disk node %d: not started under the filter (no prepare)",
			       t->port);
	if (seccomp_sup_wait_ready(k->sup, 2000, e) < 0)
		return err_prefix(e, "disk node %d: ", t->port);
	if (!proc_is_running(t->proc))
		return err_set(e, ESRCH, "disk node %d: not running", t->port);
	k->log_off = stat(k->log_path, &st) == 0 ? (long long)st.st_size : 0;
	for (i = 0; i < CALL_N; i++)
		atomic_store(&k->hits[i], 0);
	k->healed = false;
	atomic_store(&k->armed, true);
	f->target = t;
	f->injected = true;
	return 0;
}

static int
disk_revert(struct fault *f, struct err *e)
{
	struct disk_priv *k = f->priv;

	(void)e;
	if (!atomic_exchange(&k->armed, false))
		return 0;
	seccomp_sup_flush(k->sup); /* delayed calls go now */
	k->healed = true;
	f->injected = false;
	return 0;
}

static void
disk_release(struct fault *f)
{
	struct disk_priv *k = f->priv;

	atomic_store(&k->armed, false);
	seccomp_sup_free(k->sup);
	k->sup = NULL;
}

/* What the node's log says after the fault. */
struct log_evidence {
	bool readable;
	int trouble; /* lines about failed or slow writes */
	int solved;  /* "AOF write error looks solved" */
	char first[120];
};

static bool
is_trouble(const struct disk_priv *k, const char *line)
{
	/* Redis 7.0's words for failed or slow persistence, first letters
	 * left out to match either case ("Error writing", "error writing") */
	static const char *const marks[] = {
		"rror writing", "hort write", "rror trying to", "ail to fsync", "ailed opening",
		"rite error",   "with error", "disk is busy",   "an't open",    "an't persist",
		"an't recover",
	};
	size_t i;

	if (strstr(line, "to client") || strstr(line, "looks solved"))
		return false;
	if (k->err && strstr(line, strerror(k->err)))
		return true;
	for (i = 0; i < ARRAY_SIZE(marks); i++)
		if (strstr(line, marks[i]))
			return true;
	return false;
}

/* A Redis log line without "pid:role date time level ", into out. */
static void
quote(const char *line, char *out, size_t n)
{
	const char *msg = line, *p = line;
	size_t len;
	int i;

	for (i = 0; i < 6 && p; i++)
		if ((p = strchr(p, ' ')) != NULL)
			msg = ++p;
	len = strcspn(msg, "\r\n");
	snprintf(out, n, "%.*s", (int)len, msg);
	if (len > n - 1 && n > 4)
		memcpy(out + n - 4, "...", 4);
}

static void
scan_log(const struct disk_priv *k, struct log_evidence *ev)
{
	FILE *fp = fopen(k->log_path, "re");
	size_t cap = 0, seen = 0;
	char *line = NULL;
	ssize_t len;

	memset(ev, 0, sizeof(*ev));
	if (fp == NULL || fseeko(fp, k->log_off, SEEK_SET) < 0)
		goto out_close;
	ev->readable = true;
	while (seen < LOG_SCAN_MAX && (len = getline(&line, &cap, fp)) > 0) {
		seen += (size_t)len;
		if (strstr(line, "looks solved"))
			ev->solved++;
		else if (is_trouble(k, line) && ev->trouble++ == 0)
			quote(line, ev->first, sizeof(ev->first));
	}
	free(line);
out_close:
	if (fp)
		fclose(fp);
}

static void
disk_describe(const struct fault *f, char *out, size_t n)
{
	const struct disk_priv *k = f->priv;
	const char *logname = strrchr(k->log_path, '/');
	struct log_evidence ev;
	struct buf b = BUF_INIT;
	const char *sep = "";
	int i;

	if (k->slow_ms)
		buf_addf(&b, "node %d: disk slow by %lld ms:", k->port, k->slow_ms);
	else
		buf_addf(&b, "node %d: disk fails with %s:", k->port,
			 k->err == EIO ? "EIO" : k->err == ENOSPC ? "ENOSPC" : "EDQUOT");
	for (i = 0; i < CALL_N; i++) {
		if (!(k->calls & BIT(i)))
			continue;
		buf_addf(&b, "%s %lu %s", sep, atomic_load(&k->hits[i]), call_names[i]);
		sep = ",";
	}
	buf_adds(&b, k->slow_ms ? " delayed" : " failed");
	if (k->track)
		buf_addf(&b, "; %lu data files tracked", atomic_load(&k->tracked));
	if (atomic_load(&k->untracked))
		buf_addf(&b, "; %lu opened by the node itself, out of reach",
			 atomic_load(&k->untracked));
	scan_log(k, &ev);
	logname = logname ? logname + 1 : "log";
	if (!ev.readable)
		buf_addf(&b, "; %s unreadable", logname);
	else if (ev.trouble)
		buf_addf(&b, "; %s since: %d line%s about it, first \"%s\"", logname, ev.trouble,
			 ev.trouble == 1 ? "" : "s", ev.first);
	else
		buf_addf(&b, "; %s since: nothing about it", logname);
	if (ev.solved)
		buf_addf(&b, "; the node says \"AOF write error looks solved\"");
	if (k->healed)
		buf_adds(&b, "; healed");
	snprintf(out, n, "%s", buf_str(&b));
	buf_release(&b);
}

const struct injector_ops disk_injector = {
	.name = "disk",
	.priv_size = sizeof(struct disk_priv),
	.parse = disk_parse,
	.check = disk_check,
	.prepare = disk_prepare,
	.in_child = disk_in_child,
	.inject = disk_inject,
	.revert = disk_revert,
	.release = disk_release,
	.describe = disk_describe,
};
