/*
 * Integration tests of `shardquake run`: the shipped quick suite passes,
 * the same seed gives the same fault point and dataset, and SIGINT in
 * the middle of a run leaves no redis-server behind.
 */
#include <dirent.h>
#include <jansson.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/fs.h"
#include "common/proc.h"
#include "tests/support/itutil.h"
#include "tests/support/runner.h"

static const char *
bin(void)
{
	return getenv("SQ_BIN") ? getenv("SQ_BIN") : "build/shardquake";
}

/* The pause fault's SIGCONT comes from a timer thread after the fault
 * was described: its time is in the report and on the timeline once
 * the cluster has settled, not after the duration meant alone. */
static void
pause_resumed_on_time(const char *dir)
{
	json_t *rep = it_report(dir, "pause-target-mid-slot");
	const char *effect = json_string_value(json_object_get(
		json_array_get(json_object_get(rep, "faults"), 0), "effect"));
	long long planned = 0, after = 0;
	int port = 0;

	ck_assert_ptr_nonnull(effect);
	ck_assert_msg(sscanf(effect, "node %d stopped (SIGSTOP) for %lld ms, SIGCONT after %lld ms",
			     &port, &planned, &after) == 3, "effect: %s", effect);
	ck_assert_int_eq(planned, 3000);
	ck_assert_msg(after >= 3000 && after < 10000, "effect: %s", effect);
	ck_assert_int_eq(it_sh("grep -qF 'fault [fault]: %s' %s/pause-target-mid-slot-*/timeline.log",
			       effect, dir), 0);
	json_decref(rep);
}

START_TEST(test_run_quick_suite_passes)
{
	/* relative, as `make run` gives it: every path handed to a
	 * redis-server (stash, rescue) must still resolve.  Beside the
	 * binary: build/ is there only when B=build */
	char dir[PATH_MAX];
	const char *slash = strrchr(bin(), '/');
	int rc;

	it_require_redis("run");
	snprintf(dir, sizeof(dir), "%.*ssq-it-run-XXXXXX", slash ? (int)(slash - bin() + 1) : 0,
		 bin());
	ck_assert_ptr_nonnull(mkdtemp(dir));
	rc = it_sh("%s run --results %s > %s.out 2>&1", bin(), dir, dir);
	if (rc != 0) /* which scenario and why, before the directory goes */
		it_sh("grep -E '^[a-z0-9-]+: |FAILED|passed, ' %s.out >&2; "
		      "grep -h 'expect .*FAILED\\|result:' %s/*/timeline.log >&2", dir, dir);
	ck_assert_int_eq(rc, 0);
	/* skipped where the machine lacks a fault's needs, with the reason */
	ck_assert_int_eq(it_sh("grep -Eq '^[1-9][0-9]* passed, 0 failed(, [0-9]+ skipped.*)?$' "
			       "%s.out", dir), 0);
	ck_assert_int_eq(it_sh("test -s %s/junit.xml", dir), 0);
	/* summary.json: the same counts as the last line, every scenario */
	ck_assert_int_eq(it_sh("grep -Eq '\"failed\": 0,' %s/summary.json && "
			       "grep -c '\"status\": \"passed\"' %s/summary.json | "
			       "grep -qx \"$(sed -n 's/^\\([0-9]*\\) passed.*/\\1/p' %s.out)\"",
			       dir, dir, dir), 0);
	pause_resumed_on_time(dir);
	/* the live one: its ledger kept, read back, nothing acknowledged lost */
	ck_assert_int_eq(it_sh("test -s %s/live-kill-target-mid-slot-*/ledger.tsv", dir), 0);
	ck_assert_int_eq(it_sh("grep -Eq '\"writes_lost\": ?0,' "
			       "%s/live-kill-target-mid-slot-*/report.json", dir), 0);
	ck_assert_int_eq(it_sh("grep -Eq '\"acknowledged\": ?[1-9]' "
			       "%s/live-kill-target-mid-slot-*/report.json", dir), 0);
	it_sh("rm -rf %s %s.out", dir, dir);
}
END_TEST

