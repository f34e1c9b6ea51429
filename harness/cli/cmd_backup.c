/*
 * cmd_backup.c - `shardquake backup`: a BGSAVE of every master of any
 * cluster, the RDB files and the slot map kept in a directory
 * (cluster/backup.h).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cluster/backup.h"
#include "harness/cli/cli.h"

static const char usage[] =
	"usage: shardquake backup HOST:PORT DIR [--timeout MS]\n"
	"\n"
	"Back up the cluster reachable at HOST:PORT into DIR (created; it must\n"
	"not hold a backup already): every master is asked DBSIZE and BGSAVE,\n"
	"one right after the other, and once every save has finished\n"
	"(rdb_bgsave_in_progress:0, rdb_last_bgsave_status:ok) its RDB is\n"
	"copied to DIR/node-PORT/dump.rdb.  DIR/backup.json keeps the time, the\n"
	"slot map (per master: id, address, slot ranges) and each master's key\n"
	"count.  The RDB files are copied from the masters' own directories\n"
	"(CONFIG GET dir): run it on the nodes' host.  A master that keeps no\n"
	"RDB of its own (save \"\") gets its directory back as it was.\n"
	"Every master must answer and no slot may be open or move meanwhile.\n"
	"  --timeout MS   connect and reply timeout per node (default 2000)\n"
	"exit status: 0 backed up, 1 a master is down or a BGSAVE failed\n"
	"(-ERR, MISCONF, a failed save), 2 usage error\n";

static int
run(int argc, char **argv)
{
	static const struct option opts[] = {
		{"timeout", 1, 0, 't'}, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
	struct backup b;
	struct err e = ERR_INIT;
	char host[256];
	int c, port, timeout_ms = 2000;
	size_t i;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			if (cli_parse_int("--timeout", optarg, 10, 600000, &timeout_ms) < 0)
				return EXIT_USAGE;
			break;
		case 'h': fputs(usage, stdout); return EXIT_OK;
		default: return cli_usage_error(&cmd_backup, "bad option for 'backup'");
		}
	}
	if (optind != argc - 2 || cli_parse_addr(argv[optind], host, sizeof(host), &port) < 0)
		return cli_usage_error(&cmd_backup, "expected HOST:PORT and DIR");
	if (backup_take(host, port, argv[optind + 1], timeout_ms, &b, &e) < 0) {
		fprintf(stderr, "shardquake: backup: %s\n", e.msg);
		return EXIT_FINDINGS;
	}
	for (i = 0; i < b.n; i++)
		printf("  %s:%d  %.8s  %zu slot ranges  %lld keys  %s\n", b.m[i].host, b.m[i].port,
		       b.m[i].id, b.m[i].nranges, b.m[i].keys, b.m[i].rdb);
	printf("backup of %zu masters, %lld keys, at %s (%lld ms): %s\n", b.n, backup_keys(&b),
	       b.time, b.done_ms - b.time_ms, argv[optind + 1]);
	backup_release(&b);
	return EXIT_OK;
}

const struct command cmd_backup = {
	.name = "backup",
	.summary = "BGSAVE every master; keep the RDB files and the slot map",
	.usage = usage,
	.run = run,
};
