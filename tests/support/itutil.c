/* itutil.c - integration test helpers; see itutil.h. */
#include "tests/support/itutil.h"

#include <dirent.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "cluster/server.h"
#include "common/xmalloc.h"
#include "tests/support/runner.h"

void
it_require_redis(const char *suite)
{
	const char *server = server_default();

	if (system("command -v redis-server >/dev/null 2>&1") != 0)
		test_skip("%s: no redis-server on PATH", suite);
	if (server && !server_installed(server))
		test_skip("%s: no %s here ($SHARDQUAKE_SERVER)", suite, server);
}

void
it_require_valkey(const char *suite)
{
	if (system("command -v valkey-server >/dev/null 2>&1") != 0)
		test_skip("%s: no valkey-server on PATH (sh ci/deps.sh installs Valkey 8 "
			  "from bookworm-backports)", suite);
}

const char *
it_server(void)
{
	const char *s = server_default();

	return s ? s : "redis-server";
}

bool
it_on_valkey(void)
{
	char label[16];

	return strcmp(server_label(it_server(), label, sizeof(label)), "valkey") == 0;
}

struct local_cluster_opts
it_cluster_opts(void)
{
	struct local_cluster_opts o = LOCAL_CLUSTER_OPTS_INIT;

	o.redis_server = it_server();
	return o;
}

bool
it_pid_alive(pid_t pid)
{
	char path[64], state = '?';
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (f == NULL)
		return false;
	if (fscanf(f, "%*d (%*[^)]) %c", &state) != 1)
		state = '?';
	fclose(f);
	return state != 'Z' && state != 'X';
}

struct conn *
it_conn(int port)
{
	struct err e = ERR_INIT;
	struct conn *c = conn_open("127.0.0.1", port, 5000, &e);

	ck_assert_msg(c != NULL, "%s", e.msg);
	return c;
}

int
it_sh(const char *fmt, ...)
{
	va_list ap;
	char *cmd;
	int st;

	va_start(ap, fmt);
	if (vasprintf(&cmd, fmt, ap) < 0)
		cmd = NULL;
	va_end(ap);
	ck_assert_ptr_nonnull(cmd);
	st = system(cmd);
	free(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

void
it_mkdtemp(char *out, size_t n, const char *stem)
{
	const char *top = getenv("TMPDIR");

	snprintf(out, n, "%s/%s-XXXXXX", top && *top ? top : "/tmp", stem);
	ck_assert_msg(mkdtemp(out) != NULL, "mkdtemp '%s' failed", out);
}

json_t *
it_report(const char *dir, const char *scenario)
{
	char path[PATH_MAX + 300];
	struct dirent *d;
	DIR *dp = opendir(dir);
	json_t *j = NULL;

	ck_assert_msg(dp != NULL, "no results directory '%s'", dir);
	while (j == NULL && (d = readdir(dp)) != NULL) {
		if (strncmp(d->d_name, scenario, strlen(scenario)) != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s/report.json", dir, d->d_name);
		j = json_load_file(path, 0, NULL);
	}
	closedir(dp);
	ck_assert_msg(j != NULL, "no report of '%s' under '%s'", scenario, dir);
	return j;
}
