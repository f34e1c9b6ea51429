/*
 * Unit tests of the scenario loader: a good file, and every error path
 * with its exact "FILE:LINE: message".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness/reshard/reshard.h"
#include "harness/scenario/scenario.h"
#include "tests/support/runner.h"

static const char good[] =
	"; a comment\n"
	"[scenario]\n"
	"name = kill-target-mid-slot\n"
	"description = the target dies with half a slot moved\n"
	"seed = 42\n"
	"quick = yes\n"
	"\n"
	"[cluster]\n"
	"masters = 3\n"
	"replicas = 1\n"
	"persistence = aof\n"
	"node_timeout = 1s\n"
	"[data]\n"
	"keys = 20000\n"
	"[workload]\n"
	"writers = 4\n"
	"rate = 500\n"
	"mix = set:70,get:30\n"
	"[reshard]\n"
	"from = 0\n"
	"to = 1\n"
	"slots = 5\n"
	"[fault]\n"
	"kind = kill\n"
	"target = target\n"
	"at = keys\n"
	"slot = 3\n"
	"point = 50%\n"
	"[fault evict]\n"
	"kind = kill\n"
	"target = source-replica\n"
	"at = time\n"
	"after = 200ms\n"
	"signal = TERM\n"
	"grace_ms = 2s\n"
	"[expect]\n"
	"reshard = stops\n"
	"open_slots = > 0\n"
	"lost_keys = 0\n"
	"promoted = 1\n";

static char path[64];

static struct scenario *
load(const char *text, struct err *e)
{
	struct scenario *s;
	FILE *f;
	int fd;

	snprintf(path, sizeof(path), "/tmp/sq-scenario-XXXXXX");
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	f = fdopen(fd, "w");
	fputs(text, f);
	fclose(f);
	s = scenario_load(path, e);
	unlink(path); /* every test's file gone, whichever way it ends */
	return s;
}

START_TEST(test_scenario_backup_and_failover_keys)
{
	struct err e = ERR_INIT;
	struct scenario *s = load("[scenario]\nname = x\n[reshard]\nto = 1\nslots = 5\n"
				  "backup = yes\n[repair]\nengine = shardquake\n"
				  "allow_data_loss = yes\nfrom_backup = yes\nfailover = yes\n", &e);

	ck_assert_msg(s != NULL, "%s", e.msg);
	ck_assert(s->reshard_backup);
	ck_assert(s->repair_from_backup);
	ck_assert(s->repair_failover);
	scenario_free(s);
	unlink(path);
	/* a failover is the user's call: not allowed unless said */
	s = load("[scenario]\nname = x\n[reshard]\nto = 1\nslots = 5\n", &e);
	ck_assert(!s->reshard_backup && !s->repair_from_backup && !s->repair_failover);
	scenario_free(s);
	unlink(path);
}
END_TEST

START_TEST(test_scenario_loads_every_section)
{
	struct err e = ERR_INIT;
	struct scenario *s = load(good, &e);

	ck_assert_msg(s != NULL, "%s", e.msg);
	ck_assert_str_eq(s->name, "kill-target-mid-slot");
	ck_assert_int_eq(s->seed, 42);
	ck_assert(s->quick);
	ck_assert_int_eq(s->replicas, 1);
	ck_assert_int_eq(s->node_timeout_ms, 1000);
	ck_assert_ptr_null(s->server); /* run --server decides */
	ck_assert_int_eq(s->keys, 20000);
	ck_assert_int_eq(s->writers, 4);
	ck_assert_int_eq(s->workload_keys, 1000);
	ck_assert_int_eq(s->workload_rate, 500);
	ck_assert_int_eq(s->workload_get_pct, 30);
	ck_assert_int_eq(s->slots, 5);
	ck_assert_uint_eq(s->nfaults, 2);
	ck_assert_str_eq(s->faults[0].ops->name, "kill");
	ck_assert_int_eq(s->faults[0].role, ROLE_TARGET);
	ck_assert_int_eq(s->faults[0].step, STEP_KEYS);
	ck_assert_int_eq(s->faults[0].slot_index, 3);
	ck_assert(s->faults[0].point_pct);
	ck_assert_int_eq(s->faults[0].point, 50);
	ck_assert_int_eq(s->faults[0].line, 23);
	ck_assert_str_eq(s->faults[1].name, "fault evict");
	ck_assert_int_eq(s->faults[1].step, STEP_TIME);
	ck_assert_int_eq(s->faults[1].after_ms, 200);
	ck_assert_uint_eq(s->faults[1].nparams, 2);
	ck_assert_int_eq(s->expect_reshard, 0);
	ck_assert(s->open_slots.greater && s->open_slots.n == 0);
	ck_assert(expect_num_holds(&s->open_slots, 1));
	ck_assert(!expect_num_holds(&s->open_slots, 0));
	ck_assert(expect_num_holds(&s->lost_keys, 0));
	ck_assert(expect_num_holds(&s->unreachable_keys, 12345)); /* unset */
	ck_assert(s->promoted.set && !s->promoted.greater && s->promoted.n == 1);
	ck_assert(!s->decisions.set);
	scenario_free(s);
	unlink(path);
	s = load("[scenario]\nname = x\n[repair]\nengine = shardquake\n[expect]\n"
		 "decisions = 0\n", &e);
	ck_assert_msg(s != NULL, "%s", e.msg);
	ck_assert(s->decisions.set && s->decisions.n == 0);
	scenario_free(s);
	unlink(path);
}
END_TEST

