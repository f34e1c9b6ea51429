/*
 * Shipped scenarios outside the quick suite, the source's faults: killed
 * at each step of the migration, with its replica promoted or too stale,
 * with no failover, a dead master whose replica waits for consent, a
 * failover between the SETSLOT NODE steps, a replica killed (see
 * shipped.h).
 */
#include "tests/integration/shipped.h"

SHIPPED_SUITE(shipped_source, 0, SHIPPED_SOURCE)
