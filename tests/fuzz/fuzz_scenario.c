/*
 * fuzz_scenario.c - libFuzzer on the scenario loader (make fuzz): any
 * bytes as a scenario file must load or fail with a message, never
 * crash, leak or read out of bounds.  The shipped scenarios are the
 * seeds.
 */
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "harness/scenario/scenario.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[] = "/dev/shm/shardquake-fuzz-XXXXXX";
	struct err e = ERR_INIT;
	struct scenario *s;
	int fd = mkstemp(path);

	if (fd < 0 || write(fd, data, size) != (ssize_t)size)
		abort();
	close(fd);
	s = scenario_load(path, &e);
	unlink(path);
	if (s == NULL && e.msg[0] == '\0')
		abort(); /* a refusal always says why */
	scenario_free(s);
	return 0;
}
