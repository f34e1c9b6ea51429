/*
 * conn.c - hiredis connections with timeouts, replies built by the
 * reader, pipelining; the one-command helpers are in conn_cmd.c.  See
 * conn.h.
 */
#include "cluster/conn.h"
#include "cluster/conn_int.h"

#include <errno.h>
#include <hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "common/xmalloc.h"

#define MAX_VA_ARGS 64

/* per thread: an audit sees the commands of the thread that set it, not
 * those of live traffic in other threads of the same process */
static _Thread_local const struct conn_trace *trace;

void
conn_trace_set(const struct conn_trace *t)
{
	trace = t;
}

bool
conn_trace_on(void)
{
	return trace != NULL;
}

void
reply_free(struct reply *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->nelem; i++)
		reply_free(r->elem[i]);
	free(r->elem);
	if (r->str != (char *)(r + 1)) /* else allocated with r: new_string() */
		free(r->str);
	free(r);
}

bool
reply_is_error(const struct reply *r, const char *prefix)
{
	return r && r->type == REPLY_ERROR &&
	       strncmp(r->str, prefix, strlen(prefix)) == 0;
}

/*
 * hiredis builds our replies directly, through its reader's object
 * functions: a reply is allocated once, not built by hiredis and copied
 * (the copy and the frees were a fifth of a 1M-key verify's client
 * time).  Each new object is linked into its parent array at once, so
 * that freeing a half-read reply (reply_free(), as the reader does on a
 * protocol error) frees what was read.
 */
/* A new reply with `extra` bytes after it. */
static struct reply *
new_object(const redisReadTask *task, enum reply_type type, size_t extra)
{
	struct reply *r = xmalloc(sizeof(*r) + extra), *parent;

	memset(r, 0, sizeof(*r));
	r->type = type;
	if (task->parent) {
		parent = task->parent->obj;
		parent->elem[task->idx] = r;
	}
	return r;
}

static void *
new_string(const redisReadTask *task, char *str, size_t len)
{
	enum reply_type t = task->type == REDIS_REPLY_STATUS  ? REPLY_STATUS
			    : task->type == REDIS_REPLY_ERROR ? REPLY_ERROR
							      : REPLY_STRING;
	/* the string right after the reply: one allocation per value */
	struct reply *r = new_object(task, t, len + 1);

	r->str = (char *)(r + 1);
	memcpy(r->str, str, len);
	r->str[len] = '\0';
	r->len = len;
	return r;
}

#if HIREDIS_MAJOR >= 1
static void *
new_array(const redisReadTask *task, size_t elements)
#else
static void *
new_array(const redisReadTask *task, int elements)
#endif
{
	struct reply *r = new_object(task, REPLY_ARRAY, 0);

	r->nelem = (size_t)elements;
	r->elem = xcalloc(r->nelem ? r->nelem : 1, sizeof(*r->elem));
	return r;
}

/*
 * Within conn_read_integers() and conn_fan_integers(), the reader's
 * privdata points at a cursor into the caller's array: a top-level
 * integer goes there, and the reply is this marker, never allocated.
 * hiredis takes privdata when it begins a reply, which may be a read
 * before it ends it: the cursor must stay put until then.  A verify reads
 * 16384 counts; a reply allocated and freed for each was most of its
 * client time after the parsing.
 */
struct reply conn_integer_taken;

static void *
new_integer(const redisReadTask *task, long long value)
{
	long long **cursor = task->privdata;
	struct reply *r;

	if (cursor != NULL && task->parent == NULL) {
		*(*cursor)++ = value;
		return &conn_integer_taken;
	}
	r = new_object(task, REPLY_INTEGER, 0);
	r->integer = value;
	return r;
}

static void *
new_nil(const redisReadTask *task)
{
	return new_object(task, REPLY_NIL, 0);
}

static void
free_object(void *r)
{
	if (r != &conn_integer_taken)
		reply_free(r);
}

