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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/xmalloc.h"
#include "injectors/disk_int.h"

const char *const disk_call_names[CALL_N] = {"write", "fsync", "open", "rename", "ftruncate"};

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
			if (strlen(disk_call_names[i]) == len && strncmp(s, disk_call_names[i], len) == 0)
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

/* Its own keys, for the scenario loader's messages as for parse(). */
static const char *const disk_keys[] = {"errno", "calls", "slow_ms", "logs", NULL};

static int
disk_parse(struct fault *f, const struct params *p, struct err *e)
{
	static const struct {
		const char *name;
		int err;
	} errs[] = {{"EIO", EIO}, {"ENOSPC", ENOSPC}, {"EDQUOT", EDQUOT}};
	struct disk_priv *k = f->priv;
	const char *v = params_get(p, "errno");
	size_t i;

	if (params_check_keys(p, "disk", disk_keys, e) < 0)
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
static int
disk_check(const struct fault *f, struct err *e)
{
	const struct disk_priv *k = f->priv;
	int base = 0;

	if (k->track && disk_fd_range(&base, e) < 0)
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
	if (disk_creds_of(getpid(), &k->creds) < 0)
		return err_set(e, EIO, "disk node %d: cannot read /proc/self/status", t->port);
	if (k->track && disk_fd_range(&k->fd_base, e) < 0)
		return err_prefix(e, "disk node %d: ", t->port);
	if ((ctx = disk_build_filter(k, e)) == NULL)
		return err_prefix(e, "disk node %d: ", t->port);
	k->sup = seccomp_sup_new(ctx, disk_handle, k, e);
	seccomp_release(ctx);
	if (k->sup == NULL)
		return err_prefix(e, "disk node %d: ", t->port);
	return 0;
}

static int
disk_in_child(struct fault *f, struct target *t)
{
	struct disk_priv *k = f->priv;

	(void)t;
	/* on failure it tells the supervisor why and never returns */
	seccomp_sup_in_child(k->sup, k->track ? (unsigned long)k->fd_base + FD_SPAN : 0);
	return 0;
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

const struct injector_ops disk_injector = {
	.name = "disk",
	.params = disk_keys,
	.priv_size = sizeof(struct disk_priv),
	.flags = INJ_HARNESS_BOUND,
	.parse = disk_parse,
	.check = disk_check,
	.prepare = disk_prepare,
	.in_child = disk_in_child,
	.inject = disk_inject,
	.revert = disk_revert,
	.release = disk_release,
	.describe = disk_describe,
	.evidence = disk_evidence,
};
