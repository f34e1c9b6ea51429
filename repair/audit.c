/*
 * audit.c - the audit log of a repair: every command the engine sends
 * while it changes the cluster, and every reply, with milliseconds since
 * the start, through the connection tap (conn_trace_set).
 *
 *   12.031 127.0.0.1:7001 > CLUSTER SETSLOT 5461 IMPORTING 1a2b...
 *   12.034 127.0.0.1:7001 < OK
 */
#include "repair/audit.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdbool.h>
#include <string.h>

#include "common/clock.h"

#define ARG_SHOWN 96   /* bytes of one argument shown */
#define ARGS_SHOWN 12  /* arguments shown; the rest are counted */

/* Arguments show spaces as '.', so that each is one word; replies keep
 * them. */
static void
put_bytes(FILE *f, const char *s, size_t n, bool arg)
{
	size_t i;

	for (i = 0; i < n && i < ARG_SHOWN; i++)
		fputc(isprint((unsigned char)s[i]) && !(arg && s[i] == ' ') ? s[i] : '.', f);
	if (n > ARG_SHOWN)
		fprintf(f, "...(%zu bytes)", n);
	if (n == 0)
		fputs("\"\"", f);
}

static void
sent_to(FILE *f, const struct audit *a, const struct conn *c, int argc,
	const char *const *argv, const size_t *lens)
{
	int i;

	fprintf(f, "%10.3f %s >", (double)(clock_now_us() - a->t0_us) / 1000.0, conn_addr(c));
	for (i = 0; i < argc && i < ARGS_SHOWN; i++) {
		fputc(' ', f);
		put_bytes(f, argv[i], lens ? lens[i] : strlen(argv[i]), true);
	}
	if (argc > ARGS_SHOWN)
		fprintf(f, " ...(%d more)", argc - ARGS_SHOWN);
	fputc('\n', f);
}

static void
sent(void *arg, const struct conn *c, int argc, const char *const *argv, const size_t *lens)
{
	struct audit *a = arg;

	sent_to(a->f, a, c, argc, argv, lens);
	if (a->tee)
		sent_to(a->tee, a, c, argc, argv, lens);
}

static void
replied_to(FILE *f, const struct audit *a, const struct conn *c, const struct reply *r,
	   const char *failure)
{
	fprintf(f, "%10.3f %s < ", (double)(clock_now_us() - a->t0_us) / 1000.0, conn_addr(c));
	if (r == NULL)
		fprintf(f, "(failed: %s)", failure);
	else if (r->type == REPLY_ARRAY)
		fprintf(f, "[%zu elements]", r->nelem);
	else if (r->type == REPLY_INTEGER)
		fprintf(f, "%lld", r->integer);
	else if (r->type == REPLY_NIL)
		fputs("(nil)", f);
	else {
		if (r->type == REPLY_ERROR)
			fputs("-", f);
		put_bytes(f, r->str, r->len, false);
	}
	fputc('\n', f);
	fflush(f);
}

static void
replied(void *arg, const struct conn *c, const struct reply *r, const char *failure)
{
	struct audit *a = arg;

	replied_to(a->f, a, c, r, failure);
	if (a->tee)
		replied_to(a->tee, a, c, r, failure);
}

void
audit_start(struct audit *a, FILE *f)
{
	a->f = f;
	a->tee = NULL;
	a->t0_us = clock_now_us();
	a->trace = (struct conn_trace){.sent = sent, .replied = replied, .arg = a};
	if (f)
		conn_trace_set(&a->trace);
}

void
audit_tee(struct audit *a, FILE *tee)
{
	a->tee = a->f ? tee : NULL;
}

static void
note_to(FILE *f, const struct audit *a, const char *fmt, va_list ap)
{
	fprintf(f, "%10.3f # ", (double)(clock_now_us() - a->t0_us) / 1000.0);
	vfprintf(f, fmt, ap);
	fputc('\n', f);
	fflush(f);
}

void
audit_note(struct audit *a, const char *fmt, ...)
{
	va_list ap;

	if (a->f == NULL)
		return;
	va_start(ap, fmt);
	note_to(a->f, a, fmt, ap);
	va_end(ap);
	if (a->tee) {
		va_start(ap, fmt);
		note_to(a->tee, a, fmt, ap);
		va_end(ap);
	}
}

void
audit_pause(struct audit *a)
{
	(void)a;
	conn_trace_set(NULL);
}

void
audit_resume(struct audit *a)
{
	if (a->f)
		conn_trace_set(&a->trace);
}
