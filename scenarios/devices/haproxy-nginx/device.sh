#!/usr/bin/env bash
# device.sh: a third-party device built from software a vendor knows,
# wired into lab P (made with lab-lb none) in place of its HLB nodes:
# HAProxy (TCP mode) for Access and Web Conferencing with SNAT, nginx
# stream with a transparent bind for A/V (the edges see the client's own
# address), nftables for the outbound flows, on both sides. Each side is a
# namespace of its own (scenarios/devices/lib.sh); configs come from
# netns/lb.tsv (gen). See scenarios/README.md, "The device contract".
#
# usage: LAB_PREFIX=P device.sh up|down
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
P=${LAB_PREFIX:?LAB_PREFIX must name the lab}
STATE=/run/edgelab/$P/haproxy-nginx
# shellcheck source=../lib.sh
. "$ROOT/scenarios/devices/lib.sh"

die() { echo "haproxy-nginx: $*" >&2; exit 1; }

# nginx's transparent proxying (its "IP Transparency" setup): what the
# edges answer to a transparent socket (marked by nft.conf) is routed to
# the local stack, so nginx gets it instead of forwarding it to the client.
transparent_routes() { # NS
	ip -n "$1" rule add fwmark 1 lookup 100
	ip -n "$1" route add local 0.0.0.0/0 dev lo table 100
	ip -n "$1" -6 rule add fwmark 1 lookup 100
	ip -n "$1" -6 route add local ::/0 dev lo table 100
}

start_side() { # NS SIDE
	local ns=$1 d=$STATE/$2
	mkdir -p "$d"
	"$HERE/gen" "$2" "$d"
	ip netns exec "$ns" nft -f "$d/nft.conf"
	transparent_routes "$ns"
	# Both in the foreground of their own session, so their pids are ours.
	setsid ip netns exec "$ns" haproxy -db -f "$d/haproxy.cfg" </dev/null >"$d/haproxy.out" 2>&1 &
	echo $! >"$d/haproxy.pid.run"
	setsid ip netns exec "$ns" nginx -e "$d/nginx.log" -c "$d/nginx.conf" -g 'daemon off;' \
		</dev/null >"$d/nginx.out" 2>&1 &
	echo $! >"$d/nginx.pid.run"
}

ready() { # SIDE: HAProxy's socket answers and nginx wrote its pid (5 s)
	local d=$STATE/$1
	for _ in $(seq 50); do
		[ -S "$d/haproxy.sock" ] && [ -s "$d/nginx.pid" ] &&
			echo "show info" | socat -t 2 - "UNIX-CONNECT:$d/haproxy.sock" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	die "$1 side did not start: haproxy: $(tail -n 3 "$d/haproxy.out" 2>/dev/null) nginx: $(tail -n 3 "$d/nginx.log" "$d/nginx.out" 2>/dev/null)"
}

case ${1:-} in
up)
	for t in haproxy nginx socat nft; do
		command -v $t >/dev/null || die "$t is not installed (tests/setup.sh installs it)"
	done
	dev_up
	start_side "$DEV_X" ext
	start_side "$DEV_I" int
	ready ext
	ready int
	;;
down)
	dev_stop "$STATE"/ext/*.pid.run "$STATE"/int/*.pid.run
	dev_down
	;;
*) echo "usage: LAB_PREFIX=P device.sh up|down" >&2; exit 2 ;;
esac
