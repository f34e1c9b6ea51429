/* fetch.c - a node's CLUSTER NODES, parsed; see fetch.h. */
#include "cluster/fetch.h"

#include <stdlib.h>

int
topology_fetch(struct conn *c, struct topology *t, struct err *e)
{
	char *text = conn_cmd_str(c, e, "CLUSTER", "NODES", NULL);
	int rc;

	if (text == NULL)
		return -1;
	rc = topology_parse(t, text, e);
	free(text);
	if (rc < 0)
		return err_prefix(e, "CLUSTER NODES of '%s': ", conn_addr(c));
	return 0;
}

int
topology_fetch_addr(const char *host, int port, int timeout_ms, struct topology *t,
		    struct err *e)
{
	struct conn *c = conn_open(host, port, timeout_ms, e);
	int rc;

	if (c == NULL)
		return -1;
	rc = topology_fetch(c, t, e);
	conn_free(c);
	return rc;
}
