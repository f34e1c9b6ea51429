/*
 * Integration tests of `shardquake run` with the faults that need the
 * machine's help (a memory cgroup, network namespaces): the shipped
 * scenarios pass with the kernel's own evidence in their reports, a machine without what it needs
 * skips it with the reason (exit 3), and nothing made on the host
 * outlives the run: not after a normal end, SIGINT, nor kill -9 followed
 * by `shardquake clean`.
 */
#include <dirent.h>
#include <jansson.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/fs.h"
#include "common/proc.h"
#include "injectors/memcg.h"
#include "tests/support/itutil.h"
#include "tests/support/runner.h"

static const char *
bin(void)
{
	return getenv("SQ_BIN") ? getenv("SQ_BIN") : "build/shardquake";
}

/* Runs `shardquake run --results DIR SCENARIO`; a failed run fails the
 * test with what it printed. */
static void
run_ok(const char *dir, const char *scenario)
{
	char path[PATH_MAX + 16], *said;

	if (it_sh("%s run --results %s %s > %s/out 2>&1", bin(), dir, scenario, dir) == 0)
		return;
	snprintf(path, sizeof(path), "%s/out", dir);
	said = fs_read_file(path, NULL, NULL);
	ck_abort_msg("shardquake run %s failed:\n%s", scenario, said ? said : "(no output)");
}

/* Skips unless this machine can give a node a memory cgroup. */
static void
require_memcg(char *base, size_t n)
{
	struct err e = ERR_INIT;
	enum memcg_version v;

	it_require_redis("fault_run");
	if (geteuid() != 0)
		test_skip("fault_run: a memory cgroup needs root");
	if (memcg_base(base, n, &v, &e) < 0)
		test_skip("fault_run: %s", e.msg);
}

/* How many groups below `base` carry the tag of run `pid`. */
static int
groups_of(const char *base, pid_t pid)
{
	struct dirent *d;
	DIR *dp = opendir(base);
	int n = 0, p, port, used;

	while (dp && (d = readdir(dp)) != NULL) {
		used = 0;
		if (sscanf(d->d_name, "sq%d-%d%n", &p, &port, &used) == 2 && !d->d_name[used])
			n += p == pid;
	}
	if (dp)
		closedir(dp);
	return n;
}

START_TEST(test_oom_scenario_passes_with_the_kernels_evidence)
{
	char base[PATH_MAX], dir[PATH_MAX];
	json_t *rep, *fault, *ev;
	const char *effect, *group;

	require_memcg(base, sizeof(base));
	it_mkdtemp(dir, sizeof(dir), "sq-it-oom");
	run_ok(dir, "scenarios/oom-target-mid-slot.ini");
	rep = it_report(dir, "oom-target-mid-slot");
	ck_assert_str_eq(json_string_value(json_object_get(rep, "result")), "passed");
	fault = json_array_get(json_object_get(rep, "faults"), 0);
	effect = json_string_value(json_object_get(fault, "effect"));
	ck_assert_ptr_nonnull(effect);
	ck_assert_msg(strstr(effect, "OOM-killed by the kernel") && strstr(effect, "oom_kill 1") &&
			      strstr(effect, "killed by signal 9"),
		      "%s", effect);
	/* the same facts as named values, for programs */
	ev = json_object_get(fault, "evidence");
	ck_assert_int_eq(json_integer_value(json_object_get(ev, "oom_kill")), 1);
	ck_assert_int_ge(json_integer_value(json_object_get(ev, "died_after_ms")), 0);
	ck_assert_int_gt(json_integer_value(json_object_get(ev, "limit_bytes")),
			 json_integer_value(json_object_get(ev, "usage_bytes")));
	ck_assert_str_eq(json_string_value(json_object_get(ev, "wait_status")),
			 "killed by signal 9 (Killed)");
	/* its group went with it (other runs' may come and go meanwhile:
	 * make check plays suites side by side) */
	group = json_string_value(json_object_get(ev, "cgroup"));
	ck_assert_ptr_nonnull(group);
	ck_assert_msg(strncmp(group, base, strlen(base)) == 0, "%s is not below %s", group, base);
	ck_assert_msg(access(group, F_OK) != 0, "its group %s is left", group);
	json_decref(rep);
	it_sh("rm -rf %s", dir);
}
END_TEST

/* Starts `shardquake run` of the oom scenario in dir, its output in
 * out, and returns once the target's memory cgroup exists (the test
 * fails if it does not come within 20 s). */
