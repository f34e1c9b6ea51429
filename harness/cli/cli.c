/* cli.c - shared command-line helpers; see cli.h. */
#include "harness/cli/cli.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/dataset.h"

int
cli_usage_error(const struct command *cmd, const char *fmt, ...)
{
	va_list ap;

	fputs("shardquake: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\ntry 'shardquake %s --help'\n", cmd ? cmd->name : "");
	return EXIT_USAGE;
}

int
cli_parse_ll(const char *opt, const char *s, long long min, long long max,
	     long long *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s || *end != '\0' || v < min || v > max) {
		fprintf(stderr, "shardquake: %s '%s': expected a whole number from %lld to %lld\n",
			opt, s, min, max);
		return -1;
	}
	*out = v;
	return 0;
}

int
cli_parse_int(const char *opt, const char *s, int min, int max, int *out)
{
	long long v;

	if (cli_parse_ll(opt, s, min, max, &v) < 0)
		return -1;
	*out = (int)v;
	return 0;
}

int
cli_parse_addr(const char *s, char *host, size_t hostlen, int *port)
{
	const char *colon = strrchr(s, ':');
	const char *h = s;
	size_t hl;
	long long p;
	char *end;

	if (colon == NULL || colon == s)
		return -1;
	hl = (size_t)(colon - s);
	if (s[0] == '[' && colon[-1] == ']') {
		h = s + 1;
		hl -= 2;
	}
	if (hl == 0 || hl >= hostlen)
		return -1;
	errno = 0;
	p = strtoll(colon + 1, &end, 10);
	if (errno || *end != '\0' || end == colon + 1 || p < 1 || p > 65535)
		return -1;
	memcpy(host, h, hl);
	host[hl] = '\0';
	*port = (int)p;
	return 0;
}

int
cli_dataset_opt(int c, const char *arg, struct dataset *d)
{
	long long v;

	switch (c) {
	case 'k':
		return cli_parse_ll("--keys", arg, 0, 1000000000LL, &d->keys);
	case 's':
		if (cli_parse_ll("--seed", arg, 0, INT64_MAX, &v) < 0)
			return -1;
		d->seed = (uint64_t)v;
		return 0;
	case 'v':
		if (cli_parse_ll("--value-size", arg, 1, DATASET_VALUE_MAX, &v) < 0)
			return -1;
		d->value_size = (size_t)v;
		return 0;
	}
	return 1;
}

bool
cli_is_help(const char *arg)
{
	return strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0;
}
