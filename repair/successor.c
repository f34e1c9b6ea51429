/* successor.c - a dead master's files against its promoted replica; see
 * successor.h. */
#include "repair/successor.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"

#define RDB_OPCODE_AUX 0xFA
#define RDB_AUX_MAX 64     /* aux fields read before giving up */

/* An RDB length (rdbLoadLen): 0, 1 when it is an encoded value (*len the
 * encoding), -1 at the end of the file. */
static int
rdb_len(FILE *f, uint64_t *len)
{
	unsigned char b[8];
	int c, i;

	if ((c = fgetc(f)) == EOF)
		return -1;
	switch ((c & 0xC0) >> 6) {
	case 0:
		*len = (uint64_t)(c & 0x3F);
		return 0;
	case 1:
		if ((i = fgetc(f)) == EOF)
			return -1;
		*len = ((uint64_t)(c & 0x3F) << 8) | (uint64_t)i;
		return 0;
	case 3:
		*len = (uint64_t)(c & 0x3F);
		return 1;
	}
	if (c != 0x80 && c != 0x81)
		return -1;
	if (fread(b, 1, c == 0x80 ? 4 : 8, f) != (c == 0x80 ? 4u : 8u))
		return -1;
	for (*len = 0, i = 0; i < (c == 0x80 ? 4 : 8); i++)
		*len = (*len << 8) | b[i];
	return 0;
}

/* An RDB string into out (size n, cut short): 0, 1 when compressed (LZF:
 * skipped, not read), -1 at the end of the file or a bad one. */
static int
rdb_string(FILE *f, char *out, size_t n)
{
	unsigned char b[4];
	uint64_t len, clen;
	long long v;
	int rc;

	if ((rc = rdb_len(f, &len)) < 0)
		return -1;
	if (rc == 1) {
		switch (len) {
		case 0: /* int8 */
		case 1: /* int16, little-endian */
		case 2: /* int32 */
			if (fread(b, 1, 1u << len, f) != 1u << len)
				return -1;
			v = len == 0 ? (int8_t)b[0]
			  : len == 1 ? (int16_t)(b[0] | b[1] << 8)
				     : (int32_t)((uint32_t)b[0] | (uint32_t)b[1] << 8 |
						 (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24);
			snprintf(out, n, "%lld", v);
			return 0;
		case 3: /* LZF: compressed length, length, bytes */
			if (rdb_len(f, &clen) != 0 || rdb_len(f, &len) != 0 ||
			    fseek(f, (long)clen, SEEK_CUR) != 0)
				return -1;
			out[0] = '\0';
			return 1;
		}
		return -1;
	}
	if (len >= n) { /* longer than any field we want: skipped */
		out[0] = '\0';
		return fseek(f, (long)len, SEEK_CUR) == 0 ? 0 : -1;
	}
	if (fread(out, 1, len, f) != len)
		return -1;
	out[len] = '\0';
	return 0;
}

int
rdb_repl_info(const char *path, char *replid, size_t n, long long *offset)
{
	char magic[10], key[64], val[64];
	bool id = false, off = false;
	int c, i, rk, rv, rc = 1;
	FILE *f;

	replid[0] = '\0';
	*offset = -1;
	if ((f = fopen(path, "rb")) == NULL)
		return -1;
	/* "REDIS0011"; a later Valkey's "VALKEY080" is as long */
	if (fread(magic, 1, 9, f) != 9 ||
	    (memcmp(magic, "REDIS", 5) != 0 && memcmp(magic, "VALKEY", 6) != 0)) {
		fclose(f);
		return -1;
	}
	for (i = 0; i < RDB_AUX_MAX && (c = fgetc(f)) == RDB_OPCODE_AUX; i++) {
		if ((rk = rdb_string(f, key, sizeof(key))) < 0 ||
		    (rv = rdb_string(f, val, sizeof(val))) < 0) {
			rc = -1;
			break;
		}
		if (rk || rv)
			continue;
		if (strcmp(key, "repl-id") == 0 && strlen(val) == 40) {
			snprintf(replid, n, "%s", val);
			id = true;
		} else if (strcmp(key, "repl-offset") == 0) {
			char *end;

			*offset = strtoll(val, &end, 10);
			off = *end == '\0' && val[0];
		}
	}
	fclose(f);
	if (rc == -1 || !id || !off) {
		replid[0] = '\0';
		*offset = -1;
		return rc;
	}
	return 0;
}

struct succ_judged
successor_judge(const struct succ_facts *f, const char *id, const char *replid2,
		long long second_offset)
{
	struct succ_judged j = {SUCC_NONE, -1};
	bool replica = false, same_history;
	long long x;
	size_t i;

	for (i = 0; i < f->nreplicas && !replica; i++)
		replica = strcmp(f->replicas[i], id) == 0;
	same_history = f->replid[0] && strcmp(replid2, f->replid) == 0;
	if (!replica && !same_history)
		return j;
	/* second_repl_offset is the first byte of its own history: it had
	 * its master's up to the one before */
	x = second_offset >= 0 ? second_offset - 1 : -1;
	j.v = SUCC_UNDECIDED;
	if (same_history && f->offset >= 0 && x >= 0 && f->offset <= x) {
		j.v = SUCC_SEEN;
		j.seen_to = x;
	}
	return j;
}

void
succ_facts_release(struct succ_facts *f)
{
	free(f->replicas);
	f->replicas = NULL;
	f->nreplicas = 0;
}

static int
item_cmp(const void *x, const void *y)
{
	const struct keyset_item *a = x, *b = y;
	size_t n = a->len < b->len ? a->len : b->len;
	int c = memcmp(a->s, b->s, n);

	return c ? c : (a->len > b->len) - (a->len < b->len);
}

void
keyset_add(struct keyset *k, const char *s, size_t len)
{
	xgrow(&k->v, &k->cap, k->n + 1, sizeof(*k->v));
	k->v[k->n].s = xmalloc(len + 1);
	memcpy(k->v[k->n].s, s, len);
	k->v[k->n].s[len] = '\0';
	k->v[k->n++].len = len;
	k->sorted = false;
}

bool
keyset_has(struct keyset *k, const char *s, size_t len)
{
	struct keyset_item want = {(char *)s, len};

	if (k->n == 0)
		return false;
	if (!k->sorted) {
		qsort(k->v, k->n, sizeof(*k->v), item_cmp);
		k->sorted = true;
	}
	return bsearch(&want, k->v, k->n, sizeof(*k->v), item_cmp) != NULL;
}

void
keyset_release(struct keyset *k)
{
	size_t i;

	for (i = 0; i < k->n; i++)
		free(k->v[i].s);
	free(k->v);
	memset(k, 0, sizeof(*k));
}
