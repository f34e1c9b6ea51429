/*
 * main.c - the shardquake command: dispatch to one command per file.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "harness/cli/cli.h"

#define SHARDQUAKE_VERSION "0.1.0"

static const struct command *const commands[] = {
	&cmd_run,
	&cmd_replay,
	&cmd_report,
	&cmd_matrix,
	&cmd_list,
	&cmd_cluster,
	&cmd_load,
	&cmd_reshard,
	&cmd_repair,
	&cmd_backup,
	&cmd_verify,
	&cmd_incident,
	&cmd_clean,
	NULL,
};

static void
print_help(FILE *f)
{
	const struct command *const *c;

	fprintf(f, "usage: shardquake [-v] COMMAND [ARGS]\n\n"
		   "Chaos testing for Redis Cluster resharding.\n\ncommands:\n");
	for (c = commands; *c; c++)
		fprintf(f, "  %-10s %s\n", (*c)->name, (*c)->summary);
	fprintf(f, "\n'shardquake COMMAND --help' tells more.  -v logs more (-vv: debug).\n"
		   "exit status: 0 all good, 1 a check failed, 2 usage or input error,\n"
		   "3 this machine lacks a capability that is needed\n");
}

int
main(int argc, char **argv)
{
	const struct command *const *c;
	int i = 1;

	/* a node that dies while we write to it is an error to report where
	 * it happened (EPIPE), not a silent exit with status 141 */
	signal(SIGPIPE, SIG_IGN);

	while (i < argc && (strcmp(argv[i], "-v") == 0 || strcmp(argv[i], "-vv") == 0)) {
		log_level = strcmp(argv[i], "-vv") == 0 ? LOG_DEBUG : LOG_INFO;
		i++;
	}
	if (i >= argc) {
		print_help(stderr);
		return EXIT_USAGE;
	}
	if (cli_is_help(argv[i]) || strcmp(argv[i], "help") == 0) {
		print_help(stdout);
		return EXIT_OK;
	}
	if (strcmp(argv[i], "--version") == 0) {
		printf("shardquake %s\n", SHARDQUAKE_VERSION);
		return EXIT_OK;
	}
	for (c = commands; *c; c++)
		if (strcmp((*c)->name, argv[i]) == 0)
			return (*c)->run(argc - i, argv + i);
	fprintf(stderr, "shardquake: unknown command '%s'\ntry 'shardquake --help'\n",
		argv[i]);
	return EXIT_USAGE;
}