static const struct {
	const char *text;
	const char *msg; /* after "PATH:" */
} bad_rows[] = {
	{"[scenario]\nname = x\n[clustr]\nmasters = 3\n",
	 "3: unknown section [clustr]: expected [scenario], [cluster], [data], [workload], "
	 "[reshard], [layout], [fault], [fault NAME], [repair] or [expect]"},
	{"[scenario]\nname = x\n[empty-but-unknown]\n",
	 "3: unknown section [empty-but-unknown]: expected [scenario], [cluster], [data], "
	 "[workload], [reshard], [layout], [fault], [fault NAME], [repair] or [expect]"},
	{"[scenario]\nname = x\n[workload]\nwriters = 65\n",
	 "4: writers = '65': expected a whole number from 0 to 64"},
	{"[scenario]\nname = x\n[workload]\nwriters = 2\nmix = set:80\n",
	 "5: mix = 'set:80': expected set:N,get:M with N + M = 100"},
	{"[scenario]\nname = x\n[workload]\nwriters = 2\nmix = set:80,del:20\n",
	 "5: mix = 'set:80,del:20': expected set:N,get:M with N + M = 100"},
	{"[scenario]\nname = x\n[workload]\nwriters = 2\nratio = 5\n",
	 "5: unknown key 'ratio' in [workload]: expected writers, keys, rate or mix"},
	{"[scenario]\nname = x\n[workload]\nwriters = 8\nkeys = 4\n",
	 "4: [workload] writers = 8 on keys = 4: each writer needs a key of its own"},
	{"[scenario]\nname = x\n[repair]\nengine = exec\n",
	 "4: [repair] engine = exec and command go together: the runbook to run"},
	{"[scenario]\nname = x\n[reshard]\nto = 1\nslots = 5\nbackup = maybe\n",
	 "6: backup = 'maybe': expected yes or no"},
	{"[scenario]\nname = x\n[reshard]\nto = 1\nslots = 5\nbackups = yes\n",
	 "6: unknown key 'backups' in [reshard]: expected from, to, slots, slot_list, pipeline "
	 "or backup"},
	{"[scenario]\nname = x\n[reshard]\nto = 1\nslots = 5\n[repair]\nengine = shardquake\n"
	 "from_backup = yes\n",
	 "8: [repair] from_backup = yes needs [reshard] backup = yes and engine = shardquake: "
	 "the backup the run took before its reshard, read by the bundled engine"},
	{"[scenario]\nname = x\n[reshard]\nto = 1\nslots = 5\nbackup = yes\n[repair]\n"
	 "engine = redis-cli\nfrom_backup = yes\n",
	 "9: [repair] from_backup = yes needs [reshard] backup = yes and engine = shardquake: "
	 "the backup the run took before its reshard, read by the bundled engine"},
	{"[scenario]\nname = x\n[repair]\nengine = shardquake\nfailover = maybe\n",
	 "5: failover = 'maybe': expected yes or no"},
	{"[scenario]\nname = x\n[repair]\nengine = shardquake\npromote = yes\n",
	 "5: unknown key 'promote' in [repair]: expected engine, restart, salvage, "
	 "allow_data_loss, replace, from_backup, failover, command or timeout"},
	{"[scenario]\nname = x\n[repair]\nengine = shardquake\ncommand = ./fix.sh\n",
	 "5: [repair] engine = exec and command go together: the runbook to run"},
	{"[scenario]\nname = x\n[repair]\nengine = exec\ncommand = ./fix.sh\ntimeout = soon\n",
	 "6: timeout = 'soon': expected a duration such as 500, 500ms or 2s, at most 1 hour"},
	{"[scenario]\nname = x\n[expect]\nwrites_lost = 0\n",
	 "4: [expect] writes_lost, but no [workload] writes: writers = 0"},
	{"[scenario]\nname = x\n[expect]\npromoted = 1\n",
	 "4: [expect] promoted, but no replicas: [cluster] replicas = 0"},
	{"[scenario]\nname = x\n[expect]\npromotions = 1\n",
	 "4: unknown key 'promotions' in [expect]: expected reshard, cluster_state, healthy, "
	 "open_slots, failed_nodes, lost_keys, unreachable_keys, misplaced_keys, unknown_keys, "
	 "writes_lost, promoted or decisions"},
	{"[scenario]\nname = x\n[repair]\nengine = none\n[expect]\ndecisions = 0\n",
	 "6: [expect] decisions, but the repair is not the bundled engine: "
	 "[repair] engine = shardquake"},
	{"[scenario]\nname = x\ncolor = red\n",
	 "3: unknown key 'color' in [scenario]: expected name, description, seed or quick"},
	{"[scenario]\nname = x\n[cluster]\nmasters = 0\n",
	 "4: masters = '0': expected a whole number from 1 to 100"},
	{"[scenario]\nname = x\n[cluster]\npersistence = disk\n",
	 "4: persistence = 'disk': expected none, rdb or aof"},
	{"[scenario]\nname = x\n[cluster]\nserver = keydb\n",
	 "4: server = 'keydb': expected redis or valkey"},
	{"[scenario]\nname = x\nname = y\n", "3: 'name' is set twice in [scenario]"},
	{"[scenario]\nname = x\nthis is not ini\n",
	 "3: not a 'key = value' line nor a [section]"},
	{"[cluster]\nmasters = 3\n", "1: [scenario] needs a name"},
	{"[scenario]\nname = Bad Name\n",
	 "2: name = 'Bad Name': expected letters a-z, digits, '-', '_' or '.'"},
	{"[scenario]\nname = x\n[reshard]\nfrom = 0\nto = 1\nslots = 1\n[fault]\nkind = explode\n",
	 "8: kind = 'explode': expected one of kill, pause, restart, lose-disk, oom, partition, degrade, disk"},
	{"[scenario]\nname = x\n[reshard]\nfrom = 0\nto = 1\nslots = 1\n[fault]\nkind = kill\n"
	 "target = target\nat = keys\nslot = 2\n",
	 "7: [fault] fires at slot 2, but the reshard moves 1 slot"},
	{"[scenario]\nname = x\n[reshard]\nfrom = 0\nto = 1\nslots = 2\n[fault]\nkind = kill\n"
	 "target = source-replica\nat = migrating\n",
	 "7: [fault] targets a replica, but [cluster] has replicas = 0"},
	{"[scenario]\nname = x\n[reshard]\nfrom = 0\nto = 1\nslots = 2\n[fault]\nkind = kill\n"
	 "target = target\nat = migrating\npoint = 5\n",
	 "7: [fault] has 'point', which goes with at = keys only"},
	{"[scenario]\nname = x\n[reshard]\nfrom = 0\nto = 1\nslots = 2\n[fault]\nkind = kill\n"
	 "target = target\nat = time\n",
	 "7: [fault] has at = time but no 'after'"},
	{"[scenario]\nname = x\n[reshard]\nfrom = 0\nto = 1\nslots = 2\n[fault]\nkind = kill\n"
	 "target = target\nat = keys\nduration_ms = 5\n",
	 "11: 'duration_ms' is not a parameter of fault kind 'kill': expected kind, target, at, "
	 "slot, point, after, signal, grace_ms or aof_written"},
	{"[scenario]\nname = x\n[reshard]\nfrom = 0\nto = 1\nslots = 2\n[fault]\nkind = pause\n"
	 "target = target\nat = keys\nduration = 5s\n",
	 "11: 'duration' is not a parameter of fault kind 'pause': expected kind, target, at, "
	 "slot, point, after, heal or duration_ms"},
	{"[scenario]\nname = x\n[reshard]\nfrom = 0\nto = 1\nslots = 2\n[fault]\nkind = lose-disk\n"
	 "target = target\nat = keys\ndelay_ms = 5\n",
	 "11: 'delay_ms' is not a parameter of fault kind 'lose-disk': expected kind, target, at, "
	 "slot, point or after"},
	{"[scenario]\nname = x\n[cluster]\nnetwork = netns\n[reshard]\nfrom = 0\nto = 1\n"
	 "slots = 2\n[fault]\nkind = partition\ntarget = target\nat = keys\npeers = source\n",
	 "13: 'peers' is not a parameter of fault kind 'partition': expected kind, target, at, "
	 "slot, point, after, heal, mode, peer, direction, with, clients or hold_ms"},
	{"[scenario\nname = x\n",
	 "1: section header '[scenario' has no closing ']': expected [NAME] on a line of its own"},
	{"[scenario]\nname = x\n[fault 2\nkind = kill\n",
	 "3: section header '[fault 2' has no closing ']': expected [NAME] on a line of its own"},
	{"; a comment first\nseed = 3\n[scenario]\nname = x\n",
	 "2: 'seed' comes before any section: expected a [section] header above it, such as "
	 "[scenario]"},
	{"[scenario]\nname = x\n[reshard]\nfrom = 0\nto = 1\nslots = 2\n[fault]\nkind = pause\n"
	 "target = target\nat = keys\nduration_ms = soon\n",
	 "11: duration_ms = 'soon': expected a duration such as 500, 500ms or 2s, at most 1 hour"},
	{"[scenario]\nname = x\n[reshard]\nfrom = 0\nto = 1\nslots = 2\n[fault]\nkind = kill\n"
	 "target = target\nat = keys\nsignal = TERM\ngrace_ms = 9223372036854775s\n",
	 "12: grace_ms = '9223372036854775s': expected a duration such as 500, 500ms or 2s, "
	 "at most 1 hour"},
	{"[scenario]\nname = x\n[reshard]\nfrom = 0\nto = 1\nslots = 2\n[fault]\nkind = kill\n"
	 "target = target\nat = time\nafter = 3601s\n",
	 "11: after = '3601s': expected a duration such as 500, 500ms or 2s, at most 1 hour"},
	{"[scenario]\nname = x\n[reshard]\nfrom = 0\nto = 1\nslots = 2\n[fault]\nkind = kill\n"
	 "target = target\nat = keys\nheal = before-repair\n",
	 "11: [fault] has 'heal', but a kill fault cannot be undone"},
	{"[scenario]\nname = x\n[reshard]\nfrom = 0\nto = 1\nslots = 2\n[fault]\nkind = pause\n"
	 "target = target\nat = keys\nheal = later\n",
	 "11: heal = 'later': expected never, before-repair or after-repair"},
	{"[scenario]\nname = x\n[reshard]\nfrom = 0\nto = 1\nslots = 2\n[fault]\nkind = pause\n"
	 "target = target\nat = keys\nheal = after-repair\n",
	 "11: [fault] heal = after-repair, but [repair] engine is none"},
	{"[scenario]\nname = x\n[reshard]\nfrom = 0\nto = 1\nslots = 2\n[fault]\nkind = oom\n"
	 "target = target\nat = keys\nmechanism = swap\n",
	 "11: mechanism = 'swap': expected cgroup or maxmemory"},
	{"[scenario]\nname = x\n[reshard]\nfrom = 0\nto = 1\nslots = 2\n[fault]\nkind = oom\n"
	 "target = target\nat = keys\nheadroom_mb = 0\n",
	 "11: headroom_mb = '0': expected a whole number of megabytes from 1 to 4096"},
	{"[scenario]\nname = x\n[reshard]\nfrom = 0\nto = 1\nslots = 2\n[fault]\nkind = partition\n"
	 "target = target\nat = keys\n",
	 "7: [fault] kind = partition cuts or slows links between nodes: it needs [cluster] "
	 "network = netns"},
	{"[scenario]\nname = x\n[cluster]\nnetwork = netns\n[reshard]\nfrom = 0\nto = 1\n"
	 "slots = 2\n[fault]\nkind = partition\ntarget = target\nat = keys\nmode = pair\n",
	 "13: mode = pair needs peer = ROLE, the other end"},
	{"[scenario]\nname = x\n[cluster]\nnetwork = netns\n[reshard]\nfrom = 0\nto = 1\n"
	 "slots = 2\n[fault]\nkind = partition\ntarget = target\nat = keys\nmode = pair\n"
	 "peer = sauce\n",
	 "14: peer = 'sauce': expected source, target, bystander, source-replica, "
	 "target-replica or node:N"},
	{"[scenario]\nname = x\n[cluster]\nnetwork = netns\n[reshard]\nfrom = 0\nto = 1\n"
	 "slots = 2\n[fault]\nkind = partition\ntarget = target\nat = keys\nmode = majority\n"
	 "with = source,node:7\n",
	 "14: [fault] targets node:7, but the cluster has nodes 0 to 2"},
	{"[scenario]\nname = x\n[cluster]\nnetwork = wifi\n",
	 "4: network = 'wifi': expected loopback or netns"},
	{"[scenario]\nname = x\n[cluster]\nnetwork = netns\n[reshard]\nfrom = 0\nto = 1\n"
	 "slots = 2\n[fault]\nkind = degrade\ntarget = target\nat = keys\nloss = 120\n",
	 "13: loss = '120': expected a percentage from 0 to 100"},
	{"[scenario]\nname = x\n[data]\nkeys = 10\nbig_value_size = 4096\n",
	 "5: [data] big_value_size and big_slots go together: the keys of which slots are big, "
	 "and how big"},
	{"[scenario]\nname = x\n[data]\nkeys = 10\nbig_slots = 9-3\n",
	 "5: big_slots = '9-3': expected a slot range such as 0-9 (slots 0 to 16383)"},
	{"[scenario]\nname = x\n[data]\nkeys = 0\nbig_slots = 3\nbig_value_size = 10\n",
	 "6: [data] big_value_size, but keys = 0"},
	{"[scenario]\nname = x\n[fault caf\xe9]\nkind = kill\n",
	 "4: not UTF-8 text: save the file as UTF-8"},
	{"[scenario]\nname = x\n[fault a-fault-name-that-goes-on-and-on-for-too-long]\nkind = kill\n",
	 "3: section name longer than 49 bytes"},
	{"[scenario]\nname = x\ndescription = caf\xe9 (Latin-1)\n",
	 "3: not UTF-8 text: save the file as UTF-8"},
	{"[scenario]\nname = x\n[expect]\nhealthy = yes\nreshard = completes\n",
	 "5: [expect] reshard = completes, but there is no [reshard] to expect it of"},
	{"[scenario]\nname = x\n[reshard]\nslots = 5\n",
	 "4: [reshard] from and to are both master 0"},
	{"[scenario]\nname = x\n[reshard]\nfrom = 1\nto = 1\nslots = 2\n",
	 "5: [reshard] from and to are both master 1"},
	{"[scenario]\nname = x\n[reshard]\nfrom = 0\nto = 1\n",
	 "4: [reshard] needs slots = N or slot_list = LIST"},
	{"[scenario]\nname = x\n[cluster]\nmasters = 3\n[reshard]\nfrom = 0\nto = 1\nslots = 6000\n",
	 "8: [reshard] slots = 6000, but master 0 owns only 5461"},
	{"[scenario]\nname = x\n[reshard]\nfrom = 0\nto = 3\nslots = 2\n",
	 "5: [reshard] names master 3, but there are masters 0 to 2"},
	{"[scenario]\nname = x\n[reshard]\nfrom = 0\nto = 1\nslot_list = 1-x\n",
	 "6: slot_list: bad slot list '1-x' at 'x': expected slots 0-16383 as N or N-M, "
	 "separated by commas"},
	{"[scenario]\nname = x\n[reshard]\nfrom = 0\nto = 1\nslot_list = 5-3\n",
	 "6: slot_list: bad slot list '5-3' at '3': expected slots 0-16383 as N or N-M, "
	 "separated by commas"},
	{"[scenario]\nname = x\n[reshard]\nfrom = 0\nto = 1\nslot_list = 1-4,3\n",
	 "6: slot_list: slot 3 appears twice in '1-4,3'"},
	{"[scenario]\nname = x\n[reshard]\nfrom = 0\nto = 1\nslots = 2\nslot_list = 1\n",
	 "7: 'slot_list' in [reshard]: give slots or slot_list, once"},
	{"[scenario]\nname = x\n[reshard]\nfrom = 1\nto = 0\nslot_list = 5460-5462\n",
	 "6: [reshard] slot_list has slot 5460, but master 1 owns 5461-10921"},
	{"[scenario]\nname = x\n[reshard]\nfrom = everyone\n",
	 "4: from = 'everyone': expected a master number from 0 to 99, or all"},
	{"[scenario]\nname = x\n[reshard]\nfrom = all\nto = 1\n",
	 "5: [reshard] from = all goes with to = new (a rebalance to a new master)"},
	{"[scenario]\nname = x\n[reshard]\nfrom = all\nto = new\nslots = 5\n",
	 "6: [reshard] from = all plans its own slots: no slots or slot_list"},
	{"[scenario]\nname = x\n[reshard]\nfrom = all\nto = new\n[fault]\nkind = kill\n"
	 "target = bystander\nat = importing\n",
	 "6: [fault] targets a bystander, but with from = all every master gives slots"},
	{"[scenario]\nname = x\n[cluster]\nreplicas = 1\n[reshard]\nfrom = 0\nto = new\n"
	 "slots = 1\n[fault]\nkind = kill\ntarget = target-replica\nat = importing\n",
	 "9: [fault] targets the target's replica, but the new master (to = new) has none"},
	{"[scenario]\nname = x\n[fault]\nkind = kill\ntarget = target\nat = keys\n",
	 "3: [fault] fires during a reshard, but there is no [reshard]"},
	{"[scenario]\nname = x\n[cluster]\nconfig = cluster-node-timeout 500\n",
	 "4: config = 'cluster-node-timeout 500': cluster-node-timeout is the harness's to set "
	 "(see [cluster] and [data])"},
	{"[scenario]\nname = x\n[cluster]\nconfig = maxmemory\n",
	 "4: config = 'maxmemory': expected a redis.conf line, NAME VALUE (e.g. "
	 "cluster-replica-validity-factor 1)"},
	{"[scenario]\nname = x\n[expect]\nlost_keys = some\n",
	 "4: lost_keys = 'some': expected a number N or > N"},
	{"[scenario]\nname = x\n[repair]\nengine = magic\n",
	 "4: engine = 'magic': expected none, shardquake, redis-cli or exec"},
	{"[scenario]\nname = x\n[repair]\nsalvage = maybe\n",
	 "4: salvage = 'maybe': expected yes or no"},
	{"[scenario]\nname = x\n[repair]\nengine = shardquake\nrestart = yes\nreplace = yes\n",
	 "6: [repair] replace = yes needs engine = shardquake, restart = no, and salvage = yes "
	 "or allow_data_loss = yes: the new master takes the dead one's slots and its keys come "
	 "from its files, or are lost"},
	{"[scenario]\nname = x\ndescription = "
	 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n"
	 "seed = x\n",
	 "3: line longer than 198 characters"},
	{"[scenario]\nname = x\n[layout]\nmaster.0 = 0-100\nmaster.1 = 100-200\nmaster.2 = none\n",
	 "5: master.1 = '100-200': slot 100 is master 0's already (line 4): ranges must not "
	 "overlap"},
	{"[scenario]\nname = x\n[layout]\nmaster.0 = 0-100,x\n",
	 "4: master.0 = '0-100,x': expected slot ranges such as 0-5460,5462 (slots 0 to 16383, "
	 "first <= last), or none"},
	{"[scenario]\nname = x\n[layout]\nmaster.0 = 9-3\n",
	 "4: master.0 = '9-3': expected slot ranges such as 0-5460,5462 (slots 0 to 16383, "
	 "first <= last), or none"},
	{"[scenario]\nname = x\n[layout]\nmaster.0 = 16384\n",
	 "4: master.0 = '16384': expected slot ranges such as 0-5460,5462 (slots 0 to 16383, "
	 "first <= last), or none"},
	{"[scenario]\nname = x\n[layout]\nmaster.0 = none\nmaster.1 = none\n",
	 "4: [layout] has no master.2: give its slots, or none"},
	{"[scenario]\nname = x\n[layout]\nmaster.0 = 0\nmaster.1 = 1\nmaster.2 = 2\n"
	 "master.3 = 3\n",
	 "7: [layout] master.3, but [cluster] masters = 3: masters 0 to 2"},
	{"[scenario]\nname = x\n[layout]\nmaster.x = 0\n",
	 "4: 'master.x' in [layout]: expected master.N, N a master from 0 to 99 (master.N.2, .3 "
	 "... go on with more of its slots)"},
	{"[scenario]\nname = x\n[layout]\nshape = odd\n",
	 "4: unknown key 'shape' in [layout]: expected master.N, replicas.N, open, failed or "
	 "nofailover"},
	{"[scenario]\nname = x\n[layout]\nreplicas.0 = 6\n",
	 "4: replicas.0 = '6': expected a whole number from 0 to 5"},
	{"[scenario]\nname = x\n[layout]\nmaster.0 = 0-9\nmaster.1 = 10\nmaster.2 = none\n"
	 "open = 5 0-1 50%\n",
	 "7: open: '5 0-1 50%': expected SLOT FROM>TO SHARE%, such as 5461 1>2 50% (slot 5461 "
	 "migrating from master 1 to master 2, half its keys moved)"},
	{"[scenario]\nname = x\n[layout]\nmaster.0 = 0-9\nmaster.1 = 10\nmaster.2 = none\n"
	 "open = 5 0>1 50%, 10 0>1 5%\n",
	 "7: open slot 10 migrates from master 0, but master 1 owns it: the source of an open "
	 "slot is its owner"},
	{"[scenario]\nname = x\n[layout]\nmaster.0 = 0-9\nmaster.1 = 10\nmaster.2 = none\n"
	 "open = 11 0>1 5%\n",
	 "7: open slot 11 migrates from master 0, but nobody owns it: the source of an open "
	 "slot is its owner"},
	{"[scenario]\nname = x\n[layout]\nmaster.0 = 0-9\nmaster.1 = 10\nmaster.2 = none\n"
	 "open = 5 0>0 5%\n",
	 "7: open slot 5 goes from master 0 to itself"},
	{"[scenario]\nname = x\n[layout]\nmaster.0 = 0-9\nmaster.1 = 10\nmaster.2 = none\n"
	 "open = 5 0>1 5%\nopen.2 = 5 0>2 5%\n",
	 "8: slot 5 is open twice (line 7)"},
	{"[scenario]\nname = x\n[layout]\nmaster.0 = 0-9\nmaster.1 = 10\nmaster.2 = none\n"
	 "open = 5 0>3 5%\n",
	 "7: open slot 5 names master 3, but there are masters 0 to 2"},
	{"[scenario]\nname = x\n[cluster]\nreplicas = 1\n[layout]\nmaster.0 = 0-9\n"
	 "master.1 = 10\nmaster.2 = none\nreplicas.2 = 0\nfailed = master.2, replica.2.0\n",
	 "10: failed names replica.2.0, but master 2 has 0 replicas"},
	{"[scenario]\nname = x\n[layout]\nmaster.0 = 0-9\nmaster.1 = 10\nmaster.2 = none\n"
	 "failed = node:3\n",
	 "7: failed: 'node:3': expected master.N or replica.N.K (replica K of master N, from 0)"},
	{"[scenario]\nname = x\n[layout]\nmaster.0 = 0-9\nmaster.1 = 10\nmaster.2 = none\n"
	 "nofailover = master.1\n",
	 "7: nofailover names master.1: only a replica can be kept from a failover"},
	{"[scenario]\nname = x\n[reshard]\nfrom = 0\nto = 1\nslots = 1\n[layout]\n"
	 "master.0 = none\n",
	 "8: [layout] and [reshard] do not go together: a layout is the state the cluster starts "
	 "broken in"},
};

