/*
 * reshard_int.h - what the two halves of the migration driver share:
 * reshard.c (one slot at a time, every step reported as it happens) and
 * reshard_round.c (many slots per round, for speed).  Not for callers.
 */
#ifndef SQ_HARNESS_RESHARD_INT_H
#define SQ_HARNESS_RESHARD_INT_H

#include "cluster/conn.h"
#include "harness/reshard/reshard.h"

/* The cluster as the driver needs it: connections to every master. */
struct mover {
	const struct reshard_plan *plan;
	const struct reshard_opts *o;
	const struct reshard_hooks *h;
	struct reshard_progress *pr;
	struct topology t;
	const char *host;          /* the address the caller gave */
	struct conn **conns;       /* per node of t: masters, best effort */
	bool *timeouts;            /* per node of t: Valkey 8, whose SETSLOT
				      takes a TIMEOUT */
	bool *waits;               /* ... and that has replicas: its SETSLOT
				      waits for them before it applies */
	size_t *owed;              /* per node of t: replies not read yet (the
				      other masters' SETSLOT NODE, not
				      awaited: see reshard_collect) */
	struct conn *src, *dst;    /* borrowed from conns */
	const char *src_id;        /* the current source */
	struct conn **others;      /* borrowed: masters but src and dst */
	size_t nothers;
	char dst_host[64];
	int dst_port;
	char dst_port_s[16], timeout_s[16];
	struct reshard_event ev;
};

/* Others[i] answered NOREPLICAS to the SETSLOT NODE it hears as a
 * courtesy: it hears no more of them (each would wait the timeout); the
 * target's gossip tells it. */
void reshard_mute_other(struct mover *m, size_t i);
/* n more replies that c owes: commands sent and not awaited. */
void reshard_owe(struct mover *m, const struct conn *c, size_t n);
/* Reads and drops the replies c owes, so that its next reply is to the
 * next command: the other masters' SETSLOT NODE is a courtesy (gossip
 * tells them too), not awaited, and its answers are not looked at, as
 * before.  A connection that fails is left broken for its next user. */
void reshard_collect(struct mover *m, struct conn *c);
/* reshard_collect of every connection. */
void reshard_collect_all(struct mover *m);
/* Reports m->ev as step `step` to the caller's hook. */
int reshard_emit(struct mover *m, enum reshard_step step, struct err *e);
/* CLUSTER SETSLOT slot how id; an error reply is a failure.  To a node
 * that waits for its replicas it carries TIMEOUT o->timeout_ms, and its
 * reply is awaited a second longer, so that a replica that does not
 * acknowledge makes the node answer NOREPLICAS (then it has not applied
 * the command; its replicas will, once they read it) rather than the
 * driver give up on a reply still to come.  *noreplicas (may be NULL)
 * says the failure was that answer. */
int reshard_setslot(struct mover *m, struct conn *c, int slot, const char *how, const char *id,
		    bool *noreplicas, struct err *e);
/* Whether node c waits for its replicas before it applies SETSLOT (a
 * Valkey 8 primary with replicas in the view, failed ones too). */
bool reshard_waits(const struct mover *m, const struct conn *c);
/* The SETSLOT argument vector for node c: 5 arguments, or 7 with
 * TIMEOUT (argv must have room for 7; slot is the caller's string). */
int reshard_setslot_argv(const struct mover *m, const struct conn *c, const char *slot,
			 const char *how, const char *id, const char **argv);
/* Around the replies of SETSLOTs to c: how long to wait for each
 * (waiting true), or back to the usual timeout. */
void reshard_setslot_wait(const struct mover *m, struct conn *c, bool waiting);
/* `e` for the error reply `reply` of SETSLOT slot how on c: names the
 * command and, for NOREPLICAS, what it means. */
int reshard_setslot_error(const struct mover *m, const struct conn *c, int slot,
			  const char *how, const char *reply, struct err *e);
/* MIGRATE dst_host dst_port "" 0 timeout [REPLACE] KEYS <keys>: a new
 * argument vector (strings borrowed from m and keys); free both arrays. */
size_t reshard_migrate_argv(const struct mover *m, const struct reply *keys,
			    const char ***argv, size_t **lens);
/* A MIGRATE of `keys` answered `r` (NULL: no answer, the link broke or
 * timed out): when nobody can know what it moved (IOERR, a timeout),
 * its keys are noted as of unknown outcome in m->pr. */
void reshard_note_unknown(struct mover *m, const struct reply *keys, const struct reply *r);
/* MIGRATE's +NOKEY: none of its keys existed any more (nothing moved). */
bool reshard_is_nokey(const struct reply *r);
/* The source's read timeout while MIGRATEs run (migrating) or not. */
int reshard_migrate_timeout(struct mover *m, bool migrating, struct err *e);
/* Moves the plan's slots [first, first + count), all of the current
 * source, in rounds of o->slots_per_round; see reshard_round.c.  On
 * failure m->ev is the slot and step it stopped at. */
int reshard_rounds(struct mover *m, size_t first, size_t count, struct err *e);

#endif
