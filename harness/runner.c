/*
 * runner.c - one scenario from start to verdict; see runner.h.
 *
 * Phases, each timed and printed as a progress line: cluster up, load,
 * reshard (faults fire inside it, at their steps), settle (the cluster
 * notices what happened: killed nodes flagged fail, paused ones back),
 * verify, expectations.  The report is assembled as the run goes, so a
 * run that stops early still says how far it got.
 */
#include "harness/runner.h"

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
#include "common/clock.h"
#include "common/fs.h"
#include "common/proc.h"
#include "common/utf8.h"
#include "common/xmalloc.h"
#include "harness/load.h"
#include "harness/repair_step.h"
#include "harness/trigger.h"
#include "verifier/verify.h"

struct run {
	const struct scenario *s;
	const struct run_opts *o;
	struct run_result *r;
	struct dataset d;
	struct local_cluster lc;
	bool cluster_up;
	struct timeline tl;
	struct trigger_set ts;
	json_t *report, *phases, *expects;
	struct reshard_progress progress;
	bool reshard_completed;
	char reshard_error[ERR_MSG_MAX];
	struct verdict v;
	bool verified;
	bool expected;         /* phase_expect ran */
	bool expect_unchecked; /* it runs only to list what was not checked */
};

static void
phase_done(struct run *run, const char *name, uint64_t t0, const char *fmt, ...)
{
	uint64_t ms = timeline_ms(&run->tl) - t0;
	char what[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	json_object_set_new(run->phases, name, json_integer((json_int_t)ms));
	timeline_add(&run->tl, "%s: %s (%llu ms)", name, what, (unsigned long long)ms);
	printf("  %-8s %s (%llu ms)\n", name, what, (unsigned long long)ms);
	fflush(stdout);
}

static int
fail_run(struct run *run, const char *fmt, ...)
{
	va_list ap;

	if (run->r->status == RUN_FAILED)
		return -1;
	run->r->status = RUN_FAILED;
	va_start(ap, fmt);
	vsnprintf(run->r->reason, sizeof(run->r->reason), fmt, ap);
	va_end(ap);
	utf8_sanitize(run->r->reason);
	timeline_add(&run->tl, "failed: %s", run->r->reason);
	return -1;
}

static bool
interrupted(const struct run *run)
{
	return run->o->interrupted && *run->o->interrupted;
}

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

static int
phase_cluster(struct run *run)
{
	struct local_cluster_opts o = LOCAL_CLUSTER_OPTS_INIT;
	char dir[PATH_MAX + 16];
	struct err e = ERR_INIT;
	uint64_t t0 = timeline_ms(&run->tl);

	snprintf(dir, sizeof(dir), "%s/nodes", run->r->dir);
	o.masters = run->s->masters;
	o.replicas = run->s->replicas;
	o.persistence = run->s->persistence;
	o.node_timeout_ms = run->s->node_timeout_ms;
	o.redis_server = run->o->redis_server;
	o.dir = dir;
	o.detach = run->o->keep;
	o.before_start = trigger_before_start;
	o.hook_arg = &run->ts;
	if (local_cluster_start(&run->lc, &o, &e) < 0)
		return fail_run(run, "cluster up: %s", e.msg);
	run->cluster_up = true;
	trigger_retarget(&run->ts);
	phase_done(run, "cluster", t0, "%d masters, %d replicas each, first node %s:%d",
		   o.masters, o.replicas, run->lc.nodes[0].host, run->lc.nodes[0].port);
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
		return fail_run(run, "load: %s", e.msg);
	phase_done(run, "load", t0, "%lld keys, seed %llu", run->d.keys,
		   (unsigned long long)run->d.seed);
	return 0;
}

static json_t *
event_json(const struct reshard_event *ev)
{
	return json_pack("{s:i, s:i, s:s, s:I, s:I, s:I}", "slot", ev->slot, "slot_index",
			 ev->slot_index, "step", reshard_step_name(ev->step), "slot_moved",
			 (json_int_t)ev->slot_moved, "slot_keys", (json_int_t)ev->slot_keys,
			 "total_moved", (json_int_t)ev->total_moved);
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
	char added[64] = "";
	json_t *j;

	if (!run->s->has_reshard)
		return 0;
	if (make_plan(run, &plan, &e) < 0) {
		reshard_plan_release(&plan);
		return fail_run(run, "reshard plan: %s", e.msg);
	}
	/* a master added for to = new moved the nodes the faults point at */
	trigger_retarget(&run->ts);
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
	if (!run->reshard_completed) {
		json_t *at = event_json(&run->progress.at);

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
		phase_done(run, "reshard", t0, "%s%d slots, %lld keys moved", added,
			   run->progress.slots_done, run->progress.keys_moved);
	else
		phase_done(run, "reshard", t0, "%sstopped after %d slots, %lld keys: %s", added,
			   run->progress.slots_done, run->progress.keys_moved, run->reshard_error);
	return 0;
}

/* How many running nodes other than `node` flag it with any of `flags`;
 * *asked says how many were asked. */
static int
flagging(struct run *run, int node, unsigned flags, int *asked)
{
	struct topology t = TOPOLOGY_INIT;
	const struct cluster_node *n;
	int count = 0;
	size_t i;

	*asked = 0;
	for (i = 0; i < run->lc.n; i++) {
		if ((int)i == node || !proc_is_running(&run->lc.nodes[i].proc))
			continue;
		(*asked)++;
		if (topology_fetch_addr(run->lc.nodes[i].host, run->lc.nodes[i].port, 500, &t, NULL) == 0 &&
		    (n = topology_find(&t, run->lc.nodes[node].id)) && (n->flags & flags))
			count++;
		topology_release(&t);
	}
	return count;
}

/* True when every running node but `dead` flags `dead` as fail. */
static bool
flagged_everywhere(struct run *run, int dead)
{
	int asked, n = flagging(run, dead, NODE_FAIL, &asked);

	return n == asked;
}

static bool
answers(struct run *run, int node)
{
	struct conn *c = conn_open(run->lc.nodes[node].host, run->lc.nodes[node].port, 300, NULL);
	struct reply *r = c ? conn_cmd(c, NULL, "PING", NULL) : NULL;
	bool ok = r && r->type == REPLY_STATUS;

	reply_free(r);
	conn_free(c);
	return ok;
}

static bool
state_ok(struct run *run, int node)
{
	struct conn *c = conn_open(run->lc.nodes[node].host, run->lc.nodes[node].port, 300, NULL);
	char *info = c ? conn_cmd_str(c, NULL, "CLUSTER", "INFO", NULL) : NULL;
	char state[16] = "";

	if (info)
		info_field(info, "cluster_state", state, sizeof(state));
	free(info);
	conn_free(c);
	return strcmp(state, "ok") == 0;
}

static bool
all_ok(struct run *run)
{
	size_t i;

	for (i = 0; i < run->lc.n; i++)
		if (proc_is_running(&run->lc.nodes[i].proc) && !state_ok(run, (int)i))
			return false;
	return true;
}

/* A node that is running again has settled once it answers, no node
 * flags it failed any more, and then either every running node says
 * cluster_state:ok or 3 s went by (redis gives a restarted master 2 s
 * before it may turn ok; another fault may keep the cluster failed). */
static bool
back(struct run *run, int node, uint64_t *since)
{
	if (!answers(run, node) ||
	    flagging(run, node, NODE_FAIL | NODE_PFAIL, &(int){0}) > 0) {
		*since = 0; /* others still think it failed: redis clears that later */
		return false;
	}
	if (*since == 0)
		*since = clock_now_ms();
	return all_ok(run) || clock_now_ms() - *since >= 3000;
}

/* Waits until the cluster has noticed every fault: a dead node is
 * flagged fail by all others, a paused or restarted one answers again. */
static void
phase_settle(struct run *run)
{
	uint64_t t0 = timeline_ms(&run->tl), start = clock_now_ms();
	uint64_t limit = (uint64_t)run->s->node_timeout_ms * 4 + 10000;
	uint64_t *since = xcalloc(run->ts.n + 1, sizeof(*since)); /* per fault */
	bool settled = false;
	size_t i;

	while (!settled && clock_now_ms() - start < limit && !interrupted(run)) {
		settled = true;
		for (i = 0; i < run->ts.n && settled; i++) {
			int node = run->ts.v[i].node;

			if (!run->ts.v[i].fired)
				continue;
			settled = !proc_is_running(&run->lc.nodes[node].proc)
					  ? flagged_everywhere(run, node)
					  : back(run, node, &since[i]);
		}
		if (!settled)
			clock_sleep_ms(50);
	}
	free(since);
	json_object_set_new(run->report, "settled", json_boolean(settled));
	phase_done(run, "settle", t0, settled ? "the cluster noticed every fault"
					      : "gave up waiting: the state is as it is");
}

static int
phase_repair(struct run *run)
{
	static const char *const engines[] = {"none", "shardquake", "redis-cli"};
	struct repair_step st = {.s = run->s, .lc = &run->lc, .dir = run->r->dir,
				 .interrupted = run->o->interrupted};
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
		return fail_run(run, "repair: %s", e.msg);
	json_object_set_new(run->report, "repair",
			    json_pack("{s:s, s:b, s:s, s:o}", "engine", engines[run->s->engine],
				      "healthy", st.healthy, "summary", st.summary, "detail",
				      st.report ? st.report : json_null()));
	phase_done(run, "repair", t0, "%s", st.summary);
	return 0;
}

static int
phase_verify(struct run *run)
{
	struct verify_opts vo = {.dataset = run->d.keys ? &run->d : NULL, .timeout_ms = 1000};
	struct err e = ERR_INIT;
	uint64_t t0 = timeline_ms(&run->tl);
	size_t i;
	int at = -1;

	for (i = 0; i < run->lc.n && at < 0; i++)
		if (proc_is_running(&run->lc.nodes[i].proc) && answers(run, (int)i))
			at = (int)i;
	if (at < 0)
		return fail_run(run, "verify: no node is left running");
	if (verify_cluster(run->lc.nodes[at].host, run->lc.nodes[at].port, &vo, &run->v, &e) < 0)
		return fail_run(run, "verify: %s", e.msg);
	run->verified = true;
	json_object_set_new(run->report, "verdict", verdict_to_json(&run->v));
	phase_done(run, "verify", t0, "%s, %lld findings",
		   verdict_is_healthy(&run->v) ? "healthy" : "not healthy",
		   verdict_findings(&run->v));
	return 0;
}

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
		fail_run(run, "expected %s = %s, got %s", name, want, got);
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

static void
phase_expect(struct run *run)
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
}

static json_t *
faults_json(const struct run *run)
{
	json_t *a = json_array();
	char role[32];
	size_t i;

	for (i = 0; i < run->ts.n; i++) {
		const struct armed *f = &run->ts.v[i];
		json_t *j = json_pack("{s:s, s:s, s:s, s:i, s:b, s:s}", "name", f->spec->name,
				      "kind", f->spec->ops->name, "target",
				      scenario_role_name(f->spec->role, f->spec->node, role, sizeof(role)),
				      "port", f->target.port, "fired", f->fired, "effect", f->effect);

		if (f->fired) {
			json_object_set_new(j, "at", event_json(&f->at));
			json_object_set_new(j, "ms", json_integer((json_int_t)f->fired_ms));
		}
		json_array_append_new(a, j);
	}
	return a;
}

/* `redis-server --version`, first line; run without a shell, so any
 * path works.  The output goes through a file in the run's directory. */
static char *
redis_version(const struct run *run)
{
	const char *argv[] = {run->o->redis_server ? run->o->redis_server : "redis-server",
			      "--version", NULL};
	char path[PATH_MAX + 32], *text;
	struct proc p = PROC_INIT;

	snprintf(path, sizeof(path), "%s/redis-version.txt", run->r->dir);
	p.argv = argv;
	p.out_path = path;
	if (proc_start(&p, NULL) == 0 && proc_wait(&p, 5000, NULL) < 0)
		proc_kill(&p);
	text = fs_read_file(path, NULL, NULL);
	unlink(path);
	if (text == NULL)
		return xstrdup("");
	text[strcspn(text, "\n")] = '\0';
	return utf8_sanitize(text);
}

static void
write_results(struct run *run)
{
	static const char *const status[] = {"passed", "failed", "skipped"};
	char path[PATH_MAX + 32];
	const struct scenario *s = run->s;
	char *version = redis_version(run);
	struct err e = ERR_INIT;

	json_object_set_new(run->report, "scenario",
			    json_pack("{s:s, s:s, s:s}", "name", s->name, "description",
				      s->description ? s->description : "", "file", s->path));
	json_object_set_new(run->report, "seed", json_integer((json_int_t)run->d.seed));
	json_object_set_new(run->report, "redis", json_string(version));
	json_object_set_new(run->report, "faults", faults_json(run));
	json_object_set_new(run->report, "expectations", run->expects);
	json_object_set_new(run->report, "phases_ms", run->phases);
	json_object_set_new(run->report, "result", json_string(status[run->r->status]));
	json_object_set_new(run->report, "reason", json_string(run->r->reason));
	json_object_set_new(run->report, "timeline", json_incref(run->tl.events));
	snprintf(path, sizeof(path), "%s/report.json", run->r->dir);
	if (json_dump_file(run->report, path, JSON_INDENT(2) | JSON_PRESERVE_ORDER) < 0)
		fprintf(stderr, "shardquake: cannot write '%s'\n", path);
	snprintf(path, sizeof(path), "%s/junit.xml", run->r->dir);
	if (junit_write(path, &s, run->r, 1, &e) < 0)
		fprintf(stderr, "shardquake: %s\n", e.msg);
	free(version);
}

/* Between phases: a run the user interrupted goes no further. */
static bool
stop(struct run *run)
{
	return interrupted(run) && fail_run(run, "interrupted") < 0;
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
		return fail_run(run, "faults: %s", e.msg);
	if (trigger_check(&run->ts, &e) < 0) {
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
	    stop(run) || phase_reshard(run) < 0 || stop(run))
		return;
	phase_settle(run);
	trigger_observe(&run->ts);
	trigger_heal(&run->ts, HEAL_BEFORE_REPAIR);
	if (stop(run) || phase_repair(run) < 0)
		return;
	trigger_heal(&run->ts, HEAL_AFTER_REPAIR);
	if (stop(run) || phase_verify(run) < 0 || stop(run))
		return;
	phase_expect(run);
}

void
runner_run(const struct scenario *s, const struct run_opts *o, struct run_result *r)
{
	static const char *const status_word[] = {"PASSED", "FAILED", "SKIPPED"};
	struct run run = {.s = s, .o = o, .r = r};
	bool checked;
	char path[PATH_MAX + 32];
	uint64_t t0 = clock_now_ms();

	memset(r, 0, sizeof(*r));
	run.d = (struct dataset){.keys = s->keys, .seed = o->has_seed ? o->seed : s->seed,
				 .value_size = (size_t)s->value_size,
				 .big_value_size = (size_t)s->big_value_size,
				 .big_first = s->big_first, .big_last = s->big_last};
	if (make_dir(&run) < 0)
		return;
	snprintf(path, sizeof(path), "%s/timeline.log", r->dir);
	timeline_open(&run.tl, path);
	run.report = json_object();
	run.phases = json_object();
	run.expects = json_array();
	printf("%s: %s\n", s->name, s->description ? s->description : "");
	timeline_add(&run.tl, "scenario %s, seed %llu, results in %s", s->name,
		     (unsigned long long)run.d.seed, r->dir);
	run_phases(&run);
	checked = run.expected;
	if (r->status == RUN_SKIPPED)
		checked = true; /* nothing was played: nothing to list */
	trigger_observe(&run.ts);
	if (!checked) {
		run.expect_unchecked = true;
		phase_expect(&run);
	}
	/* a signal that came before the checks is why the run stopped; one
	 * that came after them changes nothing */
	if (interrupted(&run) && !checked && strstr(r->reason, "interrupted") == NULL) {
		/* what failed after the signal failed because of it */
		char was[sizeof(r->reason)];

		snprintf(was, sizeof(was), "%s", r->reason);
		r->status = RUN_FAILED;
		snprintf(r->reason, sizeof(r->reason), "interrupted%s%s", was[0] ? "; then " : "",
			 was);
	}
	r->seconds = (double)(clock_now_ms() - t0) / 1000.0;
	timeline_add(&run.tl, "result: %s", r->status == RUN_PASSED ? "passed" : r->reason);
	write_results(&run);
	if (run.verified)
		verdict_release(&run.v);
	if (run.cluster_up && o->keep) {
		struct err e = ERR_INIT;

		if (local_cluster_write_pids(&run.lc, &e) < 0)
			fprintf(stderr, "shardquake: %s\n", e.msg);
		printf("  kept     the cluster runs on: shardquake cluster down --dir %s/nodes\n", r->dir);
		free(run.lc.nodes);
	} else if (run.cluster_up) {
		local_cluster_stop(&run.lc, true);
	}
	/* after the report, which describes the faults, and once the nodes
	 * are stopped: a cgroup or a supervisor outlives its node's process */
	trigger_disarm(&run.ts);
	json_decref(run.report);
	timeline_close(&run.tl);
	printf("  %s %s%s%s\n", status_word[r->status], r->dir,
	       r->status == RUN_PASSED ? "" : ": ", r->status == RUN_PASSED ? "" : r->reason);
}
