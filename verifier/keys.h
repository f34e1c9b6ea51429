/*
 * keys.h - the key checks: every reachable master's keys are read slot
 * by slot (one thread per master; per owned slot one MGET of the keys
 * the dataset puts there, other slots only where DBSIZE says they hold
 * keys), each dataset key's holders counted, and the owner's copy
 * compared with the value the dataset derives.
 */
#ifndef SQ_VERIFIER_KEYS_H
#define SQ_VERIFIER_KEYS_H

#include "cluster/dataset.h"
#include "cluster/snapshot.h"
#include "verifier/verify.h"

/* Fills the key classes of `v` (lost, unreachable, corrupt, misplaced,
 * duplicated, extra); keys starting with `skip` (a live workload's, which
 * its ledger checks; NULL: none) are passed over.  A node that fails
 * mid-scan is reported in unreachable_nodes; the keys it held then count
 * as not found. */
void keys_check(const struct snapshot *s, const struct dataset *d, const char *skip,
		int timeout_ms, struct verdict *v, int max);

#endif
