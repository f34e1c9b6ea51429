/* Unit tests of cluster/server.c: --server words, and the labels junit
 * names and reports show. */
#include <string.h>

#include "cluster/server.h"
#include "tests/support/runner.h"

START_TEST(test_server_words_name_binaries)
{
	ck_assert_str_eq(server_binary("redis"), "redis-server");
	ck_assert_str_eq(server_binary("valkey"), "valkey-server");
	ck_assert_str_eq(server_binary("/opt/v8/bin/valkey-server"), "/opt/v8/bin/valkey-server");
	ck_assert_str_eq(server_binary("./redis"), "./redis");
	ck_assert_ptr_null(server_binary(NULL));
}
END_TEST

START_TEST(test_server_labels)
{
	char buf[32];

	ck_assert_str_eq(server_label(NULL, buf, sizeof(buf)), "redis");
	ck_assert_str_eq(server_label("redis-server", buf, sizeof(buf)), "redis");
	ck_assert_str_eq(server_label("/usr/bin/valkey-server", buf, sizeof(buf)), "valkey");
	ck_assert_str_eq(server_label("/opt/keydb/bin/keydb-server", buf, sizeof(buf)),
			 "keydb-server");
	/* the label is the buffer, cut to its size */
	ck_assert_ptr_eq(server_label("valkey-server", buf, sizeof(buf)), buf);
	ck_assert_str_eq(server_label("/x/a-very-long-server-name", buf, 8), "a-very-");
}
END_TEST

Suite *
server_suite(void)
{
	Suite *s = suite_create("server");
	TCase *tc = tcase_create("names");

	tcase_add_test(tc, test_server_words_name_binaries);
	tcase_add_test(tc, test_server_labels);
	suite_add_tcase(s, tc);
	return s;
}