START_TEST(test_run_same_seed_same_fault_point)
{
	char a[PATH_MAX], b[PATH_MAX];
	json_t *ra, *rb, *fa, *fb;

	it_require_redis("run");
	it_mkdtemp(a, sizeof(a), "sq-it-seedA");
	it_mkdtemp(b, sizeof(b), "sq-it-seedB");
	ck_assert_int_eq(it_sh("%s run --seed 42 --results %s scenarios/kill-target-mid-slot.ini >/dev/null", bin(), a), 0);
	ck_assert_int_eq(it_sh("%s run --seed 42 --results %s scenarios/kill-target-mid-slot.ini >/dev/null", bin(), b), 0);
	ra = it_report(a, "kill-target");
	rb = it_report(b, "kill-target");
	ck_assert_int_eq(json_integer_value(json_object_get(ra, "seed")), 42);
	fa = json_object_get(json_array_get(json_object_get(ra, "faults"), 0), "at");
	fb = json_object_get(json_array_get(json_object_get(rb, "faults"), 0), "at");
	ck_assert_msg(json_equal(fa, fb), "fault points differ");
	ck_assert_int_eq(json_integer_value(json_object_get(fa, "slot_moved")) * 2,
			 json_integer_value(json_object_get(fa, "slot_keys")) +
				 json_integer_value(json_object_get(fa, "slot_keys")) % 2);
	/* the same dataset: the same keys end up out of reach */
	ck_assert(json_equal(json_object_get(json_object_get(ra, "verdict"), "unreachable_keys"),
			     json_object_get(json_object_get(rb, "verdict"), "unreachable_keys")));
	json_decref(ra);
	json_decref(rb);
	it_sh("rm -rf %s %s", a, b);
}
END_TEST

/* A recorded run played again: the same outcome; and a record that says
 * otherwise (its fault fired at another step) is a difference, named. */
START_TEST(test_replay_matches_and_names_a_difference)
{
	char a[PATH_MAX], b[PATH_MAX];

	it_require_redis("run");
	it_mkdtemp(a, sizeof(a), "sq-it-replayA");
	it_mkdtemp(b, sizeof(b), "sq-it-replayB");
	ck_assert_int_eq(it_sh("%s run --seed 42 --results %s scenarios/kill-target-mid-slot.ini "
			       ">/dev/null", bin(), a), 0);
	ck_assert_int_eq(it_sh("test -s %s/kill-target-mid-slot-*/scenario.ini", a), 0);
	ck_assert_int_eq(it_sh("%s replay --results %s %s/kill-target-mid-slot-* > %s/out 2>&1 && "
			       "grep -q 'seed 42' %s/out && grep -q 'the outcome matched' %s/out",
			       bin(), b, a, b, b, b), 0);
	ck_assert_int_eq(it_sh("sed -i 's/\"step\": \"keys\"/\"step\": \"migrating\"/' "
			       "%s/kill-target-mid-slot-*/report.json", a), 0);
	ck_assert_int_eq(it_sh("%s replay --results %s %s/kill-target-mid-slot-* > %s/out 2>&1",
			       bin(), b, a, b), 1);
	ck_assert_int_eq(it_sh("grep -q 'differs  faults.0.at.step: was \"migrating\", now "
			       "\"keys\"' %s/out", b), 0);
	ck_assert_int_eq(it_sh("%s replay %s/nothing-here > /dev/null 2>&1", bin(), a), 2);
	it_sh("rm -rf %s %s", a, b);
}
END_TEST

/* Two cells of the matrix played by two jobs at once: a table with both
 * ok, each run's results under its job. */
START_TEST(test_matrix_plays_cells_in_parallel)
{
	char d[PATH_MAX];
	int rc;

	it_require_redis("run");
	it_mkdtemp(d, sizeof(d), "sq-it-matrix");
	rc = it_sh("CI=true %s matrix --kinds kill --steps keys --roles target --jobs 2 "
		   "--results %s/m > %s/out 2>&1", bin(), d, d);
	if (rc == 0)
		rc = it_sh("grep -Eq '^kill / target +ok' %s/out && "
			   "grep -Eq '^kill / target \\+replica +ok' %s/out && "
			   "grep -q '^2 cells: 0 not ok' %s/out", d, d, d);
	if (rc != 0) /* what it said, and each cell's reason, before all is removed */
		it_sh("cat %s/out >&2; cat %s/m/job-*/summary.json >&2", d, d);
	ck_assert_int_eq(rc, 0);
	ck_assert_int_eq(it_sh("test -s %s/m/job-1/summary.json && test -s %s/m/job-2/summary.json "
			       "&& test -s %s/m/cells/kill-keys-target-r1.ini", d, d, d), 0);
	it_sh("rm -rf %s", d);
}
END_TEST

