/*
 * scenario.c - the scenario file loader; see scenario.h.
 *
 * inih calls us once per key.  The Debian build of inih does not pass
 * line numbers to the handler, so we feed it through our own reader,
 * which counts lines (inih reads one line per call and calls the handler
 * before reading the next) and checks every section header itself: an
 * empty section never reaches the handler but must still be known.
 */
#include "harness/scenario/scenario.h"

#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/utf8.h"
#include "common/xmalloc.h"
#include "harness/scenario/scenario_keys.h"

struct loader {
	struct scenario *s;
	const char *path;
	FILE *f;
	int line;
	int section_line; /* the line of the last [section] header */
	bool failed;
	struct err e;
	/* keys seen so far, "section\nkey", to refuse duplicates */
	char **seen;
	size_t nseen, seen_cap;
};

static int
fail(struct loader *l, int line, const char *fmt, ...)
{
	va_list ap;
	char msg[ERR_MSG_MAX];

	if (l->failed)
		return 0;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	err_set(&l->e, EINVAL, "%s:%d: %s", l->path, line, msg);
	l->failed = true;
	return 0;
}

static bool
is_fault_section(const char *name)
{
	return strcmp(name, "fault") == 0 ||
	       (strncmp(name, "fault ", 6) == 0 && name[6] != '\0');
}

static const char *const sections[] = {"scenario", "cluster", "data", "workload",
				       "reshard", "layout", "repair", "expect", NULL};

static void
check_header(struct loader *l, const char *line)
{
	const char *p = line + strspn(line, " \t"), *end;
	const char *const *s;
	char name[128];

	if (*p != '[')
		return;
	end = strchr(p, ']');
	if (end == NULL) {
		/* inih would go on with the keys below in no section at all */
		fail(l, l->line, "section header '%.*s' has no closing ']': expected [NAME] "
		     "on a line of its own", (int)strcspn(p, "\r\n"), p);
		return;
	}
	snprintf(name, sizeof(name), "%.*s", (int)(end - p - 1), p + 1);
	l->section_line = l->line;
	/* inih keeps 49 bytes of a section name and drops the rest silently:
	 * two long fault names would become one, or a character be cut */
	if (end - p - 1 > 49) {
		fail(l, l->line, "section name longer than 49 bytes");
		return;
	}
	if (is_fault_section(name))
		return;
	for (s = sections; *s; s++)
		if (strcmp(*s, name) == 0)
			return;
	fail(l, l->line,
	     "unknown section [%s]: expected [scenario], [cluster], [data], [workload], "
	     "[reshard], [layout], [fault], [fault NAME], [repair] or [expect]", name);
}

static char *
reader(char *str, int num, void *stream)
{
	struct loader *l = stream;
	size_t len;
	int c;

	if (fgets(str, num, l->f) == NULL) {
		if (ferror(l->f))
			fail(l, l->line + 1, "read error: %s", strerror(errno));
		return NULL;
	}
	l->line++;
	len = strlen(str);
	if (len > 0 && str[len - 1] != '\n' && !feof(l->f)) {
		fail(l, l->line, "line longer than %d characters", num - 2);
		while ((c = fgetc(l->f)) != EOF && c != '\n')
			;
	}
	check_header(l, str);
	return str;
}

static bool
seen_before(struct loader *l, const char *section, const char *name)
{
	char *k = xasprintf("%s\n%s", section, name);
	size_t i;

	for (i = 0; i < l->nseen; i++) {
		if (strcmp(l->seen[i], k) == 0) {
			free(k);
			return true;
		}
	}
	xgrow(&l->seen, &l->seen_cap, l->nseen + 1, sizeof(*l->seen));
	l->seen[l->nseen++] = k;
	return false;
}

static struct fault_spec *
fault_for(struct scenario *s, const char *section, int line)
{
	size_t i;

	for (i = 0; i < s->nfaults; i++)
		if (strcmp(s->faults[i].name, section) == 0)
			return &s->faults[i];
	s->faults = xreallocarray(s->faults, s->nfaults + 1, sizeof(*s->faults));
	memset(&s->faults[s->nfaults], 0, sizeof(s->faults[0]));
	snprintf(s->faults[s->nfaults].name, sizeof(s->faults[0].name), "%s", section);
	s->faults[s->nfaults].line = line;
	s->faults[s->nfaults].slot_index = 1;
	s->faults[s->nfaults].step = -1;
	s->faults[s->nfaults].point = -1;
	s->faults[s->nfaults].after_ms = -1;
	return &s->faults[s->nfaults++];
}

