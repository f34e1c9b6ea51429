/*
 * cmd_matrix.c - `shardquake matrix`: the crash-point matrix (matrix.h)
 * played, and a table of which cells ended healthy with nothing lost.
 *
 * Each cell's scenario is written to DIR/cells/NAME.ini and played as
 * `run` plays a file; with --jobs J, J processes share the cells (each
 * its own results under DIR/job-J/, its own network namespace where a
 * cell needs one; ports are free ones, so nothing clashes).  The table,
 * and DIR/index.html with the same table coloured and every run linked,
 * come from the summary.json each job writes.
 */
#include <errno.h>
#include <getopt.h>
#include <glob.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/fs.h"
#include "common/xmalloc.h"
#include "harness/cli/cli.h"
#include "harness/report/report.h"
#include "harness/run/runner.h"
#include "harness/scenario/matrix.h"
#include "harness/scenario/scenario.h"

static const char usage[] =
	"usage: shardquake matrix [--kinds K,..] [--steps S,..] [--roles R,..]\n"
	"                         [--servers redis,valkey]\n"
	"                         [--engine shardquake|redis-cli|exec] [--command CMD]\n"
	"                         [--shard I/N] [--jobs J] [--results DIR] [--list]\n"
	"\n"
	"Play every fault kind x protocol step x node role (source, target and\n"
	"bystander with and without a replica each, and the replicas of source\n"
	"and target) as generated scenarios: 3 masters, 20000 keys, 3 slots from\n"
	"master 0 to master 1, the fault on the 2nd slot, then the repair; each\n"
	"cell must end healthy with nothing lost.  A table follows: ok, lost\n"
	"(keys lost), fail (another expectation), skip (this machine cannot do\n"
	"the fault), and each cell that is not ok with its reason; DIR/index.html\n"
	"has the table coloured, each cell linked to its run's report.html.\n"
	"  --kinds, --steps, --roles  narrow the matrix (comma-separated)\n"
	"  --servers S,..     one more axis: redis (Redis 7.0, the default) and\n"
	"                     valkey (Valkey 8); a Valkey cell's name ends in\n"
	"                     -valkey, its row in [valkey]\n"
	"  --engine E         the repair (default shardquake, with salvage)\n"
	"  --command CMD      engine exec: your runbook, run by sh -c from here\n"
	"  --shard I/N        only the cells whose number is I modulo N: N jobs\n"
	"                     of a CI pipeline split the matrix exactly\n"
	"  --jobs J           J cells at once (default 1)\n"
	"  --results DIR      where the cells and their runs go\n"
	"                     (default results/matrix-TIME-PID)\n"
	"  --list             print the cells, one a line, and play nothing\n"
	"On a terminal, one line tells the cells done, the failures and the\n"
	"time left (plain lines when not a terminal, or with CI=true).\n"
	"exit status: 0 every cell played ok (or skipped), 1 a cell did not,\n"
	"2 usage\n";

struct args {
	struct matrix_opts m;
	char kinds[512], steps[512], roles[512], servers[128];
	const char *results;
	int jobs;
	bool list;
};

static int
parse_shard(const char *v, struct matrix_opts *m)
{
	int i, n, used = 0;

	if (sscanf(v, "%d/%d%n", &i, &n, &used) != 2 || v[used] || n < 1 || i < 1 || i > n)
		return cli_usage_error(&cmd_matrix, "--shard '%s': expected I/N with 1 <= I <= N", v);
	m->shard = i;
	m->nshards = n;
	return 0;
}