/* ci/game-day.sh twice: the first game day has nothing to compare with;
 * when the scenario that passed then fails now, that is a regression,
 * named, and the exit status says so. */
START_TEST(test_game_day_names_a_regression)
{
	char d[PATH_MAX];

	it_require_redis("run");
	it_mkdtemp(d, sizeof(d), "sq-it-gameday");
	ck_assert_int_eq(it_sh("sed 's/^name = .*/name = gd/' scenarios/kill-target-at-importing.ini "
			       "> %s/gd.ini", d), 0);
	ck_assert_int_eq(it_sh("GAMEDAY_DIR=%s/days SHARDQUAKE=%s sh ci/game-day.sh %s/gd.ini "
			       "> %s/out1 2>&1", d, bin(), d, d), 0);
	/* the first game day passed (else the second has no regression to
	 * find): what it said, and the run's reason, when it did not */
	if (it_sh("grep -q '^1 passed, 0 failed' %s/out1", d) != 0)
		it_sh("cat %s/out1 >&2; cat %s/days/*/summary.json >&2", d, d);
	ck_assert_int_eq(it_sh("grep -q '^1 passed, 0 failed' %s/out1 && "
			       "grep -q 'the first game day here' %s/out1", d, d), 0);
	/* an expectation it cannot meet: it fails from now on */
	ck_assert_int_eq(it_sh("sed -i 's/^lost_keys = 0/lost_keys = 5/' %s/gd.ini", d), 0);
	ck_assert_int_eq(it_sh("GAMEDAY_DIR=%s/days SHARDQUAKE=%s sh ci/game-day.sh %s/gd.ini "
			       "> %s/out2 2>&1", d, bin(), d, d), 1);
	ck_assert_int_eq(it_sh("grep -q 'REGRESSION gd: passed on [0-9-]*, failed now' %s/out2 && "
			       "grep -q ': 1 regression' %s/out2", d, d), 0);
	it_sh("rm -rf %s", d);
}
END_TEST

/* A scenario's own [cluster] server beats $SHARDQUAKE_SERVER: with the
 * environment naming a server this machine lacks, a scenario that names
 * redis plays on it, and is labelled so. */
START_TEST(test_scenario_server_beats_the_environment)
{
	char d[PATH_MAX];

	it_require_redis("run");
	it_mkdtemp(d, sizeof(d), "sq-it-server");
	ck_assert_int_eq(it_sh("sed -e 's/^name = .*/name = own-server/' "
			       "-e 's/^\\[cluster\\]$/[cluster]\\nserver = redis/' "
			       "scenarios/kill-target-at-importing.ini > %s/own.ini && "
			       "grep -q '^server = redis$' %s/own.ini", d, d), 0);
	if (it_sh("SHARDQUAKE_SERVER=%s/no-such-server %s run --results %s/r %s/own.ini "
		  "> %s/out 2>&1", d, bin(), d, d, d) != 0)
		it_sh("cat %s/out >&2", d);
	ck_assert_int_eq(it_sh("grep -q '^1 passed, 0 failed$' %s/out && "
			       "grep -Eq '\"server\": ?\"redis\"' %s/r/summary.json", d, d), 0);
	it_sh("rm -rf %s", d);
}
END_TEST

