/*
 * cmd_repair.c - `shardquake repair`: the bundled repair engine on any
 * cluster reachable from one address.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cluster/conn.h"
#include "common/clock.h"
#include "common/log.h"
#include "harness/cli/cli.h"
#include "repair/repair.h"

static const char usage[] =
	"usage: shardquake repair HOST:PORT [--dry-run] [--allow-data-loss] [--failover]\n"
	"                         [--salvage [HOST:PORT=]DIR]... [--restart-cmd CMD]\n"
	"                         [--audit FILE] [--timeout MS] [--local-addr IP] [--json]\n"
	"                         [--from-backup DIR] [--never-deleted]\n"
	"\n"
	"Assess the cluster (every node, each one's own view, keys per slot on\n"
	"every reachable node), plan, and apply the plan; again until nothing\n"
	"is left to do.  A replica holding keys no master has (a dead master's,\n"
	"or those a Redis 7.0 master's slot clean-up dropped) is a salvage\n"
	"source: read in place with DUMP (keys of slots its master lost, from\n"
	"an RDB copy of it: redis-cli --rdb), its keys copied to their owners.\n"
	"Open slots are finished or rolled back, whichever the nodes' states\n"
	"say, moving keys with MIGRATE; keys held by a node that\n"
	"does not own their slot go to the owner; disputed slots go to the\n"
	"claimant with the highest epoch; slots nobody serves go to the node\n"
	"holding their keys.  No key is ever deleted or overwritten: equal\n"
	"duplicates leave the other node for a stash file (its path is printed);\n"
	"another value than the owner's goes to the same stash (databases 1-15,\n"
	"listed in conflicts.txt): superseded when the node that served the\n"
	"slot's clients holds the newer one by construction (clients may go on\n"
	"writing), else a conflict for you to decide.  A slot whose owner does\n"
	"not claim it yet is held (imported, clients refused) until its keys\n"
	"are in, then claimed: no client write races with them.\n"
	"What the repair opens or relaxes is put back on every way out.  The\n"
	"slots of a master that is down are given away only when its keys are\n"
	"salvaged, or with --allow-data-loss; one with a replica that answers\n"
	"has it promoted first with --failover, else the plan says it would.\n"
	"Shown: the plan, a line per phase, and the result; the audit goes to\n"
	"a file.\n"
	"  --dry-run            print the plan, change nothing\n"
	"  --allow-data-loss    give away the slots of dead masters whose keys\n"
	"                       cannot be recovered\n"
	"  --failover           a dead master that serves slots and has a replica\n"
	"                       that answers has it promoted (CLUSTER FAILOVER\n"
	"                       TAKEOVER, as the cluster's own failover would: it\n"
	"                       serves them with the keys it replicated) before\n"
	"                       anything else; without it the plan says which\n"
	"                       replica it would promote and why, promotes none,\n"
	"                       and does what it can without: salvage (from the\n"
	"                       files given, and from the replica itself: its\n"
	"                       keys read with DUMP), else the slots wait and\n"
	"                       the result is not healthy\n"
	"  --salvage [ADDR=]DIR the data directory of a node (AOF, else RDB),\n"
	"                       always read by a rescue redis-server, whatever\n"
	"                       the cluster still knows of that node (without\n"
	"                       ADDR, DIR/nodes.conf says which node it was):\n"
	"                       every key in it that the owner of its slot\n"
	"                       lacks is copied there, the others compared;\n"
	"                       a dead node whose files are read is given up;\n"
	"                       the plan says what each holds, per slot range,\n"
	"                       and how many keys the cluster lacks.  Where the\n"
	"                       owner is that node's replica, promoted since,\n"
	"                       a key it lacks is restored only when the facts\n"
	"                       say so: when the files' RDB replication offset\n"
	"                       is one it had (INFO: second_repl_offset), the\n"
	"                       key was deleted since and is not; else (an AOF\n"
	"                       has no offset) it is undecided -- a write the\n"
	"                       replica never received, or a key deleted\n"
	"                       since: in the stash, a decision waits\n"
	"  --never-deleted      your clients never delete keys (nor let them\n"
	"                       expire): a key a promoted replica lacks is\n"
	"                       restored, whatever the offsets say\n"
	"  --from-backup DIR    a backup 'shardquake backup' wrote: each of its\n"
	"                       masters that no reachable node is now (dead,\n"
	"                       or back without its files as another node) is\n"
	"                       a salvage source of its RDB, read from a copy\n"
	"                       (the backup is never written to); keys the\n"
	"                       cluster lacks are restored, a key the cluster\n"
	"                       has with another value keeps it (the backup's\n"
	"                       is older: superseded, not a conflict); what was\n"
	"                       written after the backup and died with the node\n"
	"                       cannot come back: verify says which keys\n"
	"  --restart-cmd CMD    run CMD (sh -c) to start a dead node again, with\n"
	"                       SQ_NODE_HOST, SQ_NODE_PORT and SQ_NODE_ID set\n"
	"  --audit FILE         every command sent and reply (default: a new file\n"
	"                       shardquake-repair-DATE-TIME.audit in the working\n"
	"                       directory; with -v before 'repair', on stderr too)\n"
	"  --timeout MS         connect and reply timeout per node (default 2000)\n"
	"  --local-addr IP      this machine's address as the nodes reach it:\n"
	"                       the stash listens there, for the nodes MIGRATE\n"
	"                       into it (default 127.0.0.1: nodes on this host)\n"
	"  --json               the plans and the result as JSON on stdout\n"
	"Exit status: 0 healthy afterwards, every source read and nothing in it\n"
	"missing from the cluster, no decision waiting; 1 otherwise (what is\n"
	"left is printed); 2 usage error.\n";

struct cli {
	struct repair_opts o;
	struct salvage_src *salvage;
	size_t nsalvage;
	const char *restart_cmd, *audit_path, *local_addr;
	bool dry_run, json;
};

/* --salvage HOST:PORT=DIR, or DIR alone (its nodes.conf says whose
 * files they are).  A DIR with a '=' in it is taken whole unless what
 * comes before the '=' is an address. */
