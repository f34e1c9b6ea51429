/* Unit tests of cluster_redirect_parse(). */
#include <string.h>

#include "cluster/client.h"
#include "tests/support/runner.h"

static const struct {
	const char *msg;
	int ok;
	enum redirect_kind kind;
	int slot;
	const char *host;
	int port;
} rows[] = {
	{"MOVED 3999 127.0.0.1:6381", 0, REDIRECT_MOVED, 3999, "127.0.0.1", 6381},
	{"ASK 0 127.0.0.1:7000", 0, REDIRECT_ASK, 0, "127.0.0.1", 7000},
	{"MOVED 16383 ::1:7000", 0, REDIRECT_MOVED, 16383, "::1", 7000},
	{"MOVED 12 node-c.example:7002", 0, REDIRECT_MOVED, 12, "node-c.example", 7002},
	{"MOVED 16384 127.0.0.1:7000", -1, 0, 0, NULL, 0},
	{"MOVED -1 127.0.0.1:7000", -1, 0, 0, NULL, 0},
	{"MOVED x 127.0.0.1:7000", -1, 0, 0, NULL, 0},
	{"MOVED 5 127.0.0.1", -1, 0, 0, NULL, 0},
	{"MOVED 5 127.0.0.1:", -1, 0, 0, NULL, 0},
	{"MOVED 5 :7000", -1, 0, 0, NULL, 0},
	{"MOVED 5 127.0.0.1:70000", -1, 0, 0, NULL, 0},
	{"MOVED 5 127.0.0.1:7000 extra", -1, 0, 0, NULL, 0},
	{"MOVING 5 127.0.0.1:7000", -1, 0, 0, NULL, 0},
	{"ERR wrong number of arguments", -1, 0, 0, NULL, 0},
	{"", -1, 0, 0, NULL, 0},
};

START_TEST(test_redirect_parse_row)
{
	struct cluster_redirect r;
	int rc = cluster_redirect_parse(rows[_i].msg, &r);

	ck_assert_msg(rc == rows[_i].ok, "row %d '%s'", _i, rows[_i].msg);
	if (rc == 0) {
		ck_assert_int_eq(r.kind, rows[_i].kind);
		ck_assert_int_eq(r.slot, rows[_i].slot);
		ck_assert_str_eq(r.host, rows[_i].host);
		ck_assert_int_eq(r.port, rows[_i].port);
	}
}
END_TEST

Suite *
client_suite(void)
{
	Suite *s = suite_create("client");
	TCase *tc = tcase_create("redirect");

	tcase_add_loop_test(tc, test_redirect_parse_row, 0, (int)(sizeof(rows) / sizeof(rows[0])));
	suite_add_tcase(s, tc);
	return s;
}
