/* dataset.c - derived keys and values; see dataset.h. */
#include "cluster/dataset.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/slot.h"
#include "common/rng.h"
#include "common/xmalloc.h"

/* Digits by hand, not snprintf: the verifier names every dataset key
 * for its MGETs, and snprintf cost more than the rest of that work. */
size_t
dataset_key(long long i, char out[DATASET_KEY_MAX])
{
	const size_t plen = sizeof(DATASET_PREFIX) - 1;
	char digits[24];
	size_t n = 0, k;
	unsigned long long u = (unsigned long long)i;

	if (i < 0)
		return (size_t)snprintf(out, DATASET_KEY_MAX, DATASET_PREFIX "%lld", i);
	do {
		digits[n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	memcpy(out, DATASET_PREFIX, plen);
	for (k = 0; k < n; k++)
		out[plen + k] = digits[n - 1 - k];
	out[plen + n] = '\0';
	return plen + n;
}

/* Printable bytes: the value reads well in redis-cli and in reports. */
static const char alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t
dataset_value_len(const struct dataset *d, long long i)
{
	char key[DATASET_KEY_MAX];
	size_t len;
	int slot;

	if (d->big_value_size == 0)
		return d->value_size;
	len = dataset_key(i, key);
	slot = (int)key_slot(key, len);
	return slot >= d->big_first && slot <= d->big_last ? d->big_value_size
							   : d->value_size;
}

size_t
dataset_value_max(const struct dataset *d)
{
	return d->big_value_size > d->value_size ? d->big_value_size : d->value_size;
}

void
dataset_value(const struct dataset *d, long long i, char *out)
{
	uint64_t base = d->seed ^ rng_mix((uint64_t)i), x = rng_mix(base);
	size_t k, n = dataset_value_len(d, i);

	/* 10 characters of 6 bits from each 64-bit word; each word from the
	 * block's own number, so that a long value does not repeat (mixing
	 * the 4 bits left over cycled in a few blocks, and a 1 MB value
	 * compressed to 3 KB: its MIGRATE cost no memory) */
	for (k = 0; k < n; k++) {
		if (k % 10 == 0 && k)
			x = rng_mix(base + (uint64_t)(k / 10) * 0x9E3779B97F4A7C15ULL);
		out[k] = alphabet[x & 63];
		x >>= 6;
	}
}

bool
dataset_parse_key(const char *key, size_t len, long long *index)
{
	const size_t plen = sizeof(DATASET_PREFIX) - 1;
	long long v = 0;
	size_t k;

	if (len <= plen || len > plen + 18 || memcmp(key, DATASET_PREFIX, plen) != 0)
		return false;
	if (key[plen] == '0' && len > plen + 1)
		return false;
	for (k = plen; k < len; k++) {
		if (key[k] < '0' || key[k] > '9')
			return false;
		v = v * 10 + (key[k] - '0');
	}
	*index = v;
	return true;
}

bool
dataset_value_matches(const struct dataset *d, long long i, const char *val,
		      size_t len)
{
	char small[256], *buf = small;
	bool same;

	if (len != dataset_value_len(d, i))
		return false;
	if (len > sizeof(small))
		buf = xmalloc(len);
	dataset_value(d, i, buf);
	same = memcmp(buf, val, len) == 0;
	if (buf != small)
		free(buf);
	return same;
}