static int
add_salvage(struct cli *c, const char *arg)
{
	const char *eq = strchr(arg, '=');
	struct salvage_src *s;
	char addr[128];

	c->salvage = realloc(c->salvage, (c->nsalvage + 1) * sizeof(*c->salvage));
	s = &c->salvage[c->nsalvage];
	memset(s, 0, sizeof(*s));
	if (eq && eq != arg && (size_t)(eq - arg) < sizeof(addr)) {
		memcpy(addr, arg, (size_t)(eq - arg));
		addr[eq - arg] = '\0';
		if (strchr(addr, '/') == NULL &&
		    cli_parse_addr(addr, s->host, sizeof(s->host), &s->port) == 0) {
			if (!eq[1])
				return cli_usage_error(&cmd_repair, "--salvage '%s': no directory "
						       "after '='", arg);
			snprintf(s->dir, sizeof(s->dir), "%s", eq + 1);
			c->nsalvage++;
			return 0;
		}
		memset(s, 0, sizeof(*s));
	}
	if (!arg[0])
		return cli_usage_error(&cmd_repair, "--salvage: expected [HOST:PORT=]DIR");
	snprintf(s->dir, sizeof(s->dir), "%s", arg);
	c->nsalvage++;
	return 0;
}

/* --restart-cmd: the user's way of starting a node; then wait for it. */
static int
restart_cmd(void *arg, const char *host, int port, const char *id, struct err *e)
{
	const char *cmd = arg;
	char p[16];
	struct conn *c = NULL;
	uint64_t deadline;
	int st;

	snprintf(p, sizeof(p), "%d", port);
	setenv("SQ_NODE_HOST", host, 1);
	setenv("SQ_NODE_PORT", p, 1);
	setenv("SQ_NODE_ID", id, 1);
	st = system(cmd);
	if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return err_set(e, 0, "'%s' failed (status %d)", cmd, st);
	for (deadline = clock_now_ms() + 30000; clock_now_ms() < deadline; clock_sleep_ms(100)) {
		struct reply *r;

		if ((c = conn_open(host, port, 1000, NULL)) == NULL)
			continue;
		r = conn_cmd(c, NULL, "PING", NULL);
		conn_free(c);
		if (r && r->type == REPLY_STATUS) {
			reply_free(r);
			return 0;
		}
		reply_free(r);
	}
	return err_set(e, 0, "%s:%d did not answer within 30 s of '%s'", host, port, cmd);
}

