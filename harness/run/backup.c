/*
 * backup.c - a run's backup ([reshard] backup = yes): every master backed
 * up into RESULTS/<run>/backup/ just before the reshard starts
 * (cluster/backup.h), and, with live traffic, each ledger key's last
 * acknowledged write at that moment; after the verifier, the acknowledged
 * writes that are lost sorted by that mark: written after the backup (it
 * could not have them), or before it (it should have: a finding).
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"
#include "harness/run/run_int.h"

#define MARK_WAIT_MS 10000
#define EXAMPLES 8

int
run_backup(struct run *run)
{
	const struct local_node *n0 = &run->lc.nodes[0];
	struct backup *b = &run->backup;
	struct err e = ERR_INIT;
	uint64_t t0 = timeline_ms(&run->tl);
	json_t *masters = json_array();
	size_t i;

	if (!run->s->reshard_backup)
		return 0;
	snprintf(run->backup_dir, sizeof(run->backup_dir), "%s/backup", run->r->dir);
	if (run->writers) {
		run->backup_mark = xcalloc(run->ledger.n + 1, sizeof(long long));
		if (writers_mark(run->writers, run->backup_mark, MARK_WAIT_MS, &e) < 0)
			return run_fail(run, "backup: %s", e.msg);
	}
	if (backup_take(n0->host, n0->port, run->backup_dir, 2000, b, &e) < 0)
		return run_fail(run, "backup: %s", e.msg);
	run->backed_up = true;
	for (i = 0; i < b->n; i++) {
		char addr[96];

		snprintf(addr, sizeof(addr), "%s:%d", b->m[i].host, b->m[i].port);
		json_array_append_new(masters, json_pack("{s:s, s:s, s:I}", "address", addr, "id",
							 b->m[i].id, "keys",
							 (json_int_t)b->m[i].keys));
	}
	json_object_set_new(run->report, "backup",
			    json_pack("{s:s, s:s, s:I, s:I, s:I, s:o}", "dir", "backup", "time",
				      b->time, "time_ms", (json_int_t)b->time_ms, "ms",
				      (json_int_t)(b->done_ms - b->time_ms), "keys",
				      (json_int_t)backup_keys(b), "masters", masters));
	run_phase_done(run, "backup", t0, "%zu masters, %lld keys, BGSAVE of all in %lld ms",
		       b->n, backup_keys(b), b->done_ms - b->time_ms);
	return 0;
}

/* One lost write, for people: "sqlive:12: write 40 acknowledged, 31 when
 * backed up; holds write 31". */
static void
example(const struct run *run, size_t i, json_t *list)
{
	char name[64], line[200];
	long long seen = run->ledger_seen[i];

	if (json_array_size(list) >= EXAMPLES)
		return;
	ledger_key_name(&run->ledger, i, name, sizeof(name));
	snprintf(line, sizeof(line), "%s: write %lld acknowledged, %lld when backed up; %s", name,
		 run->ledger.v[i].acked, run->backup_mark[i],
		 seen == 0 ? "missing now" : "holds an older write now");
	if (seen > 0)
		snprintf(line + strlen(line), sizeof(line) - strlen(line), " (%lld)", seen);
	json_array_append_new(list, json_string(line));
}

void
run_backup_ledger(struct run *run)
{
	json_t *after = json_array(), *before = json_array(), *b;
	long long nafter = 0, nbefore = 0;
	size_t i;

	b = json_object_get(run->report, "backup");
	if (b == NULL || run->backup_mark == NULL || run->ledger_seen == NULL ||
	    !run->ledger_checked) {
		json_decref(after);
		json_decref(before);
		return;
	}
	for (i = 0; i < run->ledger.n; i++) {
		const struct ledger_key *k = &run->ledger.v[i];
		long long seen = run->ledger_seen[i];

		if (k->acked == 0 || seen < 0 || seen >= k->acked)
			continue; /* not lost (or not read: the ledger says so) */
		if (k->acked > run->backup_mark[i]) {
			nafter++;
			example(run, i, after);
		} else {
			nbefore++;
			example(run, i, before);
		}
	}
	json_object_set_new(b, "writes_not_in_backup",
			    json_pack("{s:I, s:o}", "count", (json_int_t)nafter, "examples", after));
	json_object_set_new(b, "writes_lost_though_backed_up",
			    json_pack("{s:I, s:o}", "count", (json_int_t)nbefore, "examples",
				      before));
	timeline_add(&run->tl, "backup: %lld acknowledged writes lost were written after it "
		     "(it could not have them), %lld before it", nafter, nbefore);
	printf("  %-8s %lld acknowledged writes lost came after the backup (it could not have "
	       "them)%s%s; %lld came before it\n", "backup", nafter, nafter ? ", e.g. " : "",
	       nafter ? json_string_value(json_array_get(after, 0)) : "", nbefore);
}
