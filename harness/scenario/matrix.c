/* matrix.c - the crash-point matrix's cells; see matrix.h. */
#include "harness/scenario/matrix.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/xmalloc.h"

const char *const matrix_kinds[] = {"kill", "pause", "restart", "lose-disk", "oom",
				    "partition", "degrade", "disk", NULL};
const char *const matrix_steps[] = {"importing", "migrating", "keys", "node-target",
				    "node-source", "slot-done", NULL};
const char *const matrix_roles[] = {"source", "target", "bystander", "source-replica",
				    "target-replica", NULL};
const char *const matrix_servers[] = {"redis", "valkey", NULL};

static void
all(const char *const *words, const char **out, size_t *n)
{
	for (*n = 0; words[*n] && *n < MATRIX_MAX; (*n)++)
		out[*n] = words[*n];
}

void
matrix_defaults(struct matrix_opts *o)
{
	if (o->nkinds == 0)
		all(matrix_kinds, o->kinds, &o->nkinds);
	if (o->nsteps == 0)
		all(matrix_steps, o->steps, &o->nsteps);
	if (o->nroles == 0)
		all(matrix_roles, o->roles, &o->nroles);
	if (o->nservers == 0) {
		o->servers[0] = "redis";
		o->nservers = 1;
	}
	if (o->engine == NULL)
		o->engine = "shardquake";
	if (o->nshards == 0) {
		o->shard = 1;
		o->nshards = 1;
	}
}

int
matrix_list(const char *what, char *text, const char *const *known, const char **out,
	    size_t *n, struct err *e)
{
	char *save = NULL, *w;
	size_t k;

	*n = 0;
	for (w = strtok_r(text, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
		for (k = 0; known[k] && strcmp(known[k], w) != 0; k++)
			;
		if (known[k] == NULL || *n >= MATRIX_MAX) {
			struct buf b = BUF_INIT;

			for (k = 0; known[k]; k++)
				buf_addf(&b, "%s%s", k ? ", " : "", known[k]);
			err_set(e, 0, "%s '%s': expected some of %s, comma-separated", what, w,
				buf_str(&b));
			buf_release(&b);
			return -1;
		}
		out[(*n)++] = known[k];
	}
	if (*n == 0)
		return err_set(e, 0, "%s: expected at least one", what);
	return 0;
}

static bool
is_replica(const char *role)
{
	return strstr(role, "replica") != NULL;
}

size_t
matrix_cells(const struct matrix_opts *o, struct matrix_cell **out, size_t *total)
{
	struct matrix_cell *v = xcalloc(o->nservers * o->nkinds * o->nsteps * o->nroles * 2 + 1,
					sizeof(*v));
	size_t sv, k, s, r, n = 0;
	int rep, index = 0;

	/* the server outermost: Redis's cells keep their place (and shard)
	 * whether Valkey's are played or not */
	for (sv = 0; sv < o->nservers; sv++)
		for (k = 0; k < o->nkinds; k++)
			for (s = 0; s < o->nsteps; s++)
				for (r = 0; r < o->nroles; r++)
					for (rep = is_replica(o->roles[r]) ? 1 : 0; rep <= 1; rep++) {
						struct matrix_cell c = {.kind = o->kinds[k],
									.step = o->steps[s],
									.role = o->roles[r],
									.server = o->servers[sv],
									.replicas = rep, .index = index};
						bool redis = strcmp(c.server, "redis") == 0;

						snprintf(c.name, sizeof(c.name), "%s-%s-%s%s%s%s", c.kind,
							 c.step, c.role, rep ? "-r1" : "", redis ? "" : "-",
							 redis ? "" : c.server);
						if (index++ % o->nshards == o->shard - 1)
							v[n++] = c;
					}
	*total = (size_t)index;
	*out = v;
	return n;
}

/* The kind's own keys: what makes its fault bite in a 3-master cluster
 * and be undone (where it can be) before the repair. */
static void
kind_keys(struct buf *b, const char *kind)
{
	if (strcmp(kind, "pause") == 0)
		buf_adds(b, "duration_ms = 3000\n");
	else if (strcmp(kind, "partition") == 0)
		buf_adds(b, "mode = isolate\nheal = before-repair\n");
	else if (strcmp(kind, "degrade") == 0)
		buf_adds(b, "delay_ms = 300\nheal = before-repair\n");
	else if (strcmp(kind, "disk") == 0)
		buf_adds(b, "errno = EIO\n");
}

char *
matrix_scenario(const struct matrix_opts *o, const struct matrix_cell *c)
{
	struct buf b = BUF_INIT;
	bool exec = strcmp(o->engine, "exec") == 0;

	buf_addf(&b, "; a cell of the crash-point matrix (shardquake matrix)\n"
		 "[scenario]\nname = %s\ndescription = %s on the %s at step %s, %d replica%s "
		 "per master\nseed = 7\n\n", c->name, c->kind, c->role, c->step, c->replicas,
		 c->replicas == 1 ? "" : "s");
	buf_addf(&b, "[cluster]\nmasters = 3\nreplicas = %d\npersistence = aof\n"
		 "node_timeout = 1000\n%s%s%s%s\n", c->replicas,
		 strcmp(c->kind, "partition") == 0 || strcmp(c->kind, "degrade") == 0
			 ? "network = netns\n" : "",
		 c->server ? "server = " : "", c->server ? c->server : "", c->server ? "\n" : "");
	buf_adds(&b, "[data]\nkeys = 20000\n\n[reshard]\nfrom = 0\nto = 1\nslots = 3\n\n");
	buf_addf(&b, "[fault]\nkind = %s\ntarget = %s\nat = %s\nslot = 2\n%s", c->kind, c->role,
		 c->step, strcmp(c->step, "keys") == 0 ? "point = 50%\n" : "");
	kind_keys(&b, c->kind);
	if (exec)
		buf_addf(&b, "\n[repair]\nengine = exec\ncommand = %s\n", o->command);
	else if (strcmp(o->engine, "redis-cli") == 0)
		buf_adds(&b, "\n[repair]\nengine = redis-cli\n");
	else
		/* with replicas the engine may promote one whose master died
		 * before the cluster's own failover did (a lost disk, a kill
		 * within the node timeout): the matrix grades recovery as the
		 * cluster would do it, so it consents, as an operator would */
		buf_addf(&b, "\n[repair]\nengine = shardquake\nsalvage = yes\n%s",
			 c->replicas ? "failover = yes\n" : "");
	buf_adds(&b, "\n[expect]\nhealthy = yes\nlost_keys = 0\n");
	return buf_detach(&b);
}