static int
parse(int argc, char **argv, struct args *a)
{
	static const struct option opts[] = {
		{"kinds", 1, 0, 'k'}, {"steps", 1, 0, 's'}, {"roles", 1, 0, 'r'},
		{"engine", 1, 0, 'e'}, {"command", 1, 0, 'c'}, {"shard", 1, 0, 'S'},
		{"jobs", 1, 0, 'j'}, {"results", 1, 0, 'R'}, {"list", 0, 0, 'l'},
		{"servers", 1, 0, 'V'}, {"help", 0, 0, 'h'}, {0}};
	struct err e = ERR_INIT;
	int c;

	optind = 1;
	a->jobs = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'k': snprintf(a->kinds, sizeof(a->kinds), "%s", optarg); break;
		case 's': snprintf(a->steps, sizeof(a->steps), "%s", optarg); break;
		case 'r': snprintf(a->roles, sizeof(a->roles), "%s", optarg); break;
		case 'V': snprintf(a->servers, sizeof(a->servers), "%s", optarg); break;
		case 'e': a->m.engine = optarg; break;
		case 'c': a->m.command = optarg; break;
		case 'S':
			if (parse_shard(optarg, &a->m) != 0)
				return EXIT_USAGE;
			break;
		case 'j':
			if (cli_parse_int("--jobs", optarg, 1, 64, &a->jobs) < 0)
				return EXIT_USAGE;
			break;
		case 'R': a->results = optarg; break;
		case 'l': a->list = true; break;
		case 'h': fputs(usage, stdout); return -1;
		default: return cli_usage_error(&cmd_matrix, "bad option for 'matrix'");
		}
	}
	if (optind < argc)
		return cli_usage_error(&cmd_matrix, "'matrix' takes no file: '%s'", argv[optind]);
	if ((a->kinds[0] && matrix_list("--kinds", a->kinds, matrix_kinds, a->m.kinds,
					&a->m.nkinds, &e) < 0) ||
	    (a->steps[0] && matrix_list("--steps", a->steps, matrix_steps, a->m.steps,
					&a->m.nsteps, &e) < 0) ||
	    (a->roles[0] && matrix_list("--roles", a->roles, matrix_roles, a->m.roles,
					&a->m.nroles, &e) < 0) ||
	    (a->servers[0] && matrix_list("--servers", a->servers, matrix_servers, a->m.servers,
					  &a->m.nservers, &e) < 0))
		return cli_usage_error(&cmd_matrix, "%s", e.msg);
	if (a->m.engine && strcmp(a->m.engine, "shardquake") && strcmp(a->m.engine, "redis-cli") &&
	    strcmp(a->m.engine, "exec"))
		return cli_usage_error(&cmd_matrix, "--engine '%s': expected shardquake, redis-cli "
				       "or exec", a->m.engine);
	if ((a->m.engine && strcmp(a->m.engine, "exec") == 0) != (a->m.command != NULL))
		return cli_usage_error(&cmd_matrix, "--engine exec and --command go together");
	matrix_defaults(&a->m);
	return 0;
}

/* Writes every cell's scenario into dir/cells/ and loads it. */
static int
write_cells(const struct args *a, const char *dir, const struct matrix_cell *c, size_t n,
	    struct scenario **v)
{
	char path[PATH_MAX + 128], *text;
	struct err e = ERR_INIT;
	size_t i;

	snprintf(path, sizeof(path), "%s/cells", dir);
	if (fs_mkdir_p(path, &e) < 0)
		goto fail;
	for (i = 0; i < n; i++) {
		text = matrix_scenario(&a->m, &c[i]);
		snprintf(path, sizeof(path), "%s/cells/%s.ini", dir, c[i].name);
		if (fs_write_file(path, text, strlen(text), &e) < 0) {
			free(text);
			goto fail;
		}
		free(text);
		if ((v[i] = scenario_load(path, &e)) == NULL)
			goto fail;
	}
	return 0;
fail:
	fprintf(stderr, "shardquake: %s\n", e.msg);
	return -1;
}

/* Job j of J: its share of the cells, played in a child of its own. */
static pid_t
job_start(struct scenario **v, size_t n, int j, int jobs, const char *dir)
{
	struct scenario **mine = xcalloc(n + 1, sizeof(*mine));
	char results[PATH_MAX + 32], log[PATH_MAX + 48];
	size_t i, k = 0;
	pid_t pid;

	for (i = (size_t)j; i < n; i += (size_t)jobs)
		mine[k++] = v[i];
	snprintf(results, sizeof(results), "%s/job-%d", dir, j + 1);
	snprintf(log, sizeof(log), "%s/job-%d.log", dir, j + 1);
	fflush(stdout);
	if ((pid = fork()) == 0) {
		struct run_opts o = {.results = results};

		if (freopen(log, "w", stdout) == NULL || dup2(fileno(stdout), 2) < 0)
			_exit(EXIT_USAGE);
		_exit(cli_play(mine, k, &o, NULL));
	}
	free(mine);
	return pid;
}

