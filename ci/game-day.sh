#!/bin/sh
# ci/game-day.sh - a scheduled game day: play a chosen set of scenarios,
# keep every run's results, and fail when a scenario that passed on the
# last game day does not pass now (a regression in the recovery
# procedure, the servers, or the machine).
#
#   ci/game-day.sh [SCENARIO.ini ...]     default: every scenarios/*.ini
#
#   GAMEDAY_DIR   where game days are kept (default: results/game-days);
#                 each one in GAMEDAY_DIR/YYYYmmdd-HHMMSS/, with the runs,
#                 summary.json and junit.xml of `shardquake run`
#   SHARDQUAKE    the binary (default: build/shardquake, else on PATH)
#
# Exit status: 0 no regression (failures that also failed last time are
# printed, not counted), 1 a regression, 2 the run could not start.
#
# From cron (as root, for the faults that need it):
#   0 3 * * 1  cd /srv/shardquake && ci/game-day.sh scenarios/live-*.ini
# or a systemd timer: ci/templates/shardquake-game-day.{service,timer}.
set -u
dir=${GAMEDAY_DIR:-results/game-days}
bin=${SHARDQUAKE:-build/shardquake}
[ -x "$bin" ] || bin=shardquake
mkdir -p "$dir" || exit 2
last=$(ls -1d "$dir"/[0-9]*-[0-9]* 2>/dev/null | tail -n 1)
now="$dir/$(date -u +%Y%m%d-%H%M%S)"
if [ $# -eq 0 ]; then
	set -- scenarios/*.ini
fi
"$bin" run --results "$now" "$@"
rc=$?
if [ ! -s "$now/summary.json" ]; then
	echo "game-day: no summary in $now (shardquake run exited $rc)" >&2
	exit 2
fi
# "name status" per scenario, from the summary's one-key-a-line layout
statuses() {
	awk -F'"' '/"name":/ { n = $4 } /"status":/ { print n, $4 }' "$1"
}
regressions=0
if [ -n "$last" ] && [ -s "$last/summary.json" ]; then
	statuses "$last/summary.json" > "$now/.before"
	statuses "$now/summary.json" | while read -r name st; do
		was=$(awk -v n="$name" '$1 == n { print $2 }' "$now/.before")
		if [ "$was" = passed ] && [ "$st" != passed ]; then
			echo "game-day: REGRESSION $name: passed on $(basename "$last"), $st now"
		elif [ "$st" = failed ]; then
			echo "game-day: $name failed (${was:-not played} last time)"
		fi
	done > "$now/regressions.txt"
	rm -f "$now/.before"
	cat "$now/regressions.txt"
	regressions=$(grep -c REGRESSION "$now/regressions.txt")
	echo "game-day: $(basename "$now") against $(basename "$last"): $regressions regression(s)"
else
	echo "game-day: $(basename "$now"): the first game day here, nothing to compare with"
fi
[ "$regressions" -eq 0 ] || exit 1
exit 0
