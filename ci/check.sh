#!/bin/sh
# ci/check.sh BUILD ASAN_BUILD - run every test binary, then print one
# summary line "N passed, N failed[, N skipped]"; exit 1 on any failure.
set -u
b=${1:-build}
asan=${2:-build-asan}
summary=$(mktemp)
trap 'rm -f "$summary"' EXIT
export SQ_SUMMARY="$summary"
status=0
VALKEY_SUITES=${VALKEY_SUITES:-"repair repair_dead repair_manual repair_live"}

stage() {
	label=$1
	shift
	echo "== $label"
	before=$(wc -l < "$summary")
	"$@"
	rc=$?
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
SQ_BIN="$b/shardquake" stage integration "$b/tests/integration/run"
# The repair suites again on Valkey 8 (issue 11): the same tests, the
# clusters of valkey-server processes; the valkey suite ran above.
if command -v valkey-server >/dev/null 2>&1; then
	for suite in $VALKEY_SUITES; do
		SQ_BIN="$b/shardquake" SQ_IT_SERVER=valkey-server CK_RUN_SUITE=$suite \
			stage "integration-valkey-$suite" "$b/tests/integration/run"
	done
else
	echo "== integration on valkey: skipped: no valkey-server on PATH" \
	     "(sh ci/deps.sh installs it from bookworm-backports)"
	echo "valkey 0 0 1" >> "$summary"
fi

awk '{ p += $2; f += $3; s += $4 }
     END { printf "%d passed, %d failed", p, f; if (s) printf ", %d skipped", s; printf "\n" }' "$summary"
awk '{ if ($3) bad = 1 } END { exit bad }' "$summary" || status=1
exit $status