/* The cells done so far: a report.json each, read once (one written
 * only half yet is read again next time); only those written since this
 * matrix began (a --results directory played before keeps its runs). */
struct done {
	char **paths;
	size_t n, failed;
	time_t since;
};

static bool
done_has(const struct done *d, const char *path)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		if (strcmp(d->paths[i], path) == 0)
			return true;
	return false;
}

static void
count_done(const char *dir, struct done *d)
{
	char pat[PATH_MAX + 32];
	glob_t g = {0};
	size_t i;

	snprintf(pat, sizeof(pat), "%s/job-*/*/report.json", dir);
	if (glob(pat, 0, NULL, &g) != 0)
		return;
	for (i = 0; i < g.gl_pathc; i++) {
		struct stat st;
		json_t *r;
		const char *res;

		if (stat(g.gl_pathv[i], &st) < 0 || st.st_mtime < d->since ||
		    done_has(d, g.gl_pathv[i]) ||
		    (r = json_load_file(g.gl_pathv[i], 0, NULL)) == NULL)
			continue;
		res = json_string_value(json_object_get(r, "result"));
		d->failed += res && strcmp(res, "failed") == 0;
		d->paths = xreallocarray(d->paths, d->n + 1, sizeof(*d->paths));
		d->paths[d->n++] = xstrdup(g.gl_pathv[i]);
		json_decref(r);
	}
	globfree(&g);
}

static void
done_release(struct done *d)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		free(d->paths[i]);
	free(d->paths);
}

static void
progress(const char *dir, size_t total, uint64_t t0, bool tty, struct done *d, size_t *last)
{
	uint64_t ms = clock_now_ms() - t0;
	unsigned long eta;

	count_done(dir, d);
	eta = d->n && d->n < total ? (unsigned long)(ms / d->n * (total - d->n) / 1000) : 0;
	if (!tty && d->n == *last)
		return;
	*last = d->n;
	printf("%smatrix: %zu/%zu cells, %zu failed, %s%lus left%s", tty ? "\r" : "", d->n, total,
	       d->failed, d->n ? "" : "~", d->n ? eta : 0, tty ? "   " : "\n");
	fflush(stdout);
}

/* Each cell's status and reason from the jobs' summary.json files. */
static void
collect(const char *dir, int jobs, const struct matrix_cell *c, size_t n, char (*status)[8],
	char (*reason)[256])
{
	char path[PATH_MAX + 32];
	size_t i, k;
	int j;

	for (i = 0; i < n; i++)
		snprintf(status[i], sizeof(status[0]), "?");
	for (j = 1; j <= jobs; j++) {
		json_t *sum, *cells;

		snprintf(path, sizeof(path), "%s/job-%d/summary.json", dir, j);
		if ((sum = json_load_file(path, 0, NULL)) == NULL)
			continue;
		cells = json_object_get(sum, "scenarios");
		for (k = 0; k < json_array_size(cells); k++) {
			json_t *x = json_array_get(cells, k);
			const char *name = json_string_value(json_object_get(x, "name"));
			const char *st = json_string_value(json_object_get(x, "status"));
			const char *why = json_string_value(json_object_get(x, "reason"));

			for (i = 0; name && st && i < n && strcmp(c[i].name, name) != 0; i++)
				;
			if (i == n)
				continue;
			snprintf(reason[i], sizeof(reason[0]), "%s", why ? why : "");
			if (strcmp(st, "passed") == 0)
				snprintf(status[i], sizeof(status[0]), "ok");
			else if (strcmp(st, "skipped") == 0)
				snprintf(status[i], sizeof(status[0]), "skip");
			else if (strstr(reason[i], "lost_keys"))
				snprintf(status[i], sizeof(status[0]), "lost");
			else
				snprintf(status[i], sizeof(status[0]), "fail");
		}
		json_decref(sum);
	}
}

