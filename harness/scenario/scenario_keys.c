/*
 * scenario_keys.c - what each scenario key accepts, and the checks that
 * span keys; see scenario_keys.h.
 */
#include "harness/scenario/scenario_keys.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/xmalloc.h"
#include "harness/reshard/reshard.h"

int
scenario_bad(char *msg, size_t n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, n, fmt, ap);
	va_end(ap);
	return -1;
}

int
scenario_bad_at(int *line, int at, char *msg, size_t n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, n, fmt, ap);
	va_end(ap);
	*line = at;
	return -1;
}

static int
num(const char *key, const char *v, long long min, long long max, long long *out,
    char *msg, size_t n)
{
	char *end;
	long long x;

	errno = 0;
	x = strtoll(v, &end, 10);
	if (errno || end == v || *end || x < min || x > max)
		return scenario_bad(msg, n, "%s = '%s': expected a whole number from %lld to %lld",
			   key, v, min, max);
	*out = x;
	return 0;
}

static int
inum(const char *key, const char *v, int min, int max, int *out, char *msg, size_t n)
{
	long long x;

	if (num(key, v, min, max, &x, msg, n) < 0)
		return -1;
	*out = (int)x;
	return 0;
}

/* "2000", "2000ms", "2s" */
static int
duration(const char *key, const char *v, long long *out, char *msg, size_t n)
{
	if (clock_parse_duration_ms(v, out) == 0)
		return 0;
	return scenario_bad(msg, n, "%s = '%s': expected a duration such as 500, 500ms or 2s, at most 1 hour",
		   key, v);
}

static int
yesno(const char *key, const char *v, bool *out, char *msg, size_t n)
{
	if (strcmp(v, "yes") == 0 || strcmp(v, "true") == 0)
		*out = true;
	else if (strcmp(v, "no") == 0 || strcmp(v, "false") == 0)
		*out = false;
	else
		return scenario_bad(msg, n, "%s = '%s': expected yes or no", key, v);
	return 0;
}

/* One of `words` (NULL-terminated); the index into *out. */
static int
word(const char *key, const char *v, const char *const *words, int *out, char *msg,
     size_t n)
{
	char list[256] = "";
	int i;

	for (i = 0; words[i]; i++) {
		if (strcmp(words[i], v) == 0) {
			*out = i;
			return 0;
		}
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s",
			 i ? (words[i + 1] ? ", " : " or ") : "", words[i]);
	}
	return scenario_bad(msg, n, "%s = '%s': expected %s", key, v, list);
}

static int
expect_num(const char *key, const char *v, int line, struct expect_num *x,
	   char *msg, size_t n)
{
	const char *p = v;

	x->greater = *p == '>';
	if (x->greater)
		p++;
	while (*p == ' ')
		p++;
	if (num(key, p, 0, 1000000000000LL, &x->n, msg, n) < 0)
		return scenario_bad(msg, n, "%s = '%s': expected a number N or > N", key, v);
	x->set = true;
	x->line = line;
	return 0;
}

static int
scenario_section(struct scenario *s, const char *k, const char *v, char *msg, size_t n)
{
	long long x;

	if (strcmp(k, "name") == 0) {
		if (!*v || strspn(v, "abcdefghijklmnopqrstuvwxyz0123456789-_.") != strlen(v))
			return scenario_bad(msg, n, "name = '%s': expected letters a-z, digits, '-', '_' or '.'", v);
		free(s->name);
		s->name = xstrdup(v);
	} else if (strcmp(k, "description") == 0) {
		free(s->description);
		s->description = xstrdup(v);
	} else if (strcmp(k, "seed") == 0) {
		if (num(k, v, 0, INT64_MAX, &x, msg, n) < 0)
			return -1;
		s->seed = (uint64_t)x;
	} else if (strcmp(k, "quick") == 0) {
		return yesno(k, v, &s->quick, msg, n);
	} else {
		return scenario_bad(msg, n, "unknown key '%s' in [scenario]: expected name, description, seed or quick", k);
	}
	return 0;
}

/* config = NAME VALUE: one more line of every node's redis.conf.  The
 * settings the harness itself decides (where the node listens and keeps
 * its files, cluster mode, persistence, the node timeout) are refused:
 * they have their own keys, or none. */