/* Pids of the live children of `parent`. */
static int
children(pid_t parent, pid_t *out, int max)
{
	DIR *dp = opendir("/proc");
	struct dirent *d;
	int n = 0, pid, ppid;
	char path[64], state;
	FILE *f;

	while (dp && (d = readdir(dp)) != NULL && n < max) {
		pid = atoi(d->d_name);
		if (pid <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/stat", pid);
		f = fopen(path, "r");
		if (f == NULL)
			continue;
		if (fscanf(f, "%*d (%*[^)]) %c %d", &state, &ppid) == 2 && ppid == parent &&
		    state != 'Z')
			out[n++] = pid;
		fclose(f);
	}
	if (dp)
		closedir(dp);
	return n;
}

/* SIGINT once the cluster's nodes are up: to shardquake alone, or to its
 * whole process group as a terminal's Ctrl-C does (the nodes, in groups
 * of their own, must not hear it: the run, not the nodes, stops). */
static void
interrupt_a_run(bool whole_group)
{
	char dir[PATH_MAX], res[PATH_MAX], out[PATH_MAX + 16];
	char *said;
	json_t *rep, *exp;
	const char *argv[] = {bin(), "run", "--results", res, "scenarios/kill-target-mid-slot.ini", NULL};
	struct proc p = PROC_INIT;
	struct err e = ERR_INIT;
	pid_t kids[32];
	uint64_t deadline;
	int n = 0, i;

	it_require_redis("run");
	it_mkdtemp(dir, sizeof(dir), "sq-it-int");
	snprintf(res, sizeof(res), "%s", dir);
	snprintf(out, sizeof(out), "%s/out.log", dir);
	p.argv = argv;
	p.new_pgrp = whole_group;
	p.out_path = out; /* its "FAILED ...: interrupted" is not this suite's */
	ck_assert_int_eq(proc_start(&p, &e), 0);
	deadline = clock_now_ms() + 20000;
	while ((n = children(p.pid, kids, 32)) < 3 && clock_now_ms() < deadline)
		clock_sleep_ms(20);
	ck_assert_int_ge(n, 3);
	if (whole_group)
		ck_assert_int_eq(kill(-p.pid, SIGINT), 0);
	else
		ck_assert_int_eq(proc_signal(&p, SIGINT, &e), 0);
	ck_assert_msg(proc_wait(&p, 30000, &e) == 0, "%s", e.msg);
	for (i = 0; i < n; i++)
		ck_assert_msg(!it_pid_alive(kids[i]), "redis-server %d survived SIGINT", (int)kids[i]);
	said = fs_read_file(out, NULL, &e);
	ck_assert_msg(said != NULL, "%s", e.msg);
	ck_assert_msg(strstr(said, "interrupted") != NULL, "it said: %s", said);
	/* the reason is the interrupt, not what it broke afterwards */
	ck_assert_msg(strstr(said, "interrupted; then") == NULL, "it said: %s", said);
	free(said);
	/* the report lists what the scenario expected, as not checked */
	rep = it_report(dir, "kill-target");
	ck_assert_str_eq(json_string_value(json_object_get(rep, "reason")), "interrupted");
	exp = json_object_get(rep, "expectations");
	ck_assert_int_gt((long)json_array_size(exp), 1);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(exp, 0), "actual")),
			 "not checked");
	ck_assert(json_is_null(json_object_get(json_array_get(exp, 0), "passed")));
	json_decref(rep);
	it_sh("rm -rf %s", dir);
}

START_TEST(test_run_sigint_leaves_no_redis_server)
{
	interrupt_a_run(false);
}
END_TEST

START_TEST(test_run_ctrl_c_stops_the_run_not_the_nodes_first)
{
	interrupt_a_run(true);
}
END_TEST


/* Without redis-server nothing runs: exit 3, the summary says why, and
 * junit.xml (not a stale one) lists every scenario as skipped. */
START_TEST(test_run_without_redis_reports_every_scenario_skipped)
{
	char dir[PATH_MAX];

	it_mkdtemp(dir, sizeof(dir), "sq-it-skip");
	ck_assert_int_eq(it_sh("echo stale > %s/junit.xml", dir), 0);
	ck_assert_int_eq(it_sh("%s run --results %s --redis-server /nonexistent/redis-server "
			       "scenarios/kill-target-mid-slot.ini scenarios/pause-target-mid-slot.ini "
			       "> %s/out 2>&1; test $? -eq 3", bin(), dir, dir), 0);
	ck_assert_int_eq(it_sh("grep -q '^0 passed, 0 failed, 2 skipped: no /nonexistent/redis-server "
			       "here$' %s/out", dir), 0);
	ck_assert_int_eq(it_sh("grep -q 'tests=\"2\" failures=\"0\" skipped=\"2\"' %s/junit.xml",
			       dir), 0);
	it_sh("rm -rf %s", dir);
}
END_TEST