/* The audit log's default home: a new file in the working directory,
 * shardquake-repair-YYYYmmdd-HHMMSS.audit (-2, -3 ... within one
 * second).  NULL with errno when it cannot be made. */
static FILE *
audit_default(char *path, size_t n)
{
	time_t t = time(NULL);
	char stamp[32];
	struct tm tm;
	int fd, k;

	localtime_r(&t, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
	for (k = 1; k < 100; k++) {
		if (k == 1)
			snprintf(path, n, "shardquake-repair-%s.audit", stamp);
		else
			snprintf(path, n, "shardquake-repair-%s-%d.audit", stamp, k);
		if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644)) >= 0)
			return fdopen(fd, "w");
		if (errno != EEXIST)
			return NULL;
	}
	return NULL;
}

/* Progress on stderr: on a terminal one line, rewritten as the repair
 * goes (at most ten times a second); elsewhere a line per phase. */
struct progress {
	bool tty, drawn;
	long long round;
	const char *phase;
	uint64_t last_ms;
};

static void
progress_clear(struct progress *pg)
{
	if (pg->tty && pg->drawn)
		fputs("\r\033[K", stderr);
	pg->drawn = false;
}

static void
show_progress(void *arg, const char *phase, long long done, long long total)
{
	struct progress *pg = arg;
	bool changed = pg->phase == NULL || strcmp(pg->phase, phase) != 0;
	uint64_t now = clock_now_ms();

	if (strcmp(phase, "round") == 0) {
		pg->round = done;
		return;
	}
	if (strcmp(phase, "plan") == 0) { /* the plan goes to stdout now */
		fflush(stderr);
		progress_clear(pg);
		return;
	}
	pg->phase = phase;
	if (!pg->tty) {
		if (changed)
			fprintf(stderr, "repair: round %lld: %s\n", pg->round, phase);
		return;
	}
	if (!changed && now - pg->last_ms < 100)
		return;
	pg->last_ms = now;
	fprintf(stderr, "\r\033[Krepair: round %lld: %s", pg->round, phase);
	if (total > 0)
		fprintf(stderr, " %lld/%lld keys", done, total);
	fflush(stderr);
	pg->drawn = true;
}

static volatile sig_atomic_t interrupted;

/* The first SIGINT/SIGTERM stops the repair at its next step, with the
 * relaxed settings put back; a second one stops it at once. */
static void
on_signal(int sig)
{
	if (interrupted) {
		signal(sig, SIG_DFL);
		raise(sig);
	}
	interrupted = 1;
}

static int
parse(int argc, char **argv, struct cli *c)
{
	static const struct option opts[] = {
		{"dry-run", 0, 0, 'n'},     {"allow-data-loss", 0, 0, 'L'}, {"salvage", 1, 0, 's'},
		{"restart-cmd", 1, 0, 'r'}, {"audit", 1, 0, 'a'},           {"timeout", 1, 0, 'T'},
		{"json", 0, 0, 'j'},        {"help", 0, 0, 'h'},            {"local-addr", 1, 0, 'l'},
		{"from-backup", 1, 0, 'b'}, {"failover", 0, 0, 'F'},       {"never-deleted", 0, 0, 'D'},
		{0, 0, 0, 0}};
	int ch;

	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'n': c->dry_run = true; break;
		case 'L': c->o.allow_data_loss = true; break;
		case 'F': c->o.allow_failover = true; break;
		case 'D': c->o.never_deleted = true; break;
		case 's':
			if (add_salvage(c, optarg))
				return EXIT_USAGE;
			break;
		case 'r': c->restart_cmd = optarg; break;
		case 'a': c->audit_path = optarg; break;
		case 'l': c->local_addr = optarg; break;
		case 'b': c->o.from_backup = optarg; break;
		case 'T':
			if (cli_parse_int("--timeout", optarg, 10, 600000, &c->o.timeout_ms) < 0)
				return EXIT_USAGE;
			break;
		case 'j': c->json = true; break;
		case 'h': fputs(usage, stdout); return 1;
		default: return cli_usage_error(&cmd_repair, "bad option for 'repair'");
		}
	}
	return 0;
}

