/* Unit tests of harness/cli/cli.c: numbers and addresses from the command line. */
#include <stdio.h>
#include <string.h>

#include "harness/cli/cli.h"
#include "tests/support/runner.h"

static const struct {
	const char *in;
	int ok;
	const char *host;
	int port;
} addr_rows[] = {
	{"127.0.0.1:7000", 0, "127.0.0.1", 7000},
	{"localhost:1", 0, "localhost", 1},
	{"[::1]:7001", 0, "::1", 7001},
	{"::1:7001", 0, "::1", 7001},
	{"127.0.0.1", -1, NULL, 0},
	{":7000", -1, NULL, 0},
	{"h:0", -1, NULL, 0},
	{"h:65536", -1, NULL, 0},
	{"h:70x", -1, NULL, 0},
	{"h:", -1, NULL, 0},
};

START_TEST(test_cli_parse_addr_row)
{
	char host[64] = "";
	int port = 0, rc = cli_parse_addr(addr_rows[_i].in, host, sizeof(host), &port);

	ck_assert_msg(rc == addr_rows[_i].ok, "row %d '%s'", _i, addr_rows[_i].in);
	if (rc == 0) {
		ck_assert_str_eq(host, addr_rows[_i].host);
		ck_assert_int_eq(port, addr_rows[_i].port);
	}
}
END_TEST

START_TEST(test_cli_parse_ll_bounds)
{
	long long v = -1;

	ck_assert_int_eq(cli_parse_ll("--keys", "100000", 0, 1000000, &v), 0);
	ck_assert_int_eq(v, 100000);
	ck_assert_int_eq(cli_parse_ll("--keys", "1000001", 0, 1000000, &v), -1);
	ck_assert_int_eq(cli_parse_ll("--keys", "-1", 0, 10, &v), -1);
	ck_assert_int_eq(cli_parse_ll("--keys", "12k", 0, 100000, &v), -1);
	ck_assert_int_eq(cli_parse_ll("--keys", "", 0, 10, &v), -1);
	ck_assert_int_eq(v, 100000); /* unchanged on failure */
}
END_TEST

Suite *
cli_suite(void)
{
	Suite *s = suite_create("cli");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_cli_parse_addr_row, 0,
			    (int)(sizeof(addr_rows) / sizeof(addr_rows[0])));
	tcase_add_test(tc, test_cli_parse_ll_bounds);
	suite_add_tcase(s, tc);
	return s;
}
