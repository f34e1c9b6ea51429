/*
 * xmalloc.h - allocation that never returns NULL.
 *
 * shardquake is a tool, not a library: running out of memory is not a
 * condition it can recover from, so these die with a message instead
 * (as tmux and git do).
 */
#ifndef SQ_COMMON_XMALLOC_H
#define SQ_COMMON_XMALLOC_H

#include <stddef.h>

void *xmalloc(size_t size);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *ptr, size_t size);
/* xrealloc() of nmemb * size, dying on overflow. */
void *xreallocarray(void *ptr, size_t nmemb, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* Returns a new string formatted like printf; free it with free(). */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Grows `*ptr` (of `*cap` elements of `size`) to hold at least `need`. */
void xgrow(void *ptr, size_t *cap, size_t need, size_t size);

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
