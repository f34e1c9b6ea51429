/*
 * plan_sources.c - the plan for salvage sources, and what it sees of
 * the manual steps a person may have taken before running it (the usual
 * runbook: forget the failed node, close stuck slots, redis-cli
 * --cluster fix), each said with the files that could bring keys back.
 *
 * Every source that was read and holds keys gets a salvage action while
 * the cluster lacks any of them, or until one salvage pass has compared
 * them all (an equal value changes nothing, another one is a conflict).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"
#include "repair/plan_int.h"
#include "repair/slotset.h"

const char *
plan_source_name(const struct assessment *a, const struct asource *s, char *buf, size_t n)
{
	char who[128] = "", ma[80];
	const char *state;

	if (s->replica) {
		if (s->replica_of >= 0)
			snprintf(who, sizeof(who), ", of %s%s", assess_addr(a, s->replica_of, ma,
				 sizeof(ma)), a->nodes[s->replica_of].reachable ? ""
									: ", which is down");
		snprintf(buf, n, "%s (%.8s%s)", s->dir, s->id, who);
		return buf;
	}
	if (s->host[0])
		snprintf(who, sizeof(who), "%s:%d, ", s->host, s->port);
	if (s->id[0])
		snprintf(who + strlen(who), sizeof(who) - strlen(who), "%.8s, ", s->id);
	if (s->node >= 0)
		state = a->nodes[s->node].reachable ? "which answers" : "which is down";
	else if (s->id[0])
		state = "which no node knows any more";
	else if (s->host[0])
		state = "which no node knows";
	else
		state = "no nodes.conf says whose files they are";
	snprintf(buf, n, "%s (%s%s%s)", s->dir, s->backup ? "the backup of " : "", who, state);
	return buf;
}

/* Who serves slots of group g now, for people. */
static void
served_by(const struct assessment *a, int g, char *buf, size_t n)
{
	char ad[80];

	if (g < 0)
		snprintf(buf, n, "served by nobody");
	else if (assess_live_master(a, g))
		snprintf(buf, n, "served by %s", assess_addr(a, g, ad, sizeof(ad)));
	else
		snprintf(buf, n, "served by %s, which is down", assess_addr(a, g, ad, sizeof(ad)));
}

/* The slots the reference view gives to g (-1: nobody) where count[]
 * is not 0, as a set: slots between two such count in when all the
 * slots between are g's too, so that a range reads as one.  The sum of
 * count[] over them, and of also[] (may be NULL) into *also_sum. */
static long long
group_set(const struct assessment *a, const long long *count, const long long *also, int g,
	  bool *in, long long *also_sum)
{
	long long sum = 0;
	int slot, last = -1, k;

	memset(in, 0, CLUSTER_SLOTS * sizeof(bool));
	if (also_sum)
		*also_sum = 0;
	for (slot = 0; slot < CLUSTER_SLOTS; slot++) {
		if (a->snap.owner[slot] != g) {
			last = -1;
			continue;
		}
		if (count[slot] == 0)
			continue;
		for (k = last + 1; last >= 0 && k < slot; k++)
			in[k] = true;
		in[slot] = true;
		last = slot;
		sum += count[slot];
		if (also_sum)
			*also_sum += also[slot];
	}
	return sum;
}

/* "DIR (...) holds N keys, M missing from the cluster: slots 10922-16383
 * (served by nobody): N keys, M missing; ..." */
static void
saw_source(const struct assessment *a, const struct asource *s, bool *in, struct plan *p)
{
	char name[PATH_MAX + 200], line[1024], set[200], by[120];
	long long keys, lacking;
	size_t len;
	int g, groups = 0;

	plan_source_name(a, s, name, sizeof(name));
	if (s->replica)
		len = (size_t)snprintf(line, sizeof(line), "%s holds %lld keys where its master "
				       "does not match it, %lld of them missing from the cluster",
				       name, s->keys, s->lacking_total);
	else
		len = (size_t)snprintf(line, sizeof(line), "%s holds %lld keys, %lld missing from "
				       "the cluster", name, s->keys, s->lacking_total);
	for (g = -1; g < (int)a->snap.n && len < sizeof(line); g++) {
		if ((keys = group_set(a, s->held, s->lacking, g, in, &lacking)) == 0)
			continue;
		served_by(a, g, by, sizeof(by));
		len += (size_t)snprintf(line + len, sizeof(line) - len,
					"%s slots %s (%s): %lld keys, %lld missing",
					groups++ ? ";" : ":", slotset_str(in, set, sizeof(set)), by,
					keys, lacking);
	}
	plan_saw(p, "%s", line);
}

