/*
 * scenario_check.c - the checks that span several keys of a scenario,
 * run once the whole file is read; see scenario_keys.h.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/reshard/reshard.h"
#include "harness/scenario/scenario_keys.h"

static int
check_role(const struct scenario *s, const struct fault_spec *f, char *msg,
	   size_t n, int *line)
{
	int nodes = s->masters * (1 + s->replicas);

	if (f->role == ROLE_TARGET_REPLICA && s->to == RESHARD_TO_NEW)
		return scenario_bad_at(line, f->line, msg, n, "[%s] targets the target's replica, but the new "
			   "master (to = new) has none", f->name);
	if (f->role == ROLE_BYSTANDER && s->from == RESHARD_FROM_ALL)
		return scenario_bad_at(line, f->line, msg, n, "[%s] targets a bystander, but with from = all "
			   "every master gives slots", f->name);
	if ((f->role == ROLE_SOURCE_REPLICA || f->role == ROLE_TARGET_REPLICA) &&
	    s->replicas == 0)
		return scenario_bad_at(line, f->line, msg, n, "[%s] targets a replica, but [cluster] has replicas = 0",
			   f->name);
	if (s->to == RESHARD_TO_NEW)
		nodes++;
	if (f->role == ROLE_BYSTANDER && s->masters < (s->to == RESHARD_TO_NEW ? 2 : 3))
		return scenario_bad_at(line, f->line, msg, n, "[%s] targets a bystander, but only %d masters: "
			   "a bystander is a master that is neither source nor target", f->name, s->masters);
	if (f->role == ROLE_NODE && f->node >= nodes)
		return scenario_bad_at(line, f->line, msg, n, "[%s] targets node:%d, but the cluster has nodes 0 to %d",
			   f->name, f->node, nodes - 1);
	return 0;
}

/* The kind's parameters that name nodes ("peer = source", "with =
 * source,node:3"): each a role that some node of this cluster plays. */
static int
check_role_params(const struct scenario *s, const struct fault_spec *f, char *msg, size_t n,
		  int *line)
{
	const char *const *k;
	char one[64], m[256];
	size_t i;

	for (k = f->ops->role_params; k && *k; k++) {
		for (i = 0; i < f->nparams; i++) {
			const char *v = f->params[i].value;
			struct fault_spec as = *f;

			if (strcmp(f->params[i].key, *k) != 0)
				continue;
			while (*v) {
				size_t len = strcspn(v, ",");

				snprintf(one, sizeof(one), "%.*s", (int)len, v);
				if (scenario_role_parse(*k, one, &as.role, &as.node, m, sizeof(m)) < 0)
					return scenario_bad_at(line, f->params[i].line, msg, n, "%s", m);
				as.line = f->params[i].line;
				if (check_role(s, &as, msg, n, line) < 0)
					return -1;
				v += len + (v[len] == ',');
			}
		}
	}
	return 0;
}

/* "kind, target, ..., heal, signal or grace_ms": every key a [fault] of
 * this kind takes (heal only where the kind can be undone). */
static void
fault_keys(const struct injector_ops *ops, char *out, size_t n)
{
	const char *all[24] = {"kind", "target", "at", "slot", "point", "after"};
	size_t i, k = 6, len;

	if (ops->revert)
		all[k++] = "heal";
	for (i = 0; ops->params && ops->params[i] && k < sizeof(all) / sizeof(all[0]); i++)
		all[k++] = ops->params[i];
	out[0] = '\0';
	for (i = 0; i < k; i++) {
		len = strlen(out);
		snprintf(out + len, n - len, "%s%s", i == 0 ? "" : i + 1 < k ? ", " : " or ",
			 all[i]);
	}
}

/* Runs the kind's own parser on its parameters; its messages about one
 * parameter start with "line N: ".  A key the kind does not take gets
 * the list of those it does, as the other sections' unknown keys do. */
static int
check_params(const struct fault_spec *f, char *msg, size_t n, int *line)
{
	struct params p = {f->params, f->nparams};
	struct err e = ERR_INIT;
	struct fault *x = fault_new(f->ops, &p, &e);
	int at = f->line, used = 0;
	char keys[256] = "";

	if (x) {
		fault_free(x);
		return 0;
	}
	if (strstr(e.msg, "is not a parameter of fault kind") != NULL) {
		fault_keys(f->ops, keys, sizeof(keys));
		snprintf(e.msg + strlen(e.msg), sizeof(e.msg) - strlen(e.msg), ": expected %s",
			 keys);
	}
	if (sscanf(e.msg, "line %d: %n", &at, &used) == 1 && used > 0)
		return scenario_bad_at(line, at, msg, n, "%s", e.msg + used);
	return scenario_bad_at(line, f->line, msg, n, "[%s] %s", f->name, e.msg);
}

