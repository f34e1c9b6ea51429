/*
 * backup_json.c - backup.json, written and read back; see backup.h.
 *
 *   {"format": 1, "time_ms": 1718000000123, "time": "2024-06-10T06:13:20.123Z",
 *    "done_ms": ..., "from": "127.0.0.1:7000", "keys": 200000,
 *    "masters": [{"id": "...", "address": "127.0.0.1:7000",
 *                 "slots": [[0, 5460]], "keys": 66667, "bytes": 1234567,
 *                 "rdb": "node-7000/dump.rdb"}, ...]}
 */
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cluster/backup.h"
#include "common/xmalloc.h"

#define BACKUP_FORMAT 1

static json_t *
master_json(const struct backup_master *m)
{
	json_t *slots = json_array();
	char addr[96];
	size_t i;

	for (i = 0; i < m->nranges; i++)
		json_array_append_new(slots, json_pack("[i, i]", m->ranges[i].first,
						       m->ranges[i].last));
	snprintf(addr, sizeof(addr), "%s:%d", m->host, m->port);
	return json_pack("{s:s, s:s, s:o, s:I, s:I, s:s}", "id", m->id, "address", addr, "slots",
			 slots, "keys", (json_int_t)m->keys, "bytes", (json_int_t)m->bytes, "rdb",
			 m->rdb);
}

int
backup_write(const struct backup *b, const char *dir, struct err *e)
{
	json_t *masters = json_array(), *j;
	char path[PATH_MAX + 32];
	size_t i;
	int rc = 0;

	for (i = 0; i < b->n; i++)
		json_array_append_new(masters, master_json(&b->m[i]));
	j = json_pack("{s:i, s:I, s:s, s:I, s:s, s:I, s:o}", "format", BACKUP_FORMAT, "time_ms",
		      (json_int_t)b->time_ms, "time", b->time, "done_ms", (json_int_t)b->done_ms,
		      "from", b->from, "keys", (json_int_t)backup_keys(b), "masters", masters);
	snprintf(path, sizeof(path), "%s/%s", dir, BACKUP_JSON);
	if (json_dump_file(j, path, JSON_INDENT(2)) < 0)
		rc = err_set(e, 0, "write '%s'", path);
	json_decref(j);
	return rc;
}

/* Reading: the first thing wrong, named by its field. */
struct rd {
	const char *path;
	struct err *e;
};

static int
bad(struct rd *r, const char *field, const char *want)
{
	return err_set(r->e, 0, "'%s': %s: expected %s", r->path, field, want);
}

static int
get_ll(struct rd *r, json_t *o, const char *k, const char *field, long long min, long long *out)
{
	json_t *v = json_object_get(o, k);

	if (!json_is_integer(v) || json_integer_value(v) < min)
		return bad(r, field, min > 0 ? "a positive whole number" : "a whole number >= 0");
	*out = (long long)json_integer_value(v);
	return 0;
}

static int
get_str(struct rd *r, json_t *o, const char *k, const char *field, char *out, size_t n)
{
	json_t *v = json_object_get(o, k);

	if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) >= n)
		return bad(r, field, "a string");
	snprintf(out, n, "%s", json_string_value(v));
	return 0;
}

static int
read_slots(struct rd *r, json_t *a, const char *field, struct backup_master *m)
{
	json_t *pair;
	size_t i;

	if (!json_is_array(a))
		return bad(r, field, "a list of [first, last] slot ranges");
	m->ranges = xcalloc(json_array_size(a) + 1, sizeof(*m->ranges));
	json_array_foreach(a, i, pair)
	{
		json_t *f = json_array_get(pair, 0), *l = json_array_get(pair, 1);

		if (json_array_size(pair) != 2 || !json_is_integer(f) || !json_is_integer(l) ||
		    json_integer_value(f) < 0 || json_integer_value(l) >= CLUSTER_SLOTS ||
		    json_integer_value(f) > json_integer_value(l))
			return bad(r, field, "[first, last] slot ranges within 0-16383");
		m->ranges[m->nranges++] = (struct slot_range){(int)json_integer_value(f),
							      (int)json_integer_value(l)};
	}
	return 0;
}

