/*
 * incident_write.c - the scenario of a merged incident: comments naming
 * the input files, the incident's nodes and the choices made, then
 * [scenario], [cluster], [data], [layout], [repair] and [expect]; see
 * incident.h.  Lists longer than a scenario line holds go on in KEY.2,
 * KEY.3 ... as scenario.h allows.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/buf.h"
#include "harness/incident/incident.h"

#define WRAP 150 /* characters of values a line; a scenario line holds 198 */

/* Appends item to the list line of `key`, starting KEY.2 ... when full. */
struct list {
	FILE *f;
	const char *key;
	int part;
	struct buf b;
};

static void
list_add(struct list *l, const char *item)
{
	if (l->b.len > 0 && l->b.len + strlen(item) + 1 > WRAP) {
		if (l->part == 1)
			fprintf(l->f, "%s = %s\n", l->key, buf_str(&l->b));
		else
			fprintf(l->f, "%s.%d = %s\n", l->key, l->part, buf_str(&l->b));
		l->part++;
		buf_release(&l->b);
	}
	buf_addf(&l->b, "%s%s", l->b.len ? "," : "", item);
}

static void
list_end(struct list *l)
{
	if (l->b.len == 0) {
		buf_release(&l->b);
		return;
	}
	if (l->part == 1)
		fprintf(l->f, "%s = %s\n", l->key, buf_str(&l->b));
	else
		fprintf(l->f, "%s.%d = %s\n", l->key, l->part, buf_str(&l->b));
	buf_release(&l->b);
}

static const char *
node_name(const struct incident *inc, const struct incident_node *n, char *buf, size_t len)
{
	if (n->master)
		snprintf(buf, len, "master.%d", n->index);
	else
		snprintf(buf, len, "replica.%d.%d", inc->nodes[n->master_of].index, n->index);
	return buf;
}

static int
replicas_of(const struct incident *inc, int master)
{
	size_t k;
	int c = 0;

	for (k = 0; k < inc->n; k++)
		c += !inc->nodes[k].master && inc->nodes[k].master_of == master;
	return c;
}

/* The replica count most masters have: [cluster] replicas. */
static int
usual_replicas(const struct incident *inc)
{
	int count[6] = {0}, best = 0, r;
	size_t m;

	for (m = 0; m < inc->nmasters; m++)
		count[replicas_of(inc, inc->masters[m])]++;
	for (r = 1; r < 6; r++)
		if (count[r] > count[best])
			best = r;
	return best;
}

/* A comment of any length as lines a scenario holds (198 characters):
 * broken between words at about 90, words longer than a line cut. */
static void
comment(FILE *f, const char *first, const char *text)
{
	const char *prefix = first;
	size_t len;

	while (*text) {
		len = strlen(text);
		if (len > 90) {
			len = 90;
			while (len > 0 && text[len] != ' ')
				len--;
			if (len == 0)
				len = strcspn(text, " ") < 180 ? strcspn(text, " ") : 180;
		}
		fprintf(f, "%s%.*s\n", prefix, (int)len, text);
		text += len;
		text += strspn(text, " ");
		prefix = ";       ";
	}
}

static void
comments(const struct incident *inc, FILE *f)
{
	char name[32];
	size_t i, m;

	fprintf(f, "; An incident rebuilt by 'shardquake incident import' from:\n");
	for (i = 0; i < inc->ninputs; i++)
		comment(f, ";   ", inc->inputs[i]);
	fprintf(f, "; Its nodes, masters numbered by their first slot:\n");
	for (m = 0; m < inc->nmasters; m++) {
		int k, r, nr = replicas_of(inc, inc->masters[m]);

		/* the master, then its replicas by number */
		for (r = -1; r < nr; r++) {
			const struct incident_node *n = &inc->nodes[inc->masters[m]];

			for (k = 0; r >= 0 && k < (int)inc->n; k++) {
				n = &inc->nodes[k];
				if (!n->master && n->master_of == inc->masters[m] && n->index == r)
					break;
			}
			fprintf(f, ";   %-12s %s %s%s%s\n", node_name(inc, n, name, sizeof(name)),
				n->id, n->addr, n->failed ? " failed" : "",
				n->nofailover ? " nofailover" : "");
		}
	}
	if (inc->nnotes)
		fprintf(f, "; Choices made where the views left room:\n");
	for (i = 0; i < inc->nnotes; i++)
		comment(f, ";   - ", inc->notes[i]);
	fprintf(f, "; [data], [repair] and [expect] are this file's choices, not the\n"
		   "; incident's: change them to rehearse your own repair.\n");
}