/* run --keep leaves the cluster running and says how to stop it; the
 * command it suggests keeps the run's node logs. */
START_TEST(test_run_keep_hint_keeps_node_logs)
{
	char dir[PATH_MAX], file[PATH_MAX + 16], *out, *hint;
	struct err e = ERR_INIT;
	FILE *f;

	it_require_redis("run");
	it_mkdtemp(dir, sizeof(dir), "sq-it-keep");
	snprintf(file, sizeof(file), "%s/calm.ini", dir);
	f = fopen(file, "w");
	ck_assert_ptr_nonnull(f);
	fputs("[scenario]\nname = calm\n[cluster]\nmasters = 3\npersistence = none\n"
	      "[data]\nkeys = 100\n[expect]\nhealthy = yes\n", f);
	fclose(f);
	ck_assert_int_eq(it_sh("%s run --keep --results %s/res %s > %s/out 2>&1", bin(), dir,
			       file, dir), 0);
	snprintf(file, sizeof(file), "%s/out", dir);
	out = fs_read_file(file, NULL, &e);
	ck_assert_msg(out != NULL, "%s", e.msg);
	hint = strstr(out, "shardquake cluster down");
	ck_assert_msg(hint != NULL, "no hint in: %s", out);
	hint[strcspn(hint, "\n")] = '\0';
	ck_assert_msg(strstr(hint, " --keep-files ") != NULL, "%s", hint);
	/* as a user would type it, with our binary */
	ck_assert_int_eq(it_sh("%s %s > /dev/null", bin(), hint + strlen("shardquake ")), 0);
	ck_assert_int_eq(it_sh("ls %s/res/calm-*/nodes/node-*/redis.log > /dev/null", dir), 0);
	ck_assert_int_ne(it_sh("ls %s/res/calm-*/nodes/cluster.pids 2> /dev/null", dir), 0);
	free(out);
	it_sh("rm -rf %s", dir);
}
END_TEST

/* A failed run's junit.xml says more than its first reason: every
 * expectation that failed, and the verdict's findings with examples,
 * in the failure's message (what a CI page shows), in the summary
 * junit.xml of the invocation and in the run's own. */
START_TEST(test_run_junit_lists_failed_expectations_and_findings)
{
	char dir[PATH_MAX], file[PATH_MAX + 16];
	const char *const junits[] = {"junit.xml", "unrepaired-*/junit.xml"};
	FILE *f;
	size_t i;

	it_require_redis("run");
	it_mkdtemp(dir, sizeof(dir), "sq-it-junit");
	snprintf(file, sizeof(file), "%s/s.ini", dir);
	f = fopen(file, "w");
	ck_assert_ptr_nonnull(f);
	fputs("[scenario]\nname = unrepaired\n[cluster]\npersistence = none\n"
	      "node_timeout = 1000\n[data]\nkeys = 2000\n[reshard]\nfrom = 0\nto = 1\n"
	      "slots = 2\n[fault]\nkind = kill\ntarget = target\nat = migrating\n"
	      "[expect]\nhealthy = yes\nfailed_nodes = 0\nlost_keys = 0\n", f);
	fclose(f);
	ck_assert_int_eq(it_sh("%s run --results %s/res %s > %s/out 2>&1", bin(), dir, file,
			       dir), 1);
	for (i = 0; i < 2; i++) {
		char path[PATH_MAX + 64];

		snprintf(path, sizeof(path), "%s/res/%s", dir, junits[i]);
		/* the reason, then what else failed; lost_keys = 0 held */
		ck_assert_int_eq(it_sh("grep -q '<failure message=\"expected healthy = yes, got no; "
				       "expected failed_nodes = 0, got 1; ' %s", path), 0);
		ck_assert_int_ne(it_sh("grep -q 'expected lost_keys' %s", path), 0);
		ck_assert_int_eq(it_sh("grep -q 'message=\"[^\"]*; finding: failed_nodes 1 (' %s",
				       path), 0);
		ck_assert_int_eq(it_sh("grep -q 'message=\"[^\"]*; finding: unreachable_keys "
				       "[1-9][0-9]* (sq:' %s", path), 0);
		/* and one a line in the element's text */
		ck_assert_int_eq(it_sh("grep -qx 'finding: failed_nodes 1 (.*)' %s", path), 0);
		ck_assert_int_eq(it_sh("xmllint --noout %s 2>/dev/null || ! command -v xmllint "
				       ">/dev/null", path), 0);
	}
	it_sh("rm -rf %s", dir);
}
END_TEST

