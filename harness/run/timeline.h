/*
 * timeline.h - one line per event of a run, milliseconds since its start,
 * in results/<run>/timeline.log; the same lines kept for report.json.
 */
#ifndef SQ_HARNESS_TIMELINE_H
#define SQ_HARNESS_TIMELINE_H

#include <stdint.h>
#include <stdio.h>

struct timeline {
	FILE *f;          /* timeline.log, or NULL */
	uint64_t t0_us;
	void *events;     /* json_t array of {"ms", "event"} */
	int quiet;        /* no progress lines on stdout */
};

int timeline_open(struct timeline *t, const char *path);
/* Records an event; phase events are also printed as progress lines. */
void timeline_add(struct timeline *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Milliseconds since the run started. */
uint64_t timeline_ms(const struct timeline *t);
void timeline_close(struct timeline *t);

#endif
