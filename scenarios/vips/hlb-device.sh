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
# shellcheck source=../devices/lib.sh
. "$ROOT/scenarios/devices/lib.sh" # dev_up, dev_down: P-vdx and P-vdi wired in
X=$DEV_X I=$DEV_I

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
	dev_up
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
	dev_stop "$STATE/vendor-ext.pid" "$STATE/vendor-int.pid"
	dev_down
	;;
*) echo "usage: LAB_PREFIX=P hlb-device.sh up|down" >&2; exit 2 ;;
esac
