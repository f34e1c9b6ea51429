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

/* A count of every reachable master's keys, all of them at once in a
 * thread of its own, so that the snapshot and the checks go on. */
struct placed_run *placed_new(int timeout_ms, int max);
/* Starts counting the masters of `view` (the first a snapshot takes)
 * against the slots it gives them; once per run, later views change
 * nothing.  The view's own node, and any whose address it leaves
 * empty, are at fallback_host (where the view was asked). */
void placed_early(struct placed_run *run, const struct topology *view,
		  const char *fallback_host);
/* Waits for the counts, counts again the masters whose slots in the
 * reference view of `s` differ from those they were counted against (or
 * that were not counted), and fills the misplaced class of `v`; a master
 * that failed is reported in unreachable_nodes.  Frees `run`. */
void placed_finish(struct placed_run *run, const struct snapshot *s, struct verdict *v);
/* Waits for the counts and frees `run`, nothing recorded; NULL is fine. */
void placed_free(struct placed_run *run);
/* The findings of node `node`'s count p: one example per slot it holds
 * keys of without owning it, every key counted.  Pure: tests call it. */
void placed_record(const struct snapshot *s, int node, const struct placed *p,
		   struct verdict *v, int max);
void placed_release(struct placed *p);

#endif
