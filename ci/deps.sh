#!/bin/sh
# ci/deps.sh - install the Debian packages shardquake needs, if missing.
#
# Idempotent: does nothing when everything is there.  Runs `apt-get
# update` once before installing (a fresh machine's lists may be empty).
# Not root: prints the exact command to run and exits 1.
set -eu

PKGS="build-essential pkg-config libhiredis-dev check libsubunit-dev
libnl-3-dev libnl-route-3-dev libseccomp-dev libjansson-dev libinih-dev
redis-server redis-tools iproute2"

missing=""
for p in $PKGS; do
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$st" in
	*"install ok installed"*) ;;
	*) missing="$missing $p" ;;
	esac
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "shardquake: missing packages:$missing" >&2
	echo "run as root:  apt-get update && apt-get install -y$missing" >&2
	exit 1
fi
echo "ci/deps.sh: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# The redis-server package starts a service on 6379 where an init system
# runs; policy-rc.d keeps it from doing so while installing.
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
	chmod +x /usr/sbin/policy-rc.d
	trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
apt-get install -y -qq --no-install-recommends $missing >/dev/null
echo "ci/deps.sh: installed$missing" >&2
