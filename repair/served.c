/* served.c - who served each slot at the first look; see served.h. */
#include "repair/served.h"

#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"

void
served_take(struct served *s, const struct assessment *a)
{
	size_t i;
	int slot, n;

	if (s->by == NULL)
		s->by = xcalloc(CLUSTER_SLOTS, sizeof(*s->by));
	for (slot = 0; slot < CLUSTER_SLOTS; slot++) {
		s->by[slot][0] = '\0';
		for (i = 0, n = 0; i < a->snap.n; i++)
			if (assess_live_master(a, (int)i) && assess_claims(a, (int)i, slot) &&
			    n++ == 0)
				memcpy(s->by[slot], a->snap.nodes[i].id, sizeof(s->by[0]));
		if (n > 1) /* two claim it: who served clients is not known */
			s->by[slot][0] = '\0';
	}
	s->taken = true;
}

void
served_release(struct served *s)
{
	free(s->by);
	s->by = NULL;
	s->taken = false;
}

bool
served_by(const struct served *s, const struct assessment *a, int i, int slot)
{
	return s->taken && i >= 0 && s->by[slot][0] &&
	       strcmp(s->by[slot], a->snap.nodes[i].id) == 0;
}
