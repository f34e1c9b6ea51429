#!/bin/sh
# ci/deps.sh - install the Debian packages shardquake needs, if missing.
#
#   sh ci/deps.sh                  build and test packages, redis-server
#                                  7.0 and valkey-server 8.0
#   sh ci/deps.sh --with-browser   also chromium, for the report's
#                                  browser test (make check asks for it)
#
# Idempotent: does nothing when everything is there.  Runs `apt-get
# update` once before installing (a fresh machine's lists may be empty).
# Valkey 8.0 comes from Debian's bookworm-backports, that suite enabled
# for valkey-server and valkey-tools only (an apt pin); where it cannot
# be reached the rest is installed all the same and the Valkey runs are
# skipped with that reason; so is the browser test without chromium.
# Not root: prints the exact command to run and exits 1.
set -eu

PKGS="build-essential pkg-config libhiredis-dev check libsubunit-dev
libnl-3-dev libnl-route-3-dev libseccomp-dev libjansson-dev libinih-dev
redis-server redis-tools iproute2"
VALKEY="valkey-server valkey-tools"
BACKPORTS=/etc/apt/sources.list.d/shardquake-bookworm-backports.sources
PIN=/etc/apt/preferences.d/shardquake-valkey

OPTIONAL=""
case "${1:-}" in
--with-browser) OPTIONAL="chromium" ;;
"") ;;
*) echo "usage: sh ci/deps.sh [--with-browser]" >&2; exit 2 ;;
esac

missing_of() { # PKG...: those not installed
	for p in "$@"; do
		st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
		case "$st" in
		*"install ok installed"*) ;;
		*) printf ' %s' "$p" ;;
		esac
	done
}

# shellcheck disable=SC2086
missing=$(missing_of $PKGS)
# shellcheck disable=SC2086
vmissing=$(missing_of $VALKEY)
# shellcheck disable=SC2086
omissing=$(missing_of $OPTIONAL)
[ -z "$missing$vmissing$omissing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "shardquake: missing packages:$missing$vmissing$omissing" >&2
	[ -z "$missing" ] && { echo "shardquake: (the tests that need them are skipped)" >&2; exit 0; }
	echo "run as root:  sh ci/deps.sh" >&2
	exit 1
fi
echo "ci/deps.sh: installing$missing$vmissing$omissing" >&2
export DEBIAN_FRONTEND=noninteractive

# bookworm-backports, for Valkey alone: every other package there is
# pinned away (-1), these two preferred (500).
. /etc/os-release
if [ -n "$vmissing" ] && [ "${VERSION_CODENAME:-}" = bookworm ] && [ ! -e "$BACKPORTS" ]; then
	cat > "$BACKPORTS" <<'EOF'
# added by shardquake's ci/deps.sh: valkey-server and valkey-tools only
# (see /etc/apt/preferences.d/shardquake-valkey)
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
	cat > "$PIN" <<'EOF'
# added by shardquake's ci/deps.sh: from bookworm-backports, Valkey only
Package: *
Pin: release n=bookworm-backports
Pin-Priority: -1

Package: valkey-server valkey-tools
Pin: release n=bookworm-backports
Pin-Priority: 500
EOF
fi
apt-get update -qq || true
# The server packages start a service where an init system runs;
# policy-rc.d keeps them from doing so while installing.
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
	chmod +x /usr/sbin/policy-rc.d
	trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
if [ -n "$missing" ]; then
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing >/dev/null
	echo "ci/deps.sh: installed$missing" >&2
fi
if [ -n "$vmissing" ]; then
	# shellcheck disable=SC2086
	if apt-get install -y -qq --no-install-recommends $vmissing >/dev/null; then
		echo "ci/deps.sh: installed$vmissing (bookworm-backports)" >&2
	else
		echo "ci/deps.sh: could not install$vmissing; Valkey runs will be skipped" >&2
	fi
fi
if [ -n "$omissing" ]; then
	# shellcheck disable=SC2086
	if apt-get install -y -qq --no-install-recommends $omissing >/dev/null; then
		echo "ci/deps.sh: installed$omissing" >&2
	else
		echo "ci/deps.sh: could not install$omissing; the browser test will be skipped" >&2
	fi
fi
