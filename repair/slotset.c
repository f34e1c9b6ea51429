/* slotset.c - slot sets as text; see slotset.h. */
#include "repair/slotset.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/slot.h"
#include "common/xmalloc.h"

int
slotset_count(const bool *in)
{
	int slot, n = 0;

	for (slot = 0; slot < CLUSTER_SLOTS; slot++)
		n += in[slot];
	return n;
}

const char *
slotset_str(const bool *in, char *buf, size_t n)
{
	char range[32], tail[48];
	size_t len = 0;
	int slot = 0, end, total = slotset_count(in);

	if (n == 0)
		return buf;
	buf[0] = '\0';
	snprintf(tail, sizeof(tail), "... (%d slots in all)", total);
	while (slot < CLUSTER_SLOTS) {
		if (!in[slot]) {
			slot++;
			continue;
		}
		for (end = slot; end + 1 < CLUSTER_SLOTS && in[end + 1]; end++)
			;
		if (end > slot)
			snprintf(range, sizeof(range), "%s%d-%d", len ? "," : "", slot, end);
		else
			snprintf(range, sizeof(range), "%s%d", len ? "," : "", slot);
		/* room for this range, and for the tail should more follow */
		if (len + strlen(range) + strlen(tail) + 2 > n) {
			if (len + strlen(tail) + 2 <= n)
				snprintf(buf + len, n - len, "%s%s", len ? "," : "", tail);
			return buf;
		}
		len += (size_t)snprintf(buf + len, n - len, "%s", range);
		slot = end + 1;
	}
	return buf;
}

const char *
slotset_str_array(const int *slots, size_t k, char *buf, size_t n)
{
	bool *in = xcalloc(CLUSTER_SLOTS, sizeof(bool));
	size_t i;

	for (i = 0; i < k; i++)
		if (slots[i] >= 0 && slots[i] < CLUSTER_SLOTS)
			in[slots[i]] = true;
	slotset_str(in, buf, n);
	free(in);
	return buf;
}
