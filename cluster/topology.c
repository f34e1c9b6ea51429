/*
 * topology.c - the CLUSTER NODES parser; see topology.h.
 *
 * One line, one node; fields separated by single spaces.  Everything is
 * checked, and the first problem is reported with its line number.
 */
#include "cluster/topology.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"

#define MAX_FIELDS 16400 /* 8 fixed fields and up to 16384 slot entries */

static const struct {
	const char *name;
	unsigned flag;
} flag_names[] = {
	{"myself", NODE_MYSELF},       {"master", NODE_MASTER},
	{"slave", NODE_REPLICA},       {"fail?", NODE_PFAIL},
	{"fail", NODE_FAIL},           {"handshake", NODE_HANDSHAKE},
	{"noaddr", NODE_NOADDR},       {"nofailover", NODE_NOFAILOVER},
	{"noflags", NODE_NOFLAGS},
};

static bool
is_id(const char *s, size_t len)
{
	size_t i;

	if (len != NODE_ID_LEN)
		return false;
	for (i = 0; i < len; i++)
		if (!isxdigit((unsigned char)s[i]))
			return false;
	return true;
}

static bool
parse_ll(const char *s, long long min, long long max, long long *out)
{
	char *end;
	long long v;

	if (!isdigit((unsigned char)*s) && *s != '-')
		return false;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return false;
	*out = v;
	return true;
}

/* "ip:port@cport[,hostname]"; the ip may be empty or IPv6 (last colon). */
static int
parse_addr(struct cluster_node *n, char *s, struct err *e)
{
	char *at = strchr(s, '@'), *comma, *colon;
	long long port, cport;

	if (at == NULL)
		return err_set(e, EINVAL, "bad address '%s': expected IP:PORT@CPORT", s);
	*at = '\0';
	comma = strchr(at + 1, ',');
	if (comma) {
		*comma = '\0';
		snprintf(n->hostname, sizeof(n->hostname), "%s", comma + 1);
	}
	colon = strrchr(s, ':');
	if (colon == NULL || (size_t)(colon - s) >= sizeof(n->ip) ||
	    !parse_ll(colon + 1, 0, 65535, &port) || !parse_ll(at + 1, 0, 65535, &cport)) {
		*at = '@';
		return err_set(e, EINVAL, "bad address '%s': expected IP:PORT@CPORT", s);
	}
	*colon = '\0';
	snprintf(n->ip, sizeof(n->ip), "%s", s);
	n->port = (int)port;
	n->cport = (int)cport;
	return 0;
}

