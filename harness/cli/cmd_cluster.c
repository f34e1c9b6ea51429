/*
 * cmd_cluster.c - `shardquake cluster up|down`: a local cluster left
 * running for people and scripts, the way the usual runbooks start one.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "harness/cli/cli.h"
#include "cluster/server.h"
#include "harness/local/load.h"
#include "harness/local/localcluster.h"

static const char usage[] =
	"usage: shardquake cluster up [options]\n"
	"       shardquake cluster down [--dir DIR] [--keep-files]\n"
	"\n"
	"up: start a local Redis Cluster on 127.0.0.1 and return once every node\n"
	"says cluster_state:ok and all agree; the nodes keep running.\n"
	"  --masters N         masters (default 3)\n"
	"  --replicas N        replicas per master (default 0)\n"
	"  --base-port P       nodes listen on P, P+1, ... masters first\n"
	"                      (default: free ports)\n"
	"  --keys N            load N dataset keys (default 0)\n"
	"  --seed S            dataset seed (default 1)\n"
	"  --value-size B      bytes per value (default 32)\n"
	"  --persistence M     none, rdb or aof (default aof, fsync everysec)\n"
	"  --node-timeout MS   cluster-node-timeout (default 2000)\n"
	"  --server S          redis, valkey (redis-server or valkey-server on\n"
	"                      PATH) or the PATH of a server binary (default\n"
	"                      $SHARDQUAKE_SERVER, else redis); --redis-server\n"
	"                      PATH is the same\n"
	"  --dir DIR           where the nodes live (default $TMPDIR/shardquake-cluster)\n"
	"  --force             DIR holds a cluster, running or not: stop it and\n"
	"                      remove its node folders first (without: refuse)\n"
	"\n"
	"down: stop the nodes in DIR and remove their files.  A node is found by\n"
	"its port and its folder, so one restarted since (a new pid) is stopped\n"
	"too; a folder some process still uses is never removed, and is named.\n"
	"  --dir DIR           as given to 'up'\n"
	"  --keep-files        stop the nodes but keep their directories (and logs)\n"
	"exit status: 0 done, 1 something was left (said on stderr), or no cluster\n";

static void
default_dir(char *out, size_t n)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(out, n, "%s/shardquake-cluster", tmp && *tmp ? tmp : "/tmp");
}

static int
parse_persistence(const char *s, enum persistence *p)
{
	if (strcmp(s, "none") == 0)
		*p = PERSIST_NONE;
	else if (strcmp(s, "rdb") == 0)
		*p = PERSIST_RDB;
	else if (strcmp(s, "aof") == 0)
		*p = PERSIST_AOF;
	else
		return cli_usage_error(&cmd_cluster,
				       "--persistence '%s': expected none, rdb or aof", s);
	return 0;
}

struct up_args {
	struct local_cluster_opts o;
	struct dataset d;
	char dir[PATH_MAX];
	bool force;
};

static int
parse_up(int argc, char **argv, struct up_args *a)
{
	static const struct option opts[] = {
		CLI_DATASET_OPTIONS,
		{"masters", 1, 0, 'm'},      {"replicas", 1, 0, 'r'},
		{"base-port", 1, 0, 'p'},
		{"persistence", 1, 0, 'P'},  {"node-timeout", 1, 0, 't'},
		{"redis-server", 1, 0, 'R'}, {"server", 1, 0, 'R'}, {"dir", 1, 0, 'd'},
		{"force", 0, 0, 'f'},
		{"help", 0, 0, 'h'},         {0, 0, 0, 0}};
	int c, rc = 0;

	while (rc == 0 && (c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'm': rc = cli_parse_int("--masters", optarg, 1, 500, &a->o.masters); break;
		case 'r': rc = cli_parse_int("--replicas", optarg, 0, 5, &a->o.replicas); break;
		case 'p': rc = cli_parse_int("--base-port", optarg, 1, 55535, &a->o.base_port); break;
		case 'k': case 's': case 'v': rc = cli_dataset_opt(c, optarg, &a->d); break;
		case 'P': rc = parse_persistence(optarg, &a->o.persistence); break;
		case 't': rc = cli_parse_int("--node-timeout", optarg, 100, 600000, &a->o.node_timeout_ms); break;
		case 'R': a->o.redis_server = server_binary(optarg); break;
		case 'd': snprintf(a->dir, sizeof(a->dir), "%s", optarg); break;
		case 'f': a->force = true; break;
		case 'h': fputs(usage, stdout); return 1;
		default: return cli_usage_error(&cmd_cluster, "bad option for 'cluster up'");
		}
	}
	if (rc)
		return EXIT_USAGE;
	if (optind < argc)
		return cli_usage_error(&cmd_cluster, "unexpected argument '%s'", argv[optind]);
	return 0;
}

static void
print_cluster(const struct local_cluster *lc, uint64_t ms)
{
	size_t i;

	printf("cluster up in %llu ms: %d masters, %d replicas each, in %s\n",
	       (unsigned long long)ms, lc->opts.masters, lc->opts.replicas, lc->dir);
	for (i = 0; i < lc->n; i++) {
		const struct local_node *n = &lc->nodes[i];

		if (n->is_master)
			printf("  127.0.0.1:%d  %s  master  pid %d\n", n->port, n->id,
			       (int)n->proc.pid);
		else
			printf("  127.0.0.1:%d  %s  replica of 127.0.0.1:%d  pid %d\n",
			       n->port, n->id, lc->nodes[n->master].port,
			       (int)n->proc.pid);
	}
}

/* A cluster in DIR already, running or not: without --force `up`
 * refuses (it used to stop a running one unasked); with it, the cluster
 * is stopped and all its node folders go, or nothing starts. */