static int
check_fault(const struct scenario *s, const struct fault_spec *f, char *msg,
	    size_t n, int *line)
{
	if (f->ops == NULL)
		return scenario_bad_at(line, f->line, msg, n, "[%s] has no kind", f->name);
	if (f->step < 0)
		return scenario_bad_at(line, f->line, msg, n, "[%s] has no 'at': when should it fire?", f->name);
	if (!s->has_reshard)
		return scenario_bad_at(line, f->line, msg, n, "[%s] fires during a reshard, but there is no [reshard]",
			   f->name);
	if (f->point >= 0 && f->step != STEP_KEYS)
		return scenario_bad_at(line, f->line, msg, n, "[%s] has 'point', which goes with at = keys only",
			   f->name);
	if (f->after_ms >= 0 && f->step != STEP_TIME)
		return scenario_bad_at(line, f->line, msg, n, "[%s] has 'after', which goes with at = time only",
			   f->name);
	if (f->step == STEP_TIME && f->after_ms < 0)
		return scenario_bad_at(line, f->line, msg, n, "[%s] has at = time but no 'after'", f->name);
	if (f->step != STEP_TIME && f->slot_index > s->slots)
		return scenario_bad_at(line, f->line, msg, n, "[%s] fires at slot %d, but the reshard moves %d slot%s",
			   f->name, f->slot_index, s->slots, s->slots == 1 ? "" : "s");
	if (f->heal_line > 0 && f->ops->revert == NULL)
		return scenario_bad_at(line, f->heal_line, msg, n, "[%s] has 'heal', but a %s fault cannot be "
			   "undone", f->name, f->ops->name);
	if (f->heal == HEAL_AFTER_REPAIR && s->engine == ENGINE_NONE)
		return scenario_bad_at(line, f->heal_line, msg, n, "[%s] heal = after-repair, but [repair] "
			   "engine is none", f->name);
	if (check_role(s, f, msg, n, line) < 0)
		return -1;
	if ((f->ops->flags & INJ_NEEDS_NETNS) && s->network != NET_NETNS)
		return scenario_bad_at(line, f->line, msg, n, "[%s] kind = %s cuts or slows links between "
			   "nodes: it needs [cluster] network = netns", f->name, f->ops->name);
	if (check_role_params(s, f, msg, n, line) < 0)
		return -1;
	return check_params(f, msg, n, line);
}

/* The line of a [reshard] key, or when that key was left to its default,
 * of one that was given (line 1 only if none was). */
static int
reshard_at(const struct scenario *s, int line)
{
	if (line > 0)
		return line;
	if (s->from_line > 0)
		return s->from_line;
	if (s->to_line > 0)
		return s->to_line;
	return s->slots_line > 0 ? s->slots_line : 1;
}

/* A local cluster gives master i the slots i*16384/m to (i+1)*16384/m-1. */
static int
check_slot_list(struct scenario *s, char *msg, size_t n, int *line)
{
	long first = (long)s->from * 16384 / s->masters;
	long last = ((long)s->from + 1) * 16384 / s->masters - 1;
	int i;

	for (i = 0; i < s->slots; i++)
		if (s->slot_list[i] < first || s->slot_list[i] > last)
			return scenario_bad_at(line, reshard_at(s, s->slots_line), msg, n,
				   "[reshard] slot_list has slot %d, but master %d owns %ld-%ld",
				   s->slot_list[i], s->from, first, last);
	return 0;
}

/* from = all, to = new: every master gives the new one its even share,
 * as the driver's rebalance plan will compute on the live cluster. */
static int
rebalance_slots(const struct scenario *s)
{
	int owned[101], give[101], i, total = 0;

	for (i = 0; i < s->masters; i++)
		owned[i] = (int)(((long)i + 1) * 16384 / s->masters - (long)i * 16384 / s->masters);
	owned[s->masters] = 0;
	reshard_rebalance_shares(owned, (size_t)s->masters + 1, (size_t)s->masters, give);
	for (i = 0; i < s->masters; i++)
		total += give[i];
	return total;
}

