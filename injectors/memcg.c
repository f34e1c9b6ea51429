/* memcg.c - a memory cgroup for one node; see memcg.h. */
#include "injectors/memcg.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fs.h"

/* Reads a whole small control file into buf (NUL-terminated). */
static int
read_ctl(const char *dir, const char *file, char *buf, size_t n, struct err *e)
{
	char path[PATH_MAX + 64];
	ssize_t got;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_set(e, errno, "open '%s': %s", path, strerror(errno));
	got = read(fd, buf, n - 1);
	if (got < 0) {
		int saved = errno;

		close(fd);
		return err_set(e, saved, "read '%s': %s", path, strerror(saved));
	}
	close(fd);
	buf[got] = '\0';
	return 0;
}

static int
write_ctl(const char *dir, const char *file, const char *text, struct err *e)
{
	char path[PATH_MAX + 64];
	size_t len = strlen(text);
	ssize_t put;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return err_set(e, errno, "open '%s': %s", path, strerror(errno));
	put = write(fd, text, len);
	if (put != (ssize_t)len) {
		int saved = put < 0 ? errno : EIO;

		close(fd);
		return err_set(e, saved, "write '%s' to '%s': %s", text, path, strerror(saved));
	}
	if (close(fd) < 0)
		return err_set(e, errno, "write '%s' to '%s': %s", text, path, strerror(errno));
	return 0;
}

/* Where the hierarchy holding `want` ("memory" for v1, NULL for the
 * cgroup2 one) is mounted, and the mount's root, from mountinfo. */
static bool
find_mount(const char *want, char *mnt, size_t mn, char *root, size_t rn)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[4096];
	bool found = false;

	if (f == NULL)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		char r[PATH_MAX], m[PATH_MAX], type[64], opts[1024];
		const char *dash = strstr(line, " - ");

		if (dash == NULL || sscanf(line, "%*s %*s %*s %4095s %4095s", r, m) != 2 ||
		    sscanf(dash + 3, "%63s %*s %1023s", type, opts) != 2)
			continue;
		if (want == NULL ? strcmp(type, "cgroup2") != 0
				 : strcmp(type, "cgroup") != 0 ||
					   !strstr(opts, want))
			continue;
		snprintf(mnt, mn, "%s", m);
		snprintf(root, rn, "%s", r);
		found = true;
	}
	fclose(f);
	return found;
}

/* Our cgroup's path in the v1 hierarchy with `controller`, or in the v2
 * one (controller NULL), from /proc/self/cgroup. */
static bool
own_path(const char *controller, char *out, size_t n)
{
	FILE *f = fopen("/proc/self/cgroup", "re");
	char line[4096];
	bool found = false;

	if (f == NULL)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		char *a = strchr(line, ':'), *b = a ? strchr(a + 1, ':') : NULL;

		if (b == NULL)
			continue;
		*b = '\0';
		b[1 + strcspn(b + 1, "\n")] = '\0';
		if (controller == NULL ? strcmp(line, "0") == 0 && a[1] == '\0'
				       : strstr(a + 1, controller) != NULL) {
			snprintf(out, n, "%s", b + 1);
			found = true;
		}
	}
	fclose(f);
	return found;
}

/* mount point + (our path less the mount's root) */
static void
join_paths(char *out, size_t n, const char *mnt, const char *root, const char *path)
{
	size_t rl = strlen(root);

	if (strcmp(root, "/") != 0 && strncmp(path, root, rl) == 0)
		path += rl;
	snprintf(out, n, "%s%s%s", mnt, *path == '/' ? "" : "/", strcmp(path, "/") ? path : "");
}

