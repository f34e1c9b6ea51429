/*
 * cmd_replay.c - `shardquake replay RESULTS_DIR`: play a recorded run
 * again, with the same scenario (the copy kept beside its results), the
 * same seed (so the same dataset) and the same fault points, and say
 * whether the outcome matched.
 *
 * Compared, from the two report.json: the result; where the reshard
 * stopped (slots done, slot and step); each fault: fired or not, and at
 * which slot, step and key; each expectation, passed or not; whether the
 * verifier found the cluster healthy.  Counts that depend on timing
 * (milliseconds, keys of unknown outcome) are not compared.
 */
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness/cli/cli.h"
#include "cluster/server.h"
#include "harness/run/runner.h"
#include "harness/scenario/scenario.h"

static const char usage[] =
	"usage: shardquake replay RESULTS_DIR [--results DIR] [--server S]\n"
	"\n"
	"Play a recorded run again: the scenario as it was played (RESULTS_DIR/\n"
	"scenario.ini), its seed (the same dataset) and its fault points; then\n"
	"compare the outcome with RESULTS_DIR/report.json: the result, where the\n"
	"reshard stopped, where each fault fired, each expectation, and the\n"
	"verifier's verdict.  Each difference is printed.  Timings and counts\n"
	"that depend on them are not compared.\n"
	"  --results DIR       where the new run is written (default results)\n"
	"  --server S          redis, valkey or a server binary's PATH (default:\n"
	"                      the server of the recorded run); --redis-server\n"
	"                      PATH is the same\n"
	"exit status: 0 the outcome matched, 1 it differs (or the run failed\n"
	"to play), 2 bad input, 3 this machine cannot play it\n";

/* The value at "a.b.c" of o (array items by number), or NULL. */
static json_t *
at(json_t *o, const char *path)
{
	char buf[128], *save = NULL, *part;

	snprintf(buf, sizeof(buf), "%s", path);
	for (part = strtok_r(buf, ".", &save); part && o; part = strtok_r(NULL, ".", &save))
		o = json_is_array(o) ? json_array_get(o, strtoul(part, NULL, 10))
				     : json_object_get(o, part);
	return o;
}

/* Prints and counts one difference at `path`. */
static int
differ(json_t *was, json_t *now, const char *path)
{
	json_t *a = at(was, path), *b = at(now, path);
	char *sa, *sb;

	if ((a == NULL && b == NULL) || (a && b && json_equal(a, b)))
		return 0;
	sa = a ? json_dumps(a, JSON_ENCODE_ANY | JSON_COMPACT) : strdup("(none)");
	sb = b ? json_dumps(b, JSON_ENCODE_ANY | JSON_COMPACT) : strdup("(none)");
	printf("  differs  %s: was %s, now %s\n", path, sa, sb);
	free(sa);
	free(sb);
	return 1;
}

static int
compare(json_t *was, json_t *now)
{
	static const char *const fields[] = {
		"result", "reshard.completed", "reshard.slots_done", "reshard.stopped_at.slot",
		"reshard.stopped_at.step", "verdict.healthy", NULL};
	static const char *const fault_fields[] = {"fired", "at.slot", "at.step", "at.slot_moved",
						   NULL};
	json_t *fa = json_object_get(was, "faults"), *ea = json_object_get(was, "expectations");
	char path[96];
	size_t i, n;
	int d = 0, k;

	for (k = 0; fields[k]; k++)
		d += differ(was, now, fields[k]);
	n = json_array_size(fa) > json_array_size(json_object_get(now, "faults"))
		    ? json_array_size(fa) : json_array_size(json_object_get(now, "faults"));
	for (i = 0; i < n; i++)
		for (k = 0; fault_fields[k]; k++) {
			snprintf(path, sizeof(path), "faults.%zu.%s", i, fault_fields[k]);
			d += differ(was, now, path);
		}
	n = json_array_size(ea) > json_array_size(json_object_get(now, "expectations"))
		    ? json_array_size(ea) : json_array_size(json_object_get(now, "expectations"));
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "expectations.%zu.name", i);
		d += differ(was, now, path);
		snprintf(path, sizeof(path), "expectations.%zu.passed", i);
		d += differ(was, now, path);
	}
	return d;
}

