/*
 * expect.c - grading a run against its scenario's [expect]; every fault
 * must have fired.
 */
#include <stdio.h>

#include "harness/run/run_int.h"

/* Records one expectation; the first that fails is the run's reason. */
static void
expect(struct run *run, const char *name, const char *want, const char *got, bool ok)
{
	if (run->expect_unchecked) {
		/* the run failed before the checks: each is listed, not graded */
		json_array_append_new(run->expects,
				      json_pack("{s:s, s:s, s:s, s:n}", "name", name, "expected",
						want, "actual", "not checked", "passed"));
		return;
	}
	json_array_append_new(run->expects, json_pack("{s:s, s:s, s:s, s:b}", "name", name,
						      "expected", want, "actual", got, "passed", ok));
	timeline_add(&run->tl, "expect %s = %s: %s (%s)", name, want, ok ? "ok" : "FAILED", got);
	if (!ok)
		run_fail(run, "expected %s = %s, got %s", name, want, got);
}

static void
expect_count(struct run *run, const char *name, const struct expect_num *x, long long got)
{
	char want[48], have[32];

	if (!x->set)
		return;
	snprintf(want, sizeof(want), "%s%lld", x->greater ? "> " : "", x->n);
	snprintf(have, sizeof(have), "%lld", got);
	expect(run, name, want, have, expect_num_holds(x, got));
}

void
run_expect(struct run *run)
{
	static const char *const reshard[] = {"stops", "completes"};
	static const char *const state[] = {"fail", "ok"};
	static const char *const yn[] = {"no", "yes"};
	const struct scenario *s = run->s;
	const struct verdict *v = &run->v;
	char what[300];
	size_t i;

	run->expected = true;
	for (i = 0; i < run->ts.n; i++) {
		snprintf(what, sizeof(what), "%s", run->ts.v[i].fired ? run->ts.v[i].effect : "never fired");
		expect(run, run->ts.v[i].spec->name, "fired", what,
		       run->ts.v[i].fired && !run->ts.v[i].failed);
	}
	for (; run->expect_unchecked && i < s->nfaults; i++) /* never armed */
		expect(run, s->faults[i].name, "fired", "", false);
	if (s->expect_reshard >= 0)
		expect(run, "reshard", reshard[s->expect_reshard],
		       reshard[run->reshard_completed], s->expect_reshard == run->reshard_completed);
	if (s->expect_state >= 0)
		expect(run, "cluster_state", state[s->expect_state], state[v->f[F_STATE].count == 0],
		       s->expect_state == (v->f[F_STATE].count == 0));
	if (s->expect_healthy >= 0)
		expect(run, "healthy", yn[s->expect_healthy], yn[verdict_is_healthy(v)],
		       s->expect_healthy == verdict_is_healthy(v));
	expect_count(run, "open_slots", &s->open_slots, v->f[F_OPEN_SLOTS].count);
	expect_count(run, "failed_nodes", &s->failed_nodes, v->f[F_FAILED_NODES].count);
	expect_count(run, "lost_keys", &s->lost_keys, v->f[F_LOST].count);
	expect_count(run, "unreachable_keys", &s->unreachable_keys, v->f[F_UNREACHABLE_KEYS].count);
	expect_count(run, "misplaced_keys", &s->misplaced_keys, v->f[F_MISPLACED].count);
	/* the reshard's MIGRATEs whose outcome nobody knew */
	expect_count(run, "unknown_keys", &s->unknown_keys, run->progress.keys_unknown);
	/* what the cluster's own failover did before the repair */
	expect_count(run, "promoted", &s->promoted, run->promoted);
	/* other values, and keys a promoted replica lacks, left to a person */
	expect_count(run, "decisions", &s->decisions, run->decisions);
	/* live traffic: no acknowledged write lost, unless the scenario says */
	if (s->writers > 0) {
		struct expect_num none = {.set = true, .n = 0};

		expect_count(run, "writes_lost", s->writes_lost.set ? &s->writes_lost : &none,
			     run->ledger_checked ? run->ledger_result.lost : -1);
	}
}
