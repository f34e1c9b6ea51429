/*
 * conn_cmd.c - one command, one typed answer: the helpers over
 * conn_cmd_argv() (conn_cmd, _ok, _str, _int, CONFIG GET, a one-off
 * question to a node as text, a field of INFO); see conn.h.
 */
#include "cluster/conn.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"

#define MAX_VA_ARGS 64

static int
collect(va_list ap, const char **argv)
{
	const char *s;
	int n = 0;

	while ((s = va_arg(ap, const char *)) != NULL && n < MAX_VA_ARGS)
		argv[n++] = s;
	return n;
}

/* "CLUSTER MEET" for messages: the first one or two words. */
static void
cmd_name(char *out, size_t n, int argc, const char *const *argv)
{
	snprintf(out, n, "%s%s%s", argv[0], argc > 1 ? " " : "", argc > 1 ? argv[1] : "");
	if (strlen(out) > 32)
		out[32] = '\0';
}

static struct reply *
vcmd(struct conn *c, struct err *e, va_list ap, char *name, size_t n)
{
	const char *argv[MAX_VA_ARGS];
	int argc = collect(ap, argv);

	cmd_name(name, n, argc, argv);
	return conn_cmd_argv(c, argc, argv, NULL, e);
}

struct reply *
conn_cmd(struct conn *c, struct err *e, ...)
{
	char name[64];
	struct reply *r;
	va_list ap;

	va_start(ap, e);
	r = vcmd(c, e, ap, name, sizeof(name));
	va_end(ap);
	if (r == NULL)
		err_prefix(e, "'%s' on ", name);
	return r;
}

/* Checks the reply type, turning error replies into `e`. */
static int
expect(struct reply *r, enum reply_type t, struct conn *c, const char *name,
       struct err *e)
{
	if (r == NULL)
		return err_prefix(e, "'%s' on ", name);
	if (r->type == REPLY_ERROR)
		return err_set(e, 0, "'%s' on '%s': %s", name, conn_addr(c), r->str);
	if (r->type != t)
		return err_set(e, 0, "'%s' on '%s': unexpected reply type %d", name,
			       conn_addr(c), (int)r->type);
	return 0;
}

/* The command of the arguments after e, when its reply is of type t;
 * else NULL, with `e` set (an error reply is its words). */
static struct reply *
vtyped(struct conn *c, struct err *e, va_list ap, enum reply_type t)
{
	char name[64];
	struct reply *r = vcmd(c, e, ap, name, sizeof(name));

	if (expect(r, t, c, name, e) == 0)
		return r;
	reply_free(r);
	return NULL;
}

int
conn_cmd_ok(struct conn *c, struct err *e, ...)
{
	struct reply *r;
	va_list ap;
	int rc;

	va_start(ap, e);
	r = vtyped(c, e, ap, REPLY_STATUS);
	va_end(ap);
	rc = r ? 0 : -1;
	reply_free(r);
	return rc;
}

char *
conn_cmd_str(struct conn *c, struct err *e, ...)
{
	struct reply *r;
	va_list ap;
	char *s;

	va_start(ap, e);
	r = vtyped(c, e, ap, REPLY_STRING);
	va_end(ap);
	s = r ? xstrndup(r->str, r->len) : NULL; /* r->str lives in r */
	reply_free(r);
	return s;
}

int
conn_cmd_int(struct conn *c, long long *out, struct err *e, ...)
{
	struct reply *r;
	va_list ap;

	va_start(ap, e);
	r = vtyped(c, e, ap, REPLY_INTEGER);
	va_end(ap);
	if (r == NULL)
		return -1;
	*out = r->integer;
	reply_free(r);
	return 0;
}

int
conn_config_get(struct conn *c, const char *name, char *out, size_t n, struct err *e)
{
	struct reply *r = conn_cmd(c, e, "CONFIG", "GET", name, NULL);
	int rc = 0;

	out[0] = '\0';
	if (r == NULL)
		return -1;
	if (r->type == REPLY_ERROR)
		rc = err_set(e, 0, "'CONFIG GET %s' on '%s': %s", name, conn_addr(c), r->str);
	else if (r->type != REPLY_ARRAY || r->nelem != 2 || r->elem[1]->type != REPLY_STRING)
		rc = err_set(e, 0, "'CONFIG GET %s' on '%s': no such setting", name, conn_addr(c));
	else
		snprintf(out, n, "%s", r->elem[1]->str);
	reply_free(r);
	return rc;
}

int
conn_ask_text(const char *host, int port, int timeout_ms, const char *const *argv,
	      char *out, size_t n, struct err *e)
{
	struct conn *c = conn_open(host, port, timeout_ms, e);
	struct reply *r;
	int argc = 0;

	if (c == NULL)
		return -1;
	while (argv[argc])
		argc++;
	r = conn_cmd_argv(c, argc, argv, NULL, e);
	conn_free(c);
	if (r == NULL)
		return -1;
	if (r->type == REPLY_ARRAY) {
		size_t i, used = 0;

		out[0] = '\0';
		for (i = 0; i < r->nelem && used < n; i++)
			used += (size_t)snprintf(out + used, n - used, "%s%s", i ? "\n" : "",
						 r->elem[i]->str ? r->elem[i]->str : "");
	} else if (r->type == REPLY_ERROR) {
		snprintf(out, n, "-%s", r->str);
	} else if (r->type == REPLY_INTEGER) {
		snprintf(out, n, "%lld", r->integer);
	} else {
		snprintf(out, n, "%s", r->str ? r->str : r->type == REPLY_NIL ? "(nil)" : "");
	}
	reply_free(r);
	return 0;
}

int
info_field(const char *text, const char *field, char *out, size_t n)
{
	size_t flen = strlen(field);
	const char *p = text, *end;

	while (p && *p) {
		if (strncmp(p, field, flen) == 0 && p[flen] == ':') {
			p += flen + 1;
			end = p + strcspn(p, "\r\n");
			snprintf(out, n, "%.*s", (int)(end - p), p);
			return 0;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return -1;
}
