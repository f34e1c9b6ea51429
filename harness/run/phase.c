/*
 * phase.c - what every phase of a run uses: a progress line with the
 * phase's time, the run's first reason to fail, and whether the user
 * asked it to stop; see run_int.h.
 */
#include <stdarg.h>
#include <stdio.h>

#include "common/utf8.h"
#include "harness/run/run_int.h"

void
run_phase_done(struct run *run, const char *name, uint64_t t0, const char *fmt, ...)
{
	uint64_t ms = timeline_ms(&run->tl) - t0;
	char what[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	json_object_set_new(run->phases, name, json_integer((json_int_t)ms));
	json_array_append_new(run->spans, json_pack("{s:s, s:I, s:I}", "name", name, "from_ms",
						    (json_int_t)t0, "to_ms",
						    (json_int_t)(t0 + ms)));
	timeline_add(&run->tl, "%s: %s (%llu ms)", name, what, (unsigned long long)ms);
	printf("  %-8s %s (%llu ms)\n", name, what, (unsigned long long)ms);
	fflush(stdout);
}

int
run_fail(struct run *run, const char *fmt, ...)
{
	va_list ap;

	if (run->r->status == RUN_FAILED)
		return -1;
	run->r->status = RUN_FAILED;
	va_start(ap, fmt);
	vsnprintf(run->r->reason, sizeof(run->r->reason), fmt, ap);
	va_end(ap);
	utf8_sanitize(run->r->reason);
	timeline_add(&run->tl, "failed: %s", run->r->reason);
	return -1;
}

bool
run_interrupted(const struct run *run)
{
	return run->o->interrupted && *run->o->interrupted;
}
