/*
 * report.h - report.html of a run and index.html of a suite or matrix:
 * self-contained pages (inline style and SVG; no script, font, image or
 * sheet fetched from anywhere) drawn from the same JSON that report.json
 * and summary.json hold, so a page can be drawn again from the files.
 *
 * Any member may be missing (a run that stopped early, a scenario with
 * no workload or no repair, a report from an older shardquake): its
 * section says so instead.  Every text from the JSON is HTML-escaped,
 * whatever bytes it holds.
 */
#ifndef SQ_HARNESS_REPORT_REPORT_H
#define SQ_HARNESS_REPORT_REPORT_H

#include <jansson.h>

#include "common/err.h"

/* The page of one run from its report.json object; a new string,
 * free() it. */
char *report_html(const json_t *report);
/* report_html() into `path`; -1 with e when it cannot be written. */
int report_html_write(const json_t *report, const char *path, struct err *e);

/*
 * The page of a whole invocation from `index`, shaped as summary.json
 * (passed, failed, skipped, seconds, scenarios: name, status, reason,
 * seconds, results) with an optional "title" and an optional "matrix":
 *   {"steps": [STEP...], "rows": [{"label", "cells": [CELL|null...]}]}
 * where a CELL is {"name", "status" (ok, lost, fail, skip, ?), "reason",
 * "results"}.  Each run's link is its "results" directory + report.html,
 * made relative to `base` (the directory index.html goes to) when it is
 * under it.  A new string, free() it.
 */
char *report_index_html(const json_t *index, const char *base);
/* report_index_html() into base/index.html; -1 with e. */
int report_index_write(const json_t *index, const char *base, struct err *e);

#endif
