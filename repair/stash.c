/* stash.c - a private home for copies that leave a node; see stash.h. */
#include "repair/stash.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

struct conn *
stash_conn(struct stash *s, struct err *e)
{
	if (s->srv.c != NULL)
		return s->srv.c;
	s->srv.name = "stash";
	s->srv.host = s->host;
	if (private_server_dir(&s->srv, s->parent, e) < 0 ||
	    private_server_start(&s->srv, s->redis_server, NULL, s->timeout_ms, 10000, e) < 0) {
		err_prefix(e, "start the stash: ");
		private_server_stop(&s->srv, false);
		return NULL;
	}
	return s->srv.c;
}

/* conflicts.txt, opened on the first conflict. */
static FILE *
list_file(struct stash *s, struct err *e)
{
	char path[PATH_MAX + 32];

	if (s->list)
		return s->list;
	snprintf(path, sizeof(path), "%s/conflicts.txt", s->srv.dir);
	if ((s->list = fopen(path, "w")) == NULL)
		err_set(e, errno, "create '%s': %s", path, strerror(errno));
	else
		fprintf(s->list, "# db\tkey\twhere it was, and who keeps the other value\n");
	return s->list;
}

static void
put_key(FILE *f, const struct reply *key)
{
	size_t i;

	for (i = 0; i < key->len; i++) {
		unsigned char c = (unsigned char)key->str[i];

		if (isprint(c) && c != '\\')
			fputc(c, f);
		else
			fprintf(f, "\\x%02x", c);
	}
}

/* Its line in conflicts.txt: set aside in database k. */
static void
listed(struct stash *s, const struct reply *key, const char *what, int k, int *db)
{
	fprintf(s->list, "%d\t", k);
	put_key(s->list, key);
	fprintf(s->list, "\t%s\n", what);
	fflush(s->list);
	s->conflicts++;
	*db = k;
}

int
stash_conflict(struct stash *s, struct conn *src, const struct reply *key, bool copy,
	       const char *what, int *db, struct err *e)
{
	const char *argv[10];
	size_t lens[10];
	struct conn *c;
	struct reply *r;
	char port[16], tmo[16], dbs[8];
	int argc, i, k;

	if ((c = stash_conn(s, e)) == NULL || list_file(s, e) == NULL)
		return -1;
	snprintf(port, sizeof(port), "%d", conn_port(c));
	snprintf(tmo, sizeof(tmo), "%d", s->timeout_ms);
	for (k = 1; k <= STASH_CONFLICT_DBS; k++) {
		snprintf(dbs, sizeof(dbs), "%d", k);
		argc = 0;
		argv[argc++] = "MIGRATE";
		argv[argc++] = conn_host(c);
		argv[argc++] = port;
		argv[argc++] = key->str;
		argv[argc++] = dbs;
		argv[argc++] = tmo;
		if (copy)
			argv[argc++] = "COPY";
		for (i = 0; i < argc; i++)
			lens[i] = strlen(argv[i]);
		lens[3] = key->len;
		if ((r = conn_cmd_argv(src, argc, argv, lens, e)) == NULL)
			return -1;
		if (r->type == REPLY_ERROR && strstr(r->str, "BUSYKEY")) {
			reply_free(r); /* this database has one: the next */
			continue;
		}
		if (r->type == REPLY_ERROR) {
			err_set(e, 0, "'MIGRATE' of '%s' from '%s' to the stash: %s", key->str,
				conn_addr(src), r->str);
			reply_free(r);
			return -1;
		}
		reply_free(r);
		listed(s, key, what, k, db);
		return 0;
	}
	return 1;
}

/* RESTORE of the payload into database k of the stash: 0, 1 when that
 * database has the name already, -1 with `e`. */
static int
restore_in(struct conn *c, int k, const struct reply *key, const char *ttl,
	   const struct reply *payload, struct err *e)
{
	const char *argv[4] = {"RESTORE", key->str, ttl, payload->str};
	size_t lens[4] = {7, key->len, strlen(ttl), payload->len};
	struct reply *r;
	char dbs[8];
	int rc = 0;

	snprintf(dbs, sizeof(dbs), "%d", k);
	if (conn_cmd_ok(c, e, "SELECT", dbs, NULL) < 0 ||
	    (r = conn_cmd_argv(c, 4, argv, lens, e)) == NULL)
		return -1;
	if (r->type == REPLY_ERROR && strstr(r->str, "BUSYKEY"))
		rc = 1;
	else if (r->type == REPLY_ERROR)
		rc = err_set(e, 0, "'RESTORE' of '%s' in the stash: %s", key->str, r->str);
	reply_free(r);
	return rc;
}

int
stash_conflict_payload(struct stash *s, const struct reply *key, const struct reply *payload,
		       long long pttl, const char *what, int *db, struct err *e)
{
	struct conn *c;
	char ttl[32];
	int k, rc = 1;

	if ((c = stash_conn(s, e)) == NULL || list_file(s, e) == NULL)
		return -1;
	snprintf(ttl, sizeof(ttl), "%lld", pttl > 0 ? pttl : 0);
	for (k = 1; k <= STASH_CONFLICT_DBS && rc == 1; k++)
		if ((rc = restore_in(c, k, key, ttl, payload, e)) == 0)
			listed(s, key, what, k, db);
	if (conn_cmd_ok(c, rc < 0 ? NULL : e, "SELECT", "0", NULL) < 0 && rc >= 0)
		rc = -1;
	return rc;
}

int
stash_conflict_dump(struct stash *s, struct conn *src, const struct reply *key,
		    const char *what, int *db, struct err *e)
{
	const char *dump[2] = {"DUMP", key->str}, *pttl[2] = {"PTTL", key->str};
	size_t lens[2] = {4, key->len};
	struct reply *d = NULL, *t = NULL;
	int rc = -1;

	if ((d = conn_cmd_argv(src, 2, dump, lens, e)) == NULL ||
	    (t = conn_cmd_argv(src, 2, pttl, lens, e)) == NULL)
		goto out;
	if (d->type != REPLY_STRING) {
		err_set(e, 0, "'DUMP' of '%s' on '%s': %s", key->str, conn_addr(src),
			d->type == REPLY_ERROR ? d->str : "no such key");
		goto out;
	}
	rc = stash_conflict_payload(s, key, d, t->type == REPLY_INTEGER ? t->integer : 0, what,
				    db, e);
out:
	reply_free(d);
	reply_free(t);
	return rc;
}

int
stash_close(struct stash *s, char *where, size_t n, struct err *e)
{
	bool keep = s->kept > 0 || s->conflicts > 0;
	int rc = 0;

	if (where && n)
		where[0] = '\0';
	if (s->list) {
		fclose(s->list);
		s->list = NULL;
	}
	if (s->srv.c && keep) {
		if (conn_cmd_ok(s->srv.c, e, "SAVE", NULL) < 0)
			rc = err_prefix(e, "saving the stash: ");
		else if (where)
			snprintf(where, n, "%s/dump.rdb", s->srv.dir);
	}
	private_server_stop(&s->srv, keep || rc < 0);
	return rc;
}
