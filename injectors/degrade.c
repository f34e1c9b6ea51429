/*
 * degrade.c - a node's link gets slow and lossy instead of cut: a netem
 * qdisc on what the node sends (injectors/netcut.h), so a MIGRATE batch
 * may time out part-way.  Needs the cluster in network namespaces
 * ([cluster] network = netns) and a kernel with netem (sch_netem);
 * elsewhere the scenario is skipped with the reason.  revert() removes
 * the qdisc.
 *
 *   delay_ms  = 200    added to every packet the node sends
 *   jitter_ms = 0      +- around delay_ms
 *   loss      = 0      percent of its packets dropped at random (0-100)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "injectors/injector.h"
#include "injectors/netcut.h"

struct degrade_priv {
	long long delay_ms, jitter_ms;
	double loss;
	struct netcut *nc;
};

/* Its own keys, for the scenario loader's messages as for parse(). */
static const char *const degrade_keys[] = {"delay_ms", "jitter_ms", "loss", NULL};

static int
degrade_parse(struct fault *f, const struct params *p, struct err *e)
{
	struct degrade_priv *k = f->priv;
	const char *loss = params_get(p, "loss");
	char *end;

	if (params_check_keys(p, "degrade", degrade_keys, e) < 0 ||
	    params_duration_ms(p, "delay_ms", 200, &k->delay_ms, e) < 0 ||
	    params_duration_ms(p, "jitter_ms", 0, &k->jitter_ms, e) < 0)
		return -1;
	if (k->delay_ms > NETCUT_MAX_DELAY_MS)
		return err_set(e, EINVAL, "line %d: delay_ms: at most %u ms",
			       params_line(p, "delay_ms"), NETCUT_MAX_DELAY_MS);
	if (k->jitter_ms > k->delay_ms)
		return err_set(e, EINVAL, "line %d: jitter_ms = %lld is more than delay_ms = %lld",
			       params_line(p, "jitter_ms"), k->jitter_ms, k->delay_ms);
	if (loss) {
		errno = 0;
		k->loss = strtod(loss, &end);
		if (errno || end == loss || *end || k->loss < 0 || k->loss > 100)
			return err_set(e, EINVAL, "line %d: loss = '%s': expected a percentage "
				       "from 0 to 100", params_line(p, "loss"), loss);
	}
	return 0;
}

static int
degrade_check(const struct fault *f, struct err *e)
{
	(void)f;
	if (netcut_check_degrade(e) < 0)
		return err_prefix(e, "%s", e && e->code == ENOENT
					  ? "this kernel has no netem qdisc (sch_netem): " : "");
	return 0;
}

static int
degrade_inject(struct fault *f, struct target *t, struct err *e)
{
	struct degrade_priv *k = f->priv;
	const struct netns_node *me = t->net_end ? t->net_end(t->net_arg, t->node) : NULL;
	struct netcut_netem q = {(unsigned)k->delay_ms, (unsigned)k->jitter_ms, k->loss};

	if (me == NULL)
		return err_set(e, 0, "degrade node %d: the cluster is not in network namespaces "
			       "([cluster] network = netns)", t->port);
	if (k->nc == NULL)
		k->nc = netcut_new();
	if (netcut_degrade(k->nc, me, &q, e) < 0)
		return err_prefix(e, "degrade node %d: ", t->port);
	f->target = t;
	f->injected = true;
	return 0;
}

static int
degrade_revert(struct fault *f, struct err *e)
{
	struct degrade_priv *k = f->priv;

	return k->nc ? netcut_heal(k->nc, e) : 0;
}

static void
degrade_release(struct fault *f)
{
	struct degrade_priv *k = f->priv;

	netcut_free(k->nc);
	k->nc = NULL;
}

static void
degrade_describe(const struct fault *f, char *out, size_t n)
{
	const struct degrade_priv *k = f->priv;

	if (f->target == NULL) {
		snprintf(out, n, "not fired");
		return;
	}
	snprintf(out, n, "node %d sends through netem: %lld ms delay, +-%lld ms jitter, "
		 "%.1f%% loss", f->target->port, k->delay_ms, k->jitter_ms, k->loss);
}

const struct injector_ops degrade_injector = {
	.name = "degrade",
	.params = degrade_keys,
	.priv_size = sizeof(struct degrade_priv),
	.flags = INJ_NEEDS_NETNS,
	.parse = degrade_parse,
	.check = degrade_check,
	.inject = degrade_inject,
	.revert = degrade_revert,
	.release = degrade_release,
	.describe = degrade_describe,
};
