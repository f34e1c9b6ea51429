/*
 * audit.h - the repair engine's audit log: every command it sends while
 * changing the cluster and every reply, one line each, timed.
 */
#ifndef SQ_REPAIR_AUDIT_H
#define SQ_REPAIR_AUDIT_H

#include <stdint.h>
#include <stdio.h>

#include "cluster/conn.h"

struct audit {
	FILE *f;              /* NULL: no log */
	FILE *tee;            /* a second copy (a terminal, with -v), or NULL */
	uint64_t t0_us;
	struct conn_trace trace;
};

/* Starts logging every command and reply to f (NULL: nothing), and to
 * tee as well when not NULL.  Both are borrowed. */
void audit_start(struct audit *a, FILE *f);
void audit_tee(struct audit *a, FILE *tee);
/* A "# ..." line: phases, decisions. */
void audit_note(struct audit *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Stops (pause) and starts again (resume) the command log, e.g. around
 * an assessment, whose thousands of COUNTKEYSINSLOT say nothing. */
void audit_pause(struct audit *a);
void audit_resume(struct audit *a);

#endif