static int
parse_flags(struct cluster_node *n, char *s, struct err *e)
{
	char *tok, *save = NULL;
	size_t i;

	for (tok = strtok_r(s, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		for (i = 0; i < ARRAY_SIZE(flag_names); i++)
			if (strcmp(tok, flag_names[i].name) == 0)
				break;
		if (i == ARRAY_SIZE(flag_names))
			return err_set(e, EINVAL, "unknown flag '%s'", tok);
		n->flags |= flag_names[i].flag;
	}
	return 0;
}

static void
add_range(struct cluster_node *n, size_t *cap, int first, int last)
{
	xgrow(&n->ranges, cap, n->nranges + 1, sizeof(*n->ranges));
	n->ranges[n->nranges].first = first;
	n->ranges[n->nranges].last = last;
	n->nranges++;
}

/* "[N->-ID]" or "[N-<-ID]" */
static int
parse_open(struct cluster_node *n, const char *s, struct err *e)
{
	size_t len = strlen(s);
	const char *arrow;
	char num[8];
	long long slot;
	enum slot_state st;

	if (len < 5 || s[len - 1] != ']')
		return -1;
	arrow = strstr(s, "->-");
	st = SLOT_MIGRATING;
	if (arrow == NULL) {
		arrow = strstr(s, "-<-");
		st = SLOT_IMPORTING;
	}
	if (arrow == NULL || arrow - s - 1 <= 0 || arrow - s - 1 >= (long)sizeof(num))
		return -1;
	snprintf(num, sizeof(num), "%.*s", (int)(arrow - s - 1), s + 1);
	if (!parse_ll(num, 0, CLUSTER_SLOTS - 1, &slot) ||
	    !is_id(arrow + 3, (size_t)(s + len - 1 - (arrow + 3))))
		return -1;
	n->open = xreallocarray(n->open, n->nopen + 1, sizeof(*n->open));
	n->open[n->nopen].slot = (int)slot;
	n->open[n->nopen].state = st;
	snprintf(n->open[n->nopen].peer, sizeof(n->open[0].peer), "%.*s",
		 NODE_ID_LEN, arrow + 3);
	n->nopen++;
	(void)e;
	return 0;
}

static int
parse_slot(struct cluster_node *n, size_t *cap, char *s, struct err *e)
{
	char *dash;
	long long a, b;

	if (s[0] == '[') {
		if (parse_open(n, s, e) == 0)
			return 0;
		goto bad;
	}
	dash = strchr(s, '-');
	if (dash)
		*dash = '\0';
	if (!parse_ll(s, 0, CLUSTER_SLOTS - 1, &a))
		goto bad_restore;
	b = a;
	if (dash && !parse_ll(dash + 1, 0, CLUSTER_SLOTS - 1, &b))
		goto bad_restore;
	if (b < a) {
		*dash = '-';
		return err_set(e, EINVAL, "bad slot range '%s': first slot after last", s);
	}
	add_range(n, cap, (int)a, (int)b);
	return 0;
bad_restore:
	if (dash)
		*dash = '-';
bad:
	return err_set(e, EINVAL, "bad slot '%s': expected N, N-M, [N->-ID] or [N-<-ID]", s);
}

static int
split(char *line, char **f, int max)
{
	int n = 0;
	char *tok, *save = NULL;

	for (tok = strtok_r(line, " ", &save); tok && n < max;
	     tok = strtok_r(NULL, " ", &save))
		f[n++] = tok;
	return n;
}

static int
parse_line(struct cluster_node *n, char *line, char **f, struct err *e)
{
	long long v;
	size_t cap = 0;
	int nf = split(line, f, MAX_FIELDS), i;

	if (nf < 8)
		return err_set(e, EINVAL, "%d fields: expected at least 8 (id, address, "
			       "flags, master, ping, pong, epoch, link state)", nf);
	if (!is_id(f[0], strlen(f[0])))
		return err_set(e, EINVAL, "bad node id '%s': expected 40 hex digits", f[0]);
	memcpy(n->id, f[0], NODE_ID_LEN + 1);
	if (parse_addr(n, f[1], e) < 0 || parse_flags(n, f[2], e) < 0)
		return -1;
	if (strcmp(f[3], "-") != 0) {
		if (!is_id(f[3], strlen(f[3])))
			return err_set(e, EINVAL, "bad master id '%s': expected '-' or 40 hex digits", f[3]);
		memcpy(n->master_id, f[3], NODE_ID_LEN + 1);
	}
	if (!parse_ll(f[4], 0, INT64_MAX, &n->ping_sent) ||
	    !parse_ll(f[5], 0, INT64_MAX, &n->pong_recv))
		return err_set(e, EINVAL, "bad ping/pong time '%s %s': expected numbers", f[4], f[5]);
	if (!parse_ll(f[6], 0, INT64_MAX, &v))
		return err_set(e, EINVAL, "bad config epoch '%s': expected a number", f[6]);
	n->config_epoch = (unsigned long long)v;
	if (strcmp(f[7], "connected") != 0 && strcmp(f[7], "disconnected") != 0)
		return err_set(e, EINVAL, "bad link state '%s': expected connected or disconnected", f[7]);
	n->connected = f[7][0] == 'c';
	for (i = 8; i < nf; i++)
		if (parse_slot(n, &cap, f[i], e) < 0)
			return -1;
	return 0;
}

static void
node_release(struct cluster_node *n)
{
	free(n->ranges);
	free(n->open);
}

int
topology_parse(struct topology *t, const char *text, struct err *e)
{
	char *copy = xstrdup(text), *line, *next, **fields;
	size_t cap = 0, len;
	int lineno = 0;

	t->nodes = NULL;
	t->n = 0;
	fields = xcalloc(MAX_FIELDS, sizeof(*fields));
	for (line = copy; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		lineno++;
		len = strlen(line);
		if (len && line[len - 1] == '\r')
			line[--len] = '\0';
		if (len == 0)
			continue;
		xgrow(&t->nodes, &cap, t->n + 1, sizeof(*t->nodes));
		memset(&t->nodes[t->n], 0, sizeof(t->nodes[0]));
		t->n++;
		if (parse_line(&t->nodes[t->n - 1], line, fields, e) < 0) {
			err_prefix(e, "line %d: ", lineno);
			topology_release(t);
			free(fields);
			free(copy);
			return -1;
		}
	}
	free(fields);
	free(copy);
	return 0;
}

void
topology_release(struct topology *t)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		node_release(&t->nodes[i]);
	free(t->nodes);
	t->nodes = NULL;
	t->n = 0;
}

const struct cluster_node *
topology_myself(const struct topology *t)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (t->nodes[i].flags & NODE_MYSELF)
			return &t->nodes[i];
	return NULL;
}

const struct cluster_node *
topology_find(const struct topology *t, const char *id)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (strcmp(t->nodes[i].id, id) == 0)
			return &t->nodes[i];
	return NULL;
}

const struct cluster_node *
topology_find_addr(const struct topology *t, const char *ip, int port)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (t->nodes[i].port == port && strcmp(t->nodes[i].ip, ip) == 0)
			return &t->nodes[i];
	return NULL;
}

int
topology_slot_owners(const struct topology *t, int owner[CLUSTER_SLOTS])
{
	size_t i, r;
	int s, covered = 0;

	for (s = 0; s < CLUSTER_SLOTS; s++)
		owner[s] = -1;
	for (i = 0; i < t->n; i++)
		for (r = 0; r < t->nodes[i].nranges; r++)
			for (s = t->nodes[i].ranges[r].first; s <= t->nodes[i].ranges[r].last; s++)
				owner[s] = (int)i;
	for (s = 0; s < CLUSTER_SLOTS; s++)
		covered += owner[s] >= 0;
	return covered;
}

void
topology_map_ids(const struct topology *t, const struct topology *ref, int *map)
{
	const struct cluster_node *r;
	size_t i;

	for (i = 0; i < t->n; i++)
		map[i] = (r = topology_find(ref, t->nodes[i].id)) ? (int)(r - ref->nodes) : -2;
}

bool
cluster_node_has_slot(const struct cluster_node *n, int slot)
{
	size_t r;

	for (r = 0; r < n->nranges; r++)
		if (slot >= n->ranges[r].first && slot <= n->ranges[r].last)
			return true;
	return false;
}

int
cluster_node_slot_count(const struct cluster_node *n)
{
	size_t r;
	int c = 0;

	for (r = 0; r < n->nranges; r++)
		c += n->ranges[r].last - n->ranges[r].first + 1;
	return c;
}

const char *
node_flags_str(unsigned flags, char *out, size_t n)
{
	size_t i, len = 0;

	out[0] = '\0';
	for (i = 0; i < ARRAY_SIZE(flag_names); i++)
		if (flags & flag_names[i].flag)
			len += (size_t)snprintf(out + len, len < n ? n - len : 0, "%s%s",
						len ? "," : "", flag_names[i].name);
	return out;
}
