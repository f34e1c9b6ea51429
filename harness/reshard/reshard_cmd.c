/*
 * reshard_cmd.c - what both halves of the migration driver send and
 * read (see reshard_int.h): SETSLOT with Valkey 8's TIMEOUT and its
 * NOREPLICAS, MIGRATE and what its answers say, the step reports, and
 * the answers the other masters still owe.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/reshard/reshard_int.h"
#include "common/log.h"
#include "common/xmalloc.h"

/* c's index in m->conns, or m->t.n. */
static size_t
conn_index(const struct mover *m, const struct conn *c)
{
	size_t i;

	for (i = 0; i < m->t.n && m->conns[i] != c; i++)
		;
	return i;
}

void
reshard_owe(struct mover *m, const struct conn *c, size_t n)
{
	size_t i = conn_index(m, c);

	if (i < m->t.n)
		m->owed[i] += n;
}

void
reshard_collect(struct mover *m, struct conn *c)
{
	size_t i = conn_index(m, c);
	struct reply *r;

	for (; i < m->t.n && m->owed[i] > 0; m->owed[i]--) {
		if ((r = conn_read_reply(c, NULL)) == NULL) {
			m->owed[i] = 0;
			break;
		}
		reply_free(r);
	}
}

void
reshard_collect_all(struct mover *m)
{
	size_t i;

	for (i = 0; m->conns && i < m->t.n; i++)
		if (m->conns[i])
			reshard_collect(m, m->conns[i]);
}

void
reshard_mute_other(struct mover *m, size_t i)
{
	log_warn("reshard: '%s' did not apply SETSLOT NODE in time (NOREPLICAS): it is told "
		 "no more, the target's gossip tells it", conn_addr(m->others[i]));
	m->others[i] = m->others[--m->nothers];
}

int
reshard_emit(struct mover *m, enum reshard_step step, struct err *e)
{
	m->ev.step = step;
	m->pr->at = m->ev;
	if (m->h && m->h->on_step && m->h->on_step(m->h->arg, &m->ev, e) < 0)
		return -1;
	return 0;
}

bool
reshard_waits(const struct mover *m, const struct conn *c)
{
	size_t i = conn_index(m, c);

	return i < m->t.n && m->waits[i];
}

/* Whether node c's SETSLOT takes a TIMEOUT (Valkey 8). */
static bool
takes_timeout(const struct mover *m, const struct conn *c)
{
	size_t i = conn_index(m, c);

	return i < m->t.n && m->timeouts[i];
}

int
reshard_setslot_argv(const struct mover *m, const struct conn *c, const char *slot,
		     const char *how, const char *id, const char **argv)
{
	argv[0] = "CLUSTER";
	argv[1] = "SETSLOT";
	argv[2] = slot;
	argv[3] = how;
	argv[4] = id;
	if (!takes_timeout(m, c))
		return 5;
	argv[5] = "TIMEOUT";
	argv[6] = m->timeout_s;
	return 7;
}

void
reshard_setslot_wait(const struct mover *m, struct conn *c, bool waiting)
{
	if (reshard_waits(m, c))
		conn_set_timeout(c, m->o->timeout_ms + (waiting ? 1000 : 0), NULL);
}

int
reshard_setslot_error(const struct mover *m, const struct conn *c, int slot, const char *how,
		      const char *reply, struct err *e)
{
	if (strncmp(reply, "NOREPLICAS", 10) == 0)
		return err_set(e, 0,
			       "'CLUSTER SETSLOT %d %s' on '%s': %s (a replica of the node did not "
			       "acknowledge it within %d ms: the node has not applied it, its "
			       "replicas will once they read it)",
			       slot, how, conn_addr(c), reply, m->o->timeout_ms);
	return err_set(e, 0, "'CLUSTER SETSLOT %d %s' on '%s': %s", slot, how, conn_addr(c),
		       reply);
}

int
reshard_setslot(struct mover *m, struct conn *c, int slot, const char *how, const char *id,
		bool *noreplicas, struct err *e)
{
	const char *argv[7];
	struct reply *r;
	char s[16];
	int argc, rc = 0;

	snprintf(s, sizeof(s), "%d", slot);
	argc = reshard_setslot_argv(m, c, s, how, id, argv);
	reshard_setslot_wait(m, c, true);
	r = conn_cmd_argv(c, argc, argv, NULL, e);
	reshard_setslot_wait(m, c, false);
	if (noreplicas)
		*noreplicas = r && reply_is_error(r, "NOREPLICAS");
	if (r == NULL)
		return -1;
	if (r->type == REPLY_ERROR)
		rc = reshard_setslot_error(m, c, slot, how, r->str, e);
	reply_free(r);
	return rc;
}

void
reshard_note_unknown(struct mover *m, const struct reply *keys, const struct reply *r)
{
	size_t i;

	/* an error the target gave (-OOM, -MISCONF, BUSYKEY...) came back
	 * through the source before anything else: those keys did not move */
	if (r && (r->type != REPLY_ERROR || !reply_is_error(r, "IOERR")))
		return;
	for (i = 0; i < keys->nelem; i++) {
		long long k = m->pr->keys_unknown + (long long)i;

		if (k < RESHARD_UNKNOWN_EXAMPLES)
			snprintf(m->pr->unknown[k], sizeof(m->pr->unknown[k]), "%.*s",
				 (int)(keys->elem[i]->len < 63 ? keys->elem[i]->len : 63),
				 keys->elem[i]->str);
	}
	m->pr->keys_unknown += (long long)keys->nelem;
}

bool
reshard_is_nokey(const struct reply *r)
{
	return r->type == REPLY_STATUS && strcmp(r->str, "NOKEY") == 0;
}

int
reshard_migrate_timeout(struct mover *m, bool migrating, struct err *e)
{
	/* a late success is counted, and a paused target reported by the
	 * source as the target's fault */
	return conn_set_timeout(
		m->src, migrating ? conn_migrate_wait_ms(m->o->timeout_ms) : m->o->timeout_ms, e);
}

size_t
reshard_migrate_argv(const struct mover *m, const struct reply *keys,
		     const char ***argvp, size_t **lensp)
{
	const char **argv = xcalloc(keys->nelem + 8, sizeof(*argv));
	size_t *lens = xcalloc(keys->nelem + 8, sizeof(*lens));
	size_t i, argc = 0;

	argv[argc++] = "MIGRATE";
	argv[argc++] = m->dst_host;
	argv[argc++] = m->dst_port_s;
	argv[argc++] = "";
	argv[argc++] = "0";
	argv[argc++] = m->timeout_s;
	if (m->o->replace)
		argv[argc++] = "REPLACE";
	argv[argc++] = "KEYS";
	for (i = 0; i < argc; i++)
		lens[i] = strlen(argv[i]);
	for (i = 0; i < keys->nelem; i++, argc++) {
		argv[argc] = keys->elem[i]->str;
		lens[argc] = keys->elem[i]->len;
	}
	*argvp = argv;
	*lensp = lens;
	return argc;
}
