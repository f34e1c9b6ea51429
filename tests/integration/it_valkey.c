/*
 * Integration tests on Valkey 8 (issue 11): scenarios played with
 * `run --server valkey`, names that say so, a replay on the server that
 * recorded it; and a broken Valkey cluster repaired by `shardquake
 * repair` with no server flag, as a new user would, whose salvage needs
 * a rescue server that reads Valkey's files (Redis 7.0 refuses them).
 * Skipped, with the reason, where valkey-server is not installed.
 */
#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/support/itutil.h"
#include "tests/support/runner.h"

/* Absolute: some steps run in the test's directory. */
static const char *
bin(void)
{
	static char path[PATH_MAX];

	if (path[0] == '\0' &&
	    realpath(getenv("SQ_BIN") ? getenv("SQ_BIN") : "build/shardquake", path) == NULL)
		snprintf(path, sizeof(path), "%s", "build/shardquake");
	return path;
}

/* The quick suite plays on Valkey in the run suite (make check plays
 * every suite on both servers); here `--server valkey` on two of its
 * scenarios: names, summary and report say Valkey, and replay plays the
 * record on Valkey again without a flag. */
START_TEST(test_valkey_server_flag_names_and_replay)
{
	char dir[PATH_MAX], again[PATH_MAX];
	json_t *rep;

	it_require_valkey("valkey");
	it_mkdtemp(dir, sizeof(dir), "sq-it-vk-run");
	it_mkdtemp(again, sizeof(again), "sq-it-vk-replay");
	if (it_sh("%s run --server valkey --results %s scenarios/kill-target-mid-slot.ini "
		  "scenarios/restart-target-mid-slot.ini > %s/out 2>&1", bin(), dir, dir) != 0) {
		/* which scenario, and why, before the directory is removed */
		it_sh("grep -E 'FAILED|expect .*: (no|failed)|reason' %s/out >&2; "
		      "grep -E '\"(name|status|reason)\"' %s/summary.json >&2", dir, dir);
		ck_abort_msg("two quick scenarios on Valkey did not pass (their failures above)");
	}
	ck_assert_int_eq(it_sh("grep -q '^2 passed, 0 failed$' %s/out", dir), 0);
	/* every case named for its server; the summary says it too */
	ck_assert_int_eq(it_sh("grep -c '<testcase ' %s/junit.xml | grep -qx \"$(grep -c "
			       "'<testcase [^>]* \\[valkey\\]\"' %s/junit.xml)\"", dir, dir), 0);
	ck_assert_int_eq(it_sh("grep -q '\"server\": \"valkey\"' %s/summary.json && "
			       "! grep -q '\"server\": \"redis\"' %s/summary.json", dir, dir), 0);
	/* the nodes were Valkey's, the report says which binary */
	rep = it_report(dir, "kill-target-mid-slot");
	ck_assert_str_eq(json_string_value(json_object_get(rep, "server")), "valkey");
	ck_assert_msg(strncmp(json_string_value(json_object_get(rep, "redis")), "Valkey", 6) == 0,
		      "%s", json_string_value(json_object_get(rep, "redis")));
	json_decref(rep);
	/* replay without a server flag plays it on Valkey again (the
	 * timestamp's digits: not kill-target-mid-slot-redis-cli) */
	ck_assert_int_eq(it_sh("%s replay --results %s %s/kill-target-mid-slot-[0-9]* > %s/out 2>&1",
			       bin(), again, dir, again), 0);
	rep = it_report(again, "kill-target-mid-slot");
	ck_assert_str_eq(json_string_value(json_object_get(rep, "server")), "valkey");
	json_decref(rep);
	it_sh("rm -rf %s %s", dir, again);
}
END_TEST

/* A Valkey cluster whose third master was SIGKILLed: its keys are only
 * in its files.  `shardquake repair --salvage` with no server flag must
 * read them (the rescue server is Valkey's), and verify finds all. */
START_TEST(test_valkey_repair_salvages_without_a_server_flag)
{
	char dir[PATH_MAX];
	int rc;

	it_require_valkey("valkey");
	it_mkdtemp(dir, sizeof(dir), "sq-it-vk-repair");
	ck_assert_int_eq(it_sh("%s cluster up --server valkey --masters 3 --keys 20000 "
			       "--dir %s/c >/dev/null", bin(), dir), 0);
	/* the files hold every key (AOF everysec: flushed by BGREWRITEAOF) */
	rc = it_sh("cd %s && p1=$(sed -n 1p c/cluster.pids | cut -d' ' -f1) && "
			       "p3=$(sed -n 3p c/cluster.pids | cut -d' ' -f1) && "
			       "pid3=$(sed -n 3p c/cluster.pids | cut -d' ' -f2) && "
			       "redis-cli -p $p3 bgrewriteaof >/dev/null && "
			       "until redis-cli -p $p3 info persistence | "
			       "grep -q 'aof_rewrite_in_progress:0'; do sleep 0.05; done && "
			       "kill -9 $pid3 && "
			       "i=0; until redis-cli -p $p1 cluster nodes | grep -q ' master,fail '; do "
			       "i=$((i + 1)); [ $i -lt 200 ] || exit 1; sleep 0.05; done && "
			       "%s repair 127.0.0.1:$p1 --salvage 127.0.0.1:$p3=c/node-$p3 "
			       "> repair.out 2>&1 && "
			       "grep -Eq '^healthy: .* [1-9][0-9]* salvaged from files' repair.out && "
			       "%s verify 127.0.0.1:$p1 --keys 20000 > verify.out",
			       dir, bin(), bin());
	if (rc != 0)
		it_sh("cat %s/repair.out %s/verify.out >&2", dir, dir);
	/* detached nodes: down before any assertion ends the test */
	it_sh("%s cluster down --dir %s/c >/dev/null 2>&1; rm -rf %s", bin(), dir, dir);
	ck_assert_int_eq(rc, 0);
}
END_TEST

Suite *
valkey_suite(void)
{
	Suite *s = suite_create("valkey");
	TCase *tc = tcase_create("valkey");

	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_valkey_repair_salvages_without_a_server_flag);
	tcase_add_test(tc, test_valkey_server_flag_names_and_replay);
	suite_add_tcase(s, tc);
	return s;
}
