/*
 * slotset.h - sets of slots as people read them: "0-5460,5462-8191",
 * never a span with a count, which hides the holes.
 */
#ifndef SQ_REPAIR_SLOTSET_H
#define SQ_REPAIR_SLOTSET_H

#include <stdbool.h>
#include <stddef.h>

/* The slots set in `in` (CLUSTER_SLOTS flags) as "0-5460,5462-8191" into
 * buf (size n), returned; "" for none.  Text that does not fit ends with
 * "... (N slots in all)", cut between two ranges. */
const char *slotset_str(const bool *in, char *buf, size_t n);
/* The same for `k` slots in ascending order. */
const char *slotset_str_array(const int *slots, size_t k, char *buf, size_t n);
/* How many slots are set. */
int slotset_count(const bool *in);

#endif
