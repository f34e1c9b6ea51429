/* Unit tests of the disk fault's parameters and of its life cycle
 * without a node (the real filter is tested in it_disk.c). */
#include <string.h>

#include "injectors/injector.h"
#include "tests/support/runner.h"

extern const struct injector_ops disk_injector;

/* A new disk fault from `p`, and what describe() says of it. */
static struct fault *
parse(const struct param *p, size_t n, char *desc, size_t len)
{
	struct params ps = {p, n};
	struct err e = ERR_INIT;
	struct fault *f = fault_new(&disk_injector, &ps, &e);

	ck_assert_msg(f != NULL, "%s", e.msg);
	disk_injector.describe(f, desc, len);
	return f;
}

START_TEST(test_disk_fills_every_member)
{
	ck_assert_str_eq(disk_injector.name, "disk");
	ck_assert_ptr_nonnull(disk_injector.parse);
	ck_assert_ptr_nonnull(disk_injector.check);
	ck_assert_ptr_nonnull(disk_injector.prepare);
	ck_assert_ptr_nonnull(disk_injector.in_child);
	ck_assert_ptr_nonnull(disk_injector.inject);
	ck_assert_ptr_nonnull(disk_injector.revert);
	ck_assert_ptr_nonnull(disk_injector.release);
	ck_assert_ptr_nonnull(disk_injector.describe);
}
END_TEST

START_TEST(test_disk_defaults_to_eio_on_write_and_fsync)
{
	char desc[512];
	struct fault *f = parse(NULL, 0, desc, sizeof(desc));

	ck_assert_msg(strncmp(desc, "node 0: disk fails with EIO: 0 write, 0 fsync failed;",
			      strlen("node 0: disk fails with EIO: 0 write, 0 fsync failed;")) == 0,
		      "%s", desc);
	fault_free(f);
}
END_TEST

/* Good parameters, and the start of what describe() says about them. */
static const struct {
	struct param p[3];
	size_t n;
	const char *desc;
} good[] = {
	{{{"errno", "ENOSPC", 2}}, 1, "node 0: disk fails with ENOSPC: 0 write, 0 fsync failed"},
	{{{"errno", "EDQUOT", 2}, {"calls", "open,rename", 3}},
	 2,
	 "node 0: disk fails with EDQUOT: 0 open, 0 rename failed"},
	{{{"calls", " ftruncate , write ", 2}}, 1, "node 0: disk fails with EIO: 0 write, 0 ftruncate failed"},
	{{{"calls", "write,fsync,open,rename,ftruncate", 2}},
	 1,
	 "node 0: disk fails with EIO: 0 write, 0 fsync, 0 open, 0 rename, 0 ftruncate failed"},
	{{{"slow_ms", "2s", 2}, {"calls", "fsync", 3}}, 2, "node 0: disk slow by 2000 ms: 0 fsync delayed"},
	{{{"slow_ms", "150", 2}, {"logs", "redis.log", 3}}, 2, "node 0: disk slow by 150 ms: 0 write, 0 fsync delayed"},
};

START_TEST(test_disk_parses_good_values)
{
	char desc[512];
	struct fault *f = parse(good[_i].p, good[_i].n, desc, sizeof(desc));

	ck_assert_msg(strncmp(desc, good[_i].desc, strlen(good[_i].desc)) == 0, "'%s' is not '%s...'",
		      desc, good[_i].desc);
	fault_free(f);
}
END_TEST

/* Bad parameters and the message each gets, naming its line. */
static const struct {
	struct param p[2];
	size_t n;
	const char *msg;
} bad[] = {
	{{{"errno", "EPERM", 4}}, 1, "line 4: errno = 'EPERM': expected EIO, ENOSPC or EDQUOT"},
	{{{"errno", "eio", 4}}, 1, "line 4: errno = 'eio': expected EIO, ENOSPC or EDQUOT"},
	{{{"calls", "write,sync", 5}},
	 1,
	 "line 5: calls = 'write,sync': 'sync' is not one of write, fsync, open, rename, "
	 "ftruncate"},
	{{{"calls", "", 6}}, 1,
	 "line 6: calls = '': '' is not one of write, fsync, open, rename, ftruncate"},
	{{{"calls", "write,", 6}}, 1,
	 "line 6: calls = 'write,': '' is not one of write, fsync, open, rename, ftruncate"},
	{{{"slow_ms", "fast", 7}},
	 1,
	 "line 7: slow_ms = 'fast': expected a duration such as 500, 500ms or 2s, at most 1 "
	 "hour"},
	{{{"slow_ms", "0", 8}}, 1, "line 8: slow_ms = '0': expected a delay of 1 ms or more"},
	{{{"logs", "../redis.log", 9}},
	 1,
	 "line 9: logs = '../redis.log': expected file names of the data dir, comma-separated"},
	{{{"logs", "redis.log,,redis.out", 9}},
	 1,
	 "line 9: logs = 'redis.log,,redis.out': expected file names of the data dir, "
	 "comma-separated"},
	{{{"size", "1", 3}}, 1, "line 3: 'size' is not a parameter of fault kind 'disk'"},
	{{{"errno", "ENOSPC", 4}, {"slow_ms", "100", 8}},
	 2,
	 "line 8: slow_ms and errno (line 4) exclude each other: a slow disk does not fail"},
};

START_TEST(test_disk_refuses_bad_values_naming_the_line)
{
	struct params ps = {bad[_i].p, bad[_i].n};
	struct err e = ERR_INIT;

	ck_assert_ptr_null(fault_new(&disk_injector, &ps, &e));
	ck_assert_str_eq(e.msg, bad[_i].msg);
}
END_TEST

/* Before any node: revert and release do nothing, twice over, and
 * inject refuses (no filter to arm). */
START_TEST(test_disk_life_cycle_without_a_node_is_harmless)
{
	struct proc pr = PROC_INIT;
	struct target t = {.proc = &pr, .dir = "/tmp", .port = 7};
	struct err e = ERR_INIT;
	char desc[512];
	struct fault *f = parse(NULL, 0, desc, sizeof(desc));

	ck_assert_int_eq(f->ops->revert(f, &e), 0);
	ck_assert_int_eq(f->ops->revert(f, &e), 0);
	f->ops->release(f);
	f->ops->release(f);
	ck_assert_int_eq(f->ops->inject(f, &t, &e), -1);
	ck_assert_str_eq(e.msg, "disk node 7: not started under the filter (no prepare)");
	ck_assert(!f->injected);
	fault_free(f);
}
END_TEST

Suite *
disk_suite(void)
{
	Suite *s = suite_create("disk");
	TCase *tc = tcase_create("params");

	tcase_add_test(tc, test_disk_fills_every_member);
	tcase_add_test(tc, test_disk_defaults_to_eio_on_write_and_fsync);
	tcase_add_loop_test(tc, test_disk_parses_good_values, 0, (int)(sizeof(good) / sizeof(good[0])));
	tcase_add_loop_test(tc, test_disk_refuses_bad_values_naming_the_line, 0,
			    (int)(sizeof(bad) / sizeof(bad[0])));
	tcase_add_test(tc, test_disk_life_cycle_without_a_node_is_harmless);
	suite_add_tcase(s, tc);
	return s;
}
