/* log.c - the human log on stderr; see log.h. */
#include "common/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"

enum log_level log_level = LOG_WARN;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void
log_write(enum log_level lvl, const char *mod, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	double t = (double)clock_since_start_us() / 1e6;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "%.3f %s %s: %s\n", t,
		lvl <= LOG_ERROR ? level_names[lvl] : "?", mod, line);
}

void
fatal(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	fputs("shardquake: fatal: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, ": %s\n", strerror(saved));
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	fputs("shardquake: fatal: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

void
bug_at(const char *file, int line, const char *msg)
{
	fprintf(stderr, "shardquake: BUG at %s:%d: %s\n", file, line, msg);
	abort();
}
