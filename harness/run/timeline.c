/* timeline.c - the run's event log; see timeline.h. */
#include "harness/run/timeline.h"

#include <jansson.h>
#include <stdarg.h>

#include "common/clock.h"
#include "common/utf8.h"

int
timeline_open(struct timeline *t, const char *path)
{
	t->t0_us = clock_now_us();
	t->events = json_array();
	t->f = path ? fopen(path, "w") : NULL;
	return t->f || !path ? 0 : -1;
}

uint64_t
timeline_ms(const struct timeline *t)
{
	return (clock_now_us() - t->t0_us) / 1000;
}

void
timeline_add(struct timeline *t, const char *fmt, ...)
{
	char line[1024];
	double ms = (double)(clock_now_us() - t->t0_us) / 1000.0;
	json_t *ev;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	utf8_sanitize(line); /* replies and key names are any bytes; cut lines too */
	if (t->f) {
		fprintf(t->f, "%10.3f %s\n", ms, line);
		fflush(t->f);
	}
	ev = json_pack("{s:f, s:s}", "ms", ms, "event", line);
	json_array_append_new(t->events, ev);
}

void
timeline_close(struct timeline *t)
{
	if (t->f)
		fclose(t->f);
	t->f = NULL;
	json_decref(t->events);
	t->events = NULL;
}
