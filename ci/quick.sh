#!/bin/sh
# ci/quick.sh SHARDQUAKE - what `make run` shows a newcomer: the quick
# scenario suite, real faults fired at exact reshard steps on real
# redis-server processes, each with its verdict; results in results/.
set -eu
bin=${1:-build/shardquake}
echo "== shardquake list"
"$bin" list
echo
echo "== shardquake run  (the quick suite; reports under results/)"
exec "$bin" run
