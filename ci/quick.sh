#!/bin/sh
# ci/quick.sh SHARDQUAKE - what `make run` shows a newcomer: a local
# cluster brought up, loaded, verified, broken on purpose, verified
# again, and torn down.  (The scenario runner will take this over.)
set -eu
bin=${1:-build/shardquake}
dir=$(mktemp -d "${TMPDIR:-/tmp}/shardquake-run-XXXXXX")
trap '"$bin" cluster down --dir "$dir" >/dev/null 2>&1 || true; rm -rf "$dir"' EXIT INT TERM

echo "== cluster up: 3 masters, 1 replica each, 100000 keys"
"$bin" cluster up --masters 3 --replicas 1 --keys 100000 --seed 7 --dir "$dir"
port=$(awk '{print $1}' "$dir/cluster.pids" | head -n 1)

echo "== verify: expect a healthy cluster"
"$bin" verify "127.0.0.1:$port" --keys 100000 --seed 7

echo "== delete 10 keys behind the verifier's back, verify again: expect 10 lost"
i=0
while [ $i -lt 10 ]; do
	redis-cli -c -p "$port" DEL "sq:$i" >/dev/null
	i=$((i + 1))
done
set +e
"$bin" verify "127.0.0.1:$port" --keys 100000 --seed 7
rc=$?
set -e
if [ $rc -ne 1 ]; then
	echo "run: FAILED: verify should have found the lost keys (exit $rc)" >&2
	exit 1
fi
echo "== cluster down"
"$bin" cluster down --dir "$dir"
echo "run: ok"
