/*
 * workload.c - a run's live traffic ([workload]): writers started once
 * the dataset is loaded, writing through the reshard, the fault and the
 * repair, stopped just before the verifier; then every key read back
 * against the ledger (verifier/ledger.h).  The ledger is kept in the
 * results as ledger.tsv (key, last acknowledged write, last tried), and
 * report.json says what clients met: "workload", with "series", the
 * traffic per time bucket (series.h).
 */
#include <limits.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "common/clock.h"
#include "common/xmalloc.h"
#include "harness/run/run_int.h"
#include "harness/workload/outages.h"

#define WORKLOAD_PREFIX "sqlive:"
#define WARMUP_MS 10000 /* every key written once, or the run goes on without */
#define TAIL_MS 500     /* after the repair, at most: the cluster serves again */
#define SLACK_MS 500    /* outages this close are one (outages.h) */
#define RANGES_MAX 32
#define BUCKETS_MAX 480 /* a longer run's series has wider buckets */

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
				 .get_pct = s->workload_get_pct, .seed = run->d.seed,
				 .timeout_ms = 1000, .t0_us = run->tl.t0_us};
	uint64_t t0 = timeline_ms(&run->tl), deadline = clock_now_ms() + WARMUP_MS;
	struct err e = ERR_INIT;
	char tag[32];

	if (s->writers == 0)
		return 0;
	snprintf(tag, sizeof(tag), "%llx", (unsigned long long)run->d.seed);
	run->series = (struct series)SERIES_INIT(run->tl.t0_us);
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
	if (tail) {
		/* after the repair, until the cluster serves again: as
		 * many writes acknowledged as there are writers, or TAIL_MS */
		uint64_t deadline = clock_now_ms() + TAIL_MS;
		long long base = writers_acked(run->writers);

		while (writers_acked(run->writers) < base + run->s->writers &&
		       clock_now_ms() < deadline)
			clock_sleep_ms(5);
		writers_probe(run->writers, TAIL_MS);
	}
	writers_stop(run->writers, &run->outages, &run->series);
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

/* The unavailable ranges, times since the run began; the longest one's
 * words into `longest`. */
static json_t *
unavailable(struct run *run, char *longest, size_t n)
{
	json_t *a = json_array();
	struct outage_range *r;
	uint64_t base = clock_now_ms() - timeline_ms(&run->tl), most = 0;
	size_t i, k = outages_group(&run->outages, SLACK_MS, &r);

	longest[0] = '\0';
	for (i = 0; i < k; i++) {
		uint64_t ms = r[i].to_ms - r[i].from_ms;

		if (i < RANGES_MAX)
			json_array_append_new(a, json_pack("{s:i, s:i, s:i, s:I, s:I, s:I, s:b}",
							   "first_slot", r[i].first, "last_slot",
							   r[i].last, "slots_seen", r[i].nslots,
							   "from_ms", (json_int_t)(r[i].from_ms - base),
							   "to_ms", (json_int_t)(r[i].to_ms - base),
							   "ms", (json_int_t)ms, "open", r[i].open));
		if (ms > most) {
			most = ms;
			snprintf(longest, n, "; slots %d-%d unavailable for %llu ms%s", r[i].first,
				 r[i].last, (unsigned long long)ms, r[i].open ? ", still" : "");
		}
	}
	free(r);
	return a;
}

/* The traffic over time: a bucket per bucket_ms from the first one with
 * a command in it; each with its counts, the error classes met (those
 * not met left out) and the acknowledged writes' latency. */
static json_t *
series_json(struct series *s)
{
	json_t *a = json_array();
	size_t i, first;
	int k;

	series_coarsen(s, BUCKETS_MAX);
	for (first = 0; first < s->n; first++)
		if (s->v[first].acked || s->v[first].failed || s->v[first].unknown ||
		    s->v[first].reads)
			break;
	for (i = first; i < s->n; i++) {
		const struct series_bucket *b = &s->v[i];
		json_t *errors = json_object();

		for (k = 0; k < LE_COUNT_; k++)
			if (b->errors[k])
				json_object_set_new(errors, ledger_error_name((enum ledger_error)k),
						    json_integer(b->errors[k]));
		json_array_append_new(
			a, json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:o, s:{s:I, s:I, s:I, s:I}}",
				     "ms", (json_int_t)(i * s->bucket_ms), "acknowledged",
				     (json_int_t)b->acked, "failed", (json_int_t)b->failed,
				     "unknown", (json_int_t)b->unknown, "reads",
				     (json_int_t)b->reads, "reads_failed",
				     (json_int_t)b->reads_failed, "errors", errors, "latency_us",
				     "mean", (json_int_t)(b->acked ? b->lat_sum_us / b->acked : 0),
				     "p50", (json_int_t)series_percentile_us(b, 50), "p99",
				     (json_int_t)series_percentile_us(b, 99), "max",
				     (json_int_t)b->lat_max_us));
	}
	return json_pack("{s:i, s:o}", "bucket_ms", (int)s->bucket_ms, "buckets", a);
}

void
run_workload_check(struct run *run, const char *host, int port)
{
	const struct ledger *l = &run->ledger;
	struct ledger_result *r = &run->ledger_result;
	uint64_t t0 = timeline_ms(&run->tl);
	json_t *errors = json_object(), *ex = json_array(), *ranges;
	struct err e = ERR_INIT;
	char longest[160];
	int k;

	if (l->n == 0)
		return;
	write_ledger(run);
	if (run->backup_mark)
		run->ledger_seen = xcalloc(l->n + 1, sizeof(long long));
	if (ledger_check_seen(l, host, port, 1000, r, run->ledger_seen, &e) < 0) {
		run_fail(run, "workload: %s", e.msg);
		return;
	}
	run->ledger_checked = true;
	ranges = unavailable(run, longest, sizeof(longest));
	for (k = 0; k < LE_COUNT_; k++)
		json_object_set_new(errors, ledger_error_name((enum ledger_error)k),
				    json_integer(l->errors[k]));
	for (k = 0; k < r->nexamples; k++)
		json_array_append_new(ex, json_string(r->examples[k]));
	json_object_set_new(run->report, "workload",
			    json_pack("{s:i, s:i, s:i, s:i, s:I, s:I, s:I, s:I, s:I, s:I, s:o, "
				      "s:I, s:I, s:I, s:I, s:I, s:o, s:o, s:s}", "writers",
				      run->s->writers, "keys", run->s->workload_keys, "rate",
				      run->s->workload_rate, "get_pct", run->s->workload_get_pct,
				      "acknowledged", (json_int_t)l->acked, "failed",
				      (json_int_t)l->failed, "unknown", (json_int_t)l->unknown,
				      "reads", (json_int_t)l->reads, "reads_failed",
				      (json_int_t)l->reads_failed, "stale_reads",
				      (json_int_t)l->stale_reads, "errors", errors, "keys_read",
				      (json_int_t)r->keys, "kept", (json_int_t)r->kept,
				      "writes_lost", (json_int_t)r->lost, "foreign",
				      (json_int_t)r->foreign, "unread", (json_int_t)r->unread,
				      "examples", ex, "unavailable", ranges, "ledger", "ledger.tsv"));
	json_object_set_new(json_object_get(run->report, "workload"), "series",
			    series_json(&run->series));
	run_phase_done(run, "ledger", t0, "%lld writes acknowledged, %lld failed, %lld unknown; "
		       "%lld acknowledged writes lost, %lld stale reads, %lld keys unread%s",
		       l->acked, l->failed, l->unknown, r->lost, l->stale_reads, r->unread, longest);
}
