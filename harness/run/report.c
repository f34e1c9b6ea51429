/*
 * report.c - a run's report.json, report.html (harness/report/) and
 * junit.xml: scenario, seed, server version, each fault and what it did,
 * expectations, phases, timeline.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cluster/server.h"
#include "common/fs.h"
#include "common/proc.h"
#include "common/utf8.h"
#include "common/xmalloc.h"
#include "harness/report/report.h"
#include "harness/run/run_int.h"

json_t *
run_event_json(const struct reshard_event *ev)
{
	return json_pack("{s:i, s:i, s:s, s:I, s:I, s:I}", "slot", ev->slot, "slot_index",
			 ev->slot_index, "step", reshard_step_name(ev->step), "slot_moved",
			 (json_int_t)ev->slot_moved, "slot_keys", (json_int_t)ev->slot_keys,
			 "total_moved", (json_int_t)ev->total_moved);
}

/* A fault's named values: numbers as numbers. */
static json_t *
evidence_json(const struct evidence *ev)
{
	json_t *o = json_object();
	size_t i;

	for (i = 0; i < ev->n; i++)
		json_object_set_new(o, ev->v[i].key,
				    ev->v[i].number ? json_integer(strtoll(ev->v[i].value, NULL, 10))
						    : json_string(ev->v[i].value));
	return o;
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
			json_object_set_new(j, "at", run_event_json(&f->at));
			json_object_set_new(j, "ms", json_integer((json_int_t)f->fired_ms));
		}
		if (f->evidence.n > 0)
			json_object_set_new(j, "evidence", evidence_json(&f->evidence));
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

void
run_write_results(struct run *run)
{
	static const char *const status[] = {"passed", "failed", "skipped"};
	char path[PATH_MAX + 32];
	const struct scenario *s = run->s;
	char *version = redis_version(run), label[64];
	struct err e = ERR_INIT;

	json_object_set_new(run->report, "scenario",
			    json_pack("{s:s, s:s, s:s}", "name", s->name, "description",
				      s->description ? s->description : "", "file", s->path));
	json_object_set_new(run->report, "seed", json_integer((json_int_t)run->d.seed));
	json_object_set_new(run->report, "redis", json_string(version));
	/* which server played it: what replay plays again */
	json_object_set_new(run->report, "server",
			    json_string(server_label(run->o->redis_server, label, sizeof(label))));
	json_object_set_new(run->report, "server_binary",
			    json_string(run->o->redis_server ? run->o->redis_server : "redis-server"));
	json_object_set_new(run->report, "faults", faults_json(run));
	json_object_set_new(run->report, "expectations", run->expects);
	json_object_set_new(run->report, "phases_ms", run->phases);
	json_object_set_new(run->report, "phases", run->spans);
	json_object_set_new(run->report, "result", json_string(status[run->r->status]));
	json_object_set_new(run->report, "reason", json_string(run->r->reason));
	json_object_set_new(run->report, "seconds", json_real(run->r->seconds));
	json_object_set_new(run->report, "timeline", json_incref(run->tl.events));
	snprintf(path, sizeof(path), "%s/report.json", run->r->dir);
	if (json_dump_file(run->report, path, JSON_INDENT(2) | JSON_PRESERVE_ORDER) < 0)
		fprintf(stderr, "shardquake: cannot write '%s'\n", path);
	/* the page from the same object, not from a second reading */
	snprintf(path, sizeof(path), "%s/report.html", run->r->dir);
	if (report_html_write(run->report, path, &e) < 0)
		fprintf(stderr, "shardquake: %s\n", e.msg);
	snprintf(path, sizeof(path), "%s/junit.xml", run->r->dir);
	if (junit_write(path, &s, run->r, 1, &e) < 0)
		fprintf(stderr, "shardquake: %s\n", e.msg);
	free(version);
}
