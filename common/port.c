/* port.c - see port.h. */
#include "common/port.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define PORT_REGISTRY "/tmp/shardquake-ports"

int
port_free_loopback(struct err *e)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), port = -1;

	if (fd < 0)
		return err_set(e, errno, "socket: %s", strerror(errno));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
		port = ntohs(sa.sin_port);
	else
		err_set(e, errno, "bind 127.0.0.1:0: %s", strerror(errno));
	close(fd);
	return port;
}

int
port_claim(int port)
{
	struct stat held, named;
	char path[64];
	int fd, tries;

	if (mkdir(PORT_REGISTRY, 0777) == 0)
		chmod(PORT_REGISTRY, 01777); /* every user's, as /tmp (umask aside) */
	else if (errno != EEXIST)
		return -2;
	snprintf(path, sizeof(path), PORT_REGISTRY "/%d", port);
	for (tries = 0; tries < 8; tries++) {
		if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666)) < 0)
			return -2;
		if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
			close(fd);
			return errno == EWOULDBLOCK ? -1 : -2;
		}
		/* the holder before removes the file as it gives the port back:
		 * a lock on the file it removed is no claim, try the new one */
		if (fstat(fd, &held) == 0 && stat(path, &named) == 0 && held.st_ino == named.st_ino &&
		    held.st_dev == named.st_dev)
			return fd;
		close(fd);
	}
	return -1;
}

void
port_clean(int *removed)
{
	char path[PATH_MAX];
	struct dirent *d;
	DIR *dp;
	int fd;

	*removed = 0;
	if ((dp = opendir(PORT_REGISTRY)) == NULL)
		return;
	while ((d = readdir(dp)) != NULL) {
		if (d->d_name[0] < '0' || d->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), PORT_REGISTRY "/%s", d->d_name);
		if ((fd = open(path, O_RDWR | O_CLOEXEC)) < 0)
			continue;
		if (flock(fd, LOCK_EX | LOCK_NB) == 0 && unlink(path) == 0)
			(*removed)++;
		close(fd);
	}
	closedir(dp);
}

void
port_release(int port, int fd)
{
	char path[64];

	if (fd < 0)
		return;
	snprintf(path, sizeof(path), PORT_REGISTRY "/%d", port);
	unlink(path); /* still held: nobody claims it in between */
	close(fd);
}
