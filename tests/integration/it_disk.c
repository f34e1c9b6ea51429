/*
 * Integration tests of the disk fault: a real redis-server with an
 * append-only file, started under the real seccomp filter, its writes
 * failed or slowed by the real supervisor, and Redis's own reaction
 * (MISCONF, INFO persistence, its log) checked.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cluster/conn.h"
#include "common/clock.h"
#include "common/fs.h"
#include "common/port.h"
#include "injectors/injector.h"
#include "tests/support/itutil.h"
#include "tests/support/runner.h"

extern const struct injector_ops disk_injector;

struct node {
	struct proc proc;
	struct target t;
	struct fault *f;
	struct conn *c;
	char dir[PATH_MAX];
	char log[PATH_MAX + 16];
	char out[PATH_MAX + 16];
	char port_s[16];
};

static int
in_child(void *arg)
{
	struct node *n = arg;

	return n->f->ops->in_child(n->f, &n->t);
}

/* A disk fault with `p`; the test is skipped where it cannot work. */
static struct fault *
new_fault(const struct param *p, size_t np)
{
	struct params ps = {p, np};
	struct err e = ERR_INIT;
	struct fault *f;

	it_require_redis("disk");
	f = fault_new(&disk_injector, &ps, &e);
	ck_assert_msg(f != NULL, "%s", e.msg);
	if (disk_injector.check(f, &e) < 0) {
		fault_free(f);
		test_skip("disk: %s", e.msg);
	}
	return f;
}

/* Starts redis-server with AOF everysec under the fault's filter (none
 * when f is NULL) and waits until it answers PING. */
static void
start(struct node *n, struct fault *f)
{
	const char *argv[] = {it_server(), "--port", n->port_s, "--bind", "127.0.0.1",
			      "--appendonly", "yes", "--appendfsync", "everysec", "--dir",
			      n->dir, "--logfile", n->log, "--save", "", NULL};
	struct err e = ERR_INIT;
	uint64_t deadline;
	struct reply *r;
	int port;

	memset(n, 0, sizeof(*n));
	it_mkdtemp(n->dir, sizeof(n->dir), "disk");
	snprintf(n->log, sizeof(n->log), "%s/redis.log", n->dir);
	snprintf(n->out, sizeof(n->out), "%s/redis.out", n->dir);
	port = port_free_loopback(&e);
	ck_assert_msg(port > 0, "%s", e.msg);
	snprintf(n->port_s, sizeof(n->port_s), "%d", port);
	n->f = f;
	n->t = (struct target){.proc = &n->proc, .dir = n->dir, .port = port, .tag = "sq-it"};
	n->proc.argv = argv;
	n->proc.out_path = n->out;
	if (f) {
		ck_assert_msg(f->ops->prepare(f, &n->t, &e) == 0, "%s", e.msg);
		n->proc.in_child = in_child;
		n->proc.in_child_arg = n;
	}
	ck_assert_msg(proc_start(&n->proc, &e) == 0, "%s", e.msg);
	n->proc.argv = NULL;
	for (deadline = clock_now_ms() + 10000; clock_now_ms() < deadline; clock_sleep_ms(20)) {
		ck_assert_msg(proc_is_running(&n->proc), "redis-server %s (see %s)",
			      proc_describe_status(n->proc.status), n->log);
		if (n->c == NULL)
			n->c = conn_open("127.0.0.1", port, 5000, NULL);
		if (n->c && (r = conn_cmd(n->c, NULL, "PING", NULL)) != NULL) {
			bool up = r->type == REPLY_STATUS;

			reply_free(r);
			if (up)
				return;
		}
		if (n->c && conn_is_broken(n->c)) {
			conn_free(n->c);
			n->c = NULL;
		}
	}
	ck_abort_msg("redis-server on port %d did not answer PING in 10 s", port);
}

/* Kills the node, releases the fault and removes its directory. */
static void
stop(struct node *n)
{
	conn_free(n->c);
	n->c = NULL;
	proc_kill(&n->proc);
	if (n->f)
		n->f->ops->release(n->f);
	fs_rm_rf(n->dir, NULL);
}

static struct reply *
cmd3(struct node *n, const char *a0, const char *a1, const char *a2)
{
	struct err e = ERR_INIT;
	struct reply *r = conn_cmd(n->c, &e, a0, a1, a2, NULL);

	ck_assert_msg(r != NULL, "%s %s: %s", a0, a1 ? a1 : "", e.msg);
	return r;
}