/* Every job's runs (their summary.json "scenarios"), one array. */
static json_t *
runs_json(const char *dir, int jobs, long long count[3])
{
	static const char *const words[] = {"passed", "failed", "skipped"};
	char path[PATH_MAX + 32];
	json_t *all = json_array();
	int j, w;

	for (j = 1; j <= jobs; j++) {
		json_t *sum;

		snprintf(path, sizeof(path), "%s/job-%d/summary.json", dir, j);
		if ((sum = json_load_file(path, 0, NULL)) == NULL)
			continue;
		json_array_extend(all, json_object_get(sum, "scenarios"));
		for (w = 0; w < 3; w++)
			count[w] += json_integer_value(json_object_get(sum, words[w]));
		json_decref(sum);
	}
	return all;
}

/* The run of the cell named `name` among `runs`, or NULL (borrowed). */
static json_t *
run_of(json_t *runs, const char *name)
{
	json_t *x;
	size_t i;

	json_array_foreach(runs, i, x)
		if (json_is_string(json_object_get(x, "name")) &&
		    strcmp(json_string_value(json_object_get(x, "name")), name) == 0)
			return x;
	return NULL;
}

/* The table, rows kind x role (x replicas), columns the steps, as
 * report.h's "matrix" has it; a cell of another shard is null. */
static json_t *
matrix_json(const struct matrix_opts *m, const struct matrix_cell *c, size_t n,
	    char (*status)[8], char (*reason)[256], json_t *runs)
{
	json_t *steps = json_array(), *rows = json_array();
	size_t i, k, r, s, v;
	int rep;

	for (s = 0; s < m->nsteps; s++)
		json_array_append_new(steps, json_string(m->steps[s]));
	for (v = 0; v < m->nservers; v++)
		for (k = 0; k < m->nkinds; k++)
			for (r = 0; r < m->nroles; r++)
				for (rep = strstr(m->roles[r], "replica") ? 1 : 0; rep <= 1; rep++) {
					json_t *cells = json_array();
					bool redis = strcmp(m->servers[v], "redis") == 0;
					char row[96];

					snprintf(row, sizeof(row), "%s / %s%s%s%s%s", m->kinds[k], m->roles[r],
						 rep && !strstr(m->roles[r], "replica") ? " +replica" : "",
						 redis ? "" : " [", redis ? "" : m->servers[v],
						 redis ? "" : "]");
					for (s = 0; s < m->nsteps; s++) {
						json_t *x;

						for (i = 0; i < n; i++)
							if (c[i].kind == m->kinds[k] && c[i].role == m->roles[r] &&
							    c[i].step == m->steps[s] && c[i].replicas == rep &&
							    c[i].server == m->servers[v])
								break;
						if (i == n) {
							json_array_append_new(cells, json_null());
							continue;
						}
						x = json_object_get(run_of(runs, c[i].name), "results");
						json_array_append_new(
							cells, json_pack("{s:s, s:s, s:s, s:s}", "name", c[i].name,
									 "status", status[i], "reason", reason[i],
									 "results", json_is_string(x)
										 ? json_string_value(x) : ""));
					}
					json_array_append_new(rows, json_pack("{s:s, s:o}", "label", row,
									      "cells", cells));
				}
	return json_pack("{s:o, s:o}", "steps", steps, "rows", rows);
}

/* The table on stdout, from matrix_json(). */
static void
table(const json_t *mx)
{
	const json_t *row, *cell, *step;
	size_t i, k;

	printf("\n%-32s", "kind / role");
	json_array_foreach(json_object_get(mx, "steps"), i, step)
		printf(" %-11s", json_string_value(step));
	printf("\n");
	json_array_foreach(json_object_get(mx, "rows"), i, row) {
		printf("%-32s", json_string_value(json_object_get(row, "label")));
		json_array_foreach(json_object_get(row, "cells"), k, cell)
			printf(" %-11s", json_is_object(cell) ? json_string_value(json_object_get(
									 cell, "status"))
							      : "");
		printf("\n");
	}
}

/* DIR/index.html: the table coloured, every run of every job linked. */
static void
index_write(const char *dir, json_t *mx, json_t *runs, const long long count[3],
	    double seconds)
{
	struct err e = ERR_INIT;
	json_t *idx = json_pack("{s:s, s:I, s:I, s:I, s:f, s:O, s:O}", "title",
				"shardquake matrix", "passed", (json_int_t)count[0], "failed",
				(json_int_t)count[1], "skipped", (json_int_t)count[2], "seconds",
				seconds, "scenarios", runs, "matrix", mx);

	if (report_index_write(idx, dir, &e) < 0)
		fprintf(stderr, "shardquake: %s\n", e.msg);
	json_decref(idx);
}

