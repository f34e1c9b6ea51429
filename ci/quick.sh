#!/bin/sh
# ci/quick.sh SHARDQUAKE - what `make run` shows a newcomer: the quick
# scenario suite, real faults fired at exact reshard steps on real
# redis-server processes, each with its verdict; then the same suite on
# Valkey 8 where valkey-server is installed (ci/deps.sh does so).
# Reports under results/.
set -eu
bin=${1:-build/shardquake}
echo "== shardquake list"
"$bin" list
echo
echo "== shardquake run  (the quick suite on Redis; reports under results/)"
rc=0
"$bin" run || rc=$?
echo
if command -v valkey-server >/dev/null 2>&1; then
	echo "== shardquake run --server valkey  (the same suite on $(valkey-server --version | cut -d' ' -f1-3))"
	"$bin" run --server valkey --results results/valkey || rc=$?
else
	echo "== Valkey: skipped: valkey-server is not installed (sh ci/deps.sh installs it from bookworm-backports)"
fi
exit $rc
