/*
 * cmd_reshard.c - `shardquake reshard`: the scenario runner's migration
 * driver on any cluster, like redis-cli --cluster reshard.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "common/clock.h"
#include "harness/cli.h"
#include "harness/reshard.h"

static const char usage[] =
	"usage: shardquake reshard HOST:PORT --from ID --to ID --slots N\n"
	"                          [--pipeline N] [--timeout MS] [--replace]\n"
	"\n"
	"Move the first N slots that node ID --from owns to node --to, one slot\n"
	"at a time with the real protocol: SETSLOT IMPORTING on the target,\n"
	"MIGRATING on the source, GETKEYSINSLOT + MIGRATE ... KEYS in batches,\n"
	"then SETSLOT NODE on the target, the source and the other masters.\n"
	"On an error it stops where it is and says where, as redis-cli does.\n"
	"  --pipeline N   keys per MIGRATE (default 10, as redis-cli)\n"
	"  --timeout MS   per command and MIGRATE timeout (default 5000)\n"
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
parse(int argc, char **argv, struct reshard_plan *p, int *slots,
      struct reshard_opts *o)
{
	static const struct option opts[] = {
		{"from", 1, 0, 'f'},     {"to", 1, 0, 't'},     {"slots", 1, 0, 's'},
		{"pipeline", 1, 0, 'p'}, {"timeout", 1, 0, 'T'}, {"replace", 0, 0, 'r'},
		{"help", 0, 0, 'h'},     {0, 0, 0, 0}};
	int c, rc = 0;

	while (rc == 0 && (c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'f': snprintf(p->source, sizeof(p->source), "%s", optarg); break;
		case 't': snprintf(p->target, sizeof(p->target), "%s", optarg); break;
		case 's': rc = cli_parse_int("--slots", optarg, 1, 16384, slots); break;
		case 'p': rc = cli_parse_int("--pipeline", optarg, 1, 100000, &o->pipeline); break;
		case 'T': rc = cli_parse_int("--timeout", optarg, 10, 600000, &o->timeout_ms); break;
		case 'r': o->replace = true; break;
		case 'h': fputs(usage, stdout); return 1;
		default: return cli_usage_error(&cmd_reshard, "bad option for 'reshard'");
		}
	}
	if (rc)
		return EXIT_USAGE;
	if (!p->source[0] || !p->target[0] || *slots == 0)
		return cli_usage_error(&cmd_reshard, "--from, --to and --slots are required");
	return 0;
}

static int
run(int argc, char **argv)
{
	struct reshard_plan plan = {0};
	struct reshard_opts o = {10, 5000, false};
	struct reshard_progress pr;
	uint64_t last = clock_now_ms(), t0 = last;
	struct reshard_hooks h = {.on_step = on_step, .arg = &last};
	struct err e = ERR_INIT;
	char host[256];
	int port, slots = 0, rc;

	if ((rc = parse(argc, argv, &plan, &slots, &o)) != 0)
		return rc == 1 ? EXIT_OK : rc;
	if (optind != argc - 1 || cli_parse_addr(argv[optind], host, sizeof(host), &port) < 0)
		return cli_usage_error(&cmd_reshard, "expected one HOST:PORT");
	if (reshard_plan_count(&plan, host, port, slots, &e) < 0 ||
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
