/*
 * cmd_cluster_nodes.c - what runs in the directory of a cluster that
 * `shardquake cluster up` started, and stopping it: for `cluster down`,
 * and for `cluster up --force` on a directory that holds one.  See
 * cli.h.
 *
 * `down` cannot trust the pids that `up` wrote in DIR/cluster.pids: a
 * node restarted by hand or by `repair --restart-cmd` has a new one, and
 * its files must not be removed under it.  So a node is found by its
 * port and its directory: a process uses DIR/node-PORT when its working
 * directory is in it (redis chdir()s to its `dir`), or when the server
 * answering on PORT says that its files are there (INFO's config_file,
 * CONFIG's dir, cluster-config-file, logfile: a node restarted from
 * elsewhere with its nodes.conf).  The redis-servers (or valkey-servers)
 * using it are stopped; any other process using it (a shell cd'd into
 * it), or a server that outlives SIGKILL, keeps the directory, and is
 * named.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <unistd.h>

#include "cluster/conn.h"
#include "common/clock.h"
#include "common/fs.h"
#include "common/proc.h"
#include "common/xmalloc.h"
#include "harness/cli/cli.h"

#define USERS_MAX 8
#define PROBE_MS  500   /* a paused node does not answer: do not wait long */
#define STOP_MS   10000

struct user {
	pid_t pid;
	bool server;        /* a redis-server: ours to stop */
	char name[20];      /* its comm, for messages */
};

struct dnode {
	int port;
	char path[PATH_MAX];  /* DIR/node-PORT, DIR canonical */
	struct user users[USERS_MAX];
	size_t nusers;
	char stranger[PATH_MAX + 160]; /* who else answers on the port, or "" */
	char why[128];        /* why a server could not be signalled, or "" */
};

struct dcluster {
	char dir[PATH_MAX];   /* canonical */
	struct dnode *v;
	size_t n;
};

static void
proc_comm(pid_t pid, char *out, size_t n)
{
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	out[0] = '\0';
	if ((f = fopen(path, "r")) != NULL) {
		if (fgets(out, (int)n, f) == NULL)
			out[0] = '\0';
		fclose(f);
	}
	out[strcspn(out, "\n")] = '\0';
}

static bool
is_server_name(const char *name)
{
	return strncmp(name, "redis-server", 12) == 0 || strncmp(name, "valkey-server", 13) == 0;
}

/* A redis-server by the name it was started under (its comm: Debian's
 * redis-server is a link to redis-check-rdb, which its exe shows), or
 * by its binary's; never a redis-cli or a shell. */
static bool
is_server(pid_t pid)
{
	char exe[PATH_MAX], comm[32];
	const char *base;

	proc_comm(pid, comm, sizeof(comm));
	proc_link(pid, "exe", exe, sizeof(exe));
	base = strrchr(exe, '/') ? strrchr(exe, '/') + 1 : exe;
	return is_server_name(comm) || is_server_name(base);
}

/* `server`: known to be one (it answered on the node's port). */
static void
add_user(struct dnode *nd, pid_t pid, bool server)
{
	struct user *u;
	size_t i;

	for (i = 0; i < nd->nusers; i++)
		if (nd->users[i].pid == pid) {
			nd->users[i].server |= server;
			return;
		}
	if (nd->nusers == USERS_MAX)
		return;
	u = &nd->users[nd->nusers++];
	u->pid = pid;
	u->server = server || is_server(pid);
	proc_comm(pid, u->name, sizeof(u->name));
}

/* Every process whose working directory is in a node's directory. */
static void
scan_cwds(struct dcluster *c)
{
	char cwd[PATH_MAX];
	struct dirent *de;
	DIR *d = opendir("/proc");
	size_t i;
	int pid;

	while (d && (de = readdir(d)) != NULL) {
		if ((pid = atoi(de->d_name)) <= 0 || pid == (int)getpid())
			continue;
		proc_link(pid, "cwd", cwd, sizeof(cwd));
		for (i = 0; cwd[0] && i < c->n; i++)
			if (fs_path_in(cwd, c->v[i].path))
				add_user(&c->v[i], pid, false);
	}
	if (d)
		closedir(d);
}

/* Whether one of the server's CONFIG GET dir/cluster-config-file/logfile
 * values (a flat name, value array) is in `path`; its dir (its working
 * directory) into dir[PATH_MAX]. */
static bool
config_in(const struct reply *r, const char *path, char *dir)
{
	char abs[2 * PATH_MAX];
	size_t i;

	for (i = 0; i + 1 < r->nelem; i += 2)
		if (r->elem[i]->str && strcmp(r->elem[i]->str, "dir") == 0 && r->elem[i + 1]->str)
			snprintf(dir, PATH_MAX, "%s", r->elem[i + 1]->str);
	for (i = 0; i + 1 < r->nelem; i += 2) {
		const char *v = r->elem[i + 1]->str;

		if (v == NULL || v[0] == '\0')
			continue;
		snprintf(abs, sizeof(abs), "%s%s%s", v[0] == '/' ? "" : dir,
			 v[0] == '/' ? "" : "/", v);
		if (fs_path_in(abs, path))
			return true;
	}
	return false;
}