/* "127.0.0.1:7000" into host and port (the last colon). */
static int
split_addr(struct rd *r, const char *addr, const char *field, struct backup_master *m)
{
	const char *colon = strrchr(addr, ':');
	char *end;
	long p;

	if (colon == NULL || colon == addr || (size_t)(colon - addr) >= sizeof(m->host))
		return bad(r, field, "HOST:PORT");
	p = strtol(colon + 1, &end, 10);
	if (*end || p < 1 || p > 65535)
		return bad(r, field, "HOST:PORT");
	snprintf(m->host, sizeof(m->host), "%.*s", (int)(colon - addr), addr);
	m->port = (int)p;
	return 0;
}

static int
read_master(struct rd *r, const char *dir, json_t *o, size_t k, struct backup_master *m)
{
	char f[64], addr[96], file[2 * PATH_MAX];

#define FIELD(name) (snprintf(f, sizeof(f), "masters[%zu].%s", k, name), f)
	if (!json_is_object(o))
		return bad(r, (snprintf(f, sizeof(f), "masters[%zu]", k), f), "an object");
	if (get_str(r, o, "id", FIELD("id"), m->id, sizeof(m->id)) < 0 ||
	    strlen(m->id) != NODE_ID_LEN)
		return bad(r, FIELD("id"), "a node id of 40 characters");
	if (get_str(r, o, "address", FIELD("address"), addr, sizeof(addr)) < 0 ||
	    split_addr(r, addr, FIELD("address"), m) < 0 ||
	    read_slots(r, json_object_get(o, "slots"), FIELD("slots"), m) < 0 ||
	    get_ll(r, o, "keys", FIELD("keys"), 0, &m->keys) < 0 ||
	    get_ll(r, o, "bytes", FIELD("bytes"), 0, &m->bytes) < 0 ||
	    get_str(r, o, "rdb", FIELD("rdb"), m->rdb, sizeof(m->rdb)) < 0)
		return -1;
	if (m->rdb[0] == '/' || strstr(m->rdb, ".."))
		return bad(r, FIELD("rdb"), "a path inside the backup's directory");
	snprintf(file, sizeof(file), "%s/%s", dir, m->rdb);
	if (access(file, R_OK) < 0)
		return err_set(r->e, 0, "'%s': %s: no file '%s'", r->path, FIELD("rdb"), file);
#undef FIELD
	return 0;
}

int
backup_read(const char *dir, struct backup *b, struct err *e)
{
	char path[PATH_MAX + 32];
	struct rd r = {.path = path, .e = e};
	struct backup nb = {0};
	json_error_t je;
	json_t *j, *masters, *o;
	long long format;
	size_t i;
	int rc = -1;

	snprintf(path, sizeof(path), "%s/%s", dir, BACKUP_JSON);
	if ((j = json_load_file(path, 0, &je)) == NULL)
		return err_set(e, 0, "'%s': %s%s", path, je.text,
			       access(path, F_OK) < 0 ? " (not a backup's directory?)" : "");
	if (!json_is_object(j)) {
		bad(&r, "the whole", "an object");
		goto out;
	}
	if (get_ll(&r, j, "format", "format", 1, &format) < 0)
		goto out;
	if (format != BACKUP_FORMAT) {
		err_set(e, 0, "'%s': format %lld: this shardquake reads format %d", path, format,
			BACKUP_FORMAT);
		goto out;
	}
	if (get_ll(&r, j, "time_ms", "time_ms", 1, &nb.time_ms) < 0 ||
	    get_ll(&r, j, "done_ms", "done_ms", 1, &nb.done_ms) < 0 ||
	    get_str(&r, j, "time", "time", nb.time, sizeof(nb.time)) < 0)
		goto out;
	if (json_is_string(json_object_get(j, "from")))
		snprintf(nb.from, sizeof(nb.from), "%s", json_string_value(json_object_get(j, "from")));
	masters = json_object_get(j, "masters");
	if (!json_is_array(masters) || json_array_size(masters) == 0) {
		bad(&r, "masters", "a list of one master or more");
		goto out;
	}
	nb.m = xcalloc(json_array_size(masters) + 1, sizeof(*nb.m));
	json_array_foreach(masters, i, o)
	{
		nb.n++;
		if (read_master(&r, dir, o, i, &nb.m[i]) < 0)
			goto out;
	}
	*b = nb;
	memset(&nb, 0, sizeof(nb));
	rc = 0;
out:
	backup_release(&nb);
	json_decref(j);
	return rc;
}