/* [cluster] config: lines for every node's redis.conf, in order. */
START_TEST(test_scenario_server_config)
{
	struct err e = ERR_INIT;
	struct scenario *s = load("[scenario]\nname = x\n[cluster]\n"
				  "config = cluster-replica-validity-factor 1\n"
				  "config = repl-ping-replica-period 1\n", &e);

	ck_assert_msg(s != NULL, "%s", e.msg);
	ck_assert_str_eq(s->server_config, "cluster-replica-validity-factor 1\n"
			 "repl-ping-replica-period 1\n");
	scenario_free(s);
}
END_TEST

/* [cluster] server pins a scenario to Redis or Valkey. */
START_TEST(test_scenario_names_its_server)
{
	struct err e = ERR_INIT;
	struct scenario *s = load("[scenario]\nname = x\n[cluster]\nserver = valkey\n", &e);

	ck_assert_msg(s != NULL, "%s", e.msg);
	ck_assert_str_eq(s->server, "valkey");
	scenario_free(s);
}
END_TEST

START_TEST(test_scenario_error_row)
{
	struct err e = ERR_INIT;
	struct scenario *s = load(bad_rows[_i].text, &e);
	char want[600];

	snprintf(want, sizeof(want), "%s:%s", path, bad_rows[_i].msg);
	ck_assert_msg(s == NULL, "row %d loaded", _i);
	ck_assert_str_eq(e.msg, want);
	unlink(path);
}
END_TEST

