/*
 * runner.c - one scenario from start to verdict; see runner.h.
 *
 * Phases, each timed and printed as a progress line: cluster up, load,
 * reshard (faults fire inside it, at their steps) or layout (a [layout]'s
 * broken state built: layout.c), settle (the cluster
 * notices what happened: killed nodes flagged fail, paused ones back),
 * verify, expectations.  The report is assembled as the run goes, so a
 * run that stops early still says how far it got.
 */
#include "harness/run/runner.h"

#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cluster/conn.h"
#include "cluster/fetch.h"
#include "cluster/server.h"
#include "common/clock.h"
#include "common/fs.h"
#include "common/proc.h"
#include "common/utf8.h"
#include "common/xmalloc.h"
#include "harness/local/load.h"
#include "harness/run/repair_step.h"
#include "harness/run/run_int.h"
#include "harness/run/trigger.h"
#include "verifier/verify.h"

static int
make_dir(struct run *run)
{
	char stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	struct err e = ERR_INIT;
	const char *top = run->o->results ? run->o->results : "results";
	int k;

	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
	if (fs_mkdir_p(top, &e) < 0)
		goto fail;
	/* a run's directory is its own: the same scenario twice in one
	 * second (a flakiness check) gets -2, -3, ... */
	for (k = 1;; k++) {
		int len = snprintf(run->r->dir, sizeof(run->r->dir), "%s/%s-%s-%d", top,
				   run->s->name, stamp, (int)getpid());

		if (len < 0 || (size_t)len + 16 > sizeof(run->r->dir)) {
			err_set(&e, ENAMETOOLONG, "results directory under '%s': name too long", top);
			goto fail;
		}
		if (k > 1)
			snprintf(run->r->dir + len, sizeof(run->r->dir) - (size_t)len, "-%d", k);
		if (mkdir(run->r->dir, 0755) == 0)
			return 0;
		if (errno != EEXIST) {
			err_set(&e, errno, "mkdir '%s': %s", run->r->dir, strerror(errno));
			goto fail;
		}
	}
fail:
	snprintf(run->r->reason, sizeof(run->r->reason), "%s", e.msg);
	run->r->status = RUN_FAILED;
	return -1;
}

/* The scenario as played, beside its results: what `replay` plays again,
 * whatever becomes of the file. */
static void
copy_scenario(struct run *run)
{
	char path[PATH_MAX + 16], *text;
	struct err e = ERR_INIT;
	size_t len;

	snprintf(path, sizeof(path), "%s/scenario.ini", run->r->dir);
	if ((text = fs_read_file(run->s->path, &len, &e)) == NULL ||
	    fs_write_file(path, text, len, &e) < 0)
		fprintf(stderr, "shardquake: %s\n", e.msg);
	free(text);
}

static int
phase_cluster(struct run *run)
{
	struct local_cluster_opts o = LOCAL_CLUSTER_OPTS_INIT;
	char dir[PATH_MAX + 16], shape[64];
	struct err e = ERR_INIT;
	uint64_t t0 = timeline_ms(&run->tl);
	short *owner = NULL;
	int replicas_of[LAYOUT_MASTERS_MAX], m, all = 0;

	snprintf(dir, sizeof(dir), "%s/nodes", run->r->dir);
	o.masters = run->s->masters;
	o.replicas = run->s->replicas;
	o.persistence = run->s->persistence;
	o.node_timeout_ms = run->s->node_timeout_ms;
	o.redis_server = run->o->redis_server;
	o.extra_config = run->s->server_config;
	o.dir = dir;
	o.detach = run->o->keep;
	o.network = run->s->network;
	o.before_start = trigger_before_start;
	o.hook_arg = &run->ts;
	snprintf(shape, sizeof(shape), "%d replicas each", o.replicas);
	if (run->s->layout.set) {
		owner = xmalloc(CLUSTER_SLOTS * sizeof(*owner));
		run_layout_owner(run->s, owner);
		for (m = 0; m < o.masters; m++)
			all += replicas_of[m] = scenario_replicas_of(run->s, m);
		o.owner = owner;
		o.replicas_of = replicas_of;
		snprintf(shape, sizeof(shape), "%d replicas, slots as [layout] gives them", all);
	}
	if (local_cluster_start(&run->lc, &o, &e) < 0) {
		free(owner);
		return run_fail(run, "cluster up: %s", e.msg);
	}
	free(owner);
	run->cluster_up = true;
	trigger_retarget(&run->ts);
	run_phase_done(run, "cluster", t0, "%d masters, %s, first node %s:%d",
		   o.masters, shape, run->lc.nodes[0].host, run->lc.nodes[0].port);
	return 0;
}

