/*
 * key_slot() against CLUSTER KEYSLOT of a real redis-server, on edge
 * cases and on many random binary keys, pipelined.
 */
#include <stdio.h>
#include <string.h>

#include "cluster/server.h"
#include "cluster/slot.h"
#include "common/rng.h"
#include "harness/local/localcluster.h"
#include "tests/support/itutil.h"
#include "tests/support/runner.h"

#define BATCH 1000
#define ROUNDS 25

START_TEST(test_key_slot_matches_cluster_keyslot)
{
	static const char *const edge[] = {"{}", "{a}{b}", "a{", "}{", "", "{", "}",
					   "{{}}", "a{b}c", "{user1000}.following"};
	struct local_cluster_opts o = it_cluster_opts();
	char keys[BATCH][24];
	size_t lens[BATCH], l2[3];
	const char *argv[3] = {"CLUSTER", "KEYSLOT", NULL};
	struct local_cluster lc;
	struct err e = ERR_INIT;
	struct reply *r;
	struct rng g;
	struct conn *c;
	int round, i, k, mismatches = 0;

	it_require_redis("keyslot");
	o.masters = 1;
	o.persistence = PERSIST_NONE;
	ck_assert_msg(local_cluster_start(&lc, &o, &e) == 0, "%s", e.msg);
	c = it_conn(lc.nodes[0].port);
	rng_init(&g, 1234);
	for (round = 0; round < ROUNDS; round++) {
		for (i = 0; i < BATCH; i++) {
			if (round == 0 && i < (int)(sizeof(edge) / sizeof(edge[0]))) {
				lens[i] = strlen(edge[i]);
				memcpy(keys[i], edge[i], lens[i]);
			} else {
				lens[i] = 1 + rng_below(&g, sizeof(keys[i]));
				for (k = 0; k < (int)lens[i]; k++) /* braces and NULs often */
					keys[i][k] = (char)("{}\0ab"[rng_below(&g, 5)] ^
							    (rng_below(&g, 4) ? 0 : rng_below(&g, 256)));
			}
			argv[2] = keys[i];
			l2[0] = 7;
			l2[1] = 7;
			l2[2] = lens[i];
			conn_append_argv(c, 3, argv, l2);
		}
		for (i = 0; i < BATCH; i++) {
			r = conn_read_reply(c, &e);
			ck_assert_msg(r != NULL, "%s", e.msg);
			ck_assert_int_eq(r->type, REPLY_INTEGER);
			if (r->integer != (long long)key_slot(keys[i], lens[i]) && mismatches++ < 5) {
				char hex[64] = "";

				for (k = 0; k < (int)lens[i]; k++)
					snprintf(hex + 2 * k, 3, "%02x", (unsigned char)keys[i][k]);
				fprintf(stderr, "key %s: redis %lld, ours %u\n", hex, r->integer,
					key_slot(keys[i], lens[i]));
			}
			reply_free(r);
		}
	}
	conn_free(c);
	local_cluster_stop(&lc, false);
	ck_assert_int_eq(mismatches, 0);
}
END_TEST

Suite *
keyslot_suite(void)
{
	Suite *s = suite_create("keyslot");
	TCase *tc = tcase_create("real");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_key_slot_matches_cluster_keyslot);
	suite_add_tcase(s, tc);
	return s;
}
