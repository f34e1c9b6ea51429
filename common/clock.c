/* clock.c - monotonic time; see clock.h. */
#include "common/clock.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t start_us;

uint64_t
clock_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t
clock_now_ms(void)
{
	return clock_now_us() / 1000u;
}

uint64_t
clock_since_start_us(void)
{
	uint64_t now = clock_now_us();

	if (start_us == 0)
		start_us = now;
	return now - start_us;
}

void
clock_sleep_ms(unsigned ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int
clock_parse_duration_ms(const char *text, long long *ms)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(text, &end, 10);
	if (errno || end == text || v < 0 || v > CLOCK_DURATION_MAX_MS)
		return -1;
	if (strcmp(end, "s") == 0) {
		if (v > CLOCK_DURATION_MAX_MS / 1000)
			return -1;
		v *= 1000;
	} else if (*end && strcmp(end, "ms") != 0) {
		return -1;
	}
	*ms = v;
	return 0;
}
