/*
 * repair_util.h - building broken clusters by hand for the repair
 * engine's integration tests, and judging the result.
 */
#ifndef SQ_TESTS_REPAIR_UTIL_H
#define SQ_TESTS_REPAIR_UTIL_H

#include "harness/local/load.h"
#include "harness/local/localcluster.h"
#include "repair/repair.h"
#include "verifier/verify.h"

extern struct local_cluster rp_lc;
extern struct dataset rp_ds;

/* masters + replicas each, the dataset of `keys` keys loaded. */
void rp_up(int masters, int replicas, enum persistence p, long long keys);
void rp_down(void);
/* A command on node i that must answer OK (NULL-terminated arguments). */
void rp_ok(int i, ...);
long long rp_count(int i, int slot);
/* The first slot master i owns with at least `min` keys, from `after`. */
int rp_slot_with_keys(int i, int after, long long min);
/* Opens slot from src to dst on both sides (IMPORTING, MIGRATING). */
void rp_open(int src, int dst, int slot);
/* Opens slot from src to dst on both sides and moves `n` of its keys. */
void rp_half(int src, int dst, int slot, long long n);
/* Copies `n` keys of the slot from src to dst, which does not own it and
 * is left stable: duplicates on a non-owner. */
void rp_copy_unowned(int src, int dst, int slot, long long n);
/* MIGRATE of n keys of the slot from node src to dst (with or without
 * COPY), whatever the slot's state. */
void rp_move(int src, int dst, int slot, long long n, int copy);
/* DBSIZE of node i. */
long long rp_dbsize(int i);
/* Until node `from` flags node `who` failed (at most 15 s). */
void rp_wait_flagged(int from, int who);
/* Until replica i has its master's link up and its whole stream (at
 * most 20 s). */
void rp_wait_synced(int i);
/* Until node i has written its AOF buffer to its file (at most 10 s):
 * then a SIGKILL loses nothing of it. */
void rp_wait_aof_written(int i);
/* Kills master `victim`, after its AOF is written, and waits until every
 * other node flags it failed; the keys it held. */
long long rp_kill(int victim);
/* Node i says it is a master, in its own view. */
bool rp_is_master(int i);
/* A salvage source of node i's files: with its address, or (bare) DIR
 * alone. */
struct salvage_src rp_source(int i, bool bare);
/* Runs the engine; the outcome for the caller to judge and release.  The
 * stash it kept (duplicates, other values) is removed, unless
 * rp_keep_stash is set: then the test reads it (rp_stash_get) and drops
 * it (rp_stash_drop). */
extern bool rp_keep_stash;
int rp_repair(const struct repair_opts *o, const struct repair_env *env,
	      struct repair_outcome *res, struct err *e);
/* GET key in database db of a kept stash (the path of its dump.rdb),
 * read by a redis-server of its own: a new string (free() it), NULL
 * when the key is not there. */
char *rp_stash_get(const char *dump_rdb, int db, const char *key);
/* The stash's conflicts.txt, as a new string. */
char *rp_stash_list(const char *dump_rdb);
void rp_stash_drop(const char *dump_rdb);
/* No node has a slot migrating or importing. */
void rp_assert_no_open_slots(void);
/* The dataset verified from node i: healthy but for `lost` lost keys. */
void rp_assert_healthy(int i, long long lost);
/* The same, with up to `extra_max` keys that are not the dataset's (a
 * live workload's). */
void rp_assert_healthy_extra(int i, long long lost, long long extra_max);
/* `shardquake ARGS` ($SQ_BIN, else build/shardquake) run in directory
 * `dir` with stdout to dir/out and stderr to dir/err; its exit status.
 * "%p" is not special: ARGS is printf-formatted. */
int rp_cli(const char *dir, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* dir/name as a new string (the test fails when it cannot be read). */
char *rp_read(const char *dir, const char *name);
/* redis-cli --cluster check agrees: exit 0. */
void rp_assert_redis_cli_check(int i);

#endif