static void
start_oom_run(struct proc *p, const char *base, char *dir, size_t ndir, char *out,
	      size_t nout)
{
	const char *argv[] = {bin(), "run", "--results", dir,
			      "scenarios/oom-target-mid-slot.ini", NULL};
	struct err e = ERR_INIT;
	uint64_t deadline;

	it_mkdtemp(dir, ndir, "sq-it-oomrun");
	snprintf(out, nout, "%s/out.log", dir);
	p->argv = argv;
	p->out_path = out;
	ck_assert_msg(proc_start(p, &e) == 0, "%s", e.msg);
	p->argv = NULL; /* exec has its copy */
	deadline = clock_now_ms() + 20000;
	while (groups_of(base, p->pid) == 0 && clock_now_ms() < deadline)
		clock_sleep_ms(10);
	ck_assert_int_eq(groups_of(base, p->pid), 1);
}

/* kill -9 of the harness once the target's group exists: the nodes die
 * with it (PDEATHSIG), the group stays, `clean` removes it. */
START_TEST(test_oom_kill_9_then_clean_leaves_nothing)
{
	char base[PATH_MAX], dir[PATH_MAX], out[PATH_MAX + 16];
	struct proc p = PROC_INIT;
	uint64_t deadline;

	require_memcg(base, sizeof(base));
	start_oom_run(&p, base, dir, sizeof(dir), out, sizeof(out));
	proc_kill(&p); /* SIGKILL: no teardown at all */
	/* the node in the group dies by PDEATHSIG; clean then removes it */
	deadline = clock_now_ms() + 10000;
	while (groups_of(base, p.pid) > 0 && clock_now_ms() < deadline) {
		/* 1 while the node is still on its way out of the group */
		it_sh("%s clean > /dev/null 2>&1", bin());
		if (groups_of(base, p.pid) > 0)
			clock_sleep_ms(50);
	}
	ck_assert_int_eq(it_sh("%s clean > /dev/null", bin()), 0);
	ck_assert_msg(groups_of(base, p.pid) == 0, "clean left the group of run %d",
		      (int)p.pid);
	it_sh("rm -rf %s", dir);
}
END_TEST

/* SIGINT once the target's group exists: the run stops at its next step
 * and removes the group itself. */
START_TEST(test_oom_sigint_removes_the_group)
{
	char base[PATH_MAX], dir[PATH_MAX], out[PATH_MAX + 16];
	struct proc p = PROC_INIT;
	struct err e = ERR_INIT;

	require_memcg(base, sizeof(base));
	start_oom_run(&p, base, dir, sizeof(dir), out, sizeof(out));
	ck_assert_int_eq(proc_signal(&p, SIGINT, &e), 0);
	ck_assert_msg(proc_wait(&p, 60000, &e) == 0, "%s", e.msg);
	ck_assert_int_eq(groups_of(base, p.pid), 0);
	ck_assert_int_eq(it_sh("grep -q interrupted %s", out), 0);
	it_sh("rm -rf %s", dir);
}
END_TEST

/* Not root: the oom scenario is skipped with the reason and exit 3, and
 * never passes. */
START_TEST(test_oom_without_root_is_skipped_with_the_reason)
{
	char base[PATH_MAX], dir[] = "build/sq-it-oomskip-XXXXXX";

	require_memcg(base, sizeof(base));
	if (it_sh("command -v setpriv > /dev/null") != 0)
		test_skip("fault_run: no setpriv to run as another user");
	/* not under the tests' private TMPDIR, which nobody else may enter */
	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_int_eq(it_sh("chmod 777 %s", dir), 0);
	ck_assert_int_eq(it_sh("setpriv --reuid 65534 --regid 65534 --clear-groups "
			       "%s run --results %s scenarios/oom-target-mid-slot.ini > %s/out "
			       "2>&1; test $? -eq 3",
			       bin(), dir, dir),
			 0);
	ck_assert_int_eq(it_sh("grep -q '^0 passed, 0 failed, 1 skipped' %s/out", dir), 0);
	ck_assert_int_eq(it_sh("grep -q 'a memory cgroup needs root' %s/out", dir), 0);
	it_sh("rm -rf %s", dir);
}
END_TEST

/* Skips unless this machine lets the harness make network namespaces. */
static void
require_netns(void)
{
	it_require_redis("fault_run");
	if (geteuid() != 0)
		test_skip("fault_run: network namespaces need root");
}

/* How many network interfaces of shardquake's ("sqb...", "sqv...") the
 * host's namespace has: there must never be any. */
