/* Unit tests of common/: errors, buffers, the seeded generator, files. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/fs.h"
#include "common/port.h"
#include "common/proc.h"
#include "common/rng.h"
#include "common/utf8.h"
#include "tests/support/runner.h"

START_TEST(test_err_set_formats_and_returns_minus_one)
{
	struct err e = ERR_INIT;

	ck_assert_int_eq(err_set(&e, 5, "connect to '%s': %s", "h:1", "refused"), -1);
	ck_assert_str_eq(e.msg, "connect to 'h:1': refused");
	ck_assert_int_eq(e.code, 5);
}
END_TEST

START_TEST(test_err_prefix_adds_context_in_front)
{
	struct err e = ERR_INIT;

	err_set(&e, 0, "bad slot");
	ck_assert_int_eq(err_prefix(&e, "line %d: ", 3), -1);
	ck_assert_str_eq(e.msg, "line 3: bad slot");
}
END_TEST

START_TEST(test_err_set_tolerates_null_record)
{
	ck_assert_int_eq(err_set(NULL, 1, "x"), -1);
	ck_assert_int_eq(err_prefix(NULL, "y"), -1);
}
END_TEST

START_TEST(test_buf_grows_and_detaches)
{
	struct buf b = BUF_INIT;
	char *s;
	int i;

	ck_assert_str_eq(buf_str(&b), "");
	for (i = 0; i < 1000; i++)
		buf_addf(&b, "%d,", i);
	ck_assert_uint_eq(b.len, strlen(b.s));
	ck_assert(strncmp(b.s, "0,1,2,", 6) == 0);
	ck_assert(strstr(b.s, ",999,") != NULL);
	s = buf_detach(&b);
	ck_assert_ptr_null(b.s);
	ck_assert_uint_eq(b.len, 0);
	free(s);
}
END_TEST

START_TEST(test_buf_addf_longer_than_first_reserve)
{
	struct buf b = BUF_INIT;
	char big[300];

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	buf_addf(&b, "<%s>", big);
	ck_assert_uint_eq(b.len, sizeof(big) + 1);
	ck_assert_int_eq(b.s[b.len - 1], '>');
	buf_release(&b);
}
END_TEST

START_TEST(test_rng_same_seed_same_sequence)
{
	struct rng a, b, c;
	int i, differ = 0;

	rng_init(&a, 42);
	rng_init(&b, 42);
	rng_init(&c, 43);
	for (i = 0; i < 100; i++) {
		uint64_t x = rng_next(&a);
		ck_assert_uint_eq(x, rng_next(&b));
		differ += x != rng_next(&c);
	}
	ck_assert_int_gt(differ, 95);
}
END_TEST

START_TEST(test_rng_below_stays_in_range_and_covers_it)
{
	struct rng r;
	int seen[7] = {0}, i;

	rng_init(&r, 7);
	for (i = 0; i < 7000; i++) {
		uint64_t x = rng_below(&r, 7);
		ck_assert_uint_lt(x, 7);
		seen[x]++;
	}
	for (i = 0; i < 7; i++)
		ck_assert_int_gt(seen[i], 800);
}
END_TEST

START_TEST(test_fs_write_read_last_line_and_rm_rf)
{
	char dir[] = "/tmp/sq-fs-XXXXXX", path[64], sub[64], last[32];
	struct err e = ERR_INIT;
	size_t len;
	char *data;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(sub, sizeof(sub), "%s/a/b/c", dir);
	ck_assert_int_eq(fs_mkdir_p(sub, &e), 0);
	snprintf(path, sizeof(path), "%s/a/b/c/f.txt", dir);
	ck_assert_int_eq(fs_write_file(path, "one\ntwo\n\n", 9, &e), 0);
	data = fs_read_file(path, &len, &e);
	ck_assert_uint_eq(len, 9);
	ck_assert_str_eq(data, "one\ntwo\n\n");
	free(data);
	fs_last_line(path, last, sizeof(last));
	ck_assert_str_eq(last, "two");
	ck_assert_int_eq(fs_rm_rf(dir, &e), 0);
	ck_assert_int_ne(access(dir, F_OK), 0);
	ck_assert_int_eq(fs_rm_rf(dir, &e), 0); /* missing: no error */
}
END_TEST

START_TEST(test_fs_read_missing_file_names_it)
{
	struct err e = ERR_INIT;

	ck_assert_ptr_null(fs_read_file("/nonexistent/sq", NULL, &e));
	ck_assert_str_eq(e.msg, "open '/nonexistent/sq': No such file or directory");
}
END_TEST

