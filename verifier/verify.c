/* verify.c - the verifier's entry point and verdict; see verify.h. */
#include "verifier/verify.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/xmalloc.h"
#include "verifier/checks.h"
#include "verifier/keys.h"
#include "verifier/placed.h"
#include "cluster/snapshot.h"
#include "common/utf8.h"

static const struct {
	const char *json, *title;
} names[F_COUNT_] = {
	[F_UNCOVERED] = {"uncovered_slots", "slots covered"},
	[F_UNSERVED] = {"unserved_slots", "slots served by a live owner"},
	[F_DISAGREEMENT] = {"slot_disagreements", "nodes agree on slots"},
	[F_OPEN_SLOTS] = {"open_slots", "no open slots"},
	[F_STATE] = {"cluster_state", "cluster_state:ok everywhere"},
	[F_FAILED_NODES] = {"failed_nodes", "no failed nodes"},
	[F_UNREACHABLE_NODES] = {"unreachable_nodes", "every node reachable"},
	[F_LOST] = {"lost_keys", "no lost keys"},
	[F_UNREACHABLE_KEYS] = {"unreachable_keys", "no unreachable keys"},
	[F_CORRUPT] = {"corrupt_keys", "no corrupt keys"},
	[F_UNCHECKED] = {"unchecked_keys", "every value readable"},
	[F_MISPLACED] = {"misplaced_keys", "no misplaced keys"},
	[F_DUPLICATED] = {"duplicated_keys", "no duplicated keys"},
	[F_EXTRA] = {"extra_keys", "no extra keys"},
};

const char *
finding_json_name(enum finding_kind k)
{
	return names[k].json;
}

const char *
finding_title(enum finding_kind k)
{
	return names[k].title;
}

void
finding_add(struct finding *f, int max_examples, const char *fmt, ...)
{
	va_list ap;
	char *s;

	f->count++;
	if (f->nexamples >= max_examples || f->nexamples >= VERIFY_EXAMPLES_MAX)
		return;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	if (s) /* key names and replies are any bytes: JSON wants UTF-8 */
		f->examples[f->nexamples++] = utf8_sanitize(s);
}

long long
verdict_findings(const struct verdict *v)
{
	long long n = 0;
	int k;

	for (k = 0; k < F_COUNT_; k++)
		n += v->f[k].count;
	return n;
}

bool
verdict_is_healthy(const struct verdict *v)
{
	return verdict_findings(v) == 0;
}

void
verdict_release(struct verdict *v)
{
	int k, i;

	for (k = 0; k < F_COUNT_; k++)
		for (i = 0; i < v->f[k].nexamples; i++)
			free(v->f[k].examples[i]);
	memset(v, 0, sizeof(*v));
}

int
verify_cluster(const char *host, int port, const struct verify_opts *o,
	       struct verdict *v, struct err *e)
{
	struct snapshot s;
	uint64_t t0 = clock_now_ms();
	int timeout = o->timeout_ms > 0 ? o->timeout_ms : 2000;
	int max = o->max_examples > 0 ? o->max_examples : 5;
	bool count = !o->dataset && !o->no_misplaced;
	size_t i;

	memset(v, 0, sizeof(*v));
	if (max > VERIFY_EXAMPLES_MAX)
		max = VERIFY_EXAMPLES_MAX;
	/* the counts go on the links the snapshot asked the masters on */
	if ((count ? snapshot_take_kept(&s, host, port, timeout, e)
		   : snapshot_take(&s, host, port, timeout, e)) < 0) {
		snapshot_release(&s);
		return err_prefix(e, "verify '%s:%d': ", host, port);
	}
	v->nodes = (int)s.n;
	for (i = 0; i < s.n; i++)
		v->reachable += s.nodes[i].reachable;
	checks_run(&s, v, max);
	if (o->dataset) {
		v->keys_expected = o->dataset->keys;
		keys_check(&s, o->dataset, o->skip_prefix, timeout, v, max);
	} else if (count) {
		placed_count(&s, timeout, max, v);
	}
	snapshot_release(&s);
	v->ms = clock_now_ms() - t0;
	return 0;
}