static int
phase_load(struct run *run)
{
	struct err e = ERR_INIT;
	uint64_t t0 = timeline_ms(&run->tl);

	if (run->d.keys == 0)
		return 0;
	if (dataset_load(&run->d, run->lc.nodes[0].host, run->lc.nodes[0].port, 0, &e) < 0)
		return run_fail(run, "load: %s", e.msg);
	run_phase_done(run, "load", t0, "%lld keys, seed %llu", run->d.keys,
		   (unsigned long long)run->d.seed);
	return 0;
}

/* The scenario's plan on the live cluster; to = new adds the master
 * first (it is then the cluster's last node). */
static int
make_plan(struct run *run, struct reshard_plan *plan, struct err *e)
{
	const struct scenario *s = run->s;
	struct local_cluster *lc = &run->lc;
	const struct local_node *to;

	if (s->to == RESHARD_TO_NEW) {
		if (local_cluster_add_master(lc, true, e) < 0)
			return -1;
		timeline_add(&run->tl, "added an empty master, node %zu on port %d",
			     lc->n - 1, lc->nodes[lc->n - 1].port);
	}
	to = &lc->nodes[s->to == RESHARD_TO_NEW ? (int)lc->n - 1 : s->to];
	snprintf(plan->target, sizeof(plan->target), "%s", to->id);
	if (s->from == RESHARD_FROM_ALL) {
		if (reshard_plan_rebalance(plan, lc->nodes[0].host, lc->nodes[0].port, e) < 0)
			return -1;
		if (plan->nslots != (size_t)s->slots)
			return err_set(e, 0, "the rebalance moves %zu slots, the scenario "
				       "expected %d", plan->nslots, s->slots);
		return 0;
	}
	snprintf(plan->source, sizeof(plan->source), "%s", lc->nodes[s->from].id);
	if (s->slot_list == NULL)
		return reshard_plan_count(plan, lc->nodes[0].host, lc->nodes[0].port, s->slots, e);
	plan->slots = xcalloc((size_t)s->slots, sizeof(int));
	memcpy(plan->slots, s->slot_list, (size_t)s->slots * sizeof(int));
	plan->nslots = (size_t)s->slots;
	return 0;
}

