/* writers.c - live writers recording a ledger; see writers.h. */
#include "harness/workload/writers.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/client.h"
#include "common/clock.h"
#include "common/xmalloc.h"

struct writer {
	struct writers *all;
	int index;
	pthread_t thread;
	bool started;
	atomic_llong acked;
	long long failed, unknown, errors[LE_COUNT_];
};

struct writers {
	struct writers_opts o;
	char host[256];
	struct ledger *l;
	atomic_bool stop;
	struct writer *w;
	int n;
};

/* One SET of key i's next value; the ledger says how it went. */
static void
write_one(struct writer *w, struct cluster_client *cc, size_t i)
{
	struct ledger *l = w->all->l;
	struct ledger_key *k = &l->v[i];
	char name[64], value[128];
	const char *argv[3] = {"SET", name, value};
	struct err e = ERR_INIT;
	struct reply *r;

	ledger_key_name(l, i, name, sizeof(name));
	ledger_value(l, i, ++k->tried, value, sizeof(value));
	r = cluster_client_cmd(cc, 3, argv, NULL, &e);
	if (r == NULL) {
		/* a redirection loop never reached a node that wrote it */
		if (e.code == ELOOP) {
			w->failed++;
			w->errors[LE_MOVED]++;
		} else {
			w->unknown++;
			w->errors[LE_UNREACHABLE]++;
		}
	} else if (r->type == REPLY_ERROR) {
		w->failed++;
		w->errors[ledger_error_class(r->str)]++;
	} else {
		k->acked = k->tried;
		atomic_fetch_add(&w->acked, 1);
	}
	reply_free(r);
}

static void *
writer_main(void *arg)
{
	struct writer *w = arg;
	struct writers *all = w->all;
	struct cluster_client *cc = NULL;
	uint64_t next = clock_now_ms();
	size_t i = (size_t)w->index;

	while (!atomic_load(&all->stop)) {
		if (cc == NULL &&
		    (cc = cluster_client_new(all->host, all->o.port, all->o.timeout_ms, NULL)) == NULL) {
			clock_sleep_ms(50);
			continue;
		}
		if (all->o.rate > 0) {
			uint64_t now = clock_now_ms();

			if (now < next)
				clock_sleep_ms((unsigned)(next - now));
			next += 1000u / (unsigned)all->o.rate;
		}
		write_one(w, cc, i);
		i += (size_t)all->n;
		if (i >= all->l->n)
			i = (size_t)w->index;
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
	all->w = xcalloc((size_t)all->n + 1, sizeof(*all->w));
	for (i = 0; i < all->n; i++) {
		all->w[i].all = all;
		all->w[i].index = i;
		atomic_init(&all->w[i].acked, 0);
		if ((rc = pthread_create(&all->w[i].thread, NULL, writer_main, &all->w[i])) != 0) {
			err_set(e, rc, "writer %d: pthread_create", i);
			writers_stop(all);
			return NULL;
		}
		all->w[i].started = true;
	}
	return all;
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

void
writers_stop(struct writers *all)
{
	int i, k;

	if (all == NULL)
		return;
	atomic_store(&all->stop, true);
	for (i = 0; i < all->n; i++) {
		struct writer *w = &all->w[i];

		if (!w->started)
			continue;
		pthread_join(w->thread, NULL);
		all->l->acked += atomic_load(&w->acked);
		all->l->failed += w->failed;
		all->l->unknown += w->unknown;
		for (k = 0; k < LE_COUNT_; k++)
			all->l->errors[k] += w->errors[k];
	}
	free(all->w);
	free(all);
}
