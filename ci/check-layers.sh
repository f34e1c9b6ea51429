#!/bin/sh
# ci/check-layers.sh - keep the dependency arrows pointing one way:
#   harness -> {injectors, repair, verifier} -> cluster -> common
# (harness/report/ draws pages from JSON: common only)
# verifier and repair never include each other or harness; injectors
# know nothing of cluster; common includes only common.
set -u
bad=0
check() { # DIR FORBIDDEN-DIR...
	dir=$1
	shift
	[ -d "$dir" ] || return 0
	for f in "$@"; do
		hits=$(grep -rn --include='*.[ch]' "#include \"$f/" "$dir" 2>/dev/null)
		if [ -n "$hits" ]; then
			echo "layers: $dir/ must not include $f/:" >&2
			echo "$hits" >&2
			bad=1
		fi
	done
}
check common cluster verifier repair injectors harness
check cluster verifier repair injectors harness
check verifier repair injectors harness
check repair verifier injectors harness
check injectors cluster verifier repair harness
# inside harness/: cli may use every concern; run plays scenarios on
# local clusters with the reshard driver; a scenario names steps and
# cluster shapes; the driver and the local cluster know no scenario;
check harness/reshard harness/cli harness/run harness/scenario harness/local
check harness/local harness/cli harness/run harness/scenario harness/reshard
check harness/scenario harness/cli harness/run
check harness/run harness/cli
# an incident is read from files and written as scenario text: it knows
# the wire model (cluster/), not how scenarios are loaded or played
check harness/incident harness/cli harness/run harness/scenario harness/reshard harness/local harness/workload verifier repair injectors
# live traffic knows clusters only by address
check harness/workload harness/cli harness/run harness/scenario harness/reshard harness/local harness/report
# the pages are drawn from JSON alone (report.json, summary.json): run/
# and cli/ call them, they know no cluster and no run
check harness/report cluster verifier repair injectors harness/cli harness/run harness/scenario harness/reshard harness/local harness/workload
if [ $bad -eq 0 ]; then echo "layers: ok"; fi
exit $bad
