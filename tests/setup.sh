# tests/setup.sh: sourced by tests/run and scenarios/run. Installs the
# Debian packages the build and the tests need (only those missing), then
# configures and builds with CMake. Sets EDGELAB_ROOT, BUILD and BIN.
# Every command a test calls comes from this list (or from the build): a
# test that finds one missing fails (tests/lib/lib.sh need_cmd), it does
# not skip.
set -euo pipefail

EDGELAB_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${EDGELAB_BUILD:-$EDGELAB_ROOT/build}
BIN=$BUILD/bin
# An installed tree (cmake --install, the .deb) has no sources to build and
# its package brought what it needs: use the installed binaries.
EDGELAB_INSTALLED=0
if [ -f "$EDGELAB_ROOT/installed.sh" ]; then
	. "$EDGELAB_ROOT/installed.sh"
	BIN=$EDGELAB_INSTALLED_BIN EDGELAB_INSTALLED=1
fi
export EDGELAB_ROOT BUILD BIN

# Debian package, one per line, and what the build and tests use of it.
EDGELAB_PACKAGES="
build-essential   cc, make
cmake             cmake, ctest
pkg-config
libuv1-dev
libssl-dev
libnl-3-dev
libnl-route-3-dev
check             the unit tests' framework
coturn            turnutils_uclient, turnutils_peer, turnutils_stunclient; turnserver (bench)
nftables          nft: the lab's firewalls and balancer, lossy links in tests
iproute2          ip, ss, bridge
tcpdump           the lab's and the scenarios' captures
clang             the fuzz targets (libFuzzer)
libclang-rt-14-dev
openssl           test certificates
procps            sysctl, pgrep
valgrind          avedge_valgrind, hlb_alloc
python3           tests/tools/rfc6062.py (avedge_tcprelay_pressure)
util-linux        setpriv, setsid, flock
coreutils         timeout, mktemp, od, stat
libc-bin          ldd
mawk              awk (Debian's own; the awk programs are POSIX)
libnice-dev       the MS-TURN interop client (tests/tools/nice_turn.c)
libhttp-parser-dev  /metrics' HTTP request parser (relay/httpreq.c)
libosip2-dev      MRAS: SIP parsing and building (relay/mras/sip.c)
libxml2-dev       MRAS: the XML bodies (relay/mras/xml.c)
systemd           systemd-analyze verify (install: the units)
groff-base        groff: the man pages render without warnings (install)
man-db            man -l (install)
bsdextrautils     col (install: man's output as plain text)
dpkg-dev          dpkg-shlibdeps: CPack's package dependencies (install)
jq                the suite reads the balancer's ctl list --json (scenarios/lib/lb.sh)
haproxy           the third-party device: Access and Web Conferencing (scenarios/devices/haproxy-nginx)
nginx             the third-party device: A/V behind a transparent stream proxy (same)
libnginx-mod-stream  nginx's stream module for that device
socat             that device's ctl adapter talks to HAProxy's runtime API (stats socket)
"
setup_need_root() {
	if [ "$(id -u)" -ne 0 ]; then
		echo "$(basename "$0"): must run as root (it installs packages and builds network namespaces); try: sudo $0" >&2
		exit 1
	fi
}

setup_packages() {
	[ $EDGELAB_INSTALLED = 0 ] || return 0
	local missing=() p s
	declare -A have=()
	local want=()
	while read -r p _; do [ -n "$p" ] && want+=("$p"); done <<<"$EDGELAB_PACKAGES"
	# One dpkg-query for all of them: this runs before every suite.
	while read -r p _ _ s; do
		[ "$s" = installed ] && have[$p]=1
	done < <(dpkg-query -W -f='${Package} ${Status}\n' "${want[@]}" 2>/dev/null)
	for p in "${want[@]}"; do
		[ -n "${have[$p]:-}" ] || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	echo "setup: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# coturn, haproxy and nginx would start services in the host's own
	# namespace (turnserver on 3478, nginx on 80); we only want their
	# programs, run inside lab namespaces. A policy-rc.d that refuses
	# keeps them from starting at install (one already there is left as
	# it is), and they stay disabled afterwards.
	local policy=/usr/sbin/policy-rc.d ours=0
	if [ ! -e $policy ]; then
		printf '#!/bin/sh\nexit 101\n' >$policy && chmod 755 $policy && ours=1
	fi
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
	[ $ours = 1 ] && rm -f $policy
	if command -v systemctl >/dev/null 2>&1; then
		systemctl disable --now coturn haproxy nginx >/dev/null 2>&1 || true
	fi
	for s in haproxy nginx; do # no systemd: stop a SysV service
		[ -x /etc/init.d/$s ] && { /etc/init.d/$s stop >/dev/null 2>&1 || true; }
	done
}

setup_build() {
	[ $EDGELAB_INSTALLED = 0 ] || return 0
	local type=${1:-RelWithDebInfo}
	cmake -S "$EDGELAB_ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE="$type" >/dev/null
	cmake --build "$BUILD" -j"$(nproc)" -- --no-print-directory >/dev/null ||
		cmake --build "$BUILD" -j1
}