/* A live replica: said and read only where it holds keys the cluster
 * lacks (a replica in step with its master holds none).  Its salvage
 * stands for its master when that master is down: a failed pass keeps
 * the master from being forgotten. */
static void
plan_replica(const struct assessment *a, const struct asource *s, size_t k, bool *in,
	     struct plan *p)
{
	char name[PATH_MAX + 200];
	struct action *x;
	int m = s->replica_of;

	if (s->unread_slots)
		plan_saw(p, "%s holds %lld keys in %d slots its master does not serve, where its "
			 "counts differ from the masters' (a Redis 7.0 replica keeps the keys its "
			 "master's slot clean-up dropped): a replica answers MOVED for those, so "
			 "%s", plan_source_name(a, s, name, sizeof(name)), s->unread_keys,
			 s->unread_slots, assess_live_master(a, m)
				 ? "a copy of its data (an RDB it sends as to a replica) is read for them"
				 : "they are not read (nor can it send a copy of its data while its "
				   "master is down): its master's files, if given, hold them");
	if (s->lacking_total == 0)
		return;
	saw_source(a, s, in, p);
	x = plan_add(p, ACT_SALVAGE, m >= 0 && !a->nodes[m].reachable ? m : -1);
	x->src = (int)k;
	snprintf(x->reason, sizeof(x->reason),
		 "read %s: its %lld keys the cluster lacks are copied to their slots' owners "
		 "(DUMP, then RESTORE: a replica runs no MIGRATE), the %lld others compared",
		 plan_source_name(a, s, name, sizeof(name)), s->lacking_total,
		 s->keys - s->lacking_total);
}

void
plan_sources(const struct assessment *a, struct plan *p)
{
	bool *in = xcalloc(CLUSTER_SLOTS, sizeof(bool));
	char name[PATH_MAX + 200];
	struct action *x;
	size_t k;

	for (k = 0; k < a->nsrc; k++) {
		const struct asource *s = &a->src[k];

		plan_source_name(a, s, name, sizeof(name));
		if (!s->read) {
			plan_note(p, "salvage source %s could not be read: %s", name, s->error);
			continue;
		}
		if (s->replica) {
			plan_replica(a, s, k, in, p);
			continue;
		}
		if (s->keys == 0) {
			plan_saw(p, "%s holds no key", name);
			continue;
		}
		saw_source(a, s, in, p);
		if (s->lacking_total == 0 && s->compared)
			continue;
		x = plan_add(p, ACT_SALVAGE, s->node);
		x->src = (int)k;
		if (s->lacking_total)
			snprintf(x->reason, sizeof(x->reason),
				 "read %s: its %lld keys the cluster lacks are copied to their slots' "
				 "owners, the %lld others compared (another value on the owner is set "
				 "aside in the stash)", name, s->lacking_total,
				 s->keys - s->lacking_total);
		else
			snprintf(x->reason, sizeof(x->reason),
				 "read %s: the cluster has all its %lld keys; their values are compared "
				 "(another value on the owner is set aside in the stash)", name,
				 s->keys);
	}
	free(in);
}

long long
plan_source_keys_in(const struct assessment *a, const int *slots, size_t n, int *top)
{
	long long total = 0, best = 0, mine;
	size_t k, i;

	*top = -1;
	for (k = 0; k < a->nsrc; k++) {
		if (!a->src[k].read || a->src[k].held == NULL)
			continue;
		for (i = 0, mine = 0; i < n; i++)
			mine += a->src[k].held[slots[i]];
		total += mine;
		if (mine > best) {
			best = mine;
			*top = (int)k;
		}
	}
	return total;
}

/* Slots no reachable view gives an owner: as after CLUSTER FORGET of the
 * node that served them (by every node). */