static int
phase_reshard(struct run *run)
{
	struct reshard_plan plan = {0};
	struct reshard_opts ro = {
		.pipeline = run->s->pipeline, .timeout_ms = 2000, .slots_per_round = 1};
	struct reshard_hooks h;
	struct err e = ERR_INIT;
	uint64_t t0 = timeline_ms(&run->tl);
	char added[64] = "", unknown[64] = "";
	json_t *j;

	if (!run->s->has_reshard) {
		run_slot_map(run, "before_fault", "before the fault");
		return 0;
	}
	if (make_plan(run, &plan, &e) < 0) {
		reshard_plan_release(&plan);
		return run_fail(run, "reshard plan: %s", e.msg);
	}
	/* with the master added for to = new in it */
	run_slot_map(run, "before_fault", "before the fault (the reshard about to start)");
	/* a master added for to = new moved the nodes the faults point at */
	trigger_retarget(&run->ts);
	if (run_backup(run) < 0) {
		reshard_plan_release(&plan);
		return -1;
	}
	/* time faults count from the reshard's start, not from the phase's:
	 * adding a new master first takes seconds */
	run->ts.reshard_t0_ms = timeline_ms(&run->tl);
	h = trigger_hooks(&run->ts);
	run->reshard_completed =
		reshard_run(&plan, run->lc.nodes[0].host, run->lc.nodes[0].port, &ro, &h,
			    &run->progress, &e) == 0;
	if (!run->reshard_completed) {
		snprintf(run->reshard_error, sizeof(run->reshard_error), "%s", e.msg);
		utf8_sanitize(run->reshard_error);
	}
	j = json_pack("{s:o, s:o, s:i, s:b, s:i, s:I}", "from",
		      run->s->from == RESHARD_FROM_ALL ? json_string("all")
						       : json_integer(run->s->from),
		      "to", run->s->to == RESHARD_TO_NEW ? json_string("new")
							: json_integer(run->s->to),
		      "slots", run->s->slots, "completed", run->reshard_completed,
		      "slots_done", run->progress.slots_done, "keys_moved",
		      (json_int_t)run->progress.keys_moved);
	if (run->progress.keys_unknown > 0) {
		json_t *ex = json_array();
		long long k;

		for (k = 0; k < run->progress.keys_unknown && k < RESHARD_UNKNOWN_EXAMPLES; k++)
			json_array_append_new(ex, json_string(utf8_sanitize(run->progress.unknown[k])));
		json_object_set_new(j, "keys_unknown", json_integer(run->progress.keys_unknown));
		json_object_set_new(j, "unknown_examples", ex);
	}
	if (run->progress.keys_unknown > 0)
		snprintf(unknown, sizeof(unknown), ", %lld of unknown outcome",
			 run->progress.keys_unknown);
	if (!run->reshard_completed) {
		json_t *at = run_event_json(&run->progress.at);

		/* "step": the last step that slot reached, null if none */
		if (!run->progress.at_reached)
			json_object_set_new(at, "step", json_null());
		json_object_set_new(j, "stopped_at", at);
		json_object_set_new(j, "error", json_string(run->reshard_error));
	}
	json_object_set_new(run->report, "reshard", j);
	reshard_plan_release(&plan);
	if (run->s->to == RESHARD_TO_NEW)
		snprintf(added, sizeof(added), "new master on port %d; ",
			 run->lc.nodes[run->lc.n - 1].port);
	if (run->reshard_completed)
		run_phase_done(run, "reshard", t0, "%s%d slots, %lld keys moved%s", added,
			       run->progress.slots_done, run->progress.keys_moved, unknown);
	else
		run_phase_done(run, "reshard", t0, "%sstopped after %d slots, %lld keys%s: %s",
			       added, run->progress.slots_done, run->progress.keys_moved, unknown,
			       run->reshard_error);
	return 0;
}

static int
phase_repair(struct run *run)
{
	static const char *const engines[] = {"none", "shardquake", "redis-cli", "exec"};
	struct repair_step st = {.s = run->s, .lc = &run->lc, .dir = run->r->dir,
				 .interrupted = run->o->interrupted,
				 .backup_dir = run->backed_up ? run->backup_dir : NULL,
				 .ledger = run->ledger.n ? &run->ledger : NULL, .decisions = -1};
	uint64_t t0 = timeline_ms(&run->tl);
	struct err e = ERR_INIT;
	int rc;

	if (run->s->engine == ENGINE_NONE)
		return 0;
	rc = repair_step_run(&st, &e);
	/* adding a master (even one that then failed to start) may have moved
	 * the nodes array the faults point into */
	trigger_retarget(&run->ts);
	if (st.added_port) {
		timeline_add(&run->tl, "added an empty master on port %d to replace the dead "
			     "one", st.added_port);
	}
	if (rc < 0)
		return run_fail(run, "repair: %s", e.msg);
	run->decisions = st.decisions;
	json_object_set_new(run->report, "repair",
			    json_pack("{s:s, s:b, s:s, s:o}", "engine", engines[run->s->engine],
				      "healthy", st.healthy, "summary", st.summary, "detail",
				      st.report ? st.report : json_null()));
	run_phase_done(run, "repair", t0, "%s", st.summary);
	return 0;
}

