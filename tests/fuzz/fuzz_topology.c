/*
 * fuzz_topology.c - libFuzzer on the CLUSTER NODES parser (make fuzz):
 * whatever a node answers must parse or be refused with a message, and
 * a parsed topology must hold together (every slot owner and migration
 * peer one of its nodes).  The captured outputs are the seeds.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/topology.h"
#include "common/xmalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = xmalloc(size + 1);
	struct topology t = {0};
	struct err e = ERR_INIT;
	int owner[CLUSTER_SLOTS];
	size_t i;

	memcpy(text, data, size);
	text[size] = '\0';
	if (topology_parse(&t, text, &e) < 0) {
		if (e.msg[0] == '\0')
			abort(); /* a refusal always says why */
	} else {
		topology_slot_owners(&t, owner);
		for (i = 0; i < CLUSTER_SLOTS; i++)
			if (owner[i] < -1 || owner[i] >= (int)t.n)
				abort();
		topology_myself(&t);
	}
	topology_release(&t);
	free(text);
	return 0;
}
