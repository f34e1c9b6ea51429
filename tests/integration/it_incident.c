/*
 * Integration test of `incident import`, round trip: a local cluster is
 * broken by hand (a slot half moved, slots uncovered, the target master
 * SIGKILLed, its replica kept from promoting itself); the CLUSTER NODES
 * of every node that answers are saved and imported; the scenario is
 * played; just before its repair the rebuilt cluster's CLUSTER NODES are
 * imported in turn, and both scenarios must say the same cluster; the
 * repair must then end healthy with no key lost.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/conn.h"
#include "common/fs.h"
#include "harness/run/runner.h"
#include "harness/scenario/scenario.h"
#include "tests/integration/repair_util.h"
#include "tests/support/itutil.h"
#include "tests/support/runner.h"

/* Saves CLUSTER NODES of every node that answers as DIR/node-I.txt. */
static int
save_views(const struct local_node *nodes, size_t n, const char *dir)
{
	char path[PATH_MAX + 32], *text;
	int saved = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		struct conn *c = conn_open(nodes[i].host, nodes[i].port, 1000, NULL);

		text = c ? conn_cmd_str(c, NULL, "CLUSTER", "NODES", NULL) : NULL;
		conn_free(c);
		if (text == NULL)
			continue;
		snprintf(path, sizeof(path), "%s/node-%zu.txt", dir, i);
		ck_assert_int_eq(fs_write_file(path, text, strlen(text), NULL), 0);
		free(text);
		saved++;
	}
	return saved;
}

struct rebuilt {
	char dir[PATH_MAX];
	int saved;
};

static void
before_repair(void *arg, const struct local_cluster *lc)
{
	struct rebuilt *r = arg;

	r->saved = save_views(lc->nodes, lc->n, r->dir);
}

/* The lines of a scenario that describe the cluster: [cluster] and
 * [layout] values, comments left out (they name ports and ids). */
static char *
shape(const char *dir, const char *name)
{
	char *text = rp_read(dir, name), *out = calloc(1, strlen(text) + 1), *line, *save = NULL;
	bool in = false;

	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (line[0] == '[')
			in = strcmp(line, "[cluster]") == 0 || strcmp(line, "[layout]") == 0;
		if (in && line[0] != ';') {
			strcat(out, line);
			strcat(out, "\n");
		}
	}
	free(text);
	return out;
}

START_TEST(test_incident_round_trip)
{
	char dir[PATH_MAX], path[PATH_MAX + 32], slot[16];
	struct rebuilt rb = {0};
	struct run_opts o = {.before_repair = before_repair, .hook_arg = &rb};
	struct run_result res;
	struct err e = ERR_INIT;
	struct scenario *s;
	json_t *rep;
	char *a, *b;
	long long n;
	int sl;

	it_mkdtemp(dir, sizeof(dir), "sq-it-incident");
	snprintf(rb.dir, sizeof(rb.dir), "%s/rebuilt", dir);
	ck_assert_int_eq(it_sh("mkdir -p %s/rebuilt %s/saved", dir, dir), 0);
	/* the incident: 3 masters, a replica each; slot S of master 1 half
	 * moved to master 2; master 0's last 10 slots uncovered; master 2
	 * killed, its replica (node 5) kept from a failover */
	rp_up(3, 1, PERSIST_AOF, 20000);
	sl = rp_slot_with_keys(1, 0, 4);
	n = rp_count(1, sl);
	rp_half(1, 2, sl, n / 2);
	for (size_t i = 0; i < rp_lc.n; i++)
		rp_ok((int)i, "CLUSTER", "DELSLOTSRANGE", "5451", "5460", NULL);
	rp_ok(5, "CONFIG", "SET", "cluster-replica-no-failover", "yes", NULL);
	rp_kill(2);
	snprintf(path, sizeof(path), "%s/saved", dir);
	ck_assert_int_eq(save_views(rp_lc.nodes, rp_lc.n, path), 5);
	rp_down();

	ck_assert_int_eq(rp_cli(dir, "incident import -o incident.ini --name incident-rt "
				"--keys 20000 saved/node-*.txt"), 0);
	a = shape(dir, "incident.ini");
	snprintf(slot, sizeof(slot), "%d", sl);
	ck_assert_msg(strstr(a, "master.0 = 0-5450\n") && strstr(a, "replicas = 1\n") &&
		      strstr(a, "failed = master.2\n") && strstr(a, "nofailover = replica.2.0\n"),
		      "%s", a);
	snprintf(path, sizeof(path), "open = %d 1>2 50%%\n", sl);
	ck_assert_msg(strstr(a, path) != NULL, "no '%s' in:\n%s", path, a);

	/* the rebuild, compared before its repair; then repaired */
	snprintf(path, sizeof(path), "%s/incident.ini", dir);
	s = scenario_load(path, &e);
	ck_assert_msg(s != NULL, "%s", e.msg);
	snprintf(path, sizeof(path), "%s/results", dir);
	o.results = path;
	runner_run(s, &o, &res);
	ck_assert_msg(res.status == RUN_PASSED, "%s", res.reason);
	ck_assert_int_eq(rb.saved, 5);
	ck_assert_int_eq(rp_cli(dir, "incident import -o rebuilt.ini --name incident-rt "
				"--keys 20000 rebuilt/node-*.txt"), 0);
	b = shape(dir, "rebuilt.ini");
	ck_assert_str_eq(a, b);
	/* the report says what was built, and that nothing was lost */
	rep = it_report(path, "incident-rt");
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(rep, "layout"),
							    "uncovered_slots")), 10);
	ck_assert(json_is_true(json_object_get(json_object_get(rep, "layout"), "flagged")));
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(
				 json_object_get(rep, "verdict"), "lost_keys"), "count")), 0);
	json_decref(rep);
	free(a);
	free(b);
	scenario_free(s);
	it_sh("rm -rf %s", dir);
}
END_TEST

/* Bad input: FILE:LINE on stderr, exit 1; a usage error: exit 2. */
START_TEST(test_incident_cli_errors)
{
	char dir[PATH_MAX];
	char *err;

	it_mkdtemp(dir, sizeof(dir), "sq-it-incident-cli");
	ck_assert_int_eq(it_sh("printf '%s 1.2.3.4:6379@16379 myself,master - 0 0 1 "
			       "connected 0-16383\\n%s 1.2.3.5:6379@16379 master - 0\\n' > %s/cut.txt",
			       "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
			       "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", dir), 0);
	ck_assert_int_eq(rp_cli(dir, "incident import cut.txt"), 1);
	err = rp_read(dir, "err");
	ck_assert_msg(strstr(err, "shardquake: cut.txt:2: 5 fields: expected at least 8") != NULL,
		      "%s", err);
	free(err);
	ck_assert_int_eq(rp_cli(dir, "incident import"), 2);
	ck_assert_int_eq(rp_cli(dir, "incident import --engine magic cut.txt"), 2);
	ck_assert_int_eq(rp_cli(dir, "incident import --help"), 0);
	it_sh("rm -rf %s", dir);
}
END_TEST

Suite *
incident_suite(void)
{
	Suite *s = suite_create("incident");
	TCase *tc = tcase_create("import");

	tcase_set_timeout(tc, 180);
	tcase_add_test(tc, test_incident_round_trip);
	tcase_add_test(tc, test_incident_cli_errors);
	suite_add_tcase(s, tc);
	return s;
}
