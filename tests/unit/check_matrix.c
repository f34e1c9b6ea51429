/*
 * Unit tests of the crash-point matrix's cells: how many, named how,
 * split into shards whose union is exactly the whole, and each cell a
 * scenario the loader takes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness/scenario/matrix.h"
#include "harness/scenario/scenario.h"
#include "tests/support/runner.h"

START_TEST(test_whole_matrix_and_its_shards)
{
	struct matrix_opts o = {0};
	struct matrix_cell *all, *part;
	size_t n, total, t2, i, k, seen = 0;
	int shard;
	char *hit;

	matrix_defaults(&o);
	n = matrix_cells(&o, &all, &total);
	/* 8 kinds x 6 steps x (3 master roles with and without a replica + 2 replicas) */
	ck_assert_uint_eq(total, 8 * 6 * 8);
	ck_assert_uint_eq(n, total);
	ck_assert_str_eq(all[0].name, "kill-importing-source");
	ck_assert_str_eq(all[1].name, "kill-importing-source-r1");
	hit = calloc(total, 1);
	for (shard = 1; shard <= 5; shard++) {
		struct matrix_opts s = o;

		s.shard = shard;
		s.nshards = 5;
		for (i = 0, k = matrix_cells(&s, &part, &t2); i < k; i++) {
			ck_assert_uint_eq(t2, total);
			ck_assert_int_eq(hit[part[i].index], 0); /* in one shard only */
			hit[part[i].index] = 1;
			ck_assert_str_eq(part[i].name, all[part[i].index].name);
			seen++;
		}
		free(part);
	}
	ck_assert_uint_eq(seen, total);
	free(hit);
	free(all);
}
END_TEST

/* Every cell of the whole matrix, for each engine, loads. */
START_TEST(test_every_cell_is_a_scenario)
{
	static const char *const engines[] = {"shardquake", "redis-cli", "exec"};
	struct matrix_opts o = {0};
	struct matrix_cell *c;
	size_t n, total, i;
	int k;

	matrix_defaults(&o);
	for (k = 0; k < 3; k++) {
		o.engine = engines[k];
		o.command = k == 2 ? "./fix.sh" : NULL;
		n = matrix_cells(&o, &c, &total);
		for (i = 0; i < n; i++) {
			char path[] = "/tmp/sq-matrix-XXXXXX", *text = matrix_scenario(&o, &c[i]);
			struct err e = ERR_INIT;
			struct scenario *s;
			int fd = mkstemp(path);
			FILE *f = fdopen(fd, "w");

			fputs(text, f);
			fclose(f);
			s = scenario_load(path, &e);
			ck_assert_msg(s != NULL, "%s (%s): %s", c[i].name, engines[k], e.msg);
			ck_assert_str_eq(s->name, c[i].name);
			ck_assert_int_eq(s->replicas, c[i].replicas);
			/* the bundled engine may promote where the cluster would */
			ck_assert(s->repair_failover == (k == 0 && c[i].replicas > 0));
			scenario_free(s);
			unlink(path);
			free(text);
		}
		free(c);
	}
}
END_TEST

/* The server axis: Valkey's cells follow Redis's, which keep their
 * numbers (and shards); each names its server in [cluster]. */
START_TEST(test_the_server_is_one_more_axis)
{
	struct matrix_opts one = {0}, two = {0};
	struct matrix_cell *a, *b;
	size_t n1, n2, t1, t2, i;
	char list[] = "redis,valkey";
	struct err e = ERR_INIT;

	matrix_defaults(&one);
	ck_assert_int_eq(matrix_list("--servers", list, matrix_servers, two.servers,
				     &two.nservers, &e), 0);
	matrix_defaults(&two);
	n1 = matrix_cells(&one, &a, &t1);
	n2 = matrix_cells(&two, &b, &t2);
	ck_assert_uint_eq(n2, 2 * n1);
	ck_assert_uint_eq(t2, 2 * t1);
	for (i = 0; i < n1; i++) {
		char want[128], *text;
		struct scenario *sc;
		char path[] = "/tmp/sq-matrix-XXXXXX";
		int fd;
		FILE *f;

		ck_assert_str_eq(b[i].name, a[i].name);
		ck_assert_str_eq(b[i].server, "redis");
		snprintf(want, sizeof(want), "%s-valkey", a[i].name);
		ck_assert_str_eq(b[n1 + i].name, want);
		ck_assert_str_eq(b[n1 + i].server, "valkey");
		if (i % 50) /* a sample loaded */
			continue;
		text = matrix_scenario(&two, &b[n1 + i]);
		fd = mkstemp(path);
		f = fdopen(fd, "w");
		fputs(text, f);
		fclose(f);
		sc = scenario_load(path, &e);
		ck_assert_msg(sc != NULL, "%s", e.msg);
		ck_assert_str_eq(sc->server, "valkey");
		scenario_free(sc);
		unlink(path);
		free(text);
	}
	free(a);
	free(b);
}
END_TEST

START_TEST(test_lists_are_checked)
{
	struct matrix_opts o = {0};
	struct err e = ERR_INIT;
	char good[] = "kill,oom", bad[] = "kill,explode";

	ck_assert_int_eq(matrix_list("--kinds", good, matrix_kinds, o.kinds, &o.nkinds, &e), 0);
	ck_assert_uint_eq(o.nkinds, 2);
	ck_assert_str_eq(o.kinds[1], "oom");
	ck_assert_int_eq(matrix_list("--kinds", bad, matrix_kinds, o.kinds, &o.nkinds, &e), -1);
	ck_assert_msg(strstr(e.msg, "--kinds 'explode': expected some of kill, pause"), "%s",
		      e.msg);
}
END_TEST

Suite *
matrix_suite(void)
{
	Suite *s = suite_create("matrix");
	TCase *tc = tcase_create("cells");

	tcase_add_test(tc, test_whole_matrix_and_its_shards);
	tcase_add_test(tc, test_every_cell_is_a_scenario);
	tcase_add_test(tc, test_lists_are_checked);
	tcase_add_test(tc, test_the_server_is_one_more_axis);
	suite_add_tcase(s, tc);
	return s;
}
