/*
 * outages.h - what clients saw of a slot range being unavailable: the
 * writers' per-slot outages (writers.h), merged per slot and grouped
 * into ranges that failed together.  Pure: unit-tested without a
 * cluster.
 */
#ifndef SQ_HARNESS_WORKLOAD_OUTAGES_H
#define SQ_HARNESS_WORKLOAD_OUTAGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "harness/workload/writers.h"

struct outage_range {
	int first, last;   /* the lowest and highest slot seen failing */
	int nslots;        /* slots of the workload's keys seen failing */
	uint64_t from_ms, to_ms;
	bool open;         /* still failing when the writers stopped */
};

/* A slot's outages less than `slack_ms` apart are one; outages of
 * different slots that began and ended within `slack_ms` of each other
 * are one range.  Ranges by start time into *out (free() it); how many. */
size_t outages_group(const struct outages *o, uint64_t slack_ms, struct outage_range **out);

#endif
