# tests/lib/hlbtopo.sh: the three namespaces the hlb integration tests
# (hlb_nat.sh, hlb_alloc.sh) run hlb's TUN engine in (sourced):
#   cli (c0 198.51.100.10) -- (l0 198.51.100.1) lb (l1 203.0.113.10, VIP .12)
#     -- (s0 203.0.113.x) srv
# cli's gateway is 198.51.100.1, srv's 203.0.113.10. With -6 the same
# again in IPv6: cli 2001:db8:5::10, lb 2001:db8:5::1 and 2001:db8:3::10
# with the VIP 2001:db8:3::12, srv 2001:db8:3::23.
#
# A test sources this, calls topo_need, topo_init with its own prefix (the
# namespaces are PREFIX<pid>-<random>-cli, -lb, -srv: runs never collide)
# and topo_up; its EXIT trap kills what runs in the namespaces, deletes
# them and TMP. It gives ROOT BIN CLI LB SRV TMP SOCK, and check, in_ns,
# ctl, wait_for. hlb is a test's own to configure and start.
# shellcheck shell=bash
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# As tests/setup.sh: BIN, else EDGELAB_BUILD's bin, else build/bin.
BIN=${BIN:-${EDGELAB_BUILD:-$ROOT/build}/bin}
fails=0

topo_need() { # BINARY...: exit 77 unless root with a TUN device; 1 if one is not built
	local b
	[ "$(id -u)" -eq 0 ] || { echo "skip: needs root"; exit 77; }
	[ -c /dev/net/tun ] || { echo "skip: no /dev/net/tun"; exit 77; }
	for b in "$@"; do
		[ -x "$BIN/$b" ] || { echo "FAIL: $BIN/$b not built"; exit 1; }
	done
}

topo_init() { # PREFIX: names, a scratch directory, the cleanup trap
	local p=$1$$-$RANDOM
	CLI=$p-cli LB=$p-lb SRV=$p-srv
	TMP=$(mktemp -d)
	SOCK=$TMP/hlb.sock
	trap topo_cleanup EXIT
}

topo_cleanup() {
	local ns pid
	for ns in $CLI $LB $SRV; do
		for pid in $(ip netns pids "$ns" 2>/dev/null); do kill "$pid" 2>/dev/null; done
	done
	# hlb restores its rules on SIGTERM (slowly under valgrind): give it
	# a moment, bounded.
	for _ in $(seq 50); do
		[ -z "$(ip netns pids "$LB" 2>/dev/null)" ] && break
		sleep 0.1
	done
	for ns in $CLI $LB $SRV; do
		for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null; done
		ip netns del "$ns" 2>/dev/null
	done
	rm -rf "$TMP"
}

check() { # name, then the command; prints one aligned line
	local name=$1; shift
	if "$@"; then printf '  %-62s ok\n' "$name"
	else printf '  %-62s FAIL\n' "$name"; fails=$((fails + 1)); fi
}

wait_for() { # tries, then the command; 0.1 s between tries
	local n=$1; shift
	for _ in $(seq "$n"); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
	return 1
}

in_ns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }
ctl() { "$BIN/hlb" ctl --socket "$SOCK" "$@"; }

topo_up() { # [-6] HOST...: the namespaces, wired; srv holds 203.0.113.HOST each
	local v6='' ns h
	[ "${1:-}" = -6 ] && { v6=1; shift; }
	ip netns add "$CLI" && ip netns add "$LB" && ip netns add "$SRV" || return 1
	if [ -n "$v6" ]; then
		# No duplicate address detection: link-local addresses usable
		# at once. Before the links exist, so that they inherit it.
		for ns in $CLI $LB $SRV; do
			in_ns "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 \
				net.ipv6.conf.default.accept_dad=0
		done
	fi
	ip link add c0 netns "$CLI" type veth peer name l0 netns "$LB"
	ip link add s0 netns "$SRV" type veth peer name l1 netns "$LB"
	in_ns "$CLI" ip addr add 198.51.100.10/24 dev c0
	in_ns "$LB" ip addr add 198.51.100.1/24 dev l0
	in_ns "$LB" ip addr add 203.0.113.10/24 dev l1
	in_ns "$LB" ip addr add 203.0.113.12/32 dev l1
	for h in "$@"; do in_ns "$SRV" ip addr add "203.0.113.$h/24" dev s0; done
	in_ns "$CLI" ip link set c0 up
	in_ns "$LB" ip link set l0 up
	in_ns "$LB" ip link set l1 up
	in_ns "$SRV" ip link set s0 up
	for ns in $CLI $LB $SRV; do in_ns "$ns" ip link set lo up; done
	in_ns "$CLI" ip route add default via 198.51.100.1
	in_ns "$SRV" ip route add default via 203.0.113.10
	[ -n "$v6" ] || return 0
	# IPv6 mirrors it (R28); nodad so the addresses work at once.
	in_ns "$CLI" ip addr add 2001:db8:5::10/64 dev c0 nodad
	in_ns "$LB" ip addr add 2001:db8:5::1/64 dev l0 nodad
	in_ns "$LB" ip addr add 2001:db8:3::10/64 dev l1 nodad
	in_ns "$LB" ip addr add 2001:db8:3::12/128 dev l1 nodad
	in_ns "$SRV" ip addr add 2001:db8:3::23/64 dev s0 nodad
	in_ns "$CLI" ip route add default via 2001:db8:5::1
	in_ns "$SRV" ip route add default via 2001:db8:3::10
}