/* hiredis never writes through its pointer to these */
static const redisReplyObjectFunctions reply_functions = {
	.createString = new_string,
	.createArray = new_array,
	.createInteger = new_integer,
	.createNil = new_nil,
	.freeObject = free_object,
};

static struct timeval
tv_of(int ms)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
	return tv;
}

static int
connect_ctx(struct conn *c, struct err *e)
{
	c->ctx = redisConnectWithTimeout(c->host, c->port, tv_of(c->timeout_ms));
	if (c->ctx == NULL)
		return err_set(e, ENOMEM, "connect to '%s': out of memory", c->addr);
	if (c->ctx->err) {
		err_set(e, c->ctx->err == REDIS_ERR_IO ? errno : 0,
			"connect to '%s': %s", c->addr, c->ctx->errstr);
		redisFree(c->ctx);
		c->ctx = NULL;
		return -1;
	}
	if (redisSetTimeout(c->ctx, tv_of(c->timeout_ms)) != REDIS_OK) {
		err_set(e, 0, "set timeout on '%s': %s", c->addr, c->ctx->errstr);
		redisFree(c->ctx);
		c->ctx = NULL;
		return -1;
	}
	c->ctx->reader->fn = (redisReplyObjectFunctions *)&reply_functions;
	c->broken = false;
	return 0;
}

struct conn *
conn_open(const char *host, int port, int timeout_ms, struct err *e)
{
	struct conn *c = xcalloc(1, sizeof(*c));

	snprintf(c->host, sizeof(c->host), "%s", host);
	c->port = port;
	c->timeout_ms = timeout_ms > 0 ? timeout_ms : 1000;
	snprintf(c->addr, sizeof(c->addr), "%s:%d", host, port);
	if (connect_ctx(c, e) < 0) {
		free(c);
		return NULL;
	}
	return c;
}

void
conn_free(struct conn *c)
{
	if (c == NULL)
		return;
	if (c->ctx)
		redisFree(c->ctx);
	free(c->out);
	free(c);
}

const char *
conn_addr(const struct conn *c)
{
	return c->addr;
}

const char *
conn_host(const struct conn *c)
{
	return c->host;
}

int
conn_port(const struct conn *c)
{
	return c->port;
}

bool
conn_is_broken(const struct conn *c)
{
	return c->broken || c->ctx == NULL;
}

int
conn_reconnect(struct conn *c, struct err *e)
{
	if (c->ctx)
		redisFree(c->ctx);
	c->ctx = NULL;
	return connect_ctx(c, e);
}

int
conn_set_timeout(struct conn *c, int timeout_ms, struct err *e)
{
	c->timeout_ms = timeout_ms;
	if (c->ctx && redisSetTimeout(c->ctx, tv_of(timeout_ms)) != REDIS_OK)
		return err_set(e, 0, "set timeout on '%s': %s", c->addr, c->ctx->errstr);
	return 0;
}

int
conn_migrate_wait_ms(int timeout_ms)
{
	return timeout_ms * 3 + 1000;
}

int
conn_not_integer(const struct conn *c, struct reply *r, const char *what, struct err *e)
{
	err_set(e, 0, "'%s' on '%s': %s", what, c->addr,
		r->type == REPLY_ERROR ? r->str : "not an integer");
	reply_free(r);
	return -1;
}

/* Turns a context error into `e` and marks the connection broken. */
void
conn_io_failure(struct conn *c, struct err *e)
{
	const char *why = c->ctx ? c->ctx->errstr : "not connected";
	int code = c->ctx && c->ctx->err == REDIS_ERR_IO ? errno : 0;

	if (c->ctx && c->ctx->err == REDIS_ERR_IO &&
	    (errno == EAGAIN || errno == EWOULDBLOCK))
		why = "timed out";
	err_set(e, code, "'%s': %s", c->addr, why);
	c->broken = true;
}

struct reply *
conn_cmd_argv(struct conn *c, int argc, const char *const *argv,
	      const size_t *lens, struct err *e)
{
	conn_append_argv(c, argc, argv, lens);
	return conn_read_reply(c, e);
}