/* Asks the server on the node's port who it is: one whose files are in
 * the node's directory uses it (even from another working directory);
 * any other is a stranger, said but never stopped. */
static void
probe(struct dnode *nd)
{
	struct conn *c = conn_open("127.0.0.1", nd->port, PROBE_MS, NULL);
	char *info = c ? conn_cmd_str(c, NULL, "INFO", "server", NULL) : NULL;
	char pid[24] = "", conf[PATH_MAX] = "", exe[PATH_MAX] = "";
	char dir[PATH_MAX] = "", cwd[PATH_MAX];
	struct reply *r = NULL;
	bool uses;

	if (info == NULL)
		goto out;
	info_field(info, "process_id", pid, sizeof(pid));
	info_field(info, "config_file", conf, sizeof(conf));
	info_field(info, "executable", exe, sizeof(exe));
	r = conn_cmd(c, NULL, "CONFIG", "GET", "dir", "cluster-config-file", "logfile", NULL);
	uses = (r && r->type == REPLY_ARRAY && config_in(r, nd->path, dir)) ||
	       (conf[0] && fs_path_in(conf, nd->path));
	/* its process_id is ours to signal only if the process with that
	 * pid here works where the server says it does: from another pid
	 * namespace the number may name another process */
	if (atoi(pid) > 0)
		proc_link(atoi(pid), "cwd", cwd, sizeof(cwd));
	if (uses && atoi(pid) > 0 && dir[0] && strcmp(cwd, dir) == 0)
		add_user(nd, atoi(pid), true);
	else if (uses)
		snprintf(nd->stranger, sizeof(nd->stranger), "port %d: the server using %s "
			 "(pid %s) cannot be seen from here: not stopped", nd->port, nd->path, pid);
	else
		snprintf(nd->stranger, sizeof(nd->stranger), "port %d is served by pid %s (%s, "
			 "config file '%s'), which does not use %s: not stopped", nd->port, pid,
			 exe[0] ? exe : "?", conf, nd->path);
out:
	reply_free(r);
	free(info);
	conn_free(c);
}

/* Who uses each node's directory now. */
static void
find_users(struct dcluster *c)
{
	size_t i;

	for (i = 0; i < c->n; i++) {
		c->v[i].nusers = 0;
		c->v[i].stranger[0] = '\0';
	}
	scan_cwds(c);
	for (i = 0; i < c->n; i++)
		probe(&c->v[i]);
}

static void
add_node(struct dcluster *c, int port)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		if (c->v[i].port == port)
			return;
	c->v = xreallocarray(c->v, c->n + 1, sizeof(*c->v));
	memset(&c->v[c->n], 0, sizeof(c->v[0]));
	c->v[c->n].port = port;
	snprintf(c->v[c->n].path, sizeof(c->v[0].path), "%s/node-%d", c->dir, port);
	c->n++;
}

/* A node-PORT folder that `up` made: its redis.conf says so.  Only
 * those count where cluster.pids does not list them: a folder named
 * node-18 in a directory given by mistake is not ours to remove. */
static bool
made_by_up(const char *dir, const char *name)
{
	char path[PATH_MAX + 300], line[64] = "";
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s/redis.conf", dir, name);
	if ((f = fopen(path, "r")) == NULL)
		return false;
	if (fgets(line, sizeof(line), f) == NULL)
		line[0] = '\0';
	fclose(f);
	return strcmp(line, "# written by shardquake\n") == 0;
}

static int
by_port(const void *a, const void *b)
{
	return ((const struct dnode *)a)->port - ((const struct dnode *)b)->port;
}

/* The nodes of the cluster in `dir`: the ports cluster.pids lists, and
 * the node-PORT folders `up` made.  None when there is no such dir. */
