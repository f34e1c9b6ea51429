/*
 * scenario_keys.h - the keys of each scenario section and the checks
 * across them; used by scenario.c only.  Each function returns 0, or -1
 * with the message (without file and line) in msg.
 */
#ifndef SQ_HARNESS_SCENARIO_KEYS_H
#define SQ_HARNESS_SCENARIO_KEYS_H

#include <stddef.h>

#include "harness/scenario/scenario.h"

int scenario_key(struct scenario *s, const char *section, const char *name,
		 const char *value, int line, char *msg, size_t n);
int scenario_fault_key(struct fault_spec *f, const char *name, const char *value,
		       int line, char *msg, size_t n);
/* scenario_layout.c: a [layout] key; the [layout] checks across keys
 * (with [cluster] known), as scenario_check() runs them. */
int scenario_layout_key(struct scenario *s, const char *name, const char *value, int line,
			char *msg, size_t n);
int scenario_layout_check(struct scenario *s, char *msg, size_t n, int *line);
/* The message of a bad key or value into msg (size n): returns -1; with
 * _at, *line = at too (a check across keys names the line at fault). */
int scenario_bad(char *msg, size_t n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int scenario_bad_at(int *line, int at, char *msg, size_t n, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
/* The checks across keys, once the file is read; *line is where. */
int scenario_check(struct scenario *s, char *msg, size_t n, int *line);

#endif