/* A copy some process works in (here below it) is kept; the others go,
 * and nothing that does not match. */
START_TEST(test_fs_remove_unused_keeps_what_a_process_works_in)
{
	char top[] = "/tmp/sq-unused-XXXXXX", path[256], pattern[256];
	struct err e = ERR_INIT;
	int removed = -1, fd[2];
	pid_t pid;
	char c;

	ck_assert_ptr_nonnull(mkdtemp(top));
	snprintf(path, sizeof(path), "%s/copy-a/sub", top);
	ck_assert_int_eq(fs_mkdir_p(path, &e), 0);
	snprintf(path, sizeof(path), "%s/copy-b", top);
	ck_assert_int_eq(fs_mkdir_p(path, &e), 0);
	snprintf(path, sizeof(path), "%s/keep-c", top);
	ck_assert_int_eq(fs_mkdir_p(path, &e), 0);
	ck_assert_int_eq(pipe(fd), 0);
	if ((pid = fork()) == 0) { /* works in copy-a/sub until told */
		snprintf(path, sizeof(path), "%s/copy-a/sub", top);
		if (chdir(path) == 0 && write(fd[1], "x", 1) == 1)
			pause(); /* until killed */
		_exit(0);
	}
	ck_assert_int_eq(read(fd[0], &c, 1), 1);
	snprintf(pattern, sizeof(pattern), "%s/copy-*", top);
	ck_assert_int_eq(fs_remove_unused(pattern, &removed, &e), 0);
	ck_assert_int_eq(removed, 1);
	snprintf(path, sizeof(path), "%s/copy-a", top);
	ck_assert_int_eq(access(path, F_OK), 0);
	snprintf(path, sizeof(path), "%s/copy-b", top);
	ck_assert_int_ne(access(path, F_OK), 0);
	snprintf(path, sizeof(path), "%s/keep-c", top);
	ck_assert_int_eq(access(path, F_OK), 0);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	ck_assert_int_eq(fs_remove_unused(pattern, &removed, &e), 0);
	ck_assert_int_eq(removed, 1);
	ck_assert_int_eq(fs_rm_rf(top, &e), 0);
}
END_TEST

START_TEST(test_proc_start_reports_missing_binary)
{
	const char *argv[] = {"/nonexistent/redis-server", NULL};
	struct proc p = PROC_INIT;
	struct err e = ERR_INIT;

	p.argv = argv;
	ck_assert_int_eq(proc_start(&p, &e), -1);
	ck_assert_str_eq(e.msg, "start '/nonexistent/redis-server': No such file or directory");
}
END_TEST

static int
refuse(void *arg)
{
	(void)arg;
	return EACCES;
}

/* A hook that fails before exec stops the start, and says so. */
START_TEST(test_proc_in_child_failure_fails_the_start)
{
	const char *argv[] = {"sleep", "5", NULL};
	struct proc p = PROC_INIT;
	struct err e = ERR_INIT;

	p.argv = argv;
	p.in_child = refuse;
	ck_assert_int_eq(proc_start(&p, &e), -1);
	ck_assert_int_eq(e.code, EACCES);
	ck_assert_str_eq(e.msg, "start 'sleep': before exec: Permission denied");
	ck_assert_int_eq(p.pid, 0);
}
END_TEST

START_TEST(test_proc_kill_reaps_and_describes)
{
	const char *argv[] = {"sleep", "30", NULL};
	struct proc p = PROC_INIT;
	struct err e = ERR_INIT;

	p.argv = argv;
	ck_assert_int_eq(proc_start(&p, &e), 0);
	ck_assert(proc_is_running(&p));
	ck_assert_int_eq(proc_wait(&p, 50, &e), -1); /* still running */
	proc_kill(&p);
	ck_assert(!proc_is_running(&p));
	ck_assert_str_eq(proc_describe_status(p.status), "killed by signal 9 (Killed)");
	ck_assert_int_eq(proc_signal(&p, 15, &e), -1);
	proc_kill(&p); /* twice: no-op */
}
END_TEST

/* A child keeps only 0-2: an fd the harness left inheritable (a hiredis
 * socket, a log) does not leak into a node that may outlive the run. */