/* [layout]: ranges (continued in master.N.2), uncovered slots, replicas
 * per master, open slots, failed nodes. */
START_TEST(test_scenario_layout)
{
	static const char text[] =
		"[scenario]\nname = incident\n"
		"[cluster]\nmasters = 3\nreplicas = 1\n"
		"[layout]\n"
		"master.0 = 0-5460\n"
		"master.1 = 5461 - 10000 , 10002\n"
		"master.1.2 = 10003-10922\n"
		"master.2 = 10923-16383\n"
		"replicas.2 = 0\n"
		"open = 5461 1>2 50%, 0 0>1 0%\n"
		"failed = master.2, replica.0.0\n"
		"nofailover = replica.1.0\n";
	struct err e = ERR_INIT;
	struct scenario *s = load(text, &e);
	const struct layout *l;

	ck_assert_msg(s != NULL, "%s", e.msg);
	l = &s->layout;
	ck_assert(l->set);
	ck_assert_int_eq(l->owner[0], 0);
	ck_assert_int_eq(l->owner[5461], 1);
	ck_assert_int_eq(l->owner[10001], -1); /* uncovered */
	ck_assert_int_eq(l->owner[10003], 1);
	ck_assert_int_eq(l->owner[16383], 2);
	ck_assert_int_eq(scenario_replicas_of(s, 0), 1);
	ck_assert_int_eq(scenario_replicas_of(s, 2), 0);
	ck_assert_uint_eq(l->nopen, 2);
	ck_assert_int_eq(l->open[0].slot, 5461);
	ck_assert_int_eq(l->open[0].from, 1);
	ck_assert_int_eq(l->open[0].to, 2);
	ck_assert_int_eq(l->open[0].pct, 50);
	ck_assert_int_eq(l->open[1].pct, 0);
	ck_assert_uint_eq(l->nfailed, 2);
	ck_assert_int_eq(l->failed[0].replica, -1);
	ck_assert_int_eq(l->failed[1].master, 0);
	ck_assert_int_eq(l->failed[1].replica, 0);
	ck_assert_uint_eq(l->nnofailover, 1);
	ck_assert_int_eq(l->nofailover[0].master, 1);
	ck_assert(!s->has_reshard);
	scenario_free(s);
	unlink(path);
}
END_TEST

