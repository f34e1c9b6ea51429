/* Unit tests of the sandbox network's arithmetic: addresses and names. */
#include <arpa/inet.h>
#include <limits.h>
#include <string.h>

#include "injectors/netns.h"
#include "tests/support/runner.h"

static uint32_t
addr(const char *s)
{
	struct in_addr in;

	ck_assert_int_eq(inet_pton(AF_INET, s, &in), 1);
	return ntohl(in.s_addr);
}

START_TEST(test_netns_every_node_addr_inside_sandbox)
{
	uint32_t a, prev = 0;
	int i;

	for (i = 0; i < NETNS_MAX_NODES; i++) {
		ck_assert_int_eq(netns_node_addr(i, &a), 0);
		ck_assert_msg(netns_addr_in_sandbox(a), "node %d: %08x", i, a);
		ck_assert_uint_ne(a, addr("198.18.0.0"));     /* the network */
		ck_assert_uint_ne(a, addr("198.19.255.255")); /* broadcast */
		ck_assert_uint_ne(a, NETNS_HOST_ADDR);
		ck_assert_uint_gt(a, prev); /* so, distinct */
		prev = a;
	}
	ck_assert_int_eq(netns_node_addr(0, &a), 0);
	ck_assert_uint_eq(a, addr("198.18.0.10"));
	ck_assert_uint_eq(NETNS_HOST_ADDR, addr("198.18.0.1"));
	ck_assert(netns_addr_in_sandbox(NETNS_HOST_ADDR));
}
END_TEST

START_TEST(test_netns_node_addr_refuses_out_of_range)
{
	static const int bad[] = {-1, NETNS_MAX_NODES, INT_MAX, INT_MIN};
	uint32_t a = 42;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_int_eq(netns_node_addr(bad[i], &a), -1);
		ck_assert_uint_eq(a, 42); /* unchanged */
	}
}
END_TEST

static const struct {
	const char *addr;
	bool inside;
} bounds[] = {
    {"198.17.255.255", false},  {"198.18.0.0", true},
    {"198.18.0.1", true},       {"198.19.255.255", true},
    {"198.20.0.0", false},      {"127.0.0.1", false},
    {"10.0.0.1", false},        {"0.0.0.0", false},
    {"255.255.255.255", false}, {"70.18.0.1", false},
};

START_TEST(test_netns_sandbox_is_198_18_slash_15)
{
	ck_assert_msg(netns_addr_in_sandbox(addr(bounds[_i].addr)) ==
			  bounds[_i].inside,
		      "%s", bounds[_i].addr);
}
END_TEST

START_TEST(test_netns_names_fit_ifnamsiz)
{
	char name[IFNAMSIZ] = "unchanged";

	ck_assert_int_eq(netns_bridge_name(name, 1234), 0);
	ck_assert_str_eq(name, "sqb1234");
	ck_assert_int_eq(netns_veth_name(name, 1234, 7), 0);
	ck_assert_str_eq(name, "sqv1234-7");
	/* the largest pid Linux hands out (PID_MAX_LIMIT) and node index */
	ck_assert_int_eq(netns_veth_name(name, 4194304, NETNS_MAX_NODES - 1),
			 0);
	ck_assert_str_eq(name, "sqv4194304-999");
	ck_assert_int_eq(netns_bridge_name(name, 4194304), 0);
	ck_assert_str_eq(name, "sqb4194304");
	/* what would not fit is refused, and the buffer left alone */
	ck_assert_int_eq(netns_veth_name(name, INT_MAX, 99999), -1);
	ck_assert_str_eq(name, "sqb4194304");
	ck_assert_int_eq(netns_veth_name(name, 1, -1), -1);
}
END_TEST

Suite *
netns_suite(void)
{
	Suite *s = suite_create("netns");
	TCase *tc = tcase_create("addresses");

	tcase_add_test(tc, test_netns_every_node_addr_inside_sandbox);
	tcase_add_test(tc, test_netns_node_addr_refuses_out_of_range);
	tcase_add_loop_test(tc, test_netns_sandbox_is_198_18_slash_15, 0,
			    sizeof(bounds) / sizeof(bounds[0]));
	tcase_add_test(tc, test_netns_names_fit_ifnamsiz);
	suite_add_tcase(s, tc);
	return s;
}
