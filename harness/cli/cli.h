/*
 * cli.h - the command table of the shardquake binary (as tmux's
 * cmd_table): one file per command, each exporting one descriptor.
 */
#ifndef SQ_HARNESS_CLI_H
#define SQ_HARNESS_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Exit codes, as DESIGN.md gives them. */
enum {
	EXIT_OK = 0,
	EXIT_FINDINGS = 1, /* a scenario or a check failed */
	EXIT_USAGE = 2,    /* bad command line or input */
	EXIT_NOCAP = 3,    /* the machine lacks a needed capability */
};

struct command {
	const char *name;
	const char *summary; /* one line for `shardquake --help` */
	const char *usage;   /* the full text for `shardquake NAME --help` */
	int (*run)(int argc, char **argv); /* argv[0] is the command name */
};

extern const struct command cmd_backup;
extern const struct command cmd_clean;
extern const struct command cmd_cluster;
extern const struct command cmd_incident;
extern const struct command cmd_list;
extern const struct command cmd_load;
extern const struct command cmd_matrix;
extern const struct command cmd_replay;
extern const struct command cmd_report;
extern const struct command cmd_run;
extern const struct command cmd_repair;
extern const struct command cmd_reshard;
extern const struct command cmd_verify;

struct scenario;
struct run_opts;
struct run_result;
/* cmd_run.c: plays scenarios as `run` does (a private network namespace
 * first when one needs it, SIGINT and SIGTERM caught, junit.xml and
 * summary.json written, the counts printed); each run's result into
 * out[i] when out is not NULL.  run's exit status. */
int cli_play(struct scenario **v, size_t n, struct run_opts *o, struct run_result *out);

/* Prints "shardquake: <msg>" and "try 'shardquake NAME --help'"; returns EXIT_USAGE. */
int cli_usage_error(const struct command *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Parses a whole decimal number in [min, max] for option `opt`; on error
 * prints why and returns -1. */
int cli_parse_ll(const char *opt, const char *s, long long min, long long max,
		 long long *out);
int cli_parse_int(const char *opt, const char *s, int min, int max, int *out);

/* Splits "host:port" (the last colon; "[::1]:7000" too). */
int cli_parse_addr(const char *s, char *host, size_t hostlen, int *port);

/* The dataset options, for a getopt_long table: --keys, --seed, --value-size. */
#define CLI_DATASET_OPTIONS                                                    \
	{"keys", 1, 0, 'k'}, {"seed", 1, 0, 's'}, {"value-size", 1, 0, 'v'}

struct dataset;
/* Handles option `c` if it is one of CLI_DATASET_OPTIONS: 0 done, -1 bad
 * value (said on stderr), 1 not a dataset option. */
int cli_dataset_opt(int c, const char *arg, struct dataset *d);

/* True for -h and --help. */
bool cli_is_help(const char *arg);

/*
 * The cluster in a directory that `cluster up` started (cmd_cluster_nodes.c):
 * its nodes are the ports DIR/cluster.pids lists and the node-PORT
 * folders `up` made; a node runs when a process uses its folder (its
 * working directory is there, or the server on its port keeps its files
 * there), whatever its pid is now.
 *
 * cluster_stop_dir() SIGKILLs every redis-server using a node folder
 * and, with remove_files, removes the folders (and cluster.pids) that no
 * process uses any more, never one still in use.  *stopped: how many
 * nodes it stopped.  Returns how many things were left, each said on
 * stderr (0: the cluster is gone), or -1 when `dir` holds no cluster.
 *
 * cluster_in_dir() returns how many nodes the cluster in `dir` has (0:
 * none), how many of them run, and their ports ("7000, 7001") in
 * `ports` (size n).
 */
int cluster_stop_dir(const char *dir, bool remove_files, int *stopped);
size_t cluster_in_dir(const char *dir, int *running, char *ports, size_t n);

#endif
