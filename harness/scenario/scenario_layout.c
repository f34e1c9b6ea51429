/*
 * scenario_layout.c - the [layout] section of a scenario file: a starting
 * state of its own (slot ranges per master, replicas per master, open
 * slots, failed nodes), as `incident import` writes it; see scenario.h
 * for the keys and scenario_keys.h for the calling convention.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/slot.h"
#include "common/xmalloc.h"
#include "harness/scenario/scenario_keys.h"

/* A whole number min..max at *p, which moves past it. */
static bool
number(const char **p, int min, int max, int *out)
{
	long v = 0;
	int digits = 0;

	while (isdigit((unsigned char)**p) && digits < 9) {
		v = v * 10 + (**p - '0');
		(*p)++;
		digits++;
	}
	if (digits == 0 || isdigit((unsigned char)**p) || v < min || v > max)
		return false;
	*out = (int)v;
	return true;
}

static const char *
skip_space(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/* "KEY" or "KEY.K" (a continuation, K >= 2): true when `k` is `key` so. */
static bool
key_is(const char *k, const char *key)
{
	size_t len = strlen(key);
	const char *p;
	int cont;

	if (strncmp(k, key, len) != 0)
		return false;
	if (k[len] == '\0')
		return true;
	p = k + len + 1;
	return k[len] == '.' && number(&p, 2, 999, &cont) && *p == '\0';
}

static void
layout_init(struct scenario *s, int line)
{
	struct layout *l = &s->layout;
	int i;

	if (l->set)
		return;
	l->set = true;
	l->line = line;
	l->owner = xmalloc(CLUSTER_SLOTS * sizeof(*l->owner));
	for (i = 0; i < CLUSTER_SLOTS; i++)
		l->owner[i] = -1;
	for (i = 0; i < LAYOUT_MASTERS_MAX; i++)
		l->replicas[i] = -1;
}

/* master.N = 0-5460,5462 or none: the slots are claimed for N. */
static int
master_slots(struct scenario *s, const char *k, int m, const char *v, int line, char *msg,
	     size_t n)
{
	struct layout *l = &s->layout;
	const char *p = skip_space(v);
	int a, b, i;

	if (l->master_line[m] == 0)
		l->master_line[m] = line;
	if (strcmp(p, "none") == 0)
		return 0;
	for (;;) {
		if (!number(&p, 0, CLUSTER_SLOTS - 1, &a))
			goto syntax;
		b = a;
		p = skip_space(p);
		if (*p == '-') {
			p = skip_space(p + 1);
			if (!number(&p, 0, CLUSTER_SLOTS - 1, &b) || b < a)
				goto syntax;
		}
		for (i = a; i <= b; i++) {
			if (l->owner[i] >= 0)
				return scenario_bad(msg, n, "%s = '%s': slot %d is master %d's already "
					   "(line %d): ranges must not overlap", k, v, i,
					   l->owner[i], l->master_line[l->owner[i]]);
			l->owner[i] = (short)m;
		}
		p = skip_space(p);
		if (*p == '\0')
			return 0;
		if (*p != ',')
			goto syntax;
		p = skip_space(p + 1);
	}
syntax:
	return scenario_bad(msg, n, "%s = '%s': expected slot ranges such as 0-5460,5462 (slots 0 to "
		   "16383, first <= last), or none", k, v);
}

/* "5461 1>2 50%" */
static int
open_one(struct scenario *s, const char *k, const char *v, size_t len, int line,
	 char *msg, size_t n)
{
	struct layout *l = &s->layout;
	struct layout_open o = {.line = line};
	char one[128];
	const char *p;

	snprintf(one, sizeof(one), "%.*s", (int)len, v);
	p = skip_space(one);
	if (!number(&p, 0, CLUSTER_SLOTS - 1, &o.slot) || (*p != ' ' && *p != '\t'))
		goto syntax;
	p = skip_space(p);
	if (!number(&p, 0, LAYOUT_MASTERS_MAX - 1, &o.from) || *p++ != '>' ||
	    !number(&p, 0, LAYOUT_MASTERS_MAX - 1, &o.to) || (*p != ' ' && *p != '\t'))
		goto syntax;
	p = skip_space(p);
	if (!number(&p, 0, 100, &o.pct) || *p++ != '%' || *skip_space(p) != '\0')
		goto syntax;
	l->open = xreallocarray(l->open, l->nopen + 1, sizeof(*l->open));
	l->open[l->nopen++] = o;
	return 0;
syntax:
	return scenario_bad(msg, n, "%s: '%s': expected SLOT FROM>TO SHARE%%, such as 5461 1>2 50%% "
		   "(slot 5461 migrating from master 1 to master 2, half its keys moved)",
		   k, skip_space(one));
}

/* "master.2" or "replica.1.0" */
static int
node_one(const char *k, const char *v, size_t len, int line, struct layout_node *out,
	 char *msg, size_t n)
{
	char one[64];
	const char *p;

	snprintf(one, sizeof(one), "%.*s", (int)len, v);
	p = skip_space(one);
	out->line = line;
	out->replica = -1;
	if (strncmp(p, "master.", 7) == 0) {
		p += 7;
		if (number(&p, 0, LAYOUT_MASTERS_MAX - 1, &out->master) && *skip_space(p) == '\0')
			return 0;
	} else if (strncmp(p, "replica.", 8) == 0) {
		p += 8;
		if (number(&p, 0, LAYOUT_MASTERS_MAX - 1, &out->master) && *p++ == '.' &&
		    number(&p, 0, 99, &out->replica) && *skip_space(p) == '\0')
			return 0;
	}
	return scenario_bad(msg, n, "%s: '%s': expected master.N or replica.N.K (replica K of master N, "
		   "from 0)", k, skip_space(one));
}

static int
node_list(const char *k, const char *v, int line, struct layout_node **list, size_t *count,
	  char *msg, size_t n)
{
	struct layout_node x;
	size_t len;

	for (;;) {
		len = strcspn(v, ",");
		if (node_one(k, v, len, line, &x, msg, n) < 0)
			return -1;
		*list = xreallocarray(*list, *count + 1, sizeof(**list));
		(*list)[(*count)++] = x;
		if (v[len] == '\0')
			return 0;
		v += len + 1;
	}
}

int
scenario_layout_key(struct scenario *s, const char *k, const char *v, int line, char *msg,
		    size_t n)
{
	const char *p;
	size_t len;
	int m, cont;

	layout_init(s, line);
	if (strncmp(k, "master.", 7) == 0 || strncmp(k, "replicas.", 9) == 0) {
		bool rep = k[0] == 'r';

		p = k + (rep ? 9 : 7);
		if (!number(&p, 0, LAYOUT_MASTERS_MAX - 1, &m) ||
		    (*p && (rep || *p != '.' || (p++, !number(&p, 2, 999, &cont)) || *p)))
			return scenario_bad(msg, n, "'%s' in [layout]: expected %s.N, N a master from 0 to "
				   "%d%s", k, rep ? "replicas" : "master", LAYOUT_MASTERS_MAX - 1,
				   rep ? "" : " (master.N.2, .3 ... go on with more of its slots)");
		if (!rep)
			return master_slots(s, k, m, v, line, msg, n);
		s->layout.replicas_line[m] = line;
		p = skip_space(v);
		if (!number(&p, 0, 5, &s->layout.replicas[m]) || *skip_space(p))
			return scenario_bad(msg, n, "%s = '%s': expected a whole number from 0 to 5", k, v);
		return 0;
	}
	if (key_is(k, "open")) {
		for (;;) {
			len = strcspn(v, ",");
			if (open_one(s, k, v, len, line, msg, n) < 0)
				return -1;
			if (v[len] == '\0')
				return 0;
			v += len + 1;
		}
	}
	if (key_is(k, "failed"))
		return node_list(k, v, line, &s->layout.failed, &s->layout.nfailed, msg, n);
	if (key_is(k, "nofailover"))
		return node_list(k, v, line, &s->layout.nofailover, &s->layout.nnofailover, msg, n);
	return scenario_bad(msg, n, "unknown key '%s' in [layout]: expected master.N, replicas.N, open, "
		   "failed or nofailover", k);
}

int
scenario_replicas_of(const struct scenario *s, int m)
{
	if (s->layout.set && m >= 0 && m < LAYOUT_MASTERS_MAX && s->layout.replicas[m] >= 0)
		return s->layout.replicas[m];
	return s->replicas;
}

const char *
layout_node_name(const struct layout_node *x, char *buf, size_t len)
{
	if (x->replica < 0)
		snprintf(buf, len, "master.%d", x->master);
	else
		snprintf(buf, len, "replica.%d.%d", x->master, x->replica);
	return buf;
}

static int
check_node(const struct scenario *s, const struct layout_node *x, const char *key,
	   char *msg, size_t n, int *line)
{
	char name[32];

	layout_node_name(x, name, sizeof(name));
	if (x->master >= s->masters)
		return scenario_bad_at(line, x->line, msg, n, "%s names %s, but there are masters 0 to %d",
			      key, name, s->masters - 1);
	if (x->replica >= scenario_replicas_of(s, x->master))
		return scenario_bad_at(line, x->line, msg, n, "%s names %s, but master %d has %d "
			      "replica%s", key, name, x->master,
			      scenario_replicas_of(s, x->master),
			      scenario_replicas_of(s, x->master) == 1 ? "" : "s");
	return 0;
}

static int
check_open(const struct scenario *s, size_t i, char *msg, size_t n, int *line)
{
	const struct layout_open *o = &s->layout.open[i];
	int owner = s->layout.owner[o->slot];
	size_t j;

	if (o->from >= s->masters || o->to >= s->masters)
		return scenario_bad_at(line, o->line, msg, n, "open slot %d names master %d, but there are "
			      "masters 0 to %d", o->slot, o->from >= s->masters ? o->from : o->to,
			      s->masters - 1);
	if (o->from == o->to)
		return scenario_bad_at(line, o->line, msg, n, "open slot %d goes from master %d to itself",
			      o->slot, o->from);
	if (owner != o->from) {
		char who[32] = "nobody";

		if (owner >= 0)
			snprintf(who, sizeof(who), "master %d", owner);
		return scenario_bad_at(line, o->line, msg, n, "open slot %d migrates from master %d, but "
			      "%s owns it: the source of an open slot is its owner", o->slot,
			      o->from, who);
	}
	for (j = 0; j < i; j++)
		if (s->layout.open[j].slot == o->slot)
			return scenario_bad_at(line, o->line, msg, n, "slot %d is open twice (line %d)",
				      o->slot, s->layout.open[j].line);
	return 0;
}

int
scenario_layout_check(struct scenario *s, char *msg, size_t n, int *line)
{
	const struct layout *l = &s->layout;
	size_t i;
	int m;

	if (!l->set)
		return 0;
	if (s->has_reshard)
		return scenario_bad_at(line, l->line, msg, n, "[layout] and [reshard] do not go together: "
			      "a layout is the state the cluster starts broken in");
	for (m = 0; m < LAYOUT_MASTERS_MAX; m++) {
		if (m >= s->masters && (l->master_line[m] || l->replicas_line[m]))
			return scenario_bad_at(line, l->master_line[m] ? l->master_line[m] : l->replicas_line[m],
				      msg, n, "[layout] %s.%d, but [cluster] masters = %d: masters 0 "
				      "to %d", l->master_line[m] ? "master" : "replicas", m, s->masters,
				      s->masters - 1);
		if (m < s->masters && l->master_line[m] == 0)
			return scenario_bad_at(line, l->line, msg, n, "[layout] has no master.%d: give its "
				      "slots, or none", m);
	}
	for (i = 0; i < l->nopen; i++)
		if (check_open(s, i, msg, n, line) < 0)
			return -1;
	for (i = 0; i < l->nfailed; i++)
		if (check_node(s, &l->failed[i], "failed", msg, n, line) < 0)
			return -1;
	for (i = 0; i < l->nnofailover; i++) {
		if (check_node(s, &l->nofailover[i], "nofailover", msg, n, line) < 0)
			return -1;
		if (l->nofailover[i].replica < 0)
			return scenario_bad_at(line, l->nofailover[i].line, msg, n, "nofailover names "
				      "master.%d: only a replica can be kept from a failover",
				      l->nofailover[i].master);
	}
	return 0;
}
