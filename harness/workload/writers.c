/* writers.c - live writers recording a ledger; see writers.h. */
#include "harness/workload/writers.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/client.h"
#include "cluster/slot.h"
#include "common/clock.h"
#include "common/rng.h"
#include "common/xmalloc.h"

struct writer {
	struct writers *all;
	int index;
	pthread_t thread;
	bool started;
	struct rng rng;
	atomic_llong acked;
	atomic_int marked;       /* the last mark it took (writers_mark) */
	long long failed, unknown, reads, reads_failed, stale, errors[LE_COUNT_];
	uint64_t *down;          /* per slot: since when it fails (0: it works) */
	struct outages out;
	size_t cap;
	struct series series;    /* this thread's own: no lock on the way */
};

struct writers {
	struct writers_opts o;
	char host[256];
	struct ledger *l;
	atomic_bool stop;
	atomic_ullong probe_until; /* writers_probe(): clock_now_ms() bound */
	atomic_int mark;         /* asked for by writers_mark() */
	long long *marks;        /* where each writer copies its keys' acked */
	struct writer *w;
	int n;
};

/* The command on a key of `slot` that started at t0 failed (ok false)
 * or went through: an outage begins, or ends. */
static void
note(struct writer *w, unsigned slot, bool ok, uint64_t t0)
{
	struct outage *o;

	if (!ok) {
		if (w->down[slot] == 0)
			w->down[slot] = t0 ? t0 : 1;
		return;
	}
	if (w->down[slot] == 0)
		return;
	xgrow(&w->out.v, &w->cap, w->out.n + 1, sizeof(*w->out.v));
	o = &w->out.v[w->out.n++];
	*o = (struct outage){.slot = (int)slot, .from_ms = w->down[slot], .to_ms = t0};
	w->down[slot] = 0;
}

/* A reply, or none (e said why): its error class, or -1 when it is an
 * answer. */
static int
error_class(const struct reply *r, const struct err *e)
{
	if (r == NULL)
		return e->code == ELOOP ? LE_MOVED : LE_UNREACHABLE;
	return r->type == REPLY_ERROR ? (int)ledger_error_class(r->str) : -1;
}

/* One SET of key i's next value; the ledger says how it went. */
static void
write_one(struct writer *w, struct cluster_client *cc, size_t i, const char *name,
	  unsigned slot)
{
	struct ledger *l = w->all->l;
	struct ledger_key *k = &l->v[i];
	char value[128];
	const char *argv[3] = {"SET", name, value};
	struct err e = ERR_INIT;
	uint64_t t0 = clock_now_us();
	enum series_op op = SERIES_ACKED;
	struct reply *r;
	int cls;

	ledger_value(l, i, ++k->tried, value, sizeof(value));
	r = cluster_client_cmd(cc, 3, argv, NULL, &e);
	if ((cls = error_class(r, &e)) >= 0) {
		w->errors[cls]++;
		/* a redirection loop never reached a node that wrote it; an
		 * error reply wrote nothing; no reply: it may have landed */
		op = r || cls == LE_MOVED ? SERIES_FAILED : SERIES_UNKNOWN;
		if (op == SERIES_FAILED)
			w->failed++;
		else
			w->unknown++;
	} else {
		k->acked = k->tried;
		atomic_fetch_add(&w->acked, 1);
	}
	series_note(&w->series, t0, clock_now_us() - t0, op, cls);
	note(w, slot, cls < 0, t0 / 1000);
	reply_free(r);
}

/* One GET of key i: an older write than the last acknowledged one is a
 * stale read. */
static void
read_one(struct writer *w, struct cluster_client *cc, size_t i, const char *name,
	 unsigned slot)
{
	const struct ledger_key *k = &w->all->l->v[i];
	const char *argv[2] = {"GET", name};
	struct err e = ERR_INIT;
	uint64_t t0 = clock_now_us();
	struct reply *r;
	long long seq;
	int cls;

	w->reads++;
	r = cluster_client_cmd(cc, 2, argv, NULL, &e);
	cls = error_class(r, &e);
	series_note(&w->series, t0, clock_now_us() - t0,
		    cls >= 0 ? SERIES_READ_FAILED : SERIES_READ, cls);
	if (cls >= 0) {
		w->errors[cls]++;
		w->reads_failed++;
	} else if (k->acked) {
		seq = r->type == REPLY_STRING ? ledger_value_seq(w->all->l, i, r->str, r->len) : -1;
		if (seq < k->acked)
			w->stale++;
	}
	note(w, slot, cls < 0, t0 / 1000);
	reply_free(r);
}

/* A mark asked for: this writer's keys' last acknowledged writes copied,
 * between two of its commands (it alone writes them). */
static void
take_mark(struct writer *w)
{
	struct writers *all = w->all;
	int m = atomic_load(&all->mark);
	size_t i;

	if (m == atomic_load(&w->marked))
		return;
	for (i = (size_t)w->index; i < all->l->n; i += (size_t)all->n)
		all->marks[i] = all->l->v[i].acked;
	atomic_store(&w->marked, m);
}