int
memcg_base(char *out, size_t n, enum memcg_version *v, struct err *e)
{
	char mnt[PATH_MAX], root[PATH_MAX], path[PATH_MAX], ctl[512];
	char dir[3 * PATH_MAX];

	if (find_mount(NULL, mnt, sizeof(mnt), root, sizeof(root)) &&
	    own_path(NULL, path, sizeof(path))) {
		join_paths(dir, sizeof(dir), mnt, root, path);
		if (read_ctl(dir, "cgroup.controllers", ctl, sizeof(ctl), NULL) == 0 &&
		    strstr(ctl, "memory")) {
			if (access(dir, W_OK) < 0)
				return err_set(e, errno, "cgroup v2 '%s' is not writable: %s", dir,
					       strerror(errno));
			snprintf(out, n, "%s", dir);
			*v = MEMCG_V2;
			return 0;
		}
	}
	if (find_mount("memory", mnt, sizeof(mnt), root, sizeof(root)) &&
	    own_path("memory", path, sizeof(path))) {
		join_paths(dir, sizeof(dir), mnt, root, path);
		if (access(dir, W_OK) < 0)
			return err_set(e, errno, "cgroup v1 memory '%s' is not writable: %s", dir,
				       strerror(errno));
		snprintf(out, n, "%s", dir);
		*v = MEMCG_V1;
		return 0;
	}
	return err_set(e, ENOENT, "no memory cgroup controller: neither cgroup v2 with "
		       "'memory' in cgroup.controllers nor a cgroup v1 memory hierarchy is "
		       "mounted");
}

int
memcg_create(struct memcg *m, const char *name, struct err *e)
{
	char base[PATH_MAX];
	enum memcg_version v;

	if (memcg_base(base, sizeof(base), &v, e) < 0)
		return -1;
	/* v2: a child gets the memory controller only once its parent
	 * hands it down; a parent that holds processes itself may refuse */
	if (v == MEMCG_V2 && write_ctl(base, "cgroup.subtree_control", "+memory", e) < 0)
		return err_prefix(e, "enable the memory controller below '%s': ", base);
	if (strlen(base) + strlen(name) + 2 > sizeof(m->path))
		return err_set(e, ENAMETOOLONG, "cgroup path '%s/%s' is too long", base, name);
	snprintf(m->path, sizeof(m->path), "%s/%s", base, name);
	if (mkdir(m->path, 0755) < 0 && errno != EEXIST) {
		int saved = errno;

		m->path[0] = '\0';
		return err_set(e, saved, "mkdir '%s/%s': %s", base, name, strerror(saved));
	}
	m->v = v;
	snprintf(m->procs, sizeof(m->procs), "%s/cgroup.procs", m->path);
	/* a group reused for a restart starts without the old limit */
	return memcg_set_limit(m, -1, e);
}

int
memcg_join_self(const struct memcg *m)
{
	int fd = open(m->procs, O_WRONLY | O_CLOEXEC);
	ssize_t put;

	if (fd < 0)
		return -1;
	put = write(fd, "0", 1); /* 0: the writing process itself */
	close(fd);
	return put == 1 ? 0 : -1;
}

/* A number from a control file, "max" as -1. */
static int
read_num(const struct memcg *m, const char *file, long long *out, struct err *e)
{
	char buf[64];

	if (read_ctl(m->path, file, buf, sizeof(buf), e) < 0)
		return -1;
	if (strncmp(buf, "max", 3) == 0) {
		*out = -1;
		return 0;
	}
	if (sscanf(buf, "%lld", out) != 1)
		return err_set(e, EINVAL, "'%s/%s': not a number: %s", m->path, file, buf);
	return 0;
}

int
memcg_usage(const struct memcg *m, long long *bytes, struct err *e)
{
	return read_num(m, m->v == MEMCG_V2 ? "memory.current" : "memory.usage_in_bytes",
			bytes, e);
}

#define SQUEEZE_STEP  (2LL << 20)
#define SQUEEZE_STEPS 4096 /* 8 GiB in 2 MiB steps: then it stops anyway */

int
memcg_squeeze(const struct memcg *m, struct err *e)
{
	struct err le = ERR_INIT;
	long long usage;
	char step[32];
	int i;

	snprintf(step, sizeof(step), "%lld", SQUEEZE_STEP);
	for (i = 0; i < SQUEEZE_STEPS; i++) {
		le = (struct err)ERR_INIT;
		if (m->v == MEMCG_V2) {
			/* EAGAIN: it could not reclaim that much */
			if (write_ctl(m->path, "memory.reclaim", step, &le) < 0)
				break;
			continue;
		}
		if (memcg_usage(m, &usage, e) < 0)
			return -1;
		if (usage <= SQUEEZE_STEP || memcg_set_limit(m, usage - SQUEEZE_STEP, &le) < 0)
			break;
	}
	if (m->v == MEMCG_V1 && memcg_set_limit(m, -1, e) < 0)
		return -1;
	if (le.code && le.code != EBUSY && le.code != EAGAIN)
		return err_set(e, le.code, "%s", le.msg);
	return 0;
}

