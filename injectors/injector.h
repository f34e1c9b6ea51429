/*
 * injector.h - fault kinds behind one ops table.
 *
 * Each fault kind is one file in injectors/ exporting one
 * `struct injector_ops`, listed in injector_table[] (injector.c): a new
 * kind is one file plus one line there.  Injectors know nothing of
 * Redis: they act on a node's process, directory, namespace or cgroup,
 * which the harness hands them as a `struct target`.
 *
 * The contract:
 * - parse() reads the kind's own parameters into f->priv; it touches
 *   nothing else, and rejects unknown or bad parameters with a message
 *   naming the parameter.
 * - check() (optional) says whether this machine can do the fault at
 *   all (root, a memory controller, seccomp user notification...);
 *   -1 with `e` naming what is missing makes the scenario *skipped*
 *   with that reason, never passed.  It runs before any node starts.
 * - prepare() (optional) runs in the harness before every start of the
 *   target's process (its first start and each restart), with
 *   t->proc, t->dir and t->port already set and t->proc->pid still 0;
 *   in_child() (optional) then runs in the node's process after fork,
 *   before exec: async-signal-safe work only (no locks).  It returns 0,
 *   or an errno value: the node then does not start, and the harness
 *   says why (a node that runs without its fault in place would pass
 *   silently).
 * - inject() is all-or-nothing: on failure nothing is left changed.
 * - revert() heals: it undoes what inject() changed, and the node goes
 *   on as before the fault (the harness calls it where the scenario's
 *   `heal` says, and always at teardown).  Idempotent: safe after a
 *   failed or partial inject, before any inject, and twice.  NULL where
 *   nothing can be undone (kill).
 * - release() (optional) frees what prepare() made (a cgroup, a
 *   supervisor thread); called once at teardown, after revert() and
 *   after the node's process has been stopped.
 */
#ifndef SQ_INJECTORS_INJECTOR_H
#define SQ_INJECTORS_INJECTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "common/err.h"
#include "common/proc.h"

/* A key = value parameter of a fault, with where it was written. */
struct param {
	const char *key;
	const char *value;
	int line; /* in the scenario file, for messages */
};

struct params {
	const struct param *v;
	size_t n;
};

/* What an injector may act on: one node of the harness. */
struct target {
	struct proc *proc;  /* the node's process (the harness's child) */
	const char *dir;    /* the node's own directory */
	int port;
	/* Unique to this run and node, safe in a file or cgroup name
	 * ("sq<harness pid>-<port>"): names whatever the fault creates on
	 * the host, so that `shardquake clean` removes only what a dead
	 * run left behind. */
	const char *tag;
	/* Sends one command to the node and copies its reply, as text, to
	 * out (errors included: "-OOM ...").  Set by the harness, so that
	 * injectors need not speak the protocol.  Returns 0, or -1 with
	 * `e` set when the node could not be asked. */
	int (*command)(void *arg, const char *const *argv, char *out, size_t n,
		       struct err *e);
	void *command_arg;
	/* The cluster's network ends where it runs in namespaces ([cluster]
	 * network = netns; injectors/netns.h), for faults that cut or slow
	 * links: net_end(arg, i) is node i's (NULL past the last node, or on
	 * loopback), net_end(arg, -1) the clients' (the harness's own).
	 * role_node(arg, "source") is the node a role names, -1 when none
	 * does.  node is this target's own number.  Set by the harness. */
	const struct netns_node *(*net_end)(void *arg, int node);
	int (*role_node)(void *arg, const char *role);
	void *net_arg;
	int node;
	/* Starts the node again from its own files (restart); set by the
	 * harness.  Returns 0, or -1 with `e` set. */
	int (*restart)(void *arg, struct err *e);
	void *restart_arg;
};

struct fault;
struct netns_node;

/* What a fault did, as named values for report.json ("oom_kill": "1"):
 * the same facts as describe()'s line, for programs to read. */
#define EVIDENCE_MAX 12
struct evidence {
	size_t n;
	struct {
		char key[32];
		char value[160];
		bool number; /* the value is a whole number */
	} v[EVIDENCE_MAX];
};

/* Adds key = the formatted value; past EVIDENCE_MAX values it is dropped.
 * evidence_num() adds a number. */