static int
clear_dir(const char *dir, bool force)
{
	char ports[512];
	int running, stopped;
	size_t n = cluster_in_dir(dir, &running, ports, sizeof(ports));

	if (n == 0)
		return 0;
	if (!force && running > 0) {
		fprintf(stderr, "shardquake: cluster up: a cluster runs in %s (%d of its %zu nodes "
			"run; ports %s): stop it with 'shardquake cluster down --dir %s', or give "
			"--force to replace it\n", dir, running, n, ports, dir);
		return EXIT_FINDINGS;
	}
	if (!force) {
		fprintf(stderr, "shardquake: cluster up: %s holds the node folders of a stopped "
			"cluster (ports %s): remove them with 'shardquake cluster down --dir %s', "
			"or give --force\n", dir, ports, dir);
		return EXIT_FINDINGS;
	}
	if (cluster_stop_dir(dir, true, &stopped) > 0) {
		fprintf(stderr, "shardquake: cluster up: cannot replace the cluster in %s: "
			"what is left is said above\n", dir);
		return EXIT_FINDINGS;
	}
	fprintf(stderr, "shardquake: --force: stopped %d node%s of the cluster in %s and "
		"removed its %zu node folder%s\n", stopped, stopped == 1 ? "" : "s", dir, n,
		n == 1 ? "" : "s");
	return 0;
}

static int
cluster_up(int argc, char **argv)
{
	struct up_args a = {.o = LOCAL_CLUSTER_OPTS_INIT,
			    .d = {0, 1, DATASET_VALUE_DEFAULT}};
	struct local_cluster lc;
	struct err e = ERR_INIT;
	uint64_t t0 = clock_now_ms(), t1, t2;
	int rc;

	default_dir(a.dir, sizeof(a.dir));
	if ((rc = parse_up(argc, argv, &a)) != 0)
		return rc == 1 ? EXIT_OK : rc;
	if ((rc = clear_dir(a.dir, a.force)) != 0)
		return rc;
	a.o.dir = a.dir;
	a.o.detach = true;
	if (a.o.redis_server == NULL)
		a.o.redis_server = server_default();
	if (local_cluster_start(&lc, &a.o, &e) < 0) {
		fprintf(stderr, "shardquake: cluster up: %s\n", e.msg);
		return EXIT_FINDINGS;
	}
	t1 = clock_now_ms();
	print_cluster(&lc, t1 - t0);
	if (a.d.keys > 0) {
		if (dataset_load(&a.d, lc.nodes[0].host, lc.nodes[0].port, 0, &e) < 0) {
			fprintf(stderr, "shardquake: load: %s\n", e.msg);
			cluster_stop_dir(a.dir, true, &rc);
			free(lc.nodes);
			return EXIT_FINDINGS;
		}
		t2 = clock_now_ms();
		printf("loaded %lld keys (seed %llu, %zu-byte values) in %llu ms\n",
		       a.d.keys, (unsigned long long)a.d.seed, a.d.value_size,
		       (unsigned long long)(t2 - t1));
	}
	printf("stop it with: shardquake cluster down --dir %s\n", lc.dir);
	free(lc.nodes); /* the processes stay: they are detached */
	return EXIT_OK;
}

static int
cluster_down(int argc, char **argv)
{
	static const struct option opts[] = {{"dir", 1, 0, 'd'},
					     {"keep-files", 0, 0, 'k'},
					     {"help", 0, 0, 'h'},
					     {0, 0, 0, 0}};
	char dir[PATH_MAX];
	bool keep = false;
	int c, n, left;

	default_dir(dir, sizeof(dir));
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'd': snprintf(dir, sizeof(dir), "%s", optarg); break;
		case 'k': keep = true; break;
		case 'h': fputs(usage, stdout); return EXIT_OK;
		default: return cli_usage_error(&cmd_cluster, "bad option for 'cluster down'");
		}
	}
	if (optind < argc)
		return cli_usage_error(&cmd_cluster, "unexpected argument '%s'", argv[optind]);
	left = cluster_stop_dir(dir, !keep, &n);
	if (left < 0) {
		fprintf(stderr, "shardquake: cluster down: no cluster in '%s' (no cluster.pids, "
			"no node folders)\n", dir);
		return EXIT_FINDINGS;
	}
	printf("stopped %d node%s in %s\n", n, n == 1 ? "" : "s", dir);
	if (left > 0) {
		fprintf(stderr, "shardquake: cluster down: %d left in %s, as said above\n", left, dir);
		return EXIT_FINDINGS;
	}
	return EXIT_OK;
}

static int
run(int argc, char **argv)
{
	if (argc < 2 || cli_is_help(argv[1])) {
		fputs(usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : EXIT_OK;
	}
	if (strcmp(argv[1], "up") == 0)
		return cluster_up(argc - 1, argv + 1);
	if (strcmp(argv[1], "down") == 0)
		return cluster_down(argc - 1, argv + 1);
	return cli_usage_error(&cmd_cluster, "unknown 'cluster' action '%s'", argv[1]);
}

const struct command cmd_cluster = {
	.name = "cluster",
	.summary = "start or stop a local cluster that keeps running",
	.usage = usage,
	.run = run,
};
