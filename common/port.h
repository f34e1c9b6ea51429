/*
 * port.h - a free TCP port on loopback, as the kernel picks one.
 */
#ifndef SQ_COMMON_PORT_H
#define SQ_COMMON_PORT_H

#include "common/err.h"

/* A port nothing listens on at 127.0.0.1 now (it may be taken before it
 * is used: callers that bind later retry or fail clearly).  -1 and `e`. */
int port_free_loopback(struct err *e);

#endif