static int
phase_verify(struct run *run)
{
	struct verify_opts vo = {.dataset = run->d.keys ? &run->d : NULL, .timeout_ms = 1000,
				 .skip_prefix = run_workload_prefix(run)};
	struct err e = ERR_INIT;
	uint64_t t0 = timeline_ms(&run->tl);
	size_t i;
	int at = -1;

	for (i = 0; i < run->lc.n && at < 0; i++)
		if (proc_is_running(&run->lc.nodes[i].proc) && run_answers(run, (int)i))
			at = (int)i;
	if (at < 0)
		return run_fail(run, "verify: no node is left running");
	if (verify_cluster(run->lc.nodes[at].host, run->lc.nodes[at].port, &vo, &run->v, &e) < 0)
		return run_fail(run, "verify: %s", e.msg);
	run->verified = true;
	json_object_set_new(run->report, "verdict", verdict_to_json(&run->v));
	run_phase_done(run, "verify", t0, "%s, %lld findings",
		   verdict_is_healthy(&run->v) ? "healthy" : "not healthy",
		   verdict_findings(&run->v));
	run_workload_check(run, run->lc.nodes[at].host, run->lc.nodes[at].port);
	run_backup_ledger(run);
	return 0;
}


/* Between phases: a run the user interrupted goes no further. */
static bool
stop(struct run *run)
{
	return run_interrupted(run) && run_fail(run, "interrupted") < 0;
}

/* Aims the faults before any node starts (some act before exec), and
 * asks whether this machine can do them: a scenario whose fault needs
 * what is missing is skipped with the reason, never passed. */
static int
phase_arm(struct run *run)
{
	struct err e = ERR_INIT;

	run->ts.tl = &run->tl;
	run->ts.interrupted = run->o->interrupted;
	if (trigger_arm(&run->ts, run->s, &run->lc, &e) < 0)
		return run_fail(run, "faults: %s", e.msg);
	if (run->s->network == NET_NETNS && run->o->no_netns)
		err_set(&e, 0, "[cluster] network = netns: %s", run->o->no_netns);
	else if (!server_installed(run->o->redis_server))
		err_set(&e, 0, "no %s here%s", run->o->redis_server ? run->o->redis_server
					       : "redis-server on PATH",
			run->s->server && strcmp(run->s->server, "valkey") == 0
				? " (sh ci/deps.sh installs Valkey 8 from bookworm-backports)" : "");
	if (e.msg[0] || trigger_check(&run->ts, &e) < 0) {
		run->r->status = RUN_SKIPPED;
		snprintf(run->r->reason, sizeof(run->r->reason), "%s", e.msg);
		timeline_add(&run->tl, "skipped: %s", e.msg);
		printf("  skipped  %s\n", e.msg);
		return -1;
	}
	return 0;
}

static void
run_phases(struct run *run)
{
	if (stop(run) || phase_arm(run) < 0 || stop(run) || phase_cluster(run) < 0 || stop(run) || phase_load(run) < 0 ||
	    stop(run) || run_workload_start(run) < 0 || stop(run) || phase_reshard(run) < 0 ||
	    stop(run) || run_layout(run) < 0 || stop(run))
		return;
	run_settle(run, "settle");
	trigger_observe(&run->ts);
	run_slot_map(run, "after_fault", "after the fault (settled, before any repair)");
	if (trigger_heal(&run->ts, HEAL_BEFORE_REPAIR) > 0)
		run_settle(run, "heal");
	if (run->o->before_repair)
		run->o->before_repair(run->o->hook_arg, &run->lc);
	if (stop(run) || phase_repair(run) < 0)
		return;
	if (trigger_heal(&run->ts, HEAL_AFTER_REPAIR) > 0)
		run_settle(run, "heal");
	run_slot_map(run, "after_repair", run->s->engine == ENGINE_NONE
						  ? "before the verifier (no repair step)"
						  : "after the repair (before the verifier)");
	run_workload_stop(run, true);
	if (stop(run) || phase_verify(run) < 0 || stop(run))
		return;
	run_expect(run);
}

const char *
runner_server(const struct scenario *s, const struct run_opts *o)
{
	if (o->redis_server)
		return o->redis_server;
	return s->server ? server_binary(s->server) : server_default();
}

