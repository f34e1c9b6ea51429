/*
 * err.h - the error record every fallible function fills in.
 *
 * A function that can fail takes `struct err *e` as its last argument,
 * returns -1 (or NULL) and describes the failure in `e`; on success it
 * leaves `e` untouched.  Messages follow git: lowercase, no full stop,
 * the subject quoted, the failure first ("connect to '127.0.0.1:7000':
 * Connection refused").  Callers going up add context with err_prefix().
 */
#ifndef SQ_COMMON_ERR_H
#define SQ_COMMON_ERR_H

#define ERR_MSG_MAX 512

struct err {
	int code; /* errno value where one applies, else 0 */
	char msg[ERR_MSG_MAX];
};

#define ERR_INIT {0, ""}

/* Sets the record to `fmt` and `code`.  Always returns -1. */
int err_set(struct err *e, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Puts `fmt` in front of the message already there.  Always returns -1. */
int err_prefix(struct err *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Clears the record. */
void err_clear(struct err *e);

#endif