START_TEST(test_scenario_slot_list_keeps_its_order)
{
	struct err e = ERR_INIT;
	struct scenario *s = load("[scenario]\nname = x\n[reshard]\nfrom = 2\nto = 0\n"
				  "slot_list = 16383,10923-10924\n[fault]\nkind = kill\n"
				  "target = target\nat = keys\nslot = 3\n", &e);

	ck_assert_msg(s != NULL, "%s", e.msg);
	ck_assert_int_eq(s->slots, 3);
	ck_assert_int_eq(s->slot_list[0], 16383);
	ck_assert_int_eq(s->slot_list[1], 10923);
	ck_assert_int_eq(s->slot_list[2], 10924);
	scenario_free(s);
	unlink(path);
}
END_TEST

START_TEST(test_scenario_rebalance_to_new_master)
{
	struct err e = ERR_INIT;
	struct scenario *s = load("[scenario]\nname = x\n[cluster]\nmasters = 4\n[reshard]\n"
				  "from = all\nto = new\n[fault]\nkind = kill\n"
				  "target = node:4\nat = slot-done\nslot = 3276\n", &e);

	ck_assert_msg(s != NULL, "%s", e.msg);
	ck_assert_int_eq(s->from, RESHARD_FROM_ALL);
	ck_assert_int_eq(s->to, RESHARD_TO_NEW);
	ck_assert_int_eq(s->slots, 16384 / 5); /* the new master's share */
	scenario_free(s);
	unlink(path);
}
END_TEST

