/*
 * cmd_clean.c - `shardquake clean`: remove what an interrupted run left
 * behind on this machine.
 *
 * A run's nodes die with it (PR_SET_PDEATHSIG), and its network
 * namespaces and seccomp supervisors with them; what can outlive a run
 * killed with SIGKILL is host state it made by name: the memory cgroups
 * of its oom faults, "sq<pid>-<port>" below the harness's own group,
 * and its port claims (port.h), which nobody holds once it is gone.
 * Only those whose run (pid) is gone are removed.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fs.h"
#include "common/port.h"
#include "harness/cli/cli.h"
#include "injectors/memcg.h"

static const char usage[] =
	"usage: shardquake clean\n"
	"\n"
	"Remove what a run that was killed (kill -9, a lost terminal) left on\n"
	"this machine: the memory cgroups its oom faults made, named\n"
	"sq<pid>-<port>, of runs that are no longer running; and the copies of\n"
	"a dead node's files that a repair's salvage left in $TMPDIR\n"
	"(shardquake-rescue-*) when it was killed, where no process works in\n"
	"them any more; and the port claims (/tmp/shardquake-ports/PORT) that\n"
	"no process holds.  Groups of runs still going, and anything not made by\n"
	"shardquake, are left alone.  Results directories, and the stash of\n"
	"kept duplicates and conflicts (shardquake-stash-*), are kept.\n"
	"exit status: 0 done (or nothing to do), 1 something could not be removed\n";

static int
run(int argc, char **argv)
{
	struct err e = ERR_INIT, re = ERR_INIT;
	const char *tmp = getenv("TMPDIR");
	char pattern[PATH_MAX];
	int removed = 0, rescues = 0, ports = 0, rc, rrc;

	if (argc > 1 && cli_is_help(argv[1])) {
		fputs(usage, stdout);
		return EXIT_OK;
	}
	if (argc > 1)
		return cli_usage_error(&cmd_clean, "'clean' takes no arguments");
	if ((rc = memcg_clean(&removed, &e)) < 0)
		fprintf(stderr, "shardquake: %s\n", e.msg);
	printf("removed %d memory cgroup%s of runs that are gone\n", removed,
	       removed == 1 ? "" : "s");
	/* a rescue server works in its copy: a copy nobody works in is left */
	snprintf(pattern, sizeof(pattern), "%s/shardquake-rescue-*", tmp && *tmp ? tmp : "/tmp");
	rrc = fs_remove_unused(pattern, &rescues, &re);
	printf("removed %d salvage cop%s left in %s\n", rescues, rescues == 1 ? "y" : "ies",
	       tmp && *tmp ? tmp : "/tmp");
	if (rrc < 0) {
		fprintf(stderr, "shardquake: %s\n", re.msg);
		rc = -1;
	}
	port_clean(&ports);
	printf("removed %d port claim%s nobody holds (/tmp/shardquake-ports)\n", ports,
	       ports == 1 ? "" : "s");
	return rc < 0 ? EXIT_FINDINGS : EXIT_OK;
}

const struct command cmd_clean = {
	.name = "clean",
	.summary = "remove what a killed run or repair left behind",
	.usage = usage,
	.run = run,
};
