/*
 * Shipped scenarios outside the quick suite, the target's kills: at each
 * step of the migration, with its AOF held back or caught up, with its
 * replica promoted, left unrepaired (see shipped.h).
 */
#include "tests/integration/shipped.h"

SHIPPED_SUITE(shipped_target, 0, SHIPPED_TARGET)