int
memcg_set_limit(const struct memcg *m, long long bytes, struct err *e)
{
	char text[32];

	if (m->v == MEMCG_V2)
		snprintf(text, sizeof(text), bytes < 0 ? "max" : "%lld", bytes);
	else
		snprintf(text, sizeof(text), "%lld", bytes < 0 ? -1LL : bytes);
	return write_ctl(m->path,
			 m->v == MEMCG_V2 ? "memory.max" : "memory.limit_in_bytes", text, e);
}

int
memcg_oom_kills(const struct memcg *m, long long *n, struct err *e)
{
	const char *file = m->v == MEMCG_V2 ? "memory.events" : "memory.oom_control";
	char buf[1024];
	const char *p;

	if (read_ctl(m->path, file, buf, sizeof(buf), e) < 0)
		return -1;
	for (p = buf; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (sscanf(p, "oom_kill %lld", n) == 1)
			return 0;
	return err_set(e, ENOENT, "'%s/%s' has no oom_kill count (kernel older than 4.13?)",
		       m->path, file);
}

/* Moves every process of the group at `dir` to its parent. */
static int
evacuate(const char *dir, struct err *e)
{
	char buf[8192], parent[PATH_MAX], *p, *end;

	if (read_ctl(dir, "cgroup.procs", buf, sizeof(buf), e) < 0)
		return -1;
	snprintf(parent, sizeof(parent), "%s", dir);
	if ((end = strrchr(parent, '/')) == NULL)
		return err_set(e, EINVAL, "cgroup '%s' has no parent", dir);
	*end = '\0';
	for (p = strtok_r(buf, "\n", &end); p; p = strtok_r(NULL, "\n", &end))
		if (write_ctl(parent, "cgroup.procs", p, e) < 0 && e && e->code != ESRCH)
			return -1;
	return 0;
}

int
memcg_remove(struct memcg *m, struct err *e)
{
	if (m->path[0] == '\0')
		return 0;
	if (access(m->path, F_OK) < 0) {
		m->path[0] = '\0';
		return 0;
	}
	memcg_set_limit(m, -1, NULL);
	if (evacuate(m->path, e) < 0)
		return -1;
	if (rmdir(m->path) < 0 && errno != ENOENT)
		return err_set(e, errno, "rmdir '%s': %s", m->path, strerror(errno));
	m->path[0] = '\0';
	return 0;
}

int
memcg_clean(int *removed, struct err *e)
{
	char base[PATH_MAX], dir[PATH_MAX + 300];
	enum memcg_version v;
	struct dirent *d;
	DIR *dp;
	int rc = 0, pid, port, used;

	*removed = 0;
	if (memcg_base(base, sizeof(base), &v, NULL) < 0)
		return 0;
	if ((dp = opendir(base)) == NULL)
		return err_set(e, errno, "opendir '%s': %s", base, strerror(errno));
	while ((d = readdir(dp)) != NULL) {
		used = 0;
		if (sscanf(d->d_name, "sq%d-%d%n", &pid, &port, &used) != 2 ||
		    d->d_name[used] != '\0' || pid <= 0)
			continue;
		if (kill(pid, 0) == 0 || errno == EPERM)
			continue; /* its run is still going */
		snprintf(dir, sizeof(dir), "%s/%s", base, d->d_name);
		if (evacuate(dir, e) < 0 || (rmdir(dir) < 0 && errno != ENOENT)) {
			if (rc == 0 && errno)
				err_set(e, errno, "remove cgroup '%s': %s", dir, strerror(errno));
			rc = -1;
			continue;
		}
		(*removed)++;
	}
	closedir(dp);
	return rc;
}