START_TEST(test_rebalance_shares)
{
	static const struct {
		int owned[4];
		size_t n, target;
		int give[4];
	} rows[] = {
		{{5461, 5461, 5462, 0}, 4, 3, {1365, 1365, 1366, 0}},
		{{10000, 6384, 0}, 3, 2, {4538, 923, 0}},
		{{16000, 384, 0}, 3, 2, {5461, 0, 0}},      /* the target takes its share only */
		{{0, 8192, 8192}, 3, 0, {0, 2730, 2731}},   /* the target first */
		{{4096, 4096, 4096, 4096}, 4, 1, {0, 0, 0, 0}}, /* balanced already */
	};
	int give[4];
	size_t r, i;

	for (r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		reshard_rebalance_shares(rows[r].owned, rows[r].n, rows[r].target, give);
		for (i = 0; i < rows[r].n; i++)
			ck_assert_msg(give[i] == rows[r].give[i], "row %zu: give[%zu] = %d, not %d",
				      r, i, give[i], rows[r].give[i]);
	}
}
END_TEST

/* fopen() opens a directory and fgets() reads nothing from it: without
 * a check of its own it passed for a file with no [scenario]. */
START_TEST(test_scenario_directory_is_not_a_file)
{
	char dir[] = "/tmp/sq-scenario-dir-XXXXXX", want[128], slash[64];
	struct err e = ERR_INIT;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_ptr_null(scenario_load(dir, &e));
	snprintf(want, sizeof(want), "'%s' is a directory: expected a scenario file, such as "
		 "'%s/NAME.ini'", dir, dir);
	ck_assert_str_eq(e.msg, want);
	snprintf(slash, sizeof(slash), "%s/", dir);
	ck_assert_ptr_null(scenario_load(slash, &e));
	snprintf(want, sizeof(want), "'%s/' is a directory: expected a scenario file, such as "
		 "'%s/NAME.ini'", dir, dir);
	ck_assert_str_eq(e.msg, want);
	rmdir(dir);
}
END_TEST

