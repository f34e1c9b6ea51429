/*
 * keys_int.h - what keys.c (one thread per master, the classes) and
 * keys_read.c (reading a master's slots) share; not for other callers.
 */
#ifndef SQ_VERIFIER_KEYS_INT_H
#define SQ_VERIFIER_KEYS_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "cluster/conn.h"
#include "cluster/slot.h"
#include "verifier/keys.h"

/* Keys per pipelined batch of MGETs; the next batch is queued before the
 * last one's replies are read, so the node works while we check. */
#define BATCH_KEYS 8192
/* Keys per batch of listed slots (GETKEYSINSLOT, then GETs). */
#define WALK_KEYS 10000

enum { HELD_MASK = 0x3f, ON_OWNER = 0x40, VALUE_OK = 0x80 };

/* The dataset's keys grouped by slot: those of slot s are
 * idx[start[s]] .. idx[start[s + 1] - 1]. */
struct by_slot {
	long long *idx;
	size_t start[CLUSTER_SLOTS + 1];
};

struct shared {
	const struct snapshot *s;
	const struct dataset *d;
	const struct by_slot *bs;
	unsigned char *state; /* per key index */
	struct verdict *v;
	int max;
	int timeout_ms;
	const char *skip;     /* a live workload's key prefix, or NULL */
	size_t skiplen;
	pthread_mutex_t lock; /* guards v */
};

struct scanner {
	struct shared *sh;
	int node;
	struct conn *c;
	long long scanned;
	long long owned_keys; /* COUNTKEYSINSLOT summed over owned slots */
	int *walk;            /* owned slots to list */
	long long *walk_count;
	size_t nwalk, walk_cap;
	char *names;          /* MGET arguments */
	const char **argv;
	size_t *lens, names_cap;
	bool failed;
	char error[256];
};

/* Keys a live workload's prefix covers: passed over. */
bool keys_skipped(const struct shared *sh, const char *key, size_t len);
/* The node a scanner reads. */
const struct snap_node *keys_me(const struct scanner *sc);
/* Fails the scan of this node with the connection's error; -1. */
int keys_fail(struct scanner *sc, const struct err *e);
/* Queues CLUSTER COUNTKEYSINSLOT slot on c. */
void keys_append_count(struct conn *c, int slot);
/* Every owned slot of owned[0..n): counted and read (one MGET a slot),
 * slots whose count and keys found differ queued to be listed. */
int keys_read_owned(struct scanner *sc, const int *owned, size_t n);
/* Lists slots[0..n) (counts[]: their COUNTKEYSINSLOT) in chunks of
 * about WALK_KEYS keys and reads the values still unread with pipelined
 * GETs; `count_scanned`: the keys listed add to the scanned count (slots
 * the MGETs did not read). */
int keys_list_slots(struct scanner *sc, const int *slots, const long long *counts, size_t n,
		    bool count_scanned);

#endif
