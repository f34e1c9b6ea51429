/*
 * conn_int.h - what conn.c shares with the other files of the connection
 * (conn_fan.c): the connection itself and the reader's integer marker.
 * Not for use outside cluster/conn*.c.
 */
#ifndef SQ_CLUSTER_CONN_INT_H
#define SQ_CLUSTER_CONN_INT_H

#include <hiredis.h>
#include <stdbool.h>

#include "cluster/conn.h"

struct conn {
	redisContext *ctx;
	char host[256];
	int port;
	int timeout_ms;
	char addr[300];
	bool broken;
	char *out; /* the last command formatted, reused */
	size_t out_cap;
};

/* When the reader began a reply with privdata pointing at a cursor
 * (long long **), a top-level integer is written where the cursor points
 * and the reply is this marker, never allocated (see conn.c). */
extern struct reply conn_integer_taken;

/* A reply r where an integer was due: "'what' on 'addr': <its error>"
 * (or "not an integer") in `e`; frees r, returns -1. */
int conn_not_integer(const struct conn *c, struct reply *r, const char *what, struct err *e);

/* Records the link's failure in `e` ("'addr': timed out") and marks the
 * connection broken. */
void conn_io_failure(struct conn *c, struct err *e);

#endif
