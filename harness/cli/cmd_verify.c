/*
 * cmd_verify.c - `shardquake verify`: check any reachable cluster.
 */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>

#include "harness/cli/cli.h"
#include "verifier/verify.h"

static const char usage[] =
	"usage: shardquake verify HOST:PORT [--keys N [--seed S] [--value-size B]]\n"
	"                         [--json] [--timeout MS] [--examples N]\n"
	"                         [--no-misplaced]\n"
	"\n"
	"Check the cluster reachable at HOST:PORT (every node is discovered from\n"
	"it): every one of the 16384 slots has one owner, nodes agree, no slot is\n"
	"migrating or importing, cluster_state:ok everywhere, no node failed or\n"
	"unreachable, and no master holds keys of a slot it does not own\n"
	"(misplaced: counted per slot on every master, whatever the number of\n"
	"keys).  With --keys: every key sq:0 .. sq:N-1 is present exactly once,\n"
	"on its slot's owner, with the value the seed gives; findings are lost,\n"
	"unreachable, corrupt, misplaced, duplicated and extra keys.\n"
	"  --keys N          dataset size (as loaded with 'load' or 'cluster up')\n"
	"  --seed S          dataset seed (default 1)\n"
	"  --value-size B    bytes per value (default 32)\n"
	"  --json            print one JSON object instead of the summary\n"
	"  --timeout MS      connect and reply timeout per node (default 2000)\n"
	"  --examples N      examples per finding class (default 5, at most 20)\n"
	"  --no-misplaced    without --keys: skip the per-slot count of keys on\n"
	"                    masters that do not own their slot (a fixed cost of\n"
	"                    one pipelined COUNTKEYSINSLOT per owned slot on\n"
	"                    every master); the check is reported\n"
	"                    as not run\n"
	"exit status: 0 healthy, 1 findings, 2 usage error\n";

struct args {
	struct dataset d;
	struct verify_opts o;
	bool json;
};

static int
parse(int argc, char **argv, struct args *a)
{
	static const struct option opts[] = {
		CLI_DATASET_OPTIONS,
		{"json", 0, 0, 'j'},    {"timeout", 1, 0, 't'}, {"examples", 1, 0, 'x'},
		{"no-misplaced", 0, 0, 'm'}, {"help", 0, 0, 'h'},    {0, 0, 0, 0}};
	int c, rc = 0;

	while (rc == 0 && (c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'k': case 's': case 'v': rc = cli_dataset_opt(c, optarg, &a->d); break;
		case 'j': a->json = true; break;
		case 'm': a->o.no_misplaced = true; break;
		case 't': rc = cli_parse_int("--timeout", optarg, 10, 600000, &a->o.timeout_ms); break;
		case 'x': rc = cli_parse_int("--examples", optarg, 1, VERIFY_EXAMPLES_MAX, &a->o.max_examples); break;
		case 'h': fputs(usage, stdout); return 1;
		default: return cli_usage_error(&cmd_verify, "bad option for 'verify'");
		}
	}
	return rc ? EXIT_USAGE : 0;
}

static int
run(int argc, char **argv)
{
	struct args a = {.d = {0, 1, DATASET_VALUE_DEFAULT}};
	struct verdict v;
	struct err e = ERR_INIT;
	char host[256];
	int port, rc;

	if ((rc = parse(argc, argv, &a)) != 0)
		return rc == 1 ? EXIT_OK : rc;
	if (optind != argc - 1)
		return cli_usage_error(&cmd_verify, "expected one HOST:PORT");
	if (cli_parse_addr(argv[optind], host, sizeof(host), &port) < 0)
		return cli_usage_error(&cmd_verify, "bad address '%s': expected HOST:PORT",
				       argv[optind]);
	a.o.dataset = a.d.keys > 0 ? &a.d : NULL;
	if (verify_cluster(host, port, &a.o, &v, &e) < 0) {
		fprintf(stderr, "shardquake: %s\n", e.msg);
		return EXIT_FINDINGS;
	}
	if (a.json) {
		json_t *j = verdict_to_json(&v);

		json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		fputc('\n', stdout);
		json_decref(j);
	} else {
		verdict_print(stdout, &v);
	}
	rc = verdict_is_healthy(&v) ? EXIT_OK : EXIT_FINDINGS;
	verdict_release(&v);
	return rc;
}

const struct command cmd_verify = {
	.name = "verify",
	.summary = "check slots, nodes and every key of any cluster",
	.usage = usage,
	.run = run,
};