char *
conn_put_num(char *p, size_t n)
{
	char d[24];
	size_t k = 0;

	do {
		d[k++] = (char)('0' + n % 10);
		n /= 10;
	} while (n);
	while (k)
		*p++ = d[--k];
	return p;
}

/* The command in RESP, as hiredis formats it, into c->out; returns its
 * length.  hiredis's formatter grows an sds string by printf-style
 * pieces, two per argument: 12% of a 1M-key verify, whose MGETs carry
 * a key per argument. */
static size_t
format_argv(struct conn *c, int argc, const char *const *argv, const size_t *lens)
{
	size_t need = 32, len;
	char *p;
	int i;

	for (i = 0; i < argc; i++)
		need += (lens ? lens[i] : strlen(argv[i])) + 32;
	xgrow(&c->out, &c->out_cap, need, 1);
	p = c->out;
	*p++ = '*';
	p = conn_put_num(p, (size_t)argc);
	*p++ = '\r';
	*p++ = '\n';
	for (i = 0; i < argc; i++) {
		len = lens ? lens[i] : strlen(argv[i]);
		*p++ = '$';
		p = conn_put_num(p, len);
		*p++ = '\r';
		*p++ = '\n';
		memcpy(p, argv[i], len);
		p += len;
		*p++ = '\r';
		*p++ = '\n';
	}
	return (size_t)(p - c->out);
}

void
conn_append_argv(struct conn *c, int argc, const char *const *argv,
		 const size_t *lens)
{
	size_t l[MAX_VA_ARGS], len;
	int i;

	if (c->ctx == NULL)
		return;
	if (lens == NULL && argc <= MAX_VA_ARGS) {
		for (i = 0; i < argc; i++)
			l[i] = strlen(argv[i]);
		lens = l;
	}
	if (trace && trace->sent)
		trace->sent(trace->arg, c, argc, argv, lens);
	len = format_argv(c, argc, argv, lens); /* may move c->out */
	if (redisAppendFormattedCommand(c->ctx, c->out, len) != REDIS_OK)
		c->broken = true;
}

void
conn_append_formatted(struct conn *c, const char *resp, size_t len)
{
	if (c->ctx && redisAppendFormattedCommand(c->ctx, resp, len) != REDIS_OK)
		c->broken = true;
}

int
conn_flush(struct conn *c, struct err *e)
{
	int done = 0;

	if (c->ctx == NULL || c->broken) {
		conn_io_failure(c, e);
		return -1;
	}
	while (!done) {
		if (redisBufferWrite(c->ctx, &done) != REDIS_OK) {
			conn_io_failure(c, e);
			return -1;
		}
	}
	return 0;
}

struct reply *
conn_read_reply(struct conn *c, struct err *e)
{
	struct reply *r = NULL;

	if (c->ctx == NULL || c->broken ||
	    redisGetReply(c->ctx, (void **)&r) != REDIS_OK || r == NULL) {
		conn_io_failure(c, e);
		if (trace && trace->replied)
			trace->replied(trace->arg, c, NULL, e ? e->msg : "failed");
		return NULL;
	}
	if (trace && trace->replied)
		trace->replied(trace->arg, c, r, NULL);
	return r;
}

int
conn_read_integers(struct conn *c, long long *out, size_t n, const char *what, struct err *e)
{
	long long *cursor = out;
	struct reply *r;
	size_t i;
	int rc = 0;

	if (c->ctx == NULL || c->broken) {
		conn_io_failure(c, e);
		return -1;
	}
	c->ctx->reader->privdata = &cursor;
	for (i = 0; i < n && rc == 0; i++) {
		r = NULL;
		if (redisGetReply(c->ctx, (void **)&r) != REDIS_OK || r == NULL) {
			conn_io_failure(c, e);
			rc = -1;
		} else if (r != &conn_integer_taken) {
			rc = conn_not_integer(c, r, what, e);
		}
	}
	c->ctx->reader->privdata = NULL;
	return rc;
}
