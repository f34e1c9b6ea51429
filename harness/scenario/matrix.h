/*
 * matrix.h - the crash-point matrix: every fault kind x protocol step x
 * node role (masters' roles with and without replicas) x server (Redis
 * 7.0 by default, Valkey 8 on demand), each cell a
 * generated scenario that must end healthy with nothing lost after the
 * repair.  Pure: which cells, their names, their scenario text, and
 * which shard each belongs to; cmd_matrix.c plays them.
 */
#ifndef SQ_HARNESS_SCENARIO_MATRIX_H
#define SQ_HARNESS_SCENARIO_MATRIX_H

#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"

#define MATRIX_MAX 64

/* What to cover: names of kinds, steps and roles ("source", "target",
 * "bystander", "source-replica", "target-replica"); the engine
 * ("shardquake", "redis-cli" or "exec" with `command`). */
struct matrix_opts {
	const char *kinds[MATRIX_MAX];
	size_t nkinds;
	const char *steps[MATRIX_MAX];
	size_t nsteps;
	const char *roles[MATRIX_MAX];
	size_t nroles;
	const char *servers[MATRIX_MAX]; /* "redis", "valkey" (default: redis) */
	size_t nservers;
	const char *engine;
	const char *command;   /* engine = exec: run from the cells' directory */
	int shard, nshards;    /* this shard, 1-based, of nshards (1 of 1: all) */
};

struct matrix_cell {
	char name[96];         /* "kill-keys-target-r1", "...-r1-valkey" */
	const char *kind, *step, *role;
	const char *server;    /* "redis" or "valkey": its [cluster] server */
	int replicas;          /* 0 or 1 */
	int index;             /* in the whole matrix (before sharding) */
};

/* Fills the defaults (every kind, step and role; shardquake; 1 of 1) for
 * what is not set. */
void matrix_defaults(struct matrix_opts *o);
/* Splits a comma list ("kill,pause") into out[] checking each word is one
 * of `known` (NULL-terminated); -1 with "WHAT 'x': expected ..." in e. */
int matrix_list(const char *what, char *text, const char *const *known, const char **out,
		size_t *n, struct err *e);
extern const char *const matrix_kinds[];
extern const char *const matrix_steps[];
extern const char *const matrix_roles[];
extern const char *const matrix_servers[];
/* The cells of this shard, in a fixed order (the union of the shards is
 * the whole matrix, each cell in exactly one); *out (free() it), how
 * many; *total: cells in the whole matrix. */
size_t matrix_cells(const struct matrix_opts *o, struct matrix_cell **out, size_t *total);
/* The cell's scenario file text, a new string. */
char *matrix_scenario(const struct matrix_opts *o, const struct matrix_cell *c);

#endif
