/*
 * backup.h - a backup of a whole cluster: a BGSAVE of every master, as
 * near the same moment as the servers allow, the RDB files copied into
 * one directory with the slot map they go with.
 *
 *   DIR/backup.json          when, who, which slots, how many keys
 *   DIR/node-PORT/dump.rdb   each master's RDB, as its BGSAVE wrote it
 *
 * "Consistent" means: every master is asked DBSIZE and BGSAVE one after
 * the other in a few milliseconds, each fork is the master's own
 * point-in-time copy, and the slot map is read before and after and must
 * not have changed in between (no slot moved, none open).  It is not a
 * cluster-wide atomic snapshot (Redis Cluster has none): a write that
 * lands between two masters' forks may be in one file and not in the
 * other.  Take it while no slot migrates, or keys in flight may be in
 * two files or none.
 *
 * The RDB is copied from the master's own directory (CONFIG GET dir and
 * dbfilename), so the backup runs on the host of the nodes.  A master
 * with no RDB persistence of its own (save "" and no RDB file before)
 * gets its directory back as it was: the file BGSAVE left is removed
 * once copied (a node restarted on AOF files, or salvaged from them,
 * must not meet an RDB newer than its AOF).
 */
#ifndef SQ_CLUSTER_BACKUP_H
#define SQ_CLUSTER_BACKUP_H

#include <limits.h>
#include <stddef.h>

#include "cluster/topology.h"
#include "common/err.h"

#define BACKUP_JSON "backup.json"

struct backup_master {
	char id[NODE_ID_LEN + 1];
	char host[64];
	int port;
	struct slot_range *ranges;  /* the slots it served at the save */
	size_t nranges;
	long long keys;             /* DBSIZE just before its BGSAVE */
	long long bytes;            /* the RDB file's size */
	char rdb[PATH_MAX];         /* relative to the backup's directory */
};

struct backup {
	long long time_ms;          /* the first BGSAVE asked, ms since the epoch */
	long long done_ms;          /* the last one finished */
	char time[32];              /* time_ms as ISO 8601, UTC */
	char from[80];              /* the address it was discovered from */
	struct backup_master *m;
	size_t n;
};

/* Backs up the cluster reachable at host:port into `dir` (created; it
 * must not hold a backup.json yet): every master of its CLUSTER NODES,
 * all of which must answer.  -1 with `e` when a master is down, a
 * BGSAVE is refused (an -ERR, MISCONF) or fails (rdb_last_bgsave_status
 * err), or the slot map changes meanwhile; b is filled only on success:
 * release it with backup_release(). */
int backup_take(const char *host, int port, const char *dir, int timeout_ms, struct backup *b,
		struct err *e);

/* DIR/backup.json, written from b / read into b (release it).  Reading
 * checks every field and that each master's RDB file exists; errors name
 * the file and the field. */
int backup_write(const struct backup *b, const char *dir, struct err *e);
int backup_read(const char *dir, struct backup *b, struct err *e);
void backup_release(struct backup *b);

/* The keys of every master, summed. */
long long backup_keys(const struct backup *b);
/* The master of b with that id, or NULL. */
const struct backup_master *backup_find(const struct backup *b, const char *id);

#endif