/* The options a scenario plays with: o, with runner_server()'s server. */
static const struct run_opts *
with_server(const struct scenario *s, const struct run_opts *o, struct run_opts *own)
{
	*own = *o;
	own->redis_server = runner_server(s, o);
	return own;
}

void
runner_run(const struct scenario *s, const struct run_opts *o, struct run_result *r)
{
	static const char *const status_word[] = {"PASSED", "FAILED", "SKIPPED"};
	struct run_opts own;
	struct run run = {.s = s, .o = with_server(s, o, &own), .r = r, .decisions = -1};
	bool checked;
	char path[PATH_MAX + 32];
	uint64_t t0 = clock_now_ms();

	memset(r, 0, sizeof(*r));
	server_label(run.o->redis_server, r->server, sizeof(r->server));
	run.d = (struct dataset){.keys = s->keys, .seed = o->has_seed ? o->seed : s->seed,
				 .value_size = (size_t)s->value_size,
				 .big_value_size = (size_t)s->big_value_size,
				 .big_first = s->big_first, .big_last = s->big_last};
	if (make_dir(&run) < 0)
		return;
	copy_scenario(&run);
	snprintf(path, sizeof(path), "%s/timeline.log", r->dir);
	timeline_open(&run.tl, path);
	run.report = json_object();
	run.phases = json_object();
	run.expects = json_array();
	run.spans = json_array();
	printf("%s: %s\n", s->name, s->description ? s->description : "");
	timeline_add(&run.tl, "scenario %s, seed %llu, results in %s", s->name,
		     (unsigned long long)run.d.seed, r->dir);
	run_phases(&run);
	run_workload_stop(&run, false); /* a run that stopped early */
	checked = run.expected;
	if (r->status == RUN_SKIPPED)
		checked = true; /* nothing was played: nothing to list */
	trigger_observe(&run.ts);
	if (!checked) {
		run.expect_unchecked = true;
		run_expect(&run);
	}
	/* a signal that came before the checks is why the run stopped; one
	 * that came after them changes nothing */
	if (run_interrupted(&run) && !checked && strstr(r->reason, "interrupted") == NULL) {
		/* what failed after the signal failed because of it */
		char was[sizeof(r->reason)];

		snprintf(was, sizeof(was), "%s", r->reason);
		r->status = RUN_FAILED;
		snprintf(r->reason, sizeof(r->reason), "interrupted%s%s", was[0] ? "; then " : "",
			 was);
	}
	r->seconds = (double)(clock_now_ms() - t0) / 1000.0;
	timeline_add(&run.tl, "result: %s", r->status == RUN_PASSED ? "passed" : r->reason);
	run_write_results(&run);
	if (run.verified)
		verdict_release(&run.v);
	/* undone while the namespaces and nodes they act on are still there */
	trigger_heal_all(&run.ts);
	if (run.cluster_up && o->keep) {
		struct err e = ERR_INIT;

		if (local_cluster_write_pids(&run.lc, &e) < 0)
			fprintf(stderr, "shardquake: %s\n", e.msg);
		/* --keep-files: the nodes' logs are part of the run's results */
		printf("  kept     the cluster runs on: shardquake cluster down --keep-files "
		       "--dir %s/nodes\n", r->dir);
		free(run.lc.nodes);
	} else if (run.cluster_up) {
		local_cluster_stop(&run.lc, true);
	}
	/* after the report, which describes the faults, and once the nodes
	 * are stopped: a cgroup or a supervisor outlives its node's process */
	trigger_disarm(&run.ts);
	json_decref(run.report);
	ledger_release(&run.ledger);
	free(run.ledger_seen);
	free(run.backup_mark);
	backup_release(&run.backup);
	outages_release(&run.outages);
	series_release(&run.series);
	timeline_close(&run.tl);
	printf("  %s %s%s%s\n", status_word[r->status], r->dir,
	       r->status == RUN_PASSED ? "" : ": ", r->status == RUN_PASSED ? "" : r->reason);
}
