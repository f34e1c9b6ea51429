/*
 * Shipped scenarios outside the quick suite, every other fault: disk, OOM,
 * partitions, live writers, a lost disk with a backup, runbooks (see
 * shipped.h).
 */
#include "tests/integration/shipped.h"

SHIPPED_SUITE(shipped_other, 1, SHIPPED_SOURCE, SHIPPED_TARGET)
