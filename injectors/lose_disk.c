/*
 * lose_disk.c - the machine is gone: SIGKILL, then the node's data is
 * deleted (nodes.conf, RDB, AOF), as when a bare-metal host dies with
 * its disk.  The node's logs are kept for the report.
 *
 * No parameters.
 */
#include <signal.h>
#include <stdio.h>

#include "common/fs.h"
#include "injectors/injector.h"

struct lose_disk_priv {
	int status;
};

/* Its own keys, for the scenario loader's messages as for parse(). */
static const char *const lose_disk_keys[] = {NULL};

static int
lose_disk_parse(struct fault *f, const struct params *p, struct err *e)
{

	(void)f;
	return params_check_keys(p, "lose-disk", lose_disk_keys, e);
}

static int
lose_disk_inject(struct fault *f, struct target *t, struct err *e)
{
	static const char *const data[] = {"nodes.conf", "dump.rdb",
					   "appendonlydir", "appendonly.aof"};
	struct lose_disk_priv *k = f->priv;
	char path[4200];
	size_t i;

	if (proc_signal(t->proc, SIGKILL, e) < 0)
		return err_prefix(e, "lose-disk node %d: ", t->port);
	proc_wait(t->proc, -1, NULL);
	k->status = t->proc->status;
	f->target = t;
	f->injected = true;
	for (i = 0; i < sizeof(data) / sizeof(data[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", t->dir, data[i]);
		if (fs_rm_rf(path, e) < 0)
			return err_prefix(e, "lose-disk node %d: ", t->port);
	}
	return 0;
}

static void
lose_disk_describe(const struct fault *f, char *out, size_t n)
{
	const struct lose_disk_priv *k = f->priv;

	snprintf(out, n, "node %d %s; its nodes.conf, RDB and AOF deleted",
		 f->target ? f->target->port : 0, proc_describe_status(k->status));
}

const struct injector_ops lose_disk_injector = {
	.name = "lose-disk",
	.params = lose_disk_keys,
	.priv_size = sizeof(struct lose_disk_priv),
	.parse = lose_disk_parse,
	.inject = lose_disk_inject,
	.describe = lose_disk_describe,
};