static int
server_config(struct scenario *s, const char *v, char *msg, size_t n)
{
	static const char *const owned[] = {
		"port", "bind", "dir", "logfile", "pidfile", "daemonize", "include",
		"cluster-enabled", "cluster-config-file", "cluster-node-timeout",
		"cluster-port", "appendonly", "save", "dbfilename", "appendfilename",
		"unixsocket", "protected-mode", NULL};
	size_t name = strspn(v, "abcdefghijklmnopqrstuvwxyz0123456789-"), len;
	char *all;
	int i;

	if (name == 0 || v[name] != ' ' || v[name + 1] == '\0' || strpbrk(v, "\r\n\"") != NULL)
		return scenario_bad(msg, n, "config = '%s': expected a redis.conf line, NAME VALUE "
				    "(e.g. cluster-replica-validity-factor 1)", v);
	for (i = 0; owned[i]; i++)
		if (strlen(owned[i]) == name && strncmp(v, owned[i], name) == 0)
			return scenario_bad(msg, n, "config = '%s': %s is the harness's to set "
					    "(see [cluster] and [data])", v, owned[i]);
	len = s->server_config ? strlen(s->server_config) : 0;
	all = xmalloc(len + strlen(v) + 2);
	snprintf(all, len + strlen(v) + 2, "%s%s\n", s->server_config ? s->server_config : "", v);
	free(s->server_config);
	s->server_config = all;
	return 0;
}

static int
cluster_section(struct scenario *s, const char *k, const char *v, int line, char *msg,
		size_t n)
{
	static const char *const networks[] = {"loopback", "netns", NULL};
	static const char *const modes[] = {"none", "rdb", "aof", NULL};
	static const char *const servers[] = {"redis", "valkey", NULL};
	long long ms;
	int m;

	if (strcmp(k, "masters") == 0)
		return inum(k, v, 1, 100, &s->masters, msg, n);
	if (strcmp(k, "replicas") == 0)
		return inum(k, v, 0, 5, &s->replicas, msg, n);
	if (strcmp(k, "network") == 0) {
		s->network_line = line;
		if (word(k, v, networks, &m, msg, n) < 0)
			return -1;
		s->network = (enum local_network)m;
		return 0;
	}
	if (strcmp(k, "server") == 0) {
		if (word(k, v, servers, &m, msg, n) < 0)
			return -1;
		s->server = servers[m];
		return 0;
	}
	if (strcmp(k, "persistence") == 0) {
		if (word(k, v, modes, &m, msg, n) < 0)
			return -1;
		s->persistence = (enum persistence)m;
		return 0;
	}
	if (strcmp(k, "node_timeout") == 0) {
		if (duration(k, v, &ms, msg, n) < 0)
			return -1;
		if (ms < 100 || ms > 600000)
			return scenario_bad(msg, n, "node_timeout = '%s': expected 100ms to 600s", v);
		s->node_timeout_ms = (int)ms;
		return 0;
	}
	if (strcmp(k, "config") == 0)
		return server_config(s, v, msg, n);
	return scenario_bad(msg, n, "unknown key '%s' in [cluster]: expected masters, replicas, persistence, "
		   "node_timeout, network, server or config", k);
}

/* "A-B" or "A", slots 0..16383, A <= B. */
static int
slot_range(const char *k, const char *v, int *first, int *last, char *msg, size_t n)
{
	int a, b, used = 0;

	if (sscanf(v, "%d-%d%n", &a, &b, &used) == 2 && v[used] == '\0') {
		/* a range */
	} else if (sscanf(v, "%d%n", &a, &used) == 1 && v[used] == '\0') {
		b = a;
	} else {
		a = -1;
		b = -2;
	}
	if (a < 0 || b < a || b >= 16384 || v[0] < '0' || v[0] > '9')
		return scenario_bad(msg, n, "%s = '%s': expected a slot range such as 0-9 (slots 0 to 16383)",
			   k, v);
	*first = a;
	*last = b;
	return 0;
}

static int
data_section(struct scenario *s, const char *k, const char *v, int line, char *msg,
	     size_t n)
{
	if (strcmp(k, "keys") == 0)
		return num(k, v, 0, 100000000, &s->keys, msg, n);
	if (strcmp(k, "value_size") == 0)
		return inum(k, v, 1, 1 << 20, &s->value_size, msg, n);
	if (strcmp(k, "big_value_size") == 0 && (s->big_line = line) > 0)
		return inum(k, v, 1, 1 << 20, &s->big_value_size, msg, n);
	if (strcmp(k, "big_slots") == 0 && (s->big_slots_line = line) > 0)
		return slot_range(k, v, &s->big_first, &s->big_last, msg, n);
	return scenario_bad(msg, n, "unknown key '%s' in [data]: expected keys, value_size, big_value_size "
		   "or big_slots", k);
}

