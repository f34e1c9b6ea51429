/* clock.h - monotonic time for deadlines, timelines and rates. */
#ifndef SQ_COMMON_CLOCK_H
#define SQ_COMMON_CLOCK_H

#include <stdint.h>

/* Microseconds / milliseconds on CLOCK_MONOTONIC. */
uint64_t clock_now_us(void);
uint64_t clock_now_ms(void);
/* Microseconds since the first call to any clock function. */
uint64_t clock_since_start_us(void);
/* Sleeps `ms` milliseconds (restarting after signals). */
void clock_sleep_ms(unsigned ms);

/* The longest duration a file or option may ask for: 1 hour. */
#define CLOCK_DURATION_MAX_MS 3600000LL
/* "500", "500ms" or "2s" into *ms; -1 for anything else, negative, or
 * longer than CLOCK_DURATION_MAX_MS. */
int clock_parse_duration_ms(const char *text, long long *ms);

#endif
