#!/bin/sh
# ci/check.sh BUILD ASAN_BUILD - run every test binary, then print one
# summary line "N passed, N failed[, N skipped]"; exit 1 on any failure.
#
# Every integration suite plays twice: on Redis 7.0 and on Valkey 8
# (issue 11; the valkey and valkey_shapes suites pick their servers
# themselves and play once).  The suites mostly wait on servers (one
# keeps 13-38 % of a core busy), so SQ_JOBS of them (default 4) play at
# once, the longest first (LONG_FIRST), each on free ports of its own;
# SQ_SUITES="a b" plays only those.
# A suite's output is printed when it ends, with its time; the slowest
# are listed at the end.
set -u
b=${1:-build}
asan=${2:-build-asan}
jobs=${SQ_JOBS:-4}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
summary=$work/summary
: > "$summary"
export SQ_SUMMARY="$summary"
status=0
# the longest first, so that no long one starts last (times from this
# script's own table of a CI run)
LONG_FIRST=${LONG_FIRST:-"run shipped_target shipped_source shipped_other repair_dead stale
	valkey_shapes repair_live repair_manual successor valkey
	repair_replica repair incident verify fault_run reshard cluster backup"}
ONE_SERVER="valkey valkey_shapes"

stage() {
	label=$1
	shift
	echo "== $label"
	before=$(wc -l < "$summary")
	t0=$(date +%s)
	"$@"
	rc=$?
	echo "== $label: $(($(date +%s) - t0)) s"
	after=$(wc -l < "$summary")
	if [ "$after" -eq "$before" ]; then
		# the binary died before reporting: count the stage as a failure
		echo "$label 0 1 0" >> "$summary"
	fi
	[ $rc -eq 0 ] || status=1
}

stage unit "$b/tests/unit/run"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
	stage unit-asan "$asan/tests/unit/run"

# The queue: one file a job, "SUITE SERVER", named in the order to play.
servers=redis
if command -v valkey-server >/dev/null 2>&1; then
	servers="redis valkey"
else
	echo "== integration on valkey: skipped: no valkey-server on PATH" \
	     "(sh ci/deps.sh installs it from bookworm-backports)"
	echo "valkey 0 0 1" >> "$summary"
fi
all=${SQ_SUITES:-$(ls tests/integration/it_*.c | sed 's|.*/it_||; s|\.c$||')}
n=0
for suite in $LONG_FIRST $all; do
	case " $(echo $all) " in
	*" $suite "*) ;;
	*) continue ;;
	esac
	[ -e "$work/seen-$suite" ] && continue
	: > "$work/seen-$suite"
	for server in $servers; do
		case " $ONE_SERVER " in
		*" $suite "*) [ "$server" = redis ] || continue ;;
		esac
		n=$((n + 1))
		echo "$suite $server" > "$work/$(printf '%03d' $n).job"
	done
done

# Takes the first job left (a rename: two workers never take the same
# one) and plays it; until none is left.
worker() {
	while :; do
		job=
		for f in "$work"/*.job; do
			[ -e "$f" ] || return 0
			if mv "$f" "${f%.job}.run" 2>/dev/null; then
				job=${f%.job}
				break
			fi
		done
		[ -n "$job" ] || return 0
		read -r suite server < "$job.run"
		t0=$(date +%s)
		SQ_BIN="$b/shardquake" SQ_SUMMARY="$job.sum" SQ_SUITES=$suite \
			SHARDQUAKE_SERVER=$server "$b/tests/integration/run" > "$job.log" 2>&1
		rc=$?
		secs=$(($(date +%s) - t0))
		echo "$secs $suite-$server" >> "$work/times"
		[ -s "$job.sum" ] || echo "integration-$suite-$server 0 1 0" > "$job.sum"
		[ $rc -eq 0 ] || echo "$suite $server" >> "$work/failed"
		flock "$work/print.lock" sh -c \
			'echo "== integration $1 on $2: $3 s"; cat "$4"' _ \
			"$suite" "$server" "$secs" "$job.log"
	done
}

echo "== integration: $n suites, $jobs at once"
t0=$(date +%s)
i=0
while [ $i -lt "$jobs" ]; do
	worker &
	i=$((i + 1))
done
wait
echo "== integration: $(($(date +%s) - t0)) s; the slowest:" \
	"$(sort -rn "$work/times" | head -n 6 | awk '{ printf "%s %s s; ", $2, $1 }')"
cat "$work"/*.sum >> "$summary" 2>/dev/null
if [ -s "$work/failed" ]; then
	echo "== integration: failed: $(tr '\n' ';' < "$work/failed")"
	status=1
fi

awk '{ p += $2; f += $3; s += $4 }
     END { printf "%d passed, %d failed", p, f; if (s) printf ", %d skipped", s; printf "\n" }' "$summary"
awk '{ if ($3) bad = 1 } END { exit bad }' "$summary" || status=1
exit $status
