/*
 * disk_log.c - what the disk fault did, for the report: the calls failed
 * or delayed, the data files tracked, and what the node's own log said
 * after the fault (Redis 7.0's words for failed or slow persistence).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/xmalloc.h"
#include "injectors/disk_int.h"

/* Bytes of the log read by describe() at most. */
#define LOG_SCAN_MAX (16 << 20)

/* What the node's log says after the fault. */
struct log_evidence {
	bool readable;
	int trouble; /* lines about failed or slow writes */
	int solved;  /* "AOF write error looks solved" */
	char first[120];
};

static bool
is_trouble(const struct disk_priv *k, const char *line)
{
	/* Redis 7.0's words for failed or slow persistence, first letters
	 * left out to match either case ("Error writing", "error writing") */
	static const char *const marks[] = {
		"rror writing", "hort write", "rror trying to", "ail to fsync", "ailed opening",
		"rite error",   "with error", "disk is busy",   "an't open",    "an't persist",
		"an't recover",
	};
	size_t i;

	if (strstr(line, "to client") || strstr(line, "looks solved"))
		return false;
	if (k->err && strstr(line, strerror(k->err)))
		return true;
	for (i = 0; i < ARRAY_SIZE(marks); i++)
		if (strstr(line, marks[i]))
			return true;
	return false;
}

/* A Redis log line without "pid:role date time level ", into out. */
static void
quote(const char *line, char *out, size_t n)
{
	const char *msg = line, *p = line;
	size_t len;
	int i;

	for (i = 0; i < 6 && p; i++)
		if ((p = strchr(p, ' ')) != NULL)
			msg = ++p;
	len = strcspn(msg, "\r\n");
	snprintf(out, n, "%.*s", (int)len, msg);
	if (len > n - 1 && n > 4)
		memcpy(out + n - 4, "...", 4);
}

static void
disk_scan_log(const struct disk_priv *k, struct log_evidence *ev)
{
	FILE *fp = fopen(k->log_path, "re");
	size_t cap = 0, seen = 0;
	char *line = NULL;
	ssize_t len;

	memset(ev, 0, sizeof(*ev));
	if (fp == NULL || fseeko(fp, k->log_off, SEEK_SET) < 0)
		goto out_close;
	ev->readable = true;
	while (seen < LOG_SCAN_MAX && (len = getline(&line, &cap, fp)) > 0) {
		seen += (size_t)len;
		if (strstr(line, "looks solved"))
			ev->solved++;
		else if (is_trouble(k, line) && ev->trouble++ == 0)
			quote(line, ev->first, sizeof(ev->first));
	}
	free(line);
out_close:
	if (fp)
		fclose(fp);
}

void
disk_describe(const struct fault *f, char *out, size_t n)
{
	const struct disk_priv *k = f->priv;
	const char *logname = strrchr(k->log_path, '/');
	struct log_evidence ev;
	struct buf b = BUF_INIT;
	const char *sep = "";
	int i;

	if (k->slow_ms)
		buf_addf(&b, "node %d: disk slow by %lld ms:", k->port, k->slow_ms);
	else
		buf_addf(&b, "node %d: disk fails with %s:", k->port,
			 k->err == EIO ? "EIO" : k->err == ENOSPC ? "ENOSPC" : "EDQUOT");
	for (i = 0; i < CALL_N; i++) {
		if (!(k->calls & BIT(i)))
			continue;
		buf_addf(&b, "%s %lu %s", sep, atomic_load(&k->hits[i]), disk_call_names[i]);
		sep = ",";
	}
	buf_adds(&b, k->slow_ms ? " delayed" : " failed");
	if (k->track)
		buf_addf(&b, "; %lu data files tracked", atomic_load(&k->tracked));
	if (atomic_load(&k->untracked))
		buf_addf(&b, "; %lu opened by the node itself, out of reach",
			 atomic_load(&k->untracked));
	disk_scan_log(k, &ev);
	logname = logname ? logname + 1 : "log";
	if (!ev.readable)
		buf_addf(&b, "; %s unreadable", logname);
	else if (ev.trouble)
		buf_addf(&b, "; %s since: %d line%s about it, first \"%s\"", logname, ev.trouble,
			 ev.trouble == 1 ? "" : "s", ev.first);
	else
		buf_addf(&b, "; %s since: nothing about it", logname);
	if (ev.solved)
		buf_addf(&b, "; the node says \"AOF write error looks solved\"");
	if (k->healed)
		buf_adds(&b, "; healed");
	snprintf(out, n, "%s", buf_str(&b));
	buf_release(&b);
}

void
disk_evidence(const struct fault *f, struct evidence *ev)
{
	const struct disk_priv *k = f->priv;
	struct log_evidence lg;
	char key[48];
	int i;

	if (k->slow_ms)
		evidence_num(ev, "slow_ms", k->slow_ms);
	else
		evidence_add(ev, "errno", "%s",
			     k->err == EIO ? "EIO" : k->err == ENOSPC ? "ENOSPC" : "EDQUOT");
	for (i = 0; i < CALL_N; i++)
		if (k->calls & BIT(i)) {
			snprintf(key, sizeof(key), "%s_%s", disk_call_names[i],
				 k->slow_ms ? "delayed" : "failed");
			evidence_num(ev, key, (long long)atomic_load(&k->hits[i]));
		}
	evidence_num(ev, "data_files_tracked", (long long)atomic_load(&k->tracked));
	disk_scan_log(k, &lg);
	if (lg.readable) {
		evidence_num(ev, "log_lines_about_it", lg.trouble);
		if (lg.trouble)
			evidence_add(ev, "log_first", "%s", lg.first);
		evidence_add(ev, "log_says_solved", "%s", lg.solved ? "yes" : "no");
	}
}
