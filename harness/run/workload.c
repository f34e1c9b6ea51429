/*
 * workload.c - a run's live traffic ([workload]): writers started once
 * the dataset is loaded, writing through the reshard, the fault and the
 * repair, stopped just before the verifier; then every key read back
 * against the ledger (verifier/ledger.h).  The ledger is kept in the
 * results as ledger.tsv (key, last acknowledged write, last tried), and
 * report.json says what clients met: "workload".
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "common/clock.h"
#include "harness/run/run_int.h"

#define WORKLOAD_PREFIX "sqlive:"
#define WARMUP_MS 10000 /* every key written once, or the run goes on without */
#define TAIL_MS 500     /* after the repair: the cluster serves again */

const char *
run_workload_prefix(const struct run *run)
{
	return run->writers || run->ledger.n ? WORKLOAD_PREFIX : NULL;
}

int
run_workload_start(struct run *run)
{
	const struct scenario *s = run->s;
	struct writers_opts o = {.host = run->lc.nodes[0].host, .port = run->lc.nodes[0].port,
				 .writers = s->writers, .rate = s->workload_rate,
				 .timeout_ms = 1000};
	uint64_t t0 = timeline_ms(&run->tl), deadline = clock_now_ms() + WARMUP_MS;
	struct err e = ERR_INIT;
	char tag[32];

	if (s->writers == 0)
		return 0;
	snprintf(tag, sizeof(tag), "%llx", (unsigned long long)run->d.seed);
	ledger_init(&run->ledger, (size_t)s->workload_keys, WORKLOAD_PREFIX, tag);
	if ((run->writers = writers_start(&o, &run->ledger, &e)) == NULL)
		return run_fail(run, "workload: %s", e.msg);
	while (writers_acked(run->writers) < s->workload_keys && clock_now_ms() < deadline &&
	       !run_interrupted(run))
		clock_sleep_ms(10);
	run_phase_done(run, "workload", t0, "%d writers on %d keys%s, %lld writes acknowledged "
		       "so far", s->writers, s->workload_keys, s->workload_rate ? "" : " at full speed",
		       writers_acked(run->writers));
	return 0;
}

void
run_workload_stop(struct run *run, bool tail)
{
	if (run->writers == NULL)
		return;
	if (tail)
		clock_sleep_ms(TAIL_MS);
	writers_stop(run->writers);
	run->writers = NULL;
}

/* ledger.tsv: a line per key. */
static void
write_ledger(struct run *run)
{
	char path[PATH_MAX + 16], name[64];
	FILE *f;
	size_t i;

	snprintf(path, sizeof(path), "%s/ledger.tsv", run->r->dir);
	if ((f = fopen(path, "w")) == NULL)
		return;
	fprintf(f, "key\tacked\ttried\n");
	for (i = 0; i < run->ledger.n; i++) {
		ledger_key_name(&run->ledger, i, name, sizeof(name));
		fprintf(f, "%s\t%lld\t%lld\n", name, run->ledger.v[i].acked, run->ledger.v[i].tried);
	}
	fclose(f);
}

void
run_workload_check(struct run *run, const char *host, int port)
{
	const struct ledger *l = &run->ledger;
	struct ledger_result *r = &run->ledger_result;
	uint64_t t0 = timeline_ms(&run->tl);
	json_t *errors = json_object(), *ex = json_array();
	struct err e = ERR_INIT;
	int k;

	if (l->n == 0)
		return;
	write_ledger(run);
	if (ledger_check(l, host, port, 1000, r, &e) < 0) {
		run_fail(run, "workload: %s", e.msg);
		return;
	}
	run->ledger_checked = true;
	for (k = 0; k < LE_COUNT_; k++)
		json_object_set_new(errors, ledger_error_name((enum ledger_error)k),
				    json_integer(l->errors[k]));
	for (k = 0; k < r->nexamples; k++)
		json_array_append_new(ex, json_string(r->examples[k]));
	json_object_set_new(run->report, "workload",
			    json_pack("{s:i, s:i, s:i, s:I, s:I, s:I, s:o, s:I, s:I, s:I, s:I, "
				      "s:I, s:o, s:s}", "writers", run->s->writers, "keys",
				      run->s->workload_keys, "rate", run->s->workload_rate,
				      "acknowledged", (json_int_t)l->acked, "failed",
				      (json_int_t)l->failed, "unknown", (json_int_t)l->unknown,
				      "errors", errors, "keys_read", (json_int_t)r->keys,
				      "kept", (json_int_t)r->kept, "writes_lost",
				      (json_int_t)r->lost, "foreign", (json_int_t)r->foreign,
				      "unread", (json_int_t)r->unread, "examples", ex, "ledger",
				      "ledger.tsv"));
	run_phase_done(run, "ledger", t0, "%lld writes acknowledged, %lld failed, %lld unknown; "
		       "%lld acknowledged writes lost, %lld keys unread", l->acked, l->failed,
		       l->unknown, r->lost, r->unread);
}
