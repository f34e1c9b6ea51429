/*
 * cmd_clean.c - `shardquake clean`: remove what an interrupted run left
 * behind on this machine.
 *
 * A run's nodes die with it (PR_SET_PDEATHSIG), and its network
 * namespaces and seccomp supervisors with them; what can outlive a run
 * killed with SIGKILL is host state it made by name: the memory cgroups
 * of its oom faults, "sq<pid>-<port>" below the harness's own group.
 * Only those whose run (pid) is gone are removed.
 */
#include <stdio.h>
#include <string.h>

#include "harness/cli/cli.h"
#include "injectors/memcg.h"

static const char usage[] =
	"usage: shardquake clean\n"
	"\n"
	"Remove what a run that was killed (kill -9, a lost terminal) left on\n"
	"this machine: the memory cgroups its oom faults made, named\n"
	"sq<pid>-<port>, of runs that are no longer running.  Groups of runs\n"
	"still going, and anything not made by shardquake, are left alone.\n"
	"Results directories are kept.\n"
	"exit status: 0 done (or nothing to do), 1 something could not be removed\n";

static int
run(int argc, char **argv)
{
	struct err e = ERR_INIT;
	int removed = 0, rc;

	if (argc > 1 && cli_is_help(argv[1])) {
		fputs(usage, stdout);
		return EXIT_OK;
	}
	if (argc > 1)
		return cli_usage_error(&cmd_clean, "'clean' takes no arguments");
	rc = memcg_clean(&removed, &e);
	printf("removed %d memory cgroup%s of runs that are gone\n", removed,
	       removed == 1 ? "" : "s");
	if (rc < 0) {
		fprintf(stderr, "shardquake: %s\n", e.msg);
		return EXIT_FINDINGS;
	}
	return EXIT_OK;
}

const struct command cmd_clean = {
	.name = "clean",
	.summary = "remove what a killed run left behind (its cgroups)",
	.usage = usage,
	.run = run,
};