/* "set:80,get:20" (or either alone: set:100): the GETs' percentage. */
static int
mix(const char *k, const char *v, int *get_pct, char *msg, size_t n)
{
	int set = -1, get = -1, used = 0, x;
	const char *p = v;

	while (*p) {
		if (sscanf(p, "set:%d%n", &x, &used) == 1 && set < 0)
			set = x;
		else if (sscanf(p, "get:%d%n", &x, &used) == 1 && get < 0)
			get = x;
		else
			break;
		p += used;
		if (*p == ',')
			p++;
		else
			break;
	}
	if (*p || (set < 0 && get < 0) || set > 100 || get > 100 ||
	    (set < 0 ? 0 : set) + (get < 0 ? 0 : get) != 100)
		return scenario_bad(msg, n, "%s = '%s': expected set:N,get:M with N + M = 100", k, v);
	*get_pct = get < 0 ? 0 : get;
	return 0;
}

static int
workload_section(struct scenario *s, const char *k, const char *v, int line, char *msg,
		 size_t n)
{
	s->workload_line = s->workload_line ? s->workload_line : line;
	if (strcmp(k, "writers") == 0)
		return inum(k, v, 0, 64, &s->writers, msg, n);
	if (strcmp(k, "keys") == 0)
		return inum(k, v, 1, 1000000, &s->workload_keys, msg, n);
	if (strcmp(k, "rate") == 0)
		return inum(k, v, 0, 1000000, &s->workload_rate, msg, n);
	if (strcmp(k, "mix") == 0)
		return mix(k, v, &s->workload_get_pct, msg, n);
	return scenario_bad(msg, n, "unknown key '%s' in [workload]: expected writers, keys, rate or mix",
		   k);
}

/* A master number 0..99, or the word `word`. */
static int
whole_or(const char *k, const char *v, const char *word, int *out, char *msg, size_t n)
{
	char m[256];

	if (inum(k, v, 0, 99, out, m, sizeof(m)) == 0)
		return 0;
	return scenario_bad(msg, n, "%s = '%s': expected a master number from 0 to 99, or %s", k, v,
		   word);
}

static int
slot_list(struct scenario *s, const char *v, char *msg, size_t n)
{
	struct err e = ERR_INIT;
	size_t count;

	if (reshard_slot_list_parse(v, &s->slot_list, &count, &e) < 0)
		return scenario_bad(msg, n, "slot_list: %s", e.msg);
	s->slots = (int)count;
	return 0;
}

static int
reshard_section(struct scenario *s, const char *k, const char *v, int line, char *msg,
		size_t n)
{
	s->has_reshard = true;
	if (strcmp(k, "from") == 0)
		s->from_line = line;
	else if (strcmp(k, "to") == 0)
		s->to_line = line;
	else if (strcmp(k, "slots") == 0 || strcmp(k, "slot_list") == 0)
		s->slots_line = line;
	if (strcmp(k, "from") == 0 && strcmp(v, "all") == 0)
		return (s->from = RESHARD_FROM_ALL), 0;
	if (strcmp(k, "to") == 0 && strcmp(v, "new") == 0)
		return (s->to = RESHARD_TO_NEW), 0;
	if (strcmp(k, "from") == 0)
		return whole_or(k, v, "all", &s->from, msg, n);
	if (strcmp(k, "to") == 0)
		return whole_or(k, v, "new", &s->to, msg, n);
	if ((strcmp(k, "slots") == 0 || strcmp(k, "slot_list") == 0) &&
	    (s->slots || s->slot_list))
		return scenario_bad(msg, n, "'%s' in [reshard]: give slots or slot_list, once", k);
	if (strcmp(k, "slots") == 0)
		return inum(k, v, 1, 16384, &s->slots, msg, n);
	if (strcmp(k, "slot_list") == 0)
		return slot_list(s, v, msg, n);
	if (strcmp(k, "pipeline") == 0)
		return inum(k, v, 1, 100000, &s->pipeline, msg, n);
	if (strcmp(k, "backup") == 0 && (s->backup_line = line) > 0)
		return yesno(k, v, &s->reshard_backup, msg, n);
	return scenario_bad(msg, n, "unknown key '%s' in [reshard]: expected from, to, slots, slot_list, "
		   "pipeline or backup", k);
}

