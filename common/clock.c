/* clock.c - monotonic time; see clock.h. */
#include "common/clock.h"

#include <errno.h>
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
