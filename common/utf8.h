/* utf8.h - text from outside (key names, replies, files) made safe for
 * JSON and terminals. */
#ifndef SQ_COMMON_UTF8_H
#define SQ_COMMON_UTF8_H

#include <stdbool.h>

/* The length of the well-formed UTF-8 sequence at s (1 to 4), or 0 when
 * the bytes there are not one. */
int utf8_seq_len(const char *s);
/* True when s is well-formed UTF-8 (no overlongs, surrogates or code
 * points above U+10FFFF). */
bool utf8_valid(const char *s);
/* Replaces, in place, every byte that is not part of well-formed UTF-8
 * with '?'; returns s. */
char *utf8_sanitize(char *s);

#endif
