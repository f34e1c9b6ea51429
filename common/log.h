/*
 * log.h - the human log: one line per event on stderr.
 *
 * Lines look like "12.345 warn harness/node: node 7001 exited" with the
 * seconds since the process started.  The level is tested before any
 * formatting.  The machine record of a run (events, reports) is kept
 * apart and never read from here.
 */
#ifndef SQ_COMMON_LOG_H
#define SQ_COMMON_LOG_H

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR, LOG_QUIET };

extern enum log_level log_level; /* the one mutable global */

void log_write(enum log_level lvl, const char *mod, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define log_at(lvl, ...)                                                       \
	do {                                                                   \
		if ((lvl) >= log_level)                                        \
			log_write((lvl), LOG_MODULE, __VA_ARGS__);             \
	} while (0)
#define log_debug(...) log_at(LOG_DEBUG, __VA_ARGS__)
#define log_info(...)  log_at(LOG_INFO, __VA_ARGS__)
#define log_warn(...)  log_at(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_at(LOG_ERROR, __VA_ARGS__)

#ifndef LOG_MODULE
#define LOG_MODULE "shardquake"
#endif

/* Prints "shardquake: fatal: <msg>: <strerror(errno)>" and exits 1. */
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/* Like fatal() without errno. */
void fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* Aborts with the location: for a programmer's error, never for input. */
#define BUG(msg) bug_at(__FILE__, __LINE__, (msg))
void bug_at(const char *file, int line, const char *msg) __attribute__((noreturn));

#endif