static int
host_links(void)
{
	DIR *dp = opendir("/sys/class/net");
	struct dirent *d;
	int n = 0;

	while (dp && (d = readdir(dp)) != NULL)
		n += strncmp(d->d_name, "sqb", 3) == 0 || strncmp(d->d_name, "sqv", 3) == 0;
	if (dp)
		closedir(dp);
	return n;
}

START_TEST(test_partition_one_way_keys_of_unknown_outcome_are_kept_once)
{
	char dir[PATH_MAX];
	json_t *rep, *reshard, *fault, *result;
	const char *effect;

	require_netns();
	it_mkdtemp(dir, sizeof(dir), "sq-it-part");
	run_ok(dir, "scenarios/partition-one-way-replies-lost.ini");
	rep = it_report(dir, "partition-one-way-replies-lost");
	ck_assert_str_eq(json_string_value(json_object_get(rep, "result")), "passed");
	/* the timed-out MIGRATE's keys: neither moved nor failed */
	reshard = json_object_get(rep, "reshard");
	ck_assert_int_gt(json_integer_value(json_object_get(reshard, "keys_unknown")), 0);
	/* they landed on both sides; the repair kept one copy of each */
	result = json_object_get(json_object_get(json_object_get(rep, "repair"), "detail"), "result");
	ck_assert_int_eq(json_integer_value(json_object_get(result, "duplicates_stashed")),
			 json_integer_value(json_object_get(reshard, "keys_unknown")));
	fault = json_array_get(json_object_get(rep, "faults"), 0);
	effect = json_string_value(json_object_get(fault, "effect"));
	ck_assert_msg(effect && strstr(effect, "netlink rules in place"), "%s", effect);
	ck_assert_int_gt(json_integer_value(json_object_get(json_object_get(fault, "evidence"),
							    "rules")), 0);
	json_decref(rep);
	ck_assert_int_eq(host_links(), 0);
	it_sh("rm -rf %s", dir);
}
END_TEST

/* The inode of a process's network namespace, 0 when it is gone. */
static unsigned long
netns_of(pid_t pid)
{
	char path[64], link[64];
	unsigned long ino = 0;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	n = readlink(path, link, sizeof(link) - 1);
	if (n > 0) {
		link[n] = '\0';
		sscanf(link, "net:[%lu]", &ino);
	}
	return ino;
}

/* Whether any process is still in the network namespace `ino`. */
static bool
netns_alive(unsigned long ino)
{
	DIR *dp = opendir("/proc");
	struct dirent *d;
	bool found = false;

	while (!found && dp && (d = readdir(dp)) != NULL)
		if (atoi(d->d_name) > 0 && netns_of(atoi(d->d_name)) == ino)
			found = true;
	if (dp)
		closedir(dp);
	return found;
}

/* kill -9 of a run with its cluster in namespaces: the nodes die with
 * it, so do their namespaces and the harness's own, and the host never
 * saw a link of ours. */
START_TEST(test_partition_kill_9_leaves_no_namespace)
{
	char dir[PATH_MAX], out[PATH_MAX + 16], path[64];
	const char *argv[] = {bin(), "run", "--results", dir,
			      "scenarios/partition-target-isolated-mid-slot.ini", NULL};
	struct proc p = PROC_INIT;
	struct err e = ERR_INIT;
	unsigned long ns[8];
	pid_t kids[8];
	uint64_t deadline;
	int n = 0, i;
	DIR *dp;
	struct dirent *d;

	require_netns();
	it_mkdtemp(dir, sizeof(dir), "sq-it-part9");
	snprintf(out, sizeof(out), "%s/out.log", dir);
	p.argv = argv;
	p.out_path = out;
	ck_assert_int_eq(proc_start(&p, &e), 0);
	/* wait for its three nodes, each in a namespace of its own */
	deadline = clock_now_ms() + 20000;
	while (n < 3 && clock_now_ms() < deadline) {
		n = 0;
		dp = opendir("/proc");
		while (dp && (d = readdir(dp)) != NULL && n < 8) {
			FILE *f;
			int pid = atoi(d->d_name), ppid = 0;

			snprintf(path, sizeof(path), "/proc/%d/stat", pid);
			if (pid <= 0 || (f = fopen(path, "r")) == NULL)
				continue;
			if (fscanf(f, "%*d (%*[^)]) %*c %d", &ppid) == 1 && ppid == p.pid &&
			    netns_of(pid) != netns_of(p.pid)) {
				kids[n] = pid;
				ns[n++] = netns_of(pid);
			}
			fclose(f);
		}
		if (dp)
			closedir(dp);
		clock_sleep_ms(20);
	}
	ck_assert_int_ge(n, 3);
	ns[n] = netns_of(p.pid); /* the harness's private one */
	ck_assert(ns[n] != netns_of(getpid()));
	proc_kill(&p);
	deadline = clock_now_ms() + 10000;
	for (i = 0; i < n; i++)
		while (it_pid_alive(kids[i]) && clock_now_ms() < deadline)
			clock_sleep_ms(20);
	for (i = 0; i <= n; i++)
		ck_assert_msg(!netns_alive(ns[i]), "network namespace %lu outlived the run", ns[i]);
	ck_assert_int_eq(host_links(), 0);
	it_sh("rm -rf %s", dir);
}
END_TEST

