/*
 * dataset.h - the keys a run loads and the verifier checks.
 *
 * Key i of a dataset is named "sq:<i>" (decimal, no leading zeros); the
 * names spread over all 16384 slots through CRC16.  Its value is
 * `value_size` bytes derived from (seed, i) alone, so the verifier needs
 * no stored copy: the same seed gives the same bytes on every machine.
 *
 * A dataset may make the keys of some slots big (`big_value_size` bytes
 * for the keys whose slot is in big_first..big_last), so that moving
 * those slots costs memory, as a memory-hungry migration does.
 */
#ifndef SQ_CLUSTER_DATASET_H
#define SQ_CLUSTER_DATASET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DATASET_PREFIX        "sq:"
#define DATASET_KEY_MAX       32 /* "sq:" + 20 digits + NUL, rounded up */
#define DATASET_VALUE_DEFAULT 32
#define DATASET_VALUE_MAX     (1 << 20)

struct dataset {
	long long keys;    /* number of keys: indexes 0 .. keys-1 */
	uint64_t seed;
	size_t value_size; /* bytes per value, 1 .. DATASET_VALUE_MAX */
	/* optional: 0, or bytes per value of the keys in the big slots */
	size_t big_value_size;
	int big_first, big_last; /* slot range, inclusive */
};

/* The length of key i's value: value_size, or big_value_size when its
 * slot is one of the big ones. */
size_t dataset_value_len(const struct dataset *d, long long i);
/* The longest value of the dataset (a buffer for any key's value). */
size_t dataset_value_max(const struct dataset *d);

/* Writes key i's name into out (DATASET_KEY_MAX bytes); returns its length. */
size_t dataset_key(long long i, char out[DATASET_KEY_MAX]);

/* Writes key i's value (dataset_value_len() bytes, not NUL-terminated)
 * to out. */
void dataset_value(const struct dataset *d, long long i, char *out);

/* True when `key` (len bytes) is a dataset key name, the index in *index;
 * any index, even one past d->keys ("sq:007" and "sq:x" are not). */
bool dataset_parse_key(const char *key, size_t len, long long *index);

/* True when the value of key i is exactly `val` (len bytes). */
bool dataset_value_matches(const struct dataset *d, long long i,
			   const char *val, size_t len);

#endif