/* run --check reads and checks files, every bad one with its own
 * FILE:LINE message, and plays nothing: no results, no redis-server. */
START_TEST(test_run_check_validates_without_running)
{
	char dir[PATH_MAX], exe[PATH_MAX];

	ck_assert_ptr_nonnull(realpath(bin(), exe)); /* the test runs it from elsewhere */
	it_mkdtemp(dir, sizeof(dir), "sq-it-check");
	ck_assert_int_eq(it_sh("cp scenarios/kill-target-mid-slot.ini %s/good.ini && "
			       "printf '[scenario\\nname = x\\n' > %s/open.ini && "
			       "printf 'seed = 1\\n[scenario]\\nname = x\\n' > %s/early.ini && "
			       "mkdir %s/dir.ini", dir, dir, dir, dir), 0);
	ck_assert_int_eq(it_sh("cd %s && %s run --check --results res good.ini open.ini "
			       "early.ini dir.ini > out 2> err; test $? -eq 2", dir, exe), 0);
	ck_assert_int_eq(it_sh("grep -qx 'good.ini: ok (kill-target-mid-slot, 1 fault)' %s/out",
			       dir), 0);
	ck_assert_int_eq(it_sh("grep -qx '4 files checked, 3 bad' %s/out", dir), 0);
	ck_assert_int_eq(it_sh("grep -q \"^shardquake: open.ini:1: section header '\\[scenario' "
			       "has no closing ']'\" %s/err", dir), 0);
	ck_assert_int_eq(it_sh("grep -q \"^shardquake: early.ini:1: 'seed' comes before any "
			       "section\" %s/err", dir), 0);
	ck_assert_int_eq(it_sh("grep -q \"^shardquake: 'dir.ini' is a directory: expected a "
			       "scenario file\" %s/err", dir), 0);
	ck_assert_int_eq(it_sh("test ! -e %s/res", dir), 0); /* nothing was played */
	/* good files only, and the shipped library by default: exit 0 */
	ck_assert_int_eq(it_sh("cd %s && %s run --check good.ini > /dev/null", dir, exe), 0);
	ck_assert_int_eq(it_sh("%s run --check > %s/all && grep -q '^[1-9][0-9]* files "
			       "checked, 0 bad$' %s/all", bin(), dir, dir), 0);
	it_sh("rm -rf %s", dir);
}
END_TEST

Suite *
run_suite(void)
{
	Suite *s = suite_create("run");
	TCase *tc = tcase_create("scenarios");

	tcase_set_timeout(tc, 240);
	tcase_add_test(tc, test_run_quick_suite_passes);
	tcase_add_test(tc, test_run_same_seed_same_fault_point);
	tcase_add_test(tc, test_replay_matches_and_names_a_difference);
	tcase_add_test(tc, test_matrix_plays_cells_in_parallel);
	tcase_add_test(tc, test_game_day_names_a_regression);
	tcase_add_test(tc, test_scenario_server_beats_the_environment);
	tcase_add_test(tc, test_run_sigint_leaves_no_redis_server);
	tcase_add_test(tc, test_run_ctrl_c_stops_the_run_not_the_nodes_first);
	tcase_add_test(tc, test_run_without_redis_reports_every_scenario_skipped);
	tcase_add_test(tc, test_run_keep_hint_keeps_node_logs);
	tcase_add_test(tc, test_run_junit_lists_failed_expectations_and_findings);
	suite_add_tcase(s, tc);
	/* no redis-server needed */
	tc = tcase_create("check");
	tcase_add_test(tc, test_run_check_validates_without_running);
	suite_add_tcase(s, tc);
	return s;
}
