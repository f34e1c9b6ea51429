/*
 * topology.h - a cluster as one node sees it: the parsed output of
 * CLUSTER NODES.
 *
 * Each line of CLUSTER NODES is
 *   <id> <ip:port@cport[,hostname]> <flags> <master> <ping-sent>
 *   <pong-recv> <config-epoch> <link-state> <slot> <slot> ... <slot>
 * where a slot is "N", "N-M", "[N->-<id>]" (migrating to id) or
 * "[N-<-<id>]" (importing from id).  A node alone prints an empty ip
 * (":30901@40901"); a node that lost its address prints flag "noaddr".
 *
 * topology_parse() accepts exactly that, and reports anything else with
 * the line number and what was expected: never a crash, never a line
 * skipped silently.
 */
#ifndef SQ_CLUSTER_TOPOLOGY_H
#define SQ_CLUSTER_TOPOLOGY_H

#include <stdbool.h>
#include <stddef.h>

#include "cluster/slot.h"
#include "common/err.h"

#define NODE_ID_LEN 40

enum node_flag {
	NODE_MYSELF = 1 << 0,
	NODE_MASTER = 1 << 1,
	NODE_REPLICA = 1 << 2, /* "slave" on the wire */
	NODE_PFAIL = 1 << 3,   /* "fail?" */
	NODE_FAIL = 1 << 4,
	NODE_HANDSHAKE = 1 << 5,
	NODE_NOADDR = 1 << 6,
	NODE_NOFAILOVER = 1 << 7,
	NODE_NOFLAGS = 1 << 8, /* "noflags" */
};

struct slot_range {
	int first, last; /* inclusive */
};

enum slot_state { SLOT_MIGRATING, SLOT_IMPORTING };

struct open_slot {
	int slot;
	enum slot_state state;
	char peer[NODE_ID_LEN + 1]; /* migrating to / importing from */
};

struct cluster_node {
	char id[NODE_ID_LEN + 1];
	char ip[64];       /* may be "" (lonely node) */
	int port, cport;
	char hostname[256]; /* "" when none */
	unsigned flags;     /* enum node_flag bits */
	char master_id[NODE_ID_LEN + 1]; /* "" for "-" */
	long long ping_sent, pong_recv;
	unsigned long long config_epoch;
	bool connected; /* link-state "connected" */
	struct slot_range *ranges;
	size_t nranges;
	struct open_slot *open;
	size_t nopen;
};

struct topology {
	struct cluster_node *nodes;
	size_t n;
};

#define TOPOLOGY_INIT {NULL, 0}

/* Parses CLUSTER NODES text into `t` (which must be empty or released).
 * On failure returns -1 with `e` naming the line ("line 3: bad slot
 * '12x': expected N, N-M, [N->-ID] or [N-<-ID]") and leaves `t` empty. */
int topology_parse(struct topology *t, const char *text, struct err *e);
void topology_release(struct topology *t);

/* The node flagged myself, or NULL (borrowed). */
const struct cluster_node *topology_myself(const struct topology *t);
/* The node with that id, or NULL (borrowed). */
const struct cluster_node *topology_find(const struct topology *t, const char *id);
/* The node listening on ip:port, or NULL (borrowed). */
const struct cluster_node *topology_find_addr(const struct topology *t,
					      const char *ip, int port);

/* Fills owner[slot] with the index in t->nodes of the node serving each
 * slot, -1 where none does.  Returns the number of slots covered. */
int topology_slot_owners(const struct topology *t, int owner[CLUSTER_SLOTS]);
/* Each node of t as the index in ref->nodes of the node with its id, -2
 * where ref has none, into map[0..t->n): owners that topology_slot_owners
 * gives for t then compare with ref's as numbers (-1 still none), not as
 * ids once per slot. */
void topology_map_ids(const struct topology *t, const struct topology *ref, int *map);

/* True when the node serves `slot`. */
bool cluster_node_has_slot(const struct cluster_node *n, int slot);
/* Number of slots the node serves. */
int cluster_node_slot_count(const struct cluster_node *n);
/* "myself,master" style text of the flags into out (size n); borrowed. */
const char *node_flags_str(unsigned flags, char *out, size_t n);

#endif