/* SET key value; returns the reply's text, "OK" or the error, in out. */
static void
set(struct node *n, const char *key, const char *value, char *out, size_t len)
{
	struct reply *r = cmd3(n, "SET", key, value);

	snprintf(out, len, "%s", r->str ? r->str : "?");
	reply_free(r);
}

static void
info(struct node *n, const char *field, char *out, size_t len)
{
	struct err e = ERR_INIT;
	char *text = conn_cmd_str(n->c, &e, "INFO", "persistence", NULL);

	ck_assert_msg(text != NULL, "%s", e.msg);
	ck_assert_msg(info_field(text, field, out, len) == 0, "no %s in INFO", field);
	free(text);
}

static void
describe(const struct fault *f, char *out, size_t len)
{
	out[0] = '\0';
	f->ops->describe(f, out, len);
}

/* The number written just before " word" in text, or -1. */
static long
number_before(const char *text, const char *word)
{
	size_t wl = strlen(word);
	const char *p, *d;

	for (p = strstr(text, word); p; p = strstr(p + 1, word)) {
		if (p == text || p[-1] != ' ' || (p[wl] != ' ' && p[wl] != ',' && p[wl] != ';'))
			continue;
		for (d = p - 1; d > text && d[-1] >= '0' && d[-1] <= '9';)
			d--;
		if (d < p - 1)
			return strtol(d, NULL, 10);
	}
	return -1;
}

/* The bytes of the node's append-only files. */
static long long
aof_bytes(const struct node *n)
{
	char path[PATH_MAX + 64];
	long long sum = 0;
	struct dirent *d;
	struct stat st;
	DIR *dir;

	snprintf(path, sizeof(path), "%s/appendonlydir", n->dir);
	if ((dir = opendir(path)) == NULL)
		return 0;
	while ((d = readdir(dir)) != NULL) {
		snprintf(path, sizeof(path), "%s/appendonlydir/%s", n->dir, d->d_name);
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
			sum += st.st_size;
	}
	closedir(dir);
	return sum;
}

/* Entries of a /proc/self directory: descriptors, threads. */
static int
count_entries(const char *path)
{
	struct dirent *d;
	DIR *dir = opendir(path);
	int n = 0;

	ck_assert_ptr_nonnull(dir);
	while ((d = readdir(dir)) != NULL)
		n += d->d_name[0] != '.';
	closedir(dir);
	return n - (strcmp(path, "/proc/self/fd") == 0); /* opendir's own */
}

/* Polls SET until its answer starts with `want` or 5 s pass. */
static void
set_until(struct node *n, const char *want, char *got, size_t len)
{
	uint64_t deadline = clock_now_ms() + 5000;
	char key[32];
	int i = 0;

	do {
		snprintf(key, sizeof(key), "poll%d", i++);
		set(n, key, "x", got, len);
		if (strncmp(got, want, strlen(want)) == 0)
			return;
		clock_sleep_ms(20);
	} while (clock_now_ms() < deadline);
	ck_abort_msg("SET still answers '%s' after 5 s, not %s...", got, want);
}

/* Polls describe() until it contains `want` or 5 s pass. */
static void
describe_until(const struct fault *f, const char *want, char *out, size_t len)
{
	uint64_t deadline = clock_now_ms() + 5000;

	for (;;) {
		describe(f, out, len);
		if (strstr(out, want) || clock_now_ms() >= deadline)
			break;
		clock_sleep_ms(50);
	}
	ck_assert_msg(strstr(out, want), "describe: '%s' lacks '%s'", out, want);
}

static const char *const errno_names[] = {"EIO", "ENOSPC", "EDQUOT"};
static const int errno_values[] = {EIO, ENOSPC, EDQUOT};

/* Each errno: before the fault the node writes its AOF through the
 * supervisor; after it Redis refuses writes with MISCONF naming that
 * errno and keeps serving reads; once healed it writes again by itself;
 * releasing the fault after the node's death leaves no thread and no
 * descriptor behind. */