static int
check_reshard(struct scenario *s, char *msg, size_t n, int *line)
{
	if (s->from == RESHARD_FROM_ALL) {
		if (s->to != RESHARD_TO_NEW)
			return scenario_bad_at(line, reshard_at(s, s->to_line), msg, n,
				   "[reshard] from = all goes with to = new "
				   "(a rebalance to a new master)");
		if (s->slots)
			return scenario_bad_at(line, reshard_at(s, s->slots_line), msg, n, "[reshard] from = all plans its own slots: "
				   "no slots or slot_list");
		s->slots = rebalance_slots(s);
		return 0;
	}
	if (s->from == s->to)
		return scenario_bad_at(line, reshard_at(s, s->to_line), msg, n, "[reshard] from and to are both master %d",
			   s->from);
	if (s->from >= s->masters || s->to >= s->masters)
		return scenario_bad_at(line, reshard_at(s, s->from >= s->masters ? s->from_line : s->to_line), msg, n,
			   "[reshard] names master %d, but there are masters 0 to %d",
			   s->from >= s->masters ? s->from : s->to, s->masters - 1);
	if (s->slots == 0)
		return scenario_bad_at(line, reshard_at(s, 0), msg, n,
			   "[reshard] needs slots = N or slot_list = LIST");
	if (s->slot_list)
		return check_slot_list(s, msg, n, line);
	if (s->slots > 16384 / s->masters)
		return scenario_bad_at(line, reshard_at(s, s->slots_line), msg, n, "[reshard] slots = %d, but master %d owns only %d",
			   s->slots, s->from, 16384 / s->masters);
	return 0;
}

int
scenario_check(struct scenario *s, char *msg, size_t n, int *line)
{
	size_t i;

	if (s->name == NULL)
		return scenario_bad_at(line, 1, msg, n, "[scenario] needs a name");
	if (s->has_reshard && check_reshard(s, msg, n, line) < 0)
		return -1;
	if ((s->big_line > 0) != (s->big_slots_line > 0))
		return scenario_bad_at(line, s->big_line > 0 ? s->big_line : s->big_slots_line, msg, n,
			   "[data] big_value_size and big_slots go together: the keys of which "
			   "slots are big, and how big");
	if (s->big_line > 0 && s->keys == 0)
		return scenario_bad_at(line, s->big_line, msg, n, "[data] big_value_size, but keys = 0");
	if ((s->engine == ENGINE_EXEC) != (s->repair_command != NULL))
		return scenario_bad_at(line, s->engine == ENGINE_EXEC ? s->engine_line : s->command_line, msg, n,
			   "[repair] engine = exec and command go together: the runbook to run");
	if (s->writes_lost.set && s->writers == 0)
		return scenario_bad_at(line, s->writes_lost.line, msg, n,
			   "[expect] writes_lost, but no [workload] writes: writers = 0");
	if (s->decisions.set && s->engine != ENGINE_SHARDQUAKE)
		return scenario_bad_at(line, s->decisions.line, msg, n,
			   "[expect] decisions, but the repair is not the bundled engine: "
			   "[repair] engine = shardquake");
	if (s->promoted.set && s->replicas == 0)
		return scenario_bad_at(line, s->promoted.line, msg, n,
			   "[expect] promoted, but no replicas: [cluster] replicas = 0");
	if (s->writers > s->workload_keys)
		return scenario_bad_at(line, s->workload_line, msg, n,
			   "[workload] writers = %d on keys = %d: each writer needs a key of its own",
			   s->writers, s->workload_keys);
	if (s->expect_reshard >= 0 && !s->has_reshard)
		return scenario_bad_at(line, s->expect_reshard_line, msg, n,
			   "[expect] reshard = %s, but there is no [reshard] to expect it of",
			   s->expect_reshard ? "completes" : "stops");
	if (s->repair_replace && (s->engine != ENGINE_SHARDQUAKE || s->repair_restart ||
				  !(s->repair_salvage || s->repair_allow_loss)))
		return scenario_bad_at(line, s->replace_line, msg, n,
			   "[repair] replace = yes needs engine = shardquake, "
			   "restart = no, and salvage = yes or allow_data_loss = yes: the new "
			   "master takes the dead one's slots and its keys come from its files, or "
			   "are lost");
	if (s->repair_from_backup && (!s->reshard_backup || s->engine != ENGINE_SHARDQUAKE))
		return scenario_bad_at(line, s->from_backup_line, msg, n,
			   "[repair] from_backup = yes needs [reshard] backup = yes and engine = "
			   "shardquake: the backup the run took before its reshard, read by the "
			   "bundled engine");
	if (scenario_layout_check(s, msg, n, line) < 0)
		return -1;
	for (i = 0; i < s->nfaults; i++)
		if (check_fault(s, &s->faults[i], msg, n, line) < 0)
			return -1;
	return 0;
}
