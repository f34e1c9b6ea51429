/*
 * buf.h - a growable, always NUL-terminated byte buffer (git's strbuf).
 *
 * A `struct buf` is caller-owned: initialise it with BUF_INIT, release
 * its memory with buf_release().  `s` is never NULL after the first add.
 */
#ifndef SQ_COMMON_BUF_H
#define SQ_COMMON_BUF_H

#include <stddef.h>

struct buf {
	char *s;
	size_t len;
	size_t cap;
};

#define BUF_INIT {NULL, 0, 0}

void buf_release(struct buf *b);
void buf_reset(struct buf *b);
void buf_add(struct buf *b, const void *data, size_t len);
void buf_adds(struct buf *b, const char *s);
void buf_addf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Returns the string and leaves `b` empty; free it with free(). */
char *buf_detach(struct buf *b);
/* The contents, or "" when nothing was added yet (borrowed). */
const char *buf_str(const struct buf *b);

#endif
