/*
 * `shardquake repair` as a person runs it: the plan, a line per phase
 * and the result on the terminal; the audit (every command and reply)
 * in a file of its own in the working directory, on stderr only with -v.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/integration/repair_util.h"
#include "tests/support/itutil.h"
#include "tests/support/runner.h"

START_TEST(test_audit_goes_to_a_file_not_the_terminal)
{
	char dir[PATH_MAX], bin[PATH_MAX], *out, *err;
	int slot;

	rp_up(3, 0, PERSIST_NONE, 20000);
	it_mkdtemp(dir, sizeof(dir), "sq-it-cli");
	slot = rp_slot_with_keys(0, 0, 4);
	rp_half(0, 1, slot, rp_count(0, slot) / 2);
	ck_assert_int_eq(rp_cli(dir, "repair 127.0.0.1:%d", rp_lc.nodes[0].port), 0);
	out = rp_read(dir, "out");
	err = rp_read(dir, "err");
	ck_assert_msg(strstr(out, "1. fix: slot") && strstr(out, "healthy"), "%s", out);
	/* progress, a line a phase (not a terminal), and where the audit is */
	ck_assert_msg(strstr(err, "repair: round 1: move\n"), "%s", err);
	ck_assert_msg(strstr(err, "audit log: shardquake-repair-"), "%s", err);
	ck_assert_msg(strstr(err, "MIGRATE") == NULL, "the audit went to stderr:\n%s", err);
	free(out);
	free(err);
	ck_assert_int_eq(it_sh("grep -q ' > MIGRATE ' %s/shardquake-repair-*.audit", dir), 0);
	/* -v: on stderr as well */
	slot = rp_slot_with_keys(0, slot + 1, 4);
	rp_half(0, 1, slot, rp_count(0, slot) / 2);
	ck_assert_int_eq(rp_cli(dir, "-v repair 127.0.0.1:%d", rp_lc.nodes[0].port), 0);
	err = rp_read(dir, "err");
	ck_assert_msg(strstr(err, " > MIGRATE "), "%s", err);
	free(err);
	ck_assert_int_eq(it_sh("test $(ls %s/shardquake-repair-*.audit | wc -l) -eq 2", dir), 0);
	/* on a terminal: one line, rewritten as the repair goes */
	slot = rp_slot_with_keys(0, slot + 1, 4);
	rp_half(0, 1, slot, rp_count(0, slot) / 2);
	ck_assert_ptr_nonnull(realpath(getenv("SQ_BIN") ? getenv("SQ_BIN") : "build/shardquake",
				       bin));
	ck_assert_int_eq(it_sh("cd %s && script -qec '%s repair 127.0.0.1:%d' tty.txt >/dev/null",
			       dir, bin, rp_lc.nodes[0].port), 0);
	err = rp_read(dir, "tty.txt");
	ck_assert_msg(strstr(err, "\r\033[Krepair: round 1: move"), "%s", err);
	ck_assert_msg(strstr(err, "repair: round 1: move\n") == NULL, "%s", err);
	free(err);
	/* a dry run changes nothing and leaves no audit */
	ck_assert_int_eq(rp_cli(dir, "repair --dry-run 127.0.0.1:%d", rp_lc.nodes[0].port), 0);
	ck_assert_int_eq(it_sh("test $(ls %s/shardquake-repair-*.audit | wc -l) -eq 3", dir), 0);
	it_sh("rm -rf %s", dir);
	rp_down();
}
END_TEST

Suite *
repair_cli_suite(void)
{
	Suite *s = suite_create("repair_cli");
	TCase *tc = tcase_create("cli");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_audit_goes_to_a_file_not_the_terminal);
	suite_add_tcase(s, tc);
	return s;
}