/* The loader lists each kind's keys as the kind publishes them: every
 * key it lists must be one the kind takes. */
START_TEST(test_scenario_fault_keys_listed_are_taken)
{
	static const char head[] = "[scenario]\nname = x\n[cluster]\nnetwork = netns\n"
				   "[reshard]\nfrom = 0\nto = 1\nslots = 2\n[fault]\n"
				   "target = target\nat = keys\n";
	const char *const *k;
	const struct injector_ops *const *o;
	char text[512], list[256], *key, *save = NULL;
	struct err e = ERR_INIT;
	const char *at;

	for (o = injector_table; *o; o++) {
		snprintf(text, sizeof(text), "%skind = %s\nnot_a_key = 1\n", head, (*o)->name);
		ck_assert_ptr_null(load(text, &e));
		unlink(path);
		at = strstr(e.msg, ": expected kind, target, at, slot, point");
		ck_assert_msg(at != NULL, "kind %s: %s", (*o)->name, e.msg);
		snprintf(list, sizeof(list), "%s", at + strlen(": expected "));
		for (key = strtok_r(list, ", ", &save); key; key = strtok_r(NULL, ", ", &save)) {
			static const char *const generic[] = {"kind", "target", "at", "slot",
							     "point", "after", "heal", "or", NULL};

			for (k = generic; *k && strcmp(*k, key) != 0; k++)
				;
			if (*k)
				continue;
			snprintf(text, sizeof(text), "%skind = %s\n%s = 1\n", head, (*o)->name, key);
			e = (struct err)ERR_INIT; /* a file that loads leaves it as it was */
			scenario_free(load(text, &e));
			unlink(path);
			ck_assert_msg(strstr(e.msg, "is not a parameter") == NULL,
				      "kind %s does not take '%s', which its list names", (*o)->name, key);
		}
	}
}
END_TEST

