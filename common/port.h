/*
 * port.h - a free TCP port on loopback, as the kernel picks one.
 */
#ifndef SQ_COMMON_PORT_H
#define SQ_COMMON_PORT_H

#include "common/err.h"

/* A port nothing listens on at 127.0.0.1 now (it may be taken before it
 * is used: callers that bind later retry or fail clearly).  -1 and `e`. */
int port_free_loopback(struct err *e);

/* Claims `port` among shardquake processes on this machine, so that one
 * never picks a port another found free and means to use (a killed
 * node's, before its restart): an flock on /tmp/shardquake-ports/PORT.
 * Returns the lock's descriptor (close-on-exec; port_release() gives the
 * port back), -1 when another process holds it, -2 when there is no
 * registry here (the caller goes on without). */
int port_claim(int port);
/* Gives a claimed port back: its file removed, then the lock. */
void port_release(int port, int fd);
/* Removes the claims nobody holds (their process was killed before it
 * gave them back), counting them into *removed. */
void port_clean(int *removed);

#endif