static void
load_nodes(const char *dir, struct dcluster *c)
{
	char path[PATH_MAX + 32], *text, *line, *save = NULL;
	struct dirent *de;
	int port, pid, used;
	DIR *d;

	memset(c, 0, sizeof(*c));
	if (realpath(dir, c->dir) == NULL)
		return;
	snprintf(path, sizeof(path), "%s/cluster.pids", c->dir);
	if ((text = fs_read_file(path, NULL, NULL)) != NULL) {
		for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
			if (sscanf(line, "%d %d", &port, &pid) == 2 && port > 0 && port < 65536)
				add_node(c, port);
		free(text);
	}
	if ((d = opendir(c->dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL)
		if (sscanf(de->d_name, "node-%d%n", &port, &used) == 1 &&
		    de->d_name[used] == '\0' && port > 0 && port < 65536 &&
		    made_by_up(c->dir, de->d_name))
			add_node(c, port);
	closedir(d);
	if (c->n > 1)
		qsort(c->v, c->n, sizeof(*c->v), by_port);
}

static size_t
servers_of(const struct dnode *nd)
{
	size_t i, k = 0;

	for (i = 0; i < nd->nusers; i++)
		k += nd->users[i].server;
	return k;
}

/* SIGKILLs every server using a node's directory, each through a pidfd
 * (the pid cannot be another process's by the time the signal goes),
 * and waits up to STOP_MS for them to end.  Returns how many nodes had
 * one that was signalled. */
static int
kill_servers(struct dcluster *c)
{
	struct pollfd *fds = xcalloc(c->n * USERS_MAX + 1, sizeof(*fds));
	uint64_t deadline = clock_now_ms() + STOP_MS;
	size_t i, j, nfds = 0, open;
	int nodes = 0, fd;
	char comm[32];

	for (i = 0; i < c->n; i++) {
		bool any = false;

		for (j = 0; j < c->v[i].nusers; j++) {
			const struct user *u = &c->v[i].users[j];

			if (!u->server || (fd = pidfd_open(u->pid, 0)) < 0)
				continue; /* gone already */
			proc_comm(u->pid, comm, sizeof(comm));
			if (strcmp(comm, u->name) != 0) { /* its pid was another's by then */
				close(fd);
				continue;
			}
			if (pidfd_send_signal(fd, SIGKILL, NULL, 0) < 0) {
				snprintf(c->v[i].why, sizeof(c->v[i].why), ": cannot signal it: %s",
					 strerror(errno));
				close(fd);
				continue;
			}
			fds[nfds++] = (struct pollfd){.fd = fd, .events = POLLIN};
			any = true;
		}
		nodes += any;
	}
	/* a pidfd turns readable when its process has ended */
	for (open = nfds; open > 0 && clock_now_ms() < deadline;) {
		if (poll(fds, nfds, 50) <= 0)
			continue;
		for (i = 0; i < nfds; i++)
			if (fds[i].fd >= 0 && fds[i].revents) {
				close(fds[i].fd);
				fds[i].fd = -1;
				open--;
			}
	}
	for (i = 0; i < nfds; i++)
		if (fds[i].fd >= 0)
			close(fds[i].fd);
	free(fds);
	return nodes;
}

int
cluster_stop_dir(const char *dir, bool remove_files, int *stopped)
{
	char path[PATH_MAX + 32];
	struct err e = ERR_INIT;
	struct dcluster c;
	int left = 0, running = 0;
	size_t i, j;

	load_nodes(dir, &c);
	*stopped = 0;
	if (c.n == 0)
		return -1;
	find_users(&c);
	*stopped = kill_servers(&c);
	find_users(&c); /* what survived, or came back */
	for (i = 0; i < c.n; i++) {
		struct dnode *nd = &c.v[i];

		if (nd->stranger[0])
			fprintf(stderr, "shardquake: %s\n", nd->stranger);
		for (j = 0; j < nd->nusers; j++) {
			const struct user *u = &nd->users[j];

			if (u->server)
				fprintf(stderr, "shardquake: left %s: %s pid %d still runs%s\n", nd->path,
					u->name, (int)u->pid, nd->why[0] ? nd->why : " 10 s after SIGKILL");
			else if (remove_files)
				fprintf(stderr, "shardquake: left %s: pid %d (%s) has its working "
					"directory in it\n", nd->path, (int)u->pid, u->name);
		}
		running += servers_of(nd) > 0;
		left += servers_of(nd) > 0 || (remove_files && nd->nusers > 0);
		if (remove_files && nd->nusers == 0 && fs_rm_rf(nd->path, &e) < 0) {
			fprintf(stderr, "shardquake: %s\n", e.msg);
			left++;
		}
	}
	snprintf(path, sizeof(path), "%s/cluster.pids", c.dir);
	if (running == 0)
		unlink(path);
	if (remove_files)
		rmdir(c.dir); /* only if now empty */
	free(c.v);
	return left;
}

size_t
cluster_in_dir(const char *dir, int *running, char *ports, size_t n)
{
	struct dcluster c;
	size_t i, count;

	load_nodes(dir, &c);
	find_users(&c);
	*running = 0;
	ports[0] = '\0';
	for (i = 0; i < c.n; i++) {
		*running += servers_of(&c.v[i]) > 0;
		snprintf(ports + strlen(ports), n - strlen(ports), "%s%d", i ? ", " : "",
			 c.v[i].port);
	}
	count = c.n;
	free(c.v);
	return count;
}