START_TEST(test_scenario_missing_file)
{
	struct err e = ERR_INIT;

	ck_assert_ptr_null(scenario_load("/nonexistent/x.ini", &e));
	ck_assert_str_eq(e.msg, "open '/nonexistent/x.ini': No such file or directory");
}
END_TEST

Suite *
scenario_suite(void)
{
	Suite *s = suite_create("scenario");
	TCase *tc = tcase_create("load");

	tcase_add_test(tc, test_scenario_loads_every_section);
	tcase_add_test(tc, test_scenario_names_its_server);
	tcase_add_test(tc, test_scenario_server_config);
	tcase_add_test(tc, test_scenario_backup_and_failover_keys);
	tcase_add_loop_test(tc, test_scenario_error_row, 0,
			    (int)(sizeof(bad_rows) / sizeof(bad_rows[0])));
	tcase_add_test(tc, test_scenario_slot_list_keeps_its_order);
	tcase_add_test(tc, test_scenario_layout);
	tcase_add_test(tc, test_scenario_rebalance_to_new_master);
	tcase_add_test(tc, test_rebalance_shares);
	tcase_add_test(tc, test_scenario_missing_file);
	tcase_add_test(tc, test_scenario_directory_is_not_a_file);
	tcase_add_test(tc, test_scenario_fault_keys_listed_are_taken);
	suite_add_tcase(s, tc);
	return s;
}