static void
saw_unowned(const struct assessment *a, int *const *owners, struct plan *p, bool *in)
{
	char set[200], name[PATH_MAX + 200], line[1024];
	long long held;
	size_t i, k, len;
	int slot, n = 0;
	bool named;

	memset(in, 0, CLUSTER_SLOTS * sizeof(bool));
	for (slot = 0; slot < CLUSTER_SLOTS; slot++) {
		for (i = 0, named = false; i < a->snap.n && !named; i++)
			named = owners[i] && owners[i][slot] >= 0;
		in[slot] = !named;
		n += !named;
	}
	if (n == 0)
		return;
	len = (size_t)snprintf(line, sizeof(line), "slots %s have no owner in any node's view, "
			       "as after CLUSTER FORGET of the node that served them",
			       slotset_str(in, set, sizeof(set)));
	for (k = 0, named = false; k < a->nsrc; k++) {
		const struct asource *s = &a->src[k];

		if (!s->read || s->held == NULL)
			continue;
		for (slot = 0, held = 0; slot < CLUSTER_SLOTS; slot++)
			held += in[slot] ? s->held[slot] : 0;
		if (held == 0)
			continue;
		named = true;
		len += (size_t)snprintf(line + len, sizeof(line) - len,
					"; %s holds %lld of their keys, salvaged once they are "
					"served%s", plan_source_name(a, s, name, sizeof(name)), held,
					s->conf_slots ? " (its nodes.conf says whose slots they were)"
						      : "");
	}
	if (!named && len < sizeof(line))
		snprintf(line + len, sizeof(line) - len, "; if that node held keys of them, they "
			 "are in its files alone now: name them with --salvage DIR, and they are "
			 "brought back even after the slots are given away");
	plan_saw(p, "%s", line);
}

/* Slots a live master serves and lacks keys of that a source holds,
 * empty there: as after redis-cli --cluster fix gave a forgotten node's
 * slots away. */
static void
saw_covered(const struct assessment *a, struct plan *p, bool *in)
{
	char set[200], name[PATH_MAX + 200], ad[80];
	long long lacking;
	size_t k;
	int g, slot;
	bool empty;

	for (k = 0; k < a->nsrc; k++) {
		const struct asource *s = &a->src[k];

		if (!s->read || s->lacking == NULL)
			continue;
		for (g = 0; g < (int)a->snap.n; g++) {
			if (!assess_live_master(a, g) || g == s->node)
				continue;
			if ((lacking = group_set(a, s->lacking, NULL, g, in, NULL)) == 0)
				continue;
			for (slot = 0, empty = a->full; slot < CLUSTER_SLOTS && empty; slot++)
				empty = !in[slot] || assess_keys(a, g, slot) == 0;
			if (lacking == 0)
				continue;
			plan_saw(p, "slots %s are served by %s, which lacks %lld of their keys that "
				 "%s holds%s", slotset_str(in, set, sizeof(set)),
				 assess_addr(a, g, ad, sizeof(ad)), lacking,
				 plan_source_name(a, s, name, sizeof(name)),
				 empty ? "; they are empty there, as after redis-cli --cluster fix "
					 "gave them away: the salvage brings their keys back"
				       : ": the salvage brings them back");
		}
	}
}

/* A node some reachable nodes know and others do not: a CLUSTER FORGET
 * that did not reach every node (or one that gossip is undoing). */
static void
saw_partial_forgets(const struct assessment *a, struct plan *p)
{
	char knows[300], forgot[300], ad[80], ia[80], name[PATH_MAX + 200], tail[PATH_MAX + 300];
	enum seen *seen = xcalloc(a->snap.n + 1, sizeof(*seen));
	size_t i, j, k, nf;

	for (i = 0; i < a->snap.n; i++) {
		if (assess_seen(a, i, seen, &nf) == 0 || nf == 0)
			continue;
		knows[0] = forgot[0] = '\0';
		for (j = 0; j < a->snap.n; j++) {
			char *to = seen[j] == SEEN_KNOWN ? knows : forgot;

			if (seen[j] != SEEN_NOT_ASKED)
				snprintf(to + strlen(to), sizeof(knows) - strlen(to), "%s%s",
					 to[0] ? ", " : "", assess_addr(a, (int)j, ad, sizeof(ad)));
		}
		assess_addr(a, (int)i, ia, sizeof(ia));
		for (k = 0; k < a->nsrc && a->src[k].node != (int)i; k++)
			;
		tail[0] = '\0';
		if (!a->nodes[i].reachable && k < a->nsrc)
			snprintf(tail, sizeof(tail), "; its files: %s",
				 plan_source_name(a, &a->src[k], name, sizeof(name)));
		else if (!a->nodes[i].reachable)
			snprintf(tail, sizeof(tail), "; its keys, if it held any, are in its files: "
				 "name them with --salvage %s=DIR", ia);
		plan_saw(p, "%s (%.8s) is forgotten by %s but still known to %s: a CLUSTER FORGET "
			 "that did not reach every node%s", ia, a->snap.nodes[i].id, forgot, knows,
			 tail);
	}
	free(seen);
}

void
plan_seen(const struct assessment *a, int *const *owners, struct plan *p)
{
	bool *in = xcalloc(CLUSTER_SLOTS, sizeof(bool));

	saw_unowned(a, owners, p, in);
	saw_covered(a, p, in);
	saw_partial_forgets(a, p);
	free(in);
}
