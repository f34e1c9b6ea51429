/*
 * memcg.h - a memory cgroup of its own for one node, v1 or v2.
 *
 * The group is made below the harness's own memory cgroup, named by the
 * target's tag ("sq<pid>-<port>"), so that `shardquake clean` can tell
 * ours from anyone else's and whether the run that made it is gone.
 * Which hierarchy is found at run time: cgroup v2 where the unified
 * hierarchy offers the memory controller, v1's memory hierarchy
 * otherwise.
 *
 * Facts this relies on: cgroup v1 does not move memory already charged
 * when a task joins, so the node joins before exec (memcg_join_self() in
 * the child); v1 refuses a limit below current usage with EBUSY, v2
 * reclaims and then kills; both count OOM kills (v1 memory.oom_control,
 * v2 memory.events: "oom_kill N").
 */
#ifndef SQ_INJECTORS_MEMCG_H
#define SQ_INJECTORS_MEMCG_H

#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>

#include "common/err.h"

enum memcg_version { MEMCG_NONE, MEMCG_V1, MEMCG_V2 };

struct memcg {
	enum memcg_version v;
	char path[PATH_MAX];       /* the group's directory; "" when none */
	char procs[PATH_MAX + 16]; /* its cgroup.procs, for memcg_join_self() */
};

#define MEMCG_INIT {MEMCG_NONE, "", ""}

/* The directory of this process's own memory cgroup into out (size n),
 * and which version it is.  -1 with `e` saying what is missing (no
 * memory controller mounted, or not writable). */
int memcg_base(char *out, size_t n, enum memcg_version *v, struct err *e);

/* Makes the group `name` below our own (an existing one of that name is
 * reused: a restart of the same node).  On v2 the memory controller is
 * enabled for our children first.  -1 with `e` on failure. */
int memcg_create(struct memcg *m, const char *name, struct err *e);

/* In a child after fork, before exec: moves the calling process into
 * the group.  Async-signal-safe (open, write, close).  0 or -1. */
int memcg_join_self(const struct memcg *m);

/* Memory charged to the group now, in bytes. */
int memcg_usage(const struct memcg *m, long long *bytes, struct err *e);

/* Has the kernel reclaim from the group all it can without killing:
 * its file cache, and pages an allocator freed lazily (MADV_FREE), which
 * count as used until then.  v1: the limit is lowered step by step until
 * the kernel refuses (EBUSY), then lifted; v2: memory.reclaim until it
 * can do no more.  Afterwards the usage is what the node really holds. */
int memcg_squeeze(const struct memcg *m, struct err *e);

/* Sets the group's limit; -1 means none.  v1 refuses a limit below the
 * usage with EBUSY (e->code). */
int memcg_set_limit(const struct memcg *m, long long bytes, struct err *e);

/* How many processes the kernel's OOM killer has killed in the group. */
int memcg_oom_kills(const struct memcg *m, long long *n, struct err *e);

/* Lifts the limit, moves any process still inside to the parent group
 * and removes the group.  Safe on a group never made, and twice. */
int memcg_remove(struct memcg *m, struct err *e);

/* Removes the groups below our own named "sq<pid>-<port>" whose pid is
 * no longer a running process: what a killed harness left.  Counts them
 * into *removed.  A machine without a memory controller has none. */
int memcg_clean(int *removed, struct err *e);

#endif
