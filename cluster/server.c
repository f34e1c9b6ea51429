/* server.c - Redis or Valkey; see server.h. */
#include "cluster/server.h"

#include <stdio.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cluster/conn.h"

const char *
server_binary(const char *arg)
{
	if (arg == NULL)
		return NULL;
	if (strcmp(arg, "redis") == 0)
		return "redis-server";
	if (strcmp(arg, "valkey") == 0)
		return "valkey-server";
	return arg;
}

const char *
server_default(void)
{
	const char *v = getenv("SHARDQUAKE_SERVER");

	return v && *v ? server_binary(v) : NULL;
}

const char *
server_label(const char *binary, char *buf, size_t n)
{
	const char *base = binary ? strrchr(binary, '/') : NULL;

	base = base ? base + 1 : binary ? binary : "redis-server";
	if (strncmp(base, "valkey", 6) == 0)
		base = "valkey";
	else if (strncmp(base, "redis", 5) == 0)
		base = "redis";
	snprintf(buf, n, "%s", base);
	return buf;
}

/* The major version of the Valkey whose INFO server text this is, or 0
 * when it is not Valkey (Redis answers no server_name). */
static int
valkey_major(const char *info)
{
	char name[32] = "", v[32] = "";

	if (info_field(info, "server_name", name, sizeof(name)) < 0 ||
	    strcmp(name, "valkey") != 0)
		return 0;
	info_field(info, "valkey_version", v, sizeof(v));
	return atoi(v) > 0 ? atoi(v) : 1;
}

int
server_binary_at(const char *host, int port, int timeout_ms, const char **binary,
		 struct err *e)
{
	const char *argv[] = {"INFO", "server", NULL};
	char text[8192];

	if (conn_ask_text(host, port, timeout_ms, argv, text, sizeof(text), e) < 0)
		return -1;
	if (text[0] == '-')
		return err_set(e, 0, "'INFO server' on %s:%d: %s", host, port, text + 1);
	*binary = valkey_major(text) ? "valkey-server" : "redis-server";
	return 0;
}

int
server_valkey_major_of(struct conn *c)
{
	struct err e = ERR_INIT;
	struct reply *r = conn_cmd(c, &e, "INFO", "server", NULL);
	int major = r && r->type == REPLY_STRING ? valkey_major(r->str) : 0;

	reply_free(r);
	return major;
}

bool
server_ends_unclaimed_imports(struct conn *c)
{
	return server_valkey_major_of(c) >= 8;
}

bool
server_installed(const char *path)
{
	const char *name = path ? path : "redis-server", *dirs = getenv("PATH");
	char full[PATH_MAX];
	size_t len;

	/* much as execvp will look for it, without a shell to quote it for */
	if (dirs == NULL)
		dirs = "/bin:/usr/bin"; /* execvp's default */
	if (strchr(name, '/'))
		return access(name, X_OK) == 0;
	for (; dirs && *dirs; dirs += len + (dirs[len] == ':')) {
		len = strcspn(dirs, ":");
		if (len == 0) /* an empty entry is the current directory */
			snprintf(full, sizeof(full), "./%s", name);
		else
			snprintf(full, sizeof(full), "%.*s/%s", (int)len, dirs, name);
		if (access(full, X_OK) == 0)
			return true;
	}
	return false;
}
