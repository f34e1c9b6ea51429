#!/bin/sh
# bench/repair.sh SHARDQUAKE - repair time of shardquake against
# redis-cli --cluster fix on the same broken states, built afresh for each
# tool in the same run, best of $BENCH_RUNS (default 3); printed as ratios
# (make bench calls it).
set -eu
bin=${1:-build/shardquake}
work=$(mktemp -d "${TMPDIR:-/tmp}/shardquake-bench-repair-XXXXXX")
trap '"$bin" cluster down --dir "$work/c" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT INT TERM

now_ms() { date +%s%3N; }

up() { # PERSISTENCE: a fresh 3-master cluster; sets p1 p2 p3 and id1 id2 id3
	"$bin" cluster down --dir "$work/c" >/dev/null 2>&1 || true
	"$bin" cluster up --masters 3 --persistence "$1" --node-timeout 1000 --dir "$work/c" >/dev/null
	set -- $(awk '{print $1}' "$work/c/cluster.pids")
	p1=$1 p2=$2 p3=$3
	id1=$(redis-cli -p "$p1" cluster myid)
	id2=$(redis-cli -p "$p2" cluster myid)
	id3=$(redis-cli -p "$p3" cluster myid)
}

# 200000 keys in the slot of {b}, on master 1, half of them moved to
# master 2 with the slot open on both (as a reshard killed mid-slot).
half_200k() {
	up none
	slot=$(redis-cli -p "$p1" cluster keyslot '{b}')
	own=$p1
	for p in $p1 $p2 $p3; do
		if [ "$(redis-cli -p "$p" set '{b}:probe' x 2>/dev/null)" = OK ]; then own=$p; fi
	done
	redis-cli -p "$own" del '{b}:probe' >/dev/null
	seq 1 200000 | awk '{printf "SET {b}:%d %016d\n", $1, $1}' |
		redis-cli -p "$own" --pipe >/dev/null
	[ "$own" = "$p1" ] && oth=$p2 || oth=$p1
	redis-cli -p "$oth" cluster setslot "$slot" importing "$(redis-cli -p "$own" cluster myid)" >/dev/null
	redis-cli -p "$own" cluster setslot "$slot" migrating "$(redis-cli -p "$oth" cluster myid)" >/dev/null
	seq 0 99 | awk -v p="$oth" '{
		printf "MIGRATE 127.0.0.1 %s \"\" 0 5000 KEYS", p
		for (i = 1; i <= 1000; i++) printf " {b}:%d", $1 * 1000 + i
		printf "\n" }' | redis-cli -p "$own" >/dev/null
	entry=$own
}

# 40 slots of master 1 half moved to master 2, open on both sides.
open_40() {
	up none
	"$bin" load "127.0.0.1:$p1" --keys 1000000 --seed 1 >/dev/null
	for s in $(seq 100 139); do
		redis-cli -p "$p2" cluster setslot "$s" importing "$id1" >/dev/null
		redis-cli -p "$p1" cluster setslot "$s" migrating "$id2" >/dev/null
		n=$(redis-cli -p "$p1" cluster countkeysinslot "$s")
		keys=$(redis-cli -p "$p1" cluster getkeysinslot "$s" $((n / 2)) | tr '\n' ' ')
		[ -n "$keys" ] && redis-cli -p "$p1" migrate 127.0.0.1 "$p2" "" 0 5000 KEYS $keys >/dev/null
	done
	entry=$p1
}

healthy() { "$bin" verify "127.0.0.1:$entry" >/dev/null 2>&1; }

time_rc() { # STATE
	$1
	t0=$(now_ms)
	yes yes 2>/dev/null | redis-cli --cluster fix "127.0.0.1:$entry" --cluster-yes >/dev/null 2>&1 || true
	t1=$(now_ms)
	sleep 1
	if healthy; then echo $((t1 - t0)); else echo "failed"; fi
}

time_sq() { # STATE
	$1
	t0=$(now_ms)
	"$bin" repair "127.0.0.1:$entry" --audit /dev/null >/dev/null 2>&1 || true
	t1=$(now_ms)
	if healthy; then echo $((t1 - t0)); else echo "failed"; fi
}

best() { # TOOL STATE: the best of $BENCH_RUNS (default 3)
	b=""
	for _ in $(seq 1 "${BENCH_RUNS:-3}"); do
		t=$(time_$1 "$2")
		if [ "$t" = failed ]; then echo failed; return; fi
		if [ -z "$b" ] || [ "$t" -lt "$b" ]; then b=$t; fi
	done
	echo "$b"
}

report() { # NAME RC SQ
	if [ "$2" = failed ] || [ "$3" = failed ]; then
		echo "$1: redis-cli fix ${2} ms, shardquake repair ${3} ms (a 'failed' did not end healthy)"
	else
		awk -v n="$1" -v a="$2" -v b="$3" 'BEGIN {
			printf "%s: redis-cli fix %d ms, shardquake repair %d ms; ratio %.2fx (target >= 1)\n", n, a, b, a / b }'
	fi
}

echo "== repair: the same broken state for each tool"
report "half of a 200k-key slot moved" "$(best rc half_200k)" "$(best sq half_200k)"
report "40 open slots, half moved" "$(best rc open_40)" "$(best sq open_40)"

# a dead master with 10000 keys: redis-cli refuses; shardquake salvages
up aof
"$bin" load "127.0.0.1:$p1" --keys 30000 --seed 1 >/dev/null
held=$(redis-cli -p "$p3" dbsize)
sleep 1.2
kill -9 "$(awk -v p="$p3" '$1 == p {print $2}' "$work/c/cluster.pids")"
sleep 3
entry=$p1
rc_out=$(yes yes 2>/dev/null | redis-cli --cluster fix "127.0.0.1:$p1" --cluster-yes 2>&1 | tail -1 | sed 's/\x1b\[[0-9;]*m//g') || true
t0=$(now_ms)
"$bin" repair "127.0.0.1:$p1" --salvage "127.0.0.1:$p3=$work/c/node-$p3" --audit /dev/null >/dev/null 2>&1 || true
t1=$(now_ms)
if "$bin" verify "127.0.0.1:$p1" --keys 30000 --seed 1 >/dev/null 2>&1; then v="every key back"; else v="NOT healthy"; fi
echo "dead master with $held keys: redis-cli fix: ${rc_out:-(no output)}; shardquake repair --salvage: $((t1 - t0)) ms, $v"
