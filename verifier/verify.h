/*
 * verify.h - checks a live Redis Cluster: slots, agreement, open slots,
 * node states, and every key of a dataset.
 *
 * verify_cluster() discovers every node from one address, takes a
 * snapshot of what each reachable node says (snapshot.c), runs one pure
 * check per invariant over it (checks.c) and, with a dataset, scans
 * every reachable master's keys (keys.c).  It works on any cluster: it
 * includes nothing of the harness.
 *
 * The reference slot map, against which keys are placed, is the view of
 * the first reachable node (the address given, when it answers).
 */
#ifndef SQ_VERIFIER_VERIFY_H
#define SQ_VERIFIER_VERIFY_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "cluster/dataset.h"
#include "cluster/topology.h"
#include "common/err.h"

#define VERIFY_EXAMPLES_MAX 20

/* One finding class per invariant.  JSON names in brackets. */
enum finding_kind {
	F_UNCOVERED,     /* [uncovered_slots] slots nobody owns */
	F_UNSERVED,      /* [unserved_slots] slots whose owner is failed or unreachable */
	F_DISAGREEMENT,  /* [slot_disagreements] slots reachable nodes disagree on */
	F_OPEN_SLOTS,    /* [open_slots] (node, slot) migrating or importing */
	F_STATE,         /* [cluster_state] reachable nodes not cluster_state:ok */
	F_FAILED_NODES,  /* [failed_nodes] nodes flagged fail, fail? or noaddr */
	F_UNREACHABLE_NODES, /* [unreachable_nodes] nodes we could not talk to */
	F_LOST,          /* [lost_keys] nowhere, slot owner reachable */
	F_UNREACHABLE_KEYS, /* [unreachable_keys] nowhere reachable, owner down */
	F_CORRUPT,       /* [corrupt_keys] wrong value on the owner */
	F_UNCHECKED,     /* [unchecked_keys] on the owner, but the value could
			    not be read (CLUSTERDOWN while slots are down) */
	F_MISPLACED,     /* [misplaced_keys] held by a node not owning the slot */
	F_DUPLICATED,    /* [duplicated_keys] held by two nodes or more */
	F_EXTRA,         /* [extra_keys] not part of the dataset */
	F_COUNT_,
};

struct finding {
	bool checked;  /* false when the check did not run (no dataset) */
	long long count;
	char *examples[VERIFY_EXAMPLES_MAX]; /* owned */
	int nexamples;
};

struct verdict {
	struct finding f[F_COUNT_];
	int nodes, reachable;
	long long keys_expected, keys_scanned;
	uint64_t ms;
};

struct verify_opts {
	const struct dataset *dataset; /* NULL: no key checks */
	int timeout_ms;     /* connect and reply timeout per node (default 2000) */
	int max_examples;   /* per class (default 5, at most VERIFY_EXAMPLES_MAX) */
	const char *skip_prefix; /* keys a live workload wrote (its ledger checks
				    them): not extra keys; NULL: none */
	bool no_misplaced;  /* without a dataset: skip the per-slot counts */
};

/* Verifies the cluster reachable at host:port into `v` (initialised here;
 * release with verdict_release()).  Returns -1 with `e` set only when no
 * node at all can be reached or understood; findings are not errors. */
int verify_cluster(const char *host, int port, const struct verify_opts *o,
		   struct verdict *v, struct err *e);
void verdict_release(struct verdict *v);

/* True when every check that ran found nothing. */
bool verdict_is_healthy(const struct verdict *v);
/* Total findings over all classes. */
long long verdict_findings(const struct verdict *v);

/* "lost_keys": the JSON name of a class; "lost keys" for people. */
const char *finding_json_name(enum finding_kind k);
const char *finding_title(enum finding_kind k);

/* Adds one count, and an example when there is room (printf-style). */
void finding_add(struct finding *f, int max_examples, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* One line per check, then "healthy" or "N findings". */
void verdict_print(FILE *out, const struct verdict *v);
/* A new JSON object (jansson json_t *, returned as void * so that this
 * header needs no jansson); json_decref() it.  Fields: "healthy",
 * "findings", "nodes", "reachable", "keys_expected", "keys_scanned",
 * "ms", and one object per class named as above with "checked",
 * "count", "examples". */
void *verdict_to_json(const struct verdict *v);

#endif
