/* fs.h - small file-system helpers: directories, whole files. */
#ifndef SQ_COMMON_FS_H
#define SQ_COMMON_FS_H

#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"

/* Creates `path` and its missing parents (mode 0755). */
int fs_mkdir_p(const char *path, struct err *e);
/* Removes `path` and everything below it; a missing path is no error. */
int fs_rm_rf(const char *path, struct err *e);
/* Copies a file, or a directory with its files and subdirectories
 * (symlinks and special files are skipped), from `from` to `to`. */
int fs_copy_tree(const char *from, const char *to, struct err *e);
/* Makes the existing path in buf (size n) absolute, in place. */
int fs_absolute(char *buf, size_t n, struct err *e);
/* Reads a whole file into a new NUL-terminated string (free() it). */
char *fs_read_file(const char *path, size_t *len, struct err *e);
/* Writes `len` bytes to `path` (created or truncated, mode 0644). */
int fs_write_file(const char *path, const char *data, size_t len, struct err *e);
/* True when path `p` (as /proc shows it: " (deleted)" once removed) is
 * `dir` or below it. */
bool fs_path_in(const char *p, const char *dir);
/* Removes each directory matching the glob `pattern` that no process
 * works in or below (/proc/PID/cwd), counting them in *removed.  -1 with
 * `e` set when one could not be removed; the others are still tried. */
int fs_remove_unused(const char *pattern, int *removed, struct err *e);
/* The last non-empty line of a text file into out (size n), "" if none. */
void fs_last_line(const char *path, char *out, size_t n);

#endif
