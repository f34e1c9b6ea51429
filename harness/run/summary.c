/*
 * summary.c - one summary.json for a whole `shardquake run`: what a CI
 * job or a game-day script reads first (junit.xml beside it says the
 * same for test reporters).
 *
 *   {"passed": 6, "failed": 1, "skipped": 0, "seconds": 71.2,
 *    "scenarios": [{"name", "file", "server": "redis|valkey|...",
 *                   "status": "passed|failed|skipped",
 *                   "reason", "seconds", "results"}, ...]}
 */
#include <errno.h>
#include <jansson.h>
#include <string.h>

#include "harness/run/runner.h"
#include "harness/scenario/scenario.h"

json_t *
summary_json(const struct scenario *const *s, const struct run_result *r, size_t n)
{
	static const char *const words[] = {"passed", "failed", "skipped"};
	json_t *all = json_array();
	long long count[3] = {0};
	double seconds = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		count[r[i].status]++;
		seconds += r[i].seconds;
		json_array_append_new(all, json_pack("{s:s, s:s, s:s, s:s, s:s, s:f, s:s}", "name",
						     s[i]->name, "file", s[i]->path, "server",
						     r[i].server[0] ? r[i].server : "redis", "status",
						     words[r[i].status], "reason", r[i].reason,
						     "seconds", r[i].seconds, "results", r[i].dir));
	}
	return json_pack("{s:I, s:I, s:I, s:f, s:o}", "passed", (json_int_t)count[RUN_PASSED],
			 "failed", (json_int_t)count[RUN_FAILED], "skipped",
			 (json_int_t)count[RUN_SKIPPED], "seconds", seconds, "scenarios", all);
}

int
summary_write(const char *path, const struct scenario *const *s, const struct run_result *r,
	      size_t n, struct err *e)
{
	json_t *top = summary_json(s, r, n);
	int rc = 0;

	if (json_dump_file(top, path,
			   JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6)) < 0)
		rc = err_set(e, errno, "write '%s': %s", path, strerror(errno));
	json_decref(top);
	return rc;
}
