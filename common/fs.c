/* fs.c - file-system helpers; see fs.h. */
#include "common/fs.h"

#include <dirent.h>
#include <stdbool.h>
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <ftw.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/proc.h"
#include "common/xmalloc.h"

int
fs_mkdir_p(const char *path, struct err *e)
{
	char *p = xstrdup(path), *s;
	int rc = 0;

	for (s = p + 1; rc == 0; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char c = *s;
		*s = '\0';
		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			rc = err_set(e, errno, "mkdir '%s': %s", p, strerror(errno));
		*s = c;
		if (c == '\0')
			break;
	}
	free(p);
	return rc;
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		return rmdir(path) < 0 ? errno : 0;
	return unlink(path) < 0 ? errno : 0;
}

int
fs_rm_rf(const char *path, struct err *e)
{
	int rc;

	if (access(path, F_OK) < 0 && errno == ENOENT)
		return 0;
	rc = nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	if (rc != 0)
		return err_set(e, rc > 0 ? rc : errno, "remove '%s': %s", path,
			       strerror(rc > 0 ? rc : errno));
	return 0;
}

char *
fs_read_file(const char *path, size_t *len, struct err *e)
{
	FILE *f = fopen(path, "rb");
	char *data = NULL;
	size_t n = 0, cap = 0, r;

	if (f == NULL) {
		err_set(e, errno, "open '%s': %s", path, strerror(errno));
		return NULL;
	}
	do {
		xgrow(&data, &cap, n + 4096, 1);
		r = fread(data + n, 1, cap - n - 1, f);
		n += r;
	} while (r > 0);
	if (ferror(f)) {
		err_set(e, errno, "read '%s': %s", path, strerror(errno));
		free(data);
		fclose(f);
		return NULL;
	}
	fclose(f);
	data[n] = '\0';
	if (len)
		*len = n;
	return data;
}

int
fs_write_file(const char *path, const char *data, size_t len, struct err *e)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	ssize_t w;
	size_t off = 0;

	if (fd < 0)
		return err_set(e, errno, "create '%s': %s", path, strerror(errno));
	while (off < len) {
		w = write(fd, data + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			err_set(e, errno, "write '%s': %s", path, strerror(errno));
			close(fd);
			return -1;
		}
		off += (size_t)w;
	}
	if (close(fd) < 0)
		return err_set(e, errno, "close '%s': %s", path, strerror(errno));
	return 0;
}

void
fs_last_line(const char *path, char *out, size_t n)
{
	char *data = fs_read_file(path, NULL, NULL), *end, *start;

	out[0] = '\0';
	if (data == NULL)
		return;
	end = data + strlen(data);
	while (end > data && (end[-1] == '\n' || end[-1] == '\r'))
		end--;
	*end = '\0';
	start = strrchr(data, '\n');
	snprintf(out, n, "%s", start ? start + 1 : data);
	free(data);
}

static int
copy_file(const char *from, const char *to, struct err *e)
{
	char buf[65536];
	ssize_t r;
	int in, out, rc = 0;

	if ((in = open(from, O_RDONLY | O_CLOEXEC)) < 0)
		return err_set(e, errno, "open '%s': %s", from, strerror(errno));
	if ((out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0) {
		rc = err_set(e, errno, "create '%s': %s", to, strerror(errno));
		close(in);
		return rc;
	}
	while ((r = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)r) != r) {
			rc = err_set(e, errno, "write '%s': %s", to, strerror(errno));
			break;
		}
	if (r < 0 && rc == 0)
		rc = err_set(e, errno, "read '%s': %s", from, strerror(errno));
	if (close(out) < 0 && rc == 0)
		rc = err_set(e, errno, "close '%s': %s", to, strerror(errno));
	close(in);
	return rc;
}

int
fs_copy_tree(const char *from, const char *to, struct err *e)
{
	struct stat st;
	struct dirent *d;
	DIR *dir;
	char a[PATH_MAX], b[PATH_MAX];
	int rc = 0;

	if (lstat(from, &st) < 0)
		return err_set(e, errno, "stat '%s': %s", from, strerror(errno));
	if (S_ISREG(st.st_mode))
		return copy_file(from, to, e);
	if (!S_ISDIR(st.st_mode))
		return 0; /* no links, sockets or devices */
	if (mkdir(to, 0755) < 0 && errno != EEXIST)
		return err_set(e, errno, "mkdir '%s': %s", to, strerror(errno));
	if ((dir = opendir(from)) == NULL)
		return err_set(e, errno, "open '%s': %s", from, strerror(errno));
	while (rc == 0 && (d = readdir(dir)) != NULL) {
		if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0)
			continue;
		if ((size_t)snprintf(a, sizeof(a), "%s/%s", from, d->d_name) >= sizeof(a) ||
		    (size_t)snprintf(b, sizeof(b), "%s/%s", to, d->d_name) >= sizeof(b))
			rc = err_set(e, ENAMETOOLONG, "path too long under '%s'", from);
		else
			rc = fs_copy_tree(a, b, e);
	}
	closedir(dir);
	return rc;
}

int
fs_absolute(char *buf, size_t n, struct err *e)
{
	char abs[PATH_MAX];

	if (realpath(buf, abs) == NULL)
		return err_set(e, errno, "resolve '%s': %s", buf, strerror(errno));
	if (strlen(abs) >= n)
		return err_set(e, ENAMETOOLONG, "path too long: '%s'", abs);
	memcpy(buf, abs, strlen(abs) + 1);
	return 0;
}

bool
fs_path_in(const char *p, const char *dir)
{
	size_t len = strlen(dir);

	return strncmp(p, dir, len) == 0 &&
	       (p[len] == '\0' || p[len] == '/' || strcmp(p + len, " (deleted)") == 0);
}

/* True when some process's working directory is `dir` or below it. */
static bool
in_use(const char *dir)
{
	char cwd[PATH_MAX];
	struct dirent *d;
	bool used = false;
	DIR *p = opendir("/proc");
	int pid;

	while (p && !used && (d = readdir(p)) != NULL) {
		if ((pid = atoi(d->d_name)) <= 0)
			continue;
		proc_link(pid, "cwd", cwd, sizeof(cwd));
		used = cwd[0] && fs_path_in(cwd, dir);
	}
	if (p)
		closedir(p);
	return used;
}

int
fs_remove_unused(const char *pattern, int *removed, struct err *e)
{
	glob_t g = {0};
	struct stat st;
	size_t i;
	int rc = 0;

	*removed = 0;
	if (glob(pattern, 0, NULL, &g) != 0)
		return 0; /* none */
	for (i = 0; i < g.gl_pathc; i++) {
		if (lstat(g.gl_pathv[i], &st) < 0 || !S_ISDIR(st.st_mode) || in_use(g.gl_pathv[i]))
			continue;
		if (fs_rm_rf(g.gl_pathv[i], e) < 0)
			rc = -1;
		else
			(*removed)++;
	}
	globfree(&g);
	return rc;
}