void evidence_add(struct evidence *ev, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void evidence_num(struct evidence *ev, const char *key, long long value);

/* The integer after `field` ("used_memory:") in INFO text, or -1. */
long long info_num(const char *text, const char *field);

/* Before a SIGKILL (kill, restart: aof_written = yes): until the node
 * holds no write back from its AOF file, at most max_ms.  With
 * appendfsync everysec Redis holds writes back while an fsync runs (up to
 * 2 s) and acknowledges them all the same.  INFO persistence says when
 * none is held: no fsync in flight (aof_pending_bio_fsync:0: then every
 * write it acknowledged is in the file by the time it answers), or an
 * empty buffer (aof_buffer_length:0); a SIGKILL then loses none.  The ms
 * waited, or -1 when writes were still held at max_ms; 0 when the first
 * answer says none is held, and where the node has no AOF or cannot be
 * asked. */
long long target_aof_caught_up(struct target *t, int max_ms);
/* How long kill and restart wait so: Redis holds writes back at most 2 s. */
#define TARGET_AOF_WAIT_MS 3000

/* What a kind needs, and what it does, for the harness to know. */
enum injector_flags {
	/* it acts on links: the scenario needs [cluster] network = netns */
	INJ_NEEDS_NETNS = 1 << 0,
	/* while in effect the node runs but may not be reached: the
	 * harness waits for the cluster to notice, not for it to answer */
	INJ_UNREACHABLE = 1 << 1,
	/* the node's process depends on the harness (a seccomp supervisor
	 * answers its calls): its cluster cannot outlive the run (--keep) */
	INJ_HARNESS_BOUND = 1 << 2,
};

struct injector_ops {
	const char *name;  /* "kill", as written in scenario files */
	/* The kind's own keys, NULL-terminated (parse() checks them with
	 * params_check_keys()): the scenario loader lists them when a key
	 * is unknown. */
	const char *const *params;
	size_t priv_size;  /* bytes the harness allocates for fault->priv */
	unsigned flags;    /* enum injector_flags */
	/* Parameters whose value names nodes by role ("peer = source",
	 * "with = source,node:3"): the scenario loader checks them as it
	 * checks `target`.  NULL-terminated; NULL: none. */
	const char *const *role_params;
	int (*parse)(struct fault *f, const struct params *p, struct err *e);
	int (*check)(const struct fault *f, struct err *e);
	int (*prepare)(struct fault *f, struct target *t, struct err *e);
	int (*in_child)(struct fault *f, struct target *t); /* 0 or an errno */
	int (*inject)(struct fault *f, struct target *t, struct err *e);
	int (*revert)(struct fault *f, struct err *e);
	void (*release)(struct fault *f);
	/* One line on what inject() observed ("killed by signal 9"), into
	 * out; optional.  Called right after inject() and again once the
	 * cluster has settled, so a fault whose effect comes later (an OOM
	 * kill, failed writes) reports what it did by then. */
	void (*describe)(const struct fault *f, char *out, size_t n);
	/* Optional: the same as named values, read when describe() is. */
	void (*evidence)(const struct fault *f, struct evidence *ev);
	/* Optional: true when this fault, as parsed, keeps the node from
	 * answering until revert() (a pause with no duration): the harness
	 * then waits for the cluster to notice, as for INJ_UNREACHABLE. */
	bool (*until_reverted)(const struct fault *f);
	/* Optional: true while the fault has fired but what it does has not
	 * happened yet (the kernel's OOM kill still to come): the harness
	 * waits for it, within its settle limit, before it goes on. */
	bool (*effect_pending)(const struct fault *f);
};

struct fault {
	const struct injector_ops *ops;
	void *priv;
	struct target *target; /* set by inject() */
	bool injected;
};

/* NULL-terminated. */
extern const struct injector_ops *const injector_table[];

/* The kind named `name`, or NULL. */
const struct injector_ops *injector_find(const char *name);

/* A new fault of kind `ops` with its priv allocated; parses `p`.
 * NULL and `e` set on a bad parameter. */
struct fault *fault_new(const struct injector_ops *ops, const struct params *p,
			struct err *e);
/* Reverts (when needed), releases and frees. */
void fault_free(struct fault *f);

/* Parameter helpers for parse(): the value of `key` or NULL; a
 * millisecond duration ("200", "200ms", "2s"); errors name the line. */
const char *params_get(const struct params *p, const char *key);
int params_duration_ms(const struct params *p, const char *key, long long def,
		       long long *out, struct err *e);
/* The line of `key`, or 0.  Messages about one parameter start with
 * "line N: " so that the scenario loader can point at it. */
int params_line(const struct params *p, const char *key);
/* key = yes | no into *out (def when absent); -1 with `e` naming the
 * line otherwise. */
int params_yes_no(const struct params *p, const char *key, bool def, bool *out,
		  struct err *e);
/* Rejects any key not in the NULL-terminated `allowed` list. */
int params_check_keys(const struct params *p, const char *kind,
		      const char *const *allowed, struct err *e);

#endif
