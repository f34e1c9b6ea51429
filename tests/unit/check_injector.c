/* Unit tests of the injector table and the kinds' parameter parsing. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "injectors/injector.h"
#include "tests/support/runner.h"

START_TEST(test_injector_table_names_unique_and_complete)
{
	const struct injector_ops *const *a, *const *b;

	for (a = injector_table; *a; a++) {
		ck_assert_ptr_nonnull((*a)->name);
		ck_assert_ptr_nonnull((*a)->parse);
		ck_assert_ptr_nonnull((*a)->params);
		ck_assert_ptr_nonnull((*a)->inject);
		ck_assert_ptr_eq(injector_find((*a)->name), *a);
		for (b = a + 1; *b; b++)
			ck_assert_str_ne((*a)->name, (*b)->name);
	}
	ck_assert_ptr_null(injector_find("nope"));
}
END_TEST

START_TEST(test_kill_grace_needs_term)
{
	struct param p[] = {{"grace_ms", "100", 4}};
	struct params ps = {p, 1};
	struct err e = ERR_INIT;

	ck_assert_ptr_null(fault_new(injector_find("kill"), &ps, &e));
	ck_assert_str_eq(e.msg, "line 4: grace_ms goes with signal = TERM only");
}
END_TEST

START_TEST(test_kill_bad_signal_names_line)
{
	struct param p[] = {{"signal", "HUP", 7}};
	struct params ps = {p, 1};
	struct err e = ERR_INIT;

	ck_assert_ptr_null(fault_new(injector_find("kill"), &ps, &e));
	ck_assert_str_eq(e.msg, "line 7: signal = 'HUP': expected KILL or TERM");
}
END_TEST

START_TEST(test_kill_aof_written_is_yes_or_no)
{
	struct param p[] = {{"aof_written", "no", 6}};
	struct params ps = {p, 1};
	struct err e = ERR_INIT;
	struct fault *f = fault_new(injector_find("kill"), &ps, &e);

	ck_assert_msg(f != NULL, "%s", e.msg);
	fault_free(f);
	p[0].value = "maybe";
	ck_assert_ptr_null(fault_new(injector_find("restart"), &ps, &e));
	ck_assert_str_eq(e.msg, "line 6: aof_written = 'maybe': expected yes or no");
}
END_TEST

/* A node's INFO persistence, as the harness's command hook gives it:
 * an fsync in flight for the first `busy` questions, `held` bytes of
 * AOF buffer. */
struct fake_node {
	int asked, busy, aof, held;
};

static int
fake_info(void *arg, const char *const *argv, char *out, size_t n, struct err *e)
{
	struct fake_node *f = arg;

	(void)e;
	ck_assert_str_eq(argv[0], "INFO");
	snprintf(out, n, "# Persistence\r\naof_enabled:%d\r\naof_buffer_length:%d\r\n"
		 "aof_pending_bio_fsync:%d\r\n", f->aof, f->held, f->asked++ < f->busy);
	return 0;
}

/* A SIGKILL waits while an AOF fsync is in flight (Redis holds writes
 * back meanwhile), at most so long; not at all without an AOF or a way
 * to ask. */
START_TEST(test_aof_caught_up_waits_for_the_fsync)
{
	struct fake_node node = {.busy = 3, .aof = 1, .held = 120};
	struct target t = {.port = 7000, .command = fake_info, .command_arg = &node};

	ck_assert_int_ge(target_aof_caught_up(&t, 2000), 10);
	ck_assert_int_eq(node.asked, 4);
	node = (struct fake_node){.busy = 1000, .aof = 1, .held = 120};
	ck_assert_int_eq(target_aof_caught_up(&t, 30), -1);
	ck_assert_int_gt(node.asked, 1);
	/* an fsync in flight, but nothing held back */
	node = (struct fake_node){.busy = 1000, .aof = 1, .held = 0};
	ck_assert_int_eq(target_aof_caught_up(&t, 2000), 0);
	ck_assert_int_eq(node.asked, 1);
	node = (struct fake_node){.busy = 1000, .aof = 0, .held = 120};
	ck_assert_int_eq(target_aof_caught_up(&t, 2000), 0);
	ck_assert_int_eq(node.asked, 1);
	t.command = NULL;
	ck_assert_int_eq(target_aof_caught_up(&t, 2000), 0);
}
END_TEST