static int
repair_section(struct scenario *s, const char *k, const char *v, int line, char *msg,
	       size_t n)
{
	static const char *const engines[] = {"none", "shardquake", "redis-cli", "exec", NULL};

	if (strcmp(k, "engine") == 0 && (s->engine_line = line) > 0)
		return word(k, v, engines, &s->engine, msg, n);
	if (strcmp(k, "command") == 0 && (s->command_line = line) > 0) {
		if (!*v)
			return scenario_bad(msg, n, "command = '': expected a command to run (sh -c)");
		free(s->repair_command);
		s->repair_command = xstrdup(v);
		return 0;
	}
	if (strcmp(k, "timeout") == 0)
		return duration(k, v, &s->repair_timeout_ms, msg, n);
	if (strcmp(k, "restart") == 0)
		return yesno(k, v, &s->repair_restart, msg, n);
	if (strcmp(k, "salvage") == 0)
		return yesno(k, v, &s->repair_salvage, msg, n);
	if (strcmp(k, "allow_data_loss") == 0)
		return yesno(k, v, &s->repair_allow_loss, msg, n);
	if (strcmp(k, "replace") == 0 && (s->replace_line = line) > 0)
		return yesno(k, v, &s->repair_replace, msg, n);
	if (strcmp(k, "from_backup") == 0 && (s->from_backup_line = line) > 0)
		return yesno(k, v, &s->repair_from_backup, msg, n);
	if (strcmp(k, "failover") == 0)
		return yesno(k, v, &s->repair_failover, msg, n);
	return scenario_bad(msg, n, "unknown key '%s' in [repair]: expected engine, restart, salvage, "
		   "allow_data_loss, replace, from_backup, failover, command or timeout", k);
}

static int
expect_section(struct scenario *s, const char *k, const char *v, int line, char *msg,
	       size_t n)
{
	static const char *const reshard[] = {"stops", "completes", NULL};
	static const char *const state[] = {"fail", "ok", NULL};
	static const char *const yn[] = {"no", "yes", NULL};

	if (strcmp(k, "reshard") == 0) {
		s->expect_reshard_line = line;
		return word(k, v, reshard, &s->expect_reshard, msg, n);
	}
	if (strcmp(k, "cluster_state") == 0)
		return word(k, v, state, &s->expect_state, msg, n);
	if (strcmp(k, "healthy") == 0)
		return word(k, v, yn, &s->expect_healthy, msg, n);
	if (strcmp(k, "open_slots") == 0)
		return expect_num(k, v, line, &s->open_slots, msg, n);
	if (strcmp(k, "failed_nodes") == 0)
		return expect_num(k, v, line, &s->failed_nodes, msg, n);
	if (strcmp(k, "lost_keys") == 0)
		return expect_num(k, v, line, &s->lost_keys, msg, n);
	if (strcmp(k, "unreachable_keys") == 0)
		return expect_num(k, v, line, &s->unreachable_keys, msg, n);
	if (strcmp(k, "misplaced_keys") == 0)
		return expect_num(k, v, line, &s->misplaced_keys, msg, n);
	if (strcmp(k, "unknown_keys") == 0)
		return expect_num(k, v, line, &s->unknown_keys, msg, n);
	if (strcmp(k, "writes_lost") == 0)
		return expect_num(k, v, line, &s->writes_lost, msg, n);
	if (strcmp(k, "promoted") == 0)
		return expect_num(k, v, line, &s->promoted, msg, n);
	if (strcmp(k, "decisions") == 0)
		return expect_num(k, v, line, &s->decisions, msg, n);
	return scenario_bad(msg, n, "unknown key '%s' in [expect]: expected reshard, cluster_state, "
		   "healthy, open_slots, failed_nodes, lost_keys, unreachable_keys, misplaced_keys, "
		   "unknown_keys, writes_lost, promoted or decisions", k);
}

