/*
 * disk_policy.c - the disk fault's supervisor policy: which calls the
 * filter traps, and how each trapped call is answered (let through,
 * failed with the errno, delayed, or a data file opened by the harness
 * and installed in the node's reserved range); see disk.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#define LOG_MODULE "injectors/disk"
#include "common/log.h"
#include "common/xmalloc.h"
#include "injectors/disk_int.h"

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
int
disk_creds_of(pid_t pid, struct creds *c)
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

	return disk_creds_of(pid, &c) == 0 && c.fsuid == k->creds.fsuid &&
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
void
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

scmp_filter_ctx
disk_build_filter(const struct disk_priv *k, struct err *e)
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
int
disk_fd_range(int *base, struct err *e)
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
