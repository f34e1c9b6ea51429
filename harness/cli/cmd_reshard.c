/*
 * cmd_reshard.c - `shardquake reshard`: the scenario runner's migration
 * driver on any cluster, like redis-cli --cluster reshard.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "common/clock.h"
#include "harness/cli/cli.h"
#include "harness/reshard/reshard.h"

static const char usage[] =
	"usage: shardquake reshard HOST:PORT --from ID --to ID (--slots N | --slot-list LIST)\n"
	"       shardquake reshard HOST:PORT --to ID --rebalance\n"
	"                          [--pipeline N] [--round N] [--timeout MS] [--replace]\n"
	"\n"
	"Move the first N slots that node ID --from owns, or the slots of LIST\n"
	"(such as 0-99,200) in that order, to node --to with the real protocol:\n"
	"SETSLOT IMPORTING on the target, MIGRATING on the source, GETKEYSINSLOT\n"
	"+ MIGRATE ... KEYS in batches, then SETSLOT NODE on the target, the\n"
	"source and the other masters.  --rebalance: every master that serves\n"
	"slots gives its excess over an even share to --to (a new, empty master,\n"
	"say), highest slots first.  Slots move in rounds: every\n"
	"step is sent for all slots of a round in one pipeline, so the nodes save\n"
	"their config once per round instead of once per slot and step, and the\n"
	"next round opens while one round's keys move.\n"
	"On an error it stops where it is and says where, as redis-cli does; up\n"
	"to two rounds of slots (the one moving and the next; one from a Valkey 8\n"
	"source with replicas) may then be left open (--round 1: one slot).\n"
	"  --pipeline N   keys per MIGRATE (default 1000; redis-cli's is 10)\n"
	"  --round N      slots moved together (default 100; 1 = one at a time)\n"
	"  --timeout MS   per command and MIGRATE timeout (default 5000; a\n                 MIGRATE's answer is awaited 3x that, plus 1 s)\n"
	"  --replace      MIGRATE ... REPLACE (overwrite keys on the target)\n";

static int
on_step(void *arg, const struct reshard_event *ev, struct err *e)
{
	uint64_t *last = arg;
	(void)e;

	if (ev->step == STEP_SLOT_DONE && clock_now_ms() - *last >= 1000) {
		*last = clock_now_ms();
		fprintf(stderr, "reshard: slot %d done (%d so far), %lld keys moved\n",
			ev->slot, ev->slot_index, ev->total_moved);
	}
	return 0;
}

static int
parse(int argc, char **argv, struct reshard_plan *p, int *slots, const char **list,
      bool *rebalance, struct reshard_opts *o)
{
	static const struct option opts[] = {
		{"from", 1, 0, 'f'},     {"to", 1, 0, 't'},     {"slots", 1, 0, 's'},
		{"pipeline", 1, 0, 'p'}, {"timeout", 1, 0, 'T'}, {"replace", 0, 0, 'r'},
		{"round", 1, 0, 'R'},    {"slot-list", 1, 0, 'l'},
		{"rebalance", 0, 0, 'b'},    {"help", 0, 0, 'h'},   {0, 0, 0, 0}};
	int c, rc = 0;

	while (rc == 0 && (c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'f': snprintf(p->source, sizeof(p->source), "%s", optarg); break;
		case 't': snprintf(p->target, sizeof(p->target), "%s", optarg); break;
		case 's': rc = cli_parse_int("--slots", optarg, 1, 16384, slots); break;
		case 'p': rc = cli_parse_int("--pipeline", optarg, 1, 100000, &o->pipeline); break;
		case 'T': rc = cli_parse_int("--timeout", optarg, 10, 600000, &o->timeout_ms); break;
		case 'r': o->replace = true; break;
		case 'l': *list = optarg; break;
		case 'b': *rebalance = true; break;
		case 'R': rc = cli_parse_int("--round", optarg, 1, 16384, &o->slots_per_round); break;
		case 'h': fputs(usage, stdout); return 1;
		default: return cli_usage_error(&cmd_reshard, "bad option for 'reshard'");
		}
	}
	if (rc)
		return EXIT_USAGE;
	if (*rebalance) {
		if (!p->target[0] || p->source[0] || *slots || *list)
			return cli_usage_error(&cmd_reshard, "--rebalance goes with --to only");
	} else if (!p->source[0] || !p->target[0] || (*slots == 0) == (*list == NULL))
		return cli_usage_error(&cmd_reshard,
				       "--from, --to and one of --slots and --slot-list are required");
	return 0;
}

static int
run(int argc, char **argv)
{
	struct reshard_plan plan = {0};
	struct reshard_opts o = {.pipeline = 1000, .timeout_ms = 5000, .slots_per_round = 100};
	struct reshard_progress pr;
	uint64_t last = clock_now_ms(), t0 = last;
	struct reshard_hooks h = {.on_step = on_step, .arg = &last};
	struct err e = ERR_INIT;
	char host[256];
	const char *list = NULL;
	bool rebalance = false;
	int port, slots = 0, rc;

	if ((rc = parse(argc, argv, &plan, &slots, &list, &rebalance, &o)) != 0)
		return rc == 1 ? EXIT_OK : rc;
	if (optind != argc - 1 || cli_parse_addr(argv[optind], host, sizeof(host), &port) < 0)
		return cli_usage_error(&cmd_reshard, "expected one HOST:PORT");
	if ((rebalance ? reshard_plan_rebalance(&plan, host, port, &e)
	     : list    ? reshard_plan_list(&plan, host, port, list, &e)
		       : reshard_plan_count(&plan, host, port, slots, &e)) < 0 ||
	    reshard_run(&plan, host, port, &o, &h, &pr, &e) < 0) {
		fprintf(stderr, "shardquake: reshard: %s\n", e.msg);
		reshard_plan_release(&plan);
		return EXIT_FINDINGS;
	}
	printf("moved %d slots and %lld keys in %llu ms\n", pr.slots_done, pr.keys_moved,
	       (unsigned long long)(clock_now_ms() - t0));
	reshard_plan_release(&plan);
	return EXIT_OK;
}

const struct command cmd_reshard = {
	.name = "reshard",
	.summary = "move slots between masters with the real protocol",
	.usage = usage,
	.run = run,
};
