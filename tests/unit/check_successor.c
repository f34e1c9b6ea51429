/*
 * repair/successor.c: an RDB's replication aux fields, the verdict on a
 * promoted replica, and the key set.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "repair/successor.h"

#define ID40 "0123456789abcdef0123456789abcdef01234567"
#define ZERO40 "0000000000000000000000000000000000000000"

static char path[64];

/* An RDB head: the magic, then the given bytes (aux fields), then a
 * SELECTDB opcode and EOF. */
static void
write_rdb(const unsigned char *aux, size_t n)
{
	static const unsigned char tail[] = {0xFE, 0x00, 0xFF};
	FILE *f;
	int fd;

	snprintf(path, sizeof(path), "/tmp/sq-rdb-XXXXXX");
	ck_assert_int_ge(fd = mkstemp(path), 0);
	ck_assert_ptr_nonnull(f = fdopen(fd, "wb"));
	fwrite("REDIS0010", 1, 9, f);
	fwrite(aux, 1, n, f);
	fwrite(tail, 1, sizeof(tail), f);
	fclose(f);
}

/* An aux field with a 6-bit-length key, then the value's bytes as given. */
static size_t
aux(unsigned char *at, const char *key, const unsigned char *val, size_t vn)
{
	size_t k = strlen(key);

	at[0] = 0xFA;
	at[1] = (unsigned char)k;
	memcpy(at + 2, key, k);
	memcpy(at + 2 + k, val, vn);
	return 2 + k + vn;
}

START_TEST(test_rdb_repl_info_reads_id_and_offset)
{
	/* the offsets as Redis writes them: int-encoded strings, every width */
	static const unsigned char ver[] = {6, '7', '.', '0', '.', '1', '5'};
	static const unsigned char i8[] = {0xC0, 0x7B}, i16[] = {0xC1, 0x39, 0x30},
				   i32[] = {0xC2, 0x15, 0xCD, 0x5B, 0x07}, str[] = {3, '9', '9', '9'};
	const unsigned char *offs[] = {i8, i16, i32, str};
	const size_t lens[] = {sizeof(i8), sizeof(i16), sizeof(i32), sizeof(str)};
	const long long want[] = {123, 12345, 123456789, 999};
	unsigned char buf[256], id[41] = {40};
	char got[41];
	long long off;
	size_t n, k;

	memcpy(id + 1, ID40, 40);
	for (k = 0; k < 4; k++) {
		n = aux(buf, "redis-ver", ver, sizeof(ver));
		n += aux(buf + n, "repl-id", id, sizeof(id));
		n += aux(buf + n, "repl-offset", offs[k], lens[k]);
		write_rdb(buf, n);
		ck_assert_int_eq(rdb_repl_info(path, got, sizeof(got), &off), 0);
		ck_assert_str_eq(got, ID40);
		ck_assert_int_eq(off, want[k]);
		unlink(path);
	}
}
END_TEST

START_TEST(test_rdb_repl_info_says_when_there_is_none)
{
	/* no replication fields (a master without a backlog), a compressed
	 * id (LZF: not read), and files that are no RDB at all */
	static const unsigned char ver[] = {6, '7', '.', '0', '.', '1', '5'}, off[] = {0xC0, 5};
	static const unsigned char lzf[] = {0xC3, 3, 40, 'a', 'b', 'c'};
	unsigned char buf[256];
	char got[41];
	long long o;
	size_t n;
	FILE *f;

	write_rdb(buf, aux(buf, "redis-ver", ver, sizeof(ver)));
	ck_assert_int_eq(rdb_repl_info(path, got, sizeof(got), &o), 1);
	ck_assert_str_eq(got, "");
	ck_assert_int_eq(o, -1);
	unlink(path);
	n = aux(buf, "repl-id", lzf, sizeof(lzf));
	n += aux(buf + n, "repl-offset", off, sizeof(off));
	write_rdb(buf, n);
	ck_assert_int_eq(rdb_repl_info(path, got, sizeof(got), &o), 1);
	ck_assert_int_eq(o, -1);
	unlink(path);
	ck_assert_int_eq(rdb_repl_info("/nonexistent/dump.rdb", got, sizeof(got), &o), -1);
	snprintf(path, sizeof(path), "/tmp/sq-rdb-XXXXXX");
	ck_assert_ptr_nonnull(f = fdopen(mkstemp(path), "w"));
	fputs("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n", f); /* an AOF, say */
	fclose(f);
	ck_assert_int_eq(rdb_repl_info(path, got, sizeof(got), &o), -1);
	unlink(path);
	/* cut short inside a field */
	write_rdb((const unsigned char[]){0xFA, 7, 'r', 'e', 'p', 'l'}, 6);
	ck_assert_int_eq(rdb_repl_info(path, got, sizeof(got), &o), -1);
	unlink(path);
}
END_TEST

