/*
 * incident_read.c - one saved file of an incident, recognised by its
 * content and checked on its own (one `myself`, every node id it names
 * described in it, no slot served twice); see incident.h.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fs.h"
#include "common/xmalloc.h"
#include "harness/incident/incident.h"

static void
add_line(char ***v, size_t *n, const char *fmt, va_list ap)
{
	char buf[1024];

	vsnprintf(buf, sizeof(buf), fmt, ap);
	*v = xreallocarray(*v, *n + 1, sizeof(**v));
	(*v)[(*n)++] = xstrdup(buf);
}

void
incident_note(struct incident *inc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	add_line(&inc->notes, &inc->nnotes, fmt, ap);
	va_end(ap);
}

/* What one input file was, for the scenario's comments. */
static void
input(struct incident *inc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
input(struct incident *inc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	add_line(&inc->inputs, &inc->ninputs, fmt, ap);
	va_end(ap);
}

/* The first line of `text` that starts with `prefix`, or NULL. */
static const char *
line_starting(const char *text, const char *prefix)
{
	const char *p = text;
	size_t len = strlen(prefix);

	while (p && *p) {
		if (strncmp(p, prefix, len) == 0)
			return p;
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return NULL;
}

/* CLUSTER INFO: its state, for the comments. */
static void
add_info(struct incident *inc, const char *path, const char *text)
{
	const char *st = line_starting(text, "cluster_state:");
	int len = st ? (int)strcspn(st + 14, "\r\n") : 0;

	input(inc, "%s: CLUSTER INFO, cluster_state:%.*s (noted only)", path, len,
	      st ? st + 14 : "?");
}

/* Anywhere on a line: redis-cli colours its lines with escapes first.
 * No CLUSTER NODES line holds any of these. */
static bool
is_check_output(const char *text)
{
	return strstr(text, ">>> ") || strstr(text, "[OK] ") || strstr(text, "[ERR] ") ||
	       strstr(text, "[WARNING] ");
}

/* The file's line number of each non-empty line, in order, as
 * topology_parse() counts the nodes. */
static int *
node_lines(const char *text, size_t n)
{
	int *lines = xcalloc(n + 1, sizeof(*lines)), no = 0;
	const char *p = text;
	size_t k = 0;

	while (*p && k < n) {
		size_t len = strcspn(p, "\n");

		no++;
		if (len > 0 && !(len == 1 && p[0] == '\r'))
			lines[k++] = no;
		p += len + (p[len] == '\n');
	}
	return lines;
}

static int
bad(struct err *e, const char *path, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int
bad(struct err *e, const char *path, int line, const char *fmt, ...)
{
	va_list ap;
	char msg[ERR_MSG_MAX];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return err_set(e, EINVAL, "%s:%d: %s", path, line, msg);
}

/* Every node id a line names (its master, its open slots' peers) is
 * described in the same view. */
static int
check_ids(const struct incident_view *v, struct err *e)
{
	size_t i, k;

	for (i = 0; i < v->t.n; i++) {
		const struct cluster_node *n = &v->t.nodes[i];

		for (k = 0; k < i; k++)
			if (strcmp(v->t.nodes[k].id, n->id) == 0)
				return bad(e, v->path, v->line[i], "node %s is described twice "
					   "(line %d)", n->id, v->line[k]);
		if (n->master_id[0] && topology_find(&v->t, n->master_id) == NULL)
			return bad(e, v->path, v->line[i], "unknown node id %s as the master of "
				   "%s: no line of this file describes it", n->master_id, n->id);
		for (k = 0; k < n->nopen; k++)
			if (topology_find(&v->t, n->open[k].peer) == NULL)
				return bad(e, v->path, v->line[i], "unknown node id %s in slot %d "
					   "%s it: no line of this file describes it",
					   n->open[k].peer, n->open[k].slot,
					   n->open[k].state == SLOT_MIGRATING ? "migrating to"
									 : "importing from");
	}
	return 0;
}

/* Exactly one `myself`; no slot served by two lines. */
static int
check_view(struct incident_view *v, struct err *e)
{
	int *by = xmalloc(CLUSTER_SLOTS * sizeof(*by)), s, rc = 0;
	size_t i, r;

	v->me = -1;
	for (s = 0; s < CLUSTER_SLOTS; s++)
		by[s] = -1;
	for (i = 0; i < v->t.n && rc == 0; i++) {
		const struct cluster_node *n = &v->t.nodes[i];

		if (n->flags & NODE_MYSELF) {
			if (v->me >= 0)
				rc = bad(e, v->path, v->line[i], "a second line flagged myself (the "
					 "first is line %d): expected CLUSTER NODES of one node",
					 v->line[v->me]);
			v->me = (int)i;
		}
		for (r = 0; r < n->nranges && rc == 0; r++)
			for (s = n->ranges[r].first; s <= n->ranges[r].last && rc == 0; s++) {
				if (by[s] >= 0)
					rc = bad(e, v->path, v->line[i], "slot %d is served by "
						 "%s here and by %s on line %d: two owners", s,
						 n->id, v->t.nodes[by[s]].id, v->line[by[s]]);
				by[s] = (int)i;
			}
	}
	free(by);
	if (rc == 0 && v->me < 0)
		rc = bad(e, v->path, 1, "no line is flagged myself: expected CLUSTER NODES as one "
			 "node gives it");
	return rc < 0 ? -1 : check_ids(v, e);
}

/* CLUSTER NODES: a view.  topology_parse() says "line N: ..."; the
 * message becomes "PATH:N: ...". */
static int
add_view(struct incident *inc, const char *path, const char *text, struct err *e)
{
	struct incident_view v = {.path = xstrdup(path)};
	struct err pe = ERR_INIT;
	const struct cluster_node *me;
	int line = 0, used = 0;

	if (topology_parse(&v.t, text, &pe) < 0) {
		if (sscanf(pe.msg, "line %d: %n", &line, &used) == 1 && used > 0)
			bad(e, path, line, "%s%s", pe.msg + used,
			    strstr(pe.msg, "fields: expected") ? " (a truncated line?)" : "");
		else
			err_set(e, EINVAL, "%s: %s", path, pe.msg);
		free(v.path);
		return -1;
	}
	if (v.t.n == 0) {
		free(v.path);
		return err_set(e, EINVAL, "%s:1: empty: expected CLUSTER NODES, CLUSTER INFO or "
			       "redis-cli --cluster check output", path);
	}
	v.line = node_lines(text, v.t.n);
	if (check_view(&v, e) < 0) {
		topology_release(&v.t);
		free(v.line);
		free(v.path);
		return -1;
	}
	me = &v.t.nodes[v.me];
	input(inc, "%s: CLUSTER NODES of %s:%d (%.8s), %zu nodes", path, me->ip, me->port, me->id,
	      v.t.n);
	inc->views = xreallocarray(inc->views, inc->nviews + 1, sizeof(*inc->views));
	inc->views[inc->nviews++] = v;
	return 0;
}

/* True when the first non-empty line looks like CLUSTER NODES: a first
 * word of hex digits (a bad id is still reported as one). */
static bool
looks_like_nodes(const char *text)
{
	const char *p = text + strspn(text, "\r\n");
	size_t len = strspn(p, "0123456789abcdefABCDEF");

	return len >= 8 && (p[len] == ' ' || p[len] == '\0' || p[len] == '\n');
}

int
incident_add_text(struct incident *inc, const char *path, const char *text, struct err *e)
{
	if (line_starting(text, "cluster_state:") || line_starting(text, "cluster_enabled:")) {
		add_info(inc, path, text);
		return 0;
	}
	if (is_check_output(text)) {
		input(inc, "%s: redis-cli --cluster check output (noted only: the CLUSTER NODES "
		      "files say more)", path);
		return 0;
	}
	if (!looks_like_nodes(text))
		return err_set(e, EINVAL, "%s:1: not CLUSTER NODES, CLUSTER INFO or redis-cli "
			       "--cluster check output: a CLUSTER NODES line starts with a node id "
			       "of 40 hex digits", path);
	return add_view(inc, path, text, e);
}

int
incident_add_file(struct incident *inc, const char *path, struct err *e)
{
	char *text = fs_read_file(path, NULL, e);
	int rc;

	if (text == NULL)
		return -1;
	rc = incident_add_text(inc, path, text, e);
	free(text);
	return rc;
}

void
incident_release(struct incident *inc)
{
	size_t i;

	for (i = 0; i < inc->nviews; i++) {
		topology_release(&inc->views[i].t);
		free(inc->views[i].line);
		free(inc->views[i].path);
	}
	for (i = 0; i < inc->ninputs; i++)
		free(inc->inputs[i]);
	for (i = 0; i < inc->nnotes; i++)
		free(inc->notes[i]);
	free(inc->views);
	free(inc->inputs);
	free(inc->notes);
	free(inc->nodes);
	free(inc->open);
	free(inc->masters);
	memset(inc, 0, sizeof(*inc));
	for (i = 0; i < CLUSTER_SLOTS; i++)
		inc->owner[i] = -1;
}
