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
ledger_order(const struct ledger *l, const char *key, size_t klen, const char *a,
	     size_t alen, const char *b, size_t blen)
{
	size_t plen = strlen(l->prefix), i = 0, k;
	long long sa, sb;

	if (klen <= plen || klen - plen > 18 || memcmp(key, l->prefix, plen) != 0)
		return 0;
	for (k = plen; k < klen; k++) {
		if (key[k] < '0' || key[k] > '9' || (k == plen && key[k] == '0' && klen > plen + 1))
			return 0;
		i = i * 10 + (size_t)(key[k] - '0');
	}
	if (i >= l->n || (sa = ledger_value_seq(l, i, a, alen)) < 0 ||
	    (sb = ledger_value_seq(l, i, b, blen)) < 0)
		return 0;
	return (sa > sb) - (sa < sb);
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
	seq = v->type == REPLY_NIL ? 0 : ledger_value_seq(l, i, v->str, v->len);
	if (seen)
		seen[i] = seq;
	if (v->type == REPLY_NIL) {
		if (k->acked) {
			r->lost++;
			snprintf(what, sizeof(what), "missing, write %lld acknowledged", k->acked);
			example(r, name, what);
		} else {
			r->kept++;
		}
	} else if (seq < 0 || seq > k->tried) {
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

/* Reads every key whose master's connection (of[]) is c, pipelined on
 * it; taken out of of[].  done[i] set for those answered with a value or
 * nil: a redirection, an error or a broken link leaves the key to a
 * single GET that follows it. */
static void
read_node(const struct ledger *l, struct conn **of, struct conn *c, bool *done,
	  struct ledger_result *r, long long *seen)
{
	char name[64];
	const char *argv[2] = {"GET", name};
	size_t i, n = 0, *sent = xcalloc(l->n + 1, sizeof(*sent)), j;
	struct reply *v;

	for (i = 0; i < l->n; i++) {
		if (of[i] != c)
			continue;
		of[i] = NULL;
		ledger_key_name(l, i, name, sizeof(name));
		conn_append_argv(c, 2, argv, NULL);
		sent[n++] = i;
	}
	if (conn_flush(c, NULL) == 0)
		for (j = 0; j < n && (v = conn_read_reply(c, NULL)) != NULL; j++) {
			if (v->type != REPLY_ERROR) {
				judge(l, sent[j], v, r, seen);
				done[sent[j]] = true;
			}
			reply_free(v);
		}
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
	struct conn **of = xcalloc(l->n + 1, sizeof(*of));
	struct reply *v;
	size_t i;

	memset(r, 0, sizeof(*r));
	for (i = 0; seen && i < l->n; i++)
		seen[i] = -1;
	if ((cc = cluster_client_new(host, port, timeout_ms, e)) == NULL) {
		free(done);
		free(of);
		return -1;
	}
	/* every master's keys in one pipeline on the client's connection to
	 * it; the rest one by one */
	for (i = 0; i < l->n; i++) {
		if (l->v[i].tried == 0)
			continue;
		ledger_key_name(l, i, name, sizeof(name));
		of[i] = cluster_client_conn_for_slot(cc, key_slot(name, strlen(name)));
	}
	for (i = 0; i < l->n; i++)
		if (of[i])
			read_node(l, of, of[i], done, r, seen);
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
	free(of);
	return 0;
}
