/*
 * outcome.c - a repair's result for people (the result line and what
 * follows it) and for machines (report.json's "result"), both from one
 * table, so that the line has every count the report has.
 */
#include <stdio.h>
#include <string.h>

#include "repair/repair.h"
#include "repair/stash.h"

struct count {
	const char *json;   /* its name in report.json */
	const char *label;  /* after the number on the result line */
	long long (*get)(const struct repair_outcome *r);
};

static long long
sources_missing(const struct repair_outcome *r)
{
	long long n = 0;
	size_t i;

	for (i = 0; i < r->nsources; i++)
		n += r->sources[i].missing;
	return n;
}

#define GETTER(name, expr)                                                     \
	static long long name(const struct repair_outcome *r) { return (expr); }

GETTER(get_moved, r->total.keys_moved)
GETTER(get_same, r->total.keys_same)
GETTER(get_stashed, r->total.stashed)
GETTER(get_salvaged, r->total.keys_salvaged)
GETTER(get_salvage_same, r->total.salvage_same)
GETTER(get_superseded, r->total.superseded)
GETTER(get_aside, r->total.conflicts - r->total.conflicts_kept)
GETTER(get_kept, r->total.conflicts_kept)
GETTER(get_undecided, r->total.undecided)
GETTER(get_deleted, r->total.deleted_since)
GETTER(get_restarted, r->total.restarted)
GETTER(get_promoted, r->total.promoted)
GETTER(get_forgotten, r->total.forgotten)
GETTER(get_missing, sources_missing(r))
GETTER(get_unrestored, r->total.nunrestored)

static const struct count counts[] = {
	{"keys_moved", "keys moved to their owners", get_moved},
	{"keys_same", "already on their owners", get_same},
	{"duplicates_stashed", "duplicates stashed", get_stashed},
	{"keys_salvaged", "salvaged from files and replicas", get_salvaged},
	{"salvage_same", "files' keys already in the cluster", get_salvage_same},
	{"superseded", "older values superseded by newer writes (in the stash)", get_superseded},
	{"conflicts_set_aside", "other values set aside for a decision", get_aside},
	{"conflicts_kept", "other values left in place", get_kept},
	{"undecided", "files' keys a promoted replica lacks, not restored (in the stash)",
	 get_undecided},
	{"deleted_since", "files' keys deleted since (in the stash)", get_deleted},
	{"restarted", "restarted", get_restarted},
	{"promoted", "replicas promoted", get_promoted},
	{"forgotten", "forgotten", get_forgotten},
	{"missing_from_sources", "files' keys still missing", get_missing},
	{"not_put_back", "changes not put back", get_unrestored},
};

#define NCOUNTS (sizeof(counts) / sizeof(counts[0]))

const char *
repair_outcome_word(const struct repair_outcome *r)
{
	if (!r->healthy)
		return "not healthy";
	return r->decisions ? "healthy, a decision waits" : "healthy";
}

void
repair_outcome_line(const struct repair_outcome *r, char *buf, size_t n)
{
	size_t i, len;

	len = (size_t)snprintf(buf, n, "%s:", repair_outcome_word(r));
	for (i = 0; i < NCOUNTS && len < n; i++)
		len += (size_t)snprintf(buf + len, n - len, "%s %lld %s", i ? "," : "",
					counts[i].get(r), counts[i].label);
}

