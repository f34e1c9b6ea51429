/* ledger.c - acknowledged writes read back; see ledger.h. */
#include "verifier/ledger.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/client.h"
#include "cluster/conn.h"
#include "cluster/slot.h"
#include "common/xmalloc.h"

void
ledger_init(struct ledger *l, size_t n, const char *prefix, const char *tag)
{
	memset(l, 0, sizeof(*l));
	snprintf(l->prefix, sizeof(l->prefix), "%s", prefix);
	snprintf(l->tag, sizeof(l->tag), "%s", tag);
	l->v = xcalloc(n + 1, sizeof(*l->v));
	l->n = n;
}

void
ledger_release(struct ledger *l)
{
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

void
ledger_key_name(const struct ledger *l, size_t i, char *buf, size_t n)
{
	snprintf(buf, n, "%s%zu", l->prefix, i);
}

void
ledger_value(const struct ledger *l, size_t i, long long seq, char *buf, size_t n)
{
	snprintf(buf, n, "%s:%zu:%lld", l->tag, i, seq);
}

static const struct {
	const char *prefix;
	enum ledger_error k;
} classes[] = {
	{"MOVED", LE_MOVED},         {"ASK", LE_MOVED},
	{"CLUSTERDOWN", LE_CLUSTERDOWN}, {"TRYAGAIN", LE_TRYAGAIN},
	{"OOM", LE_OOM},             {"MISCONF", LE_MISCONF},
};

static const char *const names[LE_COUNT_] = {
	[LE_MOVED] = "moved",       [LE_CLUSTERDOWN] = "clusterdown",
	[LE_TRYAGAIN] = "tryagain", [LE_OOM] = "oom",
	[LE_MISCONF] = "misconf",   [LE_UNREACHABLE] = "unreachable",
	[LE_OTHER] = "other",
};

enum ledger_error
ledger_error_class(const char *msg)
{
	size_t i, len;

	for (i = 0; i < sizeof(classes) / sizeof(classes[0]); i++) {
		len = strlen(classes[i].prefix);
		if (strncmp(msg, classes[i].prefix, len) == 0 &&
		    (msg[len] == ' ' || msg[len] == '\0'))
			return classes[i].k;
	}
	return LE_OTHER;
}

const char *
ledger_error_name(enum ledger_error k)
{
	return k >= 0 && k < LE_COUNT_ ? names[k] : "?";
}

/* "KEY: WHAT" as the next example, while there is room. */
static void
example(struct ledger_result *r, const char *key, const char *what)
{
	if (r->nexamples < LEDGER_EXAMPLES)
		snprintf(r->examples[r->nexamples++], sizeof(r->examples[0]), "%s: %s", key, what);
}

long long
ledger_value_seq(const struct ledger *l, size_t i, const char *v, size_t len)
{
	char head[96];
	long long seq;
	int used = 0;

	snprintf(head, sizeof(head), "%s:%zu:", l->tag, i);
	if (len <= strlen(head) || strncmp(v, head, strlen(head)) != 0)
		return -1;
	if (sscanf(v + strlen(head), "%lld%n", &seq, &used) != 1 ||
	    (size_t)used != len - strlen(head) || seq < 1)
		return -1;
	return seq;
}

int
ledger_check(const struct ledger *l, const char *host, int port, int timeout_ms,
	     struct ledger_result *r, struct err *e)
{
	return ledger_check_seen(l, host, port, timeout_ms, r, NULL, e);
}

/* Key i's value as read (NULL or an error reply: not read) judged
 * against its ledger entry. */
static void
judge(const struct ledger *l, size_t i, const struct reply *v, struct ledger_result *r,
      long long *seen)
{
	const struct ledger_key *k = &l->v[i];
	char name[64], what[128];
	long long seq;

	ledger_key_name(l, i, name, sizeof(name));
	if (v == NULL || v->type == REPLY_ERROR) {
		r->unread++;
		return;
	}
	if (seen)
		seen[i] = v->type == REPLY_NIL ? 0 : ledger_value_seq(l, i, v->str, v->len);
	if (v->type == REPLY_NIL) {
		if (k->acked) {
			r->lost++;
			snprintf(what, sizeof(what), "missing, write %lld acknowledged", k->acked);
			example(r, name, what);
		} else {
			r->kept++;
		}
	} else if ((seq = ledger_value_seq(l, i, v->str, v->len)) < 0 || seq > k->tried) {
		r->foreign++;
		snprintf(what, sizeof(what), "holds a value nobody wrote: %.60s", v->str);
		example(r, name, what);
	} else if (seq < k->acked) {
		r->lost++;
		snprintf(what, sizeof(what), "holds write %lld, but %lld was acknowledged", seq,
			 k->acked);
		example(r, name, what);
	} else {
		r->kept++;
	}
}

/* Reads every key the client's map gives to `addr`, pipelined on one
 * connection: done[i] set for those answered with a value or nil (a
 * redirection, an error or a broken link leaves the key to a single
 * GET that follows it). */
static void
read_node(const struct ledger *l, struct cluster_client *cc, const char *addr, int timeout_ms,
	  bool *done, struct ledger_result *r, long long *seen)
{
	char host[256], name[64];
	const char *argv[2] = {"GET", name};
	const char *colon = strrchr(addr, ':');
	size_t i, n = 0, *sent = xcalloc(l->n + 1, sizeof(*sent)), j;
	struct conn *cn = NULL;
	struct reply *v;

	if (colon == NULL || (size_t)(colon - addr) >= sizeof(host))
		goto out;
	snprintf(host, sizeof(host), "%.*s", (int)(colon - addr), addr);
	if ((cn = conn_open(host, atoi(colon + 1), timeout_ms, NULL)) == NULL)
		goto out;
	for (i = 0; i < l->n; i++) {
		const char *owner;

		if (done[i] || l->v[i].tried == 0)
			continue;
		ledger_key_name(l, i, name, sizeof(name));
		owner = cluster_client_node_for_slot(cc, key_slot(name, strlen(name)));
		if (owner == NULL || strcmp(owner, addr) != 0)
			continue;
		conn_append_argv(cn, 2, argv, NULL);
		sent[n++] = i;
	}
	if (n == 0 || conn_flush(cn, NULL) < 0)
		goto out;
	for (j = 0; j < n; j++) {
		if ((v = conn_read_reply(cn, NULL)) == NULL)
			break;
		if (v->type != REPLY_ERROR) {
			judge(l, sent[j], v, r, seen);
			done[sent[j]] = true;
		}
		reply_free(v);
	}
out:
	conn_free(cn);
	free(sent);
}

int
ledger_check_seen(const struct ledger *l, const char *host, int port, int timeout_ms,
		  struct ledger_result *r, long long *seen, struct err *e)
{
	struct cluster_client *cc;
	char name[64];
	const char *argv[2] = {"GET", name};
	bool *done = xcalloc(l->n + 1, sizeof(*done));
	const char *addrs[CLUSTER_SLOTS];
	size_t naddrs = 0, i, k;
	unsigned slot;
	struct reply *v;

	memset(r, 0, sizeof(*r));
	for (i = 0; seen && i < l->n; i++)
		seen[i] = -1;
	if ((cc = cluster_client_new(host, port, timeout_ms, e)) == NULL) {
		free(done);
		return -1;
	}
	/* every master's keys in one pipeline; the rest one by one */
	for (slot = 0; slot < CLUSTER_SLOTS; slot++) {
		const char *a = cluster_client_node_for_slot(cc, slot);

		for (k = 0; a && k < naddrs && strcmp(addrs[k], a) != 0; k++)
			;
		if (a && k == naddrs)
			addrs[naddrs++] = a;
	}
	for (k = 0; k < naddrs; k++)
		read_node(l, cc, addrs[k], timeout_ms, done, r, seen);
	for (i = 0; i < l->n; i++) {
		if (done[i] || l->v[i].tried == 0)
			continue;
		ledger_key_name(l, i, name, sizeof(name));
		v = cluster_client_cmd(cc, 2, argv, NULL, NULL);
		judge(l, i, v, r, seen);
		reply_free(v);
	}
	for (i = 0; i < l->n; i++)
		r->keys += l->v[i].tried != 0;
	cluster_client_free(cc);
	free(done);
	return 0;
}