static int
run(int argc, char **argv)
{
	struct args a = {0};
	struct matrix_cell *c;
	struct scenario **v = NULL;
	char dir[PATH_MAX], stamp[32], (*status)[8] = NULL, (*reason)[256] = NULL;
	size_t n, total, i, last = (size_t)-1, bad = 0;
	struct done done = {.since = time(NULL)};
	json_t *runs, *mx;
	long long count[3] = {0};
	pid_t *pids = NULL;
	time_t now = time(NULL);
	struct tm tm;
	uint64_t t0 = clock_now_ms();
	bool tty = isatty(1) && !(getenv("CI") && strcmp(getenv("CI"), "true") == 0);
	int rc, j, st, running;

	if ((rc = parse(argc, argv, &a)) != 0)
		return rc < 0 ? EXIT_OK : rc;
	n = matrix_cells(&a.m, &c, &total);
	if (a.list) {
		for (i = 0; i < n; i++)
			printf("%s\n", c[i].name);
		free(c);
		return EXIT_OK;
	}
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
	if (a.results)
		snprintf(dir, sizeof(dir), "%s", a.results);
	else
		snprintf(dir, sizeof(dir), "results/matrix-%s-%d", stamp, (int)getpid());
	if (a.m.command) { /* the runbook runs from here, not from the cells' directory */
		char cwd[PATH_MAX], *cmd;

		if (getcwd(cwd, sizeof(cwd)) == NULL)
			return cli_usage_error(&cmd_matrix, "getcwd: %s", strerror(errno));
		cmd = xasprintf("cd '%s' && %s", cwd, a.m.command);
		a.m.command = cmd; /* lives until exit */
	}
	v = xcalloc(n + 1, sizeof(*v));
	if (write_cells(&a, dir, c, n, v) < 0) {
		rc = EXIT_USAGE;
		goto out;
	}
	printf("matrix: %zu of %zu cells (shard %d/%d), %d at once, in %s\n", n, total,
	       a.m.shard, a.m.nshards, a.jobs, dir);
	pids = xcalloc((size_t)a.jobs + 1, sizeof(*pids));
	for (j = 0; j < a.jobs && (size_t)j < n; j++)
		pids[j] = job_start(v, n, j, a.jobs, dir);
	do {
		for (j = 0, running = 0; j < a.jobs; j++)
			if (pids[j] > 0 && waitpid(pids[j], &st, WNOHANG) == 0)
				running++;
			else
				pids[j] = 0;
		progress(dir, n, t0, tty, &done, &last);
		if (running)
			clock_sleep_ms(1000);
	} while (running);
	status = xcalloc(n + 1, sizeof(*status));
	reason = xcalloc(n + 1, sizeof(*reason));
	collect(dir, a.jobs, c, n, status, reason);
	runs = runs_json(dir, a.jobs, count);
	mx = matrix_json(&a.m, c, n, status, reason, runs);
	table(mx);
	index_write(dir, mx, runs, count, (double)(clock_now_ms() - t0) / 1000.0);
	json_decref(mx);
	json_decref(runs);
	for (i = 0; i < n; i++)
		if (strcmp(status[i], "ok") != 0) {
			printf("  %-5s %s: %s\n", status[i], c[i].name, reason[i]);
			bad += strcmp(status[i], "skip") != 0;
		}
	printf("%zu cells: %zu not ok; cells and runs in %s\n", n, bad, dir);
	rc = bad ? EXIT_FINDINGS : EXIT_OK;
out:
	for (i = 0; i < n; i++)
		scenario_free(v[i]);
	free(v);
	free(c);
	free(pids);
	free(status);
	free(reason);
	done_release(&done);
	return rc;
}

const struct command cmd_matrix = {
	.name = "matrix",
	.summary = "play every fault kind x protocol step x role, and tabulate",
	.usage = usage,
	.run = run,
};
