/*
 * placed.h - without a dataset, the keys that reachable masters hold in
 * slots they do not own (the reference view's owners): the misplaced
 * class, counted per slot, whatever the number of keys.
 */
#ifndef SQ_VERIFIER_PLACED_H
#define SQ_VERIFIER_PLACED_H

#include "cluster/snapshot.h"
#include "verifier/verify.h"

/* What one master holds, as counted. */
struct placed {
	long long *keys;      /* per slot, when its keys were not all in
				 slots it owns; NULL when they were */
	char **example;       /* per slot: a key's name, or NULL */
	bool failed;
	char error[256];
};

/* Counts the keys of every reachable master of `s` (a master in its own
 * view) against the slots the reference view gives it, on the links
 * snapshot_take_kept() kept (else new ones), all at once, and fills the
 * misplaced class of `v`; a master that failed is reported in
 * unreachable_nodes. */
void placed_count(const struct snapshot *s, int timeout_ms, int max, struct verdict *v);
/* The findings of node `node`'s count p: one example per slot it holds
 * keys of without owning it, every key counted.  Pure: tests call it. */
void placed_record(const struct snapshot *s, int node, const struct placed *p,
		   struct verdict *v, int max);
void placed_release(struct placed *p);

#endif