START_TEST(test_pause_parses_duration)
{
	struct param p[] = {{"duration_ms", "2s", 3}};
	struct params ps = {p, 1};
	struct err e = ERR_INIT;
	struct fault *f = fault_new(injector_find("pause"), &ps, &e);

	ck_assert_msg(f != NULL, "%s", e.msg);
	/* it ends by itself: the harness waits for the node to answer */
	ck_assert(!f->ops->until_reverted(f));
	fault_free(f); /* revert of a fault never injected: a no-op */
	/* duration 0: stopped until reverted, noticed rather than waited for */
	p[0].value = "0";
	f = fault_new(injector_find("pause"), &ps, &e);
	ck_assert_msg(f != NULL, "%s", e.msg);
	ck_assert(f->ops->until_reverted(f));
	fault_free(f);
}
END_TEST

/* partition hold_ms: a duration, or an error naming its line. */
START_TEST(test_partition_hold_parses_duration)
{
	struct param p[] = {{"hold_ms", "8s", 5}};
	struct params ps = {p, 1};
	struct err e = ERR_INIT;
	struct fault *f = fault_new(injector_find("partition"), &ps, &e);

	ck_assert_msg(f != NULL, "%s", e.msg);
	fault_free(f);
	p[0].value = "soon";
	ck_assert_ptr_null(fault_new(injector_find("partition"), &ps, &e));
	ck_assert_msg(strncmp(e.msg, "line 5: hold_ms", 15) == 0, "%s", e.msg);
}
END_TEST

/* The state letter of /proc/PID/stat: 'T' stopped, 'S' sleeping. */
static char
state_of(pid_t pid)
{
	char path[64], state = '?';
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((f = fopen(path, "r")) != NULL) {
		if (fscanf(f, "%*d (%*[^)]) %c", &state) != 1)
			state = '?';
		fclose(f);
	}
	return state;
}

/* Whether the state letter becomes (or stops being) `c` within 2 s:
 * signals are delivered asynchronously. */
static bool
state_settles(pid_t pid, char c, bool is)
{
	int i;

	for (i = 0; i < 200; i++) {
		if ((state_of(pid) == c) == is)
			return true;
		usleep(10000);
	}
	return false;
}

/* A pause until teardown stops the node and revert resumes it, twice
 * over (inject arms it again).  Once the node is killed and reaped (a
 * second fault), revert still succeeds; that it signals no stranger who
 * got the pid meanwhile is the pidfd's doing, which a test cannot
 * provoke (it would need the pid reused). */
START_TEST(test_pause_resumes_its_node_and_nothing_else)
{
	const char *argv[] = {"sleep", "30", NULL};
	struct param p[] = {{"duration_ms", "0", 3}};
	struct params ps = {p, 1};
	struct proc pr = PROC_INIT;
	struct target t = {.proc = &pr, .dir = "/tmp", .port = 1};
	struct err e = ERR_INIT;
	struct fault *f = fault_new(injector_find("pause"), &ps, &e);

	ck_assert_msg(f != NULL, "%s", e.msg);
	pr.argv = argv;
	ck_assert_int_eq(proc_start(&pr, &e), 0);
	ck_assert_msg(f->ops->inject(f, &t, &e) == 0, "%s", e.msg);
	ck_assert(state_settles(pr.pid, 'T', true));
	ck_assert_int_eq(f->ops->revert(f, &e), 0);
	ck_assert(state_settles(pr.pid, 'T', false));
	ck_assert_msg(f->ops->inject(f, &t, &e) == 0, "%s", e.msg);
	ck_assert(state_settles(pr.pid, 'T', true));
	ck_assert_int_eq(f->ops->revert(f, &e), 0);
	ck_assert(state_settles(pr.pid, 'T', false));
	ck_assert_msg(f->ops->inject(f, &t, &e) == 0, "%s", e.msg);
	proc_kill(&pr); /* reaped: the pid is free for anyone */
	ck_assert_int_eq(f->ops->revert(f, &e), 0);
	ck_assert_int_eq(f->ops->revert(f, &e), 0); /* idempotent */
	fault_free(f);
}
END_TEST

Suite *
injector_suite(void)
{
	Suite *s = suite_create("injector");
	TCase *tc = tcase_create("table");

	tcase_add_test(tc, test_injector_table_names_unique_and_complete);
	tcase_add_test(tc, test_kill_grace_needs_term);
	tcase_add_test(tc, test_kill_bad_signal_names_line);
	tcase_add_test(tc, test_kill_aof_written_is_yes_or_no);
	tcase_add_test(tc, test_aof_caught_up_waits_for_the_fsync);
	tcase_add_test(tc, test_pause_parses_duration);
	tcase_add_test(tc, test_partition_hold_parses_duration);
	tcase_add_test(tc, test_pause_resumes_its_node_and_nothing_else);
	suite_add_tcase(s, tc);
	return s;
}
