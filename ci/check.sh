#!/bin/sh
# ci/check.sh BUILD ASAN_BUILD - run every test binary, then print one
# summary line "N passed, N failed[, N skipped]"; exit 1 on any failure.
#
# The integration suites mostly wait on servers (one share of them keeps
# two cores ~40% busy), so two shares play at once: the scenario runs
# (run, valkey, stale) and the repair_dead suite beside the rest, then the
# repair suites and the reshard driver's again on Valkey 8
# (VALKEY_SUITES), where its SETSLOT and its replicas differ.  The side
# share is the longer (609 s against 545 s before repair_replica, 35 s,
# and reshard, 16 s, joined the Valkey ones).  The side share's output
# is printed when it ends.
set -u
b=${1:-build}
asan=${2:-build-asan}
summary=$(mktemp)
side_summary=$(mktemp)
side_log=$(mktemp)
trap 'rm -f "$summary" "$side_summary" "$side_log"' EXIT
export SQ_SUMMARY="$summary"
status=0
SIDE_SUITES=${SIDE_SUITES:-"run valkey repair_dead stale"}
VALKEY_SUITES=${VALKEY_SUITES:-"repair_dead repair_manual repair_live successor repair_replica reshard"}

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

echo "== integration: $SIDE_SUITES (alongside the rest; printed when done)"
side_t0=$(date +%s)
(SQ_BIN="$b/shardquake" SQ_SUMMARY="$side_summary" SQ_SUITES="$SIDE_SUITES" \
	"$b/tests/integration/run"; rc=$?
 echo "== integration: $SIDE_SUITES: $(($(date +%s) - side_t0)) s"; exit $rc) \
	> "$side_log" 2>&1 &
side=$!
SQ_BIN="$b/shardquake" SQ_SKIP_SUITES="$SIDE_SUITES" stage integration \
	"$b/tests/integration/run"
# The repair and reshard suites again on Valkey 8 (issue 11): the same
# tests, the clusters of valkey-server processes.
if command -v valkey-server >/dev/null 2>&1; then
	for suite in $VALKEY_SUITES; do
		SQ_BIN="$b/shardquake" SHARDQUAKE_SERVER=valkey SQ_SUITES=$suite \
			stage "integration-valkey-$suite" "$b/tests/integration/run"
	done
else
	echo "== integration on valkey: skipped: no valkey-server on PATH" \
	     "(sh ci/deps.sh installs it from bookworm-backports)"
	echo "valkey 0 0 1" >> "$summary"
fi
wait $side
side_rc=$?
echo "== integration: $SIDE_SUITES"
cat "$side_log"
if [ -s "$side_summary" ]; then
	cat "$side_summary" >> "$summary"
else
	echo "integration-side 0 1 0" >> "$summary"
fi
[ $side_rc -eq 0 ] || status=1

awk '{ p += $2; f += $3; s += $4 }
     END { printf "%d passed, %d failed", p, f; if (s) printf ", %d skipped", s; printf "\n" }' "$summary"
awk '{ if ($3) bad = 1 } END { exit bad }' "$summary" || status=1
exit $status
