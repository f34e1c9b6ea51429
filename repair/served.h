/*
 * served.h - who served each slot's clients when the repair first
 * looked, before it changed anything: what makes one value newer than
 * another by construction while clients keep writing.
 *
 * A slot is served by a node when that node is a reachable master that
 * claims the slot in its own view, and no other reachable master does.
 * Redis lets clients write a slot only on the node serving it (and, for
 * keys it lacks while it migrates the slot, on the importing node, by
 * ASK).  So, for a key of a slot that node S served:
 *  - a copy on a node that did not serve the slot (a duplicate, a key on
 *    a non-owner, a half-move's target) is S's value or an older one:
 *    when S, or the slot's owner after the repair, has another value,
 *    it was written there since;
 *  - a dead node's files are older than S's value: the dead node either
 *    did not serve the slot (it imported it: it only got copies, or
 *    writes of keys S lacked, which S can only have written since), or
 *    it did and S was given the slot after it died (a node never keeps
 *    keys of a slot another node won, unless it imports that slot).
 * The one case this cannot see: a MIGRATE whose reply was lost, the key
 * then written on the dead source, and a person giving the slot to the
 * target by hand, which kept its older copy.
 */
#ifndef SQ_REPAIR_SERVED_H
#define SQ_REPAIR_SERVED_H

#include <stdbool.h>

#include "repair/assess.h"

struct served {
	char (*by)[NODE_ID_LEN + 1];  /* per slot, the serving node's id; "" */
	bool taken;
};

/* Takes it from an assessment (the first, full one). */
void served_take(struct served *s, const struct assessment *a);
void served_release(struct served *s);
/* True when node i of `a` served the slot at the first look. */
bool served_by(const struct served *s, const struct assessment *a, int i, int slot);

#endif