static int
run(int argc, char **argv)
{
	struct cli c = {.o = {.timeout_ms = 2000}};
	struct repair_env env = {0};
	struct repair_outcome res;
	struct audit audit;
	struct progress pg = {.tty = isatty(STDERR_FILENO) == 1};
	struct err e = ERR_INIT;
	FILE *af = NULL;
	char host[256], apath[64];
	int port, rc;

	if ((rc = parse(argc, argv, &c)) != 0) {
		free(c.salvage);
		return rc == 1 ? EXIT_OK : rc;
	}
	if (optind != argc - 1 || cli_parse_addr(argv[optind], host, sizeof(host), &port) < 0) {
		free(c.salvage);
		return cli_usage_error(&cmd_repair, "expected one HOST:PORT");
	}
	/* a dry run changes nothing: no audit */
	if (!c.dry_run && c.audit_path && (af = fopen(c.audit_path, "a")) == NULL) {
		perror(c.audit_path);
		free(c.salvage);
		return EXIT_USAGE;
	}
	if (!c.dry_run && !c.audit_path) {
		if ((af = audit_default(apath, sizeof(apath))) == NULL) {
			fprintf(stderr, "shardquake: repair: cannot create an audit log in the "
				"working directory (%s): give one with --audit FILE\n",
				strerror(errno));
			free(c.salvage);
			return EXIT_USAGE;
		}
		c.audit_path = apath;
	}
	if (af)
		fprintf(stderr, "repair: audit log: %s\n", c.audit_path);
	c.o.salvage = c.salvage;
	c.o.nsalvage = c.nsalvage;
	c.o.can_restart = c.restart_cmd != NULL;
	env.restart = c.restart_cmd ? restart_cmd : NULL;
	env.restart_arg = (void *)c.restart_cmd;
	env.local_host = c.local_addr;
	env.progress = c.json ? NULL : show_progress;
	env.progress_arg = &pg;
	audit_start(&audit, af);
	if (log_level <= LOG_INFO)
		audit_tee(&audit, stderr);
	env.audit = &audit;
	env.interrupted = &interrupted;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	rc = repair_run(host, port, &c.o, &env, c.dry_run, c.json ? NULL : stdout, &res, &e);
	audit_pause(&audit);
	fflush(stderr);
	progress_clear(&pg);
	if (c.json)
		json_dumpf(res.report, stdout, JSON_INDENT(2)), putchar('\n');
	if (rc < 0)
		fprintf(stderr, "shardquake: repair: %s\n", e.msg);
	if (!c.json && !c.dry_run)
		repair_outcome_print(&res, stdout);
	else if (!c.json)
		printf("%s now\n", res.healthy ? "healthy" : "not healthy");
	if (af && !c.json)
		printf("  audit: %s\n", c.audit_path);
	rc = res.healthy && res.decisions == 0 ? EXIT_OK : EXIT_FINDINGS;
	repair_outcome_release(&res);
	if (af)
		fclose(af);
	free(c.salvage);
	return rc;
}

const struct command cmd_repair = {
	.name = "repair",
	.summary = "assess, plan and repair a cluster, keeping every key it can reach",
	.usage = usage,
	.run = run,
};