START_TEST(test_disk_errno_makes_redis_refuse_writes_then_heals)
{
	struct param p[] = {{"errno", errno_names[_i], 2}};
	char got[512], text[1024];
	int fds0, tasks0;
	struct fault *f;
	struct reply *r;
	struct node n;
	long long size0;
	uint64_t deadline;
	struct err e = ERR_INIT;

	fds0 = count_entries("/proc/self/fd");
	tasks0 = count_entries("/proc/self/task");
	f = new_fault(p, 1);
	start(&n, f);
	size0 = aof_bytes(&n);
	set(&n, "k0", "v0", got, sizeof(got));
	ck_assert_str_eq(got, "OK");
	for (deadline = clock_now_ms() + 5000; aof_bytes(&n) <= size0;)
		ck_assert_msg(clock_now_ms() < deadline, "the AOF did not grow");
	describe(f, text, sizeof(text));
	ck_assert_msg(number_before(text, "data files tracked") >= 1, "%s", text);

	ck_assert_msg(f->ops->inject(f, &n.t, &e) == 0, "%s", e.msg);
	set_until(&n, "MISCONF", got, sizeof(got));
	ck_assert_msg(strstr(got, strerror(errno_values[_i])), "'%s' does not say '%s'", got,
		      strerror(errno_values[_i]));
	info(&n, "aof_last_write_status", got, sizeof(got));
	ck_assert_str_eq(got, "err");
	r = cmd3(&n, "GET", "k0", NULL);
	ck_assert_int_eq(r->type, REPLY_STRING);
	ck_assert_str_eq(r->str, "v0");
	reply_free(r);
	describe_until(f, " about it, first", text, sizeof(text));
	ck_assert_msg(number_before(text, "write") > 0, "%s", text);
	ck_assert_msg(strstr(text, errno_names[_i]), "%s", text);

	ck_assert_int_eq(f->ops->revert(f, &e), 0);
	ck_assert_int_eq(f->ops->revert(f, &e), 0); /* idempotent */
	set_until(&n, "OK", got, sizeof(got));
	info(&n, "aof_last_write_status", got, sizeof(got));
	ck_assert_str_eq(got, "ok");
	describe_until(f, "looks solved", text, sizeof(text));
	ck_assert_msg(strstr(text, "healed"), "%s", text);

	stop(&n);
	f->ops->release(f); /* idempotent */
	ck_assert_int_eq(count_entries("/proc/self/task"), tasks0);
	ck_assert_int_eq(count_entries("/proc/self/fd"), fds0);
	fault_free(f);
}
END_TEST

/* A disk that stalls: with appendfsync always every SET waits for its
 * AOF write and fsync, each delayed slow_ms; the answer is still OK,
 * and once healed a SET is fast again. */
START_TEST(test_disk_slow_delays_write_and_fsync)
{
	struct param p[] = {{"slow_ms", "300", 2}};
	struct err e = ERR_INIT;
	char got[512], text[1024];
	struct fault *f;
	struct reply *r;
	struct node n;
	uint64_t t0, took;

	f = new_fault(p, 1);
	start(&n, f);
	r = conn_cmd(n.c, &e, "CONFIG", "SET", "appendfsync", "always", NULL);
	ck_assert_msg(r && r->type == REPLY_STATUS, "CONFIG SET: %s", r ? r->str : e.msg);
	reply_free(r);
	t0 = clock_now_ms();
	set(&n, "k", "before", got, sizeof(got));
	ck_assert_str_eq(got, "OK");
	ck_assert_uint_lt(clock_now_ms() - t0, 300);

	ck_assert_msg(f->ops->inject(f, &n.t, &e) == 0, "%s", e.msg);
	t0 = clock_now_ms();
	set(&n, "k", "during", got, sizeof(got));
	took = clock_now_ms() - t0;
	ck_assert_str_eq(got, "OK");
	/* a write and an fsync, 300 ms each (the timer counts whole ms) */
	ck_assert_msg(took >= 2 * 300 - 2 && took < 5000, "SET took %llu ms",
		      (unsigned long long)took);
	describe(f, text, sizeof(text));
	ck_assert_msg(number_before(text, "write") >= 1, "%s", text);
	ck_assert_msg(number_before(text, "fsync") >= 1, "%s", text);
	ck_assert_msg(strstr(text, "delayed"), "%s", text);
	info(&n, "aof_last_write_status", got, sizeof(got));
	ck_assert_str_eq(got, "ok");

	ck_assert_int_eq(f->ops->revert(f, &e), 0);
	t0 = clock_now_ms();
	set(&n, "k", "after", got, sizeof(got));
	ck_assert_str_eq(got, "OK");
	ck_assert_uint_lt(clock_now_ms() - t0, 300);
	stop(&n);
	fault_free(f);
}
END_TEST

