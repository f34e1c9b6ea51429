/*
 * cmd_run.c - `shardquake run` and `shardquake list`: the scenario
 * library, played and listed.
 */
#include <errno.h>
#include <getopt.h>
#include <glob.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/fs.h"
#include "common/xmalloc.h"
#include "cluster/server.h"
#include "harness/cli/cli.h"
#include "harness/report/report.h"
#include "harness/run/runner.h"
#include "injectors/netns.h"

#define SCENARIO_GLOB "scenarios/*.ini"

static const char run_usage[] =
	"usage: shardquake run [--seed S] [--keep] [--results DIR]\n"
	"                      [--server S] [SCENARIO.ini...]\n"
	"       shardquake run --check [SCENARIO.ini...]\n"
	"\n"
	"Play each scenario: start a local cluster, load its dataset, start its\n"
	"live writers, reshard, fire its faults at their protocol steps, wait for\n"
	"the cluster to notice, repair (the bundled engine, redis-cli, or your\n"
	"runbook), verify, read the writers' ledger back, and check the\n"
	"scenario's [expect].  Without files: the quick suite, every\n"
	SCENARIO_GLOB " with quick = yes.  Each run writes\n"
	"DIR/<name>-<time>-<pid>/ with report.json, report.html, junit.xml,\n"
	"timeline.log, ledger.tsv (with a workload) and every node's directory\n"
	"and log;\n"
	"DIR/summary.json, DIR/junit.xml and DIR/index.html cover the whole\n"
	"invocation.\n"
	"  --seed S            override the scenarios' seeds\n"
	"  --keep              leave the cluster running after the run\n"
	"  --results DIR       where runs are written (default results)\n"
	"  --server S          redis, valkey (redis-server or valkey-server on\n"
	"                      PATH) or the PATH of a server binary (default:\n"
	"                      the scenario's [cluster] server, else\n"
	"                      $SHARDQUAKE_SERVER, else redis); junit names end\n"
	"                      in \" [valkey]\" on Valkey; --redis-server PATH\n"
	"                      is the same\n"
	"  --check             only read and check the files (default: every\n"
	"                      " SCENARIO_GLOB "), each error as FILE:LINE: ...;\n"
	"                      nothing starts; exit 0 all good, 2 not\n"
	"exit status: 0 all passed, 1 a scenario failed, 2 a bad scenario file,\n"
	"3 skipped: no such server here, or a fault needs what this machine\n"
	"lacks (root, a memory cgroup, seccomp user notification), and nothing\n"
	"else ran\n";

static const char list_usage[] =
	"usage: shardquake list\n"
	"\n"
	"Every scenario in " SCENARIO_GLOB ": its name, 'quick' where it is in the\n"
	"quick suite, and its description.\n";

static volatile sig_atomic_t interrupted;

static void
on_signal(int sig)
{
	if (interrupted) { /* a second signal: stop now (nodes die with us) */
		signal(sig, SIG_DFL);
		raise(sig);
	}
	interrupted = 1;
}

/* Loads every file; on the first bad one prints why and returns -1. */
static int
load_all(char **files, size_t n, bool only_quick, struct scenario ***out, size_t *nout)
{
	struct scenario **v = xcalloc(n + 1, sizeof(*v));
	struct err e = ERR_INIT;
	size_t i, k = 0;

	for (i = 0; i < n; i++) {
		struct scenario *s = scenario_load(files[i], &e);

		if (s == NULL) {
			fprintf(stderr, "shardquake: %s\n", e.msg);
			while (k > 0)
				scenario_free(v[--k]);
			free(v);
			return -1;
		}
		if (only_quick && !s->quick)
			scenario_free(s);
		else
			v[k++] = s;
	}
	*out = v;
	*nout = k;
	return 0;
}

/* run --check: every file read and checked as a run would, none played;
 * each bad one said (not only the first), each good one named. */
static int
check_all(char **files, size_t n)
{
	struct err e = ERR_INIT;
	size_t i, bad = 0;

	for (i = 0; i < n; i++) {
		struct scenario *s = scenario_load(files[i], &e);

		if (s == NULL) {
			fprintf(stderr, "shardquake: %s\n", e.msg);
			bad++;
			continue;
		}
		printf("%s: ok (%s, %zu fault%s)\n", files[i], s->name, s->nfaults,
		       s->nfaults == 1 ? "" : "s");
		scenario_free(s);
	}
	printf("%zu file%s checked, %zu bad\n", n, n == 1 ? "" : "s", bad);
	return bad ? EXIT_USAGE : EXIT_OK;
}

