/*
 * disk_int.h - what the disk fault's files share: disk.c (parameters and
 * the fault's life), disk_policy.c (the supervisor's answers and the
 * filter) and disk_log.c (what the node said, for describe()).  Not for
 * use outside the disk fault.
 */
#ifndef SQ_INJECTORS_DISK_INT_H
#define SQ_INJECTORS_DISK_INT_H

#include <limits.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/types.h>

#include "injectors/injector.h"
#include "injectors/seccomp_notify.h"

/* The reserved descriptors: FD_SPAN numbers from a multiple of FD_SPAN,
 * so that one masked compare in the filter tests the range (libseccomp
 * takes one comparison per argument).  They sit at FD_BASE_MAX, or just
 * under the hard RLIMIT_NOFILE the node inherits when that is lower
 * (raising it needs CAP_SYS_RESOURCE, raising the soft limit does not),
 * and above FD_BASE_MIN: Redis allocates the lowest free numbers and
 * raises its own limit to maxclients + 32 = 10032 at most. */
#define FD_SPAN     1024
#define FD_BASE_MAX (40 * FD_SPAN)
#define FD_BASE_MIN (10 * FD_SPAN)


enum call { CALL_WRITE, CALL_FSYNC, CALL_OPEN, CALL_RENAME, CALL_FTRUNCATE, CALL_N };

/* "write", "fsync", ...: as the `calls` parameter names them. */
extern const char *const disk_call_names[CALL_N];

#define BIT(c) (1u << (c))
#define FD_CALLS (BIT(CALL_WRITE) | BIT(CALL_FSYNC) | BIT(CALL_FTRUNCATE))


struct creds {
	unsigned umask, fsuid, fsgid;
};

struct disk_priv {
	/* parameters: set by parse, read-only afterwards */
	int err;           /* 0 when slow_ms is set */
	long long slow_ms; /* 0 when failing */
	unsigned calls;    /* BIT(enum call) */
	bool track;        /* data files go to the reserved range */
	char logs[256];    /* comma list of file names */
	/* set by prepare before the supervisor starts, read by it */
	int fd_base;        /* the reserved range */
	char dir[PATH_MAX]; /* the data dir, canonical */
	char log_path[PATH_MAX + 64];
	struct creds creds; /* the harness's */
	int port;
	struct seccomp_sup *sup;
	/* the supervisor thread's */
	int next_slot;
	/* shared: the supervisor counts, describe reads */
	atomic_bool armed;
	atomic_ulong hits[CALL_N]; /* failed or delayed since inject */
	atomic_ulong tracked;      /* data files opened in the reserved range */
	atomic_ulong untracked;    /* data files the node opened itself */
	/* the harness's */
	long long log_off;
	bool healed;
};

/* disk_policy.c: the supervisor's policy, called for every trapped call
 * (arg: the fault's struct disk_priv); the filter for k's calls (NULL
 * and `e` set on failure; seccomp_release() it); the reserved range's
 * first descriptor for this machine's limits. */
void disk_handle(void *arg, struct seccomp_sup *sup, const struct seccomp_notif *req,
		 bool deferred);
scmp_filter_ctx disk_build_filter(const struct disk_priv *k, struct err *e);
int disk_fd_range(int *base, struct err *e);
/* A task's umask and file-system ids, from /proc; 0 or -1. */
int disk_creds_of(pid_t pid, struct creds *c);

/* disk_log.c: one line on what the fault did, and the same as named
 * values. */
void disk_describe(const struct fault *f, char *out, size_t n);
void disk_evidence(const struct fault *f, struct evidence *ev);

#endif
