/* slot.c - CRC16 key slots, as redis's keyHashSlot(); see slot.h. */
#include "cluster/slot.h"

#include <string.h>

uint16_t
crc16(const void *buf, size_t len)
{
	const unsigned char *p = buf;
	uint16_t crc = 0;
	size_t i;
	int b;

	for (i = 0; i < len; i++) {
		crc ^= (uint16_t)(p[i] << 8);
		for (b = 0; b < 8; b++)
			crc = (crc & 0x8000) ? (uint16_t)((crc << 1) ^ 0x1021)
					     : (uint16_t)(crc << 1);
	}
	return crc;
}

unsigned
key_slot(const void *key, size_t len)
{
	const char *k = key, *open, *close;

	open = memchr(k, '{', len);
	if (open) {
		size_t rest = len - (size_t)(open - k) - 1;

		close = memchr(open + 1, '}', rest);
		if (close && close != open + 1)
			return crc16(open + 1, (size_t)(close - open - 1)) & (CLUSTER_SLOTS - 1);
	}
	return crc16(k, len) & (CLUSTER_SLOTS - 1);
}