static void *
writer_main(void *arg)
{
	struct writer *w = arg;
	struct writers *all = w->all;
	struct cluster_client *cc = NULL;
	uint64_t next = clock_now_ms();
	size_t i = (size_t)w->index;
	char name[64];

	while (!atomic_load(&all->stop)) {
		take_mark(w);
		if (cc == NULL &&
		    (cc = cluster_client_new(all->host, all->o.port, all->o.timeout_ms, NULL)) == NULL) {
			clock_sleep_ms(50);
			continue;
		}
		/* at the rate asked for, once every key was written (the
		 * first pass goes at full speed: the run waits for it); a
		 * writer that fell behind (a timeout, an outage) goes on
		 * from now, as a client at a fixed rate does, without a
		 * burst to catch up */
		if (all->o.rate > 0 && all->l->v[i].tried) {
			uint64_t now = clock_now_ms(), step = 1000u / (unsigned)all->o.rate;

			if (now < next)
				clock_sleep_ms((unsigned)(next - now));
			else if (now > next + step)
				next = now;
			next += step;
		}
		ledger_key_name(all->l, i, name, sizeof(name));
		/* a key never written yet is written first */
		if (all->l->v[i].tried && (int)rng_below(&w->rng, 100) < all->o.get_pct)
			read_one(w, cc, i, name, key_slot(name, strlen(name)));
		else
			write_one(w, cc, i, name, key_slot(name, strlen(name)));
		i += (size_t)all->n;
		if (i >= all->l->n)
			i = (size_t)w->index;
	}
	/* writers_probe(): a slot still failing asked once more */
	for (i = (size_t)w->index; cc && i < all->l->n; i += (size_t)all->n) {
		unsigned slot;

		if (clock_now_ms() >= atomic_load(&all->probe_until))
			break;
		ledger_key_name(all->l, i, name, sizeof(name));
		slot = key_slot(name, strlen(name));
		if (w->down[slot] && all->l->v[i].tried)
			read_one(w, cc, i, name, slot);
	}
	cluster_client_free(cc);
	return NULL;
}

struct writers *
writers_start(const struct writers_opts *o, struct ledger *l, struct err *e)
{
	struct writers *all = xcalloc(1, sizeof(*all));
	int i, rc;

	all->o = *o;
	snprintf(all->host, sizeof(all->host), "%s", o->host);
	all->l = l;
	all->n = o->writers > 0 ? o->writers : 1;
	if ((size_t)all->n > l->n)
		all->n = (int)l->n;
	atomic_init(&all->stop, false);
	atomic_init(&all->probe_until, 0);
	atomic_init(&all->mark, 0);
	all->w = xcalloc((size_t)all->n + 1, sizeof(*all->w));
	for (i = 0; i < all->n; i++) {
		struct writer *w = &all->w[i];

		w->all = all;
		w->index = i;
		w->down = xcalloc(CLUSTER_SLOTS, sizeof(*w->down));
		w->series = (struct series)SERIES_INIT(o->t0_us);
		rng_init(&w->rng, rng_mix(o->seed + (uint64_t)i));
		atomic_init(&w->acked, 0);
		atomic_init(&w->marked, 0);
		if ((rc = pthread_create(&w->thread, NULL, writer_main, w)) != 0) {
			err_set(e, rc, "writer %d: pthread_create", i);
			writers_stop(all, NULL, NULL);
			return NULL;
		}
		w->started = true;
	}
	return all;
}

int
writers_mark(struct writers *all, long long *acked, int timeout_ms, struct err *e)
{
	uint64_t deadline = clock_now_ms() + (uint64_t)timeout_ms;
	int m, i;

	all->marks = acked;
	m = atomic_fetch_add(&all->mark, 1) + 1;
	for (i = 0; i < all->n; i++)
		while (atomic_load(&all->w[i].marked) != m) {
			if (clock_now_ms() > deadline)
				return err_set(e, ETIMEDOUT, "writer %d did not stop between two "
					       "commands within %d ms", i, timeout_ms);
			clock_sleep_ms(1);
		}
	return 0;
}

void
writers_probe(struct writers *all, int ms)
{
	atomic_store(&all->probe_until, clock_now_ms() + (uint64_t)ms);
}

long long
writers_acked(const struct writers *all)
{
	long long n = 0;
	int i;

	for (i = 0; i < all->n; i++)
		n += atomic_load(&((struct writers *)all)->w[i].acked);
	return n;
}

/* Writer w's outages into out, those still open closed at `now`. */
static void
take_outages(struct writer *w, struct outages *out, uint64_t now)
{
	size_t cap = out->n;
	int slot;

	for (slot = 0; slot < CLUSTER_SLOTS; slot++)
		if (w->down[slot]) {
			xgrow(&w->out.v, &w->cap, w->out.n + 1, sizeof(*w->out.v));
			w->out.v[w->out.n++] = (struct outage){.slot = slot, .from_ms = w->down[slot],
							       .to_ms = now, .open = true};
		}
	if (w->out.n == 0)
		return;
	out->v = xreallocarray(out->v, cap + w->out.n, sizeof(*out->v));
	memcpy(out->v + out->n, w->out.v, w->out.n * sizeof(*out->v));
	out->n += w->out.n;
}

void
writers_stop(struct writers *all, struct outages *out, struct series *series)
{
	uint64_t now = clock_now_ms();
	int i, k;

	if (all == NULL)
		return;
	atomic_store(&all->stop, true);
	for (i = 0; i < all->n; i++) {
		struct writer *w = &all->w[i];

		if (w->started) {
			pthread_join(w->thread, NULL);
			all->l->acked += atomic_load(&w->acked);
			all->l->failed += w->failed;
			all->l->unknown += w->unknown;
			all->l->reads += w->reads;
			all->l->reads_failed += w->reads_failed;
			all->l->stale_reads += w->stale;
			for (k = 0; k < LE_COUNT_; k++)
				all->l->errors[k] += w->errors[k];
			if (out)
				take_outages(w, out, now);
			if (series)
				series_merge(series, &w->series);
		}
		series_release(&w->series);
		free(w->down);
		free(w->out.v);
	}
	free(all->w);
	free(all);
}

void
outages_release(struct outages *o)
{
	free(o->v);
	o->v = NULL;
	o->n = 0;
}
