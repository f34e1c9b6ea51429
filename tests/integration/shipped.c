/* shipped.c - see shipped.h. */
#include "tests/integration/shipped.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fs.h"
#include "tests/support/itutil.h"
#include "tests/support/runner.h"

void
shipped_play(const char *label, int invert, ...)
{
	const char *bin = getenv("SQ_BIN") ? getenv("SQ_BIN") : "build/shardquake";
	char dir[PATH_MAX], filter[1024] = "", path[PATH_MAX + 16], *said;
	const char *p;
	size_t len = 0;
	va_list ap;

	it_require_redis(label);
	va_start(ap, invert);
	while ((p = va_arg(ap, const char *)) != NULL)
		len += (size_t)snprintf(filter + len, sizeof(filter) - len, " | grep -E%s '%s'",
					invert ? "v" : "", p);
	va_end(ap);
	ck_assert_uint_lt(len, sizeof(filter));
	it_mkdtemp(dir, sizeof(dir), "sq-it-shipped");
	/* the names, for the filter; the files, for run */
	ck_assert_int_eq(it_sh("cd scenarios && grep -L '^quick = yes' *.ini%s > %s/list", filter,
			       dir), 0);
	if (it_sh("%s run --results %s $(sed 's|^|scenarios/|' %s/list) > %s/out 2>&1", bin,
		  dir, dir, dir) != 0) {
		/* each failed scenario's lines (its repair, its verify's
		 * findings) to the log; the verdicts only in the message */
		it_sh("awk '/^[a-z0-9-]+: / { b = \"\" } { b = b $0 \"\\n\" } "
		      "/^  FAILED / { printf \"%%s\", b > \"/dev/stderr\" }' %s/out", dir);
		it_sh("grep -E 'FAILED|passed,' %s/out > %s/verdicts", dir, dir);
		snprintf(path, sizeof(path), "%s/verdicts", dir);
		said = fs_read_file(path, NULL, NULL);
		ck_abort_msg("%s: shipped scenarios failed:\n%s", label,
			     said ? said : "(no output)");
	}
	/* every one played or skipped with its reason: as many as files */
	ck_assert_int_eq(it_sh("tail -n 1 %s/out | awk -v n=$(wc -l < %s/list) "
			       "'/^[1-9][0-9]* passed, 0 failed(, [0-9]+ skipped.*)?$/ "
			       "{ exit $1 + ($6 ~ /^skipped/ ? $5 : 0) != n }"
			       " { exit 1 }'", dir, dir), 0);
	it_sh("rm -rf %s", dir);
}