/* Scenarios in network namespaces need the harness in a private one of
 * its own first, before any thread starts: then the bridge, the veths
 * and the nodes' namespaces end with it, even after kill -9.  Where that
 * is refused (not root), they are skipped with the reason.  --keep
 * cannot keep such a cluster: it ends with the run; nor one whose node
 * needs the harness to run (a disk fault's supervisor). */
static int
network(struct scenario **v, size_t n, struct run_opts *o, char *why, size_t len)
{
	struct err e = ERR_INIT;
	size_t i;

	for (i = 0; o->keep && i < n; i++) {
		size_t k;

		for (k = 0; k < v[i]->nfaults; k++)
			if (v[i]->faults[k].ops->flags & INJ_HARNESS_BOUND)
				return cli_usage_error(&cmd_run, "--keep: %s has a %s fault, whose "
						       "node needs the run to go on",
						       v[i]->path, v[i]->faults[k].ops->name);
	}
	for (i = 0; i < n && v[i]->network != NET_NETNS; i++)
		;
	if (i == n)
		return 0;
	if (o->keep)
		return cli_usage_error(&cmd_run, "--keep: %s runs in network namespaces, which end "
				       "with the run", v[i]->path);
	if (netns_enter_private(&e) < 0) {
		snprintf(why, len, "%s", e.msg);
		o->no_netns = why;
	}
	return 0;
}

static int
parse(int argc, char **argv, struct run_opts *o, bool *check)
{
	static const struct option opts[] = {
		{"seed", 1, 0, 's'}, {"keep", 0, 0, 'k'}, {"results", 1, 0, 'r'},
		{"redis-server", 1, 0, 'R'}, {"server", 1, 0, 'R'}, {"check", 0, 0, 'c'},
		{"help", 0, 0, 'h'}, {0, 0, 0, 0}};
	long long ll;
	int c;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (cli_parse_ll("--seed", optarg, 0, INT64_MAX, &ll) < 0)
				return EXIT_USAGE;
			o->seed = (uint64_t)ll;
			o->has_seed = true;
			break;
		case 'k': o->keep = true; break;
		case 'r': o->results = optarg; break;
		case 'R': o->redis_server = server_binary(optarg); break;
		case 'c': *check = true; break;
		case 'h': fputs(run_usage, stdout); return 1;
		default: return cli_usage_error(&cmd_run, "bad option for 'run'");
		}
	}
	return 0;
}

/* top/index.html: every run linked to its report.html. */
static void
index_write(struct scenario **v, const struct run_result *r, size_t n, const char *top)
{
	json_t *index = summary_json((const struct scenario *const *)v, r, n);
	struct err e = ERR_INIT;

	if (report_index_write(index, top, &e) < 0)
		fprintf(stderr, "shardquake: %s\n", e.msg);
	json_decref(index);
}

/* Plays the scenarios (none when `skip` says why they cannot run);
 * junit.xml and summary.json list every one, those not played as
 * skipped. */
static int
play(struct scenario **v, size_t n, const struct run_opts *o, const char *skip,
     struct run_result *out)
{
	struct run_result *r = xcalloc(n + 1, sizeof(*r));
	size_t i, passed = 0, failed = 0, skipped, lacking = 0;
	const char *top = o->results ? o->results : "results";
	char path[PATH_MAX + 32];
	struct err e = ERR_INIT;

