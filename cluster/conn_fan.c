/*
 * conn_fan.c - one pipeline to several connections at once, from one
 * thread: commands written as each socket takes them, integer replies
 * read as they come (poll); see conn.h.
 *
 * A verify counts the keys of all 16384 slots this way, on every master
 * at once.  With a thread per master, each wrote all its counts before
 * reading a reply, and the threads and servers together outnumbered the
 * cores they shared.
 */
#include "cluster/conn.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "cluster/conn_int.h"
#include "common/clock.h"
#include "common/xmalloc.h"

/* What `fill` is asked for at once: the server starts on the first
 * chunk while the next is made, and the buffer stays small. */
#define FAN_CHUNK 65536

struct side {
	char *buf;
	size_t len, off;
	bool all_given; /* fill has nothing more */
	bool done;      /* every reply read, or failed */
	int flags;      /* the socket's own, restored at the end */
	size_t got;
	/* where the next integer goes: the reader keeps a pointer to it in
	 * a reply it has begun, from one read to the next (after a failure
	 * mid-reply, to freed memory: a broken link is never read again,
	 * and conn_reconnect() gives it a new reader) */
	long long *cursor;
	uint64_t heard_ms; /* the last time it wrote or read anything */
};

/* The part failed, its error set: the link is out of step for good. */
static void
broken(struct conn_fan *f, struct side *sd)
{
	f->failed = true;
	f->c->broken = true;
	sd->done = true;
}

/* The part failed on its link: "'addr': why". */
static void
fail(struct conn_fan *f, struct side *sd, int code, const char *why)
{
	err_set(&f->e, code, "'%s': %s", f->c->addr, why);
	broken(f, sd);
}

/* Takes every reply the reader holds; the part is done at the n-th. */
static void
take(struct conn_fan *f, struct side *sd, const char *what)
{
	redisReader *rd = f->c->ctx->reader;
	void *r;

	sd->cursor = f->out + sd->got;
	rd->privdata = &sd->cursor;
	while (sd->got < f->n) {
		r = NULL;
		if (redisReaderGetReply(rd, &r) != REDIS_OK) {
			fail(f, sd, 0, rd->errstr);
			break;
		}
		if (r == NULL)
			break;
		if (r != &conn_integer_taken) {
			conn_not_integer(f->c, r, what, &f->e);
			broken(f, sd);
			break;
		}
		sd->got = (size_t)(sd->cursor - f->out);
	}
	rd->privdata = NULL;
	if (sd->got == f->n)
		sd->done = true;
}

static void
put(struct conn_fan *f, struct side *sd)
{
	ssize_t w;

	if (sd->off == sd->len && !sd->all_given) {
		sd->len = f->fill(f->arg, sd->buf, FAN_CHUNK);
		sd->off = 0;
		sd->all_given = sd->len == 0;
	}
	if (sd->off == sd->len)
		return;
	w = send(f->c->ctx->fd, sd->buf + sd->off, sd->len - sd->off, MSG_NOSIGNAL);
	if (w > 0) {
		sd->off += (size_t)w;
		sd->heard_ms = clock_now_ms();
	}
	else if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
		fail(f, sd, errno, strerror(errno));
}

static void
get(struct conn_fan *f, struct side *sd, const char *what)
{
	char in[65536];
	ssize_t r = recv(f->c->ctx->fd, in, sizeof(in), 0);

	if (r == 0)
		fail(f, sd, 0, "connection closed by the server");
	else if (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
		fail(f, sd, errno, strerror(errno));
	else if (r > 0 && redisReaderFeed(f->c->ctx->reader, in, (size_t)r) != REDIS_OK)
		fail(f, sd, 0, f->c->ctx->reader->errstr);
	else if (r > 0) {
		sd->heard_ms = clock_now_ms();
		take(f, sd, what);
	}
}

/* Ready to go: nothing queued the old way, the socket non-blocking. */
static bool
start(struct conn_fan *f, struct side *sd, const char *what)
{
	f->failed = false;
	err_clear(&f->e);
	if (conn_flush(f->c, &f->e) < 0) {
		f->failed = true;
		sd->done = true;
		return false;
	}
	sd->flags = fcntl(f->c->ctx->fd, F_GETFL);
	if (sd->flags < 0 || fcntl(f->c->ctx->fd, F_SETFL, sd->flags | O_NONBLOCK) < 0) {
		fail(f, sd, errno, strerror(errno));
		return false;
	}
	sd->buf = xmalloc(FAN_CHUNK);
	sd->heard_ms = clock_now_ms();
	take(f, sd, what); /* replies the reader may hold already */
	return true;
}

/* The poll timeout: until the first live part has been silent for its
 * link's timeout (0: one has already). */
static int
wait_ms(const struct conn_fan *f, const struct side *sd, size_t n)
{
	uint64_t now = clock_now_ms(), due, first = UINT64_MAX;
	size_t i;

	for (i = 0; i < n; i++) {
		if (sd[i].done)
			continue;
		due = sd[i].heard_ms + (uint64_t)f[i].c->timeout_ms;
		if (due < first)
			first = due;
	}
	return first == UINT64_MAX ? 0 : first <= now ? 0 : (int)(first - now);
}

size_t
conn_fan_integers(struct conn_fan *f, size_t n, const char *what)
{
	struct pollfd *pf = xcalloc(n ? n : 1, sizeof(*pf));
	struct side *sd = xcalloc(n ? n : 1, sizeof(*sd));
	size_t i, live = 0, failed = 0;
	uint64_t now;
	int rc;

	for (i = 0; i < n; i++)
		start(&f[i], &sd[i], what);
	for (;;) {
		for (i = 0, live = 0; i < n; i++) {
			pf[i].fd = -1;
			pf[i].revents = 0;
			if (sd[i].done)
				continue;
			put(&f[i], &sd[i]); /* write before waiting: it mostly fits */
			if (sd[i].done)
				continue;
			pf[i].fd = f[i].c->ctx->fd;
			pf[i].events = POLLIN | (sd[i].off < sd[i].len || !sd[i].all_given ? POLLOUT : 0);
			live++;
		}
		if (live == 0)
			break;
		rc = poll(pf, n, wait_ms(f, sd, n));
		if (rc < 0 && errno == EINTR)
			continue;
		now = clock_now_ms();
		for (i = 0; i < n; i++) {
			if (pf[i].fd < 0)
				continue;
			if (rc < 0)
				fail(&f[i], &sd[i], errno, strerror(errno));
			else if (pf[i].revents & POLLNVAL)
				fail(&f[i], &sd[i], EBADF, "not an open socket");
			else if (pf[i].revents & (POLLIN | POLLHUP | POLLERR))
				get(&f[i], &sd[i], what);
			else if (now >= sd[i].heard_ms + (uint64_t)f[i].c->timeout_ms)
				fail(&f[i], &sd[i], 0, "timed out");
		}
	}
	for (i = 0; i < n; i++) {
		if (sd[i].buf && !f[i].failed)
			fcntl(f[i].c->ctx->fd, F_SETFL, sd[i].flags);
		failed += f[i].failed;
		free(sd[i].buf);
	}
	free(pf);
	free(sd);
	return failed;
}
