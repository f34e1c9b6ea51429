/*
 * cmd_load.c - `shardquake load`: write the dataset into any cluster,
 * so that `shardquake verify` can later check every key of it.
 */
#include <getopt.h>
#include <stdio.h>

#include "common/clock.h"
#include "harness/cli/cli.h"
#include "harness/local/load.h"

static const char usage[] =
	"usage: shardquake load HOST:PORT --keys N [--seed S] [--value-size B]\n"
	"                       [--pipeline N]\n"
	"\n"
	"Write keys sq:0 .. sq:N-1 with values derived from the seed to the\n"
	"master owning each key's slot, as HOST:PORT sees the slot map.\n"
	"Existing keys of those names are overwritten.\n"
	"  --keys N          how many keys (required)\n"
	"  --seed S          value seed (default 1)\n"
	"  --value-size B    bytes per value (default 32)\n"
	"  --pipeline N      commands in flight per node (default 1000)\n";

static int
parse(int argc, char **argv, struct dataset *d, int *pipeline)
{
	static const struct option opts[] = {
		CLI_DATASET_OPTIONS,     {"pipeline", 1, 0, 'p'},
		{"help", 0, 0, 'h'},     {0, 0, 0, 0}};
	int c, rc = 0;

	while (rc == 0 && (c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'k': case 's': case 'v': rc = cli_dataset_opt(c, optarg, d); break;
		case 'p': rc = cli_parse_int("--pipeline", optarg, 1, 100000, pipeline); break;
		case 'h': fputs(usage, stdout); return 1;
		default: return cli_usage_error(&cmd_load, "bad option for 'load'");
		}
	}
	return rc ? EXIT_USAGE : 0;
}

static int
run(int argc, char **argv)
{
	struct dataset d = {.keys = 0, .seed = 1, .value_size = DATASET_VALUE_DEFAULT};
	struct err e = ERR_INIT;
	char host[256];
	int port, pipeline = 1000, rc;
	uint64_t t0, ms;

	if ((rc = parse(argc, argv, &d, &pipeline)) != 0)
		return rc == 1 ? EXIT_OK : rc;
	if (optind != argc - 1)
		return cli_usage_error(&cmd_load, "expected one HOST:PORT");
	if (cli_parse_addr(argv[optind], host, sizeof(host), &port) < 0)
		return cli_usage_error(&cmd_load, "bad address '%s': expected HOST:PORT",
				       argv[optind]);
	if (d.keys == 0)
		return cli_usage_error(&cmd_load, "--keys is required");
	t0 = clock_now_ms();
	if (dataset_load(&d, host, port, pipeline, &e) < 0) {
		fprintf(stderr, "shardquake: load: %s\n", e.msg);
		return EXIT_FINDINGS;
	}
	ms = clock_now_ms() - t0;
	printf("loaded %lld keys (seed %llu, %zu-byte values) in %llu ms, %.0f keys/s\n",
	       d.keys, (unsigned long long)d.seed, d.value_size,
	       (unsigned long long)ms, ms ? (double)d.keys * 1000.0 / (double)ms : 0.0);
	return EXIT_OK;
}

const struct command cmd_load = {
	.name = "load",
	.summary = "load the seeded dataset into any cluster",
	.usage = usage,
	.run = run,
};
