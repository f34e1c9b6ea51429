/*
 * seccomp_task.c - the supervisor's helpers that look at the trapped
 * task (its memory, its descriptors, how it resolves a path), and the
 * probe of what this machine's kernel allows; see seccomp_notify.h.
 */
#include "injectors/seccomp_notify.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#define LOG_MODULE "injectors/seccomp"
#include "common/clock.h"
#include "common/fs.h"
#include "common/log.h"
#include "common/xmalloc.h"

int
seccomp_sup_read_str(pid_t pid, uint64_t addr, char *out, size_t n, struct err *e)
{
	const size_t page = 4096; /* a lower bound of the page size is enough */
	size_t got = 0, chunk;
	struct iovec l, r;
	ssize_t k;

	/* page by page: a string may end just before an unmapped page */
	while (got < n) {
		chunk = page - (size_t)((addr + got) % page);
		if (chunk > n - got)
			chunk = n - got;
		l = (struct iovec){out + got, chunk};
		r = (struct iovec){(void *)(uintptr_t)(addr + got), chunk};
		k = process_vm_readv(pid, &l, 1, &r, 1, 0);
		if (k <= 0)
			return err_set(e, k < 0 ? errno : EFAULT, "read pid %d's memory at %#llx: %s",
				       (int)pid, (unsigned long long)(addr + got),
				       strerror(k < 0 ? errno : EFAULT));
		if (memchr(out + got, '\0', (size_t)k))
			return 0;
		got += (size_t)k;
	}
	return err_set(e, ENAMETOOLONG, "pid %d's string at %#llx is longer than %zu bytes",
		       (int)pid, (unsigned long long)addr, n - 1);
}

int
seccomp_sup_open_parent(pid_t pid, int dirfd, const char *path, const char **leaf,
			struct err *e)
{
	char base[64], dir[PATH_MAX];
	const char *rel = path, *slash;
	int bfd, pfd, err;

	if (path[0] == '/') {
		snprintf(base, sizeof(base), "/proc/%d/root", (int)pid);
		rel = path + strspn(path, "/");
	} else if (dirfd == AT_FDCWD) {
		snprintf(base, sizeof(base), "/proc/%d/cwd", (int)pid);
	} else {
		snprintf(base, sizeof(base), "/proc/%d/fd/%d", (int)pid, dirfd);
	}
	bfd = open(base, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (bfd < 0)
		return err_set(e, errno, "open '%s': %s", base, strerror(errno));
	slash = strrchr(rel, '/');
	if (slash == NULL) {
		*leaf = rel;
		return bfd;
	}
	if ((size_t)(slash - rel) >= sizeof(dir)) {
		close(bfd);
		return err_set(e, ENAMETOOLONG, "path of pid %d too long", (int)pid);
	}
	memcpy(dir, rel, (size_t)(slash - rel));
	dir[slash - rel] = '\0';
	pfd = openat(bfd, dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	err = errno;
	close(bfd);
	if (pfd < 0)
		return err_set(e, err, "open '%s' under '%s': %s", dir, base, strerror(err));
	*leaf = slash + 1;
	return pfd;
}

bool
seccomp_sup_fd_is_free(pid_t pid, int fd)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)pid, fd);
	return lstat(path, &st) < 0 && errno == ENOENT;
}

/* The probe's policy: the one trapped call gets /dev/null at `want`. */
struct probe {
	int want;
	int err; /* of ADDFD, or of opening /dev/null */
	bool answered;
};

static void
probe_answer(void *arg, struct seccomp_sup *sup, const struct seccomp_notif *req,
	     bool deferred)
{
	struct probe *p = arg;
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	(void)deferred;
	p->answered = true;
	if (fd < 0 || seccomp_sup_send_fd(sup, req, fd, p->want, 0, NULL) < 0) {
		p->err = errno;
		seccomp_sup_fail(sup, req, ENOSYS);
	}
	if (fd >= 0)
		close(fd);
}

static int
user_notif_listed(struct err *e)
{
	const char *path = "/proc/sys/kernel/seccomp/actions_avail";
	char *s = fs_read_file(path, NULL, NULL);
	bool ok;

	if (s == NULL)
		return err_set(e, ENOSYS, "this kernel has no seccomp filters ('%s' is missing)",
			       path);
	ok = strstr(s, "user_notif") != NULL;
	free(s);
	if (!ok)
		return err_set(e, ENOSYS,
			       "this kernel has no seccomp user notification "
			       "('user_notif' is not in '%s')",
			       path);
	return 0;
}

/* Reaps `pid` within `ms`, else kills and reaps it; its wait status. */
static int
reap_within(pid_t pid, int ms)
{
	uint64_t deadline = clock_now_ms() + (uint64_t)ms;
	int status = 0;
	pid_t r;

	while ((r = waitpid(pid, &status, WNOHANG)) == 0 && clock_now_ms() < deadline)
		clock_sleep_ms(5);
	if (r == 0) {
		kill(pid, SIGKILL);
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
	}
	return status;
}

static int
probe_verdict(const struct probe *p, int status, struct err *e)
{
	if (!p->answered)
		return err_set(e, EIO, "the probe's trapped call never reached the supervisor");
	if (p->err == EINVAL)
		return err_set(e, EINVAL,
			       "this kernel lacks SECCOMP_IOCTL_NOTIF_ADDFD with "
			       "SECCOMP_ADDFD_FLAG_SEND (Linux 5.14 or later is needed)");
	if (p->err == EBADF || p->err == EMFILE)
		return err_set(e, p->err, "cannot place a descriptor at %d in a child: %s", p->want,
			       strerror(p->err));
	if (p->err)
		return err_set(e, p->err, "SECCOMP_IOCTL_NOTIF_ADDFD: %s", strerror(p->err));
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return err_set(e, EIO, "the probe child did not get descriptor %d (%s)", p->want,
			       WIFEXITED(status) ? "wrong answer" : "killed");
	return 0;
}

int
seccomp_sup_probe(unsigned long nofile, struct err *e)
{
	struct probe p = {nofile > 0 ? (int)nofile - 1 : 64, 0, false};
	struct seccomp_sup *sup;
	scmp_filter_ctx ctx;
	int rc, status = 0;
	long got;
	pid_t pid;

	if (user_notif_listed(e) < 0)
		return -1;
	if ((ctx = seccomp_init(SCMP_ACT_ALLOW)) == NULL)
		return err_set(e, ENOMEM, "seccomp_init failed");
	rc = seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(getppid), 0);
	if (rc < 0)
		err_set(e, -rc, "probe filter: %s", strerror(-rc));
	sup = rc == 0 ? seccomp_sup_new(ctx, probe_answer, &p, e) : NULL;
	seccomp_release(ctx);
	if (sup == NULL)
		return -1;
	if ((pid = fork()) < 0) {
		rc = err_set(e, errno, "fork: %s", strerror(errno));
		goto out_free;
	}
	if (pid == 0) {
		seccomp_sup_in_child(sup, nofile);
		got = syscall(SYS_getppid);
		_exit(got == p.want && fcntl((int)got, F_GETFD) >= 0 ? 0 : 1);
	}
	if ((rc = seccomp_sup_wait_ready(sup, 5000, e)) < 0) {
		reap_within(pid, 0);
		goto out_free;
	}
	status = reap_within(pid, 5000);
out_free:
	seccomp_sup_free(sup); /* joined: p is ours alone again */
	if (rc < 0)
		return -1;
	return probe_verdict(&p, status, e);
}
