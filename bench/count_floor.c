/*
 * count_floor.c - the floor under verify's misplaced-keys check: the same
 * counts sent by a bare client, with nothing else to do.
 *
 * For each master given, CLUSTER COUNTKEYSINSLOT of every slot it owns
 * and DBSIZE (the commands verify sends it), all masters at once: one
 * connection each, the commands written as the sockets take them and the
 * replies read as they come, in one poll loop, with hiredis and no
 * thread.  Prints the time of that, from the first connect to the last
 * reply, in microseconds; what each master owns is asked beforehand and
 * not timed.  Against the servers' CPU alone, this includes what no
 * client escapes on this machine: its own share of the cores, and the
 * servers' slower counts when they share them.
 *
 *   count_floor PORT...      masters on 127.0.0.1
 *
 * Exit status: 0, or 2 on a failure to measure.
 */
#include <errno.h>
#include <hiredis.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "cluster/fetch.h"
#include "common/clock.h"
#include "common/xmalloc.h"

#define MAX_MASTERS 16

struct master {
	int port;
	char *out;   /* the commands, in the protocol */
	size_t len, off;
	int want, got; /* replies */
	redisContext *c;
};

/* m's commands: a count per owned slot, then DBSIZE. */
static int
prepare(struct master *m)
{
	struct topology t = TOPOLOGY_INIT;
	const struct cluster_node *me;
	struct err e = ERR_INIT;
	char *p;
	size_t r;
	int s;

	if (topology_fetch_addr("127.0.0.1", m->port, 2000, &t, &e) < 0 ||
	    (me = topology_myself(&t)) == NULL) {
		fprintf(stderr, "count_floor: %d: %s\n", m->port, e.msg[0] ? e.msg : "no myself");
		topology_release(&t);
		return -1;
	}
	p = m->out = xmalloc((size_t)cluster_node_slot_count(me) * 64 + 64);
	for (r = 0; r < me->nranges; r++)
		for (s = me->ranges[r].first; s <= me->ranges[r].last; s++, m->want++)
			p += sprintf(p, "*3\r\n$7\r\nCLUSTER\r\n$15\r\nCOUNTKEYSINSLOT\r\n$%d\r\n%d\r\n",
				     snprintf(NULL, 0, "%d", s), s);
	p += sprintf(p, "*1\r\n$6\r\nDBSIZE\r\n");
	m->want++;
	m->len = (size_t)(p - m->out);
	topology_release(&t);
	return 0;
}

/* Takes every reply m has buffered; -1 on anything but an integer. */
static int
take(struct master *m)
{
	void *r = NULL;
	int ok;

	while (m->got < m->want && redisReaderGetReply(m->c->reader, &r) == REDIS_OK && r) {
		ok = ((redisReply *)r)->type == REDIS_REPLY_INTEGER;
		freeReplyObject(r);
		r = NULL;
		if (!ok)
			return -1;
		m->got++;
	}
	return 0;
}

static int
measure(struct master *ms, int n, uint64_t *us)
{
	struct pollfd pf[MAX_MASTERS];
	uint64_t t0 = clock_now_us();
	ssize_t w;
	int i, left = n, rc = 0;

	for (i = 0; i < n; i++) {
		ms[i].off = 0;
		ms[i].got = 0;
		ms[i].c = redisConnect("127.0.0.1", ms[i].port);
		if (ms[i].c == NULL || ms[i].c->err)
			rc = -1;
	}
	while (rc == 0 && left > 0) {
		for (i = 0; i < n; i++) {
			pf[i].fd = ms[i].c->fd;
			pf[i].events = (short)((ms[i].off < ms[i].len ? POLLOUT : 0) |
					       (ms[i].got < ms[i].want ? POLLIN : 0));
		}
		if (poll(pf, (nfds_t)n, 5000) <= 0) {
			rc = -1;
			break;
		}
		for (i = 0; i < n && rc == 0; i++) {
			if (pf[i].revents & POLLOUT) {
				w = send(pf[i].fd, ms[i].out + ms[i].off, ms[i].len - ms[i].off,
					 MSG_DONTWAIT | MSG_NOSIGNAL);
				if (w > 0)
					ms[i].off += (size_t)w;
				else if (errno != EAGAIN)
					rc = -1;
			}
			if (rc == 0 && (pf[i].revents & (POLLIN | POLLHUP | POLLERR))) {
				if (redisBufferRead(ms[i].c) != REDIS_OK || take(&ms[i]) < 0)
					rc = -1;
				else if (ms[i].got == ms[i].want)
					left--;
			}
		}
	}
	*us = clock_now_us() - t0;
	for (i = 0; i < n; i++)
		if (ms[i].c)
			redisFree(ms[i].c);
	return rc;
}

int
main(int argc, char **argv)
{
	struct master ms[MAX_MASTERS] = {{0}};
	uint64_t us;
	int i, n = argc - 1, rc;

	if (n < 1 || n > MAX_MASTERS) {
		fprintf(stderr, "usage: count_floor PORT... (1 to %d masters on 127.0.0.1)\n",
			MAX_MASTERS);
		return 2;
	}
	for (i = 0; i < n; i++) {
		ms[i].port = atoi(argv[i + 1]);
		if (prepare(&ms[i]) < 0)
			return 2;
	}
	rc = measure(ms, n, &us);
	for (i = 0; i < n; i++)
		free(ms[i].out);
	if (rc < 0) {
		fprintf(stderr, "count_floor: a master failed or did not answer\n");
		return 2;
	}
	printf("%llu\n", (unsigned long long)us);
	return 0;
}