/* The recorded report, the scenario as played and its seed. */
static int
load_recorded(const char *dir, json_t **report, struct scenario **s, struct run_opts *o)
{
	char path[PATH_MAX + 32];
	const char *file;
	json_error_t je;
	struct err e = ERR_INIT;
	json_int_t seed;

	snprintf(path, sizeof(path), "%s/report.json", dir);
	if ((*report = json_load_file(path, 0, &je)) == NULL && je.line > 0)
		return cli_usage_error(&cmd_replay, "%s:%d: %s", path, je.line, je.text);
	if (*report == NULL)
		return cli_usage_error(&cmd_replay, "'%s': %s: not a run's results directory",
				       path, je.text);
	if (json_unpack(*report, "{s:I, s:{s:s}}", "seed", &seed, "scenario", "file", &file) < 0)
		return cli_usage_error(&cmd_replay, "'%s': no seed or scenario file in it", path);
	/* the same server, unless told (runs recorded before: Redis) */
	if (o->redis_server == NULL)
		o->redis_server = json_string_value(json_object_get(*report, "server_binary"));
	snprintf(path, sizeof(path), "%s/scenario.ini", dir);
	if (access(path, R_OK) != 0) /* a run recorded before copies were kept */
		snprintf(path, sizeof(path), "%s", file);
	if ((*s = scenario_load(path, &e)) == NULL)
		return cli_usage_error(&cmd_replay, "%s", e.msg);
	/* a runbook's command runs where the scenario file was */
	free((*s)->path);
	(*s)->path = strdup(file);
	o->has_seed = true;
	o->seed = (uint64_t)seed;
	return 0;
}

static int
run(int argc, char **argv)
{
	static const struct option opts[] = {
		{"results", 1, 0, 'r'}, {"redis-server", 1, 0, 'S'}, {"server", 1, 0, 'S'}, {"help", 0, 0, 'h'}, {0}};
	struct run_opts o = {.results = "results"};
	struct scenario *s = NULL;
	struct run_result r;
	json_t *was = NULL, *now = NULL;
	char path[PATH_MAX + 32];
	json_error_t je;
	int c, rc, d;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'r': o.results = optarg; break;
		case 'S': o.redis_server = server_binary(optarg); break;
		case 'h': fputs(usage, stdout); return EXIT_OK;
		default: return cli_usage_error(&cmd_replay, "bad option for 'replay'");
		}
	}
	if (optind != argc - 1)
		return cli_usage_error(&cmd_replay, "'replay' takes one results directory");
	if ((rc = load_recorded(argv[optind], &was, &s, &o)) != 0) {
		json_decref(was);
		return rc;
	}
	printf("replay of %s: %s, seed %llu\n", argv[optind], s->name,
	       (unsigned long long)o.seed);
	rc = cli_play(&s, 1, &o, &r);
	if (r.status == RUN_SKIPPED || rc == EXIT_NOCAP || rc == EXIT_USAGE) {
		rc = rc == EXIT_OK ? EXIT_NOCAP : rc;
		goto out;
	}
	snprintf(path, sizeof(path), "%s/report.json", r.dir);
	if ((now = json_load_file(path, 0, &je)) == NULL) {
		fprintf(stderr, "shardquake: '%s': %s\n", path, je.text);
		rc = EXIT_FINDINGS;
		goto out;
	}
	d = compare(was, now);
	if (d == 0)
		printf("replay: the outcome matched (%s)\n", json_string_value(at(now, "result")));
	else
		printf("replay: %d difference%s from the recorded run\n", d, d == 1 ? "" : "s");
	rc = d ? EXIT_FINDINGS : EXIT_OK;
out:
	json_decref(was);
	json_decref(now);
	scenario_free(s);
	return rc;
}

const struct command cmd_replay = {
	.name = "replay",
	.summary = "play a recorded run again and say whether the outcome matched",
	.usage = usage,
	.run = run,
};
