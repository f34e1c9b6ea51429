/*
 * cmd_report.c - `shardquake report DIR...`: report.html drawn again
 * from a run's report.json, or index.html from a suite's summary.json
 * (as `run` writes them), e.g. after upgrading shardquake or editing the
 * JSON by hand.
 */
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <unistd.h>

#include "harness/cli/cli.h"
#include "harness/report/report.h"

static const char usage[] =
	"usage: shardquake report DIR...\n"
	"\n"
	"Draw the pages of recorded results again: for a run's directory (with\n"
	"report.json) its report.html; for a results directory (with\n"
	"summary.json) its index.html, linking every run.  The pages are drawn\n"
	"from the JSON alone: nothing is run, nothing is fetched.\n"
	"exit status: 0 every page written, 1 a directory without either file\n"
	"or a page that could not be written, 2 usage\n";

/* One directory's page; 0, or -1 said on stderr. */
static int
draw(const char *dir)
{
	char path[PATH_MAX + 32];
	struct err e = ERR_INIT;
	json_error_t je;
	json_t *j;
	int rc;

	snprintf(path, sizeof(path), "%s/report.json", dir);
	if (access(path, F_OK) == 0) {
		if ((j = json_load_file(path, 0, &je)) == NULL) {
			fprintf(stderr, "shardquake: read '%s': %s\n", path, je.text);
			return -1;
		}
		snprintf(path, sizeof(path), "%s/report.html", dir);
		rc = report_html_write(j, path, &e);
	} else {
		snprintf(path, sizeof(path), "%s/summary.json", dir);
		if ((j = json_load_file(path, 0, &je)) == NULL) {
			fprintf(stderr, "shardquake: '%s': neither report.json nor summary.json "
				"(%s)\n", dir, je.text);
			return -1;
		}
		snprintf(path, sizeof(path), "%s/index.html", dir);
		rc = report_index_write(j, dir, &e);
	}
	json_decref(j);
	if (rc < 0)
		fprintf(stderr, "shardquake: %s\n", e.msg);
	else
		printf("%s\n", path);
	return rc;
}

static int
run(int argc, char **argv)
{
	int i, bad = 0;

	if (argc < 2)
		return cli_usage_error(&cmd_report, "'report' needs a directory");
	if (cli_is_help(argv[1])) {
		fputs(usage, stdout);
		return EXIT_OK;
	}
	for (i = 1; i < argc; i++)
		bad += draw(argv[i]) < 0;
	return bad ? EXIT_FINDINGS : EXIT_OK;
}

const struct command cmd_report = {
	.name = "report",
	.summary = "draw report.html / index.html again from recorded JSON",
	.usage = usage,
	.run = run,
};
