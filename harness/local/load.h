/*
 * load.h - loading a dataset into a cluster, pipelined to each slot owner.
 */
#ifndef SQ_HARNESS_LOAD_H
#define SQ_HARNESS_LOAD_H

#include "cluster/dataset.h"
#include "common/err.h"

/* Writes every key of `d` with SET to the master that owns its slot, as
 * the node at host:port reports the slot map, `pipeline` commands in
 * flight per node (0: 1000).  Returns 0 once every SET answered OK;
 * -1 with `e` naming the first key and node that failed. */
int dataset_load(const struct dataset *d, const char *host, int port,
		 int pipeline, struct err *e);

#endif
