/* node.c - one local redis-server process; see node.h. */
#include "harness/local/node.h"

#include <errno.h>
#include <stdio.h>
#include <unistd.h>
#include <string.h>

#include "common/buf.h"
#include "common/clock.h"
#include "common/fs.h"
#include "injectors/netns.h"

int
node_write_config(const struct local_node *n, const struct local_cluster_opts *o,
		  struct err *e)
{
	struct buf b = BUF_INIT;
	char path[PATH_MAX + 16];
	int rc;

	if (fs_mkdir_p(n->dir, e) < 0)
		return -1;
	buf_addf(&b, "# written by shardquake\n"
		     "port %d\nbind %s\nprotected-mode no\n"
		     "daemonize no\npidfile \"\"\n"
		     "dir \"%s\"\nlogfile \"%s/redis.log\"\n"
		     "cluster-enabled yes\ncluster-config-file nodes.conf\n"
		     "cluster-node-timeout %d\n"
		     /* replicas sync at once, not after the default 5 s wait
		      * for more replicas to share a diskless transfer */
		     "repl-diskless-sync-delay 0\n",
		 n->port, n->host, n->dir, n->dir,
		 o->node_timeout_ms > 0 ? o->node_timeout_ms : 2000);
	switch (o->persistence) {
	case PERSIST_NONE:
		buf_adds(&b, "save \"\"\nappendonly no\n");
		break;
	case PERSIST_RDB:
		buf_adds(&b, "save 60 1000\nappendonly no\ndbfilename dump.rdb\n");
		break;
	case PERSIST_AOF:
		buf_adds(&b, "save \"\"\nappendonly yes\nappendfsync everysec\n");
		break;
	}
	if (o->extra_config)
		buf_addf(&b, "# [cluster] config\n%s", o->extra_config);
	snprintf(path, sizeof(path), "%s/redis.conf", n->dir);
	rc = fs_write_file(path, b.s, b.len, e);
	buf_release(&b);
	return rc;
}

/* In the node's process, before exec: into its namespace (a node that
 * cannot join it must not run on the harness's), then the faults' hook. */
static int
child(void *arg)
{
	struct local_node *n = arg;

	if (n->ns && netns_node_join(n->ns) < 0)
		return errno ? errno : EIO;
	return n->in_child ? n->in_child(n->in_child_arg) : 0;
}

int
node_start(struct local_node *n, const struct local_cluster_opts *o,
	   struct err *e)
{
	/* The strings must outlive proc_start() only: exec copies them. */
	char conf[PATH_MAX + 16], out[PATH_MAX + 16];
	const char *argv[3];

	snprintf(conf, sizeof(conf), "%s/redis.conf", n->dir);
	snprintf(out, sizeof(out), "%s/redis.out", n->dir);
	argv[0] = o->redis_server ? o->redis_server : "redis-server";
	argv[1] = conf;
	argv[2] = NULL;
	n->proc = (struct proc)PROC_INIT;
	n->proc.argv = argv;
	n->proc.out_path = out;
	n->proc.detach = o->detach;
	/* a Ctrl-C at the terminal is the harness's to handle: it stops the
	 * run and then the nodes (PDEATHSIG still ends them if it dies) */
	n->proc.new_pgrp = true;
	n->proc.in_child = child;
	n->proc.in_child_arg = n;
	if (o->before_start && o->before_start(o->hook_arg, n, e) < 0)
		return err_prefix(e, "node %d: ", n->port);
	if (proc_start(&n->proc, e) < 0)
		return err_prefix(e, "node %d: ", n->port);
	n->proc.argv = NULL;
	n->proc.out_path = NULL;
	return 0;
}

void
node_describe_exit(struct local_node *n, char *out, size_t len)
{
	char path[PATH_MAX + 16], last[256];

	snprintf(path, sizeof(path), "%s/redis.log", n->dir);
	fs_last_line(path, last, sizeof(last));
	if (last[0] == '\0') {
		snprintf(path, sizeof(path), "%s/redis.out", n->dir);
		fs_last_line(path, last, sizeof(last));
	}
	snprintf(out, len, "%s%s%s", proc_describe_status(n->proc.status),
		 last[0] ? ": " : "", last);
}

struct conn *
node_wait_ping(struct local_node *n, int timeout_ms, struct err *e)
{
	uint64_t deadline = clock_now_ms() + (uint64_t)timeout_ms;
	struct err last = ERR_INIT;
	struct conn *c;
	char why[400];

	for (;;) {
		if (!proc_is_running(&n->proc)) {
			node_describe_exit(n, why, sizeof(why));
			err_set(e, 0, "node %d %s (see %s/redis.log)", n->port, why,
				n->dir);
			return NULL;
		}
		c = conn_open(n->host, n->port, 1000, &last);
		if (c) {
			struct reply *r = conn_cmd(c, &last, "PING", NULL);
			bool pong = r && r->type == REPLY_STATUS;

			reply_free(r);
			if (pong)
				return c;
			conn_free(c);
		}
		if (clock_now_ms() >= deadline)
			break;
		clock_sleep_ms(5);
	}
	err_set(e, last.code, "node %d did not answer PING within %d ms: %s",
		n->port, timeout_ms, last.msg);
	return NULL;
}
