#!/bin/sh
# manual-fix.sh - the usual manual recovery of a Redis Cluster after a node
# died mid-reshard, with redis-cli only, as a runbook shardquake can test
# ([repair] engine = exec).  What it is given (see README, "Your own
# runbook"): SQ_ENTRY, SQ_LIVE, SQ_FAILED, SQ_FAILED_IDS, SQ_FAILED_DIRS,
# SQ_REDIS_SERVER.
#
#   1. assess: CLUSTER INFO, redis-cli --cluster check
#   2. forget each failed node on every live node
#   3. close the stuck slots: SETSLOT STABLE where a slot is migrating or
#      importing
#   4. redis-cli --cluster fix: the failed node's slots go to live masters
#   5. recover the failed node's keys from its files: a copy loaded by a
#      standalone redis-server, then redis-cli --cluster import --cluster-copy
#      --cluster-replace (skip with --no-recover: the step people forget, and
#      what it costs).  Without --cluster-replace, import stops at the first
#      key the cluster has already (one a MIGRATE copied to the dead node
#      before it died, its reply lost) and every key after it stays lost;
#      with it, a value a client wrote since is overwritten by the file's
#      older one.  Nobody writes during these scenarios; the bundled engine
#      tells the two apart (superseded values, README).
#   6. check again
#
# Exit status: that of the last check (0: redis-cli finds the cluster OK).
set -u
recover=yes
[ "${1:-}" = "--no-recover" ] && recover=no
cli() { # HOST:PORT ARGS...
	a=$1
	shift
	redis-cli -h "${a%:*}" -p "${a##*:}" "$@"
}

echo "== 1. assess from $SQ_ENTRY; failed: ${SQ_FAILED:-none}"
cli "$SQ_ENTRY" CLUSTER INFO | grep -E '^cluster_(state|slots_assigned|slots_fail)'
redis-cli --cluster check "$SQ_ENTRY" | tail -n 3

echo "== 2. forget the failed nodes on every live node"
for id in $SQ_FAILED_IDS; do
	for n in $SQ_LIVE; do
		printf '%s forget %.8s: ' "$n" "$id"
		cli "$n" CLUSTER FORGET "$id"
	done
done

echo "== 3. close the stuck slots"
for n in $SQ_LIVE; do
	cli "$n" CLUSTER NODES | awk '/myself/ {
		for (i = 9; i <= NF; i++) if ($i ~ /^\[/) {
			s = $i; sub(/^\[/, "", s); sub(/-.*/, "", s); print s } }' |
	while read -r slot; do
		printf '%s slot %s stable: ' "$n" "$slot"
		cli "$n" CLUSTER SETSLOT "$slot" STABLE
	done
done

echo "== 4. redis-cli --cluster fix (yes to its questions)"
yes yes 2>/dev/null | redis-cli --cluster fix "$SQ_ENTRY" --cluster-yes | tail -n 3

# import refuses a cluster whose nodes do not agree yet: wait for them
i=0
until redis-cli --cluster check "$SQ_ENTRY" >/dev/null 2>&1 || [ $i -ge 100 ]; do
	sleep 0.2
	i=$((i + 1))
done

if [ "$recover" = yes ]; then
	echo "== 5. recover the failed nodes' keys from their files"
	for dir in $SQ_FAILED_DIRS; do
		copy=$(mktemp -d "${TMPDIR:-/tmp}/runbook-XXXXXX")
		cp -r "$dir"/. "$copy"/
		rm -f "$copy"/nodes.conf
		port=$((20000 + $$ % 20000))
		while redis-cli -p "$port" PING >/dev/null 2>&1; do port=$((port + 1)); done
		"$SQ_REDIS_SERVER" --port "$port" --bind 127.0.0.1 --dir "$copy" \
			--appendonly yes --save '' --daemonize no --logfile "$copy/redis.log" &
		pid=$!
		i=0
		until redis-cli -p "$port" PING >/dev/null 2>&1 || [ $i -ge 100 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		echo "$dir: $(redis-cli -p "$port" DBSIZE) keys in its files"
		redis-cli --cluster import "$SQ_ENTRY" --cluster-from "127.0.0.1:$port" \
			--cluster-copy --cluster-replace | grep -v 'Migrating .*OK' | tail -n 4
		kill "$pid"
		wait "$pid" 2>/dev/null
		rm -rf "$copy"
	done
else
	echo "== 5. (skipped: --no-recover)"
fi

echo "== 6. check"
redis-cli --cluster check "$SQ_ENTRY" | grep -E 'OK|ERR|WARN' | tail -n 3
redis-cli --cluster check "$SQ_ENTRY" >/dev/null
