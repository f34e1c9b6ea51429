/*
 * cmd_incident.c - `shardquake incident import`: the files an operator
 * saved from a broken cluster, turned into a scenario that rebuilds it.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "harness/cli/cli.h"
#include "harness/incident/incident.h"
#include "harness/scenario/scenario.h"

static const char usage[] =
	"usage: shardquake incident import [-o FILE] [--name NAME] [--keys N]\n"
	"                                  [--moved P] [--node-timeout MS]\n"
	"                                  [--engine shardquake|redis-cli|exec]\n"
	"                                  [--command CMD] FILE...\n"
	"\n"
	"Write a scenario that rebuilds a broken cluster locally, from what was\n"
	"saved while it was broken: the CLUSTER NODES of each node that could be\n"
	"reached (redis-cli -h HOST -p PORT cluster nodes > FILE), and optionally\n"
	"CLUSTER INFO and redis-cli --cluster check output (recognised by their\n"
	"content, named in the scenario's comments, not otherwise used).  The\n"
	"scenario's [layout] has the same masters and replicas, slot ranges\n"
	"(uncovered ones too), open slots in the same direction, and the same\n"
	"nodes failed; 'shardquake run' on it rehearses the repair.\n"
	"Masters are numbered by their first slot.  Where views disagree, the\n"
	"newest config epoch decides a slot's owner and a node's own file its\n"
	"role; a node is failed when another flags it fail, fail? or noaddr and\n"
	"no file came from it; a replica of a failed master that still serves\n"
	"slots is kept from promoting itself (nofailover).  Each such choice is\n"
	"a comment in the scenario.\n"
	"  -o, --output FILE    write the scenario there (default: stdout); the\n"
	"                       file is loaded back as a check\n"
	"  --name NAME          [scenario] name (default incident)\n"
	"  --keys N             [data] keys (default 200000: keys in every slot)\n"
	"  --moved P            share of an open slot's keys moved, in percent\n"
	"                       (default 50: CLUSTER NODES does not say)\n"
	"  --node-timeout MS    [cluster] node_timeout (default 1000)\n"
	"  --engine E           [repair] engine (default shardquake, with salvage\n"
	"                       when a node failed)\n"
	"  --command CMD        the runbook, with --engine exec\n"
	"exit status: 0 written, 1 bad or inconsistent input (FILE:LINE: what is\n"
	"wrong), 2 usage error\n";

struct args {
	const char *out;
	struct incident_opts o;
};

static bool
good_name(const char *s)
{
	return *s && strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-_.") == strlen(s);
}

static int
parse(int argc, char **argv, struct args *a)
{
	static const struct option opts[] = {
		{"output", 1, 0, 'o'}, {"name", 1, 0, 'n'},    {"keys", 1, 0, 'k'},
		{"moved", 1, 0, 'm'},  {"engine", 1, 0, 'e'},  {"command", 1, 0, 'c'},
		{"node-timeout", 1, 0, 't'}, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
	int c, rc = 0;

	while (rc == 0 && (c = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
		switch (c) {
		case 'o': a->out = optarg; break;
		case 'n':
			if (!good_name(optarg))
				return cli_usage_error(&cmd_incident, "--name '%s': expected letters "
						       "a-z, digits, '-', '_' or '.'", optarg);
			a->o.name = optarg;
			break;
		case 'k': rc = cli_parse_ll("--keys", optarg, 0, 100000000, &a->o.keys); break;
		case 'm': rc = cli_parse_int("--moved", optarg, 0, 100, &a->o.moved_pct); break;
		case 't': rc = cli_parse_int("--node-timeout", optarg, 100, 600000, &a->o.node_timeout_ms); break;
		case 'e':
			if (strcmp(optarg, "shardquake") && strcmp(optarg, "redis-cli") &&
			    strcmp(optarg, "exec"))
				return cli_usage_error(&cmd_incident, "--engine '%s': expected "
						       "shardquake, redis-cli or exec", optarg);
			a->o.engine = optarg;
			break;
		case 'c': a->o.command = optarg; break;
		case 'h': fputs(usage, stdout); return 1;
		default: return cli_usage_error(&cmd_incident, "bad option for 'incident import'");
		}
	}
	if (rc)
		return EXIT_USAGE;
	if ((strcmp(a->o.engine, "exec") == 0) != (a->o.command != NULL))
		return cli_usage_error(&cmd_incident, "--engine exec and --command go together");
	if (a->o.command && strchr(a->o.command, '\n'))
		return cli_usage_error(&cmd_incident, "--command: one line");
	return 0;
}

/* The written file read back as a scenario: what import writes must run. */
static int
check_written(const char *path)
{
	struct err e = ERR_INIT;
	struct scenario *s = scenario_load(path, &e);

	if (s == NULL) {
		fprintf(stderr, "shardquake: the scenario written does not load (a bug): %s\n",
			e.msg);
		return -1;
	}
	scenario_free(s);
	return 0;
}

static int
import(struct args *a, int n, char **files)
{
	struct incident inc = INCIDENT_INIT;
	struct err e = ERR_INIT;
	FILE *f = stdout;
	int i, rc = EXIT_FINDINGS;

	for (i = 0; i < n; i++)
		if (incident_add_file(&inc, files[i], &e) < 0)
			goto out;
	if (incident_merge(&inc, &e) < 0)
		goto out;
	if (a->out && (f = fopen(a->out, "w")) == NULL) {
		err_set(&e, errno, "open '%s': %s", a->out, strerror(errno));
		goto out;
	}
	if (incident_write(&inc, &a->o, f, &e) < 0)
		goto out_close;
	rc = EXIT_OK;
out_close:
	if (f != stdout && fclose(f) != 0 && rc == EXIT_OK) {
		err_set(&e, errno, "write '%s': %s", a->out, strerror(errno));
		rc = EXIT_FINDINGS;
	}
	if (rc == EXIT_OK && a->out && check_written(a->out) < 0)
		rc = EXIT_FINDINGS;
out:
	if (rc != EXIT_OK && e.msg[0])
		fprintf(stderr, "shardquake: %s\n", e.msg);
	incident_release(&inc);
	return rc;
}

static int
run(int argc, char **argv)
{
	struct args a = {.o = {.keys = 200000, .moved_pct = 50, .engine = "shardquake",
			       .node_timeout_ms = 1000}};
	int rc;

	if (argc < 2 || cli_is_help(argv[1])) {
		if (argc < 2)
			return cli_usage_error(&cmd_incident, "expected 'import'");
		fputs(usage, stdout);
		return EXIT_OK;
	}
	if (strcmp(argv[1], "import") != 0)
		return cli_usage_error(&cmd_incident, "unknown subcommand '%s': expected import",
				       argv[1]);
	if ((rc = parse(argc - 1, argv + 1, &a)) != 0)
		return rc == 1 ? EXIT_OK : rc;
	if (optind >= argc - 1)
		return cli_usage_error(&cmd_incident, "expected the files saved from the cluster");
	return import(&a, argc - 1 - optind, argv + 1 + optind);
}

const struct command cmd_incident = {
	.name = "incident",
	.summary = "import a broken cluster's CLUSTER NODES as a scenario",
	.usage = usage,
	.run = run,
};