int
scenario_key(struct scenario *s, const char *section, const char *name,
	     const char *value, int line, char *msg, size_t n)
{
	if (strcmp(section, "scenario") == 0)
		return scenario_section(s, name, value, msg, n);
	if (strcmp(section, "cluster") == 0)
		return cluster_section(s, name, value, line, msg, n);
	if (strcmp(section, "data") == 0)
		return data_section(s, name, value, line, msg, n);
	if (strcmp(section, "workload") == 0)
		return workload_section(s, name, value, line, msg, n);
	if (strcmp(section, "reshard") == 0)
		return reshard_section(s, name, value, line, msg, n);
	if (strcmp(section, "layout") == 0)
		return scenario_layout_key(s, name, value, line, msg, n);
	if (strcmp(section, "repair") == 0)
		return repair_section(s, name, value, line, msg, n);
	if (strcmp(section, "expect") == 0)
		return expect_section(s, name, value, line, msg, n);
	return scenario_bad(msg, n, "unknown section [%s]", section); /* caught earlier */
}

int
scenario_role_parse(const char *key, const char *v, enum role *role, int *node, char *msg,
		    size_t n)
{
	static const char *const roles[] = {"source", "target", "bystander",
					    "source-replica", "target-replica", NULL};
	long long x;
	int r;

	if (strncmp(v, "node:", 5) == 0) {
		if (num(key, v + 5, 0, 999, &x, msg, n) < 0)
			return scenario_bad(msg, n, "%s = '%s': expected node:N with N a node number", key, v);
		*role = ROLE_NODE;
		*node = (int)x;
		return 0;
	}
	if (word(key, v, roles, &r, msg, n) < 0)
		return scenario_bad(msg, n, "%s = '%s': expected source, target, bystander, "
			   "source-replica, target-replica or node:N", key, v);
	*role = (enum role)r;
	return 0;
}

static int
parse_role(const char *v, struct fault_spec *f, char *msg, size_t n)
{
	return scenario_role_parse("target", v, &f->role, &f->node, msg, n);
}

static int
parse_at(const char *v, struct fault_spec *f, char *msg, size_t n)
{
	int s = reshard_step_parse(v);

	if (strcmp(v, "time") == 0)
		s = STEP_TIME;
	if (s < 0)
		return scenario_bad(msg, n, "at = '%s': expected importing, migrating, keys, "
			   "node-target, node-source, slot-done or time", v);
	f->step = s;
	return 0;
}

static int
parse_point(const char *v, struct fault_spec *f, char *msg, size_t n)
{
	size_t len = strlen(v);
	char tmp[32];

	f->point_pct = len > 0 && v[len - 1] == '%';
	snprintf(tmp, sizeof(tmp), "%.*s", (int)(f->point_pct ? len - 1 : len), v);
	if (num("point", tmp, 0, f->point_pct ? 100 : 100000000, &f->point, msg, n) < 0)
		return scenario_bad(msg, n, "point = '%s': expected a key count N or a percentage P%%", v);
	return 0;
}

int
scenario_fault_key(struct fault_spec *f, const char *name, const char *value,
		   int line, char *msg, size_t n)
{
	if (strcmp(name, "kind") == 0) {
		f->ops = injector_find(value);
		if (f->ops == NULL) {
			char list[256] = "";
			const struct injector_ops *const *o;

			for (o = injector_table; *o; o++)
				snprintf(list + strlen(list), sizeof(list) - strlen(list),
					 "%s%s", o == injector_table ? "" : ", ", (*o)->name);
			return scenario_bad(msg, n, "kind = '%s': expected one of %s", value, list);
		}
		return 0;
	}
	if (strcmp(name, "target") == 0)
		return parse_role(value, f, msg, n);
	if (strcmp(name, "at") == 0)
		return parse_at(value, f, msg, n);
	if (strcmp(name, "slot") == 0)
		return inum(name, value, 1, 16384, &f->slot_index, msg, n);
	if (strcmp(name, "point") == 0)
		return parse_point(value, f, msg, n);
	if (strcmp(name, "after") == 0)
		return duration(name, value, &f->after_ms, msg, n);
	if (strcmp(name, "heal") == 0) {
		static const char *const when[] = {"never", "before-repair", "after-repair", NULL};

		f->heal_line = line;
		return word(name, value, when, &f->heal, msg, n);
	}
	/* anything else belongs to the kind; checked once the kind is known */
	f->params = xreallocarray(f->params, f->nparams + 1, sizeof(*f->params));
	f->params[f->nparams].key = xstrdup(name);
	f->params[f->nparams].value = xstrdup(value);
	f->params[f->nparams].line = line;
	f->nparams++;
	return 0;
}