START_TEST(test_proc_child_inherits_no_open_fd)
{
	char out[] = "/tmp/sq-check-fd-XXXXXX", cmd[64];
	const char *argv[] = {"sh", "-c", cmd, NULL};
	struct proc p = PROC_INIT;
	struct err e = ERR_INIT;
	int fd = mkstemp(out), leak = dup(fd); /* dup: not close-on-exec */
	char *said;

	ck_assert_int_ge(leak, 3);
	snprintf(cmd, sizeof(cmd), "test -e /proc/self/fd/%d && echo leaked || echo closed", leak);
	p.argv = argv;
	p.out_path = out;
	ck_assert_int_eq(proc_start(&p, &e), 0);
	ck_assert_int_eq(proc_wait(&p, 5000, &e), 0);
	said = fs_read_file(out, NULL, &e);
	ck_assert_ptr_nonnull(said);
	ck_assert_str_eq(said, "closed\n");
	free(said);
	close(leak);
	close(fd);
	unlink(out);
}
END_TEST

/* A port claimed once is not claimed again (another process, or another
 * cluster of this one) until it is given back. */
START_TEST(test_port_claim_is_exclusive_until_given_back)
{
	struct err e = ERR_INIT;
	int port = port_free_loopback(&e), a, b, n;
	char path[64];

	ck_assert_msg(port > 0, "%s", e.msg);
	a = port_claim(port);
	if (a == -2)
		test_skip("port: no registry under /tmp here");
	ck_assert_int_ge(a, 0);
	ck_assert_int_eq(port_claim(port), -1);
	port_release(port, a);
	snprintf(path, sizeof(path), "/tmp/shardquake-ports/%d", port);
	ck_assert_msg(access(path, F_OK) < 0, "%s is left behind", path);
	ck_assert_int_ge(b = port_claim(port), 0);
	ck_assert_int_eq(access(path, F_OK), 0);
	/* a claim held is not cleaned; one whose holder is gone is */
	port_clean(&n);
	ck_assert_int_eq(access(path, F_OK), 0);
	close(b); /* as a process killed before it gave the port back */
	port_clean(&n);
	ck_assert_int_ge(n, 1);
	ck_assert_msg(access(path, F_OK) < 0, "%s is left behind", path);
}
END_TEST

START_TEST(test_utf8_keeps_text_and_replaces_only_bad_bytes)
{
	char ok[] = "key \xc3\xa9t\xc3\xa9 \xe2\x82\xac \xf0\x9f\x92\xa5";
	char bad[] = "a\xff" "b\xc3" "c\xe2\x82" "d\xc0\xaf" "e\xed\xa0\x80" "f\xf4\x90\x80\x80";
	char cut[] = "\xe2\x82"; /* a sequence cut by a 1024-byte line limit */

	ck_assert(utf8_valid(ok));
	ck_assert_str_eq(utf8_sanitize(ok), "key \xc3\xa9t\xc3\xa9 \xe2\x82\xac \xf0\x9f\x92\xa5");
	ck_assert(!utf8_valid(bad));
	ck_assert_str_eq(utf8_sanitize(bad), "a?b?c??d??e???f????");
	ck_assert(utf8_valid(bad));
	ck_assert_str_eq(utf8_sanitize(cut), "??");
}
END_TEST

Suite *
common_suite(void)
{
	Suite *s = suite_create("common");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_err_set_formats_and_returns_minus_one);
	tcase_add_test(tc, test_port_claim_is_exclusive_until_given_back);
	tcase_add_test(tc, test_err_prefix_adds_context_in_front);
	tcase_add_test(tc, test_err_set_tolerates_null_record);
	tcase_add_test(tc, test_buf_grows_and_detaches);
	tcase_add_test(tc, test_buf_addf_longer_than_first_reserve);
	tcase_add_test(tc, test_rng_same_seed_same_sequence);
	tcase_add_test(tc, test_rng_below_stays_in_range_and_covers_it);
	tcase_add_test(tc, test_fs_write_read_last_line_and_rm_rf);
	tcase_add_test(tc, test_fs_read_missing_file_names_it);
	tcase_add_test(tc, test_fs_remove_unused_keeps_what_a_process_works_in);
	tcase_add_test(tc, test_proc_start_reports_missing_binary);
	tcase_add_test(tc, test_proc_kill_reaps_and_describes);
	tcase_add_test(tc, test_proc_in_child_failure_fails_the_start);
	tcase_add_test(tc, test_proc_child_inherits_no_open_fd);
	tcase_add_test(tc, test_utf8_keeps_text_and_replaces_only_bad_bytes);
	suite_add_tcase(s, tc);
	return s;
}
