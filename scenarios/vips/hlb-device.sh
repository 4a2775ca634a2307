#!/usr/bin/env bash
# scenarios/vips/hlb-device.sh: a "vendor device" for scenarios/run --lb
# external, made of parts the lab does not manage: two namespaces of our
# own, P-vdx and P-vdi, each running hlb like an appliance, wired into a
# lab brought up with --lb none by scenarios/wire-device (veths into the
# devices' namespaces). It shows, end to end, what a vendor does with
# their own box; see hlb-device.vips.
#
# usage: LAB_PREFIX=P hlb-device.sh up|down
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
P=${LAB_PREFIX:?LAB_PREFIX must name the lab}
BIN=${EDGELAB_BIN:-$ROOT/build/bin}
STATE=/run/edgelab/$P
X=$P-vdx I=$P-vdi # the device's two halves: external and internal HLB

v6() { # the lab's IPv6 mirror of an IPv4 address/len (netns/PLAN.md)
	awk -F'[./]' '{ printf "2001:db8:%d:%d:%d::%d/%d\n", $1, $2, $3, $4, 32 + 2 * $5 }' <<<"$1"
}

addr() { # NS IFNAME A.B.C.D/LEN...: each address and its IPv6 mirror
	local ns=$1 ifn=$2 a
	shift 2
	for a; do
		ip -n "$ns" addr add "$a" dev "$ifn"
		ip -n "$ns" addr add "$(v6 "$a")" dev "$ifn" nodad
	done
}

device_ns() { # NAME: a namespace set up like a router appliance
	ip netns add "$1"
	ip netns exec "$1" sh -c 'sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 \
		net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 net.ipv4.conf.all.rp_filter=0 \
		net.ipv4.conf.default.rp_filter=0 net.ipv4.conf.all.send_redirects=0 net.ipv4.conf.default.send_redirects=0'
	ip -n "$1" link set lo up
}

# The lab's HLB faults (scenarios/run --mutations) as hlb --fault options,
# the same mapping the lab's own hlb gets: a misconfigured device.
fault_args() {
	[ -s "$STATE/faults" ] || return 0
	# shellcheck source=../../netns/lib/hlb.sh
	LAB_STATE=$STATE . "$ROOT/netns/lib/hlb.sh"
	LAB_STATE=$STATE lab_hlb_fault_args
}

start_hlb() { # NS SIDE
	local faults
	faults=$(fault_args)
	"$ROOT/netns/lbgen" hlb "$2" "$STATE/vendor-$2.sock" >"$STATE/vendor-$2.conf"
	# shellcheck disable=SC2086 # "--fault NAME" pairs
	setsid ip netns exec "$1" "$BIN/hlb" --config "$STATE/vendor-$2.conf" $faults \
		</dev/null >"$STATE/vendor-$2.log" 2>&1 &
	echo $! >"$STATE/vendor-$2.pid"
}

case ${1:-} in
up)
	device_ns "$X"
	device_ns "$I"
	DEVICE_EXT_DMZ=netns:$X:dmzext DEVICE_EXT_EDGE=netns:$X:edgeext \
		DEVICE_INT_EDGE=netns:$I:edgeint DEVICE_INT_DMZ=netns:$I:dmzint "$ROOT/scenarios/wire-device" up
	addr "$X" dmzext 192.0.2.2/24
	addr "$X" edgeext 203.0.113.10/24 203.0.113.11/24 203.0.113.12/24
	ip -n "$X" route add default via 192.0.2.1
	ip -n "$X" -6 route add default via 2001:db8:192:0:2::1
	addr "$I" edgeint 10.20.0.1/24 10.20.0.10/24
	addr "$I" dmzint 10.30.0.2/24
	ip -n "$I" route add 10.10.0.0/16 via 10.30.0.1
	ip -n "$I" -6 route add 2001:db8:10:10::/64 via 2001:db8:10:30::1
	start_hlb "$X" ext
	start_hlb "$I" int
	for side in ext int; do
		for _ in $(seq 50); do # bounded: 5 s
			[ -S "$STATE/vendor-$side.sock" ] && continue 2
			sleep 0.1
		done
		echo "hlb-device: hlb $side did not start: $(cat "$STATE/vendor-$side.log")" >&2
		exit 1
	done
	;;
down)
	for side in ext int; do
		[ -f "$STATE/vendor-$side.pid" ] && kill "$(cat "$STATE/vendor-$side.pid")" 2>/dev/null || true
	done
	for side in ext int; do
		p=$(cat "$STATE/vendor-$side.pid" 2>/dev/null) || continue
		for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
	done
	"$ROOT/scenarios/wire-device" down
	ip netns del "$X" 2>/dev/null || true
	ip netns del "$I" 2>/dev/null || true
	;;
*) echo "usage: LAB_PREFIX=P hlb-device.sh up|down" >&2; exit 2 ;;
esac
