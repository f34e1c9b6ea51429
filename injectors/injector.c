/* injector.c - the table of fault kinds and shared helpers; see injector.h. */
#include "injectors/injector.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/xmalloc.h"

extern const struct injector_ops kill_injector;
extern const struct injector_ops pause_injector;
extern const struct injector_ops restart_injector;
extern const struct injector_ops lose_disk_injector;
extern const struct injector_ops oom_injector;
extern const struct injector_ops partition_injector;
extern const struct injector_ops degrade_injector;
extern const struct injector_ops disk_injector;

const struct injector_ops *const injector_table[] = {
	&kill_injector,
	&pause_injector,
	&restart_injector,
	&lose_disk_injector,
	&oom_injector,
	&partition_injector,
	&degrade_injector,
	&disk_injector,
	NULL,
};

const struct injector_ops *
injector_find(const char *name)
{
	const struct injector_ops *const *o;

	for (o = injector_table; *o; o++)
		if (strcmp((*o)->name, name) == 0)
			return *o;
	return NULL;
}

struct fault *
fault_new(const struct injector_ops *ops, const struct params *p, struct err *e)
{
	struct fault *f = xcalloc(1, sizeof(*f));

	f->ops = ops;
	f->priv = xcalloc(1, ops->priv_size ? ops->priv_size : 1);
	if (ops->parse && ops->parse(f, p, e) < 0) {
		free(f->priv);
		free(f);
		return NULL;
	}
	return f;
}

void
fault_free(struct fault *f)
{
	if (f == NULL)
		return;
	if (f->ops->revert)
		f->ops->revert(f, NULL);
	if (f->ops->release)
		f->ops->release(f);
	free(f->priv);
	free(f);
}

static const struct param *
find(const struct params *p, const char *key)
{
	size_t i;

	for (i = 0; p && i < p->n; i++)
		if (strcmp(p->v[i].key, key) == 0)
			return &p->v[i];
	return NULL;
}

int
params_line(const struct params *p, const char *key)
{
	const struct param *x = find(p, key);

	return x ? x->line : 0;
}

const char *
params_get(const struct params *p, const char *key)
{
	const struct param *x = find(p, key);

	return x ? x->value : NULL;
}

int
params_duration_ms(const struct params *p, const char *key, long long def,
		   long long *out, struct err *e)
{
	const struct param *x = find(p, key);
	long long v;

	if (x == NULL) {
		*out = def;
		return 0;
	}
	if (clock_parse_duration_ms(x->value, &v) == 0) {
		*out = v;
		return 0;
	}
	return err_set(e, EINVAL,
		       "line %d: %s = '%s': expected a duration such as 500, 500ms or 2s, "
		       "at most 1 hour",
		       x->line, key, x->value);
}

int
params_check_keys(const struct params *p, const char *kind,
		  const char *const *allowed, struct err *e)
{
	const char *const *a;
	size_t i;

	for (i = 0; p && i < p->n; i++) {
		for (a = allowed; *a; a++)
			if (strcmp(*a, p->v[i].key) == 0)
				break;
		if (*a == NULL)
			return err_set(e, EINVAL, "line %d: '%s' is not a parameter of fault kind '%s'",
				       p->v[i].line, p->v[i].key, kind);
	}
	return 0;
}

int
params_yes_no(const struct params *p, const char *key, bool def, bool *out, struct err *e)
{
	const char *v = params_get(p, key);

	*out = def;
	if (v == NULL)
		return 0;
	if (strcmp(v, "yes") != 0 && strcmp(v, "no") != 0)
		return err_set(e, EINVAL, "line %d: %s = '%s': expected yes or no",
			       params_line(p, key), key, v);
	*out = strcmp(v, "yes") == 0;
	return 0;
}

long long
info_num(const char *text, const char *field)
{
	const char *p = strstr(text, field);

	return p ? strtoll(p + strlen(field), NULL, 10) : -1;
}

long long
target_aof_caught_up(struct target *t, int max_ms)
{
	static const char *const argv[] = {"INFO", "persistence", NULL};
	uint64_t t0 = clock_now_ms();
	char info[4096];
	bool waited = false;

	for (;;) {
		if (t->command == NULL ||
		    t->command(t->command_arg, argv, info, sizeof(info), NULL) < 0 ||
		    info_num(info, "aof_enabled:") != 1 ||
		    info_num(info, "aof_pending_bio_fsync:") == 0 ||
		    info_num(info, "aof_buffer_length:") == 0)
			/* the first answer's own time is no wait (under load
			 * it took a millisecond: the test counted it) */
			return waited ? (long long)(clock_now_ms() - t0) : 0;
		if (clock_now_ms() - t0 >= (uint64_t)max_ms)
			return -1;
		clock_sleep_ms(5);
		waited = true;
	}
}

void
evidence_add(struct evidence *ev, const char *key, const char *fmt, ...)
{
	va_list ap;

	if (ev->n >= EVIDENCE_MAX)
		return;
	snprintf(ev->v[ev->n].key, sizeof(ev->v[0].key), "%s", key);
	va_start(ap, fmt);
	vsnprintf(ev->v[ev->n].value, sizeof(ev->v[0].value), fmt, ap);
	va_end(ap);
	ev->v[ev->n++].number = false;
}

void
evidence_num(struct evidence *ev, const char *key, long long value)
{
	if (ev->n >= EVIDENCE_MAX)
		return;
	evidence_add(ev, key, "%lld", value);
	ev->v[ev->n - 1].number = true;
}
