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
		fprintf(s->list, "%d\t", k);
		put_key(s->list, key);
		fprintf(s->list, "\t%s\n", what);
		fflush(s->list);
		s->conflicts++;
		*db = k;
		return 0;
	}
	return 1;
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
