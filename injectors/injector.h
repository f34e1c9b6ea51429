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
 * - prepare() (optional) runs in the harness before the node is started;
 *   in_child() (optional) runs in the node's process after fork, before
 *   exec.
 * - inject() is all-or-nothing: on failure nothing is left changed.
 * - revert() is idempotent: safe after a failed or partial inject, and
 *   safe twice (the harness always calls it at teardown).  NULL where
 *   the fault cannot be undone (kill).
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
	/* Starts the node again from its own files (restart); set by the
	 * harness.  Returns 0, or -1 with `e` set. */
	int (*restart)(void *arg, struct err *e);
	void *restart_arg;
};

struct fault;

struct injector_ops {
	const char *name;  /* "kill", as written in scenario files */
	size_t priv_size;  /* bytes the harness allocates for fault->priv */
	int (*parse)(struct fault *f, const struct params *p, struct err *e);
	int (*prepare)(struct fault *f, struct target *t, struct err *e);
	void (*in_child)(struct fault *f, struct target *t);
	int (*inject)(struct fault *f, struct target *t, struct err *e);
	int (*revert)(struct fault *f, struct err *e);
	/* One line on what inject() observed ("killed by signal 9"), into
	 * out; optional. */
	void (*describe)(const struct fault *f, char *out, size_t n);
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
/* Reverts (when needed) and frees. */
void fault_free(struct fault *f);

/* Parameter helpers for parse(): the value of `key` or NULL; a
 * millisecond duration ("200", "200ms", "2s"); errors name the line. */
const char *params_get(const struct params *p, const char *key);
int params_duration_ms(const struct params *p, const char *key, long long def,
		       long long *out, struct err *e);
/* The line of `key`, or 0.  Messages about one parameter start with
 * "line N: " so that the scenario loader can point at it. */
int params_line(const struct params *p, const char *key);
/* Rejects any key not in the NULL-terminated `allowed` list. */
int params_check_keys(const struct params *p, const char *kind,
		      const char *const *allowed, struct err *e);

#endif