	for (i = 0; skip == NULL && i < n && !interrupted; i++) {
		runner_run(v[i], o, &r[i]);
		passed += r[i].status == RUN_PASSED;
		failed += r[i].status == RUN_FAILED;
		lacking += r[i].status == RUN_SKIPPED; /* a fault this machine cannot do */
	}
	skipped = n - i + lacking;
	for (; i < n; i++) {
		r[i].status = RUN_SKIPPED;
		server_label(runner_server(v[i], o), r[i].server, sizeof(r[i].server));
		snprintf(r[i].reason, sizeof(r[i].reason), "%s",
			 skip ? skip : "not played: the run was interrupted");
	}
	snprintf(path, sizeof(path), "%s/junit.xml", top);
	if (fs_mkdir_p(top, &e) < 0 ||
	    junit_write(path, (const struct scenario *const *)v, r, n, &e) < 0)
		fprintf(stderr, "shardquake: %s\n", e.msg);
	snprintf(path, sizeof(path), "%s/summary.json", top);
	if (summary_write(path, (const struct scenario *const *)v, r, n, &e) < 0)
		fprintf(stderr, "shardquake: %s\n", e.msg);
	index_write(v, r, n, top);
	printf("%zu passed, %zu failed", passed, failed);
	if (skipped)
		printf(", %zu skipped%s%s", skipped, skip ? ": " : "", skip ? skip : "");
	printf("%s\n", interrupted ? " (interrupted)" : "");
	if (out)
		memcpy(out, r, n * sizeof(*r));
	free(r);
	if (failed || interrupted)
		return EXIT_FINDINGS;
	/* skipped, and nothing else ran: the machine lacks what they need */
	if (skip || (lacking && passed == 0))
		return EXIT_NOCAP;
	return EXIT_OK;
}

int
cli_play(struct scenario **v, size_t n, struct run_opts *o, struct run_result *out)
{
	char no_netns[ERR_MSG_MAX];
	int rc;

	o->interrupted = &interrupted;
	if ((rc = network(v, n, o, no_netns, sizeof(no_netns))) != 0)
		return rc;
	/* a server the command line names plays every scenario; else each
	 * scenario's own, or $SHARDQUAKE_SERVER's, is checked as it plays */
	if (o->redis_server && !server_installed(o->redis_server)) {
		char why[PATH_MAX + 32];

		snprintf(why, sizeof(why), "no %s here", o->redis_server);
		return play(v, n, o, why, out);
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	return play(v, n, o, NULL, out);
}

static int
run(int argc, char **argv)
{
	struct run_opts o = {.results = "results", .interrupted = &interrupted};
	struct scenario **v = NULL;
	glob_t g = {0};
	size_t n = 0, i;
	bool check = false;
	int rc;

	if ((rc = parse(argc, argv, &o, &check)) != 0)
		return rc == 1 ? EXIT_OK : rc;
	if (check && optind < argc)
		return check_all(argv + optind, (size_t)(argc - optind));
	if (check) {
		if (glob(SCENARIO_GLOB, 0, NULL, &g) != 0)
			return cli_usage_error(&cmd_run, "no scenario given and none in %s",
					       SCENARIO_GLOB);
		rc = check_all(g.gl_pathv, g.gl_pathc);
		globfree(&g);
		return rc;
	}
	if (optind < argc)
		rc = load_all(argv + optind, (size_t)(argc - optind), false, &v, &n);
	else if (glob(SCENARIO_GLOB, 0, NULL, &g) == 0)
		rc = load_all(g.gl_pathv, g.gl_pathc, true, &v, &n);
	else
		return cli_usage_error(&cmd_run, "no scenario given and none in %s", SCENARIO_GLOB);
	globfree(&g);
	if (rc < 0)
		return EXIT_USAGE;
	rc = cli_play(v, n, &o, NULL);
	for (i = 0; i < n; i++)
		scenario_free(v[i]);
	free(v);
	return rc;
}

static int
list(int argc, char **argv)
{
	struct scenario **v = NULL;
	glob_t g = {0};
	size_t n = 0, i;

	if (argc > 1 && cli_is_help(argv[1])) {
		fputs(list_usage, stdout);
		return EXIT_OK;
	}
	if (argc > 1)
		return cli_usage_error(&cmd_list, "unexpected argument '%s'", argv[1]);
	if (glob(SCENARIO_GLOB, 0, NULL, &g) != 0)
		return cli_usage_error(&cmd_list, "no scenarios in %s", SCENARIO_GLOB);
	if (load_all(g.gl_pathv, g.gl_pathc, false, &v, &n) < 0) {
		globfree(&g);
		return EXIT_USAGE;
	}
	globfree(&g);
	for (i = 0; i < n; i++) {
		printf("%-34s %-6s %s\n", v[i]->name, v[i]->quick ? "quick" : "",
		       v[i]->description ? v[i]->description : "");
		scenario_free(v[i]);
	}
	free(v);
	return EXIT_OK;
}

const struct command cmd_run = {
	.name = "run",
	.summary = "play failure scenarios and check their verdicts",
	.usage = run_usage,
	.run = run,
};

const struct command cmd_list = {
	.name = "list",
	.summary = "list the shipped scenarios",
	.usage = list_usage,
	.run = list,
};