static void
layout(const struct incident *inc, int pct, FILE *f)
{
	struct list l = {.f = f, .part = 1};
	char key[32], item[64];
	size_t m, i;
	int s, first, usual = usual_replicas(inc);

	for (m = 0; m < inc->nmasters; m++) {
		int k = inc->masters[m];

		snprintf(key, sizeof(key), "master.%zu", m);
		l = (struct list){.f = f, .key = key, .part = 1};
		for (s = 0; s < CLUSTER_SLOTS; s++) {
			if (inc->owner[s] != k)
				continue;
			for (first = s; s + 1 < CLUSTER_SLOTS && inc->owner[s + 1] == k; s++)
				;
			if (first == s)
				snprintf(item, sizeof(item), "%d", s);
			else
				snprintf(item, sizeof(item), "%d-%d", first, s);
			list_add(&l, item);
		}
		if (l.b.len == 0)
			fprintf(f, "%s = none\n", key);
		list_end(&l);
	}
	for (m = 0; m < inc->nmasters; m++)
		if (replicas_of(inc, inc->masters[m]) != usual)
			fprintf(f, "replicas.%zu = %d\n", m, replicas_of(inc, inc->masters[m]));
	l = (struct list){.f = f, .key = "open", .part = 1};
	for (i = 0; i < inc->nopen; i++) {
		const struct incident_open *o = &inc->open[i];

		snprintf(item, sizeof(item), "%d %d>%d %d%%", o->slot, inc->nodes[o->from].index,
			 inc->nodes[o->to].index, pct);
		list_add(&l, item);
	}
	list_end(&l);
	l = (struct list){.f = f, .key = "failed", .part = 1};
	for (i = 0; i < inc->n; i++)
		if (inc->nodes[i].failed)
			list_add(&l, node_name(inc, &inc->nodes[i], item, sizeof(item)));
	list_end(&l);
	l = (struct list){.f = f, .key = "nofailover", .part = 1};
	for (i = 0; i < inc->n; i++)
		if (inc->nodes[i].nofailover && !inc->nodes[i].master)
			list_add(&l, node_name(inc, &inc->nodes[i], item, sizeof(item)));
	list_end(&l);
}

/* A failed master that serves no slot (a failover took them): its files
 * hold nothing to salvage, and the bundled engine keeps it, waiting for
 * a restart, unless it may give it up. */
static bool
empty_failed(const struct incident *inc)
{
	size_t m, i;

	for (m = 0; m < inc->nmasters; m++) {
		int k = inc->masters[m], s;
		bool open = false;

		for (i = 0; i < inc->nopen; i++)
			open |= inc->open[i].from == k || inc->open[i].to == k;
		for (s = 0; s < CLUSTER_SLOTS && inc->owner[s] != k; s++)
			;
		if (inc->nodes[k].failed && s == CLUSTER_SLOTS && !open)
			return true;
	}
	return false;
}

int
incident_write(const struct incident *inc, const struct incident_opts *o, FILE *f,
	       struct err *e)
{
	size_t i, failed = 0, replicas = 0;

	for (i = 0; i < inc->n; i++) {
		failed += inc->nodes[i].failed;
		replicas += !inc->nodes[i].master;
	}
	comments(inc, f);
	fprintf(f, "[scenario]\nname = %s\n", o->name ? o->name : "incident");
	fprintf(f, "description = rebuilt incident: %zu masters, %zu replicas, %zu open slot%s, "
		"%zu failed node%s\n", inc->nmasters, replicas, inc->nopen, inc->nopen == 1 ? "" : "s",
		failed, failed == 1 ? "" : "s");
	fprintf(f, "seed = 1\nquick = no\n\n");
	fprintf(f, "[cluster]\nmasters = %zu\nreplicas = %d\npersistence = aof\nnode_timeout = %d\n\n",
		inc->nmasters, usual_replicas(inc), o->node_timeout_ms);
	fprintf(f, "[data]\nkeys = %lld\n\n", o->keys);
	fprintf(f, "[layout]\n");
	layout(inc, o->moved_pct, f);
	fprintf(f, "\n[repair]\nengine = %s\n", o->engine);
	if (strcmp(o->engine, "exec") == 0)
		fprintf(f, "command = %s\n", o->command);
	if (strcmp(o->engine, "shardquake") == 0 && failed > 0)
		fprintf(f, "salvage = yes                      ; a dead node's keys come back from "
			"its files\n");
	if (strcmp(o->engine, "shardquake") == 0 && empty_failed(inc))
		fprintf(f, "; a failed master serves no slot: the engine forgets it only when told\n"
			"; it may (lost_keys = 0 below still says whether anything was lost)\n"
			"allow_data_loss = yes\n");
	fprintf(f, "\n[expect]\nhealthy = yes\nlost_keys = 0\n");
	if (fflush(f) != 0 || ferror(f))
		return err_set(e, errno, "write the scenario: %s", strerror(errno));
	return 0;
}
