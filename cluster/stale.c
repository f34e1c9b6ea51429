/* stale.c - a replica's data age against the failover rule; see stale.h. */
#include "cluster/stale.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A number from CONFIG GET `name` on c, or -1. */
static long long
config_num(struct conn *c, const char *name)
{
	char v[32];

	return conn_config_get(c, name, v, sizeof(v), NULL) == 0 ? strtoll(v, NULL, 10) : -1;
}

bool
replica_too_stale(struct conn *c, char *why, size_t n)
{
	char *info = c ? conn_cmd_str(c, NULL, "INFO", "replication", NULL) : NULL;
	char link[16] = "", down[32] = "";
	long long factor, period, timeout, age_ms, limit_ms;
	bool stale = false;

	if (info == NULL || info_field(info, "master_link_status", link, sizeof(link)) < 0 ||
	    strcmp(link, "down") != 0 ||
	    info_field(info, "master_link_down_since_seconds", down, sizeof(down)) < 0)
		goto out;
	factor = config_num(c, "cluster-replica-validity-factor");
	period = config_num(c, "repl-ping-replica-period");
	timeout = config_num(c, "cluster-node-timeout");
	if (factor <= 0 || period < 0 || timeout < 0)
		goto out;
	/* -1: never in sync since it started, down since "ever" */
	age_ms = strtoll(down, NULL, 10) < 0 ? LLONG_MAX / 2 : strtoll(down, NULL, 10) * 1000;
	if (age_ms > timeout)
		age_ms -= timeout;
	limit_ms = period * 1000 + timeout * factor;
	stale = age_ms > limit_ms;
	if (stale)
		snprintf(why, n, "link to its master down for %s s: %lld ms past the node "
			 "timeout, beyond the %lld ms repl-ping-replica-period %lld + "
			 "cluster-node-timeout %lld x cluster-replica-validity-factor %lld allow",
			 down, age_ms, limit_ms, period, timeout, factor);
out:
	free(info);
	return stale;
}