/* Not root: no namespaces; the scenario is skipped with the reason. */
START_TEST(test_partition_without_root_is_skipped_with_the_reason)
{
	char dir[] = "build/sq-it-partskip-XXXXXX";

	require_netns();
	if (it_sh("command -v setpriv > /dev/null") != 0)
		test_skip("fault_run: no setpriv to run as another user");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_int_eq(it_sh("chmod 777 %s", dir), 0);
	ck_assert_int_eq(it_sh("setpriv --reuid 65534 --regid 65534 --clear-groups "
			       "%s run --results %s scenarios/partition-target-isolated-mid-slot.ini "
			       "> %s/out 2>&1; test $? -eq 3", bin(), dir, dir), 0);
	ck_assert_int_eq(it_sh("grep -q '^0 passed, 0 failed, 1 skipped' %s/out", dir), 0);
	ck_assert_int_eq(it_sh("grep -q 'network = netns: .*Operation not permitted' %s/out", dir), 0);
	it_sh("rm -rf %s", dir);
}
END_TEST

/* EIO on the target's disk: Redis's own log says so, the failed writes
 * are counted, and the batch it acknowledged without persisting is lost
 * as the scenario says; --keep is refused for a disk fault. */
START_TEST(test_disk_scenario_passes_with_the_nodes_own_words)
{
	char dir[PATH_MAX];
	json_t *rep, *ev, *lost;

	it_require_redis("fault_run");
	it_mkdtemp(dir, sizeof(dir), "sq-it-disk");
	if (it_sh("%s run --results %s scenarios/disk-target-aof-eio.ini > %s/out 2>&1; "
		  "test $? -eq 3", bin(), dir, dir) == 0)
		test_skip("fault_run: %s", "no seccomp user notification here");
	rep = it_report(dir, "disk-target-aof-eio");
	ck_assert_str_eq(json_string_value(json_object_get(rep, "result")), "passed");
	ev = json_object_get(json_array_get(json_object_get(rep, "faults"), 0), "evidence");
	ck_assert_int_gt(json_integer_value(json_object_get(ev, "write_failed")), 0);
	ck_assert_int_gt(json_integer_value(json_object_get(ev, "data_files_tracked")), 0);
	ck_assert_msg(strstr(json_string_value(json_object_get(ev, "log_first")),
			     "Error writing to the AOF file") != NULL, "%s",
		      json_string_value(json_object_get(ev, "log_first")));
	lost = json_object_get(json_object_get(rep, "verdict"), "lost_keys");
	ck_assert_int_ge(json_integer_value(json_object_get(lost, "count")), 5);
	json_decref(rep);
	ck_assert_int_eq(it_sh("%s run --keep --results %s scenarios/disk-target-aof-eio.ini "
			       "> %s/keep 2>&1; test $? -eq 2", bin(), dir, dir), 0);
	ck_assert_int_eq(it_sh("grep -q 'disk fault, whose node needs the run' %s/keep", dir), 0);
	it_sh("rm -rf %s", dir);
}
END_TEST

Suite *
fault_run_suite(void)
{
	Suite *s = suite_create("fault_run");
	TCase *tc = tcase_create("scenarios");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_oom_scenario_passes_with_the_kernels_evidence);
	tcase_add_test(tc, test_oom_kill_9_then_clean_leaves_nothing);
	tcase_add_test(tc, test_oom_without_root_is_skipped_with_the_reason);
	tcase_add_test(tc, test_oom_sigint_removes_the_group);
	tcase_add_test(tc, test_partition_one_way_keys_of_unknown_outcome_are_kept_once);
	tcase_add_test(tc, test_partition_kill_9_leaves_no_namespace);
	tcase_add_test(tc, test_partition_without_root_is_skipped_with_the_reason);
	tcase_add_test(tc, test_disk_scenario_passes_with_the_nodes_own_words);
	suite_add_tcase(s, tc);
	return s;
}