static int
handler(void *user, const char *section, const char *name, const char *value)
{
	struct loader *l = user;
	char msg[ERR_MSG_MAX] = "";
	int rc;

	if (l->failed)
		return 1; /* keep reading: inih reports only the first error */
	/* [cluster] config is one redis.conf line each time */
	if (!(strcmp(section, "cluster") == 0 && strcmp(name, "config") == 0) &&
	    seen_before(l, section, name))
		return fail(l, l->line, "'%s' is set twice in [%s]", name, section);
	/* the file is text: its values end up in report.json and junit.xml */
	if (!utf8_valid(section) || !utf8_valid(name) || !utf8_valid(value))
		return fail(l, l->line, "not UTF-8 text: save the file as UTF-8");
	if (section[0] == '\0')
		return fail(l, l->line, "'%s' comes before any section: expected a [section] "
			    "header above it, such as [scenario]", name);
	if (is_fault_section(section))
		rc = scenario_fault_key(fault_for(l->s, section, l->section_line), name, value,
					l->line, msg, sizeof(msg));
	else
		rc = scenario_key(l->s, section, name, value, l->line, msg, sizeof(msg));
	if (rc < 0)
		return fail(l, l->line, "%s", msg);
	return 1;
}

static void
defaults(struct scenario *s)
{
	s->seed = 1;
	s->masters = 3;
	s->node_timeout_ms = 2000;
	s->persistence = PERSIST_AOF;
	s->keys = 10000;
	s->value_size = 32;
	s->workload_keys = 1000;
	s->repair_timeout_ms = 300000;
	s->pipeline = 10;
	s->expect_reshard = s->expect_state = s->expect_healthy = -1;
}

struct scenario *
scenario_load(const char *path, struct err *e)
{
	struct loader l = {.path = path};
	struct stat st;
	int rc;
	size_t i;

	l.f = fopen(path, "r");
	if (l.f == NULL) {
		err_set(e, errno, "open '%s': %s", path, strerror(errno));
		return NULL;
	}
	/* fopen() takes a directory, and fgets() then reads nothing: it
	 * would pass for an empty file with no [scenario] */
	if (fstat(fileno(l.f), &st) == 0 && S_ISDIR(st.st_mode)) {
		size_t len = strlen(path);

		while (len > 1 && path[len - 1] == '/')
			len--;
		err_set(e, EISDIR, "'%s' is a directory: expected a scenario file, such as "
			"'%.*s/NAME.ini'", path, (int)len, path);
		fclose(l.f);
		return NULL;
	}
	l.s = xcalloc(1, sizeof(*l.s));
	l.s->path = xstrdup(path);
	defaults(l.s);
	rc = ini_parse_stream(reader, &l, handler, &l);
	fclose(l.f);
	if (rc > 0 && !l.failed)
		fail(&l, rc, "not a 'key = value' line nor a [section]");
	if (!l.failed) {
		char msg[ERR_MSG_MAX];
		int line = 0;

		if (scenario_check(l.s, msg, sizeof(msg), &line) < 0)
			fail(&l, line, "%s", msg);
	}
	for (i = 0; i < l.nseen; i++)
		free(l.seen[i]);
	free(l.seen);
	if (l.failed) {
		*e = l.e;
		scenario_free(l.s);
		return NULL;
	}
	return l.s;
}

void
scenario_free(struct scenario *s)
{
	size_t i, j;

	if (s == NULL)
		return;
	free(s->slot_list);
	free(s->layout.owner);
	free(s->layout.open);
	free(s->layout.failed);
	free(s->layout.nofailover);
	for (i = 0; i < s->nfaults; i++) {
		for (j = 0; j < s->faults[i].nparams; j++) {
			free((char *)s->faults[i].params[j].key);
			free((char *)s->faults[i].params[j].value);
		}
		free(s->faults[i].params);
	}
	free(s->faults);
	free(s->repair_command);
	free(s->server_config);
	free(s->path);
	free(s->name);
	free(s->description);
	free(s);
}

const char *
scenario_role_name(enum role r, int node, char *buf, size_t n)
{
	static const char *const names[] = {"source", "target", "bystander",
					    "source-replica", "target-replica"};

	if (r == ROLE_NODE)
		snprintf(buf, n, "node:%d", node);
	else
		snprintf(buf, n, "%s", names[r]);
	return buf;
}

bool
expect_num_holds(const struct expect_num *x, long long value)
{
	if (!x->set)
		return true;
	return x->greater ? value > x->n : value == x->n;
}