START_TEST(test_successor_judge)
{
	char reps[1][NODE_ID_LEN + 1];
	struct succ_facts f = {.replicas = reps, .nreplicas = 1, .offset = 1000};
	struct succ_judged j;

	snprintf(reps[0], sizeof(reps[0]), "%040d", 7);
	snprintf(f.replid, sizeof(f.replid), "%s", ID40);
	/* the same history, the files' offset below what it had */
	j = successor_judge(&f, "x", ID40, 1501);
	ck_assert_int_eq(j.v, SUCC_SEEN);
	ck_assert_int_eq(j.seen_to, 1500);
	f.offset = 1500;
	ck_assert_int_eq(successor_judge(&f, "x", ID40, 1501).v, SUCC_SEEN);
	/* the files went further than it had */
	f.offset = 1501;
	ck_assert_int_eq(successor_judge(&f, "x", ID40, 1501).v, SUCC_UNDECIDED);
	/* a node its nodes.conf names as its replica, no offset to go by */
	ck_assert_int_eq(successor_judge(&f, reps[0], ZERO40, -1).v, SUCC_UNDECIDED);
	ck_assert_int_eq(successor_judge(&f, reps[0], "", -1).v, SUCC_UNDECIDED);
	f.replid[0] = '\0';
	f.offset = -1;
	ck_assert_int_eq(successor_judge(&f, reps[0], ID40, 1501).v, SUCC_UNDECIDED);
	/* any other node */
	ck_assert_int_eq(successor_judge(&f, "x", ID40, 1501).v, SUCC_NONE);
	ck_assert_int_eq(successor_judge(&f, "x", "", -1).v, SUCC_NONE);
}
END_TEST

START_TEST(test_keyset_is_binary_safe)
{
	struct keyset k = {0};
	char name[16];
	int i;

	ck_assert(!keyset_has(&k, "a", 1));
	for (i = 999; i >= 0; i--) {
		snprintf(name, sizeof(name), "k%d", i);
		keyset_add(&k, name, strlen(name));
	}
	keyset_add(&k, "a\0b", 3);
	ck_assert(keyset_has(&k, "k0", 2) && keyset_has(&k, "k999", 4));
	ck_assert(!keyset_has(&k, "k1000", 5) && !keyset_has(&k, "k", 1));
	ck_assert(keyset_has(&k, "a\0b", 3) && !keyset_has(&k, "a", 1));
	keyset_add(&k, "late", 4); /* added after a look: found all the same */
	ck_assert(keyset_has(&k, "late", 4));
	keyset_release(&k);
	ck_assert(!keyset_has(&k, "late", 4));
}
END_TEST

Suite *
successor_suite(void)
{
	Suite *s = suite_create("successor");
	TCase *tc = tcase_create("facts");

	tcase_add_test(tc, test_rdb_repl_info_reads_id_and_offset);
	tcase_add_test(tc, test_rdb_repl_info_says_when_there_is_none);
	tcase_add_test(tc, test_successor_judge);
	tcase_add_test(tc, test_keyset_is_binary_safe);
	suite_add_tcase(s, tc);
	return s;
}