void
repair_outcome_print(const struct repair_outcome *r, FILE *f)
{
	char line[1024];
	size_t i;
	int k;

	repair_outcome_line(r, line, sizeof(line));
	fprintf(f, "%s\n", line);
	for (i = 0; i < r->nsources; i++) {
		const struct source_outcome *s = &r->sources[i];

		if (!s->read)
			fprintf(f, "  salvage source %s: not read: %s\n", s->dir, s->error);
		else if (s->backup)
			fprintf(f, "  backup of %s (%s, taken %s): %lld keys, %lld restored, %lld "
				"already there, %lld superseded by newer values, %lld missing\n",
				s->addr, s->dir, r->backup_time, s->keys, s->salvaged, s->same,
				s->superseded + s->conflicts, s->missing);
		else
			fprintf(f, "  salvage source %s: %lld keys, %lld salvaged, %lld already "
				"there, %lld superseded, %lld conflicts, %lld undecided, %lld "
				"deleted since, %lld missing\n", s->dir, s->keys, s->salvaged,
				s->same, s->superseded, s->conflicts, s->undecided,
				s->deleted_since, s->missing);
	}
	for (k = 0; k < r->total.nheld; k++)
		fprintf(f, "  held: slots %s %s on %s for %lld ms, until their keys were back\n",
			r->total.held[k].slots,
			r->total.held[k].served ? "imported (clients served by their claimant, as "
						  "in a live migration)" : "refused clients",
			r->total.held[k].owner, r->total.held[k].ms);
	if (r->total.stash[0])
		fprintf(f, "  stash: %s (duplicates in database 0, other values in 1-%d, each "
			"listed in conflicts.txt beside it)\n", r->total.stash, STASH_CONFLICT_DBS);
	if (r->decisions) {
		fprintf(f, "  decision: %lld key%s in the stash: %lld with another value than "
			"the cluster's, which keeps its own; %lld the cluster lacks (its promoted "
			"replica may never have had them, or they were deleted since); keep the "
			"cluster as it is, or restore from the stash; first: %s\n", r->decisions,
			r->decisions == 1 ? "" : "s", r->decisions - r->total.undecided,
			r->total.undecided, r->total.conflict[0]);
		for (k = 1; k < r->total.nconflict; k++)
			fprintf(f, "            %s\n", r->total.conflict[k]);
	}
	if (!r->healthy && r->left[0])
		fprintf(f, "  left: %s\n", r->left);
}

json_t *
repair_outcome_json(const struct repair_outcome *r)
{
	json_t *o = json_object(), *srcs = json_array(), *list = json_array();
	size_t i;
	int k;

	json_object_set_new(o, "healthy", json_boolean(r->healthy));
	for (i = 0; i < NCOUNTS; i++)
		json_object_set_new(o, counts[i].json, json_integer(counts[i].get(r)));
	json_object_set_new(o, "stash", json_string(r->total.stash));
	for (k = 0; k < r->total.nconflict; k++)
		json_array_append_new(list, json_string(r->total.conflict[k]));
	json_object_set_new(o, "conflict_examples", list);
	list = json_array();
	for (k = 0; k < r->total.nunrestored; k++)
		json_array_append_new(list, json_string(r->total.unrestored[k]));
	json_object_set_new(o, "not_put_back_list", list);
	list = json_array();
	for (k = 0; k < r->total.nheld; k++) {
		const struct held_window *w = &r->total.held[k];

		json_array_append_new(list, json_pack("{s:s, s:s, s:i, s:I, s:b}", "owner", w->owner,
						      "slots", w->slots, "nslots", w->nslots, "ms",
						      (json_int_t)w->ms, "served", w->served));
	}
	json_object_set_new(o, "held", list);
	for (i = 0; i < r->nsources; i++) {
		const struct source_outcome *s = &r->sources[i];

		json_array_append_new(srcs, json_pack("{s:s, s:s, s:b, s:b, s:s, s:I, s:I, s:I, "
						      "s:I, s:I, s:I, s:I, s:I}", "dir", s->dir,
						      "node", s->addr,
						      "backup", s->backup, "read", s->read, "error",
						      s->error, "keys", (json_int_t)s->keys,
						      "salvaged", (json_int_t)s->salvaged, "same",
						      (json_int_t)s->same, "superseded",
						      (json_int_t)s->superseded, "conflicts",
						      (json_int_t)s->conflicts, "undecided",
						      (json_int_t)s->undecided, "deleted_since",
						      (json_int_t)s->deleted_since, "missing",
						      (json_int_t)s->missing));
	}
	json_object_set_new(o, "sources", srcs);
	if (r->backup_time_ms)
		json_object_set_new(o, "backup", json_pack("{s:I, s:s}", "time_ms",
							   (json_int_t)r->backup_time_ms, "time",
							   r->backup_time));
	json_object_set_new(o, "left", json_string(r->left));
	json_object_set_new(o, "unsettled", json_string(r->unsettled));
	return o;
}
