/* stash.c - a private home for verified duplicates; see stash.h. */
#include "repair/stash.h"

#include <stdio.h>

struct conn *
stash_conn(struct stash *s, struct err *e)
{
	if (s->srv.c != NULL)
		return s->srv.c;
	s->srv.name = "stash";
	s->srv.host = s->host;
	if (private_server_dir(&s->srv, s->parent, e) < 0 ||
	    private_server_start(&s->srv, s->redis_server, NULL, s->timeout_ms, 10000, e) < 0) {
		private_server_stop(&s->srv, false);
		return NULL;
	}
	return s->srv.c;
}

int
stash_close(struct stash *s, char *where, size_t n, struct err *e)
{
	int rc = 0;

	if (where && n)
		where[0] = '\0';
	if (s->srv.c && s->kept > 0) {
		if (conn_cmd_ok(s->srv.c, e, "SAVE", NULL) < 0)
			rc = err_prefix(e, "saving the stash: ");
		else if (where)
			snprintf(where, n, "%s/dump.rdb", s->srv.dir);
	}
	private_server_stop(&s->srv, s->kept > 0 || rc < 0);
	return rc;
}