/* Waits for the AOF rewrite to end; its status ("ok", "err") in out. */
static void
rewrite_status(struct node *n, char *out, size_t len)
{
	uint64_t deadline = clock_now_ms() + 10000;
	char busy[32], scheduled[32];

	do {
		info(n, "aof_rewrite_in_progress", busy, sizeof(busy));
		info(n, "aof_rewrite_scheduled", scheduled, sizeof(scheduled));
		if (strcmp(busy, "0") == 0 && strcmp(scheduled, "0") == 0)
			break;
		clock_sleep_ms(20);
	} while (clock_now_ms() < deadline);
	ck_assert_msg(strcmp(busy, "0") == 0, "the AOF rewrite still runs after 10 s");
	info(n, "aof_last_bgrewrite_status", out, len);
}

static const char *const path_calls[] = {"open", "rename"};

/* Failing only the opens (or renames) of data files: an AOF rewrite,
 * which opens a new AOF and renames files into place, fails; the AOF
 * already open still takes writes; the log, opened for appending at
 * every line, still works and tells.  Healed, a rewrite succeeds. */
START_TEST(test_disk_open_or_rename_fails_aof_rewrite)
{
	struct param p[] = {{"calls", path_calls[_i], 3}};
	struct err e = ERR_INIT;
	char got[512], text[1024];
	struct fault *f;
	struct reply *r;
	struct node n;

	f = new_fault(p, 1);
	start(&n, f);
	set(&n, "k", "v", got, sizeof(got));
	ck_assert_str_eq(got, "OK");
	ck_assert_msg(f->ops->inject(f, &n.t, &e) == 0, "%s", e.msg);
	r = cmd3(&n, "BGREWRITEAOF", NULL, NULL);
	reply_free(r); /* refused (open) or started (rename): the status tells */
	rewrite_status(&n, got, sizeof(got));
	ck_assert_str_eq(got, "err");
	set(&n, "k2", "v2", got, sizeof(got));
	ck_assert_str_eq(got, "OK");
	describe_until(f, " about it, first", text, sizeof(text));
	ck_assert_msg(number_before(text, path_calls[_i]) >= 1, "%s", text);

	ck_assert_int_eq(f->ops->revert(f, &e), 0);
	r = cmd3(&n, "BGREWRITEAOF", NULL, NULL);
	ck_assert_msg(r->type == REPLY_STATUS, "BGREWRITEAOF: %s", r->str);
	reply_free(r);
	rewrite_status(&n, got, sizeof(got));
	ck_assert_str_eq(got, "ok");
	stop(&n);
	fault_free(f);
}
END_TEST

/* inject() on a node that was not started under the filter fails, says
 * why, and arms nothing. */
START_TEST(test_disk_inject_needs_a_filtered_node)
{
	struct err e = ERR_INIT;
	struct fault *f = new_fault(NULL, 0);
	char text[512];
	struct node n;

	start(&n, NULL);
	ck_assert_int_eq(f->ops->prepare(f, &n.t, &e), 0); /* after the start */
	ck_assert_int_eq(f->ops->inject(f, &n.t, &e), -1);
	ck_assert_msg(strstr(e.msg, "no seccomp listener"), "%s", e.msg);
	ck_assert(!f->injected);
	ck_assert_int_eq(f->ops->revert(f, NULL), 0);
	stop(&n);
	f->ops->release(f);
	describe(f, text, sizeof(text));
	ck_assert_msg(strstr(text, "0 write, 0 fsync failed"), "%s", text);
	fault_free(f);
}
END_TEST

Suite *
disk_suite(void)
{
	Suite *s = suite_create("disk");
	TCase *tc = tcase_create("disk");

	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_disk_errno_makes_redis_refuse_writes_then_heals, 0,
			    (int)(sizeof(errno_names) / sizeof(errno_names[0])));
	tcase_add_test(tc, test_disk_slow_delays_write_and_fsync);
	tcase_add_loop_test(tc, test_disk_open_or_rename_fails_aof_rewrite, 0,
			    (int)(sizeof(path_calls) / sizeof(path_calls[0])));
	tcase_add_test(tc, test_disk_inject_needs_a_filtered_node);
	suite_add_tcase(s, tc);
	return s;
}
