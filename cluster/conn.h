/*
 * conn.h - one connection to one redis-server, the only hiredis user.
 *
 * Every connection has a connect timeout and a read/write timeout, so a
 * paused or blackholed node shows up as an error, never as a hang.
 * hiredis reads replies straight into `struct reply` (hiredis types
 * never leave cluster/); free them with reply_free().
 *
 * A reply of type REPLY_ERROR ("-MOVED 3999 127.0.0.1:7002") is not a
 * failure of the call: the call fails (NULL, `e` set) only when the
 * connection does (refused, timed out, closed).  After such a failure the
 * connection is unusable: conn_is_broken() tells, conn_reconnect() mends.
 */
#ifndef SQ_CLUSTER_CONN_H
#define SQ_CLUSTER_CONN_H

#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"

enum reply_type {
	REPLY_STRING,
	REPLY_ARRAY,
	REPLY_INTEGER,
	REPLY_NIL,
	REPLY_STATUS,
	REPLY_ERROR,
};

struct reply {
	enum reply_type type;
	long long integer;    /* REPLY_INTEGER */
	char *str;            /* STRING, STATUS, ERROR: NUL-terminated; read
				 replies keep it in the reply's own block:
				 copy it to keep it past reply_free() */
	size_t len;           /* length of str */
	struct reply **elem;  /* REPLY_ARRAY */
	size_t nelem;
};

void reply_free(struct reply *r);
/* True for an error reply whose text starts with `prefix` ("MOVED"). */
bool reply_is_error(const struct reply *r, const char *prefix);

struct conn;

/* Connects to host:port (timeout_ms for connect and for every reply).
 * Returns a new connection; free it with conn_free().  NULL and `e` set
 * on failure: "connect to '127.0.0.1:7000': Connection refused". */
struct conn *conn_open(const char *host, int port, int timeout_ms, struct err *e);
void conn_free(struct conn *c);

/* "host:port" of the connection (borrowed). */
const char *conn_addr(const struct conn *c);
const char *conn_host(const struct conn *c);
int conn_port(const struct conn *c);
bool conn_is_broken(const struct conn *c);
/* Closes and opens the connection again with the same address/timeout. */
int conn_reconnect(struct conn *c, struct err *e);
/* Changes the read/write timeout of an open connection. */
int conn_set_timeout(struct conn *c, int timeout_ms, struct err *e);
/* How long to wait for the answer of a MIGRATE given timeout_ms: it
 * waits up to that per I/O with the target and retries once, so its
 * answer may take longer, and must not break the link (or be blamed on
 * the node that sent it) when the target is merely slow. */
int conn_migrate_wait_ms(int timeout_ms);

/* Sends one command and reads its reply.  Arguments are NUL-terminated
 * strings, the list ends with NULL. */
struct reply *conn_cmd(struct conn *c, struct err *e, ...);
/* The same with an argument vector; `lens` may be NULL for strings. */
struct reply *conn_cmd_argv(struct conn *c, int argc, const char *const *argv,
			    const size_t *lens, struct err *e);

/* Sends a command that must answer +OK (or any status); an error reply
 * becomes a failure: "'CLUSTER MEET' on '127.0.0.1:7000': ERR ...". */
int conn_cmd_ok(struct conn *c, struct err *e, ...);
/* Sends a command that must answer a bulk string (CLUSTER NODES, INFO);
 * returns it as a new string, free() it. */
char *conn_cmd_str(struct conn *c, struct err *e, ...);
/* Sends a command that must answer an integer into `*out`. */
int conn_cmd_int(struct conn *c, long long *out, struct err *e, ...);
/* CONFIG GET name's value into out (size n; "" on a failure).  -1 with
 * `e` when the node fails, refuses, or has no such setting. */
int conn_config_get(struct conn *c, const char *name, char *out, size_t n, struct err *e);

/* Sends one command (argv NULL-terminated) to host:port on a connection
 * of its own and copies the reply, as text, to out (size n): an error as
 * "-ERR ...", an integer in decimal, an array one element a line (CONFIG
 * GET), nil as "(nil)".  Returns 0, or -1 with `e` set when the node
 * could not be asked. */
int conn_ask_text(const char *host, int port, int timeout_ms, const char *const *argv,
		  char *out, size_t n, struct err *e);

/* Pipelining: queue commands, then read their replies in order. */
void conn_append_argv(struct conn *c, int argc, const char *const *argv,
		      const size_t *lens);
/* Queues commands already in the protocol (RESP), as many as `resp`
 * holds; a trace does not see them. */
void conn_append_formatted(struct conn *c, const char *resp, size_t len);
/* For callers that write the protocol themselves: n in decimal at p;
 * returns the end. */
char *conn_put_num(char *p, size_t n);
/* Writes everything queued without waiting for replies. */
int conn_flush(struct conn *c, struct err *e);
struct reply *conn_read_reply(struct conn *c, struct err *e);
/* The next n replies, each an integer, into out[0..n), without a reply
 * allocated for each (a trace does not see them).  Returns 0, or -1 with
 * `e` set: the link failed, or a reply was not an integer ("'what' on
 * 'addr': <its error>"); the replies after that one are not read. */
int conn_read_integers(struct conn *c, long long *out, size_t n, const char *what,
		       struct err *e);

/* One connection's part in conn_fan_integers(): its commands, given by
 * `fill` a chunk at a time, and their n replies, each an integer. */
struct conn_fan {
	struct conn *c;
	/* Writes commands, in the protocol, at buf (at most cap bytes);
	 * returns how many bytes, 0 once every command has been given. */
	size_t (*fill)(void *arg, char *buf, size_t cap);
	void *arg;
	long long *out; /* the n replies */
	size_t n;
	bool failed; /* and why in `e`: the link failed, timed out, or a
		      * reply was not an integer ("'what' on 'addr': ...") */
	struct err e;
};
/* Every part's commands sent and its replies read, all connections at
 * once in the calling thread (poll): each server works from the first
 * chunk on, and its replies are read while the rest is written.  A part
 * fails when its link does, or when it has been silent for its link's
 * timeout; that leaves its connection broken, and the others go on.
 * Returns how many parts failed.  A trace does not see these commands. */
size_t conn_fan_integers(struct conn_fan *f, size_t n, const char *what);

/* A tap on every command the calling thread sends and every reply it
 * reads, for audit logs and tests.  `sent` sees the arguments as queued;
 * `replied` sees the reply, or NULL and the failure ("timed out").  Per
 * thread: other threads (live traffic, parallel counting) are not seen.
 * NULL: off. */
struct conn_trace {
	void (*sent)(void *arg, const struct conn *c, int argc, const char *const *argv,
		     const size_t *lens);
	void (*replied)(void *arg, const struct conn *c, const struct reply *r,
			const char *failure);
	void *arg;
};
void conn_trace_set(const struct conn_trace *t);
/* True when the calling thread has a tap set. */
bool conn_trace_on(void);

/* The value of `field` in INFO-style text ("cluster_state:ok\r\n...")
 * copied into out (size n).  Returns 0, or -1 when absent. */
int info_field(const char *text, const char *field, char *out, size_t n);

#endif
