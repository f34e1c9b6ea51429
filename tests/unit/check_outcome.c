/*
 * Unit tests of a repair's result as people and machines read it: the
 * result line has every count report.json's "result" has (issue 14: it
 * left out the stashed duplicates and the values already there).
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "repair/repair.h"
#include "tests/support/runner.h"

/* True when `v` is a whole word (digits between non-digits) of text. */
static bool
has_number(const char *text, long long v)
{
	char num[32];
	const char *p = text;
	size_t n;

	n = (size_t)snprintf(num, sizeof(num), "%lld", v);
	while ((p = strstr(p, num)) != NULL) {
		bool start = p == text || !(p[-1] >= '0' && p[-1] <= '9');
		bool end = !(p[n] >= '0' && p[n] <= '9');

		if (start && end)
			return true;
		p += n;
	}
	return false;
}

/* An outcome whose every count differs from every other. */
static void
outcome(struct repair_outcome *r, struct source_outcome *src)
{
	memset(r, 0, sizeof(*r));
	r->healthy = true;
	r->total.keys_moved = 1001;
	r->total.keys_same = 1002;
	r->total.stashed = 1003;
	r->total.keys_salvaged = 1004;
	r->total.salvage_same = 1005;
	r->total.conflicts = 1013;
	r->total.conflicts_kept = 7;   /* 1006 set aside */
	r->total.restarted = 8;
	r->total.forgotten = 9;
	r->total.nunrestored = 2;
	snprintf(r->total.unrestored[0], sizeof(r->total.unrestored[0]), "a");
	snprintf(r->total.unrestored[1], sizeof(r->total.unrestored[1]), "b");
	r->total.undecided = 1010;
	r->total.deleted_since = 1011;
	r->decisions = 1006 + 1010;
	memset(src, 0, sizeof(*src));
	snprintf(src->dir, sizeof(src->dir), "/data/7002");
	src->read = true;
	src->keys = 2001;
	src->salvaged = 2002;
	src->same = 2003;
	src->conflicts = 2004;
	src->missing = 2005;
	src->undecided = 2006;
	src->deleted_since = 2007;
	r->sources = src;
	r->nsources = 1;
}

START_TEST(test_result_line_has_every_count_of_the_report)
{
	struct repair_outcome r;
	struct source_outcome src;
	json_t *j, *v;
	const char *name;
	char line[1024];
	int checked = 0;

	outcome(&r, &src);
	repair_outcome_line(&r, line, sizeof(line));
	j = repair_outcome_json(&r);
	json_object_foreach(j, name, v) {
		if (!json_is_integer(v))
			continue;
		ck_assert_msg(has_number(line, json_integer_value(v)),
			      "report.json has %s = %lld, the line does not: %s", name,
			      (long long)json_integer_value(v), line);
		checked++;
	}
	ck_assert_int_ge(checked, 11);
	ck_assert_ptr_nonnull(strstr(line, "1003 duplicates stashed"));
	ck_assert_ptr_nonnull(strstr(line, "1002 already on their owners"));
	ck_assert(strncmp(line, "healthy, a decision waits:", 26) == 0);
	json_decref(j);
}
END_TEST

START_TEST(test_each_source_says_every_count_of_the_report)
{
	struct repair_outcome r;
	struct source_outcome src;
	json_t *j, *s, *v;
	const char *name;
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	outcome(&r, &src);
	repair_outcome_print(&r, f);
	fclose(f);
	j = repair_outcome_json(&r);
	s = json_array_get(json_object_get(j, "sources"), 0);
	ck_assert_ptr_nonnull(s);
	json_object_foreach(s, name, v)
		if (json_is_integer(v))
			ck_assert_msg(has_number(text, json_integer_value(v)),
				      "sources[0].%s is not said: %s", name, text);
	ck_assert_ptr_nonnull(strstr(text, "salvage source /data/7002"));
	/* what waits: the other values and the keys left undecided */
	ck_assert_msg(strstr(text, "decision: 2016 keys in the stash: 1006 with another value") &&
		      strstr(text, "1010 the cluster lacks"), "%s", text);
	json_decref(j);
	free(text);
}
END_TEST

Suite *
outcome_suite(void)
{
	Suite *s = suite_create("outcome");
	TCase *tc = tcase_create("result");

	tcase_add_test(tc, test_result_line_has_every_count_of_the_report);
	tcase_add_test(tc, test_each_source_says_every_count_of_the_report);
	suite_add_tcase(s, tc);
	return s;
}
