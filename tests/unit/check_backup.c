/*
 * Unit tests of backup.json: written and read back the same, and every
 * wrong field refused with the file and the field's name.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cluster/backup.h"
#include "common/fs.h"

#define ID_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define ID_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

static char dir[] = "/tmp/sq-backup-XXXXXX";

/* A backup of two masters in a fresh directory, their RDB files there. */
static void
setup(void)
{
	struct err e = ERR_INIT;
	char path[128];

	snprintf(dir, sizeof(dir), "/tmp/sq-backup-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/node-7000", dir);
	ck_assert_int_eq(fs_mkdir_p(path, &e), 0);
	snprintf(path, sizeof(path), "%s/node-7000/dump.rdb", dir);
	ck_assert_int_eq(fs_write_file(path, "REDIS", 5, &e), 0);
	snprintf(path, sizeof(path), "%s/node-7001", dir);
	ck_assert_int_eq(fs_mkdir_p(path, &e), 0);
	snprintf(path, sizeof(path), "%s/node-7001/dump.rdb", dir);
	ck_assert_int_eq(fs_write_file(path, "REDIS", 5, &e), 0);
}

static void
teardown(void)
{
	fs_rm_rf(dir, NULL);
}

static void
two_masters(struct backup *b)
{
	static struct slot_range ra[] = {{0, 100}, {200, 8191}}, rb[] = {{8192, 16383}};

	memset(b, 0, sizeof(*b));
	b->time_ms = 1718000000123LL;
	b->done_ms = 1718000000200LL;
	snprintf(b->time, sizeof(b->time), "2024-06-10T06:13:20.123Z");
	snprintf(b->from, sizeof(b->from), "127.0.0.1:7000");
	b->n = 2;
	b->m = calloc(2, sizeof(*b->m));
	b->m[0] = (struct backup_master){.id = ID_A, .host = "127.0.0.1", .port = 7000,
					 .ranges = ra, .nranges = 2, .keys = 10, .bytes = 5,
					 .rdb = "node-7000/dump.rdb"};
	b->m[1] = (struct backup_master){.id = ID_B, .host = "127.0.0.1", .port = 7001,
					 .ranges = rb, .nranges = 1, .keys = 0, .bytes = 5,
					 .rdb = "node-7001/dump.rdb"};
}

START_TEST(test_backup_json_reads_back_what_was_written)
{
	struct backup b, r;
	struct err e = ERR_INIT;

	two_masters(&b);
	ck_assert_int_eq(backup_write(&b, dir, &e), 0);
	ck_assert_msg(backup_read(dir, &r, &e) == 0, "%s", e.msg);
	ck_assert_int_eq(r.n, 2);
	ck_assert_int_eq(r.time_ms, b.time_ms);
	ck_assert_int_eq(r.done_ms, b.done_ms);
	ck_assert_str_eq(r.time, b.time);
	ck_assert_str_eq(r.from, "127.0.0.1:7000");
	ck_assert_str_eq(r.m[0].id, ID_A);
	ck_assert_str_eq(r.m[0].host, "127.0.0.1");
	ck_assert_int_eq(r.m[0].port, 7000);
	ck_assert_int_eq(r.m[0].nranges, 2);
	ck_assert_int_eq(r.m[0].ranges[1].first, 200);
	ck_assert_int_eq(r.m[0].ranges[1].last, 8191);
	ck_assert_int_eq(r.m[1].ranges[0].last, 16383);
	ck_assert_str_eq(r.m[1].rdb, "node-7001/dump.rdb");
	ck_assert_int_eq(backup_keys(&r), 10);
	ck_assert_ptr_eq(backup_find(&r, ID_B), &r.m[1]);
	ck_assert_ptr_null(backup_find(&r, "x"));
	backup_release(&r);
	free(b.m);
}
END_TEST

/* A backup.json with `from` replaced by `to`, and the error it gives. */
static const struct {
	const char *from, *to, *error;
} bad_fields[] = {
	{"\"format\": 1", "\"format\": 2", "format 2: this shardquake reads format 1"},
	{"\"time_ms\": 1718000000123", "\"time_ms\": \"x\"", "time_ms: expected a positive"},
	{"\"id\": \"" ID_B "\"", "\"id\": \"bbb\"", "masters[1].id: expected a node id"},
	{"\"address\": \"127.0.0.1:7001\"", "\"address\": \"127.0.0.1\"",
	 "masters[1].address: expected HOST:PORT"},
	{"8192", "9000000", "masters[1].slots: expected [first, last] slot ranges"},
	{"\"keys\": 0", "\"keys\": -1", "masters[1].keys: expected a whole number >= 0"},
	{"node-7001/dump.rdb", "node-7009/dump.rdb", "masters[1].rdb: no file"},
	{"node-7001/dump.rdb", "../x.rdb", "masters[1].rdb: expected a path inside"},
};

START_TEST(test_backup_json_refuses_bad_fields)
{
	struct backup b, r;
	struct err e = ERR_INIT;
	char path[128], *text, *at, *out;

	two_masters(&b);
	ck_assert_int_eq(backup_write(&b, dir, &e), 0);
	free(b.m);
	snprintf(path, sizeof(path), "%s/backup.json", dir);
	text = fs_read_file(path, NULL, &e);
	ck_assert_ptr_nonnull(text);
	at = strstr(text, bad_fields[_i].from);
	ck_assert_msg(at != NULL, "row %d: '%s' not in %s", _i, bad_fields[_i].from, text);
	ck_assert_int_ge(asprintf(&out, "%.*s%s%s", (int)(at - text), text, bad_fields[_i].to,
				  at + strlen(bad_fields[_i].from)), 0);
	ck_assert_int_eq(fs_write_file(path, out, strlen(out), &e), 0);
	e = (struct err)ERR_INIT;
	ck_assert_int_eq(backup_read(dir, &r, &e), -1);
	ck_assert_msg(strstr(e.msg, bad_fields[_i].error) && strstr(e.msg, "backup.json"),
		      "row %d: %s", _i, e.msg);
	free(text);
	free(out);
}
END_TEST

START_TEST(test_backup_read_says_when_dir_is_no_backup)
{
	struct backup r;
	struct err e = ERR_INIT;

	ck_assert_int_eq(backup_read(dir, &r, &e), -1);
	ck_assert_msg(strstr(e.msg, "not a backup's directory"), "%s", e.msg);
}
END_TEST

Suite *
backup_suite(void)
{
	Suite *s = suite_create("backup");
	TCase *tc = tcase_create("json");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_backup_json_reads_back_what_was_written);
	tcase_add_loop_test(tc, test_backup_json_refuses_bad_fields, 0,
			    (int)(sizeof(bad_fields) / sizeof(bad_fields[0])));
	tcase_add_test(tc, test_backup_read_says_when_dir_is_no_backup);
	suite_add_tcase(s, tc);
	return s;
}
